"""Request-level fields: ``tools``, ``toolConfig``, ``generationConfig`` (sampling,
response format, thinking) and what the IR keeps for a Gemini caller's own round trip.

Gemini puts the model and the stream flag in the URL
(``models/{model}:streamGenerateContent``), so ``parse_request`` takes them as arguments.
The field tables are in docs/conversion.md §2 and §3.
"""

from __future__ import annotations

from typing import Literal

from translators import fields, ir
from translators.gemini.messages import (
    parse_contents,
    parse_system,
    render_contents,
    render_system,
)
from translators.gemini.schema import from_gemini_schema, to_gemini_schema
from translators.gemini.wire import PROTOCOL, before_gemini3, camel_obj, listed

# Same-protocol fidelity: ``Request.extra`` keeps unmapped fields under their camelCase
# names and, under ``_form``, how the caller wrote things that have one IR meaning
# (``parametersJsonSchema`` vs ``parameters``, ``responseSchema``, extra declaration
# fields, ``VALIDATED`` mode, an empty ``generationConfig``, the ``systemInstruction``
# role). ``_form`` is droppable by definition.
FORM = "_form"
# Not cachedContent: it holds part of the prompt, so dropping it would change what the
# model is asked; another provider cannot use it, and the request is refused instead.
DROPPABLE = frozenset({"safetySettings", "serviceTier", "labels", FORM})

_MAPPED = frozenset({"contents", "systemInstruction", "tools", "toolConfig", "generationConfig"})


def recognise(body: object) -> int:
    """2 for Gemini's own top-level names; 0 for chat-style ``messages``/``input``."""
    if not isinstance(body, dict):
        return 0
    if "contents" in body:
        return 2
    if "messages" in body or "input" in body:
        return 0
    mine = ("systemInstruction", "system_instruction", "generationConfig", "generation_config")
    return 2 if any(k in body for k in mine) else 0


def parse_count_request(body: object, *, model: str | None = None) -> ir.Request:
    """``countTokens`` takes either ``contents`` or a whole ``generateContentRequest``."""
    if isinstance(body, dict) and isinstance(body.get("generateContentRequest"), dict):
        body = body["generateContentRequest"]
    return parse_request(body, model=model, stream=False)


def render_token_count(tokens: int) -> dict:
    return {
        "totalTokens": tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}],
    }


# What the model reads; generationConfig only shapes the answer.
_COUNT_KEYS = ("contents", "systemInstruction", "tools", "toolConfig")


def render_count_request(req: ir.Request) -> dict:
    """A ``countTokens`` body: bare ``contents`` when that is all there is, otherwise a
    ``generateContentRequest`` (the only form that counts the system instruction and
    tools), which names its model as a resource."""
    body = render_request(req)
    inner = {key: body[key] for key in _COUNT_KEYS if key in body}
    if list(inner) == ["contents"]:
        return inner
    return {"generateContentRequest": {"model": f"models/{req.model}", **inner}}


def parse_token_count(body: object) -> int:
    """``totalTokens`` of a ``countTokens`` answer; proto3 JSON leaves out a zero."""
    return fields.get(fields.obj(body, ""), "totalTokens", fields.integer, "") or 0


# ---------------------------------------------------------------------------- parse


def parse_request(
    body: object, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """Snake_case names, lone objects for lists and lower-case enums are read as the Gemini
    server reads them; ``model`` defaults to the body's own ``model`` field."""
    b = camel_obj(body, "")
    contents = fields.need(b, "contents", listed, "")
    if model is None:
        named = b.get("model")
        model = named.removeprefix("models/") if isinstance(named, str) else ""
    req = ir.Request(model=model, messages=[], source=PROTOCOL, stream=bool(stream))
    form: dict = {}
    if b.get("systemInstruction") is not None:
        req.messages.append(parse_system(b["systemInstruction"], form))
    req.messages += parse_contents(contents)
    if b.get("tools") is not None:
        _parse_tools(b["tools"], req, form)
    if b.get("toolConfig") is not None:
        _parse_tool_config(b["toolConfig"], req, form)
    if b.get("generationConfig") is not None:
        _parse_generation(b["generationConfig"], req, form)
    for key, value in b.items():
        if key not in _MAPPED and key != "model":
            req.extra[key] = value
    if form:
        req.extra[FORM] = form
    return req


def _parse_tools(raw: object, req: ir.Request, form: dict) -> None:
    """Function declarations become IR tools; other tools (``googleSearch``...) stay in
    ``extra``, refused toward other providers."""
    others: list[dict] = []
    for i, item in enumerate(listed(raw, "tools")):
        at = fields.child("tools", i)
        tool = camel_obj(item, at)
        decls = tool.pop("functionDeclarations", None)
        if decls is not None:
            decls_at = fields.child(at, "functionDeclarations")
            for j, decl in enumerate(listed(decls, decls_at)):
                req.tools.append(_declaration(decl, fields.child(decls_at, j), form))
        if tool:
            others.append(tool)
    if others:
        req.extra["tools"] = others


def _declaration(raw: object, at: str, form: dict) -> ir.Tool:
    """``parameters`` (Gemini's OpenAPI subset) is read as JSON Schema;
    ``parametersJsonSchema`` is JSON Schema already."""
    decl = camel_obj(raw, at)
    name = fields.need(decl, "name", fields.string, at)
    description = fields.get(decl, "description", fields.string, at)
    how: dict = {}
    parameters = fields.get(decl, "parametersJsonSchema", fields.obj, at)
    if parameters is not None:
        how["parametersJsonSchema"] = True
    else:
        schema = fields.get(decl, "parameters", fields.obj, at)
        parameters = None if schema is None else from_gemini_schema(schema)
    for key in ("name", "description", "parametersJsonSchema", "parameters"):
        decl.pop(key, None)
    if decl:
        how["extra"] = decl
    if how:
        form.setdefault("declarations", {})[name] = how
    return ir.Tool(name=name, description=description, parameters=parameters)


_MODES: dict[str, Literal["auto", "required", "none"]] = {
    "AUTO": "auto",
    "ANY": "required",
    "NONE": "none",
    "VALIDATED": "auto",
}


def _parse_tool_config(raw: object, req: ir.Request, form: dict) -> None:
    config = camel_obj(raw, "toolConfig")
    calling = config.pop("functionCallingConfig", None)
    if calling is not None:
        at = "toolConfig.functionCallingConfig"
        fcc = camel_obj(calling, at)
        mode = fields.get(fcc, "mode", fields.string, at)
        mode = mode.upper() if mode else None
        names_at = fields.child(at, "allowedFunctionNames")
        names: list[str] | None = None
        if fcc.get("allowedFunctionNames") is not None:
            raw_names = listed(fcc["allowedFunctionNames"], names_at)
            names = [fields.string(n, names_at) for n in raw_names]
        fcc.pop("mode", None)
        fcc.pop("allowedFunctionNames", None)
        req.tool_choice = _tool_choice(mode, names, at)
        if mode == "VALIDATED":
            form["functionCallingMode"] = "VALIDATED"
        if fcc:
            config["functionCallingConfig"] = fcc
    if config:
        req.extra["toolConfig"] = config


def _tool_choice(mode: str | None, names: list[str] | None, at: str) -> ir.ToolChoice | None:
    """ANY with one allowed name forces that tool; names with AUTO (or no mode) narrow the
    choice; VALIDATED is auto."""
    if mode in (None, "MODE_UNSPECIFIED"):
        return ir.ToolChoice("auto", allowed=names) if names else None
    choice = _MODES.get(mode or "")
    if choice is None:
        raise fields.fail(
            fields.child(at, "mode"), f"must be AUTO, ANY, NONE or VALIDATED, not {mode!r}"
        )
    if choice == "required" and names and len(names) == 1:
        return ir.ToolChoice("tool", name=names[0])
    if choice == "none":
        return ir.ToolChoice("none")
    return ir.ToolChoice(choice, allowed=names or None)


_GEN_FIELDS = (
    ("temperature", "temperature", fields.number),
    ("topP", "top_p", fields.number),
    ("topK", "top_k", fields.integer),
    ("candidateCount", "n", fields.integer),
    ("maxOutputTokens", "max_tokens", fields.integer),
    ("presencePenalty", "presence_penalty", fields.number),
    ("frequencyPenalty", "frequency_penalty", fields.number),
    ("seed", "seed", fields.integer),
    ("responseLogprobs", "logprobs", fields.boolean),
    ("logprobs", "top_logprobs", fields.integer),
)


def _parse_generation(raw: object, req: ir.Request, form: dict) -> None:
    at = "generationConfig"
    gen = camel_obj(raw, at)
    form["generationConfig"] = True
    for wire, attr, read in _GEN_FIELDS:
        value = fields.get(gen, wire, read, at)
        gen.pop(wire, None)
        if value is not None:
            setattr(req, attr, value)
    stops = gen.pop("stopSequences", None)
    if stops is not None:
        stops_at = fields.child(at, "stopSequences")
        listed_stops = [stops] if isinstance(stops, str) else listed(stops, stops_at)
        req.stop = [fields.string(s, stops_at) for s in listed_stops]
    req.response_format = _response_format(gen, form)
    thinking = gen.pop("thinkingConfig", None)
    if thinking is not None:
        req.reasoning = _reasoning(camel_obj(thinking, fields.child(at, "thinkingConfig")), gen)
    if gen:
        req.extra["generationConfig"] = gen


def _response_format(gen: dict, form: dict) -> ir.ResponseFormat | None:
    """application/json (+ schema) and text/plain map; other MIME types stay in extra."""
    mime = gen.get("responseMimeType")
    json_schema = gen.get("responseJsonSchema")
    schema = gen.get("responseSchema")
    has_schema = json_schema is not None or schema is not None
    if mime == "text/plain" and not has_schema:
        del gen["responseMimeType"]
        return ir.ResponseFormat("text")
    if mime != "application/json":
        return None
    del gen["responseMimeType"]
    if isinstance(json_schema, dict):
        del gen["responseJsonSchema"]
        return ir.ResponseFormat("json_schema", schema=json_schema)
    if isinstance(schema, dict):
        del gen["responseSchema"]
        form["responseSchema"] = True
        return ir.ResponseFormat("json_schema", schema=from_gemini_schema(schema))
    return ir.ResponseFormat("json_object")


def _reasoning(config: dict, gen: dict) -> ir.Reasoning:
    """``thinkingBudget`` 0 is off, -1 adaptive, N > 0 a budget; ``thinkingLevel`` is the
    effort (lower case)."""
    at = "generationConfig.thinkingConfig"
    reasoning = ir.Reasoning()
    budget = fields.get(config, "thinkingBudget", fields.integer, at)
    if budget is not None:
        if budget == 0:
            reasoning.enabled, reasoning.budget_tokens = False, 0
        elif budget == -1:
            reasoning.adaptive = True
        elif budget > 0:
            reasoning.enabled, reasoning.budget_tokens = True, budget
        else:
            raise fields.fail(fields.child(at, "thinkingBudget"), "must be -1 or >= 0")
    reasoning.include_thoughts = fields.get(config, "includeThoughts", fields.boolean, at)
    level = fields.get(config, "thinkingLevel", fields.string, at)
    if level is not None:
        reasoning.effort = level.lower()
    for key in ("thinkingBudget", "includeThoughts", "thinkingLevel"):
        config.pop(key, None)
    if config:
        gen["thinkingConfig"] = config
    return reasoning


# --------------------------------------------------------------------------- render


def render_request(req: ir.Request) -> dict:
    """Always camelCase, lists and upper-case enums. Mid-conversation system/developer
    messages become user text (merged into the neighbouring user turn); leading ones form
    ``systemInstruction``."""
    same_protocol = req.source == PROTOCOL
    form: dict = req.extra.get(FORM, {}) if same_protocol else {}
    messages = req.messages
    lead = 0
    while lead < len(messages) and messages[lead].role in ("system", "developer"):
        lead += 1
    body: dict = {"contents": render_contents(req, lead)}
    system_parts = render_system(messages[:lead])
    if system_parts:
        body["systemInstruction"] = {"parts": system_parts}
        if "systemInstructionRole" in form:
            body["systemInstruction"]["role"] = form["systemInstructionRole"]
    if req.tools or req.hosted_tools or (same_protocol and "tools" in req.extra):
        body["tools"] = _render_tools(req, form)
    if req.tool_choice is not None or (same_protocol and "toolConfig" in req.extra):
        body["toolConfig"] = _render_tool_config(req, form)
    gen = _render_generation(req, form)
    if gen or form.get("generationConfig"):
        body["generationConfig"] = gen
    if same_protocol:
        for key, value in req.extra.items():
            if key not in (FORM, "tools", "toolConfig", "generationConfig"):
                body[key] = value
    return body


def _render_tools(req: ir.Request, form: dict) -> list[dict]:
    """``parameters = to_gemini_schema(...)``, left out for parameterless tools; a Gemini
    caller's ``parametersJsonSchema`` is written back as it was."""
    how_by_name = form.get("declarations", {})
    decls = []
    for tool in req.tools:
        decl: dict = {"name": tool.name}
        if tool.description is not None:
            decl["description"] = tool.description
        how = how_by_name.get(tool.name, {})
        if how.get("parametersJsonSchema") and tool.parameters is not None:
            decl["parametersJsonSchema"] = tool.parameters
        else:
            schema = to_gemini_schema(tool.parameters)
            if schema != {"type": "OBJECT", "properties": {}}:
                decl["parameters"] = schema
        decl.update(how.get("extra", {}))
        decls.append(decl)
    tools: list[dict] = [{"functionDeclarations": decls}] if decls else []
    # Another format's web search is Google Search grounding (convert keeps it only
    # without function tools: Gemini 2.x refuses the two together).
    tools += [{"googleSearch": {}} for _ in req.hosted_tools]
    if req.source == PROTOCOL:
        tools += req.extra.get("tools", [])
    return tools


def _render_tool_config(req: ir.Request, form: dict) -> dict:
    config: dict = {}
    choice = req.tool_choice
    if choice is not None:
        fcc: dict = {"mode": {"auto": "AUTO", "none": "NONE"}.get(choice.mode, "ANY")}
        if choice.mode == "auto" and form.get("functionCallingMode") == "VALIDATED":
            fcc["mode"] = "VALIDATED"
        if choice.mode == "tool":
            fcc["allowedFunctionNames"] = [choice.name]
        elif choice.allowed is not None and choice.mode != "none":
            fcc["allowedFunctionNames"] = list(choice.allowed)
        config["functionCallingConfig"] = fcc
    if req.source == PROTOCOL:
        for key, value in req.extra.get("toolConfig", {}).items():
            if key == "functionCallingConfig" and "functionCallingConfig" in config:
                config[key] = {**value, **config[key]}
            else:
                config[key] = value
    return config


def _render_generation(req: ir.Request, form: dict) -> dict:
    gen: dict = {}
    for wire, attr, _ in _GEN_FIELDS:
        value = getattr(req, attr)
        if value is not None:
            gen[wire] = value
    if req.stop is not None:
        gen["stopSequences"] = list(req.stop)
    fmt = req.response_format
    if fmt is not None:
        gen.update(_render_format(fmt, form))
    if req.reasoning is not None:
        thinking = _thinking_config(req.reasoning, req.source == PROTOCOL, req.model)
        if thinking:
            gen["thinkingConfig"] = thinking
    if req.source == PROTOCOL:
        for key, value in req.extra.get("generationConfig", {}).items():
            if key == "thinkingConfig" and key in gen:
                gen[key] = {**value, **gen[key]}
            else:
                gen[key] = value
    return gen


def _render_format(fmt: ir.ResponseFormat, form: dict) -> dict:
    if fmt.type == "text":
        return {"responseMimeType": "text/plain"}
    out: dict = {"responseMimeType": "application/json"}
    if fmt.type == "json_schema" and fmt.schema is not None:
        if form.get("responseSchema"):
            out["responseSchema"] = to_gemini_schema(fmt.schema)
        else:
            out["responseJsonSchema"] = fmt.schema
    return out


# Gemini 3's thinkingLevel for an IR effort; xhigh and max clamp to HIGH.
_LEVELS_CLAMPED = {
    "minimal": "MINIMAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "xhigh": "HIGH",
    "max": "HIGH",
}
# Gemini 2.x models take a token budget, not a thinkingLevel (a Gemini 3 field): an
# effort from another protocol becomes a budget valid on both 2.5 Flash (<= 24576) and
# 2.5 Pro (>= 128).
_EFFORT_BUDGET_BEFORE_GEMINI3 = {
    "minimal": 512,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 24576,
    "max": 24576,
}


def _thinking_config(reasoning: ir.Reasoning, same_protocol: bool, model: str) -> dict:
    """The first rule that applies sets the budget (off, a budget, adaptive, an effort
    for Gemini 2.x); ``thinkingLevel`` goes only where no budget does, except for a Gemini
    caller; ``includeThoughts`` defaults to true when another format's caller switched
    thinking on, since those callers expect to see it."""
    config: dict = {}
    if reasoning.enabled is False or reasoning.effort == "none":
        config["thinkingBudget"] = 0
    elif reasoning.budget_tokens is not None:
        config["thinkingBudget"] = reasoning.budget_tokens
    elif reasoning.adaptive:
        config["thinkingBudget"] = -1
    elif not same_protocol and before_gemini3(model) and reasoning.effort:
        budget = _EFFORT_BUDGET_BEFORE_GEMINI3.get(reasoning.effort)
        if budget is not None:
            config["thinkingBudget"] = budget
    level = _LEVELS_CLAMPED.get(reasoning.effort or "")
    if level is not None and (same_protocol or "thinkingBudget" not in config):
        config["thinkingLevel"] = level
    if reasoning.include_thoughts is not None:
        config["includeThoughts"] = reasoning.include_thoughts
    elif not same_protocol and (reasoning.enabled or reasoning.adaptive):
        config["includeThoughts"] = True
    return config
