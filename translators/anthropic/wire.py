"""The Anthropic vocabulary whole bodies and streams share: stop reasons, usage, errors,
and the signatures that carry other providers' state (docs/extensions.md).

``parse_*`` reads the wire into IR, ``render_*`` writes IR onto the wire.
"""

from __future__ import annotations

import re

import orjson

from translators import extensions, fields, ir

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
_STOP_FROM_IR: dict[ir.StopReason, str] = {
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


def parse_stop(raw: str | None) -> ir.StopReason | None:
    """An Anthropic ``stop_reason``; one added after this was written is ``other``."""
    if raw is None:
        return None
    return _STOP_TO_IR.get(raw, "other")


def render_stop(
    stop: ir.StopReason | None, raw: str | None, same_protocol: bool, has_tool_call: bool
) -> str:
    """The native value for Anthropic upstreams; otherwise mapped, and ``tool_use`` when
    the answer calls tools but the upstream said "end" (Gemini always says STOP)."""
    if same_protocol and raw is not None:
        return raw
    if has_tool_call and stop in (None, "end_turn", "other"):
        return "tool_use"
    return _STOP_FROM_IR[stop or "end_turn"]


# ------------------------------------------------------------------------- usage


def parse_usage(usage: dict) -> ir.Usage:
    """Anthropic's ``input_tokens`` excludes cache reads and writes; IR's includes them."""
    read = fields.count(usage.get("cache_read_input_tokens"))
    write = fields.count(usage.get("cache_creation_input_tokens"))
    details = usage.get("output_tokens_details")
    reasoning = fields.count(details.get("thinking_tokens")) if isinstance(details, dict) else None
    return ir.Usage(
        input_tokens=(fields.count(usage.get("input_tokens")) or 0) + (read or 0) + (write or 0),
        output_tokens=fields.count(usage.get("output_tokens")) or 0,
        cache_read_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=reasoning,
    )


def render_usage(usage: ir.Usage) -> dict:
    """Back to Anthropic's exclusive ``input_tokens``, never negative (another provider
    may count cached tokens that its input count does not include)."""
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
_KIND_TO_ERROR_TYPE: dict[ir.ErrorKind, str] = {
    **{kind: etype for etype, kind in _ERROR_TYPE_TO_KIND.items()},
    "not_implemented": "api_error",
}

# Where Anthropic differs from ir.STATUS_BY_KIND: overloaded is its own 529, which the
# SDK raises as OverloadedError.
_STATUS_OVERRIDES: dict[ir.ErrorKind, int] = {"overloaded": 529}


def parse_error(status: int | None, body: object) -> ir.Error:
    """An Anthropic error body (``{"type":"error","error":{"type","message"}}``), decoded
    or raw (a 413 from Cloudflare is HTML, not JSON); ``status`` is None in a stream.

    ``error.type`` decides the kind, then the status; an unknown type is kept in
    ``code``. Anthropic's ``request_id`` has no IR field and is not kept."""
    payload = body
    if isinstance(body, bytes | bytearray | str):
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            text = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
            payload = text.strip()
    error = payload.get("error") if isinstance(payload, dict) else None
    etype = error.get("type") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    kind = _ERROR_TYPE_TO_KIND.get(etype) if isinstance(etype, str) else None
    if kind is None:
        kind = ir.error_kind_for_status(status) if status is not None else "api_error"
    if not isinstance(message, str):
        message = payload if isinstance(payload, str) and payload else f"HTTP {status}"
    code = etype if isinstance(etype, str) and etype not in _ERROR_TYPE_TO_KIND else None
    if status is None:
        status = ir.status_for_kind(kind, _STATUS_OVERRIDES)
    return ir.Error(kind=kind, message=message, status=status, code=code)


def render_error(err: ir.Error) -> tuple[int, dict]:
    """``(status, body)``: the status the Anthropic SDK maps to the kind's exception class.
    A 4xx/5xx the table doesn't name (409, 422, 502...) is kept when it means the same
    kind. Anthropic errors have no ``param`` field, so the message names the field: it
    is prefixed with ``<param>: `` unless it already names it."""
    if (
        err.kind in ("invalid_request", "api_error")
        and ir.error_kind_for_status(err.status) == err.kind
    ):
        status = err.status
    else:
        status = ir.status_for_kind(err.kind, _STATUS_OVERRIDES)
    message = err.message
    if err.param and not _names(message, err.param):
        message = f"{err.param}: {message}"
    body = {"type": "error", "error": {"type": _KIND_TO_ERROR_TYPE[err.kind], "message": message}}
    return status, body


def _names(message: str, at: str) -> bool:
    """Whether ``message`` names the field at ``at`` (``n`` is not named by "none", nor
    ``name`` by ``tool_choice.name``)."""
    return re.search(rf"(?<![\w.]){re.escape(at)}(?!\w)", message) is not None


# ------------------------------------------------------- signatures and extensions


def parse_signature(signature: str) -> tuple[str | None, ir.Protocol | None]:
    """A thinking block's ``(signature, origin)``: Anthropic's own unless it carries a
    foreign ``<protocol>:`` prefix, which another provider's thought has (an empty rest:
    unsigned); ``""`` is a thought with no state."""
    marked = extensions.split_origin(signature)
    if marked is not None and marked[0] != PROTOCOL:
        origin, rest = marked
        return rest or None, origin
    if not signature:
        return None, None
    return signature, PROTOCOL


def render_signature(signature: str | None, origin: ir.Protocol | None) -> str:
    """Anthropic's own signature as is; another provider's with its ``<origin>:`` prefix,
    even when it has none, so the thought can go back to that provider."""
    if origin in (None, PROTOCOL):
        return signature or ""
    return extensions.mark_origin(origin, signature)


def parse_google_signature(block: dict) -> str | None:
    """A Gemini thoughtSignature carried in ``extra_content.google.thought_signature`` of
    a text or tool_use block."""
    return extensions.parse_google_extra(block.get("extra_content"))


def render_google_signature(block: dict, signature: str | None) -> dict:
    """``block`` with the Gemini thoughtSignature in its extension field, for a caller."""
    if signature is not None:
        block["extra_content"] = extensions.render_google_extra(signature)
    return block
