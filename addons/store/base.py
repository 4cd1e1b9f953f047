"""The Responses state store: its records, its contract and the choice of backend.

Stored responses (for ``previous_response_id`` and ``GET /v1/responses/{id}``),
conversations with their items, and the gateway's own secrets live behind one
interface so that a single gateway keeps them in a SQLite file and several gateway
processes share them through PostgreSQL, with the same contract tests for both. Every
method is a coroutine that never blocks mitmproxy's event loop and gives up after the
store's timeout with a ``StoreError``.

Conventions every backend keeps, so a route can map results to HTTP without knowing
the backend: ``None`` (or ``False`` for deletes) means "no such id" (a 404);
``ValueError`` means the caller's arguments are wrong (a 400: a bad page size or
order, an unknown ``after`` cursor, an item without an id, a duplicate id);
``StoreError`` means the store itself failed (a 500, or 503 from ``ready()``).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

Order = Literal["asc", "desc"]
Item = dict[str, Any]

DEFAULT_TIMEOUT = 5.0
STATE_FILE = Path("llm-gateway") / "state.sqlite3"


class StoreError(Exception):
    """The store could not do what was asked: unreachable, too slow, corrupt or closed.

    Messages name the backend and the operation and never contain a password."""


class BrokenChain(StoreError):
    """A ``previous_response_id`` link points at a response that is no longer stored
    (deleted, or purged by retention): the conversation cannot be replayed whole."""

    def __init__(self, response_id: str, missing_id: str) -> None:
        super().__init__(
            f"response {response_id!r} continues {missing_id!r}, which is no longer stored"
        )
        self.missing_id = missing_id


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One Responses API call as the gateway answered it, kept so later calls can
    continue it (``previous_response_id``) and callers can read it back.

    ``input_items`` are this request's own input items only (each with an ``"id"``);
    earlier turns are reached through ``previous_response_id``."""

    id: str
    created_at: int
    response: dict[str, Any]
    input_items: list[Item]
    previous_response_id: str | None
    conversation_id: str | None
    provider: str
    model: str


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    created_at: int
    metadata: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The OpenAI ``conversation`` object, ready for a response body."""
        return {
            "id": self.id,
            "object": "conversation",
            "created_at": self.created_at,
            "metadata": self.metadata,
        }


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an OpenAI list: ``data`` in the requested order, ``first_id`` and
    ``last_id`` the ids at its ends (``None`` when empty), ``has_more`` whether a call
    with ``after=last_id`` would return anything."""

    data: list[Item]
    first_id: str | None
    last_id: str | None
    has_more: bool

    def to_json(self) -> dict[str, Any]:
        """The OpenAI ``list`` object, ready for a response body."""
        return {
            "object": "list",
            "data": self.data,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "has_more": self.has_more,
        }


class Store(ABC):
    """What the routes may ask of the Responses state, whatever holds it.

    A store belongs to the event loop that first uses it (mitmproxy's): open it with
    ``open_store``, use it from coroutines on that loop, ``close()`` it in ``done``.
    List methods take OpenAI's paging arguments: ``after`` is an item id and the page
    holds the items that follow it in ``order``; ``limit`` is 1..100."""

    # -- responses -------------------------------------------------------------------

    @abstractmethod
    async def put_response(self, record: StoredResponse) -> None:
        """Store a response, replacing any earlier record with the same id."""

    @abstractmethod
    async def get_response(self, response_id: str) -> StoredResponse | None: ...

    @abstractmethod
    async def delete_response(self, response_id: str) -> bool:
        """Forget a response and its input items; ``False`` if it was not stored."""

    @abstractmethod
    async def list_input_items(
        self,
        response_id: str,
        *,
        after: str | None = None,
        limit: int = 20,
        order: Order = "desc",
    ) -> Page | None:
        """A page of the response's own input items (``None``: no such response)."""

    @abstractmethod
    async def response_chain(
        self, response_id: str, *, max_depth: int = 1000
    ) -> list[StoredResponse] | None:
        """The response and every response it continues, oldest first, which is what
        a translated ``previous_response_id`` call replays upstream.

        ``None`` when ``response_id`` is unknown; ``BrokenChain`` when an ancestor is
        gone; ``StoreError`` on a cycle or a chain longer than ``max_depth``."""

    # -- conversations ---------------------------------------------------------------

    @abstractmethod
    async def create_conversation(
        self,
        conversation_id: str,
        metadata: dict[str, Any],
        created_at: int,
        items: list[Item],
    ) -> Conversation:
        """Create a conversation with its first items (``ValueError`` if the id is
        taken), all or nothing."""

    @abstractmethod
    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    @abstractmethod
    async def update_conversation(
        self, conversation_id: str, metadata: dict[str, Any]
    ) -> Conversation | None:
        """Replace the metadata, as OpenAI's update does."""

    @abstractmethod
    async def delete_conversation(self, conversation_id: str) -> bool:
        """Forget the conversation and all its items (responses made in it stay)."""

    @abstractmethod
    async def add_items(self, conversation_id: str, items: list[Item]) -> list[Item] | None:
        """Append items after the existing ones, in order, all or nothing; returns
        them. ``ValueError`` if an item has no id or its id is already used there."""

    @abstractmethod
    async def list_items(
        self,
        conversation_id: str,
        *,
        after: str | None = None,
        limit: int = 20,
        order: Order = "desc",
    ) -> Page | None: ...

    @abstractmethod
    async def get_item(self, conversation_id: str, item_id: str) -> Item | None: ...

    @abstractmethod
    async def delete_item(self, conversation_id: str, item_id: str) -> bool: ...

    @abstractmethod
    async def all_items(self, conversation_id: str) -> list[Item] | None:
        """Every item in order, for replaying the conversation upstream."""

    # -- gateway state and housekeeping ----------------------------------------------

    @abstractmethod
    async def secret(self, name: str) -> bytes:
        """A 32-byte random secret, created once under ``name`` and then the same for
        every caller and every process sharing the store (e.g. the key that seals
        state the gateway hands to clients)."""

    @abstractmethod
    async def purge(self, now: int) -> int:
        """Drop responses older than the retention, then the oldest ones while the
        stored responses exceed the size cap; returns how many were dropped.
        Conversations are kept until deleted, as OpenAI keeps them."""

    @abstractmethod
    async def ready(self) -> bool:
        """Whether the store answers a trivial query now (for ``/health/ready``);
        never raises."""

    @abstractmethod
    async def close(self) -> None: ...


def open_store(
    url: str | None,
    *,
    retention_seconds: float | None,
    max_bytes: int | None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Store:
    """The store named by the ``store`` setting of rules.yaml.

    ``None``: a SQLite file under the user's state directory; a path or
    ``sqlite:///absolute/path``: that SQLite file; ``postgresql://…`` or
    ``postgres://…``: that PostgreSQL database. Nothing is opened yet (the first
    call connects, on the caller's event loop), so this is cheap and safe in a
    mitmproxy ``configure`` hook, where a ``ValueError`` becomes an ``OptionsError``.
    """
    if retention_seconds is not None and retention_seconds <= 0:
        raise ValueError(f"retention must be a positive number of seconds, not {retention_seconds}")
    if max_bytes is not None and max_bytes <= 0:
        raise ValueError(f"the size cap must be a positive number of bytes, not {max_bytes}")
    if timeout <= 0:
        raise ValueError(f"the store timeout must be positive, not {timeout}")
    options: dict[str, Any] = {
        "retention_seconds": retention_seconds,
        "max_bytes": max_bytes,
        "timeout": timeout,
    }
    scheme = _scheme(url) if url is not None else "sqlite"
    if scheme in ("postgresql", "postgres"):
        from addons.store.postgres import PostgresStore  # psycopg only when configured

        return PostgresStore(url or "", **options)
    if scheme == "sqlite":
        from addons.store.sqlite import SQLiteStore

        return SQLiteStore(sqlite_path(url), **options)
    raise ValueError(
        f"the store URL scheme {scheme + '://'!r} is not supported: use a file path, "
        "sqlite:///absolute/path or postgresql://user@host/database"
    )


def _scheme(url: str) -> str:
    if not url.strip():
        raise ValueError("the store URL is empty: leave it out for the default SQLite file")
    if "://" not in url:
        return "sqlite"  # a plain path
    return url.split("://", 1)[0]


def sqlite_path(url: str | None) -> Path:
    """The SQLite file a store setting names (``None``: the default state file)."""
    if url is None:
        state = os.environ.get("XDG_STATE_HOME", "")
        # The XDG spec says to ignore a relative value.
        base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
        return base / STATE_FILE
    if "://" not in url:
        return Path(url).expanduser()
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/") or parts.query:
        raise ValueError(
            "a SQLite store URL has no host and no query: write sqlite:///absolute/path "
            "or just the file path"
        )
    return Path("/" + parts.path.lstrip("/"))
