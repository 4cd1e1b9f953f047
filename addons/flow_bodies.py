"""Keep, with each gateway flow, what the flow itself no longer shows: the caller's
request before translation, the provider's answer before translation, and a streamed
answer's bytes, so that mitmweb (``llm_view.py``) can show both sides of an exchange.

A flow holds the request as it went to the provider and the answer as the caller got
it. What the translation replaced goes into ``flow.metadata`` (under ``CALLER_REQUEST``
and ``PROVIDER_ANSWER``, decoded, at most ``gateway_keep_bytes`` each); a body the
gateway did not change is not copied. Streams are not buffered by mitmproxy, so their
bytes are kept as they pass: the provider's (before translation) by wrapping the stream
callable, and the caller's by mitmproxy 12's ``store_streamed_bodies``, which this
addon turns on, or on mitmproxy 11 (which has no such option) by the same wrapper,
written into the response when the stream ends.

Two addons, because mitmproxy calls hooks in list order: ``KeepOriginals`` sits before
the gateway (it must see the request and a whole answer before they are translated),
``KeepStreams`` after it (it sees what the gateway made of the request, and wraps the
stream callable the gateway has just set).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from mitmproxy import ctx, http

from addons import body_limit, upstream

log = logging.getLogger("gateway")

CALLER_REQUEST = "gateway_caller_request"  # bytes: the caller's body, decoded
PROVIDER_ANSWER = "gateway_provider_answer"  # bytes: the provider's body, decoded
PROVIDER_STATUS = "gateway_provider_status"  # int: the provider's status, before translation
TRUNCATED = "gateway_truncated"  # list of the above that were cut at the limit
DEFAULT_LIMIT = 4 * 1024 * 1024

StreamCallable = Callable[[bytes], bytes | Iterable[bytes]]


def _limit() -> int:
    return int(ctx.options.gateway_keep_bytes)


def _keep(flow: http.HTTPFlow, key: str, body: bytes) -> None:
    limit = _limit()
    flow.metadata[key] = body[:limit]
    if len(body) > limit:
        flow.metadata.setdefault(TRUNCATED, []).append(key)


class KeepOriginals:
    """Before the gateway: note the caller's body as it came, and keep the provider's
    whole answer before the gateway translates it."""

    def __init__(self) -> None:
        # flow id -> the caller's raw body and content-encoding, until the gateway has
        # decided whether the flow is its own (a reference, not a copy).
        self._pending: dict[str, tuple[bytes | None, str]] = {}

    def load(self, loader) -> None:
        loader.add_option(
            "gateway_keep_bytes",
            int,
            DEFAULT_LIMIT,
            "Bytes of the caller's original request and the provider's original answer "
            "kept with each gateway flow for mitmweb (each side; 0 keeps nothing).",
        )

    def running(self) -> None:
        # mitmproxy 12 keeps a streamed body only when asked; 11 has no such option.
        if _limit() > 0 and "store_streamed_bodies" in ctx.options:
            ctx.options.update(store_streamed_bodies=True)

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live or _limit() <= 0:
            return
        encoding = flow.request.headers.get("content-encoding", "")
        self._pending[flow.id] = (flow.request.raw_content, encoding)

    def response(self, flow: http.HTTPFlow) -> None:
        self.settle(flow)  # a request the gateway answered itself
        response = flow.response
        gateway = flow.metadata.get("gateway")
        if response is None or response.stream or not _translated(gateway):
            return
        body = response.get_content(strict=False) or b""
        # An error may echo the credential the provider got; the gateway scrubs it from
        # what the caller sees, and it must not survive here either.
        credential = upstream.caller_credential(flow.request.headers, flow.request.query.get("key"))
        _keep(flow, PROVIDER_ANSWER, upstream.scrub(body, credential))
        flow.metadata[PROVIDER_STATUS] = response.status_code

    def error(self, flow: http.HTTPFlow) -> None:
        self.settle(flow)

    def settle(self, flow: http.HTTPFlow) -> None:
        """Once the gateway's request hook has run (``KeepStreams.request`` calls this):
        keep the caller's body when the flow is the gateway's and its body was changed
        on the way."""
        pending = self._pending.pop(flow.id, None)
        if pending is None or "gateway" not in flow.metadata:
            return
        raw, encoding = pending
        if raw is None or raw == flow.request.raw_content:
            return
        try:
            body = body_limit.decoded(raw, encoding, _limit())
        except (body_limit.BodyTooLarge, ValueError):
            body = raw
        _keep(flow, CALLER_REQUEST, body)


class KeepStreams:
    """After the gateway: settle what ``KeepOriginals`` noted as soon as the gateway has
    rewritten the request (so mitmweb shows both sides while the answer is still on its
    way), and wrap a gateway stream's callable to keep the provider's bytes (when
    translated) and, on mitmproxy 11, the caller's."""

    def __init__(self, originals: KeepOriginals) -> None:
        self._originals = originals
        self._kept: dict[str, _Recorder] = {}

    def request(self, flow: http.HTTPFlow) -> None:
        self._originals.settle(flow)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        gateway = flow.metadata.get("gateway")
        if response is None or not response.stream or gateway is None or _limit() <= 0:
            return
        own_buffer = "store_streamed_bodies" not in ctx.options  # mitmproxy 11
        if not (own_buffer or callable(response.stream)):
            return  # a passthrough stream on 12: mitmproxy keeps it
        inner = response.stream if callable(response.stream) else None
        recorder = _Recorder(
            inner, _limit(), keep_input=_translated(gateway), keep_output=own_buffer
        )
        self._kept[flow.id] = recorder
        response.stream = recorder

    def response(self, flow: http.HTTPFlow) -> None:
        recorder = self._kept.pop(flow.id, None)
        if recorder is None or flow.response is None:
            return
        if recorder.keep_input:
            _keep(flow, PROVIDER_ANSWER, recorder.input.bytes())
            flow.metadata[PROVIDER_STATUS] = flow.response.status_code
            if recorder.input.cut:
                flow.metadata.setdefault(TRUNCATED, []).append(PROVIDER_ANSWER)
        if recorder.keep_output and flow.response.raw_content is None:
            # Only mitmweb reads it: the body went to the caller as it streamed.
            flow.response.raw_content = recorder.output.bytes()

    def error(self, flow: http.HTTPFlow) -> None:
        """A stream that broke: what arrived before it did is what explains it."""
        self.response(flow)


class _Buffer:
    """Bytes up to a limit; what is past it is counted as cut, not kept."""

    __slots__ = ("cut", "limit", "parts", "size")

    def __init__(self, limit: int) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.cut = False

    def add(self, chunk: bytes) -> None:
        room = self.limit - self.size
        if len(chunk) > room:
            chunk, self.cut = chunk[:room], True
        if chunk:
            self.parts.append(chunk)
            self.size += len(chunk)

    def bytes(self) -> bytes:
        return b"".join(self.parts)


class _Recorder:
    """A stream callable around the gateway's (or around plain forwarding): it keeps
    what goes in and what comes out and changes nothing of either. It never raises:
    an exception in a stream callable leaves the caller hanging."""

    def __init__(
        self, inner: StreamCallable | None, limit: int, *, keep_input: bool, keep_output: bool
    ) -> None:
        self.inner = inner
        self.keep_input, self.keep_output = keep_input, keep_output
        self.input = _Buffer(limit)
        self.output = _Buffer(limit)

    def __call__(self, chunk: bytes) -> bytes | Iterable[bytes]:
        out = self.inner(chunk) if self.inner is not None else chunk
        try:
            if self.keep_input:
                self.input.add(chunk)
            if self.keep_output:
                if isinstance(out, bytes):
                    self.output.add(out)
                else:
                    out = list(out)
                    for piece in out:
                        self.output.add(piece)
        except Exception:
            log.exception("gateway: keeping a streamed body for mitmweb failed")
        return out


def _translated(gateway: object) -> bool:
    return isinstance(gateway, dict) and gateway.get("kind") == "translated"
