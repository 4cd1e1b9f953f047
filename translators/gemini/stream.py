"""``:streamGenerateContent``: Gemini stream bytes <-> IR events (docs/conversion.md §5).

Every chunk is a whole ``GenerateContentResponse`` holding only the *new* parts;
``usageMetadata`` is cumulative and repeated, ``finishReason`` comes on the last content
chunk, and function calls arrive whole (complete ``args``) in one part. With ``?alt=sse``
the chunks are ``data:`` frames ending in CRLF; without it the body is one JSON array
delivered incrementally.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import orjson

from translators import ir
from translators.errors import TranslationError
from translators.gemini.messages import render_call, render_thought
from translators.gemini.wire import (
    PROTOCOL,
    json_text,
    parse_error,
    parse_stop,
    parse_usage,
    render_error,
    render_stop,
    render_usage,
    synth_call_id,
)
from translators.sse import JSONArrayDecoder, SSEDecoder, SSEEvent

# A part with only these keys is text (or a thought); without ``text`` it is an empty text
# carrying a signature.
_TEXT_PART_KEYS = frozenset({"text", "thought", "thoughtSignature"})


def _stream_error(message: str, kind: ir.ErrorKind = "api_error") -> ir.StreamError:
    return ir.StreamError(ir.Error(kind=kind, message=message, status=ir.status_for_kind(kind)))


class StreamParser:
    """Gemini stream bytes -> IR events.

    The framing (SSE or JSON array) is read from the first non-blank byte. Only candidate
    0 is streamed: consecutive text parts form one Text block, thought parts one Thinking
    block, and a ``thoughtSignature`` is a ``signature`` delta on the current block (a
    Text block is opened for Gemini 3's trailing ``{"text":"","thoughtSignature":…}``).
    ``Finish`` comes from ``finish()``, at the end of the body, so that it carries the
    final cumulative usage.
    """

    __slots__ = (
        "_block",
        "_blocked",
        "_calls",
        "_decoder",
        "_done",
        "_id",
        "_index",
        "_parts_seen",
        "_pending",
        "_raw_finish",
        "_started",
        "_usage",
    )

    def __init__(self) -> None:
        self._decoder: SSEDecoder | JSONArrayDecoder | None = None
        self._pending = b""  # bytes before the first non-blank one picks the framing
        self._started = False
        self._done = False
        self._id = ""
        self._block: str | None = None  # "text" / "thinking" while such a block is open
        self._index = -1
        self._calls = 0
        self._parts_seen = 0
        self._raw_finish: str | None = None
        self._blocked = False
        self._usage: ir.Usage | None = None

    def feed(self, chunk: bytes) -> list[ir.Event]:
        if self._done:
            return []
        if self._decoder is None:
            chunk = self._pending + chunk
            first = chunk.lstrip()[:1]
            if not first:
                self._pending = chunk
                return []
            self._pending = b""
            if first == b"[":
                self._decoder = JSONArrayDecoder()
            elif first == b"{":  # a bare JSON error body: read it as a one-element array
                self._decoder = JSONArrayDecoder()
                self._decoder.feed(b"[")
            else:
                self._decoder = SSEDecoder()
        events: list[ir.Event] = []
        self._frames(self._decoder.feed(chunk), events)
        return events

    def finish(self) -> list[ir.Event]:
        """A body that ends without any ``finishReason`` was cut off (unless the prompt was
        blocked) and must not look like a complete answer: a StreamError."""
        if self._done:
            return []
        events: list[ir.Event] = []
        if self._decoder is not None:
            self._frames(self._decoder.finish(), events)
        if self._done:
            return events
        self._done = True
        if isinstance(self._decoder, JSONArrayDecoder) and self._decoder.incomplete:
            events.append(_stream_error("Gemini stream ended in the middle of a chunk"))
        elif not self._started:
            events.append(_stream_error("Gemini stream ended without any response"))
        elif self._raw_finish is None and not self._blocked:
            events.append(_stream_error("the upstream stream ended before its finishReason"))
        else:
            self._close(events)
            events.append(self._finish_event())
        return events

    def _finish_event(self) -> ir.Finish:
        raw = self._raw_finish
        if raw is None and self._blocked:
            stop: ir.StopReason | None = "content_filter"
        else:
            stop = parse_stop(raw, self._calls > 0) or "other"
        return ir.Finish(stop_reason=stop, usage=self._usage, raw_stop_reason=raw)

    def _frames(self, frames: list[SSEEvent] | list[bytes], events: list[ir.Event]) -> None:
        for frame in frames:
            if self._done:
                return
            self._chunk(frame.data if isinstance(frame, SSEEvent) else frame, events)

    def _chunk(self, payload: bytes, events: list[ir.Event]) -> None:
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            chunk = None
        if not isinstance(chunk, dict):
            self._fail(events, _stream_error("Gemini stream chunk is not a JSON object"))
            return
        if "error" in chunk:
            code = chunk["error"].get("code") if isinstance(chunk["error"], dict) else None
            status = code if isinstance(code, int) and not isinstance(code, bool) else 500
            self._fail(events, ir.StreamError(parse_error(status, chunk)))
            return
        if not self._started:
            self._start(chunk, events)
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            self._blocked = True
        # Usage first: it describes the state after this chunk, so a Gemini renderer
        # puts it on the chunk that carries these parts, as Gemini did.
        meta = chunk.get("usageMetadata")
        if isinstance(meta, dict):
            usage = parse_usage(meta)
            if usage != self._usage:
                self._usage = usage
                events.append(ir.UsageUpdate(usage))
        candidate = _first_candidate(chunk.get("candidates"))
        if candidate is not None:
            content = candidate.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in parts if isinstance(parts, list) else ():
                self._part(part, events)
                if self._done:
                    return
            raw = candidate.get("finishReason")
            if isinstance(raw, str):
                self._raw_finish = raw

    def _start(self, chunk: dict, events: list[ir.Event]) -> None:
        """``MessageStart`` carries ``responseId``/``modelVersion``, or ``""`` when Gemini
        sent none (Gemini 2.0 sends no id), and the prompt count as the input so far."""
        self._started = True
        rid = chunk.get("responseId")
        model = chunk.get("modelVersion")
        self._id = rid if isinstance(rid, str) else ""
        meta = chunk.get("usageMetadata")
        usage = None
        if isinstance(meta, dict) and "promptTokenCount" in meta:
            first = parse_usage(meta)
            usage = ir.Usage(
                input_tokens=first.input_tokens, cache_read_tokens=first.cache_read_tokens
            )
        model_name = model if isinstance(model, str) else ""
        events.append(ir.MessageStart(id=self._id, model=model_name, usage=usage))

    def _part(self, part: object, events: list[ir.Event]) -> None:
        """Parts no IR stream event can carry (``inlineData`` image output,
        ``executableCode``...) end the stream with a not_implemented StreamError."""
        self._parts_seen += 1
        if not isinstance(part, dict):
            self._fail(events, _stream_error("Gemini stream part is not an object"))
            return
        sig = part.get("thoughtSignature")
        sig = sig if isinstance(sig, str) and sig else None
        if "functionCall" in part:
            self._call(part["functionCall"], sig, events)
            return
        text = part.get("text")
        if text is None and part.keys() <= _TEXT_PART_KEYS:
            text = ""  # a signature-only part
        if not isinstance(text, str):
            name = next(iter(part.keys() - _TEXT_PART_KEYS), "text")
            message = f"Gemini stream part '{name}' cannot be translated"
            self._fail(events, _stream_error(message, "not_implemented"))
            return
        kind: Literal["thinking", "text"] = "thinking" if part.get("thought") is True else "text"
        if text:
            self._open(kind, events)
            events.append(ir.BlockDelta(self._index, kind, text))
        if sig is not None:
            self._open(kind, events)
            events.append(ir.BlockDelta(self._index, "signature", sig))

    def _call(self, fc: object, sig: str | None, events: list[ir.Event]) -> None:
        """One ToolCall block per ``functionCall``: BlockStart (arguments ``""``), one
        ``arguments`` delta with the whole ``args`` JSON (``{}`` when there are none, so a
        caller that parses the arguments gets valid JSON), BlockStop. Vertex AI's
        ``partialArgs`` fragments are refused."""
        if not isinstance(fc, dict) or fc.get("willContinue") is True or "partialArgs" in fc:
            message = "Vertex AI partial function-call arguments (partialArgs) are not supported"
            self._fail(events, _stream_error(message, "not_implemented"))
            return
        name = fc.get("name")
        args = fc.get("args", {})
        if not isinstance(name, str) or not name or not isinstance(args, dict | None):
            self._fail(events, _stream_error("Gemini stream functionCall has no name or args"))
            return
        try:
            text = json_text(args or {}, "functionCall.args")
        except TranslationError:
            self._fail(events, _stream_error("Gemini functionCall args cannot be encoded"))
            return
        call_id = fc.get("id")
        if not isinstance(call_id, str) or not call_id:
            call_id = synth_call_id(self._id, 0, self._parts_seen - 1, name, text)
        self._close(events)
        self._index += 1
        self._calls += 1
        index = self._index
        events.append(ir.BlockStart(index, ir.ToolCall(call_id, name, "", signature=sig)))
        events.append(ir.BlockDelta(index, "arguments", text))
        events.append(ir.BlockStop(index))

    def _open(self, kind: str, events: list[ir.Event]) -> None:
        if self._block == kind:
            return
        self._close(events)
        self._index += 1
        self._block = kind
        part = ir.Thinking(origin=PROTOCOL) if kind == "thinking" else ir.Text("")
        events.append(ir.BlockStart(self._index, part))

    def _close(self, events: list[ir.Event]) -> None:
        if self._block is not None:
            events.append(ir.BlockStop(self._index))
            self._block = None

    def _fail(self, events: list[ir.Event], error: ir.StreamError) -> None:
        events.append(error)
        self._done = True


def _first_candidate(candidates: object) -> dict | None:
    for cand in candidates if isinstance(candidates, list) else ():
        if isinstance(cand, dict) and cand.get("index", 0) == 0:
            return cand
    return None


# ------------------------------------------------------------------------ renderer


@dataclass(slots=True)
class _Block:
    """What the renderer keeps of an open block; a call's pieces until it is sent whole."""

    kind: str  # "text" / "thinking" / "call"
    origin: ir.Protocol | None = None
    call: ir.ToolCall | None = None
    args: list[str] = field(default_factory=list)
    signature: str | None = None


class StreamRenderer:
    """IR events -> Gemini stream bytes.

    One chunk per text or thinking delta. Tool calls are held until their BlockStop (or
    Finish) and sent as one whole ``functionCall`` part, because Gemini callers expect
    whole calls; invalid argument JSON becomes an in-stream error. Every chunk repeats the
    last known usage, ``modelVersion`` and ``responseId``; the final chunk carries
    ``finishReason`` and an empty text part (as Gemini 3 does), because the google-genai
    chat helper only records history when every chunk has content. JSON-array framing
    writes ``[``, elements joined by ``,\\r\\n``, and ``]`` after Finish/StreamError (or
    in ``finish()``).
    """

    __slots__ = ("_blocks", "_ctx", "_done", "_id", "_model", "_sent", "_sse", "_usage")

    def __init__(self, ctx: ir.RenderContext) -> None:
        self._ctx = ctx
        self._sse = ctx.framing != "json_array"
        self._sent = False  # JSON array: "[" already written
        self._done = False
        self._id = ""
        self._model = ctx.model
        self._usage: dict | None = None
        self._blocks: dict[int, _Block] = {}

    def render(self, events: list[ir.Event]) -> bytes:
        out: list[bytes] = []
        for event in events:
            if self._done:
                break
            self._event(event, out)
        return b"".join(out)

    def finish(self) -> bytes:
        if self._done or self._sse:
            return b""
        self._done = True
        return b"]" if self._sent else b"[]"

    def _event(self, ev: ir.Event, out: list[bytes]) -> None:
        if isinstance(ev, ir.BlockDelta):
            self._delta(ev, out)
        elif isinstance(ev, ir.BlockStart):
            self._start(ev, out)
        elif isinstance(ev, ir.BlockStop):
            block = self._blocks.pop(ev.index, None)
            if block is not None and block.call is not None:
                self._emit_call(block, out)
        elif isinstance(ev, ir.UsageUpdate):
            self._usage = render_usage(ev.usage)
        elif isinstance(ev, ir.MessageStart):
            self._id = ev.id
            self._model = ev.model or self._ctx.model
            if ev.usage is not None:
                self._usage = render_usage(ev.usage)
        elif isinstance(ev, ir.Finish):
            self._finish(ev, out)
        elif isinstance(ev, ir.StreamError):
            self._error(ev.error, out)

    def _start(self, ev: ir.BlockStart, out: list[bytes]) -> None:
        part = ev.part
        if isinstance(part, ir.ToolCall):
            args = [part.arguments] if part.arguments else []
            self._blocks[ev.index] = _Block("call", call=part, args=args, signature=part.signature)
        elif isinstance(part, ir.Thinking):
            self._blocks[ev.index] = _Block("thinking", origin=part.origin)
            if part.text or part.redacted is not None or part.signature:
                out.append(self._chunk([render_thought(part)]))
        else:
            self._blocks[ev.index] = _Block("text")
            if part.text:
                out.append(self._chunk([{"text": part.text}]))

    def _delta(self, ev: ir.BlockDelta, out: list[bytes]) -> None:
        block = self._blocks.get(ev.index)
        if block is None:
            return
        if ev.kind == "arguments":
            block.args.append(ev.text)
        elif block.call is not None:
            if ev.kind == "signature":
                block.signature = ev.text
        elif ev.kind == "signature":
            if block.kind == "thinking":
                thinking = ir.Thinking(signature=ev.text, origin=block.origin)
                out.append(self._chunk([render_thought(thinking)]))
            else:
                out.append(self._chunk([{"text": "", "thoughtSignature": ev.text}]))
        elif ev.text:
            if block.kind == "thinking":
                out.append(self._chunk([render_thought(ir.Thinking(ev.text))]))
            else:
                out.append(self._chunk([{"text": ev.text}]))

    def _emit_call(self, block: _Block, out: list[bytes]) -> None:
        """The call as it ends: the event's part is left as it came, a new one is sent."""
        assert block.call is not None
        call = dataclasses.replace(
            block.call, arguments="".join(block.args), signature=block.signature
        )
        try:
            part = render_call(call, "tool_call")
        except TranslationError as exc:
            self._error(exc.to_ir(), out)
            return
        out.append(self._chunk([part]))

    def _finish(self, ev: ir.Finish, out: list[bytes]) -> None:
        for index in sorted(self._blocks):
            block = self._blocks.pop(index)
            if block.call is not None:
                self._emit_call(block, out)
                if self._done:
                    return
        if ev.usage is not None:
            self._usage = render_usage(ev.usage)
        same_protocol = self._ctx.source == PROTOCOL
        reason = render_stop(ev.stop_reason, ev.raw_stop_reason, same_protocol) or "STOP"
        out.append(self._chunk([{"text": ""}], reason))
        self._close(out)

    def _error(self, err: ir.Error, out: list[bytes]) -> None:
        """An in-stream error is the error body without ``details``: google-genai
        recognises it by the leading ``{"error":``."""
        _, body = render_error(err)
        body["error"].pop("details", None)
        out.append(self._frame(orjson.dumps(body)))
        self._close(out)

    def _close(self, out: list[bytes]) -> None:
        self._done = True
        if not self._sse:
            out.append(b"]")

    def _chunk(self, parts: list[dict], finish: str | None = None) -> bytes:
        candidate: dict = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        body: dict = {"candidates": [candidate]}
        if self._usage is not None:
            body["usageMetadata"] = self._usage
        if self._model:
            body["modelVersion"] = self._model
        if self._id:
            body["responseId"] = self._id
        return self._frame(orjson.dumps(body))

    def _frame(self, data: bytes) -> bytes:
        # Gemini's own SSE uses CRLF; sse.encode_event writes LF, so frame here.
        if self._sse:
            return b"data: " + data + b"\r\n\r\n"
        prefix = b",\r\n" if self._sent else b"["
        self._sent = True
        return prefix + data
