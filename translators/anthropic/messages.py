"""The conversation and its content blocks, both directions: ``system`` and the turns of
a request, and the blocks an answer is made of."""

from __future__ import annotations

from collections.abc import Callable

import orjson

from translators import fields, ir
from translators.anthropic.wire import (
    PROTOCOL,
    parse_google_signature,
    parse_signature,
    render_google_signature,
    render_signature,
)
from translators.errors import TranslationError
from translators.fields import child, fail

# ----------------------------------------------------------------------- parse


def parse_system(value: object) -> list[ir.Message]:
    """``system`` (a string or text blocks) is the IR system message that opens the
    conversation."""
    if value is None:
        return []
    if isinstance(value, str):
        return [ir.Message("system", [ir.Text(value)])]
    parts: list[ir.Part] = []
    for i, raw in enumerate(fields.arr(value, "system")):
        at = child("system", i)
        block = fields.obj(raw, at)
        if block.get("type") != "text":
            raise fail(child(at, "type"), "must be text: system blocks are text blocks")
        parts.append(_parse_text(block, at))
    return [ir.Message("system", parts)]


def parse_message(raw: object, at: str) -> ir.Message:
    """One turn. Besides user and assistant, an Anthropic caller may send ``system``
    turns, which stay where they are toward Anthropic."""
    message = fields.obj(raw, at)
    role = message.get("role")
    if role not in ("user", "assistant", "system"):
        raise fail(child(at, "role"), f"must be user, assistant or system, not {role!r}")
    content = message.get("content")
    if isinstance(content, str):
        return ir.Message(role, [ir.Text(content)])
    content_at = child(at, "content")
    blocks = fields.arr(content, content_at)
    return ir.Message(role, [_parse_block(b, child(content_at, j)) for j, b in enumerate(blocks)])


def _parse_block(raw: object, at: str) -> ir.Part:
    """A request block. Server-tool blocks, ``search_result``, ``tool_reference``,
    ``container_upload``, ``mid_conv_system`` and unknown types have no IR part: refused."""
    block = fields.obj(raw, at)
    btype = fields.type_of(block)
    parser = _BLOCK_PARSERS.get(btype) if btype is not None else None
    if parser is None:
        raise fail(child(at, "type"), f"{block.get('type')!r} cannot be translated")
    return parser(block, at)


def parse_response_block(block: dict, at: str) -> ir.Part | None:
    """A block of an answer, or None for one with no IR part (server-tool blocks, which
    the caller of an Anthropic upstream gets back in place)."""
    btype = fields.type_of(block)
    parser = _RESPONSE_PARSERS.get(btype) if btype is not None else None
    return None if parser is None else parser(block, at)


def _parse_text(block: dict, at: str) -> ir.Text:
    return ir.Text(
        text=fields.need(block, "text", fields.string, at),
        cache_control=fields.get(block, "cache_control", fields.obj, at),
        signature=parse_google_signature(block),
        citations=fields.get(block, "citations", fields.arr, at),
    )


def _parse_image(block: dict, at: str) -> ir.Image:
    """A ``base64`` or ``url`` source; a ``file`` source (an Anthropic file id) has no
    IR form for images."""
    source_at = child(at, "source")
    source = fields.need(block, "source", fields.obj, at)
    stype = source.get("type")
    cache = fields.get(block, "cache_control", fields.obj, at)
    if stype == "base64":
        return ir.Image(
            media_type=fields.need(source, "media_type", fields.string, source_at),
            data=fields.need(source, "data", fields.string, source_at),
            cache_control=cache,
        )
    if stype == "url":
        return ir.Image(
            url=fields.need(source, "url", fields.string, source_at), cache_control=cache
        )
    raise fail(child(source_at, "type"), f"{stype!r} cannot be translated for an image")


def _parse_document(block: dict, at: str) -> ir.Document:
    source_at = child(at, "source")
    source = fields.need(block, "source", fields.obj, at)
    doc = ir.Document(
        title=fields.get(block, "title", fields.string, at),
        context=fields.get(block, "context", fields.string, at),
        citations=fields.get(block, "citations", fields.obj, at),
        cache_control=fields.get(block, "cache_control", fields.obj, at),
    )
    stype = source.get("type")
    if stype == "base64":
        doc.media_type = fields.need(source, "media_type", fields.string, source_at)
        doc.data = fields.need(source, "data", fields.string, source_at)
    elif stype == "url":
        doc.url = fields.need(source, "url", fields.string, source_at)
    elif stype == "text":
        doc.media_type = fields.get(source, "media_type", fields.string, source_at) or "text/plain"
        doc.text = fields.need(source, "data", fields.string, source_at)
    elif stype == "content":
        # Only the string form fits IR; a block list would need nested parts.
        doc.text = fields.need(source, "content", fields.string, source_at)
    elif stype == "file":
        doc.file_id = fields.need(source, "file_id", fields.string, source_at)
    else:
        raise fail(child(source_at, "type"), f"{stype!r} cannot be translated for a document")
    return doc


def _parse_tool_use(block: dict, at: str) -> ir.ToolCall:
    """``input`` is kept as JSON text. ``caller`` (who made a programmatic call, which
    needs server blocks, refused) is dropped."""
    arguments = fields.need(block, "input", fields.obj, at)
    return ir.ToolCall(
        id=fields.need(block, "id", fields.string, at),
        name=fields.need(block, "name", fields.string, at),
        arguments=orjson.dumps(arguments).decode(),
        signature=parse_google_signature(block),
        cache_control=fields.get(block, "cache_control", fields.obj, at),
    )


def _parse_tool_result(block: dict, at: str) -> ir.ToolResult:
    content = block.get("content")
    parts: list[ir.Part] = []
    if isinstance(content, str):
        parts = [ir.Text(content)] if content else []
    elif content is not None:
        content_at = child(at, "content")
        for j, raw in enumerate(fields.arr(content, content_at)):
            item_at = child(content_at, j)
            item = fields.obj(raw, item_at)
            itype = fields.type_of(item)
            parser = _RESULT_PARSERS.get(itype) if itype is not None else None
            if parser is None:
                raise fail(
                    child(item_at, "type"), "must be text, image or document in a tool_result"
                )
            parts.append(parser(item, item_at))
    return ir.ToolResult(
        call_id=fields.need(block, "tool_use_id", fields.string, at),
        content=parts,
        is_error=fields.get(block, "is_error", fields.boolean, at),
        cache_control=fields.get(block, "cache_control", fields.obj, at),
    )


def _parse_thinking(block: dict, at: str) -> ir.Thinking:
    """Thinking of another provider comes back with the ``<protocol>:`` signature prefix
    the gateway gave it (``wire.parse_signature``)."""
    text = fields.need(block, "thinking", fields.string, at)
    signature, origin = parse_signature(fields.get(block, "signature", fields.string, at) or "")
    return ir.Thinking(text=text, signature=signature, origin=origin)


def _parse_redacted(block: dict, at: str) -> ir.Thinking:
    return ir.Thinking(redacted=fields.need(block, "data", fields.string, at), origin=PROTOCOL)


_Parser = Callable[[dict, str], ir.Part]
_RESULT_PARSERS: dict[str, _Parser] = {
    "text": _parse_text,
    "image": _parse_image,
    "document": _parse_document,
}
_RESPONSE_PARSERS: dict[str, _Parser] = {
    "text": _parse_text,
    "tool_use": _parse_tool_use,
    "thinking": _parse_thinking,
    "redacted_thinking": _parse_redacted,
}
_BLOCK_PARSERS: dict[str, _Parser] = {
    **_RESULT_PARSERS,
    **_RESPONSE_PARSERS,
    "tool_result": _parse_tool_result,
}

# ---------------------------------------------------------------------- render


def render_conversation(
    messages: list[ir.Message], same_protocol: bool
) -> tuple[str | list[dict] | None, list[dict]]:
    """``system`` and the alternating turns Anthropic requires.

    Leading IR system/developer messages become ``system`` (text only). Later ones are
    written in place as user text: hoisting them into ``system`` would break the
    prompt-cache prefix and could separate a tool_use from its tool_result
    (``test_foreign_system_developer_and_mid_conversation_system``); an Anthropic
    caller's own ``system`` turns stay as they are. Consecutive turns of one role are
    merged, IR ``tool`` messages join the adjacent user turn, and turns left with no
    block are dropped.
    """
    lead = 0
    system: list[dict] = []
    while lead < len(messages) and messages[lead].role in ("system", "developer"):
        at = child("messages", lead)
        for j, part in enumerate(messages[lead].parts):
            if not isinstance(part, ir.Text):
                raise TranslationError(
                    "Anthropic's system takes text only", param=child(child(at, "parts"), j)
                )
        system += _render_parts(messages[lead], at, same_protocol)
        lead += 1
    turns: list[tuple[str, list[dict]]] = []
    for i in range(lead, len(messages)):
        message = messages[i]
        blocks = _render_parts(message, child("messages", i), same_protocol)
        if not blocks:
            continue
        role = _turn_role(message.role, same_protocol)
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    _order_tool_results(turns)
    rendered = [{"role": role, "content": _content(blocks)} for role, blocks in turns]
    return (_content(system) if system else None), rendered


def _turn_role(role: ir.Role, same_protocol: bool) -> str:
    if role == "assistant":
        return "assistant"
    if role == "system" and same_protocol:
        return "system"
    return "user"


def _order_tool_results(turns: list[tuple[str, list[dict]]]) -> None:
    """Anthropic wants a user turn's tool_result blocks first, in the order of the calls
    of the preceding assistant turn; everything else keeps its order."""
    calls: dict[str, int] = {}
    for role, blocks in turns:
        if role == "assistant":
            ids = [b["id"] for b in blocks if b["type"] == "tool_use"]
            calls = {call_id: k for k, call_id in enumerate(ids)}
            continue
        results = [b for b in blocks if b["type"] == "tool_result"]
        if results:
            results.sort(key=lambda b: calls.get(b["tool_use_id"], len(calls)))
            blocks[:] = results + [b for b in blocks if b["type"] != "tool_result"]


def _content(blocks: list[dict]) -> str | list[dict]:
    """One plain text block is written in the string shorthand."""
    if len(blocks) == 1 and blocks[0].keys() == {"type", "text"} and blocks[0]["type"] == "text":
        text: str = blocks[0]["text"]
        return text
    return blocks


def _render_parts(message: ir.Message, at: str, same_protocol: bool) -> list[dict]:
    blocks: list[dict] = []
    parts_at = child(at, "parts")
    for j, part in enumerate(message.parts):
        block = render_part(part, child(parts_at, j), same_protocol, request=True)
        if block is not None:
            blocks.append(block)
    return blocks


def render_part(part: ir.Part, at: str, same_protocol: bool, *, request: bool) -> dict | None:
    """One Anthropic block, or None when the part is dropped by a documented rule.

    ``request`` is True toward the Anthropic API, which never gets the extension fields
    that carry other providers' state to an Anthropic caller (docs/extensions.md)."""
    if isinstance(part, ir.Text):
        return _render_text(part, same_protocol, request=request)
    if isinstance(part, ir.ToolCall):
        block: dict = {"type": "tool_use", "id": part.id, "name": part.name}
        block["input"] = _tool_input(part.arguments, at, request=request)
        if part.cache_control is not None:
            block["cache_control"] = part.cache_control
        return block if request else render_google_signature(block, part.signature)
    if isinstance(part, ir.Thinking):
        return _render_thinking(part, request=request)
    if request and isinstance(part, ir.Image):
        return _render_image(part, at)
    if request and isinstance(part, ir.Document):
        return _render_document(part, at, same_protocol)
    if request and isinstance(part, ir.ToolResult):
        return _render_tool_result(part, at, same_protocol)
    if isinstance(part, ir.Audio):
        raise TranslationError("Anthropic has no audio input", param=at)
    raise TranslationError(
        f"{type(part).__name__} cannot be an Anthropic response block",
        param=at,
        kind="not_implemented",
        status=501,
    )


def _render_text(part: ir.Text, same_protocol: bool, *, request: bool) -> dict | None:
    """Anthropic rejects empty and whitespace-only text blocks in a request ("text
    content blocks must contain non-whitespace text"): they are dropped. Citations only
    go back to Anthropic."""
    if request and not part.text.strip():
        return None
    block: dict = {"type": "text", "text": part.text}
    if part.cache_control is not None:
        block["cache_control"] = part.cache_control
    if same_protocol and part.citations is not None:
        block["citations"] = part.citations
    return block if request else render_google_signature(block, part.signature)


def _render_thinking(part: ir.Thinking, *, request: bool) -> dict | None:
    """Claude rejects thinking it did not sign: thinking of other origins, and unsigned
    thinking, are left out of a request. A caller gets every thought, foreign ones with
    their origin in the signature (``wire.render_signature``)."""
    if part.redacted is not None:
        keep = part.origin == PROTOCOL or not request
        return {"type": "redacted_thinking", "data": part.redacted} if keep else None
    if request and (part.origin != PROTOCOL or not part.signature):
        return None
    signature = render_signature(part.signature, part.origin)
    return {"type": "thinking", "thinking": part.text, "signature": signature}


def _tool_input(arguments: str, at: str, *, request: bool) -> dict:
    """Tool arguments are JSON text in IR and an object on Anthropic's wire; ``""`` is
    ``{}``. Anything else is the caller's fault in a request, the upstream's in an
    answer."""
    try:
        return fields.json_object(arguments, at)
    except TranslationError as e:
        if request:
            raise
        raise TranslationError(e.message, param=at, kind="api_error", status=500) from None


def _render_image(part: ir.Image, at: str) -> dict:
    source: dict
    if part.data is not None:
        if not part.media_type:
            raise TranslationError("Anthropic needs the media type of a base64 image", param=at)
        source = {"type": "base64", "media_type": part.media_type, "data": part.data}
    else:
        source = _url_source(part.url, at, "image")
    block: dict = {"type": "image", "source": source}
    if part.cache_control is not None:
        block["cache_control"] = part.cache_control
    return block


def _url_source(url: str | None, at: str, media: str) -> dict:
    """Anthropic fetches http(s) URLs only (``gs://`` and the like are refused)."""
    if url is None or not url.startswith(("https://", "http://")):
        raise TranslationError(f"Anthropic can only fetch {media}s from http(s) URLs", param=at)
    return {"type": "url", "url": url}


def _render_document(part: ir.Document, at: str, same_protocol: bool) -> dict:
    """Text with a media type is a ``text`` source, text without one a ``content``
    source; a file id only reaches Anthropic when it is Anthropic's own; the filename is
    the title when there is none."""
    source: dict
    if part.data is not None:
        source = {"type": "base64", "media_type": part.media_type, "data": part.data}
    elif part.text is not None and part.media_type is not None:
        source = {"type": "text", "media_type": part.media_type, "data": part.text}
    elif part.text is not None:
        source = {"type": "content", "content": part.text}
    elif part.file_id is not None:
        if not same_protocol:
            raise TranslationError("Anthropic cannot read another provider's file id", param=at)
        source = {"type": "file", "file_id": part.file_id}
    else:
        source = _url_source(part.url, at, "document")
    block: dict = {"type": "document", "source": source}
    title = part.title if part.title is not None else part.filename
    for key, value in (
        ("title", title),
        ("context", part.context),
        ("citations", part.citations),
        ("cache_control", part.cache_control),
    ):
        if value is not None:
            block[key] = value
    return block


def _render_tool_result(part: ir.ToolResult, at: str, same_protocol: bool) -> dict:
    """Content of one plain text is written as a string, no content as ``""``; the
    result's ``name`` has no Anthropic field."""
    blocks: list[dict] = []
    content_at = child(at, "content")
    for k, item in enumerate(part.content):
        item_at = child(content_at, k)
        if not isinstance(item, ir.Text | ir.Image | ir.Document):
            raise TranslationError(
                "tool results can only hold text, images and documents", param=item_at
            )
        block = render_part(item, item_at, same_protocol, request=True)
        if block is not None:
            blocks.append(block)
    result: dict = {"type": "tool_result", "tool_use_id": part.call_id}
    result["content"] = _content(blocks) if blocks else ""
    if part.is_error is not None:
        result["is_error"] = part.is_error
    if part.cache_control is not None:
        result["cache_control"] = part.cache_control
    return result
