"""Anthropic Messages API codec (``POST /v1/messages``), spec: anthropic_messages.md.

Streaming lives in ``translators.anthropic_stream`` (its docstring lists the stream
rules); this module re-exports ``StreamParser`` and ``StreamRenderer``.

Mapping rules a reviewer should know
------------------------------------
- ``system`` (string or text blocks) is the IR system message at the start of the
  conversation. Leading IR system/developer messages become ``system``: one plain text
  block is written as a string, anything else as blocks. System/developer messages
  *after* the first turn are written in place as user text (PEER-BUGS #18: hoisting
  them would break the prompt-cache prefix and could reorder tool_use/tool_result);
  an Anthropic caller's own ``role: "system"`` turns are kept as they are.
- Anthropic requires alternating turns: consecutive same-role turns are merged, and
  IR ``tool`` messages become ``tool_result`` blocks of the adjacent user turn. In a
  user turn, tool results come first (an Anthropic rule), in the order of the calls of
  the preceding assistant turn; everything else keeps its order.
- ``max_tokens`` is required: ``DEFAULT_MAX_TOKENS`` when the IR has none (the addon
  fills it from the per-model rules first).
- Thinking: ``enabled``+``budget_tokens`` / ``disabled`` / ``adaptive`` <->
  ``ir.Reasoning`` (``display`` <-> ``include_thoughts``), ``output_config.effort`` <->
  ``Reasoning.effort``. A foreign effort with no budget becomes a budget from
  ``EFFORT_BUDGET`` (effort ``none`` disables thinking); foreign efforts are sent as
  ``output_config.effort`` only with adaptive thinking. Every budget is clamped into
  Anthropic's ``1024 <= budget < max_tokens``; when ``max_tokens`` is too small for
  that, thinking is left out. Thinking is also left out of a foreign request whose
  last assistant turn calls tools without a leading (signed Anthropic) thinking block,
  which Claude would reject with thinking on (PEER-BUGS #8).
- ``output_config.format`` json_schema <-> ``ResponseFormat`` json_schema; IR
  ``json_object`` is sent as the schema ``{"type":"object"}``.
- Thinking sent to Claude must be Anthropic's own, signed: thinking of other origins,
  and unsigned thinking, are removed. Foreign state reaches an Anthropic *caller* in
  the extension fields of docs/extensions.md (``<protocol>:`` signature prefixes,
  ``extra_content.google.thought_signature`` on tool_use/text blocks) and is read back
  from them by ``parse_request``; ``render_request`` never sends extension fields.
- A ``tool_result`` whose content is one plain text is written as a string, an empty
  one as ``""``.
- Tools: custom tools <-> ``ir.Tool`` (a parameterless tool gets the schema
  ``{"type":"object","properties":{}}``). Their hint fields (``type: "custom"``,
  ``input_examples``, ``defer_loading``, ``eager_input_streaming``,
  ``allowed_callers``) are kept in ``extra["tool_hints"]`` by tool name (droppable),
  fields this codec does not know in ``extra["tool_fields"]`` (refused). A request
  with server tools keeps its whole ``tools`` list in ``extra["tools"]``, so it is
  refused toward other protocols and sent verbatim to Anthropic.
- Responses: server-tool blocks (``server_tool_use``, ``*_tool_result``...) are kept
  in ``Choice.extra["server_blocks"]`` with their positions, for Anthropic callers
  only. Usage is converted between Anthropic's exclusive ``input_tokens`` and IR's
  inclusive count (cache reads and writes added, never negative on the way back).

Dropped or refused on the way in
--------------------------------
Toward Anthropic (``render_request``):

- refused (``TranslationError`` naming the field): ``n`` > 1, ``logprobs`` true,
  ``top_logprobs`` > 0, non-zero ``presence_penalty``/``frequency_penalty``, audio
  parts (Anthropic has no audio input), ``gs://`` or other non-http(s) image and
  document URLs, base64 images without a media type, file ids of other providers,
  tool arguments that are not a JSON object, ``tool_choice.allowed`` with several
  names that are not all the tools.
- dropped: ``seed``, ``n`` = 1, zero penalties, ``logprobs`` false, ``top_logprobs``
  0, ``include_usage`` (Anthropic streams always carry usage), message ``name``, image
  ``detail``, ``ResponseFormat`` name/description/strict (Anthropic structured output
  has none of them), ``ToolResult.name``, thinking of other origins or without a
  signature, empty or whitespace-only text blocks (PEER-BUGS #9) and turns left with
  no content, ``parallel_tool_calls`` with ``tool_choice`` none or without tools.
- changed: ``temperature`` above 1 is clamped to 1.0 (Anthropic's range is 0..1), a
  ``Document.filename`` becomes the ``title`` when there is none.
- with thinking on (callers of other formats only), Claude's documented limits apply:
  a forced ``tool_choice`` (any / a named tool) drops the thinking; otherwise
  ``temperature``, ``top_k`` and a ``top_p`` below 0.95 are dropped.

From an Anthropic caller (``parse_request``):

- ``DROPPABLE`` fields kept in ``extra`` may be dropped toward other protocols; all
  other unmapped top-level fields are kept in ``extra`` (refused by the pipeline).
- refused: server-tool blocks, ``search_result``, ``tool_reference``,
  ``container_upload`` and ``mid_conv_system`` blocks in messages, ``file`` image
  sources, document ``content`` sources given as blocks, unknown block types.
- dropped: ``tool_use.caller`` (attribution of a call; a programmatic caller needs
  server blocks, which are refused), ``toolset_name``, block fields not named here.

In responses: ``caller`` on tool_use blocks is dropped; images, documents, audio and
tool results cannot be an Anthropic response block and are refused (501).
"""

from __future__ import annotations

from typing import Any

import orjson

from translators import ir
from translators.anthropic_stream import (
    PROTOCOL,
    StreamParser,
    StreamRenderer,
    add_google_signature,
    error_body,
    error_status,
    error_to_ir,
    google_signature,
    signature_to_wire,
    stop_from_ir,
    stop_to_ir,
    thinking_from_wire,
    usage_from_ir,
    usage_to_ir,
)
from translators.errors import TranslationError

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DROPPABLE",
    "EFFORT_BUDGET",
    "PROTOCOL",
    "StreamParser",
    "StreamRenderer",
    "parse_count_request",
    "parse_error",
    "parse_request",
    "parse_response",
    "recognise",
    "render_error",
    "render_request",
    "render_response",
    "render_token_count",
]

DROPPABLE: frozenset[str] = frozenset(
    {
        "service_tier",
        "container",
        "context_management",
        "inference_geo",
        "speed",
        "metadata",
        "tool_hints",
    }
)

DEFAULT_MAX_TOKENS = 4096

# Thinking budget for a reasoning effort that came without one (OpenAI
# ``reasoning_effort``, Gemini ``thinkingLevel``): doubling steps from Anthropic's
# minimum, then clamped below ``max_tokens``.
EFFORT_BUDGET: dict[str, int] = {
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32768,
    "max": 65536,
}
_MIN_BUDGET = 1024
_ANTHROPIC_EFFORT: dict[str, str] = {
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "max",
}

_MAPPED_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "stream",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "cache_control",
    }
)
_TOOL_FIELDS = frozenset({"name", "description", "input_schema", "cache_control", "strict"})
_TOOL_HINT_FIELDS = frozenset(
    {"type", "input_examples", "defer_loading", "eager_input_streaming", "allowed_callers"}
)
_RESPONSE_FIELDS = frozenset(
    {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}
)
_USAGE_FIELDS = frozenset(
    {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}
)
_TOOL_CHOICE_TYPES = frozenset({"auto", "any", "tool", "none"})
_ANTHROPIC_BLOCKS = frozenset(
    {"tool_use", "tool_result", "thinking", "redacted_thinking", "document"}
)
# Chat Completions fields that would make a plain user/assistant body OpenAI's.
_OPENAI_ONLY_FIELDS = frozenset(
    {
        "max_completion_tokens",
        "response_format",
        "n",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "stream_options",
        "reasoning_effort",
        "functions",
        "input",
    }
)

# ------------------------------------------------------------------ validation


def _fail(param: str, message: str) -> TranslationError:
    return TranslationError(message, param=param)


def _dict(value: object, param: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(param, "must be an object")
    return value


def _list(value: object, param: str) -> list:
    if not isinstance(value, list):
        raise _fail(param, "must be an array")
    return value


def _str(value: object, param: str) -> str:
    if not isinstance(value, str):
        raise _fail(param, "must be a string")
    return value


def _int(value: object, param: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(param, "must be an integer")
    return value


def _num(value: object, param: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _fail(param, "must be a number")
    return value


def _bool(value: object, param: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(param, "must be a boolean")
    return value


def _type(block: dict) -> str | None:
    """The block's ``type`` when it is a string: lookups must not hash arbitrary JSON."""
    value = block.get("type")
    return value if isinstance(value, str) else None


def _opt(data: dict, key: str, check: Any, param: str) -> Any:
    """``check(data[key])`` when the key is present and not null, else None."""
    value = data.get(key)
    return None if value is None else check(value, f"{param}.{key}" if param else key)


# ------------------------------------------------------------------- recognise


def recognise(body: object) -> int:
    """2 for shapes only Anthropic has, 1 for a plain chat body, 0 otherwise."""
    if not isinstance(body, dict) or "contents" in body:
        return 0
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    if "system" in body or "stop_sequences" in body or "thinking" in body:
        return 2
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and _type(choice) in _TOOL_CHOICE_TYPES:
        return 2
    tools = body.get("tools")
    if isinstance(tools, list) and any(isinstance(t, dict) and "input_schema" in t for t in tools):
        return 2
    if any(_has_anthropic_block(m) for m in messages):
        return 2
    if body.keys() & _OPENAI_ONLY_FIELDS:
        return 0
    if not all(isinstance(m, dict) and m.get("role") in ("user", "assistant") for m in messages):
        return 0
    # max_tokens is Anthropic's required field but also OpenAI's (deprecated) one: a body
    # with it and nothing else distinctive fits either protocol.
    return 1


def _has_anthropic_block(message: object) -> bool:
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return False
    for block in content:
        if not isinstance(block, dict):
            continue
        btype = _type(block)
        if btype in _ANTHROPIC_BLOCKS or (btype == "image" and "source" in block):
            return True
    return False


# ---------------------------------------------------------------- parse request


def parse_count_request(body: object, *, model: str | None = None) -> ir.Request:
    """``count_tokens`` takes the Messages body without ``max_tokens``."""
    return parse_request(body, model=model, stream=False)


def render_token_count(tokens: int) -> dict:
    return {"input_tokens": tokens}


def parse_request(
    body: object, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    body = _dict(body, "body")
    name = model if model is not None else _str(body.get("model"), "model")
    messages = _parse_system(body.get("system"))
    for i, raw in enumerate(_list(body.get("messages"), "messages")):
        messages.append(_parse_message(raw, f"messages[{i}]"))
    req = ir.Request(
        model=name,
        messages=messages,
        source=PROTOCOL,
        stream=stream if stream is not None else bool(_opt(body, "stream", _bool, "")),
        max_tokens=_opt(body, "max_tokens", _int, ""),
        temperature=_opt(body, "temperature", _num, ""),
        top_p=_opt(body, "top_p", _num, ""),
        top_k=_opt(body, "top_k", _int, ""),
        stop=_parse_stop(body.get("stop_sequences")),
        cache_control=_opt(body, "cache_control", _dict, ""),
        extra={k: v for k, v in body.items() if k not in _MAPPED_FIELDS},
    )
    _parse_metadata(body.get("metadata"), req)
    _parse_tools(body.get("tools"), req)
    _parse_tool_choice(body.get("tool_choice"), req)
    _parse_thinking(body.get("thinking"), req)
    _parse_output_config(body.get("output_config"), req)
    return req


def _parse_stop(value: object) -> list[str] | None:
    if value is None:
        return None
    return [_str(s, f"stop_sequences[{i}]") for i, s in enumerate(_list(value, "stop_sequences"))]


def _parse_system(value: object) -> list[ir.Message]:
    if value is None:
        return []
    if isinstance(value, str):
        return [ir.Message("system", [ir.Text(value)])]
    parts: list[ir.Part] = []
    for i, block in enumerate(_list(value, "system")):
        path = f"system[{i}]"
        block = _dict(block, path)
        if block.get("type") != "text":
            raise _fail(f"{path}.type", "system blocks must be text blocks")
        parts.append(_parse_text(block, path))
    return [ir.Message("system", parts)]


def _parse_message(raw: object, path: str) -> ir.Message:
    raw = _dict(raw, path)
    role = raw.get("role")
    if role not in ("user", "assistant", "system"):
        raise _fail(f"{path}.role", f"unknown role {role!r}")
    content = raw.get("content")
    if isinstance(content, str):
        return ir.Message(role, [ir.Text(content)])
    blocks = _list(content, f"{path}.content")
    return ir.Message(role, [_parse_block(b, f"{path}.content[{j}]") for j, b in enumerate(blocks)])


def _parse_block(block: object, path: str) -> ir.Part:
    block = _dict(block, path)
    btype = _type(block)
    parser = _BLOCK_PARSERS.get(btype) if btype is not None else None
    if parser is None:
        raise _fail(f"{path}.type", f"content block type {btype!r} cannot be translated")
    return parser(block, path)


def _parse_text(block: dict, path: str) -> ir.Text:
    return ir.Text(
        text=_str(block.get("text"), f"{path}.text"),
        cache_control=_opt(block, "cache_control", _dict, path),
        signature=google_signature(block),
        citations=_opt(block, "citations", _list, path),
    )


def _parse_image(block: dict, path: str) -> ir.Image:
    source = _dict(block.get("source"), f"{path}.source")
    stype = source.get("type")
    cache = _opt(block, "cache_control", _dict, path)
    if stype == "base64":
        return ir.Image(
            media_type=_str(source.get("media_type"), f"{path}.source.media_type"),
            data=_str(source.get("data"), f"{path}.source.data"),
            cache_control=cache,
        )
    if stype == "url":
        return ir.Image(url=_str(source.get("url"), f"{path}.source.url"), cache_control=cache)
    raise _fail(f"{path}.source.type", f"image source type {stype!r} cannot be translated")


def _parse_document(block: dict, path: str) -> ir.Document:
    source = _dict(block.get("source"), f"{path}.source")
    sp = f"{path}.source"
    doc = ir.Document(
        title=_opt(block, "title", _str, path),
        context=_opt(block, "context", _str, path),
        citations=_opt(block, "citations", _dict, path),
        cache_control=_opt(block, "cache_control", _dict, path),
    )
    stype = source.get("type")
    if stype == "base64":
        doc.media_type = _str(source.get("media_type"), f"{sp}.media_type")
        doc.data = _str(source.get("data"), f"{sp}.data")
    elif stype == "url":
        doc.url = _str(source.get("url"), f"{sp}.url")
    elif stype == "text":
        doc.media_type = _opt(source, "media_type", _str, sp) or "text/plain"
        doc.text = _str(source.get("data"), f"{sp}.data")
    elif stype == "content":
        # Only the string form fits IR; a block list would need nested parts.
        doc.text = _str(source.get("content"), f"{sp}.content")
    elif stype == "file":
        doc.file_id = _str(source.get("file_id"), f"{sp}.file_id")
    else:
        raise _fail(f"{sp}.type", f"document source type {stype!r} cannot be translated")
    return doc


def _parse_tool_use(block: dict, path: str) -> ir.ToolCall:
    arguments = _dict(block.get("input"), f"{path}.input")
    return ir.ToolCall(
        id=_str(block.get("id"), f"{path}.id"),
        name=_str(block.get("name"), f"{path}.name"),
        arguments=orjson.dumps(arguments).decode(),
        signature=google_signature(block),
        cache_control=_opt(block, "cache_control", _dict, path),
    )


def _parse_tool_result(block: dict, path: str) -> ir.ToolResult:
    content = block.get("content")
    parts: list[ir.Part] = []
    if isinstance(content, str):
        parts = [ir.Text(content)] if content else []
    elif content is not None:
        for j, item in enumerate(_list(content, f"{path}.content")):
            item_path = f"{path}.content[{j}]"
            item = _dict(item, item_path)
            itype = _type(item)
            parser = _RESULT_PARSERS.get(itype) if itype is not None else None
            if parser is None:
                raise _fail(f"{item_path}.type", "tool_result content must be text/image/document")
            parts.append(parser(item, item_path))
    return ir.ToolResult(
        call_id=_str(block.get("tool_use_id"), f"{path}.tool_use_id"),
        content=parts,
        is_error=_opt(block, "is_error", _bool, path),
        cache_control=_opt(block, "cache_control", _dict, path),
    )


def _parse_thinking(value: object, req: ir.Request) -> None:
    if value is None:
        return
    thinking = _dict(value, "thinking")
    ttype = thinking.get("type")
    display = _opt(thinking, "display", _str, "thinking")
    reasoning = ir.Reasoning()
    if ttype == "enabled":
        reasoning.enabled = True
        reasoning.budget_tokens = _int(thinking.get("budget_tokens"), "thinking.budget_tokens")
    elif ttype == "disabled":
        reasoning.enabled = False
    elif ttype == "adaptive":
        reasoning.adaptive = True
    else:
        raise _fail("thinking.type", f"unknown thinking type {ttype!r}")
    if display is not None:
        reasoning.include_thoughts = display != "omitted"
    req.reasoning = reasoning


def _parse_thinking_block(block: dict, path: str) -> ir.Thinking:
    return thinking_from_wire(
        _str(block.get("thinking"), f"{path}.thinking"),
        _opt(block, "signature", _str, path) or "",
    )


def _parse_redacted(block: dict, path: str) -> ir.Thinking:
    return ir.Thinking(redacted=_str(block.get("data"), f"{path}.data"), origin=PROTOCOL)


_RESULT_PARSERS = {"text": _parse_text, "image": _parse_image, "document": _parse_document}
_BLOCK_PARSERS = {
    **_RESULT_PARSERS,
    "tool_use": _parse_tool_use,
    "tool_result": _parse_tool_result,
    "thinking": _parse_thinking_block,
    "redacted_thinking": _parse_redacted,
}


def _parse_metadata(value: object, req: ir.Request) -> None:
    """Only a plain ``{"user_id": "..."}`` maps to ``user``; anything else stays."""
    if value is None:
        return
    metadata = _dict(value, "metadata")
    user = metadata.get("user_id")
    if metadata.keys() == {"user_id"} and isinstance(user, str):
        req.user = user
    else:
        req.extra["metadata"] = metadata


def _parse_tools(value: object, req: ir.Request) -> None:
    if value is None:
        return
    hints: dict[str, dict] = {}  # droppable hints, by tool name
    fields: dict[str, dict] = {}  # tool fields this codec does not know, by tool name
    server = False
    for i, raw in enumerate(_list(value, "tools")):
        tool = _dict(raw, f"tools[{i}]")
        if tool.get("type", "custom") != "custom":
            server = True
            continue
        path = f"tools[{i}]"
        name = _str(tool.get("name"), f"{path}.name")
        req.tools.append(
            ir.Tool(
                name=name,
                description=_opt(tool, "description", _str, path),
                parameters=_dict(tool.get("input_schema"), f"{path}.input_schema"),
                strict=_opt(tool, "strict", _bool, path),
                cache_control=_opt(tool, "cache_control", _dict, path),
            )
        )
        for key, field_value in tool.items():
            if key not in _TOOL_FIELDS:
                kept = hints if key in _TOOL_HINT_FIELDS else fields
                kept.setdefault(name, {})[key] = field_value
    if server:
        req.extra["tools"] = value
        return
    if hints:
        req.extra["tool_hints"] = hints
    if fields:
        req.extra["tool_fields"] = fields


def _parse_tool_choice(value: object, req: ir.Request) -> None:
    if value is None:
        return
    choice = _dict(value, "tool_choice")
    ctype = choice.get("type")
    if ctype == "auto":
        req.tool_choice = ir.ToolChoice("auto")
    elif ctype == "any":
        req.tool_choice = ir.ToolChoice("required")
    elif ctype == "tool":
        req.tool_choice = ir.ToolChoice("tool", name=_str(choice.get("name"), "tool_choice.name"))
    elif ctype == "none":
        req.tool_choice = ir.ToolChoice("none")
    else:
        raise _fail("tool_choice.type", f"unknown tool_choice type {ctype!r}")
    disable = _opt(choice, "disable_parallel_tool_use", _bool, "tool_choice")
    if disable is not None:
        req.parallel_tool_calls = not disable


def _parse_output_config(value: object, req: ir.Request) -> None:
    if value is None:
        return
    config = dict(_dict(value, "output_config"))
    effort = config.pop("effort", None)
    if effort is not None:
        req.reasoning = req.reasoning or ir.Reasoning()
        req.reasoning.effort = _str(effort, "output_config.effort")
    fmt = config.pop("format", None)
    if fmt is not None:
        fmt = _dict(fmt, "output_config.format")
        if fmt.get("type") != "json_schema":
            raise _fail("output_config.format.type", "only json_schema formats can be translated")
        schema = _dict(fmt.get("schema"), "output_config.format.schema")
        req.response_format = ir.ResponseFormat("json_schema", schema=schema)
    if config:
        req.extra["output_config"] = config


# --------------------------------------------------------------- render request


def render_request(req: ir.Request) -> dict:
    same = req.source == PROTOCOL
    _refuse_inexpressible(req)
    max_tokens = req.max_tokens if req.max_tokens is not None else DEFAULT_MAX_TOKENS
    system, turns = _render_conversation(req.messages, same)
    body: dict = {"model": req.model, "max_tokens": max_tokens}
    if system is not None:
        body["system"] = system
    body["messages"] = turns
    if req.temperature is not None:
        body["temperature"] = min(req.temperature, 1.0)
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.top_k is not None:
        body["top_k"] = req.top_k
    if req.stop is not None:
        body["stop_sequences"] = req.stop
    if req.stream:
        body["stream"] = True
    if req.user is not None:
        body["metadata"] = {"user_id": req.user}
    if req.cache_control is not None:
        body["cache_control"] = req.cache_control
    _render_tools(req, body, same)
    _render_reasoning(req.reasoning, max_tokens, same, body)
    if not same and _unthought_tool_turn(turns):
        body.pop("thinking", None)
    if not same:
        _fit_thinking_limits(body)
    _render_response_format(req.response_format, body)
    if same:
        _render_extra(req.extra, body)
    return body


def _fit_thinking_limits(body: dict) -> None:
    """Claude's thinking works only with default sampling and without forced tool use.
    Other formats' callers (gemini-cli sends temperature 0 with thinking on) would get a
    400 for a combination their own provider accepts, so: a forced tool choice wins over
    thinking, and with thinking on the sampling overrides go."""
    thinking = body.get("thinking")
    if not thinking or thinking.get("type") not in ("enabled", "adaptive"):
        return
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        del body["thinking"]
        return
    body.pop("temperature", None)
    body.pop("top_k", None)
    if body.get("top_p", 1) < 0.95:
        del body["top_p"]


def _refuse_inexpressible(req: ir.Request) -> None:
    if req.n is not None and req.n > 1:
        raise _fail("n", "Anthropic returns one answer per request; n must be 1")
    if req.logprobs:
        raise _fail("logprobs", "Anthropic has no log probabilities")
    if req.top_logprobs:
        raise _fail("top_logprobs", "Anthropic has no log probabilities")
    if req.presence_penalty:
        raise _fail("presence_penalty", "Anthropic has no presence penalty")
    if req.frequency_penalty:
        raise _fail("frequency_penalty", "Anthropic has no frequency penalty")


def _render_extra(extra: dict, body: dict) -> None:
    for key, value in extra.items():
        if key == "output_config":
            body["output_config"] = {**value, **body.get("output_config", {})}
        elif key not in ("tool_hints", "tool_fields"):
            body[key] = value


def _render_conversation(messages: list[ir.Message], same: bool) -> tuple[object, list[dict]]:
    """``system`` and the alternating turns; see the module docstring for the rules."""
    lead = 0
    system: list[dict] = []
    while lead < len(messages) and messages[lead].role in ("system", "developer"):
        for j, part in enumerate(messages[lead].parts):
            if not isinstance(part, ir.Text):
                raise _fail(f"messages[{lead}].parts[{j}]", "Anthropic's system takes text only")
        system += _render_parts(messages[lead], f"messages[{lead}]", same, request=True)
        lead += 1
    turns: list[tuple[str, list[dict]]] = []
    for i in range(lead, len(messages)):
        message = messages[i]
        blocks = _render_parts(message, f"messages[{i}]", same, request=True)
        if not blocks:
            continue
        role = _turn_role(message.role, same)
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    _order_tool_results(turns)
    rendered = [{"role": role, "content": _content(blocks)} for role, blocks in turns]
    return (_content(system) if system else None), rendered


def _turn_role(role: ir.Role, same: bool) -> str:
    if role == "assistant":
        return "assistant"
    if role == "system" and same:
        return "system"
    return "user"


def _order_tool_results(turns: list[tuple[str, list[dict]]]) -> None:
    """Anthropic wants a user turn's tool_result blocks first, in the calls' order."""
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
        return blocks[0]["text"]
    return blocks


def _render_parts(message: ir.Message, path: str, same: bool, *, request: bool) -> list[dict]:
    blocks: list[dict] = []
    for j, part in enumerate(message.parts):
        block = _render_part(part, f"{path}.parts[{j}]", same, request=request)
        if block is not None:
            blocks.append(block)
    return blocks


def _render_part(part: ir.Part, path: str, same: bool, *, request: bool) -> dict | None:
    """One Anthropic block, or None when the part is dropped by a documented rule.
    ``request`` is True toward the Anthropic API, which gets no extension fields."""
    if isinstance(part, ir.Text):
        return _render_text(part, same, request=request)
    if isinstance(part, ir.ToolCall):
        block = {"type": "tool_use", "id": part.id, "name": part.name}
        block["input"] = _tool_input(part.arguments, path, request=request)
        if part.cache_control is not None:
            block["cache_control"] = part.cache_control
        return block if request else add_google_signature(block, part.signature)
    if isinstance(part, ir.Thinking):
        return _render_thinking(part, request=request)
    if request and isinstance(part, ir.Image):
        return _render_image(part, path)
    if request and isinstance(part, ir.Document):
        return _render_document(part, path, same)
    if request and isinstance(part, ir.ToolResult):
        return _render_tool_result(part, path, same)
    if isinstance(part, ir.Audio):
        raise _fail(path, "Anthropic has no audio input")
    raise TranslationError(
        f"{type(part).__name__} cannot be an Anthropic response block",
        param=path,
        kind="not_implemented",
        status=501,
    )


def _render_text(part: ir.Text, same: bool, *, request: bool) -> dict | None:
    if request and not part.text.strip():
        return None
    block: dict = {"type": "text", "text": part.text}
    if part.cache_control is not None:
        block["cache_control"] = part.cache_control
    if same and part.citations is not None:
        block["citations"] = part.citations
    return block if request else add_google_signature(block, part.signature)


def _render_thinking(part: ir.Thinking, *, request: bool) -> dict | None:
    if part.redacted is not None:
        keep = part.origin == PROTOCOL or not request
        return {"type": "redacted_thinking", "data": part.redacted} if keep else None
    if request and (part.origin != PROTOCOL or not part.signature):
        return None  # Claude rejects thinking it did not sign
    return {"type": "thinking", "thinking": part.text, "signature": signature_to_wire(part)}


def _tool_input(arguments: str, path: str, *, request: bool) -> dict:
    """Tool arguments are JSON text in IR and an object on Anthropic's wire."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        kind: ir.ErrorKind = "invalid_request" if request else "api_error"
        raise TranslationError(
            "tool call arguments must be a JSON object",
            param=path,
            kind=kind,
            status=400 if request else 500,
        )
    return value


def _render_image(part: ir.Image, path: str) -> dict:
    if part.data is not None:
        if not part.media_type:
            raise _fail(path, "Anthropic needs the media type of a base64 image")
        source = {"type": "base64", "media_type": part.media_type, "data": part.data}
    else:
        source = _url_source(part.url, path, "image")
    block: dict = {"type": "image", "source": source}
    if part.cache_control is not None:
        block["cache_control"] = part.cache_control
    return block


def _url_source(url: str | None, path: str, what: str) -> dict:
    if url is None or not url.startswith(("https://", "http://")):
        raise _fail(path, f"Anthropic can only fetch {what}s from http(s) URLs")
    return {"type": "url", "url": url}


def _render_document(part: ir.Document, path: str, same: bool) -> dict:
    if part.data is not None:
        source = {"type": "base64", "media_type": part.media_type, "data": part.data}
    elif part.text is not None and part.media_type is not None:
        source = {"type": "text", "media_type": part.media_type, "data": part.text}
    elif part.text is not None:
        source = {"type": "content", "content": part.text}
    elif part.file_id is not None:
        if not same:
            raise _fail(path, "Anthropic cannot read another provider's file id")
        source = {"type": "file", "file_id": part.file_id}
    else:
        source = _url_source(part.url, path, "document")
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


def _render_tool_result(part: ir.ToolResult, path: str, same: bool) -> dict:
    blocks: list[dict] = []
    for k, item in enumerate(part.content):
        item_path = f"{path}.content[{k}]"
        if not isinstance(item, ir.Text | ir.Image | ir.Document):
            raise _fail(item_path, "tool results can only hold text, images and documents")
        block = _render_part(item, item_path, same, request=True)
        if block is not None:
            blocks.append(block)
    result: dict = {"type": "tool_result", "tool_use_id": part.call_id}
    result["content"] = _content(blocks) if blocks else ""
    if part.is_error is not None:
        result["is_error"] = part.is_error
    if part.cache_control is not None:
        result["cache_control"] = part.cache_control
    return result


def _render_tools(req: ir.Request, body: dict, same: bool) -> None:
    if same and "tools" in req.extra:
        body["tools"] = req.extra["tools"]
    elif req.tools:
        hints = req.extra.get("tool_hints", {}) if same else {}
        fields = req.extra.get("tool_fields", {}) if same else {}
        body["tools"] = [
            _render_tool(tool, hints.get(tool.name), fields.get(tool.name)) for tool in req.tools
        ]
    choice: dict | None = None
    if req.tool_choice is not None:
        choice = _render_tool_choice(req.tool_choice, req.tools)
    elif req.parallel_tool_calls is False and "tools" in body:
        choice = {"type": "auto"}
    if choice is not None and req.parallel_tool_calls is not None and choice["type"] != "none":
        choice["disable_parallel_tool_use"] = not req.parallel_tool_calls
    if choice is not None:
        body["tool_choice"] = choice


def _render_tool(tool: ir.Tool, hints: dict | None, fields: dict | None) -> dict:
    out: dict = {"name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    out["input_schema"] = tool.parameters or {"type": "object", "properties": {}}
    if tool.strict is not None:
        out["strict"] = tool.strict
    if tool.cache_control is not None:
        out["cache_control"] = tool.cache_control
    out.update(hints or {})
    out.update(fields or {})
    return out


def _render_tool_choice(choice: ir.ToolChoice, tools: list[ir.Tool]) -> dict:
    if choice.mode == "auto":
        return {"type": "auto"}
    if choice.mode == "none":
        return {"type": "none"}
    if choice.mode == "tool":
        return {"type": "tool", "name": _str(choice.name, "tool_choice.name")}
    allowed = choice.allowed
    if allowed and len(allowed) == 1:
        return {"type": "tool", "name": allowed[0]}
    if allowed and set(allowed) != {t.name for t in tools}:
        raise _fail("tool_choice.allowed", "Anthropic can force one tool or any tool, not a set")
    return {"type": "any"}


def _render_reasoning(
    reasoning: ir.Reasoning | None, max_tokens: int, same: bool, body: dict
) -> None:
    if reasoning is None:
        return
    thinking = _thinking_config(reasoning, max_tokens, same)
    if thinking is not None:
        if reasoning.include_thoughts is not None and thinking["type"] != "disabled":
            thinking["display"] = "summarized" if reasoning.include_thoughts else "omitted"
        body["thinking"] = thinking
    effort = reasoning.effort
    if not same and effort is not None:
        adaptive = thinking is not None and thinking["type"] == "adaptive"
        effort = _ANTHROPIC_EFFORT.get(effort) if adaptive else None
    if effort is not None:
        body["output_config"] = {"effort": effort}


def _unthought_tool_turn(turns: list[dict]) -> bool:
    """With thinking on, Claude rejects a final assistant turn that calls tools without
    starting with a thinking block: history from another provider never has one."""
    for turn in reversed(turns):
        if turn["role"] != "assistant":
            continue
        blocks = turn["content"]
        if isinstance(blocks, str) or not any(b["type"] == "tool_use" for b in blocks):
            return False
        return blocks[0]["type"] not in ("thinking", "redacted_thinking")
    return False


def _thinking_config(reasoning: ir.Reasoning, max_tokens: int, same: bool) -> dict | None:
    effort = None if same else reasoning.effort
    if reasoning.enabled is False or effort == "none" or reasoning.budget_tokens == 0:
        return {"type": "disabled"}
    if reasoning.adaptive:
        return {"type": "adaptive"}
    budget = reasoning.budget_tokens
    if budget is None and effort is not None:
        if effort not in EFFORT_BUDGET:
            raise _fail("reasoning.effort", f"unknown reasoning effort {effort!r}")
        budget = EFFORT_BUDGET[effort]
    if budget is None and reasoning.enabled:
        budget = EFFORT_BUDGET["medium"]
    if budget is None:
        return None
    budget = min(max(budget, _MIN_BUDGET), max_tokens - 1)
    return {"type": "enabled", "budget_tokens": budget} if budget >= _MIN_BUDGET else None


def _render_response_format(fmt: ir.ResponseFormat | None, body: dict) -> None:
    if fmt is None or fmt.type == "text":
        return
    schema = fmt.schema if fmt.type == "json_schema" and fmt.schema else {"type": "object"}
    body.setdefault("output_config", {})["format"] = {"type": "json_schema", "schema": schema}


# -------------------------------------------------------------------- responses


def parse_response(body: object) -> ir.Response:
    body = _dict(body, "body")
    parts: list[ir.Part] = []
    server_blocks: list[list] = []
    for i, raw in enumerate(_list(body.get("content"), "content")):
        block = _dict(raw, f"content[{i}]")
        btype = _type(block)
        parser = _RESPONSE_PARSERS.get(btype) if btype is not None else None
        if parser is None:
            server_blocks.append([i, block])
        else:
            parts.append(parser(block, f"content[{i}]"))
    raw_stop = _opt(body, "stop_reason", _str, "")
    choice = ir.Choice(
        parts=parts,
        stop_reason=stop_to_ir(raw_stop),
        stop_sequence=_opt(body, "stop_sequence", _str, ""),
        raw_stop_reason=raw_stop,
    )
    if server_blocks:
        choice.extra["server_blocks"] = server_blocks
    usage = _opt(body, "usage", _dict, "")
    extra = {k: v for k, v in body.items() if k not in _RESPONSE_FIELDS}
    if usage is not None:
        usage_extra = {k: v for k, v in usage.items() if k not in _USAGE_FIELDS}
        details = usage_extra.get("output_tokens_details")
        if isinstance(details, dict) and details.keys() == {"thinking_tokens"}:
            del usage_extra["output_tokens_details"]  # carried as reasoning_tokens
        if usage_extra:
            extra["usage"] = usage_extra
    return ir.Response(
        id=_opt(body, "id", _str, "") or "",
        model=_opt(body, "model", _str, "") or "",
        choices=[choice],
        source=PROTOCOL,
        usage=usage_to_ir(usage) if usage is not None else None,
        extra=extra,
    )


_RESPONSE_PARSERS = {
    "text": _parse_text,
    "tool_use": _parse_tool_use,
    "thinking": _parse_thinking_block,
    "redacted_thinking": _parse_redacted,
}


def render_response(resp: ir.Response, ctx: ir.RenderContext) -> dict:
    same = resp.source == PROTOCOL
    choice = resp.choices[0] if resp.choices else ir.Choice(parts=[], stop_reason="end_turn")
    content: list[dict] = []
    for j, part in enumerate(choice.parts):
        if not same and isinstance(part, ir.Text) and not part.text:
            continue
        block = _render_part(part, f"choices[0].parts[{j}]", same, request=False)
        if block is not None:
            content.append(block)
    if same:
        for position, block in choice.extra.get("server_blocks", ()):
            content.insert(position, block)
    has_call = any(isinstance(p, ir.ToolCall) for p in choice.parts)
    usage = usage_from_ir(resp.usage) if resp.usage else {"input_tokens": 0, "output_tokens": 0}
    body = {
        "id": resp.id or f"msg_{ctx.request_id}",
        "type": "message",
        "role": "assistant",
        "model": resp.model or ctx.model,
        "content": content,
        "stop_reason": stop_from_ir(choice.stop_reason, choice.raw_stop_reason, same, has_call),
        "stop_sequence": choice.stop_sequence,
        "usage": usage,
    }
    if same:
        for key, value in resp.extra.items():
            if key == "usage":
                usage.update(value)
            else:
                body[key] = value
    return body


# ----------------------------------------------------------------------- errors


def parse_error(status: int, body: object) -> ir.Error:
    """``body`` may be the decoded JSON or the raw bytes (a 413 from Cloudflare is not
    JSON). Anthropic's ``request_id`` has no IR field and is not kept."""
    payload = body
    if isinstance(body, bytes | bytearray | str):
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            text = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
            payload = text.strip()
    return error_to_ir(status, payload)


def render_error(err: ir.Error) -> tuple[int, dict]:
    return error_status(err), error_body(err)
