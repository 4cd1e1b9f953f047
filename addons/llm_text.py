"""LLM bodies of any of the four protocols as text a person reads: the conversation,
tool calls with their arguments, reasoning, and a stream put back together.

The content view (``llm_view.py``) shows this in mitmweb. Every body is read with its
protocol's own codec (the same parsing the gateway translates with), so what the view
shows is what the gateway understood; a body the codec refuses is shown as JSON with
the reason. Pure: bytes in, text out, no mitmproxy.
"""

from __future__ import annotations

import orjson

from translators import convert, ir
from translators.codec import CODECS

_CUT = 2000  # characters of one text part shown before it is cut (the raw body has it all)


def request_text(body: bytes, protocol: ir.Protocol, *, model: str | None = None) -> str:
    """A request: its settings, tools and conversation. ``model``: Gemini's, from the path."""
    try:
        data = orjson.loads(body)
        req = CODECS[protocol].parse_request(data, model=model)
    except Exception as e:
        return _unparsed(body, protocol, e)
    lines = [_settings(req)]
    if req.tools:
        lines.append("tools: " + ", ".join(_tool_signature(t) for t in req.tools))
    if req.hosted_tools:
        lines.append("hosted tools: " + ", ".join(t.kind for t in req.hosted_tools))
    for message in req.messages:
        lines.append(f"[{message.role}]")
        lines += [_part(p) for p in message.parts]
    return "\n".join(lines)


def answer_text(body: bytes, protocol: ir.Protocol, status: int) -> str:
    """An answer: an error, a whole response, or a stream (SSE, or Gemini's JSON array)
    reassembled into the message it streamed."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None  # SSE
    try:
        if status >= 400:
            err = CODECS[protocol].parse_error(status, data if data is not None else {})
            return _error(err)
        if isinstance(data, dict):
            return response_text(CODECS[protocol].parse_response(data))
        return "(stream, reassembled)\n" + response_text(reassemble(body, protocol))
    except Exception as e:
        return _unparsed(body, protocol, e)


def reassemble(body: bytes, protocol: ir.Protocol) -> ir.Response:
    """A whole stream's events folded into the response it amounts to."""
    parser = CODECS[protocol].StreamParser()
    events = parser.feed(body) + parser.finish()
    blocks: dict[int, ir.Text | ir.Thinking | ir.ToolCall] = {}
    resp = ir.Response(id="", model="", choices=[], source=protocol)
    choice = ir.Choice(parts=[], stop_reason=None)
    errors: list[ir.Error] = []
    for event in events:
        if isinstance(event, ir.MessageStart):
            resp.id, resp.model, resp.usage = event.id, event.model, event.usage
        elif isinstance(event, ir.BlockStart):
            blocks[event.index] = _copy(event.part)
        elif isinstance(event, ir.BlockDelta) and event.index in blocks:
            _extend(blocks[event.index], event)
        elif isinstance(event, ir.UsageUpdate):
            resp.usage = event.usage
        elif isinstance(event, ir.Finish):
            choice.stop_reason, choice.raw_stop_reason = event.stop_reason, event.raw_stop_reason
            resp.usage = event.usage or resp.usage
        elif isinstance(event, ir.StreamError):
            errors.append(event.error)
    choice.parts = [blocks[i] for i in sorted(blocks)]
    resp.choices = [choice]
    if errors:
        resp.extra["stream_errors"] = errors
    return resp


def response_text(resp: ir.Response) -> str:
    head = " · ".join(x for x in (resp.model, resp.id) if x)
    lines = [head] if head else []
    for choice in resp.choices:
        lines.append("[assistant]" if len(resp.choices) == 1 else f"[choice {choice.index}]")
        lines += [_part(p) for p in choice.parts]
        stop: str = choice.stop_reason or "none"
        if choice.raw_stop_reason and choice.raw_stop_reason != stop:
            stop += f" ({choice.raw_stop_reason})"
        lines.append(f"stop: {stop}")
    if resp.usage is not None:
        lines.append("usage: " + _usage(resp.usage))
    lines += ["stream error: " + _error(e) for e in resp.extra.get("stream_errors", [])]
    return "\n".join(lines)


# ------------------------------------------------------------------------ pieces


def _settings(req: ir.Request) -> str:
    fields: list[tuple[str, object]] = [
        ("model", req.model),
        ("stream", req.stream or None),
        ("max_tokens", req.max_tokens),
        ("temperature", req.temperature),
        ("top_p", req.top_p),
        ("top_k", req.top_k),
        ("stop", req.stop),
        ("tool_choice", _tool_choice(req.tool_choice)),
        ("response_format", req.response_format and req.response_format.type),
        ("reasoning", _reasoning(req.reasoning)),
    ]
    return "  ".join(f"{k}: {v}" for k, v in fields if v is not None)


def _tool_signature(tool: ir.Tool) -> str:
    props = (tool.parameters or {}).get("properties")
    names = ", ".join(props) if isinstance(props, dict) else ""
    name = f"{tool.namespace}.{tool.name}" if tool.namespace else tool.name
    return f"{name}({names})" if tool.kind == "function" else f"{name} (custom)"


def _tool_choice(choice: ir.ToolChoice | None) -> str | None:
    if choice is None:
        return None
    return f"tool {choice.name}" if choice.mode == "tool" else choice.mode


def _reasoning(r: ir.Reasoning | None) -> str | None:
    if r is None:
        return None
    said = [
        f"effort {r.effort}" if r.effort else "",
        f"budget {r.budget_tokens}" if r.budget_tokens is not None else "",
        "off" if r.enabled is False else "",
        "adaptive" if r.adaptive else "",
        "thoughts shown" if r.include_thoughts else "",
    ]
    return ", ".join(s for s in said if s) or None


def _part(part: ir.Part) -> str:
    if isinstance(part, ir.Text):
        return _cut(part.text)
    if isinstance(part, ir.Thinking):
        if part.redacted is not None:
            return "(reasoning, redacted)"
        signed = " [signed]" if part.signature or part.sealed else ""
        return f"(reasoning{signed}) {_cut(part.text)}"
    if isinstance(part, ir.ToolCall):
        name = f"{part.namespace}.{part.name}" if part.namespace else part.name
        return f"→ tool call {name} {_cut(part.arguments)}  (id {part.id})"
    if isinstance(part, ir.ToolResult):
        error = " error" if part.is_error else ""
        inner = " ".join(_part(p) for p in part.content)
        return f"← tool result{error} for {part.call_id}: {inner}"
    if isinstance(part, ir.Image):
        where = part.url or (f"{len(part.data or '')} base64 chars" if part.data else part.file_id)
        return f"(image {part.media_type or ''} {where})"
    if isinstance(part, ir.Document):
        name = part.title or part.filename or part.url or part.file_id or ""
        return f"(document {part.media_type or ''} {name})"
    return f"(audio {part.media_type}, {len(part.data)} base64 chars)"


def _usage(usage: ir.Usage) -> str:
    text = f"{usage.input_tokens} in / {usage.output_tokens} out"
    extras = [
        f"{usage.cache_read_tokens} cached" if usage.cache_read_tokens else "",
        f"{usage.reasoning_tokens} reasoning" if usage.reasoning_tokens else "",
    ]
    return ", ".join([text, *(e for e in extras if e)])


def _error(err: ir.Error) -> str:
    return f"error {err.status} {err.kind}: {err.message}"


def _copy(part: ir.Text | ir.Thinking | ir.ToolCall) -> ir.Text | ir.Thinking | ir.ToolCall:
    """Events are immutable and share parts; the fold grows its own copy."""
    if isinstance(part, ir.Text):
        return ir.Text(part.text)
    if isinstance(part, ir.Thinking):
        return ir.Thinking(part.text, part.signature, part.redacted, part.origin)
    return ir.ToolCall(part.id, part.name, part.arguments, namespace=part.namespace)


def _extend(part: ir.Text | ir.Thinking | ir.ToolCall, delta: ir.BlockDelta) -> None:
    if delta.kind == "signature" and not isinstance(part, ir.ToolCall):
        part.signature = (part.signature or "") + delta.text
    elif isinstance(part, ir.ToolCall):
        part.arguments += delta.text
    else:
        part.text += delta.text


def _cut(text: str) -> str:
    return text if len(text) <= _CUT else text[:_CUT] + f"… ({len(text) - _CUT} more characters)"


def _unparsed(body: bytes, protocol: ir.Protocol, e: Exception) -> str:
    reason = getattr(e, "message", None) or str(e) or type(e).__name__
    try:
        shown = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        shown = body.decode("utf-8", "replace")
    return f"(not readable as {convert.PROTOCOL_NAMES[protocol]}: {reason})\n{_cut(shown)}"
