"""The shared store: PostgreSQL, for several gateway processes behind a load balancer.

Imported only when a ``postgresql://`` URL is configured, so psycopg stays an optional
extra. Everything runs on psycopg's asyncio API, never blocking mitmproxy's loop. Tables
carry a ``gateway_`` prefix because the database may be shared with other programs;
a ``search_path`` in the URL (``?options=-csearch_path%3Dgateway``) puts them in a
schema of their own.
"""

from __future__ import annotations

import asyncio
import os
import select
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

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

try:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.pq import TransactionStatus
    from psycopg.types.json import set_json_loads
except ImportError as e:  # pragma: no cover - depends on the installed extras
    raise StoreError(
        "PostgreSQL store needs the 'postgres' extra: pip install 'llm-gateway[postgres]'"
    ) from e

T = TypeVar("T")
Connection = psycopg.AsyncConnection[Any]

POOL_SIZE = 8
SCHEMA_VERSION = 1
SCHEMA = (
    # Gateways starting together must not race each other's CREATE TABLE.
    "SELECT pg_advisory_xact_lock(hashtext('llm-gateway store schema'))",
    "CREATE TABLE IF NOT EXISTS gateway_schema_version (version integer NOT NULL)",
    """CREATE TABLE IF NOT EXISTS gateway_responses (
        id text PRIMARY KEY,
        created_at bigint NOT NULL,
        response jsonb NOT NULL,
        input_items jsonb NOT NULL,
        previous_response_id text,
        conversation_id text,
        provider text NOT NULL,
        model text NOT NULL,
        size bigint NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS gateway_responses_created_at
        ON gateway_responses (created_at)""",
    """CREATE TABLE IF NOT EXISTS gateway_conversations (
        id text PRIMARY KEY,
        created_at bigint NOT NULL,
        metadata jsonb NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS gateway_conversation_items (
        conversation_id text NOT NULL,
        position bigint NOT NULL,
        item_id text NOT NULL,
        item jsonb NOT NULL,
        PRIMARY KEY (conversation_id, position)
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS gateway_conversation_items_id
        ON gateway_conversation_items (conversation_id, item_id)""",
    "CREATE TABLE IF NOT EXISTS gateway_secrets (name text PRIMARY KEY, value bytea NOT NULL)",
)

RESPONSE_COLUMNS = (
    "id, created_at, response, input_items, previous_response_id, conversation_id, provider, model"
)
CHAIN = """
    WITH RECURSIVE chain (id, previous, depth) AS (
        SELECT id, previous_response_id, 0 FROM gateway_responses WHERE id = %s
        UNION ALL
        SELECT r.id, r.previous_response_id, chain.depth + 1
        FROM chain JOIN gateway_responses r ON r.id = chain.previous
        WHERE chain.depth < %s
    )
    SELECT id, previous FROM chain ORDER BY depth"""
# Keep the newest responses whose sizes add up to at most the cap; drop the rest.
OVER_SIZE_CAP = """
    DELETE FROM gateway_responses WHERE id IN (
        SELECT id FROM (
            SELECT id, SUM(size) OVER (ORDER BY created_at DESC, id DESC) AS newer_total
            FROM gateway_responses
        ) AS ranked WHERE newer_total > %s
    )"""


class PostgresStore(Store):
    def __init__(
        self,
        url: str,
        *,
        retention_seconds: float | None,
        max_bytes: int | None,
        timeout: float,
    ) -> None:
        self._passwords = _passwords(url)
        self._where = f"PostgreSQL store {_display(url)}"
        self._retention = retention_seconds
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._pool = _Pool(url, POOL_SIZE)
        self._schema_ready = False
        self._schema_lock = asyncio.Lock()
        self._secrets: dict[str, bytes] = {}
        self._closed = False

    async def _run(self, job: Callable[[Connection], Awaitable[T]], what: str) -> T:
        """Run ``job`` on a pooled connection within the timeout, with every failure
        turned into a ``StoreError`` that names the database but not its password."""
        if self._closed:
            raise StoreError(f"{self._where}: {what} after the store was closed")
        try:
            return await asyncio.wait_for(self._on_connection(job), self._timeout)
        except TimeoutError:
            raise StoreError(
                f"{self._where}: {what} took longer than {self._timeout:g} s"
            ) from None
        except psycopg.Error as e:
            raise StoreError(f"{self._where}: {what} failed: {self._scrub(str(e))}") from None

    async def _on_connection(self, job: Callable[[Connection], Awaitable[T]]) -> T:
        async with self._pool.connection() as conn:
            if not self._schema_ready:
                async with self._schema_lock:
                    if not self._schema_ready:
                        await self._create_schema(conn)
                        self._schema_ready = True
            return await job(conn)

    async def _create_schema(self, conn: Connection) -> None:
        async with conn.transaction():
            for statement in SCHEMA:
                await conn.execute(statement)
            cursor = await conn.execute("SELECT version FROM gateway_schema_version")
            row = await cursor.fetchone()
            if row is None:
                await conn.execute(
                    "INSERT INTO gateway_schema_version (version) VALUES (%s)", (SCHEMA_VERSION,)
                )
            elif row[0] > SCHEMA_VERSION:
                raise StoreError(
                    f"{self._where} has schema version {row[0]}; this gateway knows up to "
                    f"{SCHEMA_VERSION}: upgrade the gateway or use another database"
                )

    def _scrub(self, message: str) -> str:
        for password in self._passwords:
            message = message.replace(password, "***")
        return message

    # -- responses -------------------------------------------------------------------

    async def put_response(self, record: StoredResponse) -> None:
        item_ids(record.input_items)
        row = response_row(record)

        async def job(conn: Connection) -> None:
            await conn.execute(
                f"""INSERT INTO gateway_responses ({RESPONSE_COLUMNS}, size)
                VALUES (%s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s)
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
        async def job(conn: Connection) -> StoredResponse | None:
            cursor = await conn.execute(
                f"SELECT {RESPONSE_COLUMNS} FROM gateway_responses WHERE id = %s", (response_id,)
            )
            row = await cursor.fetchone()
            return _record(row) if row else None

        return await self._run(job, "reading a response")

    async def delete_response(self, response_id: str) -> bool:
        async def job(conn: Connection) -> bool:
            cursor = await conn.execute(
                "DELETE FROM gateway_responses WHERE id = %s", (response_id,)
            )
            return cursor.rowcount > 0

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

        async def job(conn: Connection) -> list[Item] | None:
            cursor = await conn.execute(
                "SELECT input_items FROM gateway_responses WHERE id = %s", (response_id,)
            )
            row = await cursor.fetchone()
            return row[0] if row else None

        items = await self._run(job, "listing input items")
        return None if items is None else page_of(items, after=after, limit=limit, order=order)

    async def response_chain(
        self, response_id: str, *, max_depth: int = 1000
    ) -> list[StoredResponse] | None:
        if max_depth < 1:
            raise ValueError(f"max_depth must be at least 1, not {max_depth}")

        async def job(conn: Connection) -> list[StoredResponse] | None:
            async with conn.transaction():
                links = await (await conn.execute(CHAIN, (response_id, max_depth))).fetchall()
                ids = chain_ids(response_id, links, max_depth)
                if ids is None:
                    return None
                cursor = await conn.execute(
                    f"SELECT {RESPONSE_COLUMNS} FROM gateway_responses WHERE id = ANY(%s)",
                    (ids,),
                )
                by_id = {row[0]: row for row in await cursor.fetchall()}
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

        async def job(conn: Connection) -> None:
            async with conn.transaction():
                cursor = await conn.execute(
                    """INSERT INTO gateway_conversations (id, created_at, metadata)
                    VALUES (%s, %s, %s::jsonb) ON CONFLICT (id) DO NOTHING""",
                    (conversation_id, created_at, dumps(metadata)),
                )
                if not cursor.rowcount:
                    raise ValueError(f"conversation {conversation_id!r} already exists")
                await _insert_items(conn, conversation_id, 0, items, ids)

        await self._run(job, "creating a conversation")
        return Conversation(conversation_id, created_at, metadata)

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        async def job(conn: Connection) -> Conversation | None:
            cursor = await conn.execute(
                "SELECT created_at, metadata FROM gateway_conversations WHERE id = %s",
                (conversation_id,),
            )
            row = await cursor.fetchone()
            return Conversation(conversation_id, row[0], row[1]) if row else None

        return await self._run(job, "reading a conversation")

    async def update_conversation(
        self, conversation_id: str, metadata: dict[str, Any]
    ) -> Conversation | None:
        async def job(conn: Connection) -> Conversation | None:
            cursor = await conn.execute(
                """UPDATE gateway_conversations SET metadata = %s::jsonb WHERE id = %s
                RETURNING created_at""",
                (dumps(metadata), conversation_id),
            )
            row = await cursor.fetchone()
            return Conversation(conversation_id, row[0], metadata) if row else None

        return await self._run(job, "updating a conversation")

    async def delete_conversation(self, conversation_id: str) -> bool:
        async def job(conn: Connection) -> bool:
            async with conn.transaction():
                await conn.execute(
                    "DELETE FROM gateway_conversation_items WHERE conversation_id = %s",
                    (conversation_id,),
                )
                cursor = await conn.execute(
                    "DELETE FROM gateway_conversations WHERE id = %s", (conversation_id,)
                )
            return cursor.rowcount > 0

        return await self._run(job, "deleting a conversation")

    async def add_items(self, conversation_id: str, items: list[Item]) -> list[Item] | None:
        ids = item_ids(items)

        async def job(conn: Connection) -> list[Item] | None:
            async with conn.transaction():
                # The row lock queues concurrent appends to one conversation, so each
                # sees the positions the previous one took.
                cursor = await conn.execute(
                    "SELECT 1 FROM gateway_conversations WHERE id = %s FOR UPDATE",
                    (conversation_id,),
                )
                if await cursor.fetchone() is None:
                    return None
                cursor = await conn.execute(
                    """SELECT item_id FROM gateway_conversation_items
                    WHERE conversation_id = %s AND item_id = ANY(%s)""",
                    (conversation_id, ids),
                )
                taken = await cursor.fetchone()
                if taken:
                    raise ValueError(
                        f"conversation {conversation_id!r} already has an item {taken[0]!r}"
                    )
                cursor = await conn.execute(
                    """SELECT COALESCE(MAX(position) + 1, 0) FROM gateway_conversation_items
                    WHERE conversation_id = %s""",
                    (conversation_id,),
                )
                row = await cursor.fetchone()
                start = row[0] if row else 0
                await _insert_items(conn, conversation_id, start, items, ids)
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

        async def job(conn: Connection) -> Page | None:
            async with conn.transaction():
                if not await _conversation_exists(conn, conversation_id):
                    return None
                where, params = "conversation_id = %s", [conversation_id]
                if after is not None:
                    cursor = await conn.execute(
                        """SELECT position FROM gateway_conversation_items
                        WHERE conversation_id = %s AND item_id = %s""",
                        (conversation_id, after),
                    )
                    row = await cursor.fetchone()
                    if row is None:
                        raise unknown_after(after)
                    where += f" AND position {beyond} %s"
                    params.append(row[0])
                cursor = await conn.execute(
                    f"""SELECT item FROM gateway_conversation_items WHERE {where}
                    ORDER BY position {direction} LIMIT %s""",
                    (*params, limit + 1),
                )
                rows = await cursor.fetchall()
            return page_from_rows([row[0] for row in rows], limit)

        return await self._run(job, "listing conversation items")

    async def get_item(self, conversation_id: str, item_id: str) -> Item | None:
        async def job(conn: Connection) -> Item | None:
            cursor = await conn.execute(
                """SELECT item FROM gateway_conversation_items
                WHERE conversation_id = %s AND item_id = %s""",
                (conversation_id, item_id),
            )
            row = await cursor.fetchone()
            return row[0] if row else None

        return await self._run(job, "reading a conversation item")

    async def delete_item(self, conversation_id: str, item_id: str) -> bool:
        async def job(conn: Connection) -> bool:
            cursor = await conn.execute(
                """DELETE FROM gateway_conversation_items
                WHERE conversation_id = %s AND item_id = %s""",
                (conversation_id, item_id),
            )
            return cursor.rowcount > 0

        return await self._run(job, "deleting a conversation item")

    async def all_items(self, conversation_id: str) -> list[Item] | None:
        async def job(conn: Connection) -> list[Item] | None:
            async with conn.transaction():
                if not await _conversation_exists(conn, conversation_id):
                    return None
                cursor = await conn.execute(
                    """SELECT item FROM gateway_conversation_items WHERE conversation_id = %s
                    ORDER BY position""",
                    (conversation_id,),
                )
                rows = await cursor.fetchall()
            return [row[0] for row in rows]

        return await self._run(job, "reading conversation items")

    # -- gateway state and housekeeping ----------------------------------------------

    async def secret(self, name: str) -> bytes:
        if name not in self._secrets:

            async def job(conn: Connection) -> bytes:
                # Whoever inserts first wins; every other caller, in any process, waits
                # for that insert to commit and then reads the same value.
                await conn.execute(
                    """INSERT INTO gateway_secrets (name, value) VALUES (%s, %s)
                    ON CONFLICT (name) DO NOTHING""",
                    (name, os.urandom(32)),
                )
                cursor = await conn.execute(
                    "SELECT value FROM gateway_secrets WHERE name = %s", (name,)
                )
                row = await cursor.fetchone()
                if row is None:  # deleted between the two statements
                    raise StoreError(f"{self._where}: the secret {name!r} was deleted meanwhile")
                return bytes(row[0])

            self._secrets[name] = await self._run(job, f"reading the secret {name!r}")
        return self._secrets[name]

    async def purge(self, now: int) -> int:
        async def job(conn: Connection) -> int:
            removed = 0
            async with conn.transaction():
                if self._retention is not None:
                    cursor = await conn.execute(
                        "DELETE FROM gateway_responses WHERE created_at < %s",
                        (now - self._retention,),
                    )
                    removed += cursor.rowcount
                if self._max_bytes is not None:
                    cursor = await conn.execute(OVER_SIZE_CAP, (self._max_bytes,))
                    removed += cursor.rowcount
            return removed

        return await self._run(job, "purging old responses")

    async def ready(self) -> bool:
        async def job(conn: Connection) -> None:
            await conn.execute("SELECT version FROM gateway_schema_version")

        try:
            await self._run(job, "checking readiness")
        except StoreError:
            return False
        return True

    async def close(self) -> None:
        self._closed = True
        await self._pool.close()


class _Pool:
    """At most ``size`` connections, opened on demand and kept while healthy.

    Not psycopg_pool: its callers wait out their whole timeout when the server is
    down and then learn only that no connection came, while connecting on demand
    fails at once with libpq's own reason (refused, no such database, bad password),
    which is what ``/health/ready`` and the log need to show."""

    def __init__(self, url: str, size: int) -> None:
        self._url = url
        self._slots = asyncio.Semaphore(size)
        self._idle: list[Connection] = []
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        async with self._slots:
            conn = await self._take()
            try:
                yield conn
            finally:
                # A connection cut off mid-query (a timeout) is in an unknown state.
                reusable = (
                    not self._closed
                    and not conn.closed
                    and conn.info.transaction_status == TransactionStatus.IDLE
                )
                if reusable:
                    self._idle.append(conn)
                else:
                    await conn.close()

    async def _take(self) -> Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and not _has_pending_input(conn):
                return conn
            await conn.close()
        conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
        set_json_loads(orjson.loads, conn)
        return conn

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


def _has_pending_input(conn: Connection) -> bool:
    """An idle connection has nothing to read unless the server said goodbye (a
    restart or an admin's kill sends an error and closes): checking costs no round
    trip and spares the next call a failure on a dead connection."""
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    return bool(readable)


def _record(row: tuple[Any, ...]) -> StoredResponse:
    return StoredResponse(
        id=row[0],
        created_at=row[1],
        response=row[2],
        input_items=row[3],
        previous_response_id=row[4],
        conversation_id=row[5],
        provider=row[6],
        model=row[7],
    )


async def _conversation_exists(conn: Connection, conversation_id: str) -> bool:
    cursor = await conn.execute(
        "SELECT 1 FROM gateway_conversations WHERE id = %s", (conversation_id,)
    )
    return await cursor.fetchone() is not None


async def _insert_items(
    conn: Connection, conversation_id: str, start: int, items: list[Item], ids: list[str]
) -> None:
    async with conn.cursor() as cursor:
        await cursor.executemany(
            """INSERT INTO gateway_conversation_items (conversation_id, position, item_id, item)
            VALUES (%s, %s, %s, %s::jsonb)""",
            [
                (conversation_id, start + offset, item_id, dumps(item))
                for offset, (item_id, item) in enumerate(zip(ids, items, strict=True))
            ],
        )


def _passwords(url: str) -> list[str]:
    """Every spelling of the URL's password that an error message might echo."""
    found = {urlsplit(url).password or ""}
    with suppress(psycopg.Error):
        found.add(str(conninfo_to_dict(url).get("password") or ""))
    found |= {unquote(p) for p in found}
    return sorted((p for p in found if p), key=len, reverse=True)


def _display(url: str) -> str:
    """The URL as it may be shown: user, host, port and database, no password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        raise ValueError(
            "the PostgreSQL store URL cannot be parsed: write "
            "postgresql://user[:password]@host[:port]/database"
        ) from None
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{user}{info.get('host', '')}{port}/{info.get('dbname', '')}"
