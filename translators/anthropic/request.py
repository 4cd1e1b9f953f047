"""Request-level fields, both directions: sampling, tools and ``tool_choice``, thinking and
``output_config``, and what the rest of a Messages body maps to. The conversation itself
is in ``messages``; docs/conversion.md has the table of every field."""

from __future__ import annotations

from translators import fields, ir
from translators.anthropic.messages import parse_message, parse_system, render_conversation
from translators.anthropic.wire import PROTOCOL
from translators.errors import TranslationError
from translators.fields import child, fail

# Fields an Anthropic caller may send that can be dropped toward another protocol; any
# other field left in ``Request.extra`` is refused there.
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

# Anthropic requires ``max_tokens``; the addon fills it from the per-model rules first.
DEFAULT_MAX_TOKENS = 4096
_UNBOUNDED = 1 << 31  # "no output budget given": thinking budgets are not clamped by it

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
    if isinstance(choice, dict) and fields.type_of(choice) in _TOOL_CHOICE_TYPES:
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
        btype = fields.type_of(block)
        if btype in _ANTHROPIC_BLOCKS or (btype == "image" and "source" in block):
            return True
    return False


# ---------------------------------------------------------------- parse request


def parse_count_request(body: object, *, model: str | None = None) -> ir.Request:
    """``count_tokens`` takes the Messages body without ``max_tokens``."""
    return parse_request(body, model=model, stream=False)


def parse_request(
    body: object, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """A Messages body. Fields with no IR field stay in ``extra``: toward Anthropic they
    are sent back as they came, toward others only ``DROPPABLE`` ones may be dropped."""
    body = fields.obj(body, "")
    name = model if model is not None else fields.need(body, "model", fields.string, "")
    messages = parse_system(body.get("system"))
    for i, raw in enumerate(fields.need(body, "messages", fields.arr, "")):
        messages.append(parse_message(raw, child("messages", i)))
    if stream is None:
        stream = bool(fields.get(body, "stream", fields.boolean, ""))
    req = ir.Request(
        model=name,
        messages=messages,
        source=PROTOCOL,
        stream=stream,
        max_tokens=fields.get(body, "max_tokens", fields.integer, ""),
        temperature=fields.get(body, "temperature", fields.number, ""),
        top_p=fields.get(body, "top_p", fields.number, ""),
        top_k=fields.get(body, "top_k", fields.integer, ""),
        stop=_parse_stop_sequences(body.get("stop_sequences")),
        cache_control=fields.get(body, "cache_control", fields.obj, ""),
        extra={k: v for k, v in body.items() if k not in _MAPPED_FIELDS},
    )
    _parse_metadata(body.get("metadata"), req)
    _parse_tools(body.get("tools"), req)
    _parse_tool_choice(body.get("tool_choice"), req)
    _parse_thinking(body.get("thinking"), req)
    _parse_output_config(body.get("output_config"), req)
    return req


def _parse_stop_sequences(value: object) -> list[str] | None:
    if value is None:
        return None
    at = "stop_sequences"
    return [fields.string(s, child(at, i)) for i, s in enumerate(fields.arr(value, at))]


def _parse_metadata(value: object, req: ir.Request) -> None:
    """Only a plain ``{"user_id": "..."}`` maps to ``user``; anything else stays."""
    if value is None:
        return
    metadata = fields.obj(value, "metadata")
    user = metadata.get("user_id")
    if metadata.keys() == {"user_id"} and isinstance(user, str):
        req.user = user
    else:
        req.extra["metadata"] = metadata


def _parse_tools(value: object, req: ir.Request) -> None:
    """Custom tools are ``ir.Tool``s. Their hint fields (``type: "custom"``,
    ``input_examples``, ``defer_loading``...) are kept in ``extra["tool_hints"]`` by
    tool name (droppable), fields this codec does not know in ``extra["tool_fields"]``
    (refused). With any server tool the whole list is kept in ``extra["tools"]``: sent
    verbatim to Anthropic, refused toward others."""
    if value is None:
        return
    hints: dict[str, dict] = {}
    unknown: dict[str, dict] = {}
    server = False
    for i, raw in enumerate(fields.arr(value, "tools")):
        at = child("tools", i)
        tool = fields.obj(raw, at)
        if tool.get("type", "custom") != "custom":
            server = True
            continue
        name = fields.need(tool, "name", fields.string, at)
        req.tools.append(
            ir.Tool(
                name=name,
                description=fields.get(tool, "description", fields.string, at),
                parameters=fields.need(tool, "input_schema", fields.obj, at),
                strict=fields.get(tool, "strict", fields.boolean, at),
                cache_control=fields.get(tool, "cache_control", fields.obj, at),
            )
        )
        for key, field_value in tool.items():
            if key not in _TOOL_FIELDS:
                kept = hints if key in _TOOL_HINT_FIELDS else unknown
                kept.setdefault(name, {})[key] = field_value
    if server:
        req.extra["tools"] = value
        return
    if hints:
        req.extra["tool_hints"] = hints
    if unknown:
        req.extra["tool_fields"] = unknown


def _parse_tool_choice(value: object, req: ir.Request) -> None:
    """``auto``/``any``/``tool``/``none``; ``disable_parallel_tool_use`` is the inverse of
    ``parallel_tool_calls``."""
    if value is None:
        return
    at = "tool_choice"
    choice = fields.obj(value, at)
    ctype = choice.get("type")
    if ctype == "auto":
        req.tool_choice = ir.ToolChoice("auto")
    elif ctype == "any":
        req.tool_choice = ir.ToolChoice("required")
    elif ctype == "tool":
        req.tool_choice = ir.ToolChoice("tool", name=fields.need(choice, "name", fields.string, at))
    elif ctype == "none":
        req.tool_choice = ir.ToolChoice("none")
    else:
        raise fail(child(at, "type"), f"must be auto, any, tool or none, not {ctype!r}")
    disable = fields.get(choice, "disable_parallel_tool_use", fields.boolean, at)
    if disable is not None:
        req.parallel_tool_calls = not disable


def _parse_thinking(value: object, req: ir.Request) -> None:
    """``enabled`` + ``budget_tokens`` / ``disabled`` / ``adaptive``; ``display`` other
    than ``omitted`` asks for the thoughts."""
    if value is None:
        return
    at = "thinking"
    thinking = fields.obj(value, at)
    ttype = thinking.get("type")
    display = fields.get(thinking, "display", fields.string, at)
    reasoning = ir.Reasoning()
    if ttype == "enabled":
        reasoning.enabled = True
        reasoning.budget_tokens = fields.need(thinking, "budget_tokens", fields.integer, at)
    elif ttype == "disabled":
        reasoning.enabled = False
    elif ttype == "adaptive":
        reasoning.adaptive = True
    else:
        raise fail(child(at, "type"), f"must be enabled, disabled or adaptive, not {ttype!r}")
    if display is not None:
        reasoning.include_thoughts = display != "omitted"
    req.reasoning = reasoning


def _parse_output_config(value: object, req: ir.Request) -> None:
    """``effort`` is ``Reasoning.effort``; a ``json_schema`` ``format`` is the response
    format; other keys stay in ``extra``."""
    if value is None:
        return
    at = "output_config"
    config = dict(fields.obj(value, at))
    effort = config.pop("effort", None)
    if effort is not None:
        req.reasoning = req.reasoning or ir.Reasoning()
        req.reasoning.effort = fields.string(effort, child(at, "effort"))
    fmt = config.pop("format", None)
    if fmt is not None:
        fmt_at = child(at, "format")
        fmt = fields.obj(fmt, fmt_at)
        if fmt.get("type") != "json_schema":
            raise fail(child(fmt_at, "type"), "must be json_schema to be translated")
        schema = fields.need(fmt, "schema", fields.obj, fmt_at)
        req.response_format = ir.ResponseFormat("json_schema", schema=schema)
    if config:
        req.extra["output_config"] = config


# --------------------------------------------------------------- render request

# What ``count_tokens`` takes of a Messages body: what the model reads. The budget,
# sampling and stream only shape the answer, and the endpoint refuses them.
_COUNT_FIELDS = ("model", "system", "messages", "tools", "tool_choice")


def render_count_request(req: ir.Request) -> dict:
    """A ``count_tokens`` body for ``req``: its Messages body cut to ``_COUNT_FIELDS``."""
    body = render_request(req)
    return {name: body[name] for name in _COUNT_FIELDS if name in body}


def render_request(req: ir.Request) -> dict:
    """A Messages body for the Anthropic API. Extension fields (docs/extensions.md) are
    never sent; fields Anthropic has no place for are left out (``n`` = 1, ``logprobs``
    false, ``top_logprobs`` 0, ``include_usage``: Anthropic streams always carry usage;
    convert has already dropped and reported the sampling hints) or refused
    (``_refuse_inexpressible``)."""
    same_protocol = req.source == PROTOCOL
    _refuse_inexpressible(req)
    max_tokens = req.max_tokens if req.max_tokens is not None else DEFAULT_MAX_TOKENS
    system, turns = render_conversation(req.messages, same_protocol)
    body: dict = {"model": req.model, "max_tokens": max_tokens}
    if system is not None:
        body["system"] = system
    body["messages"] = turns
    if req.temperature is not None:
        body["temperature"] = min(req.temperature, 1.0)  # Anthropic's range is 0..1
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
    _render_tools(req, body, same_protocol)
    # With no budget of the caller's own (Codex sends none), the default leaves the
    # answer its usual room above the thinking budget instead of squeezing thinking into
    # it: clamped below 4096, an effort's budget would leave Claude one token to answer.
    budget_room = _UNBOUNDED if req.max_tokens is None else max_tokens
    _render_reasoning(req.reasoning, budget_room, same_protocol, body)
    thinking = body.get("thinking")
    if req.max_tokens is None and thinking and "budget_tokens" in thinking:
        body["max_tokens"] = thinking["budget_tokens"] + DEFAULT_MAX_TOKENS
    if not same_protocol and _unthought_tool_turn(turns):
        body.pop("thinking", None)
    if not same_protocol:
        _fit_thinking_limits(body)
    _render_response_format(req.response_format, body)
    if same_protocol:
        _render_extra(req.extra, body)
    return body


def _refuse_inexpressible(req: ir.Request) -> None:
    """What Anthropic cannot do and dropping would silently change what the caller gets
    back: several answers, log probabilities."""
    if req.n is not None and req.n > 1:
        raise TranslationError("Anthropic returns one answer per request; n must be 1", param="n")
    if req.logprobs:
        raise TranslationError("Anthropic has no log probabilities", param="logprobs")
    if req.top_logprobs:
        raise TranslationError("Anthropic has no log probabilities", param="top_logprobs")


def _render_extra(extra: dict, body: dict) -> None:
    for key, value in extra.items():
        if key == "output_config":
            body["output_config"] = {**value, **body.get("output_config", {})}
        elif key not in ("tool_hints", "tool_fields"):
            body[key] = value


def _render_web_search(tool: ir.HostedTool) -> dict:
    """Another format's web search as Anthropic's server tool; the domain filter and the
    approximate user location have the same shape in OpenAI's Responses tool."""
    out: dict = {"type": "web_search_20250305", "name": "web_search"}
    filters = tool.options.get("filters")
    if isinstance(filters, dict) and isinstance(filters.get("allowed_domains"), list):
        out["allowed_domains"] = filters["allowed_domains"]
    location = tool.options.get("user_location")
    if isinstance(location, dict) and location.get("type") == "approximate":
        out["user_location"] = location
    return out


def _render_tools(req: ir.Request, body: dict, same_protocol: bool) -> None:
    """A parameterless tool gets ``{"type":"object","properties":{}}``. A caller's
    ``parallel_tool_calls`` is ``disable_parallel_tool_use``, which needs a
    ``tool_choice`` (``auto`` when there is none) and is dropped with ``none``."""
    if same_protocol and "tools" in req.extra:
        body["tools"] = req.extra["tools"]
    elif req.tools:
        hints = req.extra.get("tool_hints", {}) if same_protocol else {}
        unknown = req.extra.get("tool_fields", {}) if same_protocol else {}
        body["tools"] = [
            _render_tool(tool, hints.get(tool.name), unknown.get(tool.name)) for tool in req.tools
        ]
    for hosted in req.hosted_tools:  # convert keeps only those Anthropic runs
        body.setdefault("tools", []).append(_render_web_search(hosted))
    choice: dict | None = None
    if req.tool_choice is not None:
        choice = _render_tool_choice(req.tool_choice, req.tools)
    elif req.parallel_tool_calls is False and "tools" in body:
        choice = {"type": "auto"}
    if choice is not None and req.parallel_tool_calls is not None and choice["type"] != "none":
        choice["disable_parallel_tool_use"] = not req.parallel_tool_calls
    if choice is not None:
        body["tool_choice"] = choice


def _render_tool(tool: ir.Tool, hints: dict | None, unknown: dict | None) -> dict:
    out: dict = {"name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    out["input_schema"] = tool.parameters or {"type": "object", "properties": {}}
    if tool.strict is not None:
        out["strict"] = tool.strict
    if tool.cache_control is not None:
        out["cache_control"] = tool.cache_control
    out.update(hints or {})
    out.update(unknown or {})
    return out


def _render_tool_choice(choice: ir.ToolChoice, tools: list[ir.Tool]) -> dict:
    """Anthropic can force one tool or any tool: an allowed list of one name forces that
    tool, one of all the tools is ``any``, any other set is refused."""
    if choice.mode == "auto":
        return {"type": "auto"}
    if choice.mode == "none":
        return {"type": "none"}
    if choice.mode == "tool":
        return {"type": "tool", "name": fields.string(choice.name, "tool_choice.name")}
    allowed = choice.allowed
    if allowed and len(allowed) == 1:
        return {"type": "tool", "name": allowed[0]}
    if allowed and set(allowed) != {t.name for t in tools}:
        raise TranslationError(
            "Anthropic can force one tool or any tool, not a set", param="tool_choice.allowed"
        )
    return {"type": "any"}


def _render_reasoning(
    reasoning: ir.Reasoning | None, max_tokens: int, same_protocol: bool, body: dict
) -> None:
    """``thinking`` (``display`` from ``include_thoughts``) and ``output_config.effort``.
    Another protocol's effort goes as ``output_config.effort`` only with adaptive
    thinking; otherwise it becomes a budget (``_thinking_config``)."""
    if reasoning is None:
        return
    thinking = _thinking_config(reasoning, max_tokens, same_protocol)
    if thinking is not None:
        if reasoning.include_thoughts is not None and thinking["type"] != "disabled":
            thinking["display"] = "summarized" if reasoning.include_thoughts else "omitted"
        body["thinking"] = thinking
    effort = reasoning.effort
    if not same_protocol and effort is not None:
        adaptive = thinking is not None and thinking["type"] == "adaptive"
        effort = _ANTHROPIC_EFFORT.get(effort) if adaptive else None
    if effort is not None:
        body["output_config"] = {"effort": effort}


def _thinking_config(reasoning: ir.Reasoning, max_tokens: int, same_protocol: bool) -> dict | None:
    """Effort ``none`` disables thinking; a foreign effort with no budget becomes
    ``EFFORT_BUDGET[effort]``. Every budget is clamped into Anthropic's
    ``1024 <= budget < max_tokens``; when ``max_tokens`` is too small for that, thinking
    is left out."""
    effort = None if same_protocol else reasoning.effort
    if reasoning.enabled is False or effort == "none" or reasoning.budget_tokens == 0:
        return {"type": "disabled"}
    if reasoning.adaptive:
        return {"type": "adaptive"}
    budget = reasoning.budget_tokens
    if budget is None and effort is not None:
        if effort not in EFFORT_BUDGET:
            raise TranslationError(f"unknown reasoning effort {effort!r}", param="reasoning.effort")
        budget = EFFORT_BUDGET[effort]
    if budget is None and reasoning.enabled:
        budget = EFFORT_BUDGET["medium"]
    if budget is None:
        return None
    budget = min(max(budget, _MIN_BUDGET), max_tokens - 1)
    return {"type": "enabled", "budget_tokens": budget} if budget >= _MIN_BUDGET else None


def _unthought_tool_turn(turns: list[dict]) -> bool:
    """With thinking on, Claude rejects a final assistant turn that calls tools without
    starting with a thinking block: history from another provider never has one
    (``test_thinking_left_out_when_last_tool_turn_has_no_thinking``)."""
    for turn in reversed(turns):
        if turn["role"] != "assistant":
            continue
        blocks = turn["content"]
        if isinstance(blocks, str) or not any(b["type"] == "tool_use" for b in blocks):
            return False
        return blocks[0]["type"] not in ("thinking", "redacted_thinking")
    return False


def _fit_thinking_limits(body: dict) -> None:
    """Claude's thinking works only with default sampling and without forced tool use.
    Other formats' callers (gemini-cli sends temperature 0 with thinking on) would get a
    400 for a combination their own provider accepts, so: a forced tool choice wins over
    thinking, and with thinking on ``temperature``, ``top_k`` and a ``top_p`` below 0.95
    go."""
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


def _render_response_format(fmt: ir.ResponseFormat | None, body: dict) -> None:
    """``output_config.format`` json_schema; ``json_object`` is the schema
    ``{"type":"object"}``. Name, description and strict have no Anthropic field."""
    if fmt is None or fmt.type == "text":
        return
    schema = fmt.schema if fmt.type == "json_schema" and fmt.schema else {"type": "object"}
    body.setdefault("output_config", {})["format"] = {"type": "json_schema", "schema": schema}
