"""One request's exchange with its providers: send it, wait within the rules.yaml
``timeouts``, retry on ``retry-after``, fall back to the next target, until there is one
answer to give mitmproxy (docs/faults.md): a whole answer, a live 2xx stream, or a fault.

The one rule that shapes it: **nothing is retried once a byte of the answer has left.**
A target's answer is held until it is known to be usable: a whole answer is read to its
end, a stream until its first body bytes (its headers leave with them). Until then any
connection error, timeout, 429 or 5xx moves on to the next attempt; after that, a broken
stream ends with an in-stream error and is never resumed elsewhere.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from addons import faults, http1
from addons.faults import Fault
from addons.relay_plan import Plan, Target
from addons.stream_cut import JSONArrayCut, SSECut, StreamCut
from addons.upstream_pool import Connection, Pool, host_header

MAX_RETRIES = 2  # of one target, each only when it asked with retry-after

# A connection that breaks these ways, rather than answering, has failed.
_BROKEN = (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError)


class Stale(Exception):
    """A kept-alive connection the provider had closed before this request: not a fault
    of the provider's; the request goes again on a new connection."""


class Abort(Exception):
    """The answer cannot be ended cleanly (a compressed stream broke): the connection to
    mitmproxy is dropped, which the caller sees as the provider's broken stream."""


@dataclass(slots=True, eq=False)
class Answer:
    """A provider's status and headers, with its body read (``content``) or, for a 2xx
    stream, its first body bytes (``first``) and the rest still on ``conn``."""

    target: Target
    head: http1.ResponseHead
    conn: Connection
    body: http1.BodyReader
    content: bytes | None = None
    first: bytes = b""

    @property
    def retryable(self) -> bool:
        return self.head.status in faults.RETRYABLE_STATUSES

    @property
    def retry_after(self) -> float | None:
        fields = self.head.fields
        return faults.retry_after(
            http1.field(fields, b"retry-after"), http1.field(fields, b"retry-after-ms")
        )


class Exchange:
    def __init__(self, plan: Plan, pool: Pool, silence: float) -> None:
        self._plan = plan
        self._pool = pool
        self._loop = asyncio.get_running_loop()
        # mitmproxy closes a connection silent for its tcp_timeout; the gateway answers
        # before that, however many attempts the rules allow.
        self._deadline = self._loop.time() + silence
        self._silence = silence
        self._conn: Connection | None = None  # the upstream connection in use

    async def run(self) -> Answer | Fault:
        """Try the targets until one answers for good. The answer's connection is left
        open only for a live stream (``Answer.conn``); every other one is released."""
        try:
            result = await self._run()
        except BaseException:
            if self._conn is not None:
                self._conn.close()
            raise
        if isinstance(result, Answer):
            self._plan.served = result.target
        else:
            self._plan.fault = result
        return result

    async def _run(self) -> Answer | Fault:
        plan = self._plan
        target, retries, waited = plan.targets[0], 0, 0.0
        while True:
            result = await self._attempt(target)
            if isinstance(result, Answer) and not result.retryable:
                return result
            delay = result.retry_after if isinstance(result, Answer) else None
            retry = (
                delay is not None
                and retries < MAX_RETRIES
                and waited + delay <= plan.retry_wait
                and self._loop.time() + delay < self._deadline
            )
            note = f"{target.name}: {_describe(result)}"
            if retry:
                assert delay is not None
                plan.attempts.append(note)
                retries, waited = retries + 1, waited + delay
                await asyncio.sleep(delay)
                continue
            tried = len(plan.attempts)
            following = plan.next_target()  # notes the fallbacks it had to skip
            if following is None:
                # No target is left: the last provider's own error goes to the caller as
                # it is (translated by the gateway like any); a fault gets its own answer.
                return result
            plan.attempts.insert(tried, note)
            target, retries = following, 0

    # ------------------------------------------------------------------ one attempt

    def _budget(self, seconds: float) -> float:
        return max(min(seconds, self._deadline - self._loop.time()), 0.0)

    async def _attempt(self, target: Target) -> Answer | Fault:
        origin, method = target.origin, target.method
        host = host_header(origin)
        data = http1.request_bytes(method, target.path.encode(), host, target.fields, target.body)
        pooled = self._pool.take(origin)
        if pooled is not None:
            try:
                return await self._exchange(pooled, target, method, data)
            except Stale:
                pass
        seconds = self._budget(self._plan.timeouts.connect)
        try:
            async with asyncio.timeout(seconds):
                self._conn = await self._pool.connect(origin)
        except TimeoutError:
            return faults.timed_out(target.provider, "connect", seconds)
        except OSError as e:
            return faults.broken(target.provider, "connect", e)
        return await self._exchange(self._conn, target, method, data)

    async def _exchange(
        self, conn: Connection, target: Target, method: bytes, data: bytes
    ) -> Answer | Fault:
        """Send, and read what must be read before anything may reach the caller."""
        self._conn = conn
        provider = target.provider
        streamed = self._plan.stream
        seconds = self._budget(self._plan.timeouts.first_byte)
        try:
            async with asyncio.timeout(seconds):
                conn.writer.write(data)
                head = await http1.read_response_head(conn.reader)
                body = http1.BodyReader.of(conn.reader, head, method)
                answer = Answer(target, head, conn, body)
                if streamed and 200 <= head.status < 300:
                    answer.first = await body.read()
                    return answer
        except TimeoutError:
            return self._drop(faults.timed_out(provider, "first_byte", seconds))
        except http1.ProtocolError:
            return self._drop(faults.invalid(provider))
        except _BROKEN as e:
            fault = self._drop(faults.broken(provider, "first_byte", e))
            if conn.reused and not getattr(e, "partial", b""):
                raise Stale from e
            return fault
        try:
            answer.content = await self._read_all(body)
        except TimeoutError:
            return self._drop(faults.timed_out(provider, "body", self._plan.timeouts.idle))
        except http1.ProtocolError:
            return self._drop(faults.invalid(provider))
        except _BROKEN as e:
            return self._drop(faults.broken(provider, "body", e))
        self._release(answer)
        return answer

    def _drop(self, fault: Fault) -> Fault:
        """A connection that failed is closed, never reused."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        return fault

    async def _read_all(self, body: http1.BodyReader) -> bytes:
        parts: list[bytes] = []
        idle = min(self._plan.timeouts.idle, self._silence)
        while True:
            async with asyncio.timeout(idle):
                piece = await body.read()
            if not piece:
                return b"".join(parts)
            parts.append(piece)

    def _release(self, answer: Answer) -> None:
        """Back to the pool when the answer was read to its end and the provider keeps
        the connection; closed otherwise."""
        if answer.head.keep_alive and answer.body.complete:
            self._pool.give_back(answer.conn)
        else:
            answer.conn.close()
        self._conn = None

    # ------------------------------------------------------------------ a live stream

    async def stream(self, answer: Answer, writer: asyncio.StreamWriter) -> None:
        """Pass a 2xx stream on to mitmproxy as it arrives, whole events at a time
        (``stream_cut``), and end it with the in-stream error of its protocol if the
        provider breaks off."""
        self._conn = answer.conn
        try:
            writer.write(head_bytes(answer))
            await self._stream(answer, writer)
        finally:
            if self._conn is not None:
                self._conn.close()

    async def _stream(self, answer: Answer, writer: asyncio.StreamWriter) -> None:
        target = answer.target
        encoding = http1.field(answer.head.fields, b"content-encoding")
        cut: StreamCut | None = None
        if encoding in (None, b"identity"):
            json_array = target.framing == "json_array"
            cut = JSONArrayCut() if json_array else SSECut(target.wire == "openai_responses")
        idle = min(self._plan.timeouts.idle, self._silence)
        data, fault = answer.first, None
        while data:
            out = cut.feed(data) if cut is not None else data
            if out:
                writer.write(http1.chunk(out))
                await writer.drain()
            try:
                async with asyncio.timeout(idle):
                    data = await answer.body.read()
            except TimeoutError:
                fault = faults.timed_out(target.provider, "stream", idle)
                break
            except (http1.ProtocolError, *_BROKEN) as e:
                fault = faults.broken(target.provider, "stream", e)
                break
        if fault is None:
            rest = cut.rest() if cut is not None else b""
            if rest:
                writer.write(http1.chunk(rest))
            self._release(answer)
        else:
            self._plan.error = str(fault)
            if cut is None:
                raise Abort(str(fault))
            tail = faults.stream_tail(
                target.wire,
                target.framing,
                fault,
                self._plan.request_id,
                array_open=cut.array_open,
                sent=cut.sent,
            )
            writer.write(http1.chunk(tail))
        writer.write(http1.LAST_CHUNK)
        await writer.drain()


def answer_fields(answer: Answer) -> http1.Fields:
    """The provider's headers as the caller gets them: without hop-by-hop ones, and
    naming the provider that served (docs/faults.md)."""
    fields = [(k, v) for k, v in answer.head.fields if k not in http1.HOP_BY_HOP]
    fields.append((b"x-gateway-provider", answer.target.provider.encode()))
    return fields


def head_bytes(answer: Answer) -> bytes:
    """A live stream's status line and headers, for mitmproxy."""
    fields = answer_fields(answer)
    fields.append((b"transfer-encoding", b"chunked"))
    return http1.response_head_bytes(answer.head.status, answer.head.reason, fields)


def _describe(result: Answer | Fault) -> str:
    """One failed attempt, for the log line."""
    if isinstance(result, Fault):
        return result.what
    return f"HTTP {result.head.status}"
