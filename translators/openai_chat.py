"""OpenAI Chat Completions codec (``POST /v1/chat/completions``).

One codec serves OpenAI callers and every OpenAI-shaped upstream: OpenAI itself and the
compatible servers (Ollama, vLLM, Groq, DeepSeek, OpenRouter). It therefore reads the
dialect fields those servers add (``reasoning_content``/``reasoning``, DeepSeek cache
counters, Groq's ``x_groq.usage``, flat or string error bodies) and writes only what
OpenAI defines, plus ``reasoning_content`` in assistant history (DeepSeek requires it
echoed back on tool turns, so it is echoed for thinking such a server produced) and
the extension fields of docs/extensions.md toward callers.
The stream parser and renderer live in ``openai_chat_stream`` and are re-exported here.

Requests
--------
System and developer messages keep their role and their place. Content is a string or
parts: ``image_url`` (a data URL becomes inline base64 with its media type, an
http(s) URL stays a URL; ``detail`` kept), ``input_audio`` (media type ``audio/<format>``), ``file``
(``file_data`` as a data URL or bare base64, ``filename``, ``file_id``). Assistant
history: ``thinking_blocks`` (LiteLLM's shape, signatures attributed by prefix) or else
``reasoning_content``/``reasoning`` become Thinking parts ahead of the text; tool-call
arguments stay JSON text, verbatim; Google's ``extra_content.google.thought_signature``
rides on the call or, at message level, on the first text part. A ``tool`` message
becomes a ToolResult whose name is looked up from the call it answers.

``max_completion_tokens`` and the deprecated ``max_tokens`` both fill ``max_tokens``; a
caller who used ``max_tokens`` gets it back under that name. A string ``stop`` comes back
as a string. A request from another protocol gets ``max_completion_tokens``, the field
OpenAI's reasoning models require. When streaming, ``stream_options.
include_usage`` is always requested upstream so the final usage can be translated;
whether the caller sees it is the renderer's ``ctx.include_usage``.

``Request.extra`` holds every top-level field this module does not map, written back
only toward OpenAI-shaped upstreams when the caller was OpenAI-shaped too. Non-function
tools (``custom``) are kept in ``extra["tools"]`` and a ``tool_choice`` naming one in
``extra["tool_choice"]``; neither is droppable. Keys starting ``openai_chat:`` are this
codec's own form markers (never wire fields).

Responses
---------
``refusal`` becomes a Text part and stop reason content_filter; ``reasoning_content``
(DeepSeek, vLLM) or ``reasoning`` (OpenRouter, Ollama) becomes Thinking; fields without
an IR slot (``logprobs``, ``annotations``, ``system_fingerprint``, ``service_tier``,
usage details) stay in ``extra`` so the same protocol gets them back. Toward an OpenAI
caller, foreign thinking goes out as ``reasoning_content`` plus ``thinking_blocks`` when
it carries signatures, and content is null when there is no text. Another provider's
text citations and matched ``stop_sequence`` have no field there and are left out; an
image, audio or document in an answer cannot be expressed and is refused (502).

Dropped or refused on the way in
--------------------------------
- Explicit ``null`` on any field, and ``stream: false``, mean "the default" and are not
  kept.
- DROPPABLE toward other protocols, because none changes what the model writes:
  ``store``, ``metadata``, ``service_tier``, ``stream_options`` (after
  ``include_usage`` is taken), ``safety_identifier``, ``prompt_cache_key``,
  ``prompt_cache_retention``, ``prompt_cache_options``, a ``max_tokens`` superseded by
  ``max_completion_tokens`` in the same body, and the form markers. Everything else left
  in extra (``logit_bias``, ``verbosity``, ``modalities``, ``audio``, ``prediction``,
  ``web_search_options``, non-function tools, ...) is refused by the pipeline.
- Assistant ``annotations`` in history are dropped (they describe an earlier answer and
  the model does not read them); a non-null assistant ``audio`` or ``function_call``,
  ``role: "function"`` messages and the deprecated ``functions``/``function_call``
  request fields are refused: the IR has no place for them.
- The part-level ``prompt_cache_breakpoint`` hint is ignored.
- ``reasoning_content`` is ignored when ``thinking_blocks`` is present (the blocks hold
  the same text, with signatures).

Dropped or refused when rendering toward an OpenAI-shaped upstream
-------------------------------------------------------------------
- Cache markers (``cache_control``) of any part, tool or request: dropped; OpenAI
  caches automatically and compatible servers reject the field. (Markers an OpenAI
  caller puts on text, image and file parts are read, and reach Anthropic upstreams.)
- Thinking: only text that an OpenAI-compatible server produced (origin
  ``openai_chat``) is sent back, as ``reasoning_content``: DeepSeek requires it on tool
  turns, while servers such as Cerebras reject the field (OpenAI's schema has none), so
  another provider's thinking is dropped rather than risk that 400. Signatures,
  ``thinking_blocks`` and redacted thinking are never sent upstream. Google
  ``extra_content`` is written back only for an OpenAI-shaped caller that sent it.
- ``top_k``: refused (OpenAI has none and no value of it is neutral), except for an
  OpenAI-shaped caller who sent it to a compatible server that takes it.
- ToolResult ``is_error``: dropped (the result text says what failed). Images and
  documents in a ToolResult: the tool message keeps the text and a user message right
  after the tool messages carries them (tool messages hold text only; PEER-BUGS #16).
- Images: inline data needs a media type; references must be http(s) URLs (a Gemini
  ``gs://`` reference is refused). Audio: ``format`` is the media subtype
  (``audio/mpeg`` -> mp3).
- Documents: a plain-text source becomes a text part; ``title`` and ``context`` are
  dropped; a URL source or enabled ``citations`` are refused.
- Reasoning: ``effort`` as is; else ``budget_tokens`` by the table <=1024 low,
  <=8192 medium, larger high; ``enabled: False`` and ``adaptive`` send nothing, because
  ``"none"`` is rejected by most reasoning models and omitting it is their default.
  ``include_thoughts`` is dropped: Chat Completions never returns OpenAI's reasoning.
- Text ``citations`` in history are dropped (output metadata of another provider).
- A json_schema response format without a name gets the name ``"response"`` (required).
"""

from __future__ import annotations

from typing import Any, get_args

import orjson

from translators import ir
from translators.errors import TranslationError
from translators.openai_chat_stream import (
    PROTOCOL,
    StreamParser,
    StreamRenderer,
    error_from_object,
    error_to_object,
    finish_reason_to_wire,
    google_extra,
    google_signature,
    stop_reason_from_wire,
    thinking_signature,
    usage_from_wire,
    usage_to_wire,
)

__all__ = [
    "DROPPABLE",
    "PROTOCOL",
    "StreamParser",
    "StreamRenderer",
    "parse_error",
    "parse_request",
    "parse_response",
    "recognise",
    "render_error",
    "render_request",
    "render_response",
]

_MARK = "openai_chat:"
_LEGACY_MAX_TOKENS = _MARK + "max_tokens"  # caller wrote max_tokens, not max_completion_tokens
_STOP_STRING = _MARK + "stop_string"  # caller wrote stop as a string
_REFUSAL = _MARK + "refusal"  # Choice.extra: the last Text part is message.refusal
_REASONING_FIELD = _MARK + "reasoning_field"  # Choice.extra: upstream's reasoning field
_USAGE = _MARK + "usage"  # Response.extra: the upstream's usage object, details included

DROPPABLE: frozenset[str] = frozenset(
    {
        "store",
        "metadata",
        "service_tier",
        "stream_options",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "prompt_cache_options",
        "max_tokens",
        _LEGACY_MAX_TOKENS,
        _STOP_STRING,
    }
)

_PROTOCOLS: frozenset[str] = frozenset(get_args(ir.Protocol))

# ------------------------------------------------------------------------- recognise

_CHAT_ONLY_KEYS = frozenset(
    {
        "max_completion_tokens",
        "n",
        "response_format",
        "stream_options",
        "reasoning_effort",
        "logit_bias",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        "seed",
        "parallel_tool_calls",
        "modalities",
        "prediction",
    }
)
_FOREIGN_KEYS = frozenset(
    {"contents", "system", "stop_sequences", "anthropic_version", "input", "instructions"}
)
_CHAT_ONLY_PARTS = frozenset({"image_url", "input_audio", "file", "refusal"})


def recognise(body: object) -> int:
    """2 for a body only Chat Completions has, 1 for a plain messages body another
    protocol (Anthropic) could also accept, 0 when anything contradicts Chat."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return 0
    if not _FOREIGN_KEYS.isdisjoint(body):
        return 0
    score = 2 if not _CHAT_ONLY_KEYS.isdisjoint(body) else 1
    tools = body.get("tools")
    if isinstance(tools, list):
        for tool in tools:
            if not isinstance(tool, dict) or "input_schema" in tool:
                return 0
            if tool.get("type") == "function" and "function" in tool:
                score = 2
    for message in body["messages"]:
        shape = _message_shape(message)
        if shape == 0:
            return 0
        score = max(score, shape)
    return score


def _message_shape(message: object) -> int:
    if not isinstance(message, dict):
        return 0
    role = message.get("role")
    if role in ("system", "developer", "tool") or "tool_calls" in message:
        return 2
    if role not in ("user", "assistant"):
        return 0
    content = message.get("content")
    if not isinstance(content, list):
        return 1
    shape = 1
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if not isinstance(kind, str):
            return 0
        if kind in _CHAT_ONLY_PARTS:
            shape = 2
        elif kind != "text":
            return 0
    return shape


# ------------------------------------------------------------------ field validation


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _typed(
    obj: dict, key: str, path: str, types: type | tuple[type, ...], what: str, required: bool
) -> Any:
    """The value of ``key`` if it has the wanted JSON type; None when absent or null.
    bool is an int in Python but never a JSON number, so it only passes as bool."""
    value = obj.get(key)
    if value is None:
        if required:
            raise TranslationError(f"{_at(path, key)} is required", param=_at(path, key))
        return None
    if isinstance(value, bool) != (types is bool) or not isinstance(value, types):
        raise TranslationError(f"{_at(path, key)} must be {what}", param=_at(path, key))
    return value


def _str(obj: dict, key: str, path: str, required: bool = False) -> str | None:
    return _typed(obj, key, path, str, "a string", required)


def _int(obj: dict, key: str, path: str) -> int | None:
    return _typed(obj, key, path, int, "an integer", False)


def _num(obj: dict, key: str, path: str) -> float | None:
    return _typed(obj, key, path, (int, float), "a number", False)


def _bool(obj: dict, key: str, path: str) -> bool | None:
    return _typed(obj, key, path, bool, "a boolean", False)


def _obj(obj: dict, key: str, path: str, required: bool = False) -> dict | None:
    return _typed(obj, key, path, dict, "an object", required)


def _arr(obj: dict, key: str, path: str, required: bool = False) -> list | None:
    return _typed(obj, key, path, list, "an array", required)


def _dict_at(value: object, path: str) -> dict:
    if not isinstance(value, dict):
        raise TranslationError(f"{path} must be an object", param=path)
    return value


# --------------------------------------------------------------------- parse request

# wire name -> (IR attribute, validator); rendered back symmetrically.
_SCALARS = {
    "temperature": ("temperature", _num),
    "top_p": ("top_p", _num),
    "n": ("n", _int),
    "seed": ("seed", _int),
    "presence_penalty": ("presence_penalty", _num),
    "frequency_penalty": ("frequency_penalty", _num),
    "logprobs": ("logprobs", _bool),
    "top_logprobs": ("top_logprobs", _int),
    "user": ("user", _str),
    "parallel_tool_calls": ("parallel_tool_calls", _bool),
}
_MAPPED = frozenset(
    {
        "model",
        "messages",
        "stream",
        "max_completion_tokens",
        "max_tokens",
        "stop",
        "tools",
        "tool_choice",
        "response_format",
        "reasoning_effort",
        "top_k",
        *_SCALARS,
    }
)
_REFUSED_FIELDS = ("functions", "function_call")


def parse_request(
    body: object, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """``model``/``stream`` override the body's values when the route supplies them."""
    body = _dict_at(body, "body")
    for key in _REFUSED_FIELDS:
        if body.get(key) is not None:
            raise TranslationError(
                f"{key} is deprecated and cannot be translated; use tools/tool_choice",
                param=key,
            )
    req = ir.Request(
        model=model if model is not None else _str(body, "model", "", required=True),
        messages=_parse_messages(_arr(body, "messages", "", required=True)),
        source=PROTOCOL,
        stream=stream if stream is not None else bool(_bool(body, "stream", "")),
        top_k=_int(body, "top_k", ""),
    )
    extra = {k: v for k, v in body.items() if k not in _MAPPED and v is not None}
    for key, (attr, check) in _SCALARS.items():
        value = check(body, key, "")
        if value is not None:
            setattr(req, attr, value)
    _parse_max_tokens(body, req, extra)
    _parse_stop(body, req, extra)
    options = _obj(body, "stream_options", "")
    if options is not None:
        req.include_usage = bool(_bool(options, "include_usage", "stream_options"))
    req.tools = _parse_tools(_arr(body, "tools", "") or [], extra)
    req.tool_choice = _parse_tool_choice(body.get("tool_choice"), extra)
    response_format = _obj(body, "response_format", "")
    if response_format is not None:
        req.response_format = _parse_response_format(response_format)
    effort = _str(body, "reasoning_effort", "")
    if effort is not None:
        req.reasoning = ir.Reasoning(effort=effort)
    req.extra = extra
    return req


def _parse_max_tokens(body: dict, req: ir.Request, extra: dict) -> None:
    current = _int(body, "max_completion_tokens", "")
    legacy = _int(body, "max_tokens", "")
    req.max_tokens = current if current is not None else legacy
    if legacy is not None:
        if current is not None:
            extra["max_tokens"] = legacy  # superseded, OpenAI reads max_completion_tokens
        else:
            extra[_LEGACY_MAX_TOKENS] = True


def _parse_stop(body: dict, req: ir.Request, extra: dict) -> None:
    stop = body.get("stop")
    if stop is None:
        return
    if isinstance(stop, str):
        req.stop = [stop]
        extra[_STOP_STRING] = True
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        req.stop = list(stop)
    else:
        raise TranslationError("stop must be a string or an array of strings", param="stop")


def _parse_tools(tools: list, extra: dict) -> list[ir.Tool]:
    out: list[ir.Tool] = []
    others: list[dict] = []
    for k, tool in enumerate(tools):
        path = f"tools[{k}]"
        tool = _dict_at(tool, path)
        if tool.get("type") != "function":
            others.append(tool)
            continue
        function = _obj(tool, "function", path, required=True)
        path = f"{path}.function"
        out.append(
            ir.Tool(
                name=_str(function, "name", path, required=True),
                description=_str(function, "description", path),
                parameters=_obj(function, "parameters", path),
                strict=_bool(function, "strict", path),
            )
        )
    if others:
        extra["tools"] = others
    return out


def _parse_tool_choice(choice: object, extra: dict) -> ir.ToolChoice | None:
    if choice is None:
        return None
    if choice in ("none", "auto", "required"):
        return ir.ToolChoice(choice)
    if not isinstance(choice, dict):
        raise TranslationError(
            "tool_choice must be none, auto, required or an object", param="tool_choice"
        )
    kind = choice.get("type")
    if kind == "function":
        function = _obj(choice, "function", "tool_choice", required=True)
        return ir.ToolChoice("tool", name=_str(function, "name", "tool_choice.function", True))
    if kind == "allowed_tools":
        allowed = _obj(choice, "allowed_tools", "tool_choice", required=True)
        mode = allowed.get("mode")
        tools = _arr(allowed, "tools", "tool_choice.allowed_tools", required=True)
        names = [_function_name(t) for t in tools]
        if mode in ("auto", "required") and None not in names:
            return ir.ToolChoice(mode, allowed=names)
    extra["tool_choice"] = choice  # custom tools: carried only toward OpenAI
    return None


def _function_name(tool: object) -> str | None:
    if isinstance(tool, dict) and tool.get("type") == "function":
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        return name if isinstance(name, str) else None
    return None


def _parse_response_format(value: dict) -> ir.ResponseFormat:
    kind = _str(value, "type", "response_format", required=True)
    if kind in ("text", "json_object"):
        return ir.ResponseFormat(kind)
    if kind != "json_schema":
        raise TranslationError(
            f"response_format.type {kind!r} is not text, json_object or json_schema",
            param="response_format.type",
        )
    schema = _obj(value, "json_schema", "response_format", required=True)
    path = "response_format.json_schema"
    return ir.ResponseFormat(
        "json_schema",
        schema=_obj(schema, "schema", path),
        name=_str(schema, "name", path),
        description=_str(schema, "description", path),
        strict=_bool(schema, "strict", path),
    )


# -------------------------------------------------------------------- parse messages

_TEXT_PARTS = frozenset({"text"})
_USER_PARTS = frozenset({"text", "image_url", "input_audio", "file"})
_TOOL_PARTS = frozenset({"text", "image_url", "file"})
_ASSISTANT_PARTS = frozenset({"text", "refusal"})


def _parse_messages(messages: list) -> list[ir.Message]:
    names: dict[str, str] = {}  # tool call id -> function name, for tool results
    out: list[ir.Message] = []
    for i, message in enumerate(messages):
        path = f"messages[{i}]"
        message = _dict_at(message, path)
        role = message.get("role")
        name = _str(message, "name", path)
        if role in ("system", "developer"):
            parts = _content(message, path, _TEXT_PARTS, required=True)
        elif role == "user":
            parts = _content(message, path, _USER_PARTS, required=True)
        elif role == "assistant":
            parts = _assistant_history(message, path, names)
        elif role == "tool":
            parts = [_tool_result(message, path, name, names)]
        else:
            raise TranslationError(
                f"{path}.role must be system, developer, user, assistant or tool",
                param=f"{path}.role",
            )
        out.append(ir.Message(role=role, parts=parts, name=name))
    return out


def _content(message: dict, path: str, allowed: frozenset[str], required: bool) -> list[ir.Part]:
    content = message.get("content")
    if content is None:
        if required:
            raise TranslationError(f"{path}.content is required", param=f"{path}.content")
        return []
    if isinstance(content, str):
        return [ir.Text(content)]
    if not isinstance(content, list):
        raise TranslationError(
            f"{path}.content must be a string or an array of content parts",
            param=f"{path}.content",
        )
    return [_part(part, f"{path}.content[{j}]", allowed) for j, part in enumerate(content)]


def _part(part: object, path: str, allowed: frozenset[str]) -> ir.Part:
    """A content part; a ``cache_control`` marker on it (the convention LiteLLM and
    OpenRouter accept, used by Cline-style clients) is kept for Anthropic upstreams."""
    part = _dict_at(part, path)
    parsed = _part_content(part, path, allowed)
    marker = part.get("cache_control")
    if isinstance(marker, dict) and isinstance(parsed, (ir.Text, ir.Image, ir.Document)):
        parsed.cache_control = marker
    return parsed


def _part_content(part: dict, path: str, allowed: frozenset[str]) -> ir.Part:
    kind = part.get("type")
    if not isinstance(kind, str) or kind not in allowed:
        raise TranslationError(
            f"{path}.type {kind!r} is not allowed here (expected one of {sorted(allowed)})",
            param=f"{path}.type",
        )
    if kind == "text":
        return ir.Text(_str(part, "text", path, required=True))
    if kind == "refusal":
        return ir.Text(_str(part, "refusal", path, required=True))
    if kind == "image_url":
        return _image(_obj(part, "image_url", path, required=True), f"{path}.image_url")
    if kind == "input_audio":
        audio = _obj(part, "input_audio", path, required=True)
        path = f"{path}.input_audio"
        audio_format = _str(audio, "format", path, required=True)
        return ir.Audio(media_type=f"audio/{audio_format}", data=_str(audio, "data", path, True))
    return _file(_obj(part, "file", path, required=True), f"{path}.file")


def _image(image: dict, path: str) -> ir.Image:
    url = _str(image, "url", path, required=True)
    detail = _str(image, "detail", path)
    if url.startswith("data:"):
        media_type, data = _split_data_url(url, f"{path}.url")
        return ir.Image(media_type=media_type, data=data, detail=detail)
    if not url.startswith(("http://", "https://")):
        raise TranslationError(f"{path}.url must be an http(s) or data URL", param=f"{path}.url")
    return ir.Image(url=url, detail=detail)


def _file(file: dict, path: str) -> ir.Document:
    data = _str(file, "file_data", path)
    file_id = _str(file, "file_id", path)
    if data is None and file_id is None:
        raise TranslationError(f"{path} needs file_data or file_id", param=path)
    media_type = None
    if data is not None and data.startswith("data:"):
        media_type, data = _split_data_url(data, f"{path}.file_data")
    return ir.Document(
        media_type=media_type, data=data, filename=_str(file, "filename", path), file_id=file_id
    )


def _split_data_url(url: str, path: str) -> tuple[str | None, str]:
    header, comma, data = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise TranslationError(f"{path} must be a base64 data URL", param=path)
    return header[5:-7] or None, data


def _assistant_history(message: dict, path: str, names: dict[str, str]) -> list[ir.Part]:
    for key in ("audio", "function_call"):
        if message.get(key) is not None:
            raise TranslationError(
                f"{path}.{key} cannot be translated (no equivalent in other protocols)",
                param=f"{path}.{key}",
            )
    parts = _assistant_parts(message, path)
    for part in parts:
        if isinstance(part, ir.ToolCall):
            names[part.id] = part.name
    return parts


def _assistant_parts(message: dict, path: str) -> list[ir.Part]:
    """Shared by request history and responses: thinking, then text (the refusal last),
    then tool calls, the order every other protocol writes them in."""
    parts: list[ir.Part] = _thinking_parts(message, path)
    texts: list[ir.Part] = _content(message, path, _ASSISTANT_PARTS, required=False)
    refusal = _str(message, "refusal", path)
    if refusal is not None:
        texts.append(ir.Text(refusal))
    signature = google_signature(message.get("extra_content"))
    if signature is not None:
        if texts:
            texts[0].signature = signature
        else:
            texts.append(ir.Text("", signature=signature))
    parts += texts
    calls = _arr(message, "tool_calls", path) or []
    parts += [_tool_call(call, f"{path}.tool_calls[{k}]") for k, call in enumerate(calls)]
    return parts


def _thinking_parts(message: dict, path: str) -> list[ir.Part]:
    blocks = _arr(message, "thinking_blocks", path)
    if blocks:
        return [_thinking_block(b, f"{path}.thinking_blocks[{k}]") for k, b in enumerate(blocks)]
    text = _str(message, "reasoning_content", path)
    if not text:
        reasoning = message.get("reasoning")
        text = reasoning if isinstance(reasoning, str) else None
    return [ir.Thinking(text=text, origin=PROTOCOL)] if text else []


def _thinking_block(block: object, path: str) -> ir.Thinking:
    block = _dict_at(block, path)
    kind = block.get("type")
    if kind == "redacted_thinking":
        return ir.Thinking(redacted=_str(block, "data", path, required=True), origin="anthropic")
    if kind != "thinking":
        raise TranslationError(
            f"{path}.type must be thinking or redacted_thinking", param=f"{path}.type"
        )
    text = _str(block, "thinking", path) or ""
    signature = _str(block, "signature", path)
    if not signature:
        return ir.Thinking(text=text, origin=PROTOCOL)
    prefix, colon, rest = signature.partition(":")
    if colon and prefix in _PROTOCOLS:
        return ir.Thinking(text=text, signature=rest, origin=prefix)
    return ir.Thinking(text=text, signature=signature, origin="anthropic")


def _tool_call(call: object, path: str) -> ir.ToolCall:
    call = _dict_at(call, path)
    if call.get("type", "function") != "function":
        raise TranslationError(
            f"{path}.type {call.get('type')!r}: only function tool calls can be translated",
            param=f"{path}.type",
        )
    function = _obj(call, "function", path, required=True)
    fpath = f"{path}.function"
    return ir.ToolCall(
        id=_str(call, "id", path, required=True),
        name=_str(function, "name", fpath, required=True),
        arguments=_str(function, "arguments", fpath, required=True),
        signature=google_signature(call.get("extra_content")),
    )


def _tool_result(message: dict, path: str, name: str | None, names: dict) -> ir.ToolResult:
    call_id = _str(message, "tool_call_id", path, required=True)
    return ir.ToolResult(
        call_id=call_id,
        content=_content(message, path, _TOOL_PARTS, required=True),
        name=name if name is not None else names.get(call_id),
    )


# -------------------------------------------------------------------- render request


def render_request(req: ir.Request) -> dict:
    same = req.source == PROTOCOL
    out: dict = {"model": req.model, "messages": _render_messages(req.messages, same)}
    if same:
        out.update((k, v) for k, v in req.extra.items() if not k.startswith(_MARK))
    if req.max_tokens is not None:
        legacy = same and req.extra.get(_LEGACY_MAX_TOKENS)
        out["max_tokens" if legacy else "max_completion_tokens"] = req.max_tokens
    for key, (attr, _) in _SCALARS.items():
        value = getattr(req, attr)
        if value is not None:
            out[key] = value
    if req.top_k is not None:
        if not same:
            raise TranslationError(
                "top_k has no equivalent in OpenAI Chat Completions", param="top_k"
            )
        out["top_k"] = req.top_k
    if req.stop is not None:
        as_string = same and req.extra.get(_STOP_STRING) and len(req.stop) == 1
        out["stop"] = req.stop[0] if as_string else list(req.stop)
    if req.stream:
        out["stream"] = True
        options = out.get("stream_options")
        out["stream_options"] = {
            **(options if isinstance(options, dict) else {}),
            "include_usage": True,
        }
    tools = [_render_tool(tool) for tool in req.tools] + (out.get("tools") or [])
    if tools:
        out["tools"] = tools
    if req.tool_choice is not None:
        out["tool_choice"] = _render_tool_choice(req.tool_choice)
    if req.response_format is not None:
        out["response_format"] = _render_response_format(req.response_format)
    effort = _reasoning_effort(req.reasoning) if req.reasoning is not None else None
    if effort is not None:
        out["reasoning_effort"] = effort
    return out


def _render_tool(tool: ir.Tool) -> dict:
    function: dict = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _render_tool_choice(choice: ir.ToolChoice) -> str | dict:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name}}
    if choice.allowed is not None and choice.mode != "none":
        tools = [{"type": "function", "function": {"name": name}} for name in choice.allowed]
        return {"type": "allowed_tools", "allowed_tools": {"mode": choice.mode, "tools": tools}}
    return choice.mode


def _render_response_format(value: ir.ResponseFormat) -> dict:
    if value.type != "json_schema":
        return {"type": value.type}
    schema: dict = {"name": value.name or "response"}
    if value.description is not None:
        schema["description"] = value.description
    if value.schema is not None:
        schema["schema"] = value.schema
    if value.strict is not None:
        schema["strict"] = value.strict
    return {"type": "json_schema", "json_schema": schema}


def _reasoning_effort(reasoning: ir.Reasoning) -> str | None:
    if reasoning.effort is not None:
        return reasoning.effort
    if reasoning.enabled is False or reasoning.budget_tokens is None:
        return None
    budget = reasoning.budget_tokens
    if budget < 1:
        return None
    if budget <= 1024:
        return "low"
    return "medium" if budget <= 8192 else "high"


def _render_messages(messages: list[ir.Message], same: bool) -> list[dict]:
    out: list[dict] = []
    for i, message in enumerate(messages):
        path = f"messages[{i}]"
        if message.role in ("system", "developer"):
            out.append(_render_instruction(message, path))
        elif message.role == "assistant":
            out.append(_render_assistant(message, path, same))
        else:
            out.extend(_render_user(message, path))
    return out


def _with_name(message: dict, name: str | None) -> dict:
    if name is not None:
        message["name"] = name
    return message


def _refuse_part(part: ir.Part, path: str, where: str) -> TranslationError:
    return TranslationError(
        f"{path}: a {type(part).__name__} part cannot be sent in {where} to OpenAI Chat",
        param=path,
    )


def _render_instruction(message: ir.Message, path: str) -> dict:
    texts = []
    for j, part in enumerate(message.parts):
        if not isinstance(part, ir.Text):
            raise _refuse_part(part, f"{path}.parts[{j}]", f"a {message.role} message")
        texts.append(part)
    return _with_name({"role": message.role, "content": _text_content(texts)}, message.name)


def _text_content(texts: list[ir.Text]) -> str | list[dict]:
    """One text is the plain string form every OpenAI-compatible server accepts."""
    if len(texts) == 1:
        return texts[0].text
    if not texts:
        return ""
    return [{"type": "text", "text": t.text} for t in texts]


def _render_assistant(message: ir.Message, path: str, same: bool) -> dict:
    thinking: list[str] = []
    texts: list[ir.Text] = []
    calls: list[dict] = []
    for j, part in enumerate(message.parts):
        if isinstance(part, ir.Text):
            texts.append(part)
        elif isinstance(part, ir.ToolCall):
            calls.append(_render_call(part, same))
        elif isinstance(part, ir.Thinking):
            if part.origin == PROTOCOL:
                thinking.append(part.text)
        else:
            raise _refuse_part(part, f"{path}.parts[{j}]", "an assistant message")
    out: dict = {"role": "assistant", "content": _assistant_content(texts, bool(calls))}
    reasoning = "".join(thinking)
    if reasoning:
        out["reasoning_content"] = reasoning
    signature = next((t.signature for t in texts if t.signature), None)
    if same and signature:
        out["extra_content"] = google_extra(signature)
    if calls:
        out["tool_calls"] = calls
    return _with_name(out, message.name)


def _assistant_content(texts: list[ir.Text], has_calls: bool) -> str | list[dict] | None:
    """Tool-only turns send null, never an empty text (PEER-BUGS #9)."""
    if has_calls:
        texts = [t for t in texts if t.text]
    return _text_content(texts) if texts else None


def _render_call(call: ir.ToolCall, same: bool) -> dict:
    out = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if same and call.signature:
        out["extra_content"] = google_extra(call.signature)
    return out


def _render_user(message: ir.Message, path: str) -> list[dict]:
    """User and tool messages: each ToolResult becomes its own tool message, and what a
    tool message cannot hold follows in one user message after them."""
    results: list[dict] = []
    moved: list[dict] = []
    own: list[dict] = []
    for j, part in enumerate(message.parts):
        ppath = f"{path}.parts[{j}]"
        if isinstance(part, ir.ToolResult):
            results.append(_render_result(part, ppath, moved, message))
        else:
            own.append(_user_part(part, ppath))
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


def _render_result(
    result: ir.ToolResult, path: str, moved: list[dict], message: ir.Message
) -> dict:
    texts: list[ir.Text] = []
    for k, part in enumerate(result.content):
        if isinstance(part, ir.Text):
            texts.append(part)
        else:
            moved.append(_user_part(part, f"{path}.content[{k}]"))
    out = {"role": "tool", "tool_call_id": result.call_id, "content": _text_content(texts)}
    return _with_name(out, message.name if message.role == "tool" else None)


def _user_part(part: ir.Part, path: str) -> dict:
    if isinstance(part, ir.Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, ir.Image):
        return {"type": "image_url", "image_url": _render_image(part, path)}
    if isinstance(part, ir.Audio):
        audio = {"data": part.data, "format": _audio_format(part.media_type, path)}
        return {"type": "input_audio", "input_audio": audio}
    if isinstance(part, ir.Document):
        return _render_document(part, path)
    raise _refuse_part(part, path, "a user message")


def _render_image(image: ir.Image, path: str) -> dict:
    if image.data is not None:
        if not image.media_type:
            raise TranslationError(f"{path}: an inline image needs a media type", param=path)
        out = {"url": f"data:{image.media_type};base64,{image.data}"}
    elif image.url and image.url.startswith(("http://", "https://")):
        out = {"url": image.url}
    else:
        raise TranslationError(
            f"{path}: OpenAI Chat takes images as http(s) or data URLs, not {image.url!r}",
            param=path,
        )
    if image.detail is not None:
        out["detail"] = image.detail
    return out


_AUDIO_FORMATS = {"audio/mpeg": "mp3", "audio/x-wav": "wav", "audio/wave": "wav"}


def _audio_format(media_type: str, path: str) -> str:
    if media_type in _AUDIO_FORMATS:
        return _AUDIO_FORMATS[media_type]
    if not media_type.startswith("audio/"):
        raise TranslationError(f"{path}: {media_type!r} is not an audio type", param=path)
    return media_type[6:]


def _render_document(doc: ir.Document, path: str) -> dict:
    if doc.citations and doc.citations.get("enabled"):
        raise TranslationError(
            f"{path}: document citations have no equivalent in OpenAI Chat", param=path
        )
    if doc.text is not None and doc.data is None:
        return {"type": "text", "text": doc.text}
    if doc.data is None and doc.file_id is None:
        raise TranslationError(
            f"{path}: OpenAI Chat takes files as data or file_id, not by URL", param=path
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


# -------------------------------------------------------------------- parse response

_RESPONSE_MAPPED = frozenset({"id", "object", "created", "model", "choices", "usage"})


def parse_response(body: object) -> ir.Response:
    """A malformed upstream answer is the upstream's fault: 502, not the caller's 400."""
    try:
        return _parse_response(_dict_at(body, "body"))
    except TranslationError as exc:
        raise TranslationError(
            f"malformed upstream response: {exc.message}",
            param=exc.param,
            kind="api_error",
            status=502,
        ) from exc


def _parse_response(body: dict) -> ir.Response:
    choices = _arr(body, "choices", "", required=True)
    extra = {k: v for k, v in body.items() if k not in _RESPONSE_MAPPED}
    created = body.get("created")
    usage = body.get("usage")
    if usage is not None:
        extra[_USAGE] = usage
    return ir.Response(
        id=_str(body, "id", "") or "",
        model=_str(body, "model", "") or "",
        choices=[_parse_choice(c, f"choices[{i}]", i) for i, c in enumerate(choices)],
        source=PROTOCOL,
        usage=usage_from_wire(usage) if usage is not None else None,
        created=created if type(created) is int else None,  # a bad timestamp is replaced
        extra=extra,
    )


def _parse_choice(choice: object, path: str, position: int) -> ir.Choice:
    choice = _dict_at(choice, path)
    message = _obj(choice, "message", path, required=True)
    parts = _assistant_parts(message, f"{path}.message")
    finish_reason = _str(choice, "finish_reason", path)
    refused = isinstance(message.get("refusal"), str)
    index = _int(choice, "index", path)
    extra = {k: v for k, v in choice.items() if k not in ("index", "message", "finish_reason")}
    mapped = {"role", "content", "tool_calls", "thinking_blocks"}
    if refused:
        mapped.add("refusal")
        extra[_REFUSAL] = True
    if google_signature(message.get("extra_content")) is not None:
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
    return ir.Choice(
        parts=parts,
        stop_reason=stop_reason_from_wire(
            finish_reason,
            has_tool_call=any(isinstance(p, ir.ToolCall) for p in parts),
            refused=refused,
        ),
        index=index if index is not None else position,
        raw_stop_reason=finish_reason,
        extra=extra,
    )


# ------------------------------------------------------------------- render response


def render_response(resp: ir.Response, ctx: ir.RenderContext) -> dict:
    same = resp.source == PROTOCOL
    out: dict = {
        "id": resp.id or f"chatcmpl-{ctx.request_id}",
        "object": "chat.completion",
        "created": resp.created if resp.created is not None else ctx.created,
        "model": resp.model or ctx.model,
    }
    if same:
        out.update((k, v) for k, v in resp.extra.items() if not k.startswith(_MARK))
    out["choices"] = [
        _render_choice(choice, f"choices[{i}]", same) for i, choice in enumerate(resp.choices)
    ]
    if resp.usage is not None:
        out["usage"] = usage_to_wire(resp.usage, resp.extra.get(_USAGE) if same else None)
    return out


def _render_choice(choice: ir.Choice, path: str, same: bool) -> dict:
    extra = choice.extra if same else {}
    thinking: list[ir.Thinking] = []
    texts: list[ir.Text] = []
    calls: list[dict] = []
    for j, part in enumerate(choice.parts):
        if isinstance(part, ir.Text):
            texts.append(part)
        elif isinstance(part, ir.ToolCall):
            call = {
                "id": part.id,
                "type": "function",
                "function": {"name": part.name, "arguments": part.arguments},
            }
            if part.signature:
                call["extra_content"] = google_extra(part.signature)
            calls.append(call)
        elif isinstance(part, ir.Thinking):
            thinking.append(part)
        else:
            raise TranslationError(
                f"{path}.parts[{j}]: a {type(part).__name__} in an answer has no OpenAI Chat form",
                param=f"{path}.parts[{j}]",
                kind="api_error",
                status=502,
            )
    message: dict = {"role": "assistant", "content": None, **(extra.get("message") or {})}
    signature = next((t.signature for t in texts if t.signature), None)
    if extra.get(_REFUSAL) and texts:
        message["refusal"] = texts.pop().text
    elif not same:
        message["refusal"] = None
    joined = "".join(t.text for t in texts)
    message["content"] = joined if texts and (joined or not calls) else None
    if thinking:
        _render_thinking(message, thinking, extra.get(_REASONING_FIELD, "reasoning_content"))
    if signature:
        message["extra_content"] = google_extra(signature)
    if calls:
        message["tool_calls"] = calls
    out = {"index": choice.index, "message": message, "logprobs": None}
    out.update((k, v) for k, v in extra.items() if k != "message" and not k.startswith(_MARK))
    out["finish_reason"] = finish_reason_to_wire(
        choice.stop_reason, choice.raw_stop_reason, same_source=same, has_tool_call=bool(calls)
    )
    return out


def _render_thinking(message: dict, thinking: list[ir.Thinking], field: str) -> None:
    """All thinking text as ``reasoning_content``; when any of it carries provider state,
    every block also goes into ``thinking_blocks`` so the caller can send it back."""
    text = "".join(t.text for t in thinking)
    if text:
        message[field] = text
    if any(t.signature or t.redacted for t in thinking):
        message["thinking_blocks"] = [_thinking_block_out(t) for t in thinking]


def _thinking_block_out(thinking: ir.Thinking) -> dict:
    if thinking.redacted:
        return {"type": "redacted_thinking", "data": thinking.redacted}
    block = {"type": "thinking", "thinking": thinking.text}
    if thinking.signature:
        block["signature"] = thinking_signature(thinking.signature, thinking.origin)
    return block


# --------------------------------------------------------------------------- errors


def parse_error(status: int, body: object) -> ir.Error:
    """``body`` may be the parsed JSON or the raw bytes: proxies in front of compatible
    servers answer with HTML or plain text, whose text becomes the message."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
            body = {"message": text.strip()[:2000] or None}
    if isinstance(body, dict):
        error = body.get("error")
        return error_from_object(body if error is None else error, status)
    return error_from_object({}, status)


def render_error(err: ir.Error) -> tuple[int, dict]:
    status, error = error_to_object(err)
    return status, {"error": error}
