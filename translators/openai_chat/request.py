"""Request-level fields: recognise a body, and ``parse_request`` / ``render_request``.

One codec serves OpenAI callers and every OpenAI-shaped upstream. ``Request.extra``
holds each top-level field this module does not map; it is written back only toward an
OpenAI-shaped upstream when the caller was OpenAI-shaped too, and the pipeline refuses
it toward another protocol unless it is in ``DROPPABLE``. The table of rules is
docs/conversion.md (§2 "Request fields", §3 "From an OpenAI Chat caller").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from translators import fields, ir
from translators.errors import TranslationError
from translators.openai_chat.messages import parse_messages, render_messages
from translators.openai_chat.wire import MARK, PROTOCOL

_LEGACY_MAX_TOKENS = MARK + "max_tokens"  # caller wrote max_tokens, not max_completion_tokens
_STOP_STRING = MARK + "stop_string"  # caller wrote stop as a string

# Dropped (and reported) toward other protocols, because none changes what the caller
# gets back: bookkeeping fields, and ``logit_bias``, a sampling hint (DESIGN principle 8);
# a ``max_tokens`` here is one superseded by ``max_completion_tokens`` in the same body.
# Everything else left in ``extra`` (``verbosity``, ``modalities``, ``audio``,
# ``prediction``, non-function tools...) is refused.
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
        "logit_bias",
        "max_tokens",
        _LEGACY_MAX_TOKENS,
        _STOP_STRING,
    }
)

# --------------------------------------------------------------------------- recognise

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
        kind = fields.type_of(part) if isinstance(part, dict) else None
        if kind is None:
            return 0
        if kind in _CHAT_ONLY_PARTS:
            shape = 2
        elif kind != "text":
            return 0
    return shape


# ------------------------------------------------------------------------------- parse

# wire name -> (IR attribute, reader); rendered back symmetrically.
_SCALARS: dict[str, tuple[str, Callable[[object, str], object]]] = {
    "temperature": ("temperature", fields.number),
    "top_p": ("top_p", fields.number),
    "n": ("n", fields.integer),
    "seed": ("seed", fields.integer),
    "presence_penalty": ("presence_penalty", fields.number),
    "frequency_penalty": ("frequency_penalty", fields.number),
    "logprobs": ("logprobs", fields.boolean),
    "top_logprobs": ("top_logprobs", fields.integer),
    "user": ("user", fields.string),
    "parallel_tool_calls": ("parallel_tool_calls", fields.boolean),
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
_MODES: dict[str, Literal["none", "auto", "required"]] = {
    "none": "none",
    "auto": "auto",
    "required": "required",
}
# The deprecated function-calling fields: the IR has no place for them.
_REFUSED_FIELDS = ("functions", "function_call")


def parse_request(
    body: object, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """``model``/``stream`` override the body's values when the route supplies them. An
    explicit ``null`` on any field, and ``stream: false``, mean the default and are not
    kept."""
    body = fields.obj(body, "")
    for key in _REFUSED_FIELDS:
        if body.get(key) is not None:
            raise TranslationError(
                f"{key} is deprecated and cannot be translated; use tools/tool_choice",
                param=key,
            )
    req = ir.Request(
        model=model if model is not None else fields.need(body, "model", fields.string, ""),
        messages=parse_messages(fields.need(body, "messages", fields.arr, "")),
        source=PROTOCOL,
        stream=stream
        if stream is not None
        else bool(fields.get(body, "stream", fields.boolean, "")),
        top_k=fields.get(body, "top_k", fields.integer, ""),
    )
    extra = {k: v for k, v in body.items() if k not in _MAPPED and v is not None}
    for key, (attr, read) in _SCALARS.items():
        value = fields.get(body, key, read, "")
        if value is not None:
            setattr(req, attr, value)
    _parse_max_tokens(body, req, extra)
    _parse_stop(body, req, extra)
    options = fields.get(body, "stream_options", fields.obj, "")
    if options is not None:
        include = fields.get(options, "include_usage", fields.boolean, "stream_options")
        req.include_usage = bool(include)
    req.tools = _parse_tools(fields.get(body, "tools", fields.arr, "") or [], extra)
    req.tool_choice = _parse_tool_choice(body.get("tool_choice"), extra)
    response_format = fields.get(body, "response_format", fields.obj, "")
    if response_format is not None:
        req.response_format = _parse_response_format(response_format, "response_format")
    effort = fields.get(body, "reasoning_effort", fields.string, "")
    if effort is not None:
        req.reasoning = ir.Reasoning(effort=effort)
    req.extra = extra
    return req


def _parse_max_tokens(body: dict, req: ir.Request, extra: dict) -> None:
    """``max_completion_tokens`` and the deprecated ``max_tokens`` both fill
    ``max_tokens``; a caller who used ``max_tokens`` gets it back under that name."""
    current = fields.get(body, "max_completion_tokens", fields.integer, "")
    legacy = fields.get(body, "max_tokens", fields.integer, "")
    req.max_tokens = current if current is not None else legacy
    if legacy is not None:
        if current is not None:
            extra["max_tokens"] = legacy  # superseded, OpenAI reads max_completion_tokens
        else:
            extra[_LEGACY_MAX_TOKENS] = True


def _parse_stop(body: dict, req: ir.Request, extra: dict) -> None:
    """A string ``stop`` comes back as a string."""
    stop = body.get("stop")
    if stop is None:
        return
    if isinstance(stop, str):
        req.stop = [stop]
        extra[_STOP_STRING] = True
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        req.stop = list(stop)
    else:
        raise fields.fail("stop", "must be a string or an array of strings")


def _parse_tools(tools: list, extra: dict) -> list[ir.Tool]:
    """Non-function tools (``custom``) are kept in ``extra["tools"]``, not droppable."""
    out: list[ir.Tool] = []
    others: list[dict] = []
    for k, tool in enumerate(tools):
        tool_at = fields.child("tools", k)
        tool = fields.obj(tool, tool_at)
        if tool.get("type") != "function":
            others.append(tool)
            continue
        function = fields.need(tool, "function", fields.obj, tool_at)
        at = fields.child(tool_at, "function")
        out.append(
            ir.Tool(
                name=fields.need(function, "name", fields.string, at),
                description=fields.get(function, "description", fields.string, at),
                parameters=fields.get(function, "parameters", fields.obj, at),
                strict=fields.get(function, "strict", fields.boolean, at),
            )
        )
    if others:
        extra["tools"] = others
    return out


def _parse_tool_choice(choice: object, extra: dict) -> ir.ToolChoice | None:
    """A choice naming a non-function tool is kept in ``extra["tool_choice"]``."""
    at = "tool_choice"
    if choice is None:
        return None
    mode = _MODES.get(choice) if isinstance(choice, str) else None
    if mode is not None:
        return ir.ToolChoice(mode)
    if not isinstance(choice, dict):
        raise fields.fail(at, "must be none, auto, required or an object")
    kind = choice.get("type")
    if kind == "function":
        function = fields.need(choice, "function", fields.obj, at)
        name = fields.need(function, "name", fields.string, fields.child(at, "function"))
        return ir.ToolChoice("tool", name=name)
    if kind == "allowed_tools":
        allowed = fields.need(choice, "allowed_tools", fields.obj, at)
        raw_mode = allowed.get("mode")
        mode = _MODES.get(raw_mode) if isinstance(raw_mode, str) else None
        tools = fields.need(allowed, "tools", fields.arr, fields.child(at, "allowed_tools"))
        names = [_function_name(t) for t in tools]
        known = [name for name in names if name is not None]
        if mode is not None and mode != "none" and len(known) == len(names):
            return ir.ToolChoice(mode, allowed=known)
    extra["tool_choice"] = choice  # custom tools: carried only toward OpenAI
    return None


def _function_name(tool: object) -> str | None:
    if isinstance(tool, dict) and tool.get("type") == "function":
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        return name if isinstance(name, str) else None
    return None


def _parse_response_format(value: dict, at: str) -> ir.ResponseFormat:
    kind = fields.need(value, "type", fields.string, at)
    if kind == "text":
        return ir.ResponseFormat("text")
    if kind == "json_object":
        return ir.ResponseFormat("json_object")
    if kind != "json_schema":
        raise fields.fail(
            fields.child(at, "type"), f"{kind!r} is not text, json_object or json_schema"
        )
    schema = fields.need(value, "json_schema", fields.obj, at)
    schema_at = fields.child(at, "json_schema")
    return ir.ResponseFormat(
        "json_schema",
        schema=fields.get(schema, "schema", fields.obj, schema_at),
        name=fields.get(schema, "name", fields.string, schema_at),
        description=fields.get(schema, "description", fields.string, schema_at),
        strict=fields.get(schema, "strict", fields.boolean, schema_at),
    )


# ------------------------------------------------------------------------------ render


def render_request(req: ir.Request) -> dict:
    """A request from another protocol gets ``max_completion_tokens``, the field OpenAI's
    reasoning models require. A stream always asks for ``include_usage`` upstream, so the
    final usage can be translated; whether the caller sees it is the renderer's
    ``ctx.include_usage``."""
    same_protocol = req.source == PROTOCOL
    out: dict = {"model": req.model, "messages": render_messages(req.messages, same_protocol)}
    if same_protocol:
        out.update((k, v) for k, v in req.extra.items() if not k.startswith(MARK))
    if req.max_tokens is not None:
        legacy = same_protocol and req.extra.get(_LEGACY_MAX_TOKENS)
        out["max_tokens" if legacy else "max_completion_tokens"] = req.max_tokens
    for key, (attr, _) in _SCALARS.items():
        value = getattr(req, attr)
        if value is not None:
            out[key] = value
    if req.top_k is not None:
        # Only an OpenAI-shaped caller's own top_k gets here (convert drops it for other
        # callers: OpenAI has none); compatible servers such as vLLM take it.
        out["top_k"] = req.top_k
    if req.stop is not None:
        as_string = same_protocol and req.extra.get(_STOP_STRING) and len(req.stop) == 1
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
    """A tool's cache marker is dropped (OpenAI caches by itself)."""
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
    """A json_schema without a name gets ``"response"``: OpenAI requires one."""
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
    """An ``effort`` wins; else the budget by the table in docs/conversion.md
    ("Reasoning"). Off and adaptive send nothing: ``"none"`` is rejected by most
    reasoning models and omitting it is their default. ``include_thoughts`` has no
    field: Chat Completions never returns OpenAI's reasoning."""
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
