"""Gemini streaming (``:streamGenerateContent``), and the wire vocabulary it shares with
the unary codec in ``gemini.py``.

The vocabulary (finish reasons, usage, error statuses, thought signatures, synthesized
call ids) lives here rather than in ``gemini.py`` so that the dependency runs one way:
``gemini.py`` imports this module and re-exports ``StreamParser``/``StreamRenderer``.

Stream shape (spec §4): every chunk is a whole ``GenerateContentResponse`` holding only
the *new* parts; ``usageMetadata`` is cumulative and repeated; ``finishReason`` comes on
the last content chunk; function calls arrive whole (complete ``args``) in one part.
With ``?alt=sse`` chunks are ``data:`` frames (CRLF); without it the body is one JSON
array delivered incrementally. The parser detects which from the first byte.

Parser decisions:

- ``MessageStart`` carries ``responseId``/``modelVersion``, or ``""`` when Gemini sent
  none (Gemini 2.0 sends no id): renderers of other formats seed ids from
  ``RenderContext.request_id``, as for unary responses.
- Only candidate 0 is streamed. Consecutive text parts form one Text block, thought parts
  one Thinking block. A ``thoughtSignature`` becomes a ``signature`` delta on the current
  block: on the Thinking block for thought parts, else on a Text block (opened if needed,
  e.g. Gemini 3's trailing ``{"text":"","thoughtSignature":…}``).
- Each ``functionCall`` part is one ToolCall block: BlockStart (arguments ``""``), one
  ``arguments`` delta with the whole ``args`` JSON (``{}`` when empty, PEER-BUGS #1),
  BlockStop. Calls without ``id`` (before Gemini 3) get ``gem_`` ids (docs/extensions.md).
- ``Finish`` is emitted by ``finish()``, at the end of the body, so that it carries the
  final cumulative usage; its stop reason is ``tool_use`` whenever a call was seen.
  A body that ends without any ``finishReason`` was cut off: a StreamError; a prompt
  blocked by ``promptFeedback.blockReason`` finishes with ``content_filter``.
- A payload with ``error``, invalid JSON, an empty body or a JSON array cut off
  mid-element become a ``StreamError``.

Dropped or refused when parsing a stream:

- Candidates other than index 0; ``safetyRatings``/``citationMetadata``/``finishMessage``
  and other candidate metadata (no stream event carries them).
- Parts other than text/thought/functionCall (``inlineData`` image output,
  ``executableCode``...) and Vertex-only ``partialArgs`` function-call fragments: a
  ``StreamError``, since no IR stream event can carry them.
- Mid-stream errors sent without a ``data:`` prefix (unverified in the spec) are not
  recognised by the SSE framing.

Renderer decisions (toward a Gemini caller):

- One chunk per text/thinking delta; tool calls are held until their BlockStop (or
  Finish) and sent as one whole ``functionCall`` part, because Gemini callers expect
  whole calls. Invalid argument JSON becomes an in-stream error.
- Every chunk repeats the last known usage, ``modelVersion`` and ``responseId``; the final
  chunk carries ``finishReason`` and an empty text part (as Gemini 3 does), because the
  google-genai chat helper only records history when every chunk has content.
- SSE frames end in CRLF like Gemini's own; JSON-array framing writes ``[``, elements
  joined by ``,\\r\\n``, and ``]`` after Finish/StreamError (or in ``finish()``).

Thought signatures of other providers (docs/extensions.md): the google-genai SDK
validates ``thoughtSignature`` as base64 bytes, so the literal ``anthropic:<sig>`` form
would make every SDK caller fail. Foreign state is therefore written as
``base64("<protocol>:<sig>")`` (``anthropic-redacted:<data>`` for redacted thinking), and
both that and the literal form are recognised when parsing. Real Gemini signatures are
base64 protobuf and never decode to those prefixes.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

import orjson

from translators import ir
from translators.errors import TranslationError
from translators.sse import JSONArrayDecoder, SSEDecoder, SSEEvent

PROTOCOL: ir.Protocol = "gemini"

# ------------------------------------------------------------------ finish reasons

_CONTENT_FILTER = (
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "IMAGE_OTHER",
)
_FINISH_REASONS: dict[str, ir.StopReason] = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "CONTINUATION": "max_tokens",
    **dict.fromkeys(_CONTENT_FILTER, "content_filter"),
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
}
_STOP_TO_FINISH: dict[str, str] = {
    "end_turn": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",
    "max_tokens": "MAX_TOKENS",
    "context_window": "MAX_TOKENS",
    "content_filter": "SAFETY",
}


def stop_reason(raw: str | None, has_call: bool) -> ir.StopReason | None:
    """IR stop reason of a Gemini ``finishReason``; calls turn STOP into tool_use."""
    if has_call and raw in (None, "STOP"):
        return "tool_use"
    if raw is None:
        return None
    return _FINISH_REASONS.get(raw, "other")


def finish_reason(stop: ir.StopReason | None, raw: str | None, own: bool) -> str | None:
    """Gemini ``finishReason``: the native value for Gemini data, else mapped (LANGUAGE,
    pause_turn, error and other all become OTHER)."""
    if own and raw:
        return raw
    if stop is None:
        return None
    return _STOP_TO_FINISH.get(stop, "OTHER")


# --------------------------------------------------------------------------- usage

_USAGE_COUNTS = frozenset(
    {
        "promptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "cachedContentTokenCount",
        "totalTokenCount",
    }
)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_usage(meta: dict) -> ir.Usage:
    """Inclusive IR usage: Gemini's thoughts are outside ``candidatesTokenCount`` and the
    tool-use prompt outside ``promptTokenCount``; cached tokens are already inside it."""
    thoughts = meta.get("thoughtsTokenCount")
    cached = meta.get("cachedContentTokenCount")
    return ir.Usage(
        input_tokens=_count(meta.get("promptTokenCount"))
        + _count(meta.get("toolUsePromptTokenCount")),
        output_tokens=_count(meta.get("candidatesTokenCount")) + _count(thoughts),
        cache_read_tokens=_count(cached) if cached is not None else None,
        reasoning_tokens=_count(thoughts) if thoughts is not None else None,
    )


def usage_details(meta: dict) -> dict:
    """The ``usageMetadata`` fields IR usage has no place for (modality breakdowns,
    ``toolUsePromptTokenCount``), kept so Gemini -> IR -> Gemini is the identity."""
    return {k: v for k, v in meta.items() if k not in _USAGE_COUNTS}


def render_usage(usage: ir.Usage, details: dict | None = None) -> dict:
    """``usageMetadata`` for IR usage; cache writes have no Gemini field and are only
    counted inside ``promptTokenCount`` (IR input is inclusive of them)."""
    tool_prompt = _count(details.get("toolUsePromptTokenCount")) if details else 0
    reasoning = usage.reasoning_tokens
    meta: dict = {
        "promptTokenCount": usage.input_tokens - tool_prompt,
        "candidatesTokenCount": max(usage.output_tokens - (reasoning or 0), 0),
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if reasoning is not None:
        meta["thoughtsTokenCount"] = reasoning
    if usage.cache_read_tokens is not None:
        meta["cachedContentTokenCount"] = usage.cache_read_tokens
    if details:
        meta.update(details)
    return meta


# ----------------------------------------------------------------------------- ids


def synth_call_id(*key: object) -> str:
    """Stable ``gem_`` id for a call Gemini gave no id (docs/extensions.md)."""
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode()).hexdigest()
    return "gem_" + digest[:16]


def is_synth_id(call_id: str) -> bool:
    return call_id.startswith("gem_")


# ---------------------------------------------------------------------- signatures

_FOREIGN_ORIGINS: dict[str, ir.Protocol] = {
    "anthropic": "anthropic",
    "openai_chat": "openai_chat",
    "openai_responses": "openai_responses",
}
_REDACTED = "anthropic-redacted"
_FOREIGN_HEADS = (b"anthropic", b"openai_")
_URLSAFE = str.maketrans("-_", "+/")


def _b64decode(text: str) -> bytes | None:
    """Standard or URL-safe base64 (the google-genai SDK re-encodes URL-safe)."""
    try:
        return base64.b64decode(text.translate(_URLSAFE) + "=" * (-len(text) % 4))
    except ValueError:
        return None


def split_signature(sig: str) -> tuple[ir.Protocol, str | None, str | None]:
    """``(origin, signature, redacted)`` of a ``thoughtSignature`` on a thought part."""
    text = sig
    if ":" not in sig:
        head = _b64decode(sig[:28])
        if head is None or not head.startswith(_FOREIGN_HEADS):
            return PROTOCOL, sig, None
        raw = _b64decode(sig)
        try:
            text = raw.decode() if raw is not None else ""
        except UnicodeDecodeError:
            return PROTOCOL, sig, None
    prefix, _, rest = text.partition(":")
    if prefix == _REDACTED:
        return "anthropic", None, rest
    origin = _FOREIGN_ORIGINS.get(prefix)
    if origin is None:
        return PROTOCOL, sig, None
    return origin, rest or None, None


def thinking_from(text: str, sig: str | None) -> ir.Thinking:
    if sig is None:
        return ir.Thinking(text=text, origin=PROTOCOL)
    origin, signature, redacted = split_signature(sig)
    return ir.Thinking(text=text, signature=signature, redacted=redacted, origin=origin)


def _foreign(prefix: str, value: str) -> str:
    return base64.b64encode(f"{prefix}:{value}".encode()).decode()


def thought_signature(thinking: ir.Thinking) -> str | None:
    """``thoughtSignature`` for IR thinking shown to a Gemini caller (see module doc)."""
    if thinking.redacted is not None:
        return _foreign(_REDACTED, thinking.redacted)
    if thinking.origin in (None, PROTOCOL):
        return thinking.signature or None  # "" is how other formats say "Gemini gave none"
    return _foreign(thinking.origin, thinking.signature or "")


def thought_part(thinking: ir.Thinking) -> dict:
    part: dict = {"text": thinking.text, "thought": True}
    sig = thought_signature(thinking)
    if sig is not None:
        part["thoughtSignature"] = sig
    return part


def call_part(call: ir.ToolCall, param: str) -> dict:
    """A ``functionCall`` part; ``gem_`` ids are never shown to Gemini (extensions.md)."""
    fc: dict = {"name": call.name, "args": call_args(call.arguments, param)}
    if call.id and not is_synth_id(call.id):
        fc["id"] = call.id
    part: dict = {"functionCall": fc}
    if call.signature:
        part["thoughtSignature"] = call.signature
    return part


def call_args(arguments: str, param: str) -> dict:
    """Gemini ``args`` must be a JSON object; IR arguments are JSON text ("" = none)."""
    if not arguments.strip():
        return {}
    try:
        args = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        raise TranslationError(
            "tool call arguments are not valid JSON", param=param + ".arguments"
        ) from None
    if not isinstance(args, dict):
        raise TranslationError("tool call arguments must be a JSON object", param=param)
    return args


# -------------------------------------------------------------------------- errors

_STATUS_KINDS: dict[str, ir.ErrorKind] = {
    "INVALID_ARGUMENT": "invalid_request",
    "FAILED_PRECONDITION": "invalid_request",
    "OUT_OF_RANGE": "invalid_request",
    "ALREADY_EXISTS": "invalid_request",
    "UNAUTHENTICATED": "authentication",
    "PERMISSION_DENIED": "permission",
    "NOT_FOUND": "not_found",
    "RESOURCE_EXHAUSTED": "rate_limit",
    "INTERNAL": "api_error",
    "UNKNOWN": "api_error",
    "DATA_LOSS": "api_error",
    "ABORTED": "api_error",
    "CANCELLED": "api_error",
    "UNIMPLEMENTED": "not_implemented",
    "UNAVAILABLE": "overloaded",
    "DEADLINE_EXCEEDED": "timeout",
}
_KIND_HTTP: dict[ir.ErrorKind, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "billing": 402,
    "permission": 403,
    "not_found": 404,
    "request_too_large": 413,
    "rate_limit": 429,
    "api_error": 500,
    "not_implemented": 501,
    "overloaded": 503,
    "timeout": 504,
}
# What a Gemini caller receives per kind. Gemini has no 402/413: billing is the
# FAILED_PRECONDITION Google uses for "billing not enabled", and an oversized payload
# is the 400 INVALID_ARGUMENT Gemini itself returns.
_KIND_STATUS: dict[ir.ErrorKind, tuple[int, str]] = {
    "invalid_request": (400, "INVALID_ARGUMENT"),
    "authentication": (401, "UNAUTHENTICATED"),
    "billing": (400, "FAILED_PRECONDITION"),
    "permission": (403, "PERMISSION_DENIED"),
    "not_found": (404, "NOT_FOUND"),
    "request_too_large": (400, "INVALID_ARGUMENT"),
    "rate_limit": (429, "RESOURCE_EXHAUSTED"),
    "api_error": (500, "INTERNAL"),
    "not_implemented": (501, "UNIMPLEMENTED"),
    "overloaded": (503, "UNAVAILABLE"),
    "timeout": (504, "DEADLINE_EXCEEDED"),
}
_STATUS_HTTP = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def parse_error(status: int, body: object) -> ir.Error:
    """IR error of a ``google.rpc.Status`` body. An invalid API key is a 400
    INVALID_ARGUMENT on Gemini; its ErrorInfo reason makes it ``authentication``."""
    if isinstance(body, bytes | str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            body = {}
    if isinstance(body, list) and body:  # non-SSE streams wrap the error in an array
        body = body[0]
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {}
    name = err.get("status") if isinstance(err.get("status"), str) else None
    message = err.get("message") if isinstance(err.get("message"), str) else ""
    reason, param = _details(err.get("details"))
    kind = _STATUS_KINDS.get(name or "") or ir.error_kind_for_status(status)
    if reason in _AUTH_REASONS:
        kind = "authentication"
    return ir.Error(
        kind=kind,
        message=message or f"Gemini error {status}",
        status=_KIND_HTTP[kind],
        param=param,
        code=reason or name,
    )


def _details(details: object) -> tuple[str | None, str | None]:
    """ErrorInfo reason and the first BadRequest field violation, when present."""
    reason = param = None
    for item in details if isinstance(details, list) else ():
        if not isinstance(item, dict):
            continue
        if item.get("@type") == _ERROR_INFO and isinstance(item.get("reason"), str):
            reason = item["reason"]
        violations = item.get("fieldViolations")
        if item.get("@type") == _BAD_REQUEST and isinstance(violations, list) and violations:
            first = violations[0]
            if isinstance(first, dict) and isinstance(first.get("field"), str):
                param = first["field"]
    return reason, param


def render_error(err: ir.Error) -> tuple[int, dict]:
    """``(status, google.rpc.Status body)``: google-genai raises ClientError for 4xx and
    ServerError for 5xx with this body. A Gemini status name or ErrorInfo reason in
    ``err.code`` is reproduced; ``param`` goes into the message and a BadRequest detail."""
    code, status = _KIND_STATUS[err.kind]
    details: list[dict] = []
    if err.code in _STATUS_HTTP:
        code, status = _STATUS_HTTP[err.code], err.code
    elif err.code and err.code.isupper():
        details.append({"@type": _ERROR_INFO, "reason": err.code, "domain": "googleapis.com"})
        if err.code in _AUTH_REASONS:
            code, status = 400, "INVALID_ARGUMENT"
    message = err.message
    if err.param:
        if err.param not in message:
            message = f"{message} (param: {err.param})"
        violation = {"field": err.param, "description": err.message}
        details.append({"@type": _BAD_REQUEST, "fieldViolations": [violation]})
    body: dict = {"code": code, "message": message, "status": status}
    if details:
        body["details"] = details
    return code, {"error": body}


# -------------------------------------------------------------------------- parser


def _stream_error(message: str, kind: ir.ErrorKind = "api_error") -> ir.StreamError:
    return ir.StreamError(ir.Error(kind=kind, message=message, status=_KIND_HTTP[kind]))


class StreamParser:
    """Gemini stream bytes -> IR events (see the module docstring for the rules)."""

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

    def feed(self, data: bytes) -> list[ir.Event]:
        if self._done:
            return []
        if self._decoder is None:
            data = self._pending + data
            first = data.lstrip()[:1]
            if not first:
                self._pending = data
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
        self._frames(self._decoder.feed(data), events)
        return events

    def finish(self) -> list[ir.Event]:
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
            # Gemini puts finishReason on its last chunk; a body that ends without one was
            # cut off, and must not look like a complete answer.
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
            stop = stop_reason(raw, self._calls > 0) or "other"
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
            kind = next(iter(part.keys() - _TEXT_PART_KEYS), "text")
            message = f"Gemini stream part '{kind}' cannot be translated"
            self._fail(events, _stream_error(message, "not_implemented"))
            return
        kind = "thinking" if part.get("thought") is True else "text"
        if text:
            self._open(kind, events)
            events.append(ir.BlockDelta(self._index, kind, text))
        if sig is not None:
            self._open(kind, events)
            events.append(ir.BlockDelta(self._index, "signature", sig))

    def _call(self, fc: object, sig: str | None, events: list[ir.Event]) -> None:
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
            text = orjson.dumps(args or {}).decode()
        except orjson.JSONEncodeError:
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


_TEXT_PART_KEYS = frozenset({"text", "thought", "thoughtSignature"})


def _first_candidate(candidates: object) -> dict | None:
    for cand in candidates if isinstance(candidates, list) else ():
        if isinstance(cand, dict) and cand.get("index", 0) == 0:
            return cand
    return None


# ------------------------------------------------------------------------ renderer


@dataclass(slots=True)
class _Block:
    kind: str  # "text" / "thinking" / "call"
    origin: ir.Protocol | None = None
    call: ir.ToolCall | None = None
    args: list[str] = field(default_factory=list)


class StreamRenderer:
    """IR events -> Gemini stream bytes (see the module docstring for the rules)."""

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
            self._blocks[ev.index] = _Block("call", call=part, args=args)
        elif isinstance(part, ir.Thinking):
            self._blocks[ev.index] = _Block("thinking", origin=part.origin)
            if part.text or part.redacted is not None or part.signature:
                out.append(self._chunk([thought_part(part)]))
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
                block.call.signature = ev.text
        elif ev.kind == "signature":
            if block.kind == "thinking":
                thinking = ir.Thinking(signature=ev.text, origin=block.origin)
                out.append(self._chunk([thought_part(thinking)]))
            else:
                out.append(self._chunk([{"text": "", "thoughtSignature": ev.text}]))
        elif ev.text:
            part = (
                {"text": ev.text, "thought": True}
                if block.kind == "thinking"
                else {"text": ev.text}
            )
            out.append(self._chunk([part]))

    def _emit_call(self, block: _Block, out: list[bytes]) -> None:
        call = block.call
        assert call is not None
        call.arguments = "".join(block.args)
        try:
            part = call_part(call, "tool_call")
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
        own = self._ctx.source == PROTOCOL
        reason = finish_reason(ev.stop_reason, ev.raw_stop_reason, own) or "STOP"
        out.append(self._chunk([{"text": ""}], reason))
        self._close(out)

    def _error(self, err: ir.Error, out: list[bytes]) -> None:
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
