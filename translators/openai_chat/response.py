"""Whole answers and error bodies, both directions: ``chat.completion`` <-> ``ir.Response``.

Fields without an IR slot (``logprobs``, ``annotations``, ``system_fingerprint``,
``service_tier``, usage details) stay in ``extra`` so the same protocol gets them back.
The table of rules is docs/conversion.md (§4 "Responses", §6 "Errors").
"""

from __future__ import annotations

import orjson

from translators import extensions, fields, ir
from translators.errors import TranslationError
from translators.openai_chat import wire
from translators.openai_chat.messages import parse_assistant_parts, render_tool_call
from translators.openai_chat.wire import MARK, PROTOCOL

_REFUSAL = MARK + "refusal"  # Choice.extra: the last Text part is message.refusal
_REASONING_FIELD = MARK + "reasoning_field"  # Choice.extra: upstream's reasoning field
_USAGE = MARK + "usage"  # Response.extra: the upstream's usage object, details included

_RESPONSE_MAPPED = frozenset({"id", "object", "created", "model", "choices", "usage"})

# ------------------------------------------------------------------------------- parse


def parse_response(body: object) -> ir.Response:
    """A malformed upstream answer is the upstream's fault: 502, not the caller's 400."""
    try:
        return _parse_response(fields.obj(body, ""))
    except TranslationError as exc:
        raise TranslationError(
            f"malformed upstream response: {exc.message}",
            param=exc.param,
            kind="api_error",
            status=502,
        ) from exc


def _parse_response(body: dict) -> ir.Response:
    choices = fields.need(body, "choices", fields.arr, "")
    extra = {k: v for k, v in body.items() if k not in _RESPONSE_MAPPED}
    usage = body.get("usage")
    if usage is not None:
        extra[_USAGE] = usage
    return ir.Response(
        id=fields.get(body, "id", fields.string, "") or "",
        model=fields.get(body, "model", fields.string, "") or "",
        choices=[_parse_choice(c, fields.child("choices", i), i) for i, c in enumerate(choices)],
        source=PROTOCOL,
        usage=wire.parse_usage(usage) if usage is not None else None,
        created=wire.parse_created(body.get("created")),
        extra=extra,
    )


def _parse_choice(choice: object, at: str, position: int) -> ir.Choice:
    """``refusal`` becomes the last Text part and stop reason content_filter."""
    choice = fields.obj(choice, at)
    message = fields.need(choice, "message", fields.obj, at)
    parts = parse_assistant_parts(message, fields.child(at, "message"))
    finish_reason = fields.get(choice, "finish_reason", fields.string, at)
    refused = isinstance(message.get("refusal"), str)
    index = fields.get(choice, "index", fields.integer, at)
    extra = {k: v for k, v in choice.items() if k not in ("index", "message", "finish_reason")}
    mapped = {"role", "content", "tool_calls", "thinking_blocks"}
    if refused:
        mapped.add("refusal")
        extra[_REFUSAL] = True
    if extensions.parse_google_extra(message.get("extra_content")) is not None:
        mapped.add("extra_content")
    if not message.get("thinking_blocks"):
        if message.get("reasoning_content"):
            mapped.add("reasoning_content")
        elif message.get("reasoning"):
            mapped.add("reasoning")
            extra[_REASONING_FIELD] = "reasoning"
    # A mapped key with an empty value (``tool_calls: []``) maps to nothing: keep it as is.
    rest = {k: v for k, v in message.items() if k not in mapped or (not v and k != "content")}
    if rest:
        extra["message"] = rest
    has_tool_call = any(isinstance(p, ir.ToolCall) for p in parts)
    return ir.Choice(
        parts=parts,
        stop_reason=wire.parse_stop(finish_reason, has_tool_call=has_tool_call, refused=refused),
        index=index if index is not None else position,
        raw_stop_reason=finish_reason,
        extra=extra,
    )


# ------------------------------------------------------------------------------ render


def render_response(resp: ir.Response, ctx: ir.RenderContext) -> dict:
    same_protocol = resp.source == PROTOCOL
    out: dict = {
        "id": resp.id or f"chatcmpl-{ctx.request_id}",
        "object": "chat.completion",
        "created": resp.created if resp.created is not None else ctx.created,
        "model": resp.model or ctx.model,
    }
    if same_protocol:
        out.update((k, v) for k, v in resp.extra.items() if not k.startswith(MARK))
    out["choices"] = [
        _render_choice(choice, fields.child("choices", i), same_protocol)
        for i, choice in enumerate(resp.choices)
    ]
    if resp.usage is not None:
        base = resp.extra.get(_USAGE) if same_protocol else None
        out["usage"] = wire.render_usage(resp.usage, base)
    return out


def _render_choice(choice: ir.Choice, at: str, same_protocol: bool) -> dict:
    """Another provider's text citations and matched ``stop_sequence`` have no field
    here and are left out; an image, audio or document in an answer cannot be expressed
    and is refused (502). Content is null when there is no text beside the calls."""
    extra = choice.extra if same_protocol else {}
    thinking: list[ir.Thinking] = []
    texts: list[ir.Text] = []
    calls: list[dict] = []
    for j, part in enumerate(choice.parts):
        if isinstance(part, ir.Text):
            texts.append(part)
        elif isinstance(part, ir.ToolCall):
            calls.append(render_tool_call(part, signature=True))
        elif isinstance(part, ir.Thinking):
            thinking.append(part)
        else:
            part_at = fields.child(fields.child(at, "parts"), j)
            raise TranslationError(
                f"{part_at}: a {type(part).__name__} in an answer has no OpenAI Chat form",
                param=part_at,
                kind="api_error",
                status=502,
            )
    message: dict = {"role": "assistant", "content": None, **(extra.get("message") or {})}
    signature = next((t.signature for t in texts if t.signature), None)
    if extra.get(_REFUSAL) and texts:
        message["refusal"] = texts.pop().text
    elif not same_protocol:
        message["refusal"] = None
    joined = "".join(t.text for t in texts)
    message["content"] = joined if texts and (joined or not calls) else None
    if thinking:
        _render_thinking(message, thinking, extra.get(_REASONING_FIELD, "reasoning_content"))
    if signature:
        message["extra_content"] = extensions.render_google_extra(signature)
    if calls:
        message["tool_calls"] = calls
    out = {"index": choice.index, "message": message, "logprobs": None}
    out.update((k, v) for k, v in extra.items() if k != "message" and not k.startswith(MARK))
    out["finish_reason"] = wire.render_stop(
        choice.stop_reason,
        choice.raw_stop_reason,
        same_protocol=same_protocol,
        has_tool_call=bool(calls),
    )
    return out


def _render_thinking(message: dict, thinking: list[ir.Thinking], field: str) -> None:
    """All thinking text as ``reasoning_content`` (``reasoning`` when an OpenAI-shaped
    upstream used that); when any of it carries provider state, every block also goes
    into ``thinking_blocks`` so the caller can send it back."""
    text = "".join(t.text for t in thinking)
    if text:
        message[field] = text
    if any(t.signature or t.redacted for t in thinking):
        message["thinking_blocks"] = [wire.render_thinking_block(t) for t in thinking]


# ------------------------------------------------------------------------------ errors


def parse_error(status: int, body: object) -> ir.Error:
    """``body`` may be the parsed JSON or the raw bytes: proxies in front of compatible
    servers answer with HTML or plain text, whose text becomes the message."""
    if isinstance(body, bytes | bytearray | str):
        body = _json_or_text(body)
    if isinstance(body, dict):
        error = body.get("error")
        return wire.parse_error(body if error is None else error, status)
    return wire.parse_error({}, status)


def _json_or_text(raw: bytes | bytearray | str) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        return {"message": text.strip()[:2000] or None}


def render_error(err: ir.Error) -> tuple[int, dict]:
    """The status that makes the openai SDK raise the matching class, and the body."""
    return ir.status_for_kind(err.kind, wire.STATUS_OVERRIDES), {"error": wire.render_error(err)}
