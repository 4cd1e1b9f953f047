"""Whole Responses objects (``object: "response"``) <-> IR responses.

Parsing (an ``api: responses`` upstream): ``message`` items give Text parts (a
``refusal`` part is text and makes the stop reason content_filter), ``reasoning``
items Thinking of origin ``openai_responses`` whose signature is OpenAI's
``encrypted_content`` (so it replays to OpenAI only), ``function_call`` and
``custom_tool_call`` items ToolCalls (namespace and kind kept). ``status`` and
``incomplete_details.reason`` give the stop reason (``wire.parse_stop``); a ``failed``
response is the upstream's error. Items with no IR equivalent (``web_search_call`` and
other hosted-tool records), annotations, the usage details and every other top-level
field stay in ``extra`` for a Responses caller.

Rendering runs the IR parts through the ``StreamRenderer`` as events, so a whole answer
has exactly the items a stream of it would have (ids, reasoning items, sealed state);
for the same protocol the upstream's own items and fields are put back when the items
line up.
"""

from __future__ import annotations

import dataclasses

from translators import fields as f
from translators import ir
from translators.errors import TranslationError
from translators.openai_responses import messages, wire
from translators.openai_responses.stream_renderer import StreamRenderer

MARK = "openai_responses:"
RAW_OUTPUT = MARK + "output"  # the upstream's own output items
RAW_USAGE = MARK + "usage"  # the upstream's own usage object
_MAPPED = frozenset(
    {
        "id",
        "object",
        "created_at",
        "status",
        "output",
        "usage",
        "model",
        "error",
        "incomplete_details",
    }
)


def parse_response(body: object) -> ir.Response:
    if not isinstance(body, dict):
        raise wire.upstream_fault(f.fail("", "must be an object"))
    data = body
    if data.get("status") == "failed":
        err = wire.error_from_failed(data)
        raise TranslationError(
            f"the upstream response failed: {err.message}",
            kind=err.kind,
            status=err.status,
            code=err.code,
        )
    try:
        return _parse(data)
    except TranslationError as exc:
        raise wire.upstream_fault(exc) from exc


def _parse(body: dict) -> ir.Response:
    parts: list[ir.Part] = []
    refused = False
    output = f.need(body, "output", f.arr, "")
    for i, raw in enumerate(output):
        at = f.child("output", i)
        item = f.obj(raw, at)
        kind = f.type_of(item)
        if kind == "message":
            content = f.get(item, "content", f.arr, at) or []
            for k, part in enumerate(content):
                text, is_refusal = _output_part(part, f.child(f.child(at, "content"), k))
                refused = refused or is_refusal
                parts.append(text)
        elif kind == "reasoning":
            thought = messages.parse_reasoning(item, at)
            if thought.sealed is not None:  # not ours to open: OpenAI's as far as we know
                thought = ir.Thinking(thought.text, thought.sealed, origin=wire.PROTOCOL)
            parts.append(thought)
        elif kind in ("function_call", "custom_tool_call"):
            parts.append(messages.parse_call(kind, item, at))
    status = f.get(body, "status", f.string, "")
    details = f.get(body, "incomplete_details", f.obj, "") or {}
    reason = f.get(details, "reason", f.string, "incomplete_details")
    called = any(isinstance(p, ir.ToolCall) for p in parts)
    stop = wire.parse_stop(status, reason, called=called)
    if refused and stop == "end_turn":
        stop = "content_filter"
    extra = {k: v for k, v in body.items() if k not in _MAPPED}
    extra[RAW_OUTPUT] = output
    usage = body.get("usage")
    if usage is not None:
        extra[RAW_USAGE] = usage
    created = body.get("created_at")
    return ir.Response(
        id=f.get(body, "id", f.string, "") or "",
        model=f.get(body, "model", f.string, "") or "",
        choices=[ir.Choice(parts, stop, raw_stop_reason=status)],
        source=wire.PROTOCOL,
        usage=wire.parse_usage(usage) if usage is not None else None,
        created=int(created) if isinstance(created, int | float) and created >= 0 else None,
        extra=extra,
    )


def _output_part(raw: object, at: str) -> tuple[ir.Text, bool]:
    part = f.obj(raw, at)
    if f.type_of(part) == "refusal":
        return ir.Text(f.need(part, "refusal", f.string, at)), True
    text = ir.Text(f.need(part, "text", f.string, at))
    annotations = f.get(part, "annotations", f.arr, at)
    if annotations:
        text.citations = annotations
    return text, False


# -------------------------------------------------------------------------- render


def events_of(resp: ir.Response, choice: ir.Choice) -> list[ir.Event]:
    """A whole answer as the stream events that would have carried it."""
    events: list[ir.Event] = [ir.MessageStart(resp.id, resp.model, created=resp.created)]
    for i, part in enumerate(choice.parts):
        at = f"choices[{choice.index}].parts[{i}]"
        if isinstance(part, ir.Text):
            events.append(ir.BlockStart(i, ir.Text("", signature=part.signature)))
            events.append(ir.BlockDelta(i, "text", part.text))
        elif isinstance(part, ir.Thinking):
            shell = ir.Thinking(redacted=part.redacted, origin=part.origin)
            events.append(ir.BlockStart(i, shell))
            events.append(ir.BlockDelta(i, "thinking", part.text))
            if part.signature is not None:
                events.append(ir.BlockDelta(i, "signature", part.signature))
        elif isinstance(part, ir.ToolCall):
            events.append(ir.BlockStart(i, dataclasses.replace(part, arguments="")))
            events.append(ir.BlockDelta(i, "arguments", part.arguments))
        else:
            raise TranslationError(
                f"{at}: a {type(part).__name__} in an answer has no OpenAI Responses form",
                param=at,
                kind="api_error",
                status=502,
            )
        events.append(ir.BlockStop(i))
    events.append(ir.Finish(choice.stop_reason, resp.usage))
    return events


def render_response(resp: ir.Response, ctx: ir.RenderContext) -> dict:
    choice = resp.choices[0] if resp.choices else ir.Choice([], "end_turn")
    renderer = StreamRenderer(ctx)
    renderer.render(events_of(resp, choice))
    out = dict(renderer.response or {})
    if resp.source != wire.PROTOCOL:
        return out
    out.update((k, v) for k, v in resp.extra.items() if not k.startswith(MARK))
    if resp.id:
        out["id"] = resp.id
    raw = resp.extra.get(RAW_OUTPUT)
    if isinstance(raw, list) and _lines_up(raw, out["output"]):
        out["output"] = raw
    if RAW_USAGE in resp.extra:
        out["usage"] = resp.extra[RAW_USAGE]
    return out


_RENDERED_TYPES = frozenset({"message", "reasoning", "function_call", "custom_tool_call"})


def _lines_up(raw: list, rendered: list[dict]) -> bool:
    """Whether the upstream's items are the rendered ones, kind for kind and in order,
    once its items without an IR form (hosted-tool records) are left aside."""
    theirs = [f.type_of(i) for i in raw if isinstance(i, dict)]
    return [t for t in theirs if t in _RENDERED_TYPES] == [i["type"] for i in rendered]
