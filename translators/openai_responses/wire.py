"""The OpenAI Responses vocabulary both halves of the codec share.

- Stop reasons: Responses has no finish reason; ``status`` plus
  ``incomplete_details.reason`` say how an answer ended (``parse_stop`` /
  ``render_stop``).
- Usage: inclusive counts, as in the IR (``cached_tokens`` within ``input_tokens``,
  ``reasoning_tokens`` within ``output_tokens``); ``total_tokens`` is their sum.
- Errors: the OpenAI error body for HTTP errors, and the ``{code, message}`` of
  ``response.failed`` whose codes Codex classifies (``context_length_exceeded``,
  ``insufficient_quota``, ``rate_limit_exceeded`` with "try again in Ns").
- Ids: the gateway derives the ids Responses requires (``resp_…``, ``msg_…``, ``rs_…``,
  ``fc_…``, ``ctc_…``) from the request id, so translators stay free of randomness.
- Output items and the sealed provider state carried in reasoning items.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import NamedTuple

import orjson

from translators import fields as f
from translators import ir, sealing
from translators.errors import TranslationError

PROTOCOL: ir.Protocol = "openai_responses"

# ------------------------------------------------------------------------------ ids


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:48]


def response_id(request_id: str) -> str:
    """The id of the response the gateway renders for request ``request_id``: the key
    under which the addon stores it for ``previous_response_id``."""
    return f"resp_{_digest(request_id)}"


def item_id(prefix: str, request_id: str, index: int) -> str:
    """The id of output item ``index`` (``msg``, ``rs``, ``fc``, ``ctc``)."""
    return f"{prefix}_{_digest(request_id, str(index))}"


# --------------------------------------------------------------------- stop reasons

_INCOMPLETE_TO_IR: dict[str, ir.StopReason] = {
    "max_output_tokens": "max_tokens",
    "content_filter": "content_filter",
}
_IR_TO_INCOMPLETE: dict[str, str] = {
    "max_tokens": "max_output_tokens",
    "context_window": "max_output_tokens",
    "content_filter": "content_filter",
}


def parse_stop(status: str | None, reason: str | None, *, called: bool) -> ir.StopReason | None:
    """``completed`` is a natural end, or ``tool_use`` when the output holds a call."""
    if status == "incomplete":
        return _INCOMPLETE_TO_IR.get(reason or "", "other")
    if status == "completed" or status is None:
        return "tool_use" if called else "end_turn"
    return "other"  # cancelled


def render_stop(stop: ir.StopReason | None) -> tuple[str, dict | None]:
    """``(status, incomplete_details)`` for an IR stop reason."""
    reason = _IR_TO_INCOMPLETE.get(stop or "")
    if reason is None:
        return "completed", None
    return "incomplete", {"reason": reason}


# --------------------------------------------------------------------------- usage


def _count(data: dict, key: str, at: str) -> int | None:
    value = f.get(data, key, f.integer, at)
    return None if value is None else max(value, 0)


def parse_usage(usage: object, at: str = "usage") -> ir.Usage:
    data = f.obj(usage, at)
    details_in = f.get(data, "input_tokens_details", f.obj, at) or {}
    details_out = f.get(data, "output_tokens_details", f.obj, at) or {}
    return ir.Usage(
        input_tokens=_count(data, "input_tokens", at) or 0,
        output_tokens=_count(data, "output_tokens", at) or 0,
        cache_read_tokens=_count(details_in, "cached_tokens", f.child(at, "input_tokens_details")),
        cache_write_tokens=_count(
            details_in, "cache_write_tokens", f.child(at, "input_tokens_details")
        ),
        reasoning_tokens=_count(
            details_out, "reasoning_tokens", f.child(at, "output_tokens_details")
        ),
    )


def render_usage(usage: ir.Usage) -> dict:
    """Every field the SDK's ``ResponseUsage`` requires, counts inclusive (Anthropic's
    cache reads and writes are already inside the IR's input count: bug 15)."""
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_tokens or 0,
            "cache_write_tokens": usage.cache_write_tokens or 0,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


# -------------------------------------------------------------------------- errors

_KIND_BY_TYPE: dict[str, ir.ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "permission_error": "permission",
    "not_found_error": "not_found",
    "rate_limit_error": "rate_limit",
    "insufficient_quota": "billing",
    "server_error": "api_error",
    "api_error": "api_error",
    "service_unavailable_error": "overloaded",
    "timeout_error": "timeout",
}
_KIND_BY_CODE: dict[str, ir.ErrorKind] = {
    "insufficient_quota": "billing",
    "rate_limit_exceeded": "rate_limit",
    "context_length_exceeded": "invalid_request",
    "invalid_prompt": "invalid_request",
    "server_is_overloaded": "overloaded",
    "slow_down": "overloaded",
    "server_error": "api_error",
}
# OpenAI has no billing status: quota exhaustion is its 429 ``insufficient_quota``.
_WIRE_BY_KIND: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "invalid_request_error"),
    "authentication": (401, "authentication_error"),
    "billing": (429, "insufficient_quota"),
    "permission": (403, "permission_error"),
    "not_found": (404, "not_found_error"),
    "request_too_large": (413, "invalid_request_error"),
    "rate_limit": (429, "rate_limit_error"),
    "api_error": (500, "server_error"),
    "not_implemented": (501, "not_implemented_error"),
    "overloaded": (503, "service_unavailable_error"),
    "timeout": (504, "timeout_error"),
}
# The ``response.failed`` codes Codex acts on, by kind; anything else is a server error.
_FAILED_CODE_BY_KIND: dict[str, str] = {
    "billing": "insufficient_quota",
    "rate_limit": "rate_limit_exceeded",
    "overloaded": "server_is_overloaded",
    "invalid_request": "invalid_prompt",
}
_CONTEXT_OVERFLOW = re.compile(
    r"context.length|context.window|prompt is too long|maximum context|"
    r"input token count.{0,40}exceeds|too many (input )?tokens",
    re.IGNORECASE,
)
_RETRY_HINT = re.compile(r"try again in \d", re.IGNORECASE)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def error_from_object(error: object, status: int | None) -> ir.Error:
    """OpenAI's ``error`` object, or the flat in-stream ``error`` event; ``status`` is
    None in a stream, where the kind comes from ``type`` or ``code``."""
    data = error if isinstance(error, dict) else {"message": error}
    type_, code = _text(data.get("type")), _text(data.get("code"))
    if status is not None:
        kind = ir.error_kind_for_status(status)
        if code == "insufficient_quota" or type_ == "insufficient_quota":
            kind = "billing"
    else:
        kind = _KIND_BY_CODE.get(code or "") or _KIND_BY_TYPE.get(type_ or "", "api_error")
    message = data.get("message")
    if not isinstance(message, str) or not message:
        message = f"upstream error (HTTP {status or 'stream'})"
    return ir.Error(
        kind=kind,
        message=message,
        status=status if status is not None else _WIRE_BY_KIND[kind][0],
        param=_text(data.get("param")),
        code=code,
    )


def parse_error(status: int, body: object) -> ir.Error:
    """An upstream's HTTP error body (parsed JSON or raw bytes) as an IR error."""
    if isinstance(body, (bytes, bytearray, str)):
        raw = body
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw
            body = {"error": {"message": text.strip()[:2000] or None}}
    if isinstance(body, dict):
        inner = body.get("error")
        return error_from_object(body if inner is None else inner, status)
    return error_from_object({}, status)


def _message_with_retry(err: ir.Error) -> str:
    """Codex waits as long as a rate-limit message says ("try again in 20s")."""
    if err.retry_after is None or _RETRY_HINT.search(err.message):
        return err.message
    return f"{err.message.rstrip()} Please try again in {err.retry_after:g}s."


def error_code(err: ir.Error) -> str:
    """The ``code`` a Responses caller classifies the failure by."""
    if err.code in _KIND_BY_CODE:
        return err.code
    if err.kind == "invalid_request" and _CONTEXT_OVERFLOW.search(err.message):
        return "context_length_exceeded"
    return _FAILED_CODE_BY_KIND.get(err.kind, "server_error")


_CLASSIFIED_KINDS = frozenset({"billing", "rate_limit", "invalid_request", "overloaded"})


def render_error(err: ir.Error) -> tuple[int, dict]:
    """The status that makes the openai SDK raise the matching class, and the body."""
    status, type_ = _WIRE_BY_KIND.get(err.kind, (500, "server_error"))
    code = err.code
    if code not in _KIND_BY_CODE and err.kind in _CLASSIFIED_KINDS:
        # Another provider's own code (Gemini's RESOURCE_EXHAUSTED) means nothing to
        # Codex; the one it classifies by takes its place.
        classified = error_code(err)
        code = code if classified == "invalid_prompt" else classified
    message = _message_with_retry(err)
    return status, {"error": {"message": message, "type": type_, "param": err.param, "code": code}}


def failed_error(err: ir.Error) -> dict:
    """``response.error`` of ``response.failed``."""
    return {"code": error_code(err), "message": _message_with_retry(err)}


def error_from_failed(response: dict) -> ir.Error:
    """The IR error of a ``response.failed`` (its ``error`` sits under ``response``)."""
    error = response.get("error")
    return error_from_object(error if isinstance(error, dict) else {}, None)


def upstream_fault(exc: TranslationError) -> TranslationError:
    """A malformed upstream answer is the upstream's fault: 502, not the caller's 400."""
    return TranslationError(
        f"malformed upstream response: {exc.message}", param=exc.param, kind="api_error", status=502
    )


# --------------------------------------------------------------------- output items


def output_text(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(id_: str, content: list[dict], status: str) -> dict:
    return {"id": id_, "type": "message", "status": status, "role": "assistant", "content": content}


def reasoning_item(id_: str, summary: list[str], encrypted: str | None) -> dict:
    """Always a ``summary`` array: Codex drops a reasoning item without one."""
    item: dict = {
        "id": id_,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text} for text in summary],
    }
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


def call_item(id_: str, call: ir.ToolCall, arguments: str, status: str) -> dict:
    """A ``function_call`` or, for a custom tool, a ``custom_tool_call`` with raw input."""
    if call.kind == "custom":
        item = {"id": id_, "type": "custom_tool_call", "status": status, "call_id": call.id}
        item.update(name=call.name, input=arguments)
    else:
        item = {"id": id_, "type": "function_call", "status": status, "call_id": call.id}
        item.update(name=call.name, arguments=arguments)
    if call.namespace is not None:
        item["namespace"] = call.namespace
    return item


def call_prefix(call: ir.ToolCall) -> str:
    return "ctc" if call.kind == "custom" else "fc"


# ------------------------------------------------------------- sealed provider state
# What one reasoning item carries for the provider that answered (docs/extensions.md):
#   {"thinking": [{"origin", "text", "signature", "redacted"}],  one IR Thinking block
#    "calls": {call_id: thoughtSignature},                        Gemini, on function calls
#    "text": thoughtSignature}                                    Gemini, on a text part

STATE_THINKING = "thinking"
STATE_CALLS = "calls"
STATE_TEXT = "text"


def thinking_state(part: ir.Thinking) -> dict:
    state: dict = {"origin": part.origin, "text": part.text}
    if part.signature is not None:
        state["signature"] = part.signature
    if part.redacted is not None:
        state["redacted"] = part.redacted
    return state


def seal_state(ctx: ir.RenderContext, state: dict) -> str | None:
    """The sealed blob for ``encrypted_content``, or None when the gateway has no key."""
    if not state or not ctx.state_key or ctx.provider is None:
        return None
    return sealing.seal(ctx.state_key, ctx.provider, state)


def carries_state(part: ir.Thinking) -> bool:
    """Whether a thinking block holds anything a provider needs back."""
    return part.signature is not None or part.redacted is not None or part.origin is not None


# --------------------------------------------------------- stored state references
# ``previous_response_id``, ``conversation`` and ``item_reference`` name state in the
# gateway's store; a pure codec cannot read it, so the addon resolves them on the body
# before ``parse_request`` (an ``item_reference`` left over is a 404).


class References(NamedTuple):
    """What a body asks the gateway's store for before it can be translated."""

    previous_response_id: str | None
    conversation: str | None
    item_ids: list[str]


def references(body: dict) -> References:
    """The stored state ``body`` refers to: ``previous_response_id``, ``conversation``
    (a string id or ``{id}``) and the ids of ``item_reference`` input items."""
    previous = body.get("previous_response_id")
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        conversation = conversation.get("id")
    inputs = body.get("input")
    ids = [
        item["id"]
        for item in (inputs if isinstance(inputs, list) else [])
        if isinstance(item, dict)
        and item.get("type") == "item_reference"
        and isinstance(item.get("id"), str)
    ]
    return References(
        previous if isinstance(previous, str) else None,
        conversation if isinstance(conversation, str) else None,
        ids,
    )


def resolve_references(
    body: dict, *, history: list[dict] | None = None, items: Mapping[str, dict] | None = None
) -> dict:
    """A copy of ``body`` with stored state spliced in: ``history`` (the input and output
    items of the previous response, or the conversation's items, oldest first) before
    the input, ``previous_response_id`` and ``conversation`` removed, and each
    ``item_reference`` replaced by ``items[id]`` (one not in ``items`` stays and is
    refused by ``parse_request`` with a 404). The previous ``instructions`` are not
    carried over, as in OpenAI's API."""
    out = dict(body)
    inputs = out.get("input", [])
    if isinstance(inputs, str):
        inputs = [{"role": "user", "content": inputs}]
    if isinstance(inputs, list) and items:
        inputs = [
            items.get(item["id"], item)
            if isinstance(item, dict) and item.get("type") == "item_reference"
            else item
            for item in inputs
        ]
    if history is not None:
        out.pop("previous_response_id", None)
        out.pop("conversation", None)
        inputs = [*history, *inputs] if isinstance(inputs, list) else inputs
    out["input"] = inputs
    return out
