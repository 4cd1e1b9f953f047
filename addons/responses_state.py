"""The OpenAI Responses API's server-side state, kept by the gateway for the calls it
translates: stored responses, ``previous_response_id``, conversations and their items.

OpenAI keeps this state itself, so a Responses call that goes to OpenAI untranslated
leaves nothing here. A call the gateway translates (Codex on Claude or Gemini) has no
provider that remembers it, so the gateway does, behind the one ``Store`` interface
(SQLite by default, PostgreSQL for several processes: docs/store.md). The paths below
are answered from the store and never forwarded, except that a native path asking for
an id the gateway does not hold goes on to OpenAI, which may.

``ResponsesState`` is a mitmproxy addon only for the store's lifecycle (opened on first
use on mitmproxy's loop, purged in the background, closed at exit); the gateway addon
calls its coroutines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from addons.rules import Rules, StoreConfig
from addons.store import BrokenChain, Page, Store, StoredResponse, StoreError, open_store
from translators import convert

log = logging.getLogger("gateway")

PURGE_SECONDS = 600.0

# Each item type's id prefix, as OpenAI writes them.
_ID_PREFIX = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "custom_tool_call": "ctc",
    "custom_tool_call_output": "ctco",
    "reasoning": "rs",
}

StateEndpoint = Literal["response", "input_items", "conversations", "conversation", "items", "item"]


@dataclass(frozen=True, slots=True)
class StatePath:
    """A state path: which object, and the ids in it."""

    endpoint: StateEndpoint
    native: bool  # at the OpenAI SDK's own path, not under the converter prefix
    response_id: str | None = None
    conversation_id: str | None = None
    item_id: str | None = None


_METHODS: dict[StateEndpoint, tuple[str, ...]] = {
    "response": ("GET", "DELETE"),
    "input_items": ("GET",),
    "conversations": ("POST",),
    "conversation": ("GET", "POST", "DELETE"),
    "items": ("GET", "POST"),
    "item": ("GET", "DELETE"),
}


def match(path: str, openai_prefix: str | None, native_routes: bool) -> StatePath | None:
    """``/v1/responses/{id}[/input_items]`` and ``/v1/conversations[/{id}[/items[/{id}]]]``,
    natively and under the OpenAI converter prefix; None for any other path."""
    path = path.split("?", 1)[0]
    native = True
    if openai_prefix and path.startswith(openai_prefix + "/"):
        path, native = path[len(openai_prefix) :], False
    elif not native_routes:
        return None
    parts = path.strip("/").split("/")
    if parts[:2] == ["v1", "responses"] and len(parts) in (3, 4):
        rid = parts[2]
        if rid == "input_tokens" or not rid:
            return None
        if len(parts) == 3:
            return StatePath("response", native, response_id=rid)
        if parts[3] != "input_items":
            return None
        return StatePath("input_items", native, response_id=rid)
    if parts[:2] != ["v1", "conversations"] or not 2 <= len(parts) <= 5:
        return None
    if len(parts) == 2:
        return StatePath("conversations", native)
    cid = parts[2]
    if len(parts) == 3:
        return StatePath("conversation", native, conversation_id=cid)
    if parts[3] != "items":
        return None
    if len(parts) == 4:
        return StatePath("items", native, conversation_id=cid)
    return StatePath("item", native, conversation_id=cid, item_id=parts[4])


def allowed_methods(path: StatePath) -> tuple[str, ...]:
    return _METHODS[path.endpoint]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def with_ids(items: list[Any]) -> list[dict[str, Any]]:
    """Items as stored: every one an object with an id (OpenAI gives input items ids;
    Codex sends its history without them)."""
    out = []
    for item in items:
        if isinstance(item, str):
            item = {"type": "message", "role": "user", "content": item}
        if not isinstance(item, dict):
            continue
        if not isinstance(item.get("id"), str) or not item["id"]:
            kind = item.get("type", "message")
            item = {**item, "id": new_id(_ID_PREFIX.get(kind, "item"))}
        out.append(item)
    return out


class NotFound(Exception):
    """An id the store does not hold; answered with OpenAI's 404 body."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class ResponsesState:
    """Owns the store: opened lazily on mitmproxy's loop, re-opened when the rules name
    another one, purged every ``PURGE_SECONDS``, closed when mitmproxy stops."""

    def __init__(self) -> None:
        self._store: Store | None = None
        self._config: StoreConfig | None = None
        self._purger: asyncio.Task | None = None
        self._key: bytes | None = None

    def store_for(self, rules: Rules) -> Store:
        if self._store is None or rules.store != self._config:
            if self._store is not None:
                old = self._store
                asyncio.get_running_loop().create_task(old.close())
            self._config = rules.store
            self._store = open_store(
                rules.store.url,
                retention_seconds=rules.store.retention_seconds,
                max_bytes=rules.store.max_bytes,
            )
        return self._store

    async def state_key(self, rules: Rules) -> bytes:
        """The key that seals provider state into Responses callers' reasoning items:
        ``GATEWAY_STATE_SECRET`` when set (the same on every process), else a secret
        created once in the store, which every process sharing the store reads."""
        if self._key is None:
            configured = os.environ.get(STATE_KEY_ENV, "")
            if configured:
                self._key = configured.encode()
            else:
                self._key = await self.store_for(rules).secret("responses-state")
        return self._key

    def running(self) -> None:
        if self._purger is None:
            self._purger = asyncio.get_running_loop().create_task(self._purge_forever())

    async def done(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
        if self._store is not None:
            with contextlib.suppress(StoreError):
                await self._store.close()

    async def _purge_forever(self) -> None:
        while True:
            await asyncio.sleep(PURGE_SECONDS)
            if self._store is None:
                continue
            try:
                removed = await self._store.purge(int(time.time()))
            except StoreError as e:
                log.error("gateway: purging the Responses store failed: %s", e)
                continue
            if removed:
                log.info("gateway: purged %d stored responses", removed)

    # -------------------------------------------------------------- state paths

    async def answer(
        self, store: Store, path: StatePath, method: str, query: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        """The status and JSON body for a state path. ``NotFound`` for an unknown id,
        ``ValueError`` for bad arguments, ``StoreError`` when the store fails."""
        if path.endpoint == "response":
            return await _response(store, path, method)
        if path.endpoint == "input_items":
            page = await store.list_input_items(path.response_id or "", **_paging(query))
            return 200, _page_or_404(page, "Response", path.response_id)
        if path.endpoint == "conversations":
            return await _create_conversation(store, _json_body(body))
        return await _conversation(store, path, method, query, body)


async def _response(store: Store, path: StatePath, method: str) -> tuple[int, Any]:
    rid = path.response_id or ""
    if method == "DELETE":
        if not await store.delete_response(rid):
            raise NotFound(f"Response with id '{rid}' not found.")
        return 200, {"id": rid, "object": "response", "deleted": True}
    stored = await store.get_response(rid)
    if stored is None:
        raise NotFound(f"Response with id '{rid}' not found.")
    return 200, stored.response


async def _create_conversation(store: Store, body: dict[str, Any]) -> tuple[int, Any]:
    metadata = body.get("metadata") or {}
    items = body.get("items") or []
    if not isinstance(metadata, dict) or not isinstance(items, list):
        raise ValueError("metadata must be an object and items an array")
    conversation = await store.create_conversation(
        new_id("conv"), metadata, int(time.time()), with_ids(items)
    )
    return 200, conversation.to_json()


async def _conversation(
    store: Store, path: StatePath, method: str, query: dict[str, str], body: bytes
) -> tuple[int, Any]:
    cid = path.conversation_id or ""
    missing = NotFound(f"Conversation with id '{cid}' not found.")
    if path.endpoint == "conversation":
        if method == "DELETE":
            if not await store.delete_conversation(cid):
                raise missing
            return 200, {"id": cid, "object": "conversation.deleted", "deleted": True}
        if method == "POST":
            metadata = _json_body(body).get("metadata")
            if not isinstance(metadata, dict):
                raise ValueError("metadata must be an object")
            found = await store.update_conversation(cid, metadata)
        else:
            found = await store.get_conversation(cid)
        if found is None:
            raise missing
        return 200, found.to_json()
    if path.endpoint == "items":
        if method == "POST":
            items = _json_body(body).get("items")
            if not isinstance(items, list):
                raise ValueError("items must be an array")
            added = await store.add_items(cid, with_ids(items))
            if added is None:
                raise missing
            ids = [item["id"] for item in added]
            first, last = (ids[0], ids[-1]) if ids else (None, None)
            return 200, Page(added, first, last, False).to_json()
        page = await store.list_items(cid, **_paging(query))
        return 200, _page_or_404(page, "Conversation", cid)
    item_id = path.item_id or ""
    if method == "DELETE":
        if not await store.delete_item(cid, item_id):
            raise NotFound(f"Item with id '{item_id}' not found.")
        found = await store.get_conversation(cid)
        if found is None:
            raise missing
        return 200, found.to_json()
    item = await store.get_item(cid, item_id)
    if item is None:
        raise NotFound(f"Item with id '{item_id}' not found.")
    return 200, item


def _paging(query: dict[str, str]) -> dict[str, Any]:
    """OpenAI's list arguments; a bad one is a ValueError (a 400)."""
    limit = query.get("limit", "20")
    if not limit.isdigit():
        raise ValueError(f"limit must be an integer from 1 to 100, not {limit!r}")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be asc or desc, not {order!r}")
    return {"after": query.get("after") or None, "limit": int(limit), "order": order}


def _page_or_404(page: Page | None, what: str, oid: str | None) -> dict[str, Any]:
    if page is None:
        raise NotFound(f"{what} with id '{oid}' not found.")
    return page.to_json()


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValueError("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    return data


def record(
    response: dict[str, Any],
    input_items: list[dict[str, Any]],
    *,
    previous_response_id: str | None,
    conversation_id: str | None,
    provider: str,
    model: str,
) -> StoredResponse:
    """The store record of a response the gateway answered."""
    return StoredResponse(
        id=str(response.get("id", "")),
        created_at=int(response.get("created_at") or time.time()),
        response=response,
        input_items=input_items,
        previous_response_id=previous_response_id,
        conversation_id=conversation_id,
        provider=provider,
        model=model,
    )


def replay_items(chain: list[StoredResponse]) -> list[dict[str, Any]]:
    """The conversation a ``previous_response_id`` continues, oldest first: each stored
    turn's input items and then its output, as the provider must see them again."""
    items: list[dict[str, Any]] = []
    for stored in chain:
        items.extend(stored.input_items)
        output = stored.response.get("output")
        if isinstance(output, list):
            items.extend(i for i in output if isinstance(i, dict))
    return items


@dataclass(frozen=True, slots=True)
class Turn:
    """One Responses call on its way through the gateway: its body with the stored
    history it continues spliced in, and what is needed to store it afterwards."""

    body: dict[str, Any]
    changed: bool  # the body differs from what the caller sent
    previous_response_id: str | None
    conversation_id: str | None
    input_items: list[dict[str, Any]]  # the caller's own new input, with ids
    store: bool  # the caller did not say store: false


STATE_KEY_ENV = "GATEWAY_STATE_SECRET"

# Request fields a Responses answer repeats, with the JSON types they may have.
_ECHOED: dict[str, tuple[type, ...]] = {
    "instructions": (str,),
    "max_output_tokens": (int,),
    "temperature": (int, float),
    "top_p": (int, float),
    "parallel_tool_calls": (bool,),
    "user": (str,),
    "metadata": (dict,),
}


def echoed(turn: Turn) -> dict[str, Any]:
    """What the answer to ``turn`` says of its request, as OpenAI's does: whether it is
    stored, the response it continues, and the caller's own settings."""
    out: dict[str, Any] = {
        "store": turn.store,
        "previous_response_id": turn.previous_response_id,
    }
    for key, kinds in _ECHOED.items():
        value = turn.body.get(key)
        if isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool)):
            out[key] = value
    return out


class TurnError(Exception):
    """A reference the store cannot resolve (404) or a store failure (503)."""

    def __init__(self, message: str, *, status: int, param: str | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.param = message, status, param


async def begin_turn(store: Store, body: dict[str, Any], *, provider_keeps_state: bool) -> Turn:
    """Splice in what ``previous_response_id``, ``conversation`` and ``item_reference``
    name, from the gateway's store. When the call goes to OpenAI untranslated
    (``provider_keeps_state``), an id the gateway does not hold is left for OpenAI."""
    refs = convert.responses_references(body)
    own = with_ids(_input_list(body.get("input")))
    turn = Turn(body, False, None, None, own, body.get("store") is not False)
    if not (refs.previous_response_id or refs.conversation or refs.item_ids):
        return turn
    try:
        history, previous, conversation = await _history(store, refs, provider_keeps_state)
    except StoreError as e:
        log.error("gateway: the Responses store failed: %s", e)
        raise TurnError("The gateway's Responses store is unavailable.", status=503) from None
    if history is None and not refs.item_ids:
        return turn
    known = {item["id"]: item for item in history or () if isinstance(item.get("id"), str)}
    resolved = convert.resolve_responses_references(body, history=history, items=known)
    return Turn(resolved, True, previous, conversation, own, turn.store)


async def _history(
    store: Store, refs: Any, provider_keeps_state: bool
) -> tuple[list[dict[str, Any]] | None, str | None, str | None]:
    if refs.previous_response_id:
        rid = refs.previous_response_id
        try:
            chain = await store.response_chain(rid)
        except BrokenChain:
            chain = None
        if chain is None:
            if provider_keeps_state:
                return None, None, None
            raise TurnError(
                f"Previous response with id '{rid}' not found.",
                status=404,
                param="previous_response_id",
            )
        return replay_items(chain), rid, None
    if refs.conversation:
        cid = refs.conversation
        items = await store.all_items(cid)
        if items is None:
            if provider_keeps_state:
                return None, None, None
            raise TurnError(
                f"Conversation with id '{cid}' not found.", status=404, param="conversation"
            )
        return items, None, cid
    return None, None, None


def _input_list(value: object) -> list[Any]:
    """The caller's input as OpenAI keeps it: a message's string content is one text
    part, so ``input_items`` reads back in the SDK's own item shape."""
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    return [_as_stored(item) for item in value] if isinstance(value, list) else []


def _as_stored(item: object) -> object:
    if not isinstance(item, dict) or item.get("type", "message") != "message":
        return item
    content = item.get("content")
    if isinstance(content, str):
        if item.get("role") == "assistant":
            content = [{"type": "output_text", "text": content, "annotations": []}]
        else:
            content = [{"type": "input_text", "text": content}]
    return {**item, "type": "message", "content": content}


async def finish_turn(
    store: Store, turn: Turn, response: dict[str, Any], *, provider: str, model: str
) -> None:
    """Keep a translated answer for later turns: the response with the caller's new
    input, and both appended to the conversation the call named."""
    if turn.conversation_id is not None:
        output = [i for i in response.get("output") or () if isinstance(i, dict)]
        await store.add_items(turn.conversation_id, [*turn.input_items, *output])
    if not turn.store:
        return
    stored = record(
        response,
        turn.input_items,
        previous_response_id=turn.previous_response_id,
        conversation_id=turn.conversation_id,
        provider=provider,
        model=model,
    )
    await store.put_response(stored)
