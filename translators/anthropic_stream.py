"""Anthropic Messages streaming, and the wire vocabulary it shares with the codec.

Package-private: ``translators.anthropic_messages`` re-exports ``StreamParser`` and
``StreamRenderer``; nothing else should import this module. The usage, stop-reason,
error and signature helpers live here (not in the codec module) so that the import
graph stays acyclic: the codec imports the stream, never the other way round.

Stream parsing (upstream Anthropic -> IR)
-----------------------------------------
- The event is dispatched on the SSE ``event:`` name, falling back to the JSON ``type``
  (recorders that strip ``event:`` lines still give a parseable stream).
- ``ping``, ``citations_delta`` and event types this module does not know are ignored,
  as Anthropic's versioning policy asks.
- Server-tool blocks (``server_tool_use``, ``*_tool_result``, ``container_upload``) and
  unknown block types have no IR part: they are skipped with their deltas, and the
  following blocks are renumbered so IR indices stay 0, 1, 2...
- Empty ``text_delta``/``thinking_delta``/``input_json_delta`` fragments are skipped
  (Anthropic opens every tool call with ``partial_json: ""``).
- ``message_delta`` usage is cumulative: its non-null values replace the
  ``message_start`` ones, and ``Finish`` carries the result, converted to IR's
  inclusive counts.
- ``Finish`` is emitted at ``message_stop``, after a ``BlockStop`` for every block that
  never got ``content_block_stop`` (a stream cut by ``max_tokens``). If the body ends
  after ``message_delta`` but before ``message_stop``, ``finish()`` emits it; if it
  ends before ``message_delta``, or an event is not valid JSON, the result is a
  ``StreamError`` (api_error) instead of a silently truncated answer.

Stream rendering (IR -> Anthropic caller)
-----------------------------------------
- Anthropic blocks never interleave. The renderer keeps one block open on the wire;
  a block that starts while another is open is buffered with its deltas and replayed
  once the open block stops (or at ``Finish``, which closes everything). Parsers that
  emit ``BlockStop`` as soon as a block is complete therefore see no added latency.
- Deltas for a block that was already closed, or never started, are dropped: no
  Anthropic event can append to a closed block. So are deltas of a kind the block
  cannot carry, notably a Gemini thought signature arriving as a delta on a text or
  tool block (Gemini validates signatures on function calls only, and those arrive
  in the opening ``ToolCall``).
- ``message_start.usage.input_tokens`` is the best-known count: the ``MessageStart``
  usage, else ``RenderContext.input_tokens_estimate`` (PEER-BUGS #12).
- The stop reason is ``tool_use`` whenever a tool_use block was sent and the upstream
  said end/other/nothing; the native value is used verbatim when the upstream was
  Anthropic.
- ``StreamError`` becomes ``event: error`` and nothing is rendered after it; a body
  that ends with neither ``Finish`` nor ``StreamError`` also ends with an error event.
"""

from __future__ import annotations

import orjson

from translators import ir
from translators.errors import TranslationError
from translators.sse import SSEDecoder, SSEEvent, encode_event

PROTOCOL: ir.Protocol = "anthropic"

# ------------------------------------------------------------------ stop reasons

_STOP_TO_IR: dict[str, ir.StopReason] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "pause_turn": "pause_turn",
    "refusal": "content_filter",
    "model_context_window_exceeded": "context_window",
}

# Anthropic has no stop reason for model-side errors or "other": end_turn is the one
# a client treats as a plain end of answer.
_STOP_FROM_IR: dict[str, str] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "content_filter": "refusal",
    "pause_turn": "pause_turn",
    "context_window": "model_context_window_exceeded",
    "error": "end_turn",
    "other": "end_turn",
}


def stop_to_ir(raw: str | None) -> ir.StopReason | None:
    if raw is None:
        return None
    return _STOP_TO_IR.get(raw, "other")


def stop_from_ir(
    stop: ir.StopReason | None, raw: str | None, same: bool, has_tool_call: bool
) -> str:
    """Native value for Anthropic upstreams; otherwise mapped, and ``tool_use`` when the
    answer calls tools but the upstream said "end" (Gemini always says STOP)."""
    if same and raw is not None:
        return raw
    if has_tool_call and stop in (None, "end_turn", "other"):
        return "tool_use"
    return _STOP_FROM_IR.get(stop or "end_turn", "end_turn")


# ------------------------------------------------------------------------- usage


def _count(usage: dict, key: str) -> int | None:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_to_ir(usage: dict) -> ir.Usage:
    """Anthropic ``input_tokens`` excludes cache reads and writes; IR includes them."""
    read = _count(usage, "cache_read_input_tokens")
    write = _count(usage, "cache_creation_input_tokens")
    details = usage.get("output_tokens_details")
    reasoning = _count(details, "thinking_tokens") if isinstance(details, dict) else None
    return ir.Usage(
        input_tokens=(_count(usage, "input_tokens") or 0) + (read or 0) + (write or 0),
        output_tokens=_count(usage, "output_tokens") or 0,
        cache_read_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=reasoning,
    )


def usage_from_ir(usage: ir.Usage) -> dict:
    read = usage.cache_read_tokens
    write = usage.cache_write_tokens
    out: dict = {"input_tokens": max(0, usage.input_tokens - (read or 0) - (write or 0))}
    if write is not None:
        out["cache_creation_input_tokens"] = write
    if read is not None:
        out["cache_read_input_tokens"] = read
    out["output_tokens"] = usage.output_tokens
    if usage.reasoning_tokens is not None:
        out["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return out


# ------------------------------------------------------------------------ errors

_ERROR_TYPE_TO_KIND: dict[str, ir.ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "billing_error": "billing",
    "permission_error": "permission",
    "not_found_error": "not_found",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit",
    "api_error": "api_error",
    "overloaded_error": "overloaded",
    "timeout_error": "timeout",
}

# Anthropic has no "not implemented" error type: api_error with status 501 makes the
# SDK raise InternalServerError, which is what it raises for any 5xx it doesn't know.
_KIND_TO_ERROR_TYPE: dict[str, str] = {
    **{kind: etype for etype, kind in _ERROR_TYPE_TO_KIND.items()},
    "not_implemented": "api_error",
}

_KIND_STATUS: dict[str, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "billing": 402,
    "permission": 403,
    "not_found": 404,
    "request_too_large": 413,
    "rate_limit": 429,
    "api_error": 500,
    "not_implemented": 501,
    "overloaded": 529,
    "timeout": 504,
}


def error_to_ir(status: int | None, payload: object) -> ir.Error:
    """``payload`` is the decoded body, or the raw text when it was not JSON (a 413 from
    Cloudflare is HTML). An unknown ``error.type`` is kept in ``code``."""
    error = payload.get("error") if isinstance(payload, dict) else None
    etype = error.get("type") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    kind = _ERROR_TYPE_TO_KIND.get(etype) if isinstance(etype, str) else None
    if kind is None:
        kind = ir.error_kind_for_status(status) if status is not None else "api_error"
    if not isinstance(message, str):
        message = payload if isinstance(payload, str) and payload else f"HTTP {status}"
    code = etype if isinstance(etype, str) and etype not in _ERROR_TYPE_TO_KIND else None
    return ir.Error(
        kind=kind,
        message=message,
        status=status if status is not None else _KIND_STATUS[kind],
        code=code,
    )


def error_status(err: ir.Error) -> int:
    """The status the Anthropic SDK maps to the kind's exception class. A 4xx/5xx the
    table doesn't name (409, 422, 502...) is kept when it means the same kind."""
    if (
        err.kind in ("invalid_request", "api_error")
        and ir.error_kind_for_status(err.status) == err.kind
    ):
        return err.status
    return _KIND_STATUS[err.kind]


def error_body(err: ir.Error) -> dict:
    """Anthropic errors have no ``param`` field, so the field path leads the message."""
    message = f"{err.param}: {err.message}" if err.param else err.message
    return {"type": "error", "error": {"type": _KIND_TO_ERROR_TYPE[err.kind], "message": message}}


# ------------------------------------------------------- signatures and extensions

_FOREIGN_ORIGINS: dict[str, ir.Protocol] = {
    "gemini": "gemini",
    "openai_chat": "openai_chat",
    "openai_responses": "openai_responses",
}


def thinking_from_wire(text: str, signature: str) -> ir.Thinking:
    """A thinking block's signature is Anthropic's own unless it carries a foreign
    ``<protocol>:`` prefix (docs/extensions.md); ``""`` is a thought with no state."""
    prefix, sep, rest = signature.partition(":")
    origin = _FOREIGN_ORIGINS.get(prefix) if sep else None
    if origin is not None:
        return ir.Thinking(text=text, signature=rest or None, origin=origin)
    if not signature:
        return ir.Thinking(text=text)
    return ir.Thinking(text=text, signature=signature, origin=PROTOCOL)


def signature_to_wire(part: ir.Thinking) -> str:
    """Anthropic's own signature as is; another provider's with its ``<origin>:`` prefix,
    even when it has none, so the thought can go back to that provider."""
    if part.origin in (None, PROTOCOL):
        return part.signature or ""
    return f"{part.origin}:{part.signature or ''}"


def google_signature(block: dict) -> str | None:
    """Gemini thoughtSignature carried in ``extra_content.google.thought_signature``."""
    extra = block.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    sig = google.get("thought_signature") if isinstance(google, dict) else None
    return sig if isinstance(sig, str) else None


def add_google_signature(block: dict, signature: str | None) -> dict:
    if signature is not None:
        block["extra_content"] = {"google": {"thought_signature": signature}}
    return block


# ------------------------------------------------------------------------ parser

_DELTA_FIELDS: dict[str, tuple[str, str]] = {
    "text_delta": ("text", "text"),
    "input_json_delta": ("arguments", "partial_json"),
    "thinking_delta": ("thinking", "thinking"),
    "signature_delta": ("signature", "signature"),
}


def _fault(what: str) -> TranslationError:
    return TranslationError(f"the upstream sent a malformed {what}", kind="api_error")


def _index(data: dict, what: str) -> int:
    value = data.get("index")
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fault(what)
    return value


def _obj(data: dict, key: str, what: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise _fault(what)
    return value


def _text(data: dict, key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _fault(what)
    return value


class StreamParser:
    """Anthropic SSE bytes from the upstream -> IR events."""

    __slots__ = (
        "_blocks",
        "_delta_seen",
        "_done",
        "_next",
        "_open",
        "_seq",
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
        self._seq: str | None = None
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
            self._fail(out, exc.message)

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
        message = _obj(data, "message", "message_start")
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
                usage=usage_to_ir(usage) if isinstance(usage, dict) else None,
            )
        )

    def _block_start(self, data: dict, out: list[ir.Event]) -> None:
        self._ensure_started(out)
        index = _index(data, "content_block_start")
        block = _obj(data, "content_block", "content_block_start")
        if index in self._blocks:
            return
        part, deltas = _start_part(block)
        if part is None:
            self._blocks[index] = None
            return
        at = self._next
        self._next += 1
        self._blocks[index] = at
        self._open[at] = None
        out.append(ir.BlockStart(at, part))
        out.extend(
            ir.BlockDelta(at, kind, text) for kind, text in deltas if isinstance(text, str) and text
        )

    def _block_delta(self, data: dict, out: list[ir.Event]) -> None:
        at = self._blocks.get(_index(data, "content_block_delta"))
        delta = _obj(data, "delta", "content_block_delta")
        dtype = delta.get("type")
        spec = _DELTA_FIELDS.get(dtype) if isinstance(dtype, str) else None
        if at is None or at not in self._open or spec is None:
            return
        text = _text(delta, spec[1], "content_block_delta")
        if text:
            out.append(ir.BlockDelta(at, spec[0], text))

    def _block_stop(self, data: dict, out: list[ir.Event]) -> None:
        at = self._blocks.get(_index(data, "content_block_stop"))
        if at is not None and at in self._open:
            del self._open[at]
            out.append(ir.BlockStop(at))

    def _message_delta(self, data: dict, out: list[ir.Event]) -> None:
        self._ensure_started(out)
        self._delta_seen = True
        delta = data.get("delta")
        if isinstance(delta, dict):
            stop = delta.get("stop_reason")
            seq = delta.get("stop_sequence")
            self._stop = stop if isinstance(stop, str) else self._stop
            self._seq = seq if isinstance(seq, str) else None
        usage = data.get("usage")
        if isinstance(usage, dict):
            self._usage.update((k, v) for k, v in usage.items() if v is not None)

    def _message_stop(self, data: dict, out: list[ir.Event]) -> None:
        self._ensure_started(out)
        self._finish(out)

    def _error(self, data: dict, out: list[ir.Event]) -> None:
        out.append(ir.StreamError(error_to_ir(None, data)))
        self._done = True

    def _finish(self, out: list[ir.Event]) -> None:
        out.extend(ir.BlockStop(at) for at in self._open)
        self._open.clear()
        out.append(
            ir.Finish(
                stop_reason=stop_to_ir(self._stop),
                usage=usage_to_ir(self._usage) if self._usage else None,
                stop_sequence=self._seq,
                raw_stop_reason=self._stop,
            )
        )
        self._done = True


def _start_part(block: dict) -> tuple[ir.Text | ir.Thinking | ir.ToolCall | None, list]:
    """The IR part a ``content_block_start`` opens, and the (kind, text) deltas for
    content that arrived inside the opening block itself."""
    btype = block.get("type")
    if btype == "text":
        text = block.get("text")
        return ir.Text("", signature=google_signature(block)), [("text", text)]
    if btype == "thinking":
        deltas = [("thinking", block.get("thinking")), ("signature", block.get("signature"))]
        return ir.Thinking(origin=PROTOCOL), deltas
    if btype == "redacted_thinking":
        data = _text(block, "data", "redacted_thinking block")
        return ir.Thinking(redacted=data, origin=PROTOCOL), []
    if btype == "tool_use":
        call = ir.ToolCall(
            id=_text(block, "id", "tool_use block"),
            name=_text(block, "name", "tool_use block"),
            arguments="",
            signature=google_signature(block),
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
    """IR events -> Anthropic SSE bytes for an Anthropic caller."""

    __slots__ = (
        "_ctx",
        "_current",
        "_done",
        "_kinds",
        "_pending",
        "_same",
        "_signed",
        "_started",
        "_tool_used",
        "_usage",
        "_wire",
    )

    def __init__(self, ctx: ir.RenderContext) -> None:
        self._ctx = ctx
        self._same = ctx.source == PROTOCOL
        self._started = False
        self._done = False
        self._current: int | None = None  # IR index of the block open on the wire
        self._wire = 0  # Anthropic index of the next block opened on the wire
        self._kinds: dict[int, tuple[str, str]] = {}  # IR index -> (block kind, sig prefix)
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
                out.append(_frame("error", error_body(event.error)))
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
        return _frame("error", error_body(err))

    def _ensure_started(self, event: ir.Event, out: list[bytes]) -> None:
        if self._started:
            return
        self._started = True
        start = event if isinstance(event, ir.MessageStart) else ir.MessageStart("", "")
        self._usage = start.usage
        if start.usage is not None:
            usage = usage_from_ir(start.usage)
        else:
            usage = {"input_tokens": self._ctx.input_tokens_estimate, "output_tokens": 0}
        message = {
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
        stop = stop_from_ir(event.stop_reason, event.raw_stop_reason, self._same, self._tool_used)
        usage = event.usage or self._usage
        delta = {"stop_reason": stop, "stop_sequence": event.stop_sequence}
        body = usage_from_ir(usage) if usage is not None else {"output_tokens": 0}
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
        deltas: list[tuple[str, str | None]] = []
        prefix = ""
        if isinstance(part, ir.ToolCall):
            kind = "tool"
            block = {"type": "tool_use", "id": part.id, "name": part.name, "input": {}}
            add_google_signature(block, part.signature)
            deltas.append(("arguments", part.arguments))
            self._tool_used = True
        elif isinstance(part, ir.Thinking) and part.redacted is not None:
            kind = "redacted"
            block = {"type": "redacted_thinking", "data": part.redacted}
        elif isinstance(part, ir.Thinking):
            kind = "thinking"
            block = {"type": "thinking", "thinking": "", "signature": ""}
            if part.origin not in (None, PROTOCOL):
                prefix = f"{part.origin}:"
            deltas += [("thinking", part.text), ("signature", part.signature)]
        else:
            kind = "text"
            block = add_google_signature({"type": "text", "text": ""}, part.signature)
            deltas.append(("text", part.text))
        self._current = event.index
        self._kinds[event.index] = (kind, prefix)
        start = {"type": "content_block_start", "index": self._wire, "content_block": block}
        out.append(_frame("content_block_start", start))
        for dkind, text in deltas:
            if text:
                self._delta(event.index, dkind, text, out)

    def _delta(self, index: int, kind: str, text: str, out: list[bytes]) -> None:
        block_kind, prefix = self._kinds[index]
        if not text:
            return
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
        kind, prefix = (
            self._kinds.get(self._current, ("", "")) if self._current is not None else ("", "")
        )
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
