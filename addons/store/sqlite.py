"""The default store: one SQLite file, no server to run.

sqlite3 calls block, so each store gives them one worker thread of their own: the
event loop only awaits, and the one thread owning the one connection serialises this
process's calls without locks. Other processes opening the same file are kept
consistent by SQLite itself: WAL lets readers run beside a writer, and every write that
takes more than one statement holds the write lock from its first statement
(``BEGIN IMMEDIATE``), so it cannot deadlock upgrading a read lock, and a crash leaves
either the whole change or none of it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

from addons.store.base import (
    Conversation,
    Item,
    Order,
    Page,
    Store,
    StoredResponse,
    StoreError,
)
from addons.store.shared import (
    chain_ids,
    check_page_args,
    dumps,
    item_ids,
    page_from_rows,
    page_of,
    response_row,
    unknown_after,
)

T = TypeVar("T")

SCHEMA_VERSION = 1
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS responses (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        response TEXT NOT NULL,
        input_items TEXT NOT NULL,
        previous_response_id TEXT,
        conversation_id TEXT,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        size INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS responses_created_at ON responses (created_at)",
    """CREATE TABLE IF NOT EXISTS conversations (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        metadata TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS conversation_items (
        conversation_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        item TEXT NOT NULL,
        PRIMARY KEY (conversation_id, position)
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS conversation_items_id
        ON conversation_items (conversation_id, item_id)""",
    "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
)

RESPONSE_COLUMNS = (
    "id, created_at, response, input_items, previous_response_id, conversation_id, provider, model"
)
CHAIN = """
    WITH RECURSIVE chain (id, previous, depth) AS (
        SELECT id, previous_response_id, 0 FROM responses WHERE id = ?
        UNION ALL
        SELECT r.id, r.previous_response_id, chain.depth + 1
        FROM chain JOIN responses r ON r.id = chain.previous
        WHERE chain.depth < ?
    )
    SELECT id, previous FROM chain ORDER BY depth"""
# Keep the newest responses whose sizes add up to at most the cap; drop the rest.
OVER_SIZE_CAP = """
    DELETE FROM responses WHERE id IN (
        SELECT id FROM (
            SELECT id, SUM(size) OVER (ORDER BY created_at DESC, id DESC) AS newer_total
            FROM responses
        ) WHERE newer_total > ?
    )"""


class SQLiteStore(Store):
    def __init__(
        self,
        path: Path,
        *,
        retention_seconds: float | None,
        max_bytes: int | None,
        timeout: float,
    ) -> None:
        self.path = path
        self._retention = retention_seconds
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-store")
        # Used on the worker thread only, but for interrupt(), which SQLite allows anywhere.
        self._db: sqlite3.Connection | None = None
        self._running: object | None = None  # the job the worker is on, for interrupts
        self._running_lock = threading.Lock()
        self._secrets: dict[str, bytes] = {}
        self._closed = False

    # -- running on the worker ---------------------------------------------------------

    async def _call(self, work: Callable[[], T], what: str) -> T:
        """Run ``work`` on the worker thread within the timeout. A job that overruns it
        is interrupted, so one slow query cannot hold up every later call."""
        token = object()

        def tracked() -> T:
            with self._running_lock:
                self._running = token
            try:
                return work()
            finally:
                with self._running_lock:
                    self._running = None

        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self._worker, tracked), self._timeout
            )
        except TimeoutError:
            with self._running_lock:
                if self._running is token and self._db is not None:
                    self._db.interrupt()
            raise StoreError(
                f"SQLite store {self.path}: {what} took longer than {self._timeout:g} s"
            ) from None
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"SQLite store {self.path}: {what} failed: {e}") from e

    async def _run(self, job: Callable[[sqlite3.Connection], T], what: str) -> T:
        if self._closed:
            raise StoreError(f"SQLite store {self.path}: {what} after the store was closed")
        return await self._call(lambda: job(self._connection()), what)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = _connect(self.path, self._timeout)
        return self._db

    # -- responses -------------------------------------------------------------------

    async def put_response(self, record: StoredResponse) -> None:
        item_ids(record.input_items)

        row = response_row(record)

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                f"""INSERT INTO responses ({RESPONSE_COLUMNS}, size)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    created_at = excluded.created_at, response = excluded.response,
                    input_items = excluded.input_items,
                    previous_response_id = excluded.previous_response_id,
                    conversation_id = excluded.conversation_id,
                    provider = excluded.provider, model = excluded.model,
                    size = excluded.size""",
                row,
            )

        await self._run(job, "storing a response")

    async def get_response(self, response_id: str) -> StoredResponse | None:
        def job(db: sqlite3.Connection) -> StoredResponse | None:
            row = db.execute(
                f"SELECT {RESPONSE_COLUMNS} FROM responses WHERE id = ?", (response_id,)
            ).fetchone()
            return _record(row) if row else None

        return await self._run(job, "reading a response")

    async def delete_response(self, response_id: str) -> bool:
        def job(db: sqlite3.Connection) -> bool:
            return db.execute("DELETE FROM responses WHERE id = ?", (response_id,)).rowcount > 0

        return await self._run(job, "deleting a response")

    async def list_input_items(
        self,
        response_id: str,
        *,
        after: str | None = None,
        limit: int = 20,
        order: Order = "desc",
    ) -> Page | None:
        check_page_args(limit, order)

        def job(db: sqlite3.Connection) -> Page | None:
            row = db.execute(
                "SELECT input_items FROM responses WHERE id = ?", (response_id,)
            ).fetchone()
            if row is None:
                return None
            return page_of(orjson.loads(row[0]), after=after, limit=limit, order=order)

        return await self._run(job, "listing input items")

    async def response_chain(
        self, response_id: str, *, max_depth: int = 1000
    ) -> list[StoredResponse] | None:
        if max_depth < 1:
            raise ValueError(f"max_depth must be at least 1, not {max_depth}")

        def job(db: sqlite3.Connection) -> list[StoredResponse] | None:
            with _transaction(db):  # one snapshot for both reads
                links = db.execute(CHAIN, (response_id, max_depth)).fetchall()
                ids = chain_ids(response_id, links, max_depth)
                if ids is None:
                    return None
                marks = ", ".join("?" * len(ids))
                rows = db.execute(
                    f"SELECT {RESPONSE_COLUMNS} FROM responses WHERE id IN ({marks})", ids
                ).fetchall()
            by_id = {row[0]: row for row in rows}
            return [_record(by_id[i]) for i in ids]

        return await self._run(job, "reading a response chain")

    # -- conversations ---------------------------------------------------------------

    async def create_conversation(
        self,
        conversation_id: str,
        metadata: dict[str, Any],
        created_at: int,
        items: list[Item],
    ) -> Conversation:
        ids = item_ids(items)

        def job(db: sqlite3.Connection) -> None:
            with _transaction(db, "IMMEDIATE"):
                created = db.execute(
                    """INSERT INTO conversations (id, created_at, metadata) VALUES (?, ?, ?)
                    ON CONFLICT (id) DO NOTHING""",
                    (conversation_id, created_at, dumps(metadata)),
                ).rowcount
                if not created:
                    raise ValueError(f"conversation {conversation_id!r} already exists")
                _insert_items(db, conversation_id, 0, items, ids)

        await self._run(job, "creating a conversation")
        return Conversation(conversation_id, created_at, metadata)

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        def job(db: sqlite3.Connection) -> Conversation | None:
            row = db.execute(
                "SELECT created_at, metadata FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            return Conversation(conversation_id, row[0], orjson.loads(row[1])) if row else None

        return await self._run(job, "reading a conversation")

    async def update_conversation(
        self, conversation_id: str, metadata: dict[str, Any]
    ) -> Conversation | None:
        def job(db: sqlite3.Connection) -> Conversation | None:
            with _transaction(db, "IMMEDIATE"):
                row = db.execute(
                    "SELECT created_at FROM conversations WHERE id = ?", (conversation_id,)
                ).fetchone()
                if row is None:
                    return None
                db.execute(
                    "UPDATE conversations SET metadata = ? WHERE id = ?",
                    (dumps(metadata), conversation_id),
                )
            return Conversation(conversation_id, row[0], metadata)

        return await self._run(job, "updating a conversation")

    async def delete_conversation(self, conversation_id: str) -> bool:
        def job(db: sqlite3.Connection) -> bool:
            with _transaction(db, "IMMEDIATE"):
                db.execute(
                    "DELETE FROM conversation_items WHERE conversation_id = ?", (conversation_id,)
                )
                deleted = db.execute(
                    "DELETE FROM conversations WHERE id = ?", (conversation_id,)
                ).rowcount
            return deleted > 0

        return await self._run(job, "deleting a conversation")

    async def add_items(self, conversation_id: str, items: list[Item]) -> list[Item] | None:
        ids = item_ids(items)

        def job(db: sqlite3.Connection) -> list[Item] | None:
            with _transaction(db, "IMMEDIATE"):
                if not _conversation_exists(db, conversation_id):
                    return None
                marks = ", ".join("?" * len(ids))
                taken = db.execute(
                    f"""SELECT item_id FROM conversation_items
                    WHERE conversation_id = ? AND item_id IN ({marks})""",
                    (conversation_id, *ids),
                ).fetchone()
                if taken:
                    raise ValueError(
                        f"conversation {conversation_id!r} already has an item {taken[0]!r}"
                    )
                (start,) = db.execute(
                    """SELECT COALESCE(MAX(position) + 1, 0) FROM conversation_items
                    WHERE conversation_id = ?""",
                    (conversation_id,),
                ).fetchone()
                _insert_items(db, conversation_id, start, items, ids)
            return items

        return await self._run(job, "adding conversation items")

    async def list_items(
        self,
        conversation_id: str,
        *,
        after: str | None = None,
        limit: int = 20,
        order: Order = "desc",
    ) -> Page | None:
        check_page_args(limit, order)
        direction, beyond = ("ASC", ">") if order == "asc" else ("DESC", "<")

        def job(db: sqlite3.Connection) -> Page | None:
            with _transaction(db):
                if not _conversation_exists(db, conversation_id):
                    return None
                where, params = "conversation_id = ?", [conversation_id]
                if after is not None:
                    row = db.execute(
                        """SELECT position FROM conversation_items
                        WHERE conversation_id = ? AND item_id = ?""",
                        (conversation_id, after),
                    ).fetchone()
                    if row is None:
                        raise unknown_after(after)
                    where += f" AND position {beyond} ?"
                    params.append(row[0])
                rows = db.execute(
                    f"""SELECT item FROM conversation_items WHERE {where}
                    ORDER BY position {direction} LIMIT ?""",
                    (*params, limit + 1),
                ).fetchall()
            return page_from_rows([orjson.loads(row[0]) for row in rows], limit)

        return await self._run(job, "listing conversation items")

    async def get_item(self, conversation_id: str, item_id: str) -> Item | None:
        def job(db: sqlite3.Connection) -> Item | None:
            row = db.execute(
                "SELECT item FROM conversation_items WHERE conversation_id = ? AND item_id = ?",
                (conversation_id, item_id),
            ).fetchone()
            return orjson.loads(row[0]) if row else None

        return await self._run(job, "reading a conversation item")

    async def delete_item(self, conversation_id: str, item_id: str) -> bool:
        def job(db: sqlite3.Connection) -> bool:
            return (
                db.execute(
                    "DELETE FROM conversation_items WHERE conversation_id = ? AND item_id = ?",
                    (conversation_id, item_id),
                ).rowcount
                > 0
            )

        return await self._run(job, "deleting a conversation item")

    async def all_items(self, conversation_id: str) -> list[Item] | None:
        def job(db: sqlite3.Connection) -> list[Item] | None:
            with _transaction(db):
                if not _conversation_exists(db, conversation_id):
                    return None
                rows = db.execute(
                    """SELECT item FROM conversation_items WHERE conversation_id = ?
                    ORDER BY position""",
                    (conversation_id,),
                ).fetchall()
            return [orjson.loads(row[0]) for row in rows]

        return await self._run(job, "reading conversation items")

    # -- gateway state and housekeeping ----------------------------------------------

    async def secret(self, name: str) -> bytes:
        if name not in self._secrets:

            def job(db: sqlite3.Connection) -> bytes:
                db.execute(
                    "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    (name, os.urandom(32)),
                )
                return db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]

            self._secrets[name] = await self._run(job, f"reading the secret {name!r}")
        return self._secrets[name]

    async def purge(self, now: int) -> int:
        def job(db: sqlite3.Connection) -> int:
            removed = 0
            with _transaction(db, "IMMEDIATE"):
                if self._retention is not None:
                    removed += db.execute(
                        "DELETE FROM responses WHERE created_at < ?", (now - self._retention,)
                    ).rowcount
                if self._max_bytes is not None:
                    removed += db.execute(OVER_SIZE_CAP, (self._max_bytes,)).rowcount
            return removed

        return await self._run(job, "purging old responses")

    async def ready(self) -> bool:
        try:
            await self._run(
                lambda db: db.execute("SELECT version FROM schema_version").fetchone(),
                "checking readiness",
            )
        except StoreError:
            return False
        return True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        try:
            await self._call(shut, "closing")
        finally:
            self._worker.shutdown(wait=False)


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    # The file holds prompts and answers: private directory and file from the start.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    # timeout= is SQLite's busy timeout: wait that long for another process's lock.
    # isolation_level=None: transactions are only the explicit ones below.
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        _enable_wal(db, timeout)
        db.execute("PRAGMA synchronous = NORMAL")
        with _transaction(db, "IMMEDIATE"):
            for statement in SCHEMA:
                db.execute(statement)
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise StoreError(
                    f"SQLite store {path} has schema version {row[0]}; this gateway knows "
                    f"up to {SCHEMA_VERSION}: upgrade the gateway or use another file"
                )
    except BaseException:
        db.close()
        raise
    return db


def _enable_wal(db: sqlite3.Connection, timeout: float) -> None:
    """Switching a new file to WAL needs a lock SQLite does not wait for (its busy
    handler is not called): two processes opening the same new file at once can get
    "database is locked" here, so this one waits a little and tries again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def _transaction(db: sqlite3.Connection, mode: str = "") -> Iterator[None]:
    """All of the block's statements or none: ``IMMEDIATE`` for writes (take the write
    lock first), plain for reads that need one consistent snapshot."""
    db.execute(f"BEGIN {mode}")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _record(row: tuple[Any, ...]) -> StoredResponse:
    return StoredResponse(
        id=row[0],
        created_at=row[1],
        response=orjson.loads(row[2]),
        input_items=orjson.loads(row[3]),
        previous_response_id=row[4],
        conversation_id=row[5],
        provider=row[6],
        model=row[7],
    )


def _conversation_exists(db: sqlite3.Connection, conversation_id: str) -> bool:
    return (
        db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        is not None
    )


def _insert_items(
    db: sqlite3.Connection, conversation_id: str, start: int, items: list[Item], ids: list[str]
) -> None:
    db.executemany(
        """INSERT INTO conversation_items (conversation_id, position, item_id, item)
        VALUES (?, ?, ?, ?)""",
        [
            (conversation_id, start + offset, item_id, dumps(item))
            for offset, (item_id, item) in enumerate(zip(ids, items, strict=True))
        ],
    )
