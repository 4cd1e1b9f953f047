"""Responses request bodies (``POST /v1/responses``) <-> IR requests.

Mapped: ``input`` (messages.py), ``instructions`` (a system message first),
``max_output_tokens``, ``temperature``, ``top_p``, ``top_logprobs``, ``parallel_tool_calls``,
``user``, ``stream``, ``tools`` (``function``; ``custom`` with its ``format``;
``namespace`` groups, whose tools keep their namespace; ``additional_tools`` input items
hoisted; every other type a HostedTool, ``web_search``/``web_search_preview`` as kind
``web_search``), ``tool_choice`` (``auto``/``none``/``required``, a named function or
custom tool, ``allowed_tools`` of functions), ``text.format`` (flattened json_schema,
json_object, text) and ``reasoning.effort`` / ``reasoning.summary`` (a summary asked for
means thoughts included).

Kept in ``extra`` (rendered back only to OpenAI Responses): the raw ``tools``,
``tool_choice``, ``text`` and ``reasoning`` objects, the per-item residue and the items
the IR cannot hold (messages.py), and every top-level field not named above. Of those,
``DROPPABLE`` ones are dropped toward other protocols; the rest (``previous_response_id``
and ``conversation`` the addon did not resolve, ``prompt`` templates, ``background:
true``, a ``tool_choice`` forcing a hosted tool, ``moderation``...) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from translators import fields as f
from translators import ir
from translators.errors import TranslationError
from translators.openai_responses import messages
from translators.openai_responses.wire import PROTOCOL

MARK = "openai_responses:"
INSTRUCTIONS = MARK + "instructions"  # the first message was the instructions field
RESIDUE = MARK + "residue"  # per input item: fields the IR does not carry
KEPT = MARK + "items"  # input items with no IR equivalent, with their positions
HOISTED = MARK + "hoisted"  # how many of req.tools came from additional_tools items
TOOLS = MARK + "tools"  # the caller's own tools list, for the same protocol
TOOL_CHOICE = MARK + "tool_choice"
INPUT_STRING = MARK + "input_string"  # the input was a plain string
TEXT = MARK + "text"  # the caller's text and reasoning objects, for the same protocol
REASONING = MARK + "reasoning"

DROPPABLE: frozenset[str] = frozenset(
    {
        "metadata",  # never sent to other upstreams (bug 16)
        "client_metadata",
        "prompt_cache_key",
        "prompt_cache_retention",
        "prompt_cache_options",
        "service_tier",
        "truncation",
        "store",
        "include",
        "stream_options",
        "safety_identifier",
        "max_tool_calls",  # limits hosted tools only
        "context_management",
        "text",  # what is left of it besides format: verbosity
        "reasoning",  # what is left of it besides effort and summary: context, mode
        INSTRUCTIONS,
        RESIDUE,
        KEPT,
        HOISTED,
        TOOLS,
        TOOL_CHOICE,
        TEXT,
        REASONING,
        INPUT_STRING,
    }
)

_WEB_SEARCH = frozenset(
    {"web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11"}
)
_SCALARS = {
    "temperature": ("temperature", f.number),
    "top_p": ("top_p", f.number),
    "top_logprobs": ("top_logprobs", f.integer),
    "parallel_tool_calls": ("parallel_tool_calls", f.boolean),
    "user": ("user", f.string),
}
_MAPPED = frozenset(
    {"model", "input", "instructions", "stream", "max_output_tokens", "tools", "tool_choice"}
    | set(_SCALARS)
)
_RESPONSES_ONLY = ("input", "instructions", "previous_response_id", "prompt", "conversation")


def recognise(body: object) -> int:
    """2 for a body only Responses has (``input``, ``instructions``, stored state)."""
    if not isinstance(body, dict) or "messages" in body or "contents" in body:
        return 0
    return 2 if any(key in body for key in _RESPONSES_ONLY) else 0


# --------------------------------------------------------------------------- parse


def parse_request(
    body: object, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """``model``/``stream`` override the body's values when the route supplies them."""
    body = f.obj(body, "")
    if model is None:
        model = f.need(body, "model", f.string, "")
    parsed = messages.parse_input(body.get("input", []), "input")
    req = ir.Request(model=model, messages=parsed.messages, source=PROTOCOL)
    req.stream = stream if stream is not None else bool(f.get(body, "stream", f.boolean, ""))
    instructions = f.get(body, "instructions", f.string, "")
    extra = {k: v for k, v in body.items() if k not in _MAPPED and v is not None}
    if extra.get("background") is False:
        del extra["background"]
    if instructions is not None:
        req.messages.insert(0, ir.Message("system", [ir.Text(instructions)]))
        extra[INSTRUCTIONS] = True
    if isinstance(body.get("input"), str):
        extra[INPUT_STRING] = True
    req.max_tokens = f.get(body, "max_output_tokens", f.integer, "")
    for key, (attr, read) in _SCALARS.items():
        value = f.get(body, key, read, "")
        if value is not None:
            setattr(req, attr, value)
    tools = f.get(body, "tools", f.arr, "") or []
    _parse_tools([(f.child("tools", k), t) for k, t in enumerate(tools)], req, None)
    if parsed.tools:
        before = len(req.tools) + len(req.hosted_tools)
        _parse_tools(parsed.tools, req, None)
        extra[HOISTED] = len(req.tools) + len(req.hosted_tools) - before
    if "tools" in body:
        extra[TOOLS] = body["tools"]
    _parse_tool_choice(body.get("tool_choice"), req, extra)
    _parse_text(extra.get("text"), req)
    _parse_reasoning(extra.get("reasoning"), req)
    for key, marker, mapped in (
        ("text", TEXT, ("format",)),
        ("reasoning", REASONING, ("effort", "summary", "generate_summary")),
    ):
        if key in extra:
            extra[marker] = extra[key]
            rest = {k: v for k, v in extra.pop(key).items() if k not in mapped and v is not None}
            if rest:
                extra[key] = rest  # dropped and reported toward other protocols
    if parsed.kept:
        extra[KEPT] = parsed.kept
    inputs = body.get("input")
    if isinstance(inputs, list):
        conversation = req.messages[1:] if instructions is not None else req.messages
        residue = _residue(inputs, conversation, parsed.kept)
        if residue is not None:
            extra[RESIDUE] = residue
    req.extra = extra
    return req


def _parse_tools(tools: list[tuple[str, object]], req: ir.Request, namespace: str | None) -> None:
    for at, raw in tools:
        tool = f.obj(raw, at)
        kind = f.need(tool, "type", f.string, at)
        if kind == "function":
            req.tools.append(
                ir.Tool(
                    name=f.need(tool, "name", f.string, at),
                    description=f.get(tool, "description", f.string, at),
                    parameters=f.get(tool, "parameters", f.obj, at),
                    strict=f.get(tool, "strict", f.boolean, at),
                    namespace=namespace,
                )
            )
        elif kind == "custom":
            req.tools.append(
                ir.Tool(
                    name=f.need(tool, "name", f.string, at),
                    description=f.get(tool, "description", f.string, at),
                    kind="custom",
                    namespace=namespace,
                    format=f.get(tool, "format", f.obj, at),
                )
            )
        elif kind == "namespace" and namespace is None:
            name = f.need(tool, "name", f.string, at)
            req.namespaces[name] = f.get(tool, "description", f.string, at)
            inner = f.need(tool, "tools", f.arr, at)
            _parse_tools(
                [(f.child(f.child(at, "tools"), k), t) for k, t in enumerate(inner)], req, name
            )
        elif namespace is None:
            req.hosted_tools.append(
                ir.HostedTool("web_search" if kind in _WEB_SEARCH else kind, tool)
            )
        else:
            raise f.fail(f.child(at, "type"), "must be function or custom inside a namespace")


def _parse_tool_choice(choice: object, req: ir.Request, extra: dict) -> None:
    if choice is None:
        return
    extra[TOOL_CHOICE] = choice
    if choice in ("auto", "none", "required"):
        req.tool_choice = ir.ToolChoice(choice)  # type: ignore[arg-type]
        return
    data = f.obj(choice, "tool_choice")
    kind = f.need(data, "type", f.string, "tool_choice")
    if kind in ("function", "custom"):
        req.tool_choice = ir.ToolChoice("tool", name=f.need(data, "name", f.string, "tool_choice"))
    elif kind == "allowed_tools":
        mode = f.need(data, "mode", f.string, "tool_choice")
        tools = f.need(data, "tools", f.arr, "tool_choice")
        names = [t.get("name") if isinstance(t, dict) else None for t in tools]
        if mode not in ("auto", "required") or not all(isinstance(n, str) for n in names):
            extra["tool_choice"] = choice  # hosted tools among them: OpenAI only
            return
        req.tool_choice = ir.ToolChoice(mode, allowed=names)  # type: ignore[arg-type]
    else:
        extra["tool_choice"] = choice  # a forced hosted tool: only OpenAI can run it


def _parse_text(text: object, req: ir.Request) -> None:
    if text is None:
        return
    fmt = f.get(f.obj(text, "text"), "format", f.obj, "text")
    if fmt is None:
        return
    at = "text.format"
    kind = f.need(fmt, "type", f.string, at)
    if kind in ("text", "json_object"):
        req.response_format = ir.ResponseFormat(kind)  # type: ignore[arg-type]
    elif kind == "json_schema":
        req.response_format = ir.ResponseFormat(
            "json_schema",
            schema=f.need(fmt, "schema", f.obj, at),
            name=f.get(fmt, "name", f.string, at),
            description=f.get(fmt, "description", f.string, at),
            strict=f.get(fmt, "strict", f.boolean, at),
        )
    else:
        raise f.fail(f.child(at, "type"), "must be text, json_object or json_schema")


def _parse_reasoning(value: object, req: ir.Request) -> None:
    if value is None:
        return
    data = f.obj(value, "reasoning")
    effort = f.get(data, "effort", f.string, "reasoning")
    summary = f.get(data, "summary", f.string, "reasoning")
    if summary is None:
        summary = f.get(data, "generate_summary", f.string, "reasoning")
    if effort is None and summary is None:
        return
    req.reasoning = ir.Reasoning(effort=effort)
    if summary is not None:
        req.reasoning.include_thoughts = summary != "none"


def _residue(inputs: list, conversation: list[ir.Message], kept: list[list]) -> list | None:
    """Per input item, what rendering the IR back would not reproduce (ids, status,
    phase, annotations, several summary parts, the easy message form), so the same
    protocol gets the items back as they came. None when the items do not line up."""
    items = render_items(conversation, kept, same_protocol=True)
    if len(items) != len(inputs):
        return None
    out: list = []
    for original, made in zip(inputs, items, strict=True):
        if not isinstance(original, dict):
            return None
        if f.type_of(made) != (f.type_of(original) or "message"):
            return None
        changed = {k: v for k, v in original.items() if made.get(k, _MISSING) != v}
        removed = [k for k in made if k not in original]
        out.append([changed, removed] if changed or removed else None)
    return out


_MISSING = object()


def render_items(
    conversation: list[ir.Message], kept: list[list], *, same_protocol: bool
) -> list[dict]:
    """The input items of a conversation; for the same protocol the items the IR cannot
    hold go back to their places."""
    items = messages.render_input(conversation, same_protocol=same_protocol)
    if same_protocol:
        for index, item in kept:
            items.insert(min(index, len(items)), item)
    return items


def _apply_residue(items: list[dict], residue: object) -> None:
    if not isinstance(residue, list) or len(residue) != len(items):
        return
    for item, entry in zip(items, residue, strict=True):
        if not entry:
            continue
        changed, removed = entry
        for key in removed:
            item.pop(key, None)
        item.update(changed)


# -------------------------------------------------------------------------- render


def render_request(req: ir.Request) -> dict:
    same = req.source == PROTOCOL
    conversation = list(req.messages)
    out: dict = {"model": req.model}
    instructions = _take_instructions(conversation, req, same)
    if instructions is not None:
        out["instructions"] = instructions
    kept = req.extra.get(KEPT) or [] if same else []
    items = render_items(conversation, kept, same_protocol=same)
    if same:
        _apply_residue(items, req.extra.get(RESIDUE))
    out["input"] = items
    if same and req.extra.get(INPUT_STRING) and len(conversation) == 1:
        parts = conversation[0].parts
        if conversation[0].role == "user" and len(parts) == 1 and isinstance(parts[0], ir.Text):
            out["input"] = parts[0].text
    if same:
        out.update((k, v) for k, v in req.extra.items() if not k.startswith(MARK))
        for key, marker in (("text", TEXT), ("reasoning", REASONING)):
            if marker in req.extra:
                out[key] = req.extra[marker]
    else:
        _refuse_inexpressible(req)
        out["store"] = False
    if req.max_tokens is not None:
        out["max_output_tokens"] = req.max_tokens
    for key, (attr, _) in _SCALARS.items():
        value = getattr(req, attr)
        if value is not None:
            out[key] = value
    if req.stream:
        out["stream"] = True
    _render_tools(req, out, same)
    if not same:
        _render_text(req.response_format, out)
        _render_reasoning(req, out)
        if req.logprobs and req.top_logprobs is None:
            out["top_logprobs"] = 0
    return out


def _take_instructions(conversation: list[ir.Message], req: ir.Request, same: bool) -> str | None:
    """The caller's ``instructions`` back; from another protocol, its leading system and
    developer messages (later ones stay in place as input messages with their role)."""
    if same:
        if not req.extra.get(INSTRUCTIONS) or not conversation:
            return None
        return _text_of(conversation.pop(0), "messages[0]")
    texts: list[str] = []
    while conversation and conversation[0].role in ("system", "developer"):
        texts.append(_text_of(conversation.pop(0), f"messages[{len(texts)}]"))
    return "\n\n".join(texts) if texts else None


def _text_of(message: ir.Message, at: str) -> str:
    texts = []
    for j, part in enumerate(message.parts):
        if not isinstance(part, ir.Text):
            raise TranslationError(
                f"{at}.parts[{j}]: a {type(part).__name__} cannot be part of the instructions",
                param=f"{at}.parts[{j}]",
            )
        texts.append(part.text)
    return "\n\n".join(texts)


def _refuse_inexpressible(req: ir.Request) -> None:
    """What OpenAI Responses has no field for and that changes what the caller gets
    back: where the answer stops, several answers (convert drops the sampling hints)."""
    refused = {
        "stop": req.stop,
        "n": req.n if req.n not in (None, 1) else None,
    }
    for name, value in refused.items():
        if value is not None:
            raise TranslationError(
                f"{name} has no equivalent in OpenAI Responses; remove it or use a model of "
                "another provider",
                param=name,
            )


def _render_tools(req: ir.Request, out: dict, same: bool) -> None:
    if same:
        if TOOLS in req.extra:
            out["tools"] = req.extra[TOOLS]
        if TOOL_CHOICE in req.extra:
            out["tool_choice"] = req.extra[TOOL_CHOICE]
        return
    tools = render_tools(req.tools, req.namespaces)
    tools += [_hosted(tool) for tool in req.hosted_tools]
    if tools:
        out["tools"] = tools
    if req.tool_choice is not None:
        out["tool_choice"] = _render_tool_choice(req.tool_choice, req.tools)


def render_tools(tools: list[ir.Tool], namespaces: Mapping[str, str | None]) -> list[dict]:
    """Function and custom tools; consecutive tools of one namespace form its group."""
    out: list[dict] = []
    for tool in tools:
        rendered = _render_tool(tool)
        if tool.namespace is None:
            out.append(rendered)
            continue
        last = out[-1] if out else None
        if last is None or last.get("type") != "namespace" or last["name"] != tool.namespace:
            description = namespaces.get(tool.namespace) or ""
            last = {"type": "namespace", "name": tool.namespace, "description": description}
            last["tools"] = []
            out.append(last)
        last["tools"].append(rendered)
    return out


def _render_tool(tool: ir.Tool) -> dict:
    out: dict = {"type": tool.kind, "name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    if tool.kind == "custom":
        if tool.format is not None:
            out["format"] = tool.format
        return out
    out["parameters"] = tool.parameters or {"type": "object", "properties": {}}
    if tool.strict is not None:
        out["strict"] = tool.strict
    return out


def _hosted(tool: ir.HostedTool) -> dict:
    if isinstance(tool.options.get("type"), str):
        return dict(tool.options)
    return {"type": tool.kind}


def _render_tool_choice(choice: ir.ToolChoice, tools: list[ir.Tool]) -> str | dict:
    kinds = {tool.name: tool.kind for tool in tools}
    if choice.mode == "tool" and choice.name is not None:
        return {"type": kinds.get(choice.name, "function"), "name": choice.name}
    if choice.allowed is not None and choice.mode in ("auto", "required"):
        allowed = [{"type": kinds.get(n, "function"), "name": n} for n in choice.allowed]
        return {"type": "allowed_tools", "mode": choice.mode, "tools": allowed}
    return "required" if choice.mode == "tool" else choice.mode


def _render_text(fmt: ir.ResponseFormat | None, out: dict) -> None:
    if fmt is None:
        return
    if fmt.type != "json_schema":
        out["text"] = {"format": {"type": fmt.type}}
        return
    body: dict = {"type": "json_schema", "name": fmt.name or "response"}
    body["schema"] = fmt.schema or {"type": "object"}
    if fmt.description is not None:
        body["description"] = fmt.description
    if fmt.strict is not None:
        body["strict"] = fmt.strict
    out["text"] = {"format": body}


def _render_reasoning(req: ir.Request, out: dict) -> None:
    """Effort as given, else from a thinking budget (as for Chat); thoughts asked for
    mean a summary, and so does thinking another format's caller switched on without
    saying (Claude shows its thinking unless told to omit it). Reasoning state must
    come back on the next turn (``store`` is false), so encrypted reasoning is always
    requested with reasoning on, and whenever the history holds OpenAI's own."""
    reasoning = req.reasoning
    config: dict = {}
    if reasoning is not None:
        effort = _effort(reasoning)
        if effort is not None:
            config["effort"] = effort
        thoughts = reasoning.include_thoughts
        if thoughts is None and req.source != PROTOCOL:
            thoughts = bool(reasoning.enabled or reasoning.adaptive)
        if thoughts and effort != "none":
            config["summary"] = "auto"
    if config:
        out["reasoning"] = config
    replayed = any(
        isinstance(part, ir.Thinking) and part.origin == PROTOCOL and part.signature
        for message in req.messages
        for part in message.parts
    )
    if replayed or config.get("effort") not in (None, "none"):
        out["include"] = ["reasoning.encrypted_content"]


def _effort(reasoning: ir.Reasoning) -> str | None:
    if reasoning.effort is not None:
        return reasoning.effort
    if reasoning.enabled is False:
        return None
    budget = reasoning.budget_tokens
    if budget is None:
        return "medium" if reasoning.enabled or reasoning.adaptive else None
    if budget < 1:
        return None
    if budget <= 1024:
        return "low"
    return "medium" if budget <= 8192 else "high"


# ------------------------------------------------------------------- token counts


def parse_count_request(body: object, *, model: str | None = None) -> ir.Request:
    """``POST /v1/responses/input_tokens``: every field optional, ``model`` included."""
    data = f.obj(body, "")
    if model is None and data.get("model") is None:
        model = ""
    return parse_request(data, model=model, stream=False)


def render_token_count(tokens: int) -> dict:
    return {"object": "response.input_tokens", "input_tokens": tokens}


# The fields ``input_tokens`` takes: what the model reads, not how it answers.
_COUNT_FIELDS = frozenset(
    [
        "conversation",
        "input",
        "instructions",
        "model",
        "parallel_tool_calls",
        "previous_response_id",
        "reasoning",
        "text",
        "tool_choice",
        "tools",
        "truncation",
    ]
)


def render_count_request(req: ir.Request) -> dict:
    """An ``input_tokens`` body: the create body of ``req`` cut to ``_COUNT_FIELDS``."""
    return {k: v for k, v in render_request(req).items() if k in _COUNT_FIELDS}


def parse_token_count(body: object) -> int:
    """The number in an ``input_tokens`` answer."""
    return f.need(f.obj(body, ""), "input_tokens", f.integer, "")
