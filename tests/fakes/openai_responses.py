"""The OpenAI fake's Responses API: what it answers and what it remembers.

Unlike the other canned answers, a Responses answer cannot be a fixed example: a client
continues a conversation by the ids the API returned (``previous_response_id``,
``item_reference``, ``GET /v1/responses/{id}``) and sends back the ``encrypted_content``
of reasoning items, which the real API only takes back if it minted it. So every answer
gets fresh ids, and one ``ResponsesMemory`` per fake keeps what a stored response holds.
The content is still real: the message text, function-call item and reasoning summary
come from the spec examples and recordings in tests/fixtures/spec/openai_responses/, and
a stream follows the recorded event shapes (stream_text_message.jsonl,
stream_reasoning_summary_then_function_call.jsonl) event for event.

``build_response`` and ``stream_frames`` are public so a test can script a variant, for
example a stream cut in the middle of an item::

    frames = stream_frames(build_response({"model": "m", "input": "hi"}, fake.responses))
    fake.enqueue(Reply.sse(frames[:5], break_after=sum(map(len, frames[:5]))))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import random
import re
import secrets
import string
import threading
import time
from typing import Any

import orjson

from tests.fakes.canned import estimate_tokens
from tests.fakes.replies import FIXTURES, Reply

_FOLDER = FIXTURES / "openai_responses"
# Real streams pad each delta with a random `obfuscation` string to about 16 characters.
_OBFUSCATION_WIDTH = 16
_ALPHANUMERIC = string.ascii_letters + string.digits
# One piece per word or run of punctuation, with the spaces before it: the cut the
# recordings show ("The", " final", " **", "570" and '{"', "a", '":', "12").
_PIECE = re.compile(r"\s*(?:\w+|[^\w\s]+)|\s+")
# Version byte, timestamp and IV before the item id in a sealed reasoning token.
_SEAL_HEADER = 1 + 8 + 16


def _recorded(name: str) -> list[dict]:
    lines = (_FOLDER / name).read_bytes().splitlines()
    return [orjson.loads(line) for line in lines if line.strip()]


def _first(events: list[dict], kind: str) -> dict:
    return next(event for event in events if event["type"] == kind)


_TEXT_STREAM = _recorded("stream_text_message.jsonl")
_REASONING_STREAM = _recorded("stream_reasoning_summary_then_function_call.jsonl")
# The newest real response object: every field the live API sends, in its order.
_TEMPLATE = _first(_TEXT_STREAM, "response.completed")["response"]
_MESSAGE_TEXT = orjson.loads((_FOLDER / "response_text.json").read_bytes())["output"][0]["content"][
    0
]["text"]
_SUMMARY_TEXT = _first(_REASONING_STREAM, "response.reasoning_summary_text.done")["text"]
_INPUT_TOKENS_EXAMPLE = orjson.loads((_FOLDER / "input_tokens_response.json").read_bytes())


def _new_id(prefix: str) -> str:
    """An id shaped like the API's: prefix and 50 hex digits."""
    return f"{prefix}_{secrets.token_hex(25)}"


def _call_id() -> str:
    return "call_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(24))


class ResponsesMemory:
    """What one fake keeps of the responses it created, as the real API's store would.

    Responses created with ``store: false`` are not kept (the real API then answers 404
    for their id and their items), but their ``encrypted_content`` still verifies: it is
    sealed with this memory's key, so content from another fake instance is foreign.
    Thread-safe, since the server answers each connection on its own thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)
        self._responses: dict[str, dict] = {}
        self._items: dict[str, dict] = {}
        self._calls: dict[str, frozenset[str]] = {}
        self._context: dict[str, int] = {}

    # -- what validate.ResponsesLookup asks --------------------------------------------

    def previous_call_ids(self, response_id: str) -> frozenset[str] | None:
        with self._lock:
            return self._calls.get(response_id)

    def item(self, item_id: str) -> dict | None:
        with self._lock:
            return self._items.get(item_id)

    def sealed_item_id(self, encrypted_content: str) -> str | None:
        try:
            raw = base64.urlsafe_b64decode(encrypted_content.encode())
        except (ValueError, UnicodeEncodeError):
            return None
        body, mac = raw[:-16], raw[-16:]
        if raw[:1] != b"\x80" or not hmac.compare_digest(mac, self._mac(body)):
            return None
        return body[_SEAL_HEADER:].decode()

    # -- what the answers need ---------------------------------------------------------

    def seal(self, item_id: str) -> str:
        """Encrypted content bound to ``item_id``, laid out like the API's Fernet tokens
        (version byte 0x80, timestamp, random IV: base64 ``gAAAAA…``) and, like them,
        different at every call."""
        stamp = int(time.time()).to_bytes(8, "big")
        body = b"\x80" + stamp + secrets.token_bytes(16) + item_id.encode()
        return base64.urlsafe_b64encode(body + self._mac(body)).decode()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:16]

    def remember(self, response: dict, call_ids: frozenset[str], context_tokens: int) -> None:
        """Keep a stored response: its object, output items, the call_ids of its whole
        conversation and its size in tokens, which a continuation counts as input."""
        with self._lock:
            self._responses[response["id"]] = response
            self._calls[response["id"]] = call_ids
            self._context[response["id"]] = context_tokens
            for item in response["output"]:
                self._items[item["id"]] = item

    def context_tokens(self, response_id: str) -> int:
        with self._lock:
            return self._context[response_id]

    def response(self, response_id: str) -> dict | None:
        with self._lock:
            return self._responses.get(response_id)

    def forget(self, response_id: str) -> bool:
        """Delete a stored response and its items; False when there was none."""
        with self._lock:
            response = self._responses.pop(response_id, None)
            if response is None:
                return False
            del self._calls[response_id], self._context[response_id]
            for item in response["output"]:
                self._items.pop(item["id"], None)
            return True


# --- answers --------------------------------------------------------------------------


def create(body: dict, memory: ResponsesMemory) -> Reply:
    """The answer to a valid ``POST /v1/responses``: unary, or streamed for ``stream``."""
    response = build_response(body, memory)
    if body.get("stream") is not True:
        return Reply.json(response)
    options = body.get("stream_options") or {}
    return Reply.sse(stream_frames(response, options.get("include_obfuscation") is not False))


def count_input_tokens(body: dict, memory: ResponsesMemory) -> dict:
    """``POST /v1/responses/input_tokens``: the same count ``usage.input_tokens`` of a
    response to ``body`` would have, in the shape of the spec example."""
    answer = dict(_INPUT_TOKENS_EXAMPLE)
    answer["input_tokens"] = _input_tokens(body, memory)
    return answer


def _input_tokens(body: dict, memory: ResponsesMemory) -> int:
    previous = body.get("previous_response_id")
    context = memory.context_tokens(previous) if previous is not None else 0
    return context + estimate_tokens(body.get("instructions"), body.get("input"), body.get("tools"))


def build_response(body: dict, memory: ResponsesMemory) -> dict:
    """The completed ``response`` object answering a valid request ``body``.

    Output: a reasoning item when ``reasoning`` is set (its summary only when a
    summary is asked for, its ``encrypted_content`` only when ``include`` asks for it,
    as the API does); then a ``function_call`` of the first function tool (or the one
    ``tool_choice`` names) with arguments valid for its schema, unless ``tool_choice`` is
    ``"none"`` or the input ends with a ``function_call_output``, so a tool loop ends;
    otherwise a message with the spec example's text. Usage is inclusive: a continued
    conversation's earlier tokens are input, and cached; reasoning tokens are output;
    ``cache_write_tokens`` is there as the SDK types and the spec examples require.
    The response is remembered unless ``store`` is false.
    """
    items = body["input"] if isinstance(body.get("input"), list) else []
    output: list[dict] = []
    reasoning_tokens = 0
    if _wants_reasoning(body):
        output.append(_reasoning_item(body, memory))
        reasoning_tokens = estimate_tokens(_SUMMARY_TEXT)
    tool = _tool_to_call(body, items)
    output.append(_function_call_item(tool) if tool is not None else _message_item())
    visible = output[-1].get("arguments") or output[-1].get("content")
    previous = body.get("previous_response_id")
    cached = memory.context_tokens(previous) if previous is not None else 0
    input_tokens = _input_tokens(body, memory)
    output_tokens = reasoning_tokens + estimate_tokens(visible)
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }
    response = _echo(body, _new_id("resp"), output, usage)
    if body.get("store") is not False:
        calls = set(memory.previous_call_ids(previous) or ()) if previous is not None else set()
        calls.update(i["call_id"] for i in [*items, *output] if i.get("type") == "function_call")
        memory.remember(response, frozenset(calls), usage["total_tokens"])
    return response


def _value(body: dict, name: str, default: Any) -> Any:
    """A request field as the response echoes it: absent and null both mean the default."""
    value = body.get(name)
    return default if value is None else value


def _echo(body: dict, rid: str, output: list[dict], usage: dict) -> dict:
    """The recorded response object with the request's settings in it, as the API echoes
    them (it adds ``strict: true`` to function tools that did not say)."""
    now = int(time.time())
    reasoning = body.get("reasoning") or {}
    text = body.get("text") or {}
    tier = _value(body, "service_tier", "auto")
    fields = {
        "id": rid,
        "created_at": now,
        "status": "completed",
        "completed_at": now,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": _value(body, "parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "prompt_cache_retention": body.get("prompt_cache_retention"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": _summary_mode(body)},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default" if tier == "auto" else tier,
        "store": _value(body, "store", True),
        "temperature": _value(body, "temperature", 1),
        "text": {
            "format": _value(text, "format", {"type": "text"}),
            "verbosity": _value(text, "verbosity", "medium"),
        },
        "tool_choice": _value(body, "tool_choice", "auto"),
        "tools": [_echo_tool(tool) for tool in body.get("tools") or []],
        "top_logprobs": _value(body, "top_logprobs", 0),
        "top_p": _value(body, "top_p", 1),
        "truncation": _value(body, "truncation", "disabled"),
        "usage": usage,
        "user": body.get("user"),
        "metadata": _value(body, "metadata", {}),
    }
    response = {key: fields.get(key, value) for key, value in _TEMPLATE.items()}
    return {**response, **fields}


def _echo_tool(tool: dict) -> dict:
    if tool.get("type") != "function":
        return tool
    return {
        "type": "function",
        "description": tool.get("description"),
        "name": tool["name"],
        "parameters": tool.get("parameters"),
        "strict": _value(tool, "strict", True),
    }


def _wants_reasoning(body: dict) -> bool:
    """A ``reasoning`` object asks for reasoning unless its effort is ``"none"``."""
    reasoning = body.get("reasoning")
    return reasoning is not None and reasoning.get("effort") != "none"


def _summary_mode(body: dict) -> str | None:
    reasoning = body.get("reasoning") or {}
    return reasoning.get("summary") or reasoning.get("generate_summary")


def _reasoning_item(body: dict, memory: ResponsesMemory) -> dict:
    rid = _new_id("rs")
    item: dict[str, Any] = {"id": rid, "type": "reasoning"}
    if "reasoning.encrypted_content" in (body.get("include") or []):
        item["encrypted_content"] = memory.seal(rid)
    summary = [{"type": "summary_text", "text": _SUMMARY_TEXT}] if _summary_mode(body) else []
    item["summary"] = summary
    return item


def _tool_to_call(body: dict, items: list[dict]) -> dict | None:
    choice = body.get("tool_choice")
    functions = [t for t in body.get("tools") or [] if t.get("type") == "function"]
    if not functions or choice == "none":
        return None
    if items and items[-1].get("type") == "function_call_output":
        return None
    if isinstance(choice, dict) and choice.get("type") == "function":
        return next((t for t in functions if t["name"] == choice.get("name")), functions[0])
    return functions[0]


def _function_call_item(tool: dict) -> dict:
    arguments = _sample(tool.get("parameters") or {"type": "object"})
    return {
        "id": _new_id("fc"),
        "type": "function_call",
        "status": "completed",
        "arguments": orjson.dumps(arguments if isinstance(arguments, dict) else {}).decode(),
        "call_id": _call_id(),
        "name": tool["name"],
    }


def _sample(schema: Any) -> Any:
    """A value valid for a JSON schema, the smallest that is: required properties only,
    the first enum value or branch, the schema's own default or const."""
    if not isinstance(schema, dict):
        return "fake"
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _sample(schema[key][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {name: _sample(properties.get(name)) for name in schema.get("required") or []}
    if kind == "array":
        return [_sample(schema.get("items"))] * int(schema.get("minItems", 0))
    return {"integer": 1, "number": 1, "boolean": True, "null": None}.get(kind, "fake")


def _message_item() -> dict:
    return {
        "id": _new_id("msg"),
        "type": "message",
        "status": "completed",
        "content": [
            {"type": "output_text", "annotations": [], "logprobs": [], "text": _MESSAGE_TEXT}
        ],
        "role": "assistant",
    }


# --- streams --------------------------------------------------------------------------


def stream_frames(response: dict, obfuscate: bool = True) -> list[bytes]:
    """A completed ``response`` as the SSE writes the API streams it, one per event.

    The grammar is RESPONSES-NOTES.md's and the recordings': ``response.created`` and
    ``response.in_progress`` with an empty output, then each item in turn (added, its
    parts and deltas cut into word-sized pieces, done), then ``response.completed``; each
    event named by an ``event:`` line, numbered by ``sequence_number``, no ``[DONE]``.
    Deltas carry ``obfuscation`` padding unless ``obfuscate`` is false, and
    ``function_call_arguments.done`` has no ``name``, as recorded. Handles the items the
    fake produces: message (output_text), reasoning (summary_text) and function_call.
    """
    started = {**response, "status": "in_progress", "completed_at": None}
    started.update(output=[], usage=None)
    events: list[dict] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
    ]
    for index, item in enumerate(response["output"]):
        events += _item_events(index, item)
    events.append({"type": "response.completed", "response": response})
    numbers = itertools.count()
    frames = []
    for event in events:
        kind = event.pop("type")
        event = {"type": kind, "sequence_number": next(numbers), **event}
        if obfuscate and "delta" in event:
            event["obfuscation"] = _obfuscation(event["delta"])
        data = orjson.dumps(event)
        frames.append(b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n")
    return frames


def _obfuscation(delta: str) -> str:
    """Random padding: the API sends it so that delta sizes do not reveal token lengths."""
    width = max(1, _OBFUSCATION_WIDTH - len(delta))
    return "".join(random.choices(_ALPHANUMERIC, k=width))


def _pieces(text: str) -> list[str]:
    """Several deltas per text; they join back to it, since _PIECE matches every character."""
    return _PIECE.findall(text)


def _item_events(index: int, item: dict) -> list[dict]:
    where = {"item_id": item["id"], "output_index": index}
    kind = item["type"]
    if kind == "message":
        added = {**item, "status": "in_progress", "content": []}
        inner = _part_events(where, "content", item["content"])
    elif kind == "reasoning":
        added = {**item, "summary": []}
        inner = _part_events(where, "summary", item["summary"])
    elif kind == "function_call":
        added = {**item, "status": "in_progress", "arguments": ""}
        deltas = [
            {"type": "response.function_call_arguments.delta", **where, "delta": piece}
            for piece in _pieces(item["arguments"])
        ]
        done = {"type": "response.function_call_arguments.done", **where}
        inner = [*deltas, {**done, "arguments": item["arguments"]}]
    else:
        raise ValueError(f"the fake does not stream {kind} items")
    return [
        {"type": "response.output_item.added", "output_index": index, "item": added},
        *inner,
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]


def _part_events(where: dict, field: str, parts: list[dict]) -> list[dict]:
    """A message's output_text parts or a reasoning item's summary parts, each opened
    empty, filled by deltas, its text done, then closed with the whole part."""
    if field == "content":
        prefix, index_name, text_event = "response.content_part", "content_index", "output_text"
        extra: dict[str, Any] = {"logprobs": []}
    else:
        prefix, index_name = "response.reasoning_summary_part", "summary_index"
        text_event, extra = "reasoning_summary_text", {}
    events: list[dict] = []
    for n, part in enumerate(parts):
        if part["type"] not in ("output_text", "summary_text"):
            raise ValueError(f"the fake does not stream {part['type']} parts")
        at = {**where, index_name: n}
        events.append({"type": f"{prefix}.added", **at, "part": {**part, "text": ""}})
        for piece in _pieces(part["text"]):
            events.append({"type": f"response.{text_event}.delta", **at, "delta": piece, **extra})
        events.append({"type": f"response.{text_event}.done", **at, "text": part["text"], **extra})
        events.append({"type": f"{prefix}.done", **at, "part": part})
    return events
