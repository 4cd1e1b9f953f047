"""The OpenAI Chat vocabulary that whole bodies and streams share.

``finish_reason``, the usage object, the error object, and the places the gateway keeps
another provider's state (LiteLLM's ``thinking_blocks`` signatures, Google's
``extra_content``) look the same in a ``chat.completion`` and in its chunks.
``parse_*`` reads the wire form into the IR, ``render_*`` writes it back.
"""

from __future__ import annotations

from translators import extensions, fields, ir
from translators.errors import TranslationError

PROTOCOL: ir.Protocol = "openai_chat"

# Keys of ``extra`` dicts that start with this are the codec's own notes on the caller's
# form (e.g. "max_tokens was used"), never wire fields.
MARK = "openai_chat:"


def parse_created(value: object) -> int | None:
    """``created``: a value that is not a 64-bit integer is replaced by the gateway's
    clock, not refused (nor left for the JSON encoder to fail on)."""
    if type(value) is not int:
        return None
    try:
        return fields.integer(value, "created")
    except TranslationError:
        return None


# ------------------------------------------------------------------------ stop reasons

_STOP_BY_FINISH: dict[str, ir.StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "content_filter",
    "function_call": "tool_use",
}

_FINISH_BY_STOP: dict[ir.StopReason, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "pause_turn": "stop",
    "context_window": "length",
    "error": "stop",
    "other": "stop",
}

_CUT_OFF_OR_FILTERED = ("max_tokens", "context_window", "content_filter")


def parse_stop(
    finish_reason: str | None, *, has_tool_call: bool, refused: bool
) -> ir.StopReason | None:
    """``finish_reason`` -> IR. A choice holding tool calls asks for results, whatever an
    OpenAI-compatible server said (OpenAI says ``stop`` for a forced call), unless the
    output was cut off; a refusal that ended normally was a content filter."""
    reason = None if finish_reason is None else _STOP_BY_FINISH.get(finish_reason, "other")
    if has_tool_call and reason in (None, "end_turn"):
        return "tool_use"
    if refused and reason == "end_turn":
        return "content_filter"
    return reason


def render_stop(
    stop_reason: ir.StopReason | None,
    raw: str | None,
    *,
    same_protocol: bool,
    has_tool_call: bool,
) -> str:
    """IR -> ``finish_reason``. The native value goes back verbatim to its own protocol;
    anything else is mapped. Tool calls say ``tool_calls`` unless the output was cut off
    or filtered: a truncated call's arguments are not safe to run."""
    if same_protocol and raw is not None:
        return raw
    if has_tool_call and stop_reason not in _CUT_OFF_OR_FILTERED:
        return "tool_calls"
    return _FINISH_BY_STOP.get(stop_reason or "end_turn", "stop")


# ------------------------------------------------------------------------------- usage


def parse_usage(usage: object, at: str = "usage") -> ir.Usage:
    """OpenAI counts are already inclusive (cached within prompt, reasoning within
    completion), so they map one to one. DeepSeek reports cache hits as
    ``prompt_cache_hit_tokens`` instead of ``prompt_tokens_details.cached_tokens``."""
    usage = fields.obj(usage, at)
    prompt_at = fields.child(at, "prompt_tokens_details")
    prompt = fields.get(usage, "prompt_tokens_details", fields.obj, at) or {}
    completion_at = fields.child(at, "completion_tokens_details")
    completion = fields.get(usage, "completion_tokens_details", fields.obj, at) or {}
    cache_read = fields.get(prompt, "cached_tokens", fields.integer, prompt_at)
    if cache_read is None:
        cache_read = fields.get(usage, "prompt_cache_hit_tokens", fields.integer, at)
    return ir.Usage(
        input_tokens=fields.get(usage, "prompt_tokens", fields.integer, at) or 0,
        output_tokens=fields.get(usage, "completion_tokens", fields.integer, at) or 0,
        cache_read_tokens=cache_read,
        cache_write_tokens=fields.get(prompt, "cache_write_tokens", fields.integer, prompt_at),
        reasoning_tokens=fields.get(completion, "reasoning_tokens", fields.integer, completion_at),
    )


def render_usage(usage: ir.Usage, base: dict | None = None) -> dict:
    """``base`` is the upstream's own usage object when it was OpenAI's, so detail fields
    the IR has no slot for (audio, prediction tokens) reach the caller unchanged."""
    out = dict(base) if base else {}
    out["prompt_tokens"] = usage.input_tokens
    out["completion_tokens"] = usage.output_tokens
    out["total_tokens"] = usage.input_tokens + usage.output_tokens
    if usage.cache_read_tokens is not None or usage.cache_write_tokens is not None:
        prompt = dict(out.get("prompt_tokens_details") or {})
        if usage.cache_read_tokens is not None:
            prompt["cached_tokens"] = usage.cache_read_tokens
        if usage.cache_write_tokens is not None:
            prompt["cache_write_tokens"] = usage.cache_write_tokens
        out["prompt_tokens_details"] = prompt
    if usage.reasoning_tokens is not None:
        completion = dict(out.get("completion_tokens_details") or {})
        completion["reasoning_tokens"] = usage.reasoning_tokens
        out["completion_tokens_details"] = completion
    return out


# ------------------------------------------------------------------------------ errors

# OpenAI has no billing status: quota exhaustion is its 429 ``insufficient_quota``.
STATUS_OVERRIDES: dict[ir.ErrorKind, int] = {"billing": 429}

# ``type`` is a free string in OpenAI's spec; these are the values seen from OpenAI and
# the compatible servers. It decides the kind only for in-stream errors, which have no
# HTTP status.
_KIND_BY_TYPE: dict[str, ir.ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "permission_error": "permission",
    "not_found_error": "not_found",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit",
    "insufficient_quota": "billing",
    "server_error": "api_error",
    "api_error": "api_error",
    "not_implemented_error": "not_implemented",
    "service_unavailable_error": "overloaded",
    "overloaded_error": "overloaded",
    "timeout_error": "timeout",
}

_TYPE_BY_KIND: dict[ir.ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "billing": "insufficient_quota",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "request_too_large": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "api_error": "server_error",
    "not_implemented": "not_implemented_error",
    "overloaded": "service_unavailable_error",
    "timeout": "timeout_error",
}


def _error_kind(status: int | None, type_: object, code: object) -> ir.ErrorKind:
    if type_ == "insufficient_quota" or code == "insufficient_quota":
        return "billing"
    if status is None:
        return _KIND_BY_TYPE.get(type_, "api_error") if isinstance(type_, str) else "api_error"
    return ir.error_kind_for_status(status)


def _optional_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def parse_error(error: object, status: int | None) -> ir.Error:
    """An ``error`` member in any of the shapes OpenAI-compatible servers send: OpenAI's
    object, a bare string (Ollama), or vLLM's flat body. ``status`` is None in a stream."""
    if not isinstance(error, dict):
        error = {"message": error}
    type_ = error.get("type")
    code = _optional_text(error.get("code"))
    kind = _error_kind(status, type_, code)
    message = error.get("message") or error.get("detail")  # FastAPI-based servers: detail
    if not isinstance(message, str) or not message:
        message = str(message) if message else f"upstream error (HTTP {status or 'stream'})"
    return ir.Error(
        kind=kind,
        message=message,
        status=status if status is not None else ir.status_for_kind(kind, STATUS_OVERRIDES),
        param=_optional_text(error.get("param")),
        code=code,
    )


def render_error(err: ir.Error) -> dict:
    """The ``error`` object the openai SDK reads ``message``, ``type``, ``param`` and
    ``code`` from; its HTTP status is ``ir.status_for_kind(kind, STATUS_OVERRIDES)``."""
    code = err.code
    if code is None and err.kind == "billing":
        code = "insufficient_quota"
    type_ = _TYPE_BY_KIND.get(err.kind, "server_error")
    return {"message": err.message, "type": type_, "param": err.param, "code": code}


# -------------------------------------------------------- signatures and extension fields


def parse_signature(signature: str) -> tuple[str, ir.Protocol]:
    """A ``thinking_blocks`` signature -> (signature, origin). LiteLLM's shape: Anthropic
    signatures go unmarked, any other provider's carry ``<protocol>:`` (extensions.md)."""
    marked = extensions.split_origin(signature)
    if marked is not None:
        return marked[1], marked[0]
    return signature, "anthropic"


def render_signature(signature: str, origin: ir.Protocol | None) -> str:
    """The reverse of ``parse_signature``."""
    if origin in (None, "anthropic"):
        return signature
    return extensions.mark_origin(origin, signature)


def parse_thinking_block(block: object, at: str) -> ir.Thinking:
    """One ``thinking_blocks`` entry (LiteLLM's shape); unsigned thinking was made by an
    OpenAI-compatible server."""
    block = fields.obj(block, at)
    kind = block.get("type")
    if kind == "redacted_thinking":
        data = fields.need(block, "data", fields.string, at)
        return ir.Thinking(redacted=data, origin="anthropic")
    if kind != "thinking":
        raise fields.fail(fields.child(at, "type"), "must be thinking or redacted_thinking")
    text = fields.get(block, "thinking", fields.string, at) or ""
    signature = fields.get(block, "signature", fields.string, at)
    if not signature:
        return ir.Thinking(text=text, origin=PROTOCOL)
    signature, origin = parse_signature(signature)
    return ir.Thinking(text=text, signature=signature, origin=origin)


def render_thinking_block(thinking: ir.Thinking) -> dict:
    if thinking.redacted:
        return {"type": "redacted_thinking", "data": thinking.redacted}
    block = {"type": "thinking", "thinking": thinking.text}
    if thinking.signature:
        block["signature"] = render_signature(thinking.signature, thinking.origin)
    return block
