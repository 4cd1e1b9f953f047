"""The Gemini vocabulary that whole bodies and streams share.

Field forms the server accepts, finish reasons, usage, ``google.rpc.Status`` errors,
thought signatures and the ``gem_`` call ids; the mappings themselves are tabled in
docs/conversion.md (§4 stop reasons and usage, §6 errors) and docs/extensions.md.
"""

from __future__ import annotations

import base64
import hashlib

import orjson

from translators import extensions, fields, ir

PROTOCOL: ir.Protocol = "gemini"

# ------------------------------------------------------------------ field forms


def camel(name: str) -> str:
    """``function_declarations`` -> ``functionDeclarations``; camelCase stays as it is."""
    if "_" not in name or not name[:1].islower():
        return name
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def camel_obj(value: object, at: str) -> dict:
    """A shallow camelCase view of an object (the value itself is not modified): Gemini's
    server takes the proto snake_case names too, and rendering always writes camelCase."""
    return {camel(k): v for k, v in fields.obj(value, at).items()}


def listed(value: object, at: str) -> list:
    """An array; a lone object counts as a one-element array, as Gemini's server allows
    (``"contents": {…}``, ``"parts": {…}``)."""
    if isinstance(value, dict):
        return [value]
    return fields.arr(value, at)


def json_text(value: object, at: str) -> str:
    """JSON text of a value Gemini sent as an object (call ``args``, a response)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        raise fields.fail(at, "cannot be encoded as JSON") from None


# Models before Gemini 3 have no ``thinkingLevel`` and do not validate thought signatures.
_BEFORE_GEMINI3 = ("gemini-1", "gemini-2", "gemma")


def before_gemini3(model: str) -> bool:
    return model.removeprefix("models/").startswith(_BEFORE_GEMINI3)


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
_STOP_BY_FINISH: dict[str, ir.StopReason] = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "CONTINUATION": "max_tokens",
    **dict.fromkeys(_CONTENT_FILTER, "content_filter"),
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
}
_FINISH_BY_STOP: dict[str, str] = {
    "end_turn": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",
    "max_tokens": "MAX_TOKENS",
    "context_window": "MAX_TOKENS",
    "content_filter": "SAFETY",
}


def parse_stop(raw: str | None, has_call: bool) -> ir.StopReason | None:
    """IR stop reason of a ``finishReason``. Gemini has no tool-use reason: a candidate
    with calls that ends with STOP (or no reason) asks for tool results."""
    if has_call and raw in (None, "STOP"):
        return "tool_use"
    if raw is None:
        return None
    return _STOP_BY_FINISH.get(raw, "other")


def render_stop(stop: ir.StopReason | None, raw: str | None, same_protocol: bool) -> str | None:
    """``finishReason``: Gemini's own value back to a Gemini caller, else mapped (pause_turn,
    error and other all become OTHER)."""
    if same_protocol and raw:
        return raw
    if stop is None:
        return None
    return _FINISH_BY_STOP.get(stop, "OTHER")


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
    return fields.count(value) or 0


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
    """``usageMetadata`` for IR usage; cache writes have no Gemini field and stay counted
    inside ``promptTokenCount`` (IR input includes them)."""
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


# ------------------------------------------------------------------------ call ids

_SYNTH = "gem_"


def synth_call_id(*key: object) -> str:
    """A stable id for a call Gemini gave none (models before Gemini 3): ``gem_`` + 16 hex
    digits of a hash over where the call is and what it says (docs/extensions.md)."""
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode()).hexdigest()
    return _SYNTH + digest[:16]


def is_synth_id(call_id: str) -> bool:
    """A ``gem_`` id is the gateway's own and is never written to Gemini."""
    return call_id.startswith(_SYNTH)


# ---------------------------------------------------------------------- signatures
# Thinking of another provider reaches a Gemini caller as a thought part whose signature
# is base64("<origin>:<signature>") (base64("anthropic-redacted:<data>") for redacted
# thinking): the google-genai SDK validates thoughtSignature as base64 bytes, so the
# literal "anthropic:<sig>" would make every SDK caller fail. Both forms are read back.
# Real Gemini signatures are base64 protobuf and never decode to these prefixes.

_REDACTED = "anthropic-redacted"
_FOREIGN_HEADS = (b"anthropic", b"openai_")
_URLSAFE = str.maketrans("-_", "+/")


def standard_base64(data: str) -> str:
    """The google-genai SDK sends URL-safe base64; the IR holds the standard alphabet."""
    return data.translate(_URLSAFE) if "-" in data or "_" in data else data


def _b64decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(standard_base64(text) + "=" * (-len(text) % 4))
    except ValueError:
        return None


def parse_signature(sig: str) -> tuple[ir.Protocol, str | None, str | None]:
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
    marked = extensions.split_origin(text)
    if marked is None or marked[0] == PROTOCOL:
        return PROTOCOL, sig, None
    return marked[0], marked[1] or None, None


def _foreign(marked: str) -> str:
    return base64.b64encode(marked.encode()).decode()


def render_signature(thinking: ir.Thinking) -> str | None:
    """The ``thoughtSignature`` of IR thinking shown to a Gemini caller."""
    if thinking.redacted is not None:
        return _foreign(f"{_REDACTED}:{thinking.redacted}")
    if thinking.origin in (None, PROTOCOL):
        return thinking.signature or None  # "" is how other formats say "Gemini gave none"
    return _foreign(extensions.mark_origin(thinking.origin, thinking.signature))


# -------------------------------------------------------------------------- errors
# google.rpc.Status names: the kind each one means, and the HTTP code Google sends with it.

_KIND_BY_NAME: dict[str, ir.ErrorKind] = {
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
_HTTP_BY_NAME = {
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
# What a Gemini caller receives per kind. Gemini has no 402/413: billing is the
# FAILED_PRECONDITION Google uses for "billing not enabled", and an oversized payload is
# the 400 INVALID_ARGUMENT Gemini itself returns.
_NAME_BY_KIND: dict[ir.ErrorKind, str] = {
    "invalid_request": "INVALID_ARGUMENT",
    "authentication": "UNAUTHENTICATED",
    "billing": "FAILED_PRECONDITION",
    "permission": "PERMISSION_DENIED",
    "not_found": "NOT_FOUND",
    "request_too_large": "INVALID_ARGUMENT",
    "rate_limit": "RESOURCE_EXHAUSTED",
    "api_error": "INTERNAL",
    "not_implemented": "UNIMPLEMENTED",
    "overloaded": "UNAVAILABLE",
    "timeout": "DEADLINE_EXCEEDED",
}
STATUS_OVERRIDES: dict[ir.ErrorKind, int] = {"billing": 400, "request_too_large": 400}
# An invalid key is a 400 INVALID_ARGUMENT on Gemini; its ErrorInfo reason says what it is.
_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def parse_error(status: int, body: object) -> ir.Error:
    """IR error of a ``google.rpc.Status`` body (also wrapped in a one-element array, as
    non-SSE streams send it): the status name decides the kind, else the HTTP status; an
    ``API_KEY_*`` reason makes it ``authentication``."""
    if isinstance(body, bytes | str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            body = {}
    if isinstance(body, list) and body:
        body = body[0]
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {}
    name = err.get("status") if isinstance(err.get("status"), str) else None
    message = err.get("message") if isinstance(err.get("message"), str) else ""
    reason, param = _details(err.get("details"))
    kind = _KIND_BY_NAME.get(name or "") or ir.error_kind_for_status(status)
    if reason in _AUTH_REASONS:
        kind = "authentication"
    return ir.Error(
        kind=kind,
        message=message or f"Gemini error {status}",
        status=ir.status_for_kind(kind),
        param=param,
        code=reason or name,
        retry_after=_retry_delay(err.get("details")),
    )


def _retry_delay(details: object) -> float | None:
    """RetryInfo's ``retryDelay`` ("34s", "1.5s"), which a 429 from Gemini carries in its
    body where other providers send a ``retry-after`` header."""
    for item in details if isinstance(details, list) else ():
        if isinstance(item, dict) and item.get("@type") == _RETRY_INFO:
            delay = item.get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    seconds = float(delay[:-1])
                except ValueError:
                    return None
                return seconds if seconds >= 0 else None
    return None


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
    code = ir.status_for_kind(err.kind, STATUS_OVERRIDES)
    name = _NAME_BY_KIND[err.kind]
    details: list[dict] = []
    if err.code in _HTTP_BY_NAME:
        code, name = _HTTP_BY_NAME[err.code], err.code
    elif err.code and err.code.isupper():
        details.append({"@type": _ERROR_INFO, "reason": err.code, "domain": "googleapis.com"})
        if err.code in _AUTH_REASONS:
            code, name = 400, "INVALID_ARGUMENT"
    message = err.message
    if err.param:
        if err.param not in message:
            message = f"{message} (param: {err.param})"
        violation = {"field": err.param, "description": err.message}
        details.append({"@type": _BAD_REQUEST, "fieldViolations": [violation]})
    if err.retry_after is not None:
        details.append({"@type": _RETRY_INFO, "retryDelay": f"{err.retry_after:g}s"})
    body: dict = {"code": code, "message": message, "status": name}
    if details:
        body["details"] = details
    return code, {"error": body}
