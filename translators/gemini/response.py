"""Whole ``GenerateContentResponse`` bodies, both ways (docs/conversion.md §4).

``responseId`` is the id and ``modelVersion`` the model, ``""`` when absent (other
formats' renderers then seed ids from ``RenderContext.request_id``). Candidate metadata
(safetyRatings, citationMetadata, finishMessage, avgLogprobs...) goes to ``Choice.extra``
and response metadata (promptFeedback...) to ``Response.extra``, for Gemini callers only.
"""

from __future__ import annotations

from translators import fields, ir
from translators.errors import TranslationError
from translators.gemini.messages import (
    parse_part,
    render_call,
    render_media,
    render_text,
    render_thought,
)
from translators.gemini.wire import (
    PROTOCOL,
    camel_obj,
    listed,
    parse_stop,
    parse_usage,
    render_stop,
    render_usage,
    usage_details,
)

# A prompt blocked before any candidate is one empty Choice marked with this extra key, so
# that a Gemini caller gets its ``candidates: []`` back.
PROMPT_BLOCKED = "promptBlocked"


def parse_response(body: object) -> ir.Response:
    """A Gemini answer; one without its protocol's shape (``candidates`` not a list, or
    neither candidates nor a prompt block) is the upstream's fault, never an empty
    success."""
    b = fields.obj(body, "")
    rid = b.get("responseId")
    model = b.get("modelVersion")
    resp = ir.Response(
        id=rid if isinstance(rid, str) else "",
        model=model if isinstance(model, str) else "",
        choices=[],
        source=PROTOCOL,
    )
    candidates = b.get("candidates")
    blocked = isinstance(b.get("promptFeedback"), dict)
    if candidates is None and not blocked:
        raise TranslationError(
            "malformed upstream response: it has neither candidates nor promptFeedback",
            param="candidates",
            kind="api_error",
            status=502,
        )
    for i, cand in enumerate(
        fields.arr(candidates, "candidates") if candidates is not None else []
    ):
        resp.choices.append(_choice(cand, i, resp.id))
    if not resp.choices:
        resp.choices.append(
            ir.Choice(
                parts=[],
                stop_reason="content_filter" if blocked else "other",
                extra={PROMPT_BLOCKED: True},
            )
        )
    meta = b.get("usageMetadata")
    if isinstance(meta, dict):
        resp.usage = parse_usage(meta)
        details = usage_details(meta)
        if details:
            resp.extra["usageMetadata"] = details
    for key, value in b.items():
        if key not in ("candidates", "usageMetadata", "modelVersion", "responseId"):
            resp.extra[key] = value
    return resp


def _choice(raw: object, i: int, rid: str) -> ir.Choice:
    at = fields.child("candidates", i)
    cand = camel_obj(raw, at)
    index = fields.integer(cand.get("index", i), fields.child(at, "index"))
    content = cand.get("content")
    content_at = fields.child(at, "content")
    raw_parts = camel_obj(content, content_at).get("parts", []) if content is not None else []
    parts_at = fields.child(content_at, "parts")
    parts: list[ir.Part] = []
    for j, part in enumerate(listed(raw_parts, parts_at)):
        part_at = fields.child(parts_at, j)
        if isinstance(part, dict) and "functionResponse" in part:
            raise fields.fail(part_at, "is a functionResponse, which a candidate cannot hold")
        parts.append(parse_part(part, part_at, (rid, index, j)))
    raw_finish = cand.get("finishReason")
    raw_finish = raw_finish if isinstance(raw_finish, str) else None
    has_call = any(isinstance(part, ir.ToolCall) for part in parts)
    return ir.Choice(
        parts=parts,
        stop_reason=parse_stop(raw_finish, has_call),
        index=index,
        raw_stop_reason=raw_finish,
        extra={k: v for k, v in cand.items() if k not in ("content", "finishReason", "index")},
    )


def render_response(resp: ir.Response, ctx: ir.RenderContext) -> dict:
    """``index`` is always written; a foreign choice without parts has no ``content``."""
    same_protocol = resp.source == PROTOCOL
    if same_protocol and all(choice.extra.get(PROMPT_BLOCKED) for choice in resp.choices):
        candidates: list[dict] = []
    else:
        candidates = [_candidate(c, i, same_protocol) for i, c in enumerate(resp.choices)]
    body: dict = {"candidates": candidates}
    if resp.usage is not None:
        details = resp.extra.get("usageMetadata") if same_protocol else None
        body["usageMetadata"] = render_usage(resp.usage, details)
    model = resp.model or ctx.model
    if model:
        body["modelVersion"] = model
    if resp.id:
        body["responseId"] = resp.id
    if same_protocol:
        for key, value in resp.extra.items():
            if key != "usageMetadata":
                body[key] = value
    return body


def _candidate(choice: ir.Choice, i: int, same_protocol: bool) -> dict:
    parts_at = fields.child(fields.child("choices", i), "parts")
    parts = [_render_part(part, fields.child(parts_at, j)) for j, part in enumerate(choice.parts)]
    cand: dict = {}
    if parts:
        cand["content"] = {"parts": parts, "role": "model"}
    reason = render_stop(choice.stop_reason, choice.raw_stop_reason, same_protocol)
    if reason is not None:
        cand["finishReason"] = reason
    cand["index"] = choice.index
    if same_protocol:
        cand.update(choice.extra)
    return cand


def _render_part(part: ir.Part, at: str) -> dict:
    if isinstance(part, ir.Text):
        return render_text(part)
    if isinstance(part, ir.Thinking):
        return render_thought(part)
    if isinstance(part, ir.ToolCall):
        return render_call(part, at)
    if isinstance(part, ir.ToolResult):
        raise fields.fail(at, "is a tool result, which a response cannot hold")
    return render_media(part, at)
