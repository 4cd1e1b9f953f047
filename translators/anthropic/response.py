"""Whole (unary) answers, both directions, and the token-count answer."""

from __future__ import annotations

from translators import fields, ir
from translators.anthropic.messages import parse_response_block, render_part
from translators.anthropic.wire import PROTOCOL, parse_stop, parse_usage, render_stop, render_usage
from translators.fields import child

_RESPONSE_FIELDS = frozenset(
    {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}
)
_USAGE_FIELDS = frozenset(
    {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}
)


def parse_response(body: object) -> ir.Response:
    """A Messages answer. Server-tool blocks (``server_tool_use``, ``*_tool_result``...)
    have no IR part: they are kept with their positions in
    ``Choice.extra["server_blocks"]``, for an Anthropic caller only; so are fields of
    the answer and of its usage that IR has no place for."""
    body = fields.obj(body, "")
    parts: list[ir.Part] = []
    server_blocks: list[list] = []
    for i, raw in enumerate(fields.need(body, "content", fields.arr, "")):
        at = child("content", i)
        block = fields.obj(raw, at)
        part = parse_response_block(block, at)
        if part is None:
            server_blocks.append([i, block])
        else:
            parts.append(part)
    raw_stop = fields.get(body, "stop_reason", fields.string, "")
    choice = ir.Choice(
        parts=parts,
        stop_reason=parse_stop(raw_stop),
        stop_sequence=fields.get(body, "stop_sequence", fields.string, ""),
        raw_stop_reason=raw_stop,
    )
    if server_blocks:
        choice.extra["server_blocks"] = server_blocks
    usage = fields.get(body, "usage", fields.obj, "")
    extra = {k: v for k, v in body.items() if k not in _RESPONSE_FIELDS}
    if usage is not None:
        usage_extra = {k: v for k, v in usage.items() if k not in _USAGE_FIELDS}
        details = usage_extra.get("output_tokens_details")
        if isinstance(details, dict) and details.keys() == {"thinking_tokens"}:
            del usage_extra["output_tokens_details"]  # carried as reasoning_tokens
        if usage_extra:
            extra["usage"] = usage_extra
    return ir.Response(
        id=fields.get(body, "id", fields.string, "") or "",
        model=fields.get(body, "model", fields.string, "") or "",
        choices=[choice],
        source=PROTOCOL,
        usage=parse_usage(usage) if usage is not None else None,
        extra=extra,
    )


def render_response(resp: ir.Response, ctx: ir.RenderContext) -> dict:
    """The answer for an Anthropic caller: choice 0 only. Empty text of another provider
    is left out; images, documents, audio and tool results cannot be an answer block
    (501). With no usage, the answer says 0 and 0."""
    same_protocol = resp.source == PROTOCOL
    choice = resp.choices[0] if resp.choices else ir.Choice(parts=[], stop_reason="end_turn")
    content: list[dict] = []
    parts_at = child(child("choices", 0), "parts")
    for j, part in enumerate(choice.parts):
        if not same_protocol and isinstance(part, ir.Text) and not part.text:
            continue
        block = render_part(part, child(parts_at, j), same_protocol, request=False)
        if block is not None:
            content.append(block)
    if same_protocol:
        for position, block in choice.extra.get("server_blocks", ()):
            content.insert(position, block)
    has_call = any(isinstance(p, ir.ToolCall) for p in choice.parts)
    usage = render_usage(resp.usage) if resp.usage else {"input_tokens": 0, "output_tokens": 0}
    stop = render_stop(choice.stop_reason, choice.raw_stop_reason, same_protocol, has_call)
    body = {
        "id": resp.id or f"msg_{ctx.request_id}",
        "type": "message",
        "role": "assistant",
        "model": resp.model or ctx.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": choice.stop_sequence,
        "usage": usage,
    }
    if same_protocol:
        for key, value in resp.extra.items():
            if key == "usage":
                usage.update(value)
            else:
                body[key] = value
    return body


def render_token_count(tokens: int) -> dict:
    """The ``count_tokens`` answer."""
    return {"input_tokens": tokens}


def parse_token_count(body: object) -> int:
    """The number in a ``count_tokens`` answer."""
    return fields.need(fields.obj(body, ""), "input_tokens", fields.integer, "")
