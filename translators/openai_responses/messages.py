"""Responses ``input`` items <-> IR messages, both directions.

Parsing groups items into IR messages:

- ``message`` items of role user, system or developer are one IR message each; content
  is a string or parts: ``input_text``, ``input_image`` (URL, data URL or ``file_id``;
  ``detail``), ``input_file`` (``file_data`` data URL or bare base64, ``file_url``,
  ``file_id``, ``filename``).
- assistant-side items (``message`` of role assistant with ``output_text`` / ``refusal``
  parts, ``reasoning``, ``function_call``, ``custom_tool_call``) join the IR assistant
  message they follow; an assistant ``message`` after one that already has text starts a
  new IR message, so two answers stay two.
- ``function_call_output`` / ``custom_tool_call_output`` are ToolResults of one IR
  ``tool`` message, named after the call they answer.
- ``reasoning``: the summary texts (else the ``reasoning_text`` content) are the thinking
  text; ``encrypted_content`` made by the gateway (``sealing.PREFIX``) stays closed in
  ``Thinking.sealed`` for ``convert.open_sealed_state``; OpenAI's own is the signature of
  an ``openai_responses`` thought, so it goes back to OpenAI only.
- ``item_reference`` cannot be resolved by a pure codec: the addon replaces references
  with the stored items first (``request.resolve_references``); one left over is a 400.
- ``additional_tools`` (Codex code mode) are handed to the tool parser and hoisted.
- Items with no IR equivalent (records of hosted tools: ``web_search_call``,
  ``file_search_call``, ``image_generation_call``, ``code_interpreter_call``, ``mcp_*``,
  ``computer_call*``, ``local_shell_call*``, ``shell_call*``, ``apply_patch_call*``,
  ``tool_search_*``, ``compaction``, ``program*``) are kept raw with their position; they
  go back only to OpenAI (``KEPT`` in ``Request.extra``, droppable elsewhere).

For the same protocol, fields the IR does not carry (item ids, ``status``, ``phase``,
annotations, several summary parts, the easy message form) are kept as a per-item
residue and put back when the rendered items line up with the parsed ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from translators import fields as f
from translators import ir, sealing
from translators.errors import TranslationError
from translators.openai_responses.wire import PROTOCOL

_ASSISTANT_ITEMS = frozenset({"reasoning", "function_call", "custom_tool_call"})
_OUTPUT_ITEMS = frozenset({"function_call_output", "custom_tool_call_output"})
_USER_PARTS = frozenset({"input_text", "input_image", "input_file"})
_ASSISTANT_PARTS = frozenset({"output_text", "refusal", "input_text"})
_ROLES = ("user", "system", "developer", "assistant")


@dataclass
class Parsed:
    messages: list[ir.Message] = field(default_factory=list)
    kept: list[list] = field(default_factory=list)  # [input index, raw item]
    tools: list[tuple[str, object]] = field(default_factory=list)  # hoisted (path, tool)


# --------------------------------------------------------------------------- parse


def parse_input(value: object, at: str = "input") -> Parsed:
    out = Parsed()
    if isinstance(value, str):
        out.messages.append(ir.Message("user", [ir.Text(value)]))
        return out
    names: dict[str, str] = {}  # call id -> tool name, for results
    for i, raw in enumerate(f.arr(value, at)):
        path = f.child(at, i)
        item = f.obj(raw, path)
        kind = f.type_of(item) or ("message" if "role" in item else None)
        if kind == "message":
            _message(item, path, out.messages)
        elif kind in _ASSISTANT_ITEMS:
            part = _assistant_item(kind, item, path)
            if isinstance(part, ir.ToolCall):
                names[part.id] = part.name
            _assistant(out.messages).parts.append(part)
        elif kind in _OUTPUT_ITEMS:
            _tool(out.messages).parts.append(_result(item, path, names))
        elif kind == "item_reference":
            raise TranslationError(
                f"{path} refers to item {item.get('id')!r}, which the gateway could not find "
                "(item references are resolved from stored responses only)",
                param=path,
                kind="not_found",
                status=404,
            )
        elif kind == "additional_tools":
            tools = f.need(item, "tools", f.arr, path)
            out.tools.extend((f.child(f.child(path, "tools"), k), t) for k, t in enumerate(tools))
            out.kept.append([i, item])  # hoisted into the tools; kept in place for OpenAI
        elif kind is not None:
            out.kept.append([i, item])
        else:
            raise f.fail(f.child(path, "type"), "must name an input item type")
    return out


def _assistant(messages: list[ir.Message]) -> ir.Message:
    if not messages or messages[-1].role != "assistant":
        messages.append(ir.Message("assistant", []))
    return messages[-1]


def _tool(messages: list[ir.Message]) -> ir.Message:
    if not messages or messages[-1].role != "tool":
        messages.append(ir.Message("tool", []))
    return messages[-1]


def _message(item: dict, path: str, messages: list[ir.Message]) -> None:
    role = f.need(item, "role", f.string, path)
    if role not in _ROLES:
        raise f.fail(f.child(path, "role"), "must be user, assistant, system or developer")
    content = item.get("content")
    cpath = f.child(path, "content")
    if content is None:
        raise f.fail(cpath, "is required")
    if role != "assistant":
        parts = _content(content, cpath, _USER_PARTS)
        messages.append(ir.Message(role, parts))  # type: ignore[arg-type]
        return
    parts = _content(content, cpath, _ASSISTANT_PARTS)
    message = _assistant(messages)
    if any(isinstance(p, ir.Text) for p in message.parts):
        message = ir.Message("assistant", [])
        messages.append(message)
    message.parts.extend(parts)


def _content(content: object, at: str, allowed: frozenset[str]) -> list[ir.Part]:
    if isinstance(content, str):
        return [ir.Text(content)]
    return [_part(p, f.child(at, j), allowed) for j, p in enumerate(f.arr(content, at))]


def _part(raw: object, at: str, allowed: frozenset[str]) -> ir.Part:
    part = f.obj(raw, at)
    kind = f.type_of(part)
    if kind not in allowed:
        raise f.fail(f.child(at, "type"), f"must be one of {', '.join(sorted(allowed))}")
    if kind in ("input_text", "output_text"):
        text = ir.Text(f.need(part, "text", f.string, at))
        annotations = f.get(part, "annotations", f.arr, at)
        if annotations:
            text.citations = annotations
        return text
    if kind == "refusal":
        return ir.Text(f.need(part, "refusal", f.string, at))
    if kind == "input_image":
        return _image(part, at)
    return _file(part, at)


def split_data_url(url: str, at: str) -> tuple[str | None, str]:
    header, comma, data = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise f.fail(at, "must be a base64 data URL")
    return header[5:-7] or None, data


def _image(part: dict, at: str) -> ir.Image:
    url = f.get(part, "image_url", f.string, at)
    file_id = f.get(part, "file_id", f.string, at)
    detail = f.get(part, "detail", f.string, at)
    if url is None and file_id is None:
        raise f.fail(at, "needs image_url or file_id")
    if url is not None and url.startswith("data:"):
        media_type, data = split_data_url(url, f.child(at, "image_url"))
        return ir.Image(media_type=media_type, data=data, detail=detail, file_id=file_id)
    return ir.Image(url=url, detail=detail, file_id=file_id)


def _file(part: dict, at: str) -> ir.Document:
    data = f.get(part, "file_data", f.string, at)
    url = f.get(part, "file_url", f.string, at)
    file_id = f.get(part, "file_id", f.string, at)
    if data is None and url is None and file_id is None:
        raise f.fail(at, "needs file_data, file_url or file_id")
    media_type = None
    if data is not None and data.startswith("data:"):
        media_type, data = split_data_url(data, f.child(at, "file_data"))
    return ir.Document(
        media_type=media_type,
        data=data,
        url=url,
        file_id=file_id,
        filename=f.get(part, "filename", f.string, at),
    )


def _assistant_item(kind: str, item: dict, at: str) -> ir.Part:
    if kind == "reasoning":
        return parse_reasoning(item, at)
    return parse_call(kind, item, at)


def parse_call(kind: str, item: dict, at: str) -> ir.ToolCall:
    """A ``function_call`` or ``custom_tool_call`` item (raw input as the arguments)."""
    call = ir.ToolCall(
        id=f.need(item, "call_id", f.string, at),
        name=f.need(item, "name", f.string, at),
        arguments="",
        namespace=f.get(item, "namespace", f.string, at),
    )
    if kind == "custom_tool_call":
        call.kind = "custom"
        call.arguments = f.need(item, "input", f.string, at)
    else:
        call.arguments = f.need(item, "arguments", f.string, at)
    return call


def parse_reasoning(item: dict, at: str) -> ir.Thinking:
    """A reasoning item; the summary is the thought's text (else its raw content)."""
    texts = [
        _summary_text(p, f.child(f.child(at, "summary"), k), "summary_text")
        for k, p in enumerate(f.get(item, "summary", f.arr, at) or [])
    ]
    if not texts:
        content = f.get(item, "content", f.arr, at) or []
        texts = [
            _summary_text(p, f.child(f.child(at, "content"), k), "reasoning_text")
            for k, p in enumerate(content)
        ]
    text = "\n\n".join(texts)
    blob = f.get(item, "encrypted_content", f.string, at)
    if sealing.is_sealed(blob):
        return ir.Thinking(text=text, sealed=blob)
    return ir.Thinking(text=text, signature=blob, origin=PROTOCOL)


def _summary_text(raw: object, at: str, kind: str) -> str:
    part = f.obj(raw, at)
    if f.type_of(part) != kind:
        raise f.fail(f.child(at, "type"), f"must be {kind}")
    return f.need(part, "text", f.string, at)


def _result(item: dict, at: str, names: dict[str, str]) -> ir.ToolResult:
    call_id = f.need(item, "call_id", f.string, at)
    output = item.get("output")
    opath = f.child(at, "output")
    if output is None:
        raise f.fail(opath, "is required")
    if isinstance(output, str):
        content: list[ir.Part] = [ir.Text(output)]
    else:
        content = [
            _part(p, f.child(opath, k), _USER_PARTS) for k, p in enumerate(f.arr(output, opath))
        ]
    name = f.get(item, "name", f.string, at)
    return ir.ToolResult(call_id=call_id, content=content, name=name or names.get(call_id))


# -------------------------------------------------------------------------- render


def render_input(messages: list[ir.Message], *, same_protocol: bool) -> list[dict]:
    """IR messages as input items; system and developer messages stay in place (the
    caller of this function has taken the leading ones as ``instructions``)."""
    kinds = {
        part.id: part.kind
        for message in messages
        for part in message.parts
        if isinstance(part, ir.ToolCall)
    }
    items: list[dict] = []
    for i, message in enumerate(messages):
        at = f"messages[{i}]"
        if message.role == "assistant":
            _render_assistant(message, at, same_protocol, items)
        else:
            _render_user(message, at, kinds, items)
    return items


def _render_user(message: ir.Message, at: str, kinds: dict, items: list[dict]) -> None:
    content: list[dict] = []
    for j, part in enumerate(message.parts):
        path = f"{at}.parts[{j}]"
        if isinstance(part, ir.ToolResult):
            items.append(_render_result(part, path, kinds.get(part.call_id, "function")))
        else:
            content.append(render_part(part, path))
    if content or not message.parts:
        role = "user" if message.role == "tool" else message.role
        items.append({"type": "message", "role": role, "content": content})


def _render_result(result: ir.ToolResult, at: str, kind: str) -> dict:
    parts = [render_part(p, f"{at}.content[{k}]") for k, p in enumerate(result.content)]
    output: str | list[dict] = parts
    if all(p["type"] == "input_text" for p in parts) and len(parts) <= 1:
        output = parts[0]["text"] if parts else ""
    item_type = "custom_tool_call_output" if kind == "custom" else "function_call_output"
    return {"type": item_type, "call_id": result.call_id, "output": output}


def render_part(part: ir.Part, at: str) -> dict:
    """A user-side content part: input_text, input_image or input_file."""
    if isinstance(part, ir.Text):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, ir.Image):
        out: dict = {"type": "input_image"}
        if part.data is not None:
            if not part.media_type:
                raise TranslationError(f"{at}: an inline image needs a media type", param=at)
            out["image_url"] = f"data:{part.media_type};base64,{part.data}"
        elif part.url is not None:
            if not part.url.startswith(("http://", "https://")):
                raise TranslationError(
                    f"{at}: OpenAI takes images as http(s) or data URLs, not {part.url!r}", param=at
                )
            out["image_url"] = part.url
        if part.file_id is not None:
            out["file_id"] = part.file_id
        if "image_url" not in out and "file_id" not in out:
            raise TranslationError(f"{at}: the image has no data, URL or file id", param=at)
        out["detail"] = part.detail or "auto"
        return out
    if isinstance(part, ir.Document):
        return _render_document(part, at)
    raise TranslationError(
        f"{at}: a {type(part).__name__} part cannot be sent to OpenAI Responses here", param=at
    )


def _render_document(doc: ir.Document, at: str) -> dict:
    if doc.text is not None and doc.data is None and doc.url is None and doc.file_id is None:
        return {"type": "input_text", "text": doc.text}
    out: dict = {"type": "input_file"}
    if doc.data is not None:
        media = doc.media_type
        out["file_data"] = f"data:{media};base64,{doc.data}" if media else doc.data
        out["filename"] = doc.filename or doc.title or "file"
    elif doc.url is not None:
        if not doc.url.startswith(("http://", "https://")):
            raise TranslationError(f"{at}: OpenAI takes file URLs over http(s)", param=at)
        out["file_url"] = doc.url
    elif doc.file_id is not None:
        out["file_id"] = doc.file_id
    else:
        raise TranslationError(f"{at}: the document has no data, URL or file id", param=at)
    if doc.filename is not None:
        out["filename"] = doc.filename
    return out


def _render_assistant(message: ir.Message, at: str, same: bool, items: list[dict]) -> None:
    texts: list[dict] = []

    def flush() -> None:
        if texts:
            items.append({"type": "message", "role": "assistant", "content": list(texts)})
            texts.clear()

    for j, part in enumerate(message.parts):
        if isinstance(part, ir.Text):
            if part.text:  # an empty text (a Gemini signature carrier) says nothing
                annotations = part.citations if same and part.citations else []
                texts.append({"type": "output_text", "text": part.text, "annotations": annotations})
            continue
        flush()
        if isinstance(part, ir.ToolCall):
            items.append(_render_call(part))
        elif isinstance(part, ir.Thinking):
            reasoning = _render_reasoning(part, same)
            if reasoning is not None:
                items.append(reasoning)
        else:
            raise TranslationError(
                f"{at}.parts[{j}]: a {type(part).__name__} cannot be an assistant item",
                param=f"{at}.parts[{j}]",
            )
    flush()


def _render_call(call: ir.ToolCall) -> dict:
    if call.kind == "custom":
        item = {"type": "custom_tool_call", "call_id": call.id, "name": call.name}
        item["input"] = call.arguments
    else:
        item = {"type": "function_call", "call_id": call.id, "name": call.name}
        item["arguments"] = call.arguments
    if call.namespace is not None:
        item["namespace"] = call.namespace
    return item


def _render_reasoning(part: ir.Thinking, same: bool) -> dict | None:
    """Only OpenAI's own reasoning goes back to OpenAI: another provider's thinking, and
    sealed state that was not opened, are never sent (bug 7)."""
    if part.sealed is not None or part.origin != PROTOCOL:
        return None
    if part.signature is None and not same:
        return None  # without encrypted_content OpenAI cannot use it (store: false)
    item: dict = {"type": "reasoning", "summary": []}
    if part.text:
        item["summary"] = [{"type": "summary_text", "text": part.text}]
    if part.signature is not None:
        item["encrypted_content"] = part.signature
    return item
