"""The conversation and its parts, both directions: ``messages[]`` <-> ``ir.Message``.

The rules, field by field, are in docs/conversion.md (§2 "Request fields", "Tool results",
"Thinking in history"); the docstrings here say why the code has the shape it has.
"""

from __future__ import annotations

from translators import extensions, fields, ir
from translators.errors import TranslationError
from translators.openai_chat import wire
from translators.openai_chat.wire import PROTOCOL

# ------------------------------------------------------------------------------- parse

_TEXT_PARTS = frozenset({"text"})
_USER_PARTS = frozenset({"text", "image_url", "input_audio", "file"})
_TOOL_PARTS = frozenset({"text", "image_url", "file"})
_ASSISTANT_PARTS = frozenset({"text", "refusal"})
_ROLES: dict[str, ir.Role] = {
    "system": "system",
    "developer": "developer",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
}


def parse_messages(messages: list, at: str = "messages") -> list[ir.Message]:
    """System and developer messages keep their role and their place."""
    names: dict[str, str] = {}  # tool call id -> function name, for tool results
    out: list[ir.Message] = []
    for i, message in enumerate(messages):
        message_at = fields.child(at, i)
        message = fields.obj(message, message_at)
        raw_role = message.get("role")
        role = _ROLES.get(raw_role) if isinstance(raw_role, str) else None
        name = fields.get(message, "name", fields.string, message_at)
        parts: list[ir.Part]
        if role is None:
            raise fields.fail(
                fields.child(message_at, "role"),
                "must be system, developer, user, assistant or tool",
            )
        if role == "system" or role == "developer":
            parts = _content(message, message_at, _TEXT_PARTS, required=True)
        elif role == "user":
            parts = _content(message, message_at, _USER_PARTS, required=True)
        elif role == "assistant":
            parts = _assistant_history(message, message_at, names)
        else:
            parts = [_tool_result(message, message_at, name, names)]
        out.append(ir.Message(role=role, parts=parts, name=name))
    return out


def _content(message: dict, at: str, allowed: frozenset[str], required: bool) -> list[ir.Part]:
    content = message.get("content")
    content_at = fields.child(at, "content")
    if content is None:
        if required:
            raise fields.fail(content_at, "is required")
        return []
    if isinstance(content, str):
        return [ir.Text(content)]
    if not isinstance(content, list):
        raise fields.fail(content_at, "must be a string or an array of content parts")
    return [_part(part, fields.child(content_at, j), allowed) for j, part in enumerate(content)]


def _part(part: object, at: str, allowed: frozenset[str]) -> ir.Part:
    """A content part; a ``cache_control`` marker on it (the convention LiteLLM and
    OpenRouter accept, used by Cline-style clients) is kept for Anthropic upstreams. The
    part-level ``prompt_cache_breakpoint`` hint is ignored."""
    part = fields.obj(part, at)
    parsed = _part_content(part, at, allowed)
    marker = part.get("cache_control")
    if isinstance(marker, dict) and isinstance(parsed, ir.Text | ir.Image | ir.Document):
        parsed.cache_control = marker
    return parsed


def _part_content(part: dict, at: str, allowed: frozenset[str]) -> ir.Part:
    kind = fields.type_of(part)
    if kind is None or kind not in allowed:
        raise fields.fail(
            fields.child(at, "type"),
            f"{part.get('type')!r} is not allowed here (expected one of {sorted(allowed)})",
        )
    if kind == "text":
        return ir.Text(fields.need(part, "text", fields.string, at))
    if kind == "refusal":
        return ir.Text(fields.need(part, "refusal", fields.string, at))
    if kind == "image_url":
        image = fields.need(part, "image_url", fields.obj, at)
        return _image(image, fields.child(at, "image_url"))
    if kind == "input_audio":
        audio = fields.need(part, "input_audio", fields.obj, at)
        audio_at = fields.child(at, "input_audio")
        audio_format = fields.need(audio, "format", fields.string, audio_at)
        data = fields.need(audio, "data", fields.string, audio_at)
        return ir.Audio(media_type=f"audio/{audio_format}", data=data)
    file = fields.need(part, "file", fields.obj, at)
    return _file(file, fields.child(at, "file"))


def _image(image: dict, at: str) -> ir.Image:
    """A data URL becomes inline base64 with its media type; an http(s) URL stays a URL."""
    url = fields.need(image, "url", fields.string, at)
    detail = fields.get(image, "detail", fields.string, at)
    if url.startswith("data:"):
        media_type, data = fields.data_url(url, fields.child(at, "url"))
        return ir.Image(media_type=media_type, data=data, detail=detail)
    if not url.startswith(("http://", "https://")):
        raise fields.fail(fields.child(at, "url"), "must be an http(s) or data URL")
    return ir.Image(url=url, detail=detail)


def _file(file: dict, at: str) -> ir.Document:
    """``file_data`` is a data URL or bare base64 (no media type then)."""
    data = fields.get(file, "file_data", fields.string, at)
    file_id = fields.get(file, "file_id", fields.string, at)
    if data is None and file_id is None:
        raise fields.fail(at, "needs file_data or file_id")
    media_type = None
    if data is not None and data.startswith("data:"):
        media_type, data = fields.data_url(data, fields.child(at, "file_data"))
    filename = fields.get(file, "filename", fields.string, at)
    return ir.Document(media_type=media_type, data=data, filename=filename, file_id=file_id)


def _assistant_history(message: dict, at: str, names: dict[str, str]) -> list[ir.Part]:
    """Assistant ``annotations`` are dropped (they describe an earlier answer and the
    model does not read them); ``audio`` and ``function_call`` have no IR place."""
    for key in ("audio", "function_call"):
        if message.get(key) is not None:
            raise fields.fail(
                fields.child(at, key), "cannot be translated (no equivalent in other protocols)"
            )
    parts = parse_assistant_parts(message, at)
    for part in parts:
        if isinstance(part, ir.ToolCall):
            names[part.id] = part.name
    return parts


def parse_assistant_parts(message: dict, at: str) -> list[ir.Part]:
    """An assistant message of the history or of an answer: thinking, then text (the
    refusal last), then tool calls, the order every other protocol writes them in.
    Google's message-level ``extra_content`` signature rides on the first text part."""
    parts: list[ir.Part] = _thinking_parts(message, at)
    # _ASSISTANT_PARTS are text and refusal, both read as Text: the filter only narrows.
    content = _content(message, at, _ASSISTANT_PARTS, required=False)
    texts = [part for part in content if isinstance(part, ir.Text)]
    refusal = fields.get(message, "refusal", fields.string, at)
    if refusal is not None:
        texts.append(ir.Text(refusal))
    signature = extensions.parse_google_extra(message.get("extra_content"))
    if signature is not None:
        if texts:
            texts[0].signature = signature
        else:
            texts.append(ir.Text("", signature=signature))
    parts += texts
    calls = fields.get(message, "tool_calls", fields.arr, at) or []
    calls_at = fields.child(at, "tool_calls")
    parts += [_tool_call(call, fields.child(calls_at, k)) for k, call in enumerate(calls)]
    return parts


def _thinking_parts(message: dict, at: str) -> list[ir.Part]:
    """``thinking_blocks`` (LiteLLM's shape, with signatures) win over
    ``reasoning_content`` (DeepSeek, vLLM) or ``reasoning`` (OpenRouter, Ollama), which
    hold the same text without them."""
    blocks = fields.get(message, "thinking_blocks", fields.arr, at)
    if blocks:
        blocks_at = fields.child(at, "thinking_blocks")
        return [
            wire.parse_thinking_block(b, fields.child(blocks_at, k)) for k, b in enumerate(blocks)
        ]
    text = fields.get(message, "reasoning_content", fields.string, at)
    if not text:
        reasoning = message.get("reasoning")
        text = reasoning if isinstance(reasoning, str) else None
    return [ir.Thinking(text=text, origin=PROTOCOL)] if text else []


def _tool_call(call: object, at: str) -> ir.ToolCall:
    """Arguments stay JSON text, verbatim."""
    call = fields.obj(call, at)
    if call.get("type", "function") != "function":
        raise fields.fail(
            fields.child(at, "type"),
            f"{call.get('type')!r}: only function tool calls can be translated",
        )
    function = fields.need(call, "function", fields.obj, at)
    function_at = fields.child(at, "function")
    return ir.ToolCall(
        id=fields.need(call, "id", fields.string, at),
        name=fields.need(function, "name", fields.string, function_at),
        arguments=fields.need(function, "arguments", fields.string, function_at),
        signature=extensions.parse_google_extra(call.get("extra_content")),
    )


def _tool_result(message: dict, at: str, name: str | None, names: dict[str, str]) -> ir.ToolResult:
    """The function's name is the message's ``name``, else the name of the call answered."""
    call_id = fields.need(message, "tool_call_id", fields.string, at)
    return ir.ToolResult(
        call_id=call_id,
        content=_content(message, at, _TOOL_PARTS, required=True),
        name=name if name is not None else names.get(call_id),
    )


# ------------------------------------------------------------------------------ render


def render_messages(
    messages: list[ir.Message], same_protocol: bool, at: str = "messages"
) -> list[dict]:
    out: list[dict] = []
    for i, message in enumerate(messages):
        message_at = fields.child(at, i)
        if message.role in ("system", "developer"):
            out.append(_render_instruction(message, message_at))
        elif message.role == "assistant":
            out.append(_render_assistant(message, message_at, same_protocol))
        else:
            out.extend(_render_user(message, message_at))
    return out


def _with_name(message: dict, name: str | None) -> dict:
    if name is not None:
        message["name"] = name
    return message


def _refuse_part(part: ir.Part, at: str, where: str) -> TranslationError:
    return TranslationError(
        f"{at}: a {type(part).__name__} part cannot be sent in {where} to OpenAI Chat",
        param=at,
    )


def _render_instruction(message: ir.Message, at: str) -> dict:
    texts = []
    for j, part in enumerate(message.parts):
        if not isinstance(part, ir.Text):
            raise _refuse_part(
                part, fields.child(fields.child(at, "parts"), j), f"a {message.role} message"
            )
        texts.append(part)
    return _with_name({"role": message.role, "content": _text_content(texts)}, message.name)


def _text_content(texts: list[ir.Text]) -> str | list[dict]:
    """One text is the plain string form every OpenAI-compatible server accepts. Cache
    markers are dropped: OpenAI caches by itself and compatible servers reject them."""
    if len(texts) == 1:
        return texts[0].text
    if not texts:
        return ""
    return [{"type": "text", "text": t.text} for t in texts]


def _render_assistant(message: ir.Message, at: str, same_protocol: bool) -> dict:
    """Only thinking an OpenAI-compatible server produced goes back, as
    ``reasoning_content``: DeepSeek requires it on tool turns, while servers such as
    Cerebras reject the field, so another provider's thinking is dropped rather than risk
    that 400. Signatures and Google's ``extra_content`` go back only to the caller's own
    protocol."""
    thinking: list[str] = []
    texts: list[ir.Text] = []
    calls: list[dict] = []
    for j, part in enumerate(message.parts):
        if isinstance(part, ir.Text):
            texts.append(part)
        elif isinstance(part, ir.ToolCall):
            calls.append(render_tool_call(part, signature=same_protocol))
        elif isinstance(part, ir.Thinking):
            if part.origin == PROTOCOL:
                thinking.append(part.text)
        else:
            raise _refuse_part(
                part, fields.child(fields.child(at, "parts"), j), "an assistant message"
            )
    out: dict = {"role": "assistant", "content": _assistant_content(texts, bool(calls))}
    reasoning = "".join(thinking)
    if reasoning:
        out["reasoning_content"] = reasoning
    signature = next((t.signature for t in texts if t.signature), None)
    if same_protocol and signature:
        out["extra_content"] = extensions.render_google_extra(signature)
    if calls:
        out["tool_calls"] = calls
    return _with_name(out, message.name)


def _assistant_content(texts: list[ir.Text], has_calls: bool) -> str | list[dict] | None:
    """A tool-only turn sends null content, never an empty text: several compatible
    servers reject an empty text beside tool calls
    (test_tool_only_assistant_turn_has_null_content)."""
    if has_calls:
        texts = [t for t in texts if t.text]
    return _text_content(texts) if texts else None


def render_tool_call(call: ir.ToolCall, *, signature: bool) -> dict:
    """A ``tool_calls[]`` entry; ``signature``: write a Gemini signature as Google's
    ``extra_content``."""
    out: dict = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if signature and call.signature:
        out["extra_content"] = extensions.render_google_extra(call.signature)
    return out


def _render_user(message: ir.Message, at: str) -> list[dict]:
    """User and tool messages: each ToolResult becomes its own tool message, and what a
    tool message cannot hold (images, documents: tool messages take text only) follows
    in one user message after them. ``is_error`` is dropped: the text says what failed."""
    results: list[dict] = []
    moved: list[dict] = []
    own: list[dict] = []
    for j, part in enumerate(message.parts):
        part_at = fields.child(fields.child(at, "parts"), j)
        if isinstance(part, ir.ToolResult):
            results.append(_render_result(part, part_at, moved, message))
        else:
            own.append(_user_part(part, part_at))
    parts = moved + own
    if parts or not results:
        content: str | list[dict] = parts
        if len(parts) == 1 and parts[0]["type"] == "text":
            content = parts[0]["text"]
        elif not parts:
            content = ""
        user = {"role": "user", "content": content}
        results.append(_with_name(user, None if message.role == "tool" else message.name))
    return results


def _render_result(result: ir.ToolResult, at: str, moved: list[dict], message: ir.Message) -> dict:
    texts: list[ir.Text] = []
    for k, part in enumerate(result.content):
        if isinstance(part, ir.Text):
            texts.append(part)
        else:
            moved.append(_user_part(part, fields.child(fields.child(at, "content"), k)))
    out = {"role": "tool", "tool_call_id": result.call_id, "content": _text_content(texts)}
    return _with_name(out, message.name if message.role == "tool" else None)


def _user_part(part: ir.Part, at: str) -> dict:
    if isinstance(part, ir.Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, ir.Image):
        return {"type": "image_url", "image_url": _render_image(part, at)}
    if isinstance(part, ir.Audio):
        audio = {"data": part.data, "format": _audio_format(part.media_type, at)}
        return {"type": "input_audio", "input_audio": audio}
    if isinstance(part, ir.Document):
        return _render_document(part, at)
    raise _refuse_part(part, at, "a user message")


def _render_image(image: ir.Image, at: str) -> dict:
    """Inline data needs a media type; references must be http(s) (no ``gs://``)."""
    if image.data is not None:
        if not image.media_type:
            raise TranslationError(f"{at}: an inline image needs a media type", param=at)
        out = {"url": f"data:{image.media_type};base64,{image.data}"}
    elif image.url and image.url.startswith(("http://", "https://")):
        out = {"url": image.url}
    else:
        raise TranslationError(
            f"{at}: OpenAI Chat takes images as http(s) or data URLs, not {image.url!r}",
            param=at,
        )
    if image.detail is not None:
        out["detail"] = image.detail
    return out


_AUDIO_FORMATS = {"audio/mpeg": "mp3", "audio/x-wav": "wav", "audio/wave": "wav"}


def _audio_format(media_type: str, at: str) -> str:
    """``input_audio.format`` is the media subtype, with the common aliases folded."""
    if media_type in _AUDIO_FORMATS:
        return _AUDIO_FORMATS[media_type]
    if not media_type.startswith("audio/"):
        raise TranslationError(f"{at}: {media_type!r} is not an audio type", param=at)
    return media_type[6:]


def _render_document(doc: ir.Document, at: str) -> dict:
    """A plain-text source becomes a text part; ``title`` and ``context`` are dropped."""
    if doc.citations and doc.citations.get("enabled"):
        raise TranslationError(
            f"{at}: document citations have no equivalent in OpenAI Chat", param=at
        )
    if doc.text is not None and doc.data is None:
        return {"type": "text", "text": doc.text}
    if doc.data is None and doc.file_id is None:
        raise TranslationError(
            f"{at}: OpenAI Chat takes files as data or file_id, not by URL", param=at
        )
    file: dict = {}
    if doc.filename is not None:
        file["filename"] = doc.filename
    if doc.data is not None:
        media = doc.media_type
        file["file_data"] = f"data:{media};base64,{doc.data}" if media else doc.data
    if doc.file_id is not None:
        file["file_id"] = doc.file_id
    return {"type": "file", "file": file}
