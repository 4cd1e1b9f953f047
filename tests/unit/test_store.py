"""The Responses state store's contract, run against every backend.

Each test drives the store from plain ``asyncio.run`` (the store belongs to one event
loop, as it does inside mitmproxy). PostgreSQL tests use a throw-away schema in the
``test`` database at 127.0.0.1:5432 and are skipped, with the reason, when nothing
answers there.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from addons.store import (
    BrokenChain,
    Conversation,
    Page,
    Store,
    StoredResponse,
    StoreError,
    open_store,
)
from addons.store.base import sqlite_path

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
IDS = [f"item_{n}" for n in range(5)]


# -- fixtures and helpers ------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    """Why PostgreSQL tests cannot run here, or None; asked once per session."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'llm-gateway[postgres]')"
    try:
        psycopg.connect(PG_SERVER, connect_timeout=2).close()
    except psycopg.Error as e:
        return f"PostgreSQL not reachable at 127.0.0.1:5432: {e}"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "state" / "state.sqlite3")
    else:
        yield from postgres_schema(request)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from postgres_schema(request)


def postgres_schema(request: pytest.FixtureRequest) -> Iterator[str]:
    """A store URL whose tables land in a fresh schema, dropped afterwards, so that
    parallel runs never meet; its connections are named after it too."""
    problem = request.getfixturevalue("postgres_problem")
    if problem:
        pytest.skip(problem)
    import psycopg

    schema = f"gw_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql://")


@asynccontextmanager
async def using(
    url: str,
    *,
    retention_seconds: float | None = None,
    max_bytes: int | None = None,
    timeout: float = 5.0,
) -> AsyncIterator[Store]:
    store = open_store(
        url, retention_seconds=retention_seconds, max_bytes=max_bytes, timeout=timeout
    )
    try:
        yield store
    finally:
        await store.close()


def response(
    n: int,
    *,
    previous: int | None = None,
    created_at: int | None = None,
    conversation: str | None = None,
    padding: int = 0,
) -> StoredResponse:
    rid = f"resp_{n}"
    return StoredResponse(
        id=rid,
        created_at=1_700_000_000 + n if created_at is None else created_at,
        response={
            "id": rid,
            "object": "response",
            "status": "completed",
            "output": [
                {
                    "type": "message",
                    "id": f"msg_{n}",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "a" * padding, "annotations": []}],
                }
            ],
            "usage": {"input_tokens": 3, "output_tokens": 1.5e3, "total_tokens": None},
        },
        input_items=[
            {"id": f"in_{n}_{k}", "type": "message", "role": "user", "content": f"q{n}.{k} ü"}
            for k in range(2)
        ],
        previous_response_id=None if previous is None else f"resp_{previous}",
        conversation_id=conversation,
        provider="anthropic",
        model="claude-sonnet-4-5",
    )


def items(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "type": "message", "role": "user", "content": [{"text": i}]} for i in ids]


# -- responses -----------------------------------------------------------------------


def test_a_response_round_trips_and_put_replaces_it(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            first = response(1, previous=0, conversation="conv_1")
            await store.put_response(first)
            assert await store.get_response("resp_1") == first
            changed = replace(first, model="gpt-4o", response={"id": "resp_1"})
            await store.put_response(changed)
            assert await store.get_response("resp_1") == changed

    asyncio.run(scenario())


def test_unknown_ids_read_as_none_and_delete_as_false(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            assert await store.get_response("resp_nope") is None
            assert await store.delete_response("resp_nope") is False
            assert await store.list_input_items("resp_nope") is None
            assert await store.response_chain("resp_nope") is None
            assert await store.get_conversation("conv_nope") is None
            assert await store.update_conversation("conv_nope", {"a": "b"}) is None
            assert await store.delete_conversation("conv_nope") is False
            assert await store.add_items("conv_nope", items("x")) is None
            assert await store.list_items("conv_nope") is None
            assert await store.all_items("conv_nope") is None
            assert await store.get_item("conv_nope", "x") is None
            assert await store.delete_item("conv_nope", "x") is False
            await store.create_conversation("conv_1", {}, 1, [])
            assert await store.get_item("conv_1", "x") is None
            assert await store.delete_item("conv_1", "x") is False

    asyncio.run(scenario())


def test_a_deleted_response_is_gone(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            await store.put_response(response(1))
            await store.put_response(response(2))
            assert await store.delete_response("resp_1") is True
            assert await store.get_response("resp_1") is None
            assert await store.list_input_items("resp_1") is None
            assert await store.delete_response("resp_1") is False
            assert await store.get_response("resp_2") is not None

    asyncio.run(scenario())


def test_input_items_need_ids(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            record = response(1)
            bad = replace(record, input_items=[{"type": "x"}])
            with pytest.raises(ValueError, match="item 0 has no string 'id'"):
                await store.put_response(bad)
            assert await store.get_response("resp_1") is None

    asyncio.run(scenario())


Lister = Callable[..., Awaitable[Page | None]]


async def check_openai_paging(list_page: Lister) -> None:
    """OpenAI's list semantics: ``after`` is an item id and the page holds what
    follows it in ``order``; ``has_more`` says whether a next page exists."""

    async def page(**kwargs: Any) -> Page:
        result = await list_page(**kwargs)
        assert result is not None
        return result

    whole = await page()  # default: newest first, up to 20
    assert ids_of(whole) == (IDS[::-1], False)
    assert (whole.first_id, whole.last_id) == ("item_4", "item_0")

    assert ids_of(await page(limit=2)) == (["item_4", "item_3"], True)
    assert ids_of(await page(limit=2, after="item_3")) == (["item_2", "item_1"], True)
    assert ids_of(await page(limit=2, after="item_1")) == (["item_0"], False)
    assert ids_of(await page(order="asc", limit=2)) == (["item_0", "item_1"], True)
    assert ids_of(await page(order="asc", limit=2, after="item_3")) == (["item_4"], False)
    assert ids_of(await page(order="asc", limit=5)) == (IDS, False)
    assert ids_of(await page(order="asc", limit=4)) == (IDS[:4], True)
    last = await page(order="asc", after="item_4")
    assert last == Page([], None, None, False)
    first = await page(order="asc", limit=3, after="item_0")
    assert (first.first_id, first.last_id) == ("item_1", "item_3")

    for order, expected in (("asc", IDS), ("desc", IDS[::-1])):
        seen: list[str] = []
        cursor = None
        while True:
            step = await page(order=order, limit=2, after=cursor)
            seen += [i["id"] for i in step.data]
            cursor = step.last_id
            if not step.has_more:
                break
        assert seen == expected

    for bad in ({"limit": 0}, {"limit": 101}, {"limit": True}, {"order": "newest"}):
        with pytest.raises(ValueError):
            await list_page(**bad)
    with pytest.raises(ValueError, match="no item 'item_9'"):
        await list_page(after="item_9")


def ids_of(page: Page) -> tuple[list[str], bool]:
    return [i["id"] for i in page.data], page.has_more


def test_input_items_page_like_openai(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            record = response(1)
            await store.put_response(replace(record, input_items=items(*IDS)))
            await check_openai_paging(lambda **kw: store.list_input_items("resp_1", **kw))

    asyncio.run(scenario())


def test_conversation_items_page_like_openai(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            await store.create_conversation("conv_1", {}, 1, items(*IDS[:2]))
            await store.add_items("conv_1", items(*IDS[2:]))
            await check_openai_paging(lambda **kw: store.list_items("conv_1", **kw))

    asyncio.run(scenario())


def test_response_chain_runs_oldest_first_and_reports_breaks(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            for n in range(4):
                await store.put_response(response(n, previous=n - 1 if n else None))
            chain = await store.response_chain("resp_3")
            assert chain is not None
            assert [r.id for r in chain] == ["resp_0", "resp_1", "resp_2", "resp_3"]
            assert chain[1] == response(1, previous=0)
            assert [r.id for r in await store.response_chain("resp_0") or []] == ["resp_0"]
            assert len(await store.response_chain("resp_3", max_depth=4) or []) == 4
            with pytest.raises(StoreError, match="more than 3"):
                await store.response_chain("resp_3", max_depth=3)

            await store.delete_response("resp_1")
            with pytest.raises(BrokenChain) as broken:
                await store.response_chain("resp_3")
            assert broken.value.missing_id == "resp_1"
            assert "resp_2" in str(broken.value)

    asyncio.run(scenario())


def test_response_chain_detects_cycles(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            await store.put_response(response(1, previous=2))
            await store.put_response(response(2, previous=1))
            await store.put_response(response(3, previous=2))
            await store.put_response(response(7, previous=7))
            for start in ("resp_1", "resp_3", "resp_7"):
                with pytest.raises(StoreError, match="cycle"):
                    await store.response_chain(start)

    asyncio.run(scenario())


# -- conversations -------------------------------------------------------------------


def test_a_conversation_round_trips_with_its_items_in_order(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            created = await store.create_conversation(
                "conv_1", {"topic": "démo"}, 1_700_000_000, items("a", "b")
            )
            assert created == Conversation("conv_1", 1_700_000_000, {"topic": "démo"})
            assert await store.get_conversation("conv_1") == created
            assert await store.add_items("conv_1", items("c", "d")) == items("c", "d")
            assert await store.add_items("conv_1", []) == []
            assert await store.all_items("conv_1") == items("a", "b", "c", "d")
            assert await store.get_item("conv_1", "c") == items("c")[0]

            updated = await store.update_conversation("conv_1", {"topic": "other"})
            assert updated == Conversation("conv_1", 1_700_000_000, {"topic": "other"})
            assert await store.get_conversation("conv_1") == updated

            assert await store.delete_item("conv_1", "b") is True
            assert await store.get_item("conv_1", "b") is None
            assert await store.add_items("conv_1", items("e")) == items("e")
            assert [i["id"] for i in await store.all_items("conv_1") or []] == [
                "a",
                "c",
                "d",
                "e",
            ]

    asyncio.run(scenario())


def test_deleting_a_conversation_deletes_its_items(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            await store.create_conversation("conv_1", {}, 1, items("a", "b"))
            await store.create_conversation("conv_2", {}, 1, items("a"))
            assert await store.delete_conversation("conv_1") is True
            assert await store.get_conversation("conv_1") is None
            assert await store.get_item("conv_1", "a") is None
            await store.create_conversation("conv_1", {}, 2, [])
            assert await store.all_items("conv_1") == []
            assert await store.all_items("conv_2") == items("a")

    asyncio.run(scenario())


def test_conversation_writes_are_all_or_nothing(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            await store.create_conversation("conv_1", {"v": 1}, 1, items("a"))
            with pytest.raises(ValueError, match="already exists"):
                await store.create_conversation("conv_1", {"v": 2}, 2, items("z"))
            with pytest.raises(ValueError, match="already has an item 'a'"):
                await store.add_items("conv_1", items("b", "a"))
            with pytest.raises(ValueError, match="share the id 'c'"):
                await store.add_items("conv_1", items("c", "c"))
            with pytest.raises(ValueError, match="item 1 has no string 'id'"):
                await store.add_items("conv_1", [*items("d"), {"type": "message"}])
            assert await store.get_conversation("conv_1") == Conversation("conv_1", 1, {"v": 1})
            assert await store.all_items("conv_1") == items("a")

    asyncio.run(scenario())


def test_records_render_as_openai_objects() -> None:
    assert Conversation("conv_1", 5, {"k": "v"}).to_json() == {
        "id": "conv_1",
        "object": "conversation",
        "created_at": 5,
        "metadata": {"k": "v"},
    }
    assert Page(items("a"), "a", "a", True).to_json() == {
        "object": "list",
        "data": items("a"),
        "first_id": "a",
        "last_id": "a",
        "has_more": True,
    }


# -- secrets, housekeeping, persistence ----------------------------------------------


def test_a_secret_is_created_once_and_survives_a_restart(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            first = await store.secret("seal")
            assert len(first) == 32
            assert await store.secret("seal") == first
            other = await store.secret("other")
            assert len(other) == 32 and other != first
        async with using(url) as store:
            assert await store.secret("seal") == first

    asyncio.run(scenario())


def test_concurrent_first_calls_agree_on_the_secret(url: str) -> None:
    """Two stores stand for two gateway processes sharing one database."""

    async def scenario() -> None:
        async with using(url) as one, using(url) as two:
            values = await asyncio.gather(*(store.secret("seal") for store in [one, two] * 10))
        assert len(values) == 20
        assert len(set(values)) == 1

    asyncio.run(scenario())


def test_purge_drops_responses_past_the_retention(url: str) -> None:
    async def scenario() -> None:
        async with using(url, retention_seconds=100) as store:
            for n, created in enumerate([0, 50, 100, 150]):
                await store.put_response(response(n, created_at=created))
            await store.create_conversation("conv_1", {}, 0, items("a"))
            assert await store.purge(200) == 2
            assert await store.get_response("resp_0") is None
            assert await store.get_response("resp_1") is None
            assert await store.get_response("resp_2") is not None
            assert await store.purge(200) == 0
            assert await store.all_items("conv_1") == items("a")

    asyncio.run(scenario())


def test_purge_drops_the_oldest_responses_over_the_size_cap(url: str) -> None:
    async def scenario() -> None:
        async with using(url, max_bytes=12_000) as store:
            for n in range(5):  # about 3.5 kB each
                await store.put_response(response(n, padding=3000))
            assert await store.purge(1_800_000_000) == 2
            kept = [n for n in range(5) if await store.get_response(f"resp_{n}")]
            assert kept == [2, 3, 4]
            assert await store.purge(1_800_000_000) == 0

    asyncio.run(scenario())


def test_everything_survives_a_restart(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            await store.put_response(response(1, conversation="conv_1"))
            await store.create_conversation("conv_1", {"k": "v"}, 9, items("a", "b"))
        async with using(url) as store:
            assert await store.get_response("resp_1") == response(1, conversation="conv_1")
            assert await store.get_conversation("conv_1") == Conversation("conv_1", 9, {"k": "v"})
            assert await store.all_items("conv_1") == items("a", "b")

    asyncio.run(scenario())


def test_concurrent_writes_from_50_tasks_all_land(url: str) -> None:
    """Tasks spread over two stores, as over two processes sharing the store."""

    async def scenario() -> None:
        async with using(url) as one, using(url) as two:
            await one.create_conversation("conv_1", {}, 1, [])

            async def write(n: int) -> None:
                store = one if n % 2 else two
                await store.put_response(response(n))
                await store.add_items("conv_1", items(f"item_{n}"))

            await asyncio.gather(*(write(n) for n in range(50)))
            assert all([await one.get_response(f"resp_{n}") for n in range(50)])
            stored = await two.all_items("conv_1") or []
            assert sorted(i["id"] for i in stored) == sorted(f"item_{n}" for n in range(50))

    asyncio.run(scenario())


def test_ready_and_close(url: str) -> None:
    async def scenario() -> None:
        store = open_store(url, retention_seconds=None, max_bytes=None)
        assert await store.ready() is True
        await store.close()
        await store.close()
        assert await store.ready() is False
        with pytest.raises(StoreError, match="closed"):
            await store.get_response("resp_1")

    asyncio.run(scenario())


def test_a_newer_schema_is_refused(url: str) -> None:
    async def scenario() -> None:
        async with using(url) as store:
            assert await store.ready()
        if is_postgres(url):
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("UPDATE gateway_schema_version SET version = 99")
        else:
            with sqlite3.connect(url) as db:
                db.execute("UPDATE schema_version SET version = 99")
        async with using(url) as store:
            assert await store.ready() is False
            with pytest.raises(StoreError, match="schema version 99"):
                await store.get_response("resp_1")

    asyncio.run(scenario())


# -- never blocking, never hanging ---------------------------------------------------


def slow_call(store: Store, url: str) -> Awaitable[object]:
    """A store call far slower than any test timeout, through the backend's own runner
    (the same path every public method takes)."""
    if is_postgres(url):
        return store._run(lambda conn: conn.execute("SELECT pg_sleep(30)"), "sleeping")  # type: ignore[attr-defined]
    endless = """WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n)
        SELECT count(*) FROM n"""
    return store._run(lambda db: db.execute(endless).fetchone(), "counting forever")  # type: ignore[attr-defined]


def test_a_slow_call_does_not_block_the_event_loop(url: str) -> None:
    async def scenario() -> None:
        async with using(url, timeout=0.6) as store:
            await store.ready()  # connected, schema made
            loop = asyncio.get_running_loop()
            gaps: list[float] = []

            async def tick() -> None:
                last = loop.time()
                while True:
                    await asyncio.sleep(0.01)
                    gaps.append(loop.time() - last)
                    last = loop.time()

            ticker = asyncio.create_task(tick())
            with pytest.raises(StoreError, match=r"took longer than 0\.6 s"):
                await slow_call(store, url)
            ticker.cancel()
        # Blocked, the loop would have stood still for the whole 0.6 s.
        assert len(gaps) >= 10
        assert max(gaps) < 0.3

    asyncio.run(scenario())


def test_the_store_works_again_after_a_timeout(url: str) -> None:
    async def scenario() -> None:
        async with using(url, timeout=0.5) as store:
            await store.put_response(response(1))
            with pytest.raises(StoreError):
                await slow_call(store, url)
            # Within the same 0.5 s timeout: the slow call no longer holds the store.
            assert await store.get_response("resp_1") == response(1)

    asyncio.run(scenario())


def test_postgres_replaces_connections_the_server_dropped(postgres_url: str) -> None:
    import psycopg

    url = postgres_url

    async def scenario() -> None:
        async with using(url) as store:
            await store.put_response(response(1))
            with psycopg.connect(url, autocommit=True) as admin:  # as a restart would
                admin.execute(
                    """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = current_setting('application_name')
                    AND pid <> pg_backend_pid()"""
                )
            await asyncio.sleep(0.2)
            assert await store.get_response("resp_1") == response(1)

    asyncio.run(scenario())


# -- choosing the backend ------------------------------------------------------------


def test_store_urls_choose_the_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_problem: str | None
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert sqlite_path(None) == tmp_path / "xdg" / "llm-gateway" / "state.sqlite3"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "state" / "llm-gateway" / "state.sqlite3"
    assert sqlite_path(None) == expected
    monkeypatch.delenv("XDG_STATE_HOME")
    assert sqlite_path(None) == expected
    assert open_store(None, retention_seconds=None, max_bytes=None).path == expected  # type: ignore[attr-defined]

    assert sqlite_path("sqlite:///var/lib/gw/state.db") == Path("/var/lib/gw/state.db")
    assert sqlite_path("sqlite:////var/lib/gw/state.db") == Path("/var/lib/gw/state.db")
    assert sqlite_path("data/state.db") == Path("data/state.db")
    assert sqlite_path("~/state.db") == tmp_path / "home" / "state.db"
    store = open_store("sqlite:///x/y.db", retention_seconds=60, max_bytes=1000)
    assert type(store).__name__ == "SQLiteStore"
    if postgres_problem is None or "not reachable" in postgres_problem:
        for scheme in ("postgresql", "postgres"):
            store = open_store(f"{scheme}://u@h/db", retention_seconds=None, max_bytes=None)
            assert type(store).__name__ == "PostgresStore"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1:6379", "'redis://' is not supported"),
        ("mysql://gw:hunter2@db/gw", "'mysql://' is not supported"),
        ("", "empty"),
        ("   ", "empty"),
        ("sqlite://host/state.db", "no host and no query"),
        ("sqlite:///state.db?mode=ro", "no host and no query"),
    ],
)
def test_bad_store_urls_are_refused_in_a_sentence(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        open_store(url, retention_seconds=None, max_bytes=None)
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    "options",
    [{"retention_seconds": 0}, {"max_bytes": -1}, {"timeout": 0}],
)
def test_bad_limits_are_refused(options: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"retention_seconds": None, "max_bytes": None, **options}
    with pytest.raises(ValueError, match="positive"):
        open_store("state.db", **arguments)


def test_postgres_errors_never_show_the_password(postgres_problem: str | None) -> None:
    if postgres_problem and "not reachable" not in postgres_problem:
        pytest.skip(postgres_problem)

    async def scenario() -> None:
        # Nothing listens on port 1: the connection is refused at once.
        async with using("postgresql://gw:s3cr%40t-pw@127.0.0.1:1/gw", timeout=3) as store:
            assert await store.ready() is False
            with pytest.raises(StoreError) as failed:
                await store.get_response("resp_1")
        message = str(failed.value)
        assert "PostgreSQL store postgresql://gw@127.0.0.1:1/gw" in message
        assert "reading a response failed" in message
        assert "s3cr" not in message and "-pw" not in message
        assert failed.value.__cause__ is None and failed.value.__suppress_context__

    asyncio.run(scenario())


def test_postgres_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "addons.store.postgres", raising=False)
    with pytest.raises(StoreError, match=r"pip install 'llm-gateway\[postgres\]'"):
        open_store("postgresql://u@h/db", retention_seconds=None, max_bytes=None)


def test_the_sqlite_store_never_imports_psycopg(tmp_path: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from addons.store import open_store\n"
        f"store = open_store({str(tmp_path / 's.db')!r}, retention_seconds=None, max_bytes=None)\n"
        "assert asyncio.run(store.ready())\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# -- SQLite specifics ----------------------------------------------------------------


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "state.sqlite3"

    async def scenario() -> None:
        async with using(str(path)) as store:
            await store.put_response(response(1))

    asyncio.run(scenario())
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]


def test_a_file_that_is_not_sqlite_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"not a database, just text " * 100)

    async def scenario() -> None:
        async with using(str(path)) as store:
            assert await store.ready() is False
            with pytest.raises(StoreError, match=f"SQLite store {path}: reading a response"):
                await store.get_response("resp_1")

    asyncio.run(scenario())


WRITER = """
import asyncio, sys
from addons.store import StoredResponse, open_store

async def main() -> None:
    store = open_store(sys.argv[1], retention_seconds=None, max_bytes=None)
    if sys.argv[2] == "crash":
        await store.create_conversation("conv", {}, 0, [])
    for n in range(int(sys.argv[3]), int(sys.argv[4])):
        record = StoredResponse(
            id=f"resp_{n}", created_at=n, response={"id": f"resp_{n}", "n": n, "pad": "r" * 4000},
            input_items=[{"id": f"in_{n}_{k}", "n": n, "pad": "i" * 1000} for k in range(5)],
            previous_response_id=None, conversation_id="conv", provider="p", model="m",
        )
        await store.put_response(record)
        await store.add_items("conv", [{"id": f"item_{n}_{k}", "n": n} for k in range(3)])
        print(n, flush=True)
    await store.close()

asyncio.run(main())
"""


def test_sqlite_survives_a_kill_in_the_middle_of_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "crash", "0", "1000000"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 60
    while acknowledged < 150 and time.monotonic() < deadline:
        line = writer.stdout.readline()
        if not line:  # the writer died on its own: the assert below says so
            break
        acknowledged = int(line)
    time.sleep(secrets.randbelow(20) / 1000)  # land the kill anywhere in a write
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert acknowledged >= 150

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    async def scenario() -> None:
        async with using(str(path)) as store:
            n = 0
            while (record := await store.get_response(f"resp_{n}")) is not None:
                assert record.response == {"id": f"resp_{n}", "n": n, "pad": "r" * 4000}
                assert [i["id"] for i in record.input_items] == [f"in_{n}_{k}" for k in range(5)]
                assert all(i["pad"] == "i" * 1000 for i in record.input_items)
                n += 1
            assert n > acknowledged
            assert await store.get_response(f"resp_{n + 1}") is None
            stored = await store.all_items("conv") or []
            assert [i["id"] for i in stored] == [
                f"item_{m}_{k}" for m in range(len(stored) // 3) for k in range(3)
            ]
            assert len(stored) // 3 >= acknowledged + 1

    asyncio.run(scenario())


def test_two_processes_write_one_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"

    async def scenario() -> None:
        async with using(str(path)) as store:
            await store.create_conversation("conv", {}, 0, [])
            writer = await asyncio.create_subprocess_exec(
                sys.executable, "-c", WRITER, str(path), "share", "0", "60",
                cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            for n in range(100, 160):
                await store.put_response(response(n))
                await store.add_items("conv", items(f"item_{n}_0", f"item_{n}_1", f"item_{n}_2"))
            assert await writer.wait() == 0
            stored = [i["id"] for i in await store.all_items("conv") or []]
            assert len(stored) == 360
            assert sorted(stored) == sorted(
                f"item_{n}_{k}" for n in [*range(60), *range(100, 160)] for k in range(3)
            )
            for n in [*range(60), *range(100, 160)]:
                assert await store.get_response(f"resp_{n}") is not None

    asyncio.run(scenario())
