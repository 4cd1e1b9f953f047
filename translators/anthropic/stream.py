"""Streams: Anthropic SSE from an upstream -> IR events (``StreamParser``), and IR events
-> Anthropic SSE for a caller (``StreamRenderer``)."""

from __future__ import annotations

from typing import Literal

import orjson

from translators import fields, ir
from translators.anthropic.wire import (
    PROTOCOL,
    parse_error,
    parse_google_signature,
    parse_stop,
    parse_usage,
    render_error,
    render_google_signature,
    render_signature,
    render_stop,
    render_usage,
)
from translators.errors import TranslationError
from translators.sse import SSEDecoder, SSEEvent, encode_event

_DeltaKind = Literal["text", "arguments", "thinking", "signature"]

# ------------------------------------------------------------------------ parser

# Anthropic delta type -> (IR delta kind, the field holding its text).
_DELTA_FIELDS: dict[str, tuple[_DeltaKind, str]] = {
    "text_delta": ("text", "text"),
    "input_json_delta": ("arguments", "partial_json"),
    "thinking_delta": ("thinking", "thinking"),
    "signature_delta": ("signature", "signature"),
}


class StreamParser:
    """Anthropic SSE bytes from the upstream -> IR events.

    - An event is dispatched on its SSE ``event:`` name, else on its JSON ``type``
      (recorders that strip ``event:`` lines still give a parseable stream).
    - ``ping``, ``citations_delta`` and event types added after this was written are
      ignored, as Anthropic's versioning policy asks.
    - Server-tool blocks (``server_tool_use``, ``*_tool_result``, ``container_upload``)
      and unknown block types have no IR part: they are skipped with their deltas, and
      the blocks after them are renumbered so IR indices stay 0, 1, 2...
    - Empty text, thinking and argument fragments are skipped (Anthropic opens every
      tool call with ``partial_json: ""``).
    - ``message_delta`` usage is cumulative: its non-null values replace those of
      ``message_start``, and ``Finish`` carries the result.
    - ``Finish`` comes at ``message_stop``, after a ``BlockStop`` for every block that
      never got ``content_block_stop`` (a stream cut by ``max_tokens``); at the end of
      the body when ``message_delta`` came but ``message_stop`` did not. A body that
      ends before ``message_delta``, or an event that is not valid JSON or is malformed,
      gives a ``StreamError`` (api_error) instead of a silently truncated answer.
    """

    __slots__ = (
        "_blocks",
        "_delta_seen",
        "_done",
        "_next",
        "_open",
        "_sequence",
        "_sse",
        "_started",
        "_stop",
        "_usage",
    )

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._started = False
        self._done = False
        self._blocks: dict[int, int | None] = {}  # Anthropic index -> IR index or skipped
        self._next = 0  # IR index of the next block
        self._open: dict[int, None] = {}  # IR indices without BlockStop, in order
        self._usage: dict = {}  # cumulative Anthropic usage, last value wins
        self._stop: str | None = None
        self._sequence: str | None = None
        self._delta_seen = False

    def feed(self, chunk: bytes) -> list[ir.Event]:
        out: list[ir.Event] = []
        for sse in self._sse.feed(chunk):
            self._event(sse, out)
        return out

    def finish(self) -> list[ir.Event]:
        out: list[ir.Event] = []
        for sse in self._sse.finish():
            self._event(sse, out)
        if not self._done:
            if self._delta_seen:
                self._finish(out)
            else:
                self._fail(out, "the upstream stream ended before its stop reason")
        return out

    def _event(self, sse: SSEEvent, out: list[ir.Event]) -> None:
        if self._done:
            return
        try:
            data = orjson.loads(sse.data)
        except orjson.JSONDecodeError:
            self._fail(out, f"the upstream sent an event that is not JSON ({sse.event})")
            return
        if not isinstance(data, dict):
            self._fail(out, "the upstream sent an event that is not a JSON object")
            return
        name = sse.event or data.get("type")
        handler = _HANDLERS.get(name) if isinstance(name, str) else None
        if handler is None:  # ping, and event types added after this was written
            return
        try:
            handler(self, data, out)
        except TranslationError as exc:
            self._fail(out, f"the upstream sent a malformed event ({exc.message})")

    def _fail(self, out: list[ir.Event], message: str) -> None:
        out.append(ir.StreamError(ir.Error(kind="api_error", message=message, status=500)))
        self._done = True

    def _ensure_started(self, out: list[ir.Event]) -> None:
        if not self._started:
            self._started = True
            out.append(ir.MessageStart(id="", model=""))

    def _message_start(self, data: dict, out: list[ir.Event]) -> None:
        if self._started:
            return
        message = fields.need(data, "message", fields.obj, "message_start")
        msg_id = message.get("id")
        model = message.get("model")
        usage = message.get("usage")
        if isinstance(usage, dict):
            self._usage = {k: v for k, v in usage.items() if v is not None}
        self._started = True
        out.append(
            ir.MessageStart(
                id=msg_id if isinstance(msg_id, str) else "",
                model=model if isinstance(model, str) else "",
                usage=parse_usage(usage) if isinstance(usage, dict) else None,
            )
        )

    def _block_start(self, data: dict, out: list[ir.Event]) -> None:
        self._ensure_started(out)
        at = "content_block_start"
        wire_index = fields.need(data, "index", fields.integer, at)
        block = fields.need(data, "content_block", fields.obj, at)
        if wire_index in self._blocks:
            return
        part, deltas = _start_part(block, fields.child(at, "content_block"))
        if part is None:
            self._blocks[wire_index] = None
            return
        index = self._next
        self._next += 1
        self._blocks[wire_index] = index
        self._open[index] = None
        out.append(ir.BlockStart(index, part))
        out.extend(
            ir.BlockDelta(index, kind, text)
            for kind, text in deltas
            if isinstance(text, str) and text
        )

    def _block_delta(self, data: dict, out: list[ir.Event]) -> None:
        at = "content_block_delta"
        index = self._blocks.get(fields.need(data, "index", fields.integer, at))
        delta = fields.need(data, "delta", fields.obj, at)
        dtype = fields.type_of(delta)
        spec = _DELTA_FIELDS.get(dtype) if dtype is not None else None
        if index is None or index not in self._open or spec is None:
            return
        kind, key = spec
        text = fields.need(delta, key, fields.string, fields.child(at, "delta"))
        if text:
            out.append(ir.BlockDelta(index, kind, text))

    def _block_stop(self, data: dict, out: list[ir.Event]) -> None:
        index = self._blocks.get(fields.need(data, "index", fields.integer, "content_block_stop"))
        if index is not None and index in self._open:
            del self._open[index]
            out.append(ir.BlockStop(index))

    def _message_delta(self, data: dict, out: list[ir.Event]) -> None:
        self._ensure_started(out)
        self._delta_seen = True
        delta = data.get("delta")
        if isinstance(delta, dict):
            stop = delta.get("stop_reason")
            sequence = delta.get("stop_sequence")
            self._stop = stop if isinstance(stop, str) else self._stop
            self._sequence = sequence if isinstance(sequence, str) else None
        usage = data.get("usage")
        if isinstance(usage, dict):
            self._usage.update((k, v) for k, v in usage.items() if v is not None)

    def _message_stop(self, data: dict, out: list[ir.Event]) -> None:
        self._ensure_started(out)
        self._finish(out)

    def _error(self, data: dict, out: list[ir.Event]) -> None:
        out.append(ir.StreamError(parse_error(None, data)))
        self._done = True

    def _finish(self, out: list[ir.Event]) -> None:
        out.extend(ir.BlockStop(index) for index in self._open)
        self._open.clear()
        out.append(
            ir.Finish(
                stop_reason=parse_stop(self._stop),
                usage=parse_usage(self._usage) if self._usage else None,
                stop_sequence=self._sequence,
                raw_stop_reason=self._stop,
            )
        )
        self._done = True


def _start_part(
    block: dict, at: str
) -> tuple[ir.Text | ir.Thinking | ir.ToolCall | None, list[tuple[_DeltaKind, object]]]:
    """The IR part a ``content_block_start`` opens (None: a block with no IR part), and
    the deltas for content that arrived inside the opening block itself."""
    btype = block.get("type")
    if btype == "text":
        text = block.get("text")
        return ir.Text("", signature=parse_google_signature(block)), [("text", text)]
    if btype == "thinking":
        deltas: list[tuple[_DeltaKind, object]] = [
            ("thinking", block.get("thinking")),
            ("signature", block.get("signature")),
        ]
        return ir.Thinking(origin=PROTOCOL), deltas
    if btype == "redacted_thinking":
        data = fields.need(block, "data", fields.string, at)
        return ir.Thinking(redacted=data, origin=PROTOCOL), []
    if btype == "tool_use":
        call = ir.ToolCall(
            id=fields.need(block, "id", fields.string, at),
            name=fields.need(block, "name", fields.string, at),
            arguments="",
            signature=parse_google_signature(block),
        )
        given = block.get("input")
        return call, [("arguments", orjson.dumps(given).decode() if given else "")]
    return None, []


_HANDLERS = {
    "message_start": StreamParser._message_start,
    "content_block_start": StreamParser._block_start,
    "content_block_delta": StreamParser._block_delta,
    "content_block_stop": StreamParser._block_stop,
    "message_delta": StreamParser._message_delta,
    "message_stop": StreamParser._message_stop,
    "error": StreamParser._error,
}


# ---------------------------------------------------------------------- renderer


def _frame(name: str, payload: dict) -> bytes:
    return encode_event(orjson.dumps(payload), name)


class StreamRenderer:
    """IR events -> Anthropic SSE bytes for an Anthropic caller.

    - Anthropic blocks never interleave. One block is open on the wire; a block that
      starts while another is open is buffered with its deltas and replayed once the
      open block stops (or at ``Finish``, which closes everything). Parsers that emit
      ``BlockStop`` as soon as a block is complete therefore see no added latency.
    - Deltas for a block that was already closed, or never started, are dropped: no
      Anthropic event can append to a closed block. So are deltas of a kind the block
      cannot carry, notably a Gemini thought signature arriving as a delta on a text or
      tool block (Gemini validates signatures on function calls only, and those arrive
      in the opening ``ToolCall``).
    - ``message_start.usage.input_tokens`` is the best-known count: the ``MessageStart``
      usage, else ``RenderContext.input_tokens_estimate``, as clients such as Claude
      Code show it as their context meter (``test_foreign_stream_rendering``).
    - The stop reason follows ``wire.render_stop``.
    - ``StreamError`` becomes ``event: error`` and nothing is rendered after it; a body
      that ends with neither ``Finish`` nor ``StreamError`` also ends with an error event.
    """

    __slots__ = (
        "_ctx",
        "_current",
        "_done",
        "_kinds",
        "_pending",
        "_same_protocol",
        "_signed",
        "_started",
        "_tool_used",
        "_usage",
        "_wire",
    )

    def __init__(self, ctx: ir.RenderContext) -> None:
        self._ctx = ctx
        self._same_protocol = ctx.source == PROTOCOL
        self._started = False
        self._done = False
        self._current: int | None = None  # IR index of the block open on the wire
        self._wire = 0  # Anthropic index of the next block opened on the wire
        # IR index -> (block kind, the origin prefix of its signature)
        self._kinds: dict[int, tuple[str, str]] = {}
        self._pending: dict[int, list[ir.Event]] = {}  # blocks waiting for the wire
        self._signed = False  # the open thinking block has had a signature delta
        self._tool_used = False
        self._usage: ir.Usage | None = None

    def render(self, events: list[ir.Event]) -> bytes:
        out: list[bytes] = []
        for event in events:
            if self._done:
                break
            if isinstance(event, ir.StreamError):
                out.append(_frame("error", render_error(event.error)[1]))
                self._done = True
                break
            self._ensure_started(event, out)
            if isinstance(event, ir.BlockStart):
                self._on_start(event, out)
            elif isinstance(event, ir.BlockDelta | ir.BlockStop):
                self._on_block_event(event, out)
            elif isinstance(event, ir.UsageUpdate):
                self._usage = event.usage
            elif isinstance(event, ir.Finish):
                self._on_finish(event, out)
        return b"".join(out)

    def finish(self) -> bytes:
        if self._done:
            return b""
        self._done = True
        err = ir.Error("api_error", "the upstream stream ended without a stop reason", 500)
        return _frame("error", render_error(err)[1])

    def _ensure_started(self, event: ir.Event, out: list[bytes]) -> None:
        if self._started:
            return
        self._started = True
        start = event if isinstance(event, ir.MessageStart) else ir.MessageStart("", "")
        self._usage = start.usage
        if start.usage is not None:
            usage = render_usage(start.usage)
        else:
            usage = {"input_tokens": self._ctx.input_tokens_estimate, "output_tokens": 0}
        message: dict = {
            "id": start.id or f"msg_{self._ctx.request_id}",
            "type": "message",
            "role": "assistant",
            "model": start.model or self._ctx.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        out.append(_frame("message_start", {"type": "message_start", "message": message}))

    def _on_start(self, event: ir.BlockStart, out: list[bytes]) -> None:
        if event.index in self._kinds or event.index in self._pending:
            return
        if self._current is None and not self._pending:
            self._open(event, out)
        else:
            self._pending[event.index] = [event]

    def _on_block_event(self, event: ir.BlockDelta | ir.BlockStop, out: list[bytes]) -> None:
        if event.index == self._current:
            self._replay(event, out)
            if self._current is None:
                self._drain(out, force=False)
        elif event.index in self._pending:
            self._pending[event.index].append(event)

    def _on_finish(self, event: ir.Finish, out: list[bytes]) -> None:
        if self._current is not None:
            self._close(out)
        self._drain(out, force=True)
        stop = render_stop(
            event.stop_reason, event.raw_stop_reason, self._same_protocol, self._tool_used
        )
        usage = event.usage or self._usage
        delta = {"stop_reason": stop, "stop_sequence": event.stop_sequence}
        body = render_usage(usage) if usage is not None else {"output_tokens": 0}
        out.append(
            _frame("message_delta", {"type": "message_delta", "delta": delta, "usage": body})
        )
        out.append(_frame("message_stop", {"type": "message_stop"}))
        self._done = True

    def _drain(self, out: list[bytes], *, force: bool) -> None:
        """Replay buffered blocks while the wire is free; ``force`` closes each one."""
        while self._current is None and self._pending:
            index = next(iter(self._pending))
            for event in self._pending.pop(index):
                self._replay(event, out)
            if force and self._current is not None:
                self._close(out)

    def _replay(self, event: ir.Event, out: list[bytes]) -> None:
        if isinstance(event, ir.BlockStart):
            self._open(event, out)
        elif isinstance(event, ir.BlockDelta):
            self._delta(event.index, event.kind, event.text, out)
        elif self._current is not None:
            self._close(out)

    def _open(self, event: ir.BlockStart, out: list[bytes]) -> None:
        part = event.part
        deltas: list[tuple[_DeltaKind, str | None]] = []
        prefix = ""
        block: dict
        if isinstance(part, ir.ToolCall):
            kind = "tool"
            block = {"type": "tool_use", "id": part.id, "name": part.name, "input": {}}
            render_google_signature(block, part.signature)
            deltas.append(("arguments", part.arguments))
            self._tool_used = True
        elif isinstance(part, ir.Thinking) and part.redacted is not None:
            kind = "redacted"
            block = {"type": "redacted_thinking", "data": part.redacted}
        elif isinstance(part, ir.Thinking):
            kind = "thinking"
            block = {"type": "thinking", "thinking": "", "signature": ""}
            prefix = render_signature(None, part.origin)
            deltas += [("thinking", part.text), ("signature", part.signature)]
        else:
            kind = "text"
            block = render_google_signature({"type": "text", "text": ""}, part.signature)
            deltas.append(("text", part.text))
        self._current = event.index
        self._kinds[event.index] = (kind, prefix)
        start = {"type": "content_block_start", "index": self._wire, "content_block": block}
        out.append(_frame("content_block_start", start))
        for delta_kind, text in deltas:
            if text:
                self._delta(event.index, delta_kind, text, out)

    def _delta(self, index: int, kind: str, text: str, out: list[bytes]) -> None:
        block_kind, prefix = self._kinds[index]
        if not text:
            return
        delta: dict
        if block_kind == "text" and kind == "text":
            delta = {"type": "text_delta", "text": text}
        elif block_kind == "tool" and kind == "arguments":
            delta = {"type": "input_json_delta", "partial_json": text}
        elif block_kind == "thinking" and kind == "thinking":
            delta = {"type": "thinking_delta", "thinking": text}
        elif block_kind == "thinking" and kind == "signature":
            delta = {"type": "signature_delta", "signature": prefix + text}
            self._signed = True
        else:
            return
        payload = {"type": "content_block_delta", "index": self._wire, "delta": delta}
        out.append(_frame("content_block_delta", payload))

    def _close(self, out: list[bytes]) -> None:
        kind, prefix = ("", "") if self._current is None else self._kinds[self._current]
        if kind == "thinking" and prefix and not self._signed:
            # Unsigned thinking of another provider (DeepSeek reasoning) still carries its
            # origin, so it can go back to that provider on the next turn.
            delta = {"type": "signature_delta", "signature": prefix}
            payload = {"type": "content_block_delta", "index": self._wire, "delta": delta}
            out.append(_frame("content_block_delta", payload))
        self._signed = False
        payload = {"type": "content_block_stop", "index": self._wire}
        out.append(_frame("content_block_stop", payload))
        self._wire += 1
        self._current = None
