"""The relay in-process, against small asyncio upstreams: what mitmproxy would receive
from it, without mitmproxy (tests/e2e/test_faults.py runs it inside mitmdump)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mitmproxy.test import tflow

from addons import http1
from addons.relay import TOKEN_HEADER, Relay
from addons.relay_plan import Plan, Target
from addons.rules import Timeouts

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


async def upstream(handler: Handler) -> tuple[asyncio.AbstractServer, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/chat/completions"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(http1.field(http1._parse_fields(head.split(b"\r\n")[1:-2]), b"content-length"))
    return head + await reader.readexactly(length)


def plan_for(url: str, *, stream: bool = False, **timeouts) -> Plan:
    body = b'{"model":"m"}'
    fields = [(b"content-type", b"application/json"), (b"authorization", b"Bearer k")]
    parts = urlsplit(url)
    origin = (parts.scheme, parts.hostname or "", parts.port or 80)
    target = Target("prov", "m", "openai_chat", origin, parts.path, b"POST", fields, body)
    return Plan("req-1", "openai_chat", stream, Timeouts(**timeouts), [target])


async def through_relay(relay: Relay, plan: Plan) -> tuple[bytes, tflow.HTTPFlow]:
    """The answer as mitmproxy would pass it on: set on the flow, or, for a live
    stream, fetched from the relay's port with the flow's token."""
    flow = tflow.tflow()
    await relay.exchange(flow, plan)
    if flow.response is not None:
        return b"%d " % flow.response.status_code + flow.response.content, flow
    reader, writer = await asyncio.open_connection(flow.request.host, flow.request.port)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n%s: %s\r\ncontent-length: 0\r\n\r\n"
        % (TOKEN_HEADER.encode(), flow.id.encode())
    )
    head = await http1.read_response_head(reader)
    answer = await http1.BodyReader.of(reader, head, b"POST").read_all()
    writer.close()
    return b"%d " % head.status + answer, flow


def run(test: Callable[[Relay], Awaitable[None]]) -> None:
    async def main() -> None:
        relay = Relay()
        relay.running()
        try:
            await test(relay)
        finally:
            relay.done()

    asyncio.run(main())


def test_a_kept_alive_connection_the_provider_closed_is_replaced_silently():
    requests: list[bytes] = []

    async def once_then_close(reader, writer):
        requests.append(await read_request(reader))
        writer.write(OK)
        await writer.drain()
        await asyncio.sleep(0.05)  # keep-alive, then the provider drops the idle connection
        writer.close()

    async def test(relay: Relay) -> None:
        server, url = await upstream(once_then_close)
        first, _ = await through_relay(relay, plan_for(url))
        await asyncio.sleep(0.2)
        plan = plan_for(url)
        second, _ = await through_relay(relay, plan)
        assert first == second == b"200 {}"
        assert plan.attempts == [] and plan.fault is None
        server.close()

    run(test)
    assert len(requests) == 2
    assert requests[0].startswith(b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:")
    assert TOKEN_HEADER.encode() not in requests[0]


def test_the_silence_limit_bounds_every_wait():
    async def silent(reader, writer):
        await reader.read()  # until the relay gives up and closes the connection

    async def test(relay: Relay) -> None:
        relay._silence = 0.3  # what mitmproxy's tcp_timeout leaves; the rules say 10 s
        server, url = await upstream(silent)
        plan = plan_for(url, first_byte=10)
        answer, _ = await asyncio.wait_for(through_relay(relay, plan), 3)
        assert answer.startswith(b"504 ") and b"within 0.3 s" in answer
        server.close()

    run(test)


def test_a_caller_gone_stops_the_stream_and_closes_the_provider_connection():
    closed = asyncio.Event()

    async def stalls_after_one_event(reader, writer):
        await read_request(reader)
        event = b"data: {}\n\n"
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        writer.write(b"%x\r\n%s\r\n" % (len(event), event))
        await reader.read()  # returns when the relay closes the connection
        closed.set()

    async def test(relay: Relay) -> None:
        server, url = await upstream(stalls_after_one_event)
        plan = plan_for(url, stream=True)
        task = asyncio.ensure_future(through_relay(relay, plan))
        while plan.task is None:
            await asyncio.sleep(0.01)
        flow = tflow.tflow()
        flow.id = next(iter(relay._plans))
        assert relay.finish(flow, caller_gone=True) is plan
        await asyncio.wait_for(closed.wait(), 2)
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await task
        server.close()

    run(test)


def test_anything_but_a_handed_over_request_is_refused():
    async def test(relay: Relay) -> None:
        host, port = relay._address.split(":")  # type: ignore[union-attr]
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        head = await http1.read_response_head(reader)
        assert head.status == 403
        writer.close()

    run(test)


def test_the_flow_shows_the_provider_again_when_done():
    async def answer(reader, writer):
        await read_request(reader)
        writer.write(OK)
        await writer.drain()

    async def test(relay: Relay) -> None:
        server, url = await upstream(answer)
        answer_, flow = await through_relay(relay, plan_for(url, stream=True))
        assert answer_ == b"200 {}"
        assert relay.finish(flow) is not None
        assert flow.request.url == url and TOKEN_HEADER not in flow.request.headers
        server.close()

    run(test)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\x16\x03\x01\x02\x00garbage\r\n\r\n", http1.ProtocolError),
        (b"HTTP/1.1 2OO OK\r\n\r\n", http1.ProtocolError),
        (b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n", http1.ProtocolError),
        (b"HTTP/1.1 200 OK\r\ncontent-", asyncio.IncompleteReadError),
        (b"not http", http1.ProtocolError),
    ],
)
def test_a_response_head_that_is_not_http(raw, error):
    async def parse() -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        await http1.read_response_head(reader)

    with pytest.raises(error):
        asyncio.run(parse())


@pytest.mark.parametrize("after", [b"", b"unasked"])
def test_interim_answers_are_skipped_and_chunked_bodies_read_with_trailers(after):
    async def parse() -> tuple[int, bytes, bool]:
        reader = asyncio.StreamReader()
        reader.feed_data(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n" + after
        )
        head = await http1.read_response_head(reader)
        body = http1.BodyReader.of(reader, head, b"POST")
        return head.status, await body.read_all(), body.complete

    # Bytes after the body's end: the connection is not clean, and is not reused.
    assert asyncio.run(parse()) == (200, b"abcde", not after)


RAW = b"5\r\nhello\r\n1a;x=y\r\n" + b"z" * 26 + b"\r\n0\r\nt: 1\r\n\r\n"


@given(st.lists(st.integers(min_value=0, max_value=len(RAW)), max_size=10))
def test_any_split_of_a_chunked_body_decodes_the_same(cuts):
    decoder = http1.ChunkedDecoder()
    points = sorted(set(cuts))
    pieces = [RAW[a:b] for a, b in zip([0, *points], [*points, len(RAW)], strict=True)]
    assert b"".join(decoder.feed(p) for p in pieces) == b"hello" + b"z" * 26
    assert decoder.done and not decoder.excess


def test_a_chunked_body_that_is_not_chunked():
    with pytest.raises(http1.ProtocolError):
        http1.ChunkedDecoder().feed(b"zz\r\n")
    with pytest.raises(http1.ProtocolError):
        http1.ChunkedDecoder().feed(b"2\r\nabXX")


def test_the_relays_connections_send_at_once():
    # asyncio sets TCP_NODELAY only on sockets whose protocol is TCP by name; without it a
    # stream's first event waits for mitmproxy's delayed ACK (40 ms).
    async def test(relay: Relay) -> None:
        while relay._server is None:
            await asyncio.sleep(0.01)
        assert relay._server.sockets[0].proto == socket.IPPROTO_TCP

    run(test)


def test_through_an_upstream_proxy_mitmproxy_keeps_the_exchange():
    async def test(relay: Relay) -> None:
        flow = tflow.tflow()
        flow.server_conn.via = ("http", ("proxy.internal", 3128))
        await relay.exchange(flow, plan_for(flow.request.url))
        assert flow.response is None and relay.plan(flow) is None

    run(test)


def test_a_bug_in_the_exchange_is_a_500_in_the_callers_format_not_mitmproxys_page():
    def broken_prepare(name: str) -> Target:
        raise RuntimeError("bug")

    async def test(relay: Relay) -> None:
        with socket.socket() as s:  # a port nothing listens on: the first target fails
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}/v1/chat/completions"
        plan = plan_for(url)
        plan.fallbacks, plan.prepare = ["other/m"], broken_prepare
        flow = tflow.tflow()
        await relay.exchange(flow, plan)
        assert flow.response is not None and flow.response.status_code == 500
        assert b"The gateway failed to handle this request (request req-1)" in (
            flow.response.content or b""
        )
        assert plan.served is None and plan.error

    run(test)
