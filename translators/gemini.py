"""Gemini ``generateContent`` codec: requests, responses and errors.

Streams (and the vocabulary both paths share: finish reasons, usage, error statuses,
thought signatures, synthesized call ids) are in ``gemini_stream``; tool-schema
rewriting is in ``gemini_schema``.

Gemini puts the model and the stream flag in the URL
(``models/{model}:streamGenerateContent``), so ``parse_request`` takes them as arguments.

Conventions:

- Requests may use the proto snake_case names (``system_instruction``,
  ``function_declarations``, ``inline_data``...), a lone object where a list is expected
  (``"contents": {…}``, ``"parts": {…}``) and lower-case enums, as the Gemini server
  accepts them. They are normalized on parse; rendering always writes camelCase, lists
  and upper-case enums.
- Contents: role ``model`` is the IR assistant; ``user``, a missing role and the legacy
  ``function`` role are the IR user. ``functionResponse`` parts become IR ``tool``
  messages (split out of the user content, order kept).
- Function calls without ``id`` (before Gemini 3) get a stable ``gem_`` id
  (docs/extensions.md). A ``functionResponse`` without ``id`` takes the id of the first
  unanswered call of the same name in the previous model turn. ``gem_`` ids are never
  written to Gemini; other ids are echoed on ``functionCall`` and ``functionResponse``.
- ``functionResponse.response`` ``{"output": "<text>"}`` becomes that text,
  ``{"error": x}`` an error result, any other object its JSON text. Rendering inverts
  this: one text that is a JSON object is sent as the object, other text (several texts
  joined by newlines) as ``{"output": text}`` (``{"error": …}`` for errors).
- ``parameters`` (Gemini's OpenAPI subset) is read as JSON Schema via
  ``from_gemini_schema``; ``parametersJsonSchema`` is JSON Schema already. Rendering for
  other sources writes ``parameters = to_gemini_schema(...)`` and omits it for
  parameterless tools.
- Thinking: thought parts are Thinking(origin="gemini"); foreign thinking arrives as
  thought parts whose signature carries an origin prefix (see ``gemini_stream``).
- Thinking config: ``thinkingBudget`` 0 is Reasoning(enabled=False, budget_tokens=0),
  -1 is ``adaptive``, N > 0 is enabled with budget N; ``thinkingLevel`` is the effort
  (lower case). Rendering: enabled False or effort ``none`` -> thinkingBudget 0;
  ``budget_tokens`` -> thinkingBudget; ``adaptive`` -> -1; effort minimal/low/medium/high
  -> thinkingLevel (xhigh and max clamp to HIGH; not sent next to a budget unless the
  caller was Gemini); but from other callers, Gemini 2.x models get a thinkingBudget
  instead (minimal 512, low 2048, medium 8192, high 16384, xhigh/max 24576), as they
  have no thinkingLevel; ``include_thoughts`` -> includeThoughts, which defaults to true
  when another format's caller switched thinking on (enabled or adaptive), since those
  callers expect to see thinking.
- Responses: ``responseId`` is the id and ``modelVersion`` the model, ``""`` when absent
  (other formats' renderers seed ids from ``RenderContext.request_id``). Candidate
  metadata (safetyRatings, citationMetadata, finishMessage, avgLogprobs...) goes to
  ``Choice.extra``, response metadata (promptFeedback...) to ``Response.extra``. A prompt
  blocked before any candidate becomes one empty Choice with stop reason
  ``content_filter`` marked ``Choice.extra["promptBlocked"]``. ``index`` is always
  written.
- Mid-conversation system/developer messages become a user turn with their text
  (consecutive same-role contents merge); leading ones form ``systemInstruction``.
- Gemini 3 rejects history function calls without a ``thoughtSignature``. A model turn
  from another format's caller that has calls but no signature anywhere gets Google's
  documented placeholder ``skip_thought_signature_validator`` on its first call
  (PEER-BUGS #7), except for models before Gemini 3 (``gemini-1*``, ``gemini-2*``,
  ``gemma*``) which do not validate signatures.
- Same-protocol fidelity: ``Request.extra`` keeps unmapped fields under their
  camelCase names (``safetySettings``, ``cachedContent``, non-function ``tools``,
  leftover ``toolConfig``/``generationConfig`` fields) and, under ``_form``, how the
  caller wrote things that have one IR meaning (``parametersJsonSchema`` vs
  ``parameters``, ``responseSchema``, declaration fields such as
  ``responseJsonSchema``, ``VALIDATED`` mode, an empty ``generationConfig``, the
  ``systemInstruction`` role). ``_form`` is droppable by definition.

Dropped or refused on the way in (IR -> Gemini request or response):

- Dropped: ``user``; ``parallel_tool_calls`` (Gemini has no switch); ``include_usage``
  (Gemini always reports usage); Tool ``strict``; ResponseFormat ``name``,
  ``description`` and ``strict``; every ``cache_control`` marker; Image ``detail``;
  Document ``title``/``context``/``citations``/``filename``; Text ``citations``; message
  ``name``; empty text parts without a signature; Thinking of any origin but Gemini in
  requests (signatures are only valid for their provider); ``cache_write_tokens``
  (already inside the prompt count).
- Mapped loosely: reasoning effort xhigh/max -> HIGH; images and documents inside tool
  results follow the ``functionResponse`` parts as ``inlineData``/``fileData`` parts of
  the same user content (multimodal ``functionResponse.parts`` is Gemini 3 only; a
  Gemini caller's own ``functionResponse.parts`` are written back in place); stop reasons
  pause_turn/error/other -> OTHER.
- Refused (TranslationError naming the field): OpenAI ``file_id`` documents; media whose
  MIME type is unknown and cannot be guessed from the URL or filename; tool results in
  assistant messages and tool calls, thinking in user messages; tool arguments that are
  not a JSON object; a tool result whose function name cannot be found.

Dropped or refused when parsing Gemini:

- Dropped: ``videoMetadata``/``partMetadata``/``mediaResolution`` on parts; a
  ``thoughtSignature`` on media parts; ``willContinue``/``scheduling`` of function
  responses; candidate metadata is kept only for Gemini (``Choice.extra``).
- Refused: ``executableCode``, ``codeExecutionResult``, ``toolCall``/``toolResponse``
  and other parts with no IR equivalent; functionCall in user turns, functionResponse in
  model turns; malformed fields.
"""

from __future__ import annotations

from typing import Literal

import orjson

from translators import ir
from translators.errors import TranslationError
from translators.gemini_schema import from_gemini_schema, to_gemini_schema
from translators.gemini_stream import (
    PROTOCOL,
    StreamParser,
    StreamRenderer,
    call_part,
    finish_reason,
    is_synth_id,
    parse_error,
    parse_usage,
    render_error,
    render_usage,
    stop_reason,
    synth_call_id,
    thinking_from,
    thought_part,
    usage_details,
)

__all__ = [
    "DROPPABLE",
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

FORM = "_form"
PROMPT_BLOCKED = "promptBlocked"
# Not cachedContent: it holds part of the prompt, so dropping it would change what the
# model is asked; another provider cannot use it, and the request is refused instead.
DROPPABLE = frozenset({"safetySettings", "serviceTier", "labels", FORM})

SIGNATURE_PLACEHOLDER = "skip_thought_signature_validator"
_PRE_SIGNATURE_MODELS = ("gemini-1", "gemini-2", "gemma")
_MAPPED = frozenset({"contents", "systemInstruction", "tools", "toolConfig", "generationConfig"})
_LEVELS = {"minimal": "MINIMAL", "low": "LOW", "medium": "MEDIUM", "high": "HIGH"}
_LEVELS_CLAMPED = {**_LEVELS, "xhigh": "HIGH", "max": "HIGH"}
_MODES: dict[str, Literal["auto", "required", "none"]] = {
    "AUTO": "auto",
    "ANY": "required",
    "NONE": "none",
    "VALIDATED": "auto",
}
_MIME_BY_EXT = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "md": "text/markdown",
    "html": "text/html",
    "csv": "text/csv",
    "wav": "audio/wav",
    "mp3": "audio/mp3",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "mp4": "video/mp4",
    "mov": "video/mov",
    "webm": "video/webm",
}
_URLSAFE = str.maketrans("-_", "+/")
_SIGNATURE_ONLY = frozenset({"thought", "thoughtSignature"})  # a signature-only part is text ""


# ------------------------------------------------------------------ field helpers


def _camel(name: str) -> str:
    if "_" not in name or not name[:1].islower():
        return name
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _keys(value: object, param: str) -> dict:
    """A shallow camelCase view of an object (the value itself is not modified)."""
    if not isinstance(value, dict):
        raise TranslationError(f"{param} must be an object", param=param)
    return {_camel(k): v for k, v in value.items()}


def _list(value: object, param: str) -> list:
    """A list; a lone object counts as a one-element list, as Gemini's server allows."""
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise TranslationError(f"{param} must be a list", param=param)
    return value


def _str(value: object, param: str) -> str:
    if not isinstance(value, str):
        raise TranslationError(f"{param} must be a string", param=param)
    return value


def _opt_str(value: object, param: str) -> str | None:
    return None if value is None else _str(value, param)


def _int(value: object, param: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TranslationError(f"{param} must be an integer", param=param)
    return value


def _num(value: object, param: str) -> float | int:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TranslationError(f"{param} must be a number", param=param)
    return value


def _bool(value: object, param: str) -> bool:
    if not isinstance(value, bool):
        raise TranslationError(f"{param} must be a boolean", param=param)
    return value


def _dumps(value: object, param: str) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        raise TranslationError(f"{param} cannot be encoded as JSON", param=param) from None


# ----------------------------------------------------------------------- recognise


def recognise(body: object) -> int:
    """2 for Gemini's own top-level names; 0 for chat-style ``messages``/``input``."""
    if not isinstance(body, dict):
        return 0
    if "contents" in body:
        return 2
    if "messages" in body or "input" in body:
        return 0
    own = ("systemInstruction", "system_instruction", "generationConfig", "generation_config")
    return 2 if any(k in body for k in own) else 0


# ----------------------------------------------------------------- parse_request


def parse_count_request(body: dict, *, model: str | None = None) -> ir.Request:
    """``countTokens`` takes either ``contents`` or a whole ``generateContentRequest``."""
    if isinstance(body, dict) and isinstance(body.get("generateContentRequest"), dict):
        body = body["generateContentRequest"]
    return parse_request(body, model=model, stream=False)


def render_token_count(tokens: int) -> dict:
    return {
        "totalTokens": tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}],
    }


def parse_request(
    body: dict, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    if not isinstance(body, dict):
        raise TranslationError("the request body must be a JSON object")
    b = _keys(body, "body")
    if "contents" not in b:
        raise TranslationError("contents is required", param="contents")
    if model is None:
        named = b.get("model")
        model = named.removeprefix("models/") if isinstance(named, str) else ""
    req = ir.Request(model=model, messages=[], source=PROTOCOL, stream=bool(stream))
    form: dict = {}
    if b.get("systemInstruction") is not None:
        req.messages.append(_system(b["systemInstruction"], form))
    _Contents(req.messages).parse(_list(b["contents"], "contents"))
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


def _system(raw: object, form: dict) -> ir.Message:
    sys = _keys(raw, "systemInstruction")
    if "role" in sys:
        form["systemInstructionRole"] = sys["role"]
    parts = _list(sys.get("parts", []), "systemInstruction.parts")
    key = ("system",)
    return ir.Message(
        "system",
        [_part(p, f"systemInstruction.parts[{j}]", (*key, j)) for j, p in enumerate(parts)],
    )


class _Contents:
    """Parses ``contents``, pairing id-less function responses with the calls of the
    previous model turn by name and order."""

    __slots__ = ("_calls", "_messages", "_used")

    def __init__(self, messages: list[ir.Message]) -> None:
        self._messages = messages
        self._calls: list[ir.ToolCall] = []  # calls of the latest model turn
        self._used: set[int] = set()  # positions in _calls already answered

    def parse(self, contents: list) -> None:
        for i, raw in enumerate(contents):
            param = f"contents[{i}]"
            content = _keys(raw, param)
            role = content.get("role") or "user"
            parts = _list(content.get("parts", []), param + ".parts")
            if role == "model":
                self._model(parts, i, param)
            elif role in ("user", "function"):
                self._user(parts, i, param)
            else:
                raise TranslationError(f"unknown role {role!r}", param=param + ".role")

    def _model(self, parts: list, i: int, param: str) -> None:
        out: list[ir.Part] = []
        for j, raw in enumerate(parts):
            p = f"{param}.parts[{j}]"
            if isinstance(raw, dict) and ("functionResponse" in raw or "function_response" in raw):
                raise TranslationError("functionResponse in a model turn", param=p)
            out.append(_part(raw, p, ("req", i, j)))
        self._calls = [p for p in out if isinstance(p, ir.ToolCall)]
        self._used = set()
        self._messages.append(ir.Message("assistant", out))

    def _user(self, parts: list, i: int, param: str) -> None:
        """A user content becomes user and tool messages, one per run of each kind."""
        current: ir.Message | None = None
        for j, raw in enumerate(parts):
            p = f"{param}.parts[{j}]"
            view = _keys(raw, p)
            part: ir.Part
            if "functionResponse" in view:
                role: ir.Role = "tool"
                part = self._response(view["functionResponse"], i, j, p)
            else:
                role = "user"
                part = _part(view, p, ("req", i, j))
                if isinstance(part, ir.ToolCall | ir.Thinking):
                    raise TranslationError("functionCall or thought in a user turn", param=p)
            if current is None or current.role != role:
                current = ir.Message(role, [])
                self._messages.append(current)
            current.parts.append(part)

    def _response(self, raw: object, i: int, j: int, param: str) -> ir.ToolResult:
        param += ".functionResponse"
        fr = _keys(raw, param)
        name = _str(fr.get("name"), param + ".name")
        response = fr.get("response", {})
        if not isinstance(response, dict):
            raise TranslationError(f"{param}.response must be an object", param=param + ".response")
        call_id = _opt_str(fr.get("id"), param + ".id") or self._match(name)
        if call_id is None:
            call_id = synth_call_id("res", i, j, name)
        content, is_error = _response_content(response, param + ".response")
        media = _list(fr.get("parts", []), param + ".parts")
        for k, item in enumerate(media):
            content.append(_part(item, f"{param}.parts[{k}]", ("res", i, j, k)))
        return ir.ToolResult(call_id, content, name=name, is_error=is_error)

    def _match(self, name: str) -> str | None:
        for k, call in enumerate(self._calls):
            if k not in self._used and call.name == name:
                self._used.add(k)
                return call.id
        return None


def _response_content(response: dict, param: str) -> tuple[list[ir.Part], bool | None]:
    if len(response) == 1:
        output = response.get("output")
        if isinstance(output, str) and not _is_json_object(output):
            return [ir.Text(output)], None
        if "error" in response:
            error = response["error"]
            text = error if isinstance(error, str) else _dumps(error, param + ".error")
            return [ir.Text(text)], True
    return [ir.Text(_dumps(response, param))], None


def _is_json_object(text: str) -> bool:
    if not text.lstrip().startswith("{"):
        return False
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        return False


def _part(raw: object, param: str, key: tuple) -> ir.Part:
    """One Gemini part (not functionResponse) as an IR part; ``key`` seeds call ids."""
    p = _keys(raw, param)
    sig = _opt_str(p.get("thoughtSignature"), param + ".thoughtSignature")
    if "text" in p or (sig is not None and p.keys() <= _SIGNATURE_ONLY):
        text = _str(p.get("text", ""), param + ".text")
        if p.get("thought") is True:
            return thinking_from(text, sig)
        return ir.Text(text, signature=sig)
    if "functionCall" in p:
        return _call(p["functionCall"], param + ".functionCall", sig, key)
    if "inlineData" in p:
        return _blob(p["inlineData"], param + ".inlineData")
    if "fileData" in p:
        return _file(p["fileData"], param + ".fileData")
    kind = next((k for k in p if k not in _SIGNATURE_ONLY), "<empty>")
    raise TranslationError(f"part type {kind!r} cannot be translated", param=param)


def _call(raw: object, param: str, sig: str | None, key: tuple) -> ir.ToolCall:
    fc = _keys(raw, param)
    name = _str(fc.get("name"), param + ".name")
    args = fc.get("args")
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise TranslationError(f"{param}.args must be an object", param=param + ".args")
    text = _dumps(args, param + ".args")
    call_id = _opt_str(fc.get("id"), param + ".id") or synth_call_id(*key, name, text)
    return ir.ToolCall(call_id, name, text, signature=sig)


def _blob(raw: object, param: str) -> ir.Image | ir.Audio | ir.Document:
    blob = _keys(raw, param)
    mime = _str(blob.get("mimeType"), param + ".mimeType")
    data = _str(blob.get("data"), param + ".data")
    if "-" in data or "_" in data:  # google-genai sends URL-safe base64; the IR is standard
        data = data.translate(_URLSAFE)
    if mime.startswith("image/"):
        return ir.Image(media_type=mime, data=data)
    if mime.startswith("audio/"):
        return ir.Audio(media_type=mime, data=data)
    return ir.Document(media_type=mime, data=data)


def _file(raw: object, param: str) -> ir.Image | ir.Document:
    ref = _keys(raw, param)
    uri = _str(ref.get("fileUri"), param + ".fileUri")
    mime = _opt_str(ref.get("mimeType"), param + ".mimeType")
    if mime is not None and mime.startswith("image/"):
        return ir.Image(media_type=mime, url=uri)
    return ir.Document(media_type=mime, url=uri)


def _parse_tools(raw: object, req: ir.Request, form: dict) -> None:
    others: list[dict] = []
    for i, item in enumerate(_list(raw, "tools")):
        tool = _keys(item, f"tools[{i}]")
        decls = tool.pop("functionDeclarations", None)
        if decls is not None:
            for j, decl in enumerate(_list(decls, f"tools[{i}].functionDeclarations")):
                req.tools.append(_declaration(decl, f"tools[{i}].functionDeclarations[{j}]", form))
        if tool:
            others.append(tool)
    if others:
        req.extra["tools"] = others


def _declaration(raw: object, param: str, form: dict) -> ir.Tool:
    decl = _keys(raw, param)
    name = _str(decl.pop("name", None), param + ".name")
    description = _opt_str(decl.pop("description", None), param + ".description")
    json_schema = decl.pop("parametersJsonSchema", None)
    schema = decl.pop("parameters", None)
    how: dict = {}
    if json_schema is not None:
        if not isinstance(json_schema, dict):
            raise TranslationError("must be an object", param=param + ".parametersJsonSchema")
        parameters: dict | None = json_schema
        how["parametersJsonSchema"] = True
    elif schema is not None:
        if not isinstance(schema, dict):
            raise TranslationError("must be an object", param=param + ".parameters")
        parameters = from_gemini_schema(schema)
    else:
        parameters = None
    if decl:
        how["extra"] = decl
    if how:
        form.setdefault("declarations", {})[name] = how
    return ir.Tool(name=name, description=description, parameters=parameters)


def _parse_tool_config(raw: object, req: ir.Request, form: dict) -> None:
    config = _keys(raw, "toolConfig")
    calling = config.pop("functionCallingConfig", None)
    if calling is not None:
        param = "toolConfig.functionCallingConfig"
        fcc = _keys(calling, param)
        mode = _opt_str(fcc.pop("mode", None), param + ".mode")
        names = fcc.pop("allowedFunctionNames", None)
        if names is not None:
            names = [_str(n, f"{param}.allowedFunctionNames") for n in _list(names, param)]
        req.tool_choice = _tool_choice(mode.upper() if mode else None, names, param)
        if mode and mode.upper() == "VALIDATED":
            form["functionCallingMode"] = "VALIDATED"
        if fcc:
            config["functionCallingConfig"] = fcc
    if config:
        req.extra["toolConfig"] = config


def _tool_choice(mode: str | None, names: list[str] | None, param: str) -> ir.ToolChoice | None:
    if mode in (None, "MODE_UNSPECIFIED"):
        return ir.ToolChoice("auto", allowed=names) if names else None
    choice = _MODES.get(mode)
    if choice is None:
        raise TranslationError(f"unknown function calling mode {mode!r}", param=param + ".mode")
    if choice == "required" and names and len(names) == 1:
        return ir.ToolChoice("tool", name=names[0])
    if choice == "none":
        return ir.ToolChoice("none")
    return ir.ToolChoice(choice, allowed=names or None)


_GEN_FIELDS = (
    ("temperature", "temperature", _num),
    ("topP", "top_p", _num),
    ("topK", "top_k", _int),
    ("candidateCount", "n", _int),
    ("maxOutputTokens", "max_tokens", _int),
    ("presencePenalty", "presence_penalty", _num),
    ("frequencyPenalty", "frequency_penalty", _num),
    ("seed", "seed", _int),
    ("responseLogprobs", "logprobs", _bool),
    ("logprobs", "top_logprobs", _int),
)


def _parse_generation(raw: object, req: ir.Request, form: dict) -> None:
    gen = _keys(raw, "generationConfig")
    form["generationConfig"] = True
    for wire, attr, check in _GEN_FIELDS:
        value = gen.pop(wire, None)
        if value is not None:
            setattr(req, attr, check(value, "generationConfig." + wire))
    stops = gen.pop("stopSequences", None)
    if stops is not None:
        param = "generationConfig.stopSequences"
        req.stop = [
            _str(s, param) for s in ([stops] if isinstance(stops, str) else _list(stops, param))
        ]
    req.response_format = _response_format(gen, form)
    thinking = gen.pop("thinkingConfig", None)
    if thinking is not None:
        req.reasoning = _reasoning(_keys(thinking, "generationConfig.thinkingConfig"), gen)
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
    param = "generationConfig.thinkingConfig"
    reasoning = ir.Reasoning()
    budget = config.pop("thinkingBudget", None)
    if budget is not None:
        budget = _int(budget, param + ".thinkingBudget")
        if budget == 0:
            reasoning.enabled, reasoning.budget_tokens = False, 0
        elif budget == -1:
            reasoning.adaptive = True
        elif budget > 0:
            reasoning.enabled, reasoning.budget_tokens = True, budget
        else:
            raise TranslationError(
                "thinkingBudget must be -1 or >= 0", param=param + ".thinkingBudget"
            )
    include = config.pop("includeThoughts", None)
    if include is not None:
        reasoning.include_thoughts = _bool(include, param + ".includeThoughts")
    level = config.pop("thinkingLevel", None)
    if level is not None:
        reasoning.effort = _str(level, param + ".thinkingLevel").lower()
    if config:
        gen["thinkingConfig"] = config
    return reasoning


# ---------------------------------------------------------------- render_request


def render_request(req: ir.Request) -> dict:
    own = req.source == PROTOCOL
    form: dict = req.extra.get(FORM, {}) if own else {}
    messages = req.messages
    lead = 0
    while lead < len(messages) and messages[lead].role in ("system", "developer"):
        lead += 1
    body: dict = {"contents": _RequestContents(req, own).build(lead)}
    system_parts = [
        _user_side_part(part, f"messages[{i}].parts[{j}]")
        for i, msg in enumerate(messages[:lead])
        for j, part in enumerate(msg.parts)
        if not _is_empty_text(part)
    ]
    if system_parts:
        body["systemInstruction"] = {"parts": system_parts}
        if "systemInstructionRole" in form:
            body["systemInstruction"]["role"] = form["systemInstructionRole"]
    if req.tools or (own and "tools" in req.extra):
        body["tools"] = _render_tools(req, form)
    if req.tool_choice is not None or (own and "toolConfig" in req.extra):
        body["toolConfig"] = _render_tool_config(req, form)
    gen = _render_generation(req, form)
    if gen or form.get("generationConfig"):
        body["generationConfig"] = gen
    if own:
        for key, value in req.extra.items():
            if key not in (FORM, "tools", "toolConfig", "generationConfig"):
                body[key] = value
    return body


def _is_empty_text(part: ir.Part) -> bool:
    return isinstance(part, ir.Text) and not part.text and not part.signature


class _RequestContents:
    """Builds ``contents``: same-role turns merge, so consecutive tool results become ONE
    user content with N functionResponse parts in call order (PEER-BUGS #5)."""

    __slots__ = ("_contents", "_media", "_names", "_order", "_own", "_req", "_run_start")

    def __init__(self, req: ir.Request, own: bool) -> None:
        self._req = req
        self._own = own
        self._contents: list[dict] = []
        self._names = {
            part.id: part.name
            for msg in req.messages
            for part in msg.parts
            if isinstance(part, ir.ToolCall)
        }
        self._order: dict[str, int] = {}  # call id -> position in the latest model turn
        self._run_start = -1  # first functionResponse of the current run, or -1
        self._media: list[dict] = []  # tool-result media to place after the run

    def build(self, start: int) -> list[dict]:
        for i in range(start, len(self._req.messages)):
            msg = self._req.messages[i]
            param = f"messages[{i}]"
            if msg.role == "assistant":
                self._model(msg, param)
            else:
                self._user(msg, param)
        self._end_run()
        if not self._own and _validates_signatures(self._req.model):
            for content in self._contents:
                if content["role"] == "model":
                    _add_placeholder(content["parts"])
        return self._contents

    def _model(self, msg: ir.Message, param: str) -> None:
        self._end_run()  # the previous run is ordered by the calls it answers
        if not self._contents or self._contents[-1]["role"] != "model":
            self._order = {}
        for j, part in enumerate(msg.parts):
            p = f"{param}.parts[{j}]"
            if isinstance(part, ir.ToolCall):
                self._order[part.id] = len(self._order)
                self._add("model", call_part(part, p))
            elif isinstance(part, ir.Thinking):
                if part.origin == PROTOCOL and part.redacted is None:
                    self._add("model", thought_part(part))
            elif isinstance(part, ir.Text):
                if not _is_empty_text(part):
                    self._add("model", _text_part(part))
            elif isinstance(part, ir.ToolResult):
                raise TranslationError("tool result in an assistant message", param=p)
            else:
                self._add("model", _media_part(part, p))

    def _user(self, msg: ir.Message, param: str) -> None:
        for j, part in enumerate(msg.parts):
            p = f"{param}.parts[{j}]"
            if isinstance(part, ir.ToolResult):
                self._add_result(part, p)
            elif not _is_empty_text(part):
                self._add("user", _user_side_part(part, p))

    def _current(self, role: str) -> list[dict]:
        if not self._contents or self._contents[-1]["role"] != role:
            self._end_run()
            self._contents.append({"role": role, "parts": []})
        return self._contents[-1]["parts"]

    def _add(self, role: str, part: dict) -> None:
        parts = self._current(role)
        self._end_run()
        parts.append(part)

    def _add_result(self, result: ir.ToolResult, param: str) -> None:
        parts = self._current("user")
        if self._run_start < 0:
            self._run_start = len(parts)
        name = result.name or self._names.get(result.call_id)
        if name is None:
            raise TranslationError(
                f"no function name for tool result {result.call_id!r}", param=param + ".name"
            )
        value, media = _result_value(result.content, param)
        response = {"error": value} if result.is_error else value
        if not isinstance(response, dict):
            response = {"output": value}
        fr: dict = {"name": name, "response": response}
        if result.call_id and not is_synth_id(result.call_id):
            fr["id"] = result.call_id
        if media and self._own:
            fr["parts"] = media
        elif media:
            self._media += media
        parts.append({"functionResponse": fr, "_call": result.call_id})

    def _end_run(self) -> None:
        """Puts the finished run of functionResponses in call order, then its media."""
        if self._run_start < 0:
            return
        parts = self._contents[-1]["parts"]
        run = parts[self._run_start :]
        last = len(self._order)
        run.sort(key=lambda part: self._order.get(part.pop("_call"), last))
        parts[self._run_start :] = run
        parts += self._media
        self._media = []
        self._run_start = -1


def _validates_signatures(model: str) -> bool:
    return not model.removeprefix("models/").startswith(_PRE_SIGNATURE_MODELS)


def _add_placeholder(parts: list[dict]) -> None:
    if any("thoughtSignature" in part for part in parts):
        return
    for part in parts:
        if "functionCall" in part:
            part["thoughtSignature"] = SIGNATURE_PLACEHOLDER
            return


def _text_part(part: ir.Text) -> dict:
    out: dict = {"text": part.text}
    if part.signature:
        out["thoughtSignature"] = part.signature
    return out


def _user_side_part(part: ir.Part, param: str) -> dict:
    if isinstance(part, ir.Text):
        return _text_part(part)
    if isinstance(part, ir.Image | ir.Audio | ir.Document):
        return _media_part(part, param)
    raise TranslationError(f"{type(part).__name__} cannot appear in this message", param=param)


def _result_value(content: list[ir.Part], param: str) -> tuple[dict | str, list[dict]]:
    """A tool result's ``response`` value (object or text) and its media parts."""
    texts: list[str] = []
    media: list[dict] = []
    for k, part in enumerate(content):
        p = f"{param}.content[{k}]"
        if isinstance(part, ir.Text | ir.Document) and part.text is not None:
            texts.append(part.text)
        elif isinstance(part, ir.Image | ir.Audio | ir.Document):
            media.append(_media_part(part, p))
        else:
            raise TranslationError(f"{type(part).__name__} cannot be a tool result", param=p)
    if len(texts) == 1 and texts[0].lstrip().startswith("{"):
        try:
            value = orjson.loads(texts[0])
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value, media
    return "\n".join(texts), media


def _media_part(part: ir.Part, param: str) -> dict:
    if isinstance(part, ir.Audio):
        return {"inlineData": {"mimeType": part.media_type, "data": part.data}}
    if isinstance(part, ir.Document):
        if part.file_id is not None:
            raise TranslationError("provider file references cannot go to Gemini", param=param)
        if part.text is not None and part.data is None and part.url is None:
            return {"text": part.text}
    if not isinstance(part, ir.Image | ir.Document):
        raise TranslationError(f"{type(part).__name__} cannot appear here", param=param)
    hint = part.filename if isinstance(part, ir.Document) else None
    if part.data is not None:
        mime = part.media_type or _guess_mime(hint)
        if mime is None:
            raise TranslationError("media type of inline data is unknown", param=param)
        return {"inlineData": {"mimeType": mime, "data": part.data}}
    url = part.url or ""
    if url.startswith("data:"):
        return _data_url(url, param)
    mime = part.media_type or _guess_mime(url) or _guess_mime(hint)
    if not url or mime is None:
        raise TranslationError("media needs a URL with a known media type", param=param)
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def _data_url(url: str, param: str) -> dict:
    header, sep, data = url.partition(",")
    mime = header[5:].removesuffix(";base64")
    if not sep or not header.endswith(";base64") or not mime:
        raise TranslationError(
            "only base64 data: URLs with a media type are supported", param=param
        )
    return {"inlineData": {"mimeType": mime, "data": data}}


def _guess_mime(name: str | None) -> str | None:
    if not name:
        return None
    path = name.split("?", 1)[0].split("#", 1)[0]
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _MIME_BY_EXT.get(ext)


def _render_tools(req: ir.Request, form: dict) -> list[dict]:
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
    tools = [{"functionDeclarations": decls}] if decls else []
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


def _thinking_config(reasoning: ir.Reasoning, own: bool, model: str) -> dict:
    config: dict = {}
    if reasoning.enabled is False or reasoning.effort == "none":
        config["thinkingBudget"] = 0
    elif reasoning.budget_tokens is not None:
        config["thinkingBudget"] = reasoning.budget_tokens
    elif reasoning.adaptive:
        config["thinkingBudget"] = -1
    elif not own and model.startswith(_PRE_SIGNATURE_MODELS) and reasoning.effort:
        budget = _EFFORT_BUDGET_BEFORE_GEMINI3.get(reasoning.effort)
        if budget is not None:
            config["thinkingBudget"] = budget
    level = _LEVELS_CLAMPED.get(reasoning.effort or "")
    if level is not None and (own or "thinkingBudget" not in config):
        config["thinkingLevel"] = level
    if reasoning.include_thoughts is not None:
        config["includeThoughts"] = reasoning.include_thoughts
    elif not own and (reasoning.enabled or reasoning.adaptive):
        config["includeThoughts"] = True
    return config


# -------------------------------------------------------------------- responses


def parse_response(body: dict) -> ir.Response:
    if not isinstance(body, dict):
        raise TranslationError("response body must be an object")
    rid = body.get("responseId")
    model = body.get("modelVersion")
    resp = ir.Response(
        id=rid if isinstance(rid, str) else "",
        model=model if isinstance(model, str) else "",
        choices=[],
        source=PROTOCOL,
    )
    candidates = body.get("candidates")
    for i, cand in enumerate(_list(candidates, "candidates") if candidates is not None else []):
        resp.choices.append(_choice(cand, i, resp.id))
    if not resp.choices:
        blocked = isinstance(body.get("promptFeedback"), dict)
        resp.choices.append(
            ir.Choice(
                parts=[],
                stop_reason="content_filter" if blocked else "other",
                extra={PROMPT_BLOCKED: True},
            )
        )
    meta = body.get("usageMetadata")
    if isinstance(meta, dict):
        resp.usage = parse_usage(meta)
        details = usage_details(meta)
        if details:
            resp.extra["usageMetadata"] = details
    for key, value in body.items():
        if key not in ("candidates", "usageMetadata", "modelVersion", "responseId"):
            resp.extra[key] = value
    return resp


def _choice(raw: object, i: int, rid: str) -> ir.Choice:
    param = f"candidates[{i}]"
    cand = _keys(raw, param)
    index = cand.get("index", i)
    index = _int(index, param + ".index")
    content = cand.get("content")
    raw_parts = _keys(content, param + ".content").get("parts", []) if content is not None else []
    parts: list[ir.Part] = []
    for j, part in enumerate(_list(raw_parts, param + ".content.parts")):
        p = f"{param}.content.parts[{j}]"
        if isinstance(part, dict) and "functionResponse" in part:
            raise TranslationError("functionResponse in a candidate", param=p)
        parts.append(_part(part, p, (rid, index, j)))
    raw_finish = cand.get("finishReason")
    raw_finish = raw_finish if isinstance(raw_finish, str) else None
    has_call = any(isinstance(part, ir.ToolCall) for part in parts)
    return ir.Choice(
        parts=parts,
        stop_reason=stop_reason(raw_finish, has_call),
        index=index,
        raw_stop_reason=raw_finish,
        extra={k: v for k, v in cand.items() if k not in ("content", "finishReason", "index")},
    )


def render_response(resp: ir.Response, ctx: ir.RenderContext) -> dict:
    own = resp.source == PROTOCOL
    if own and all(choice.extra.get(PROMPT_BLOCKED) for choice in resp.choices):
        candidates: list[dict] = []
    else:
        candidates = [_candidate(c, i, own) for i, c in enumerate(resp.choices)]
    body: dict = {"candidates": candidates}
    if resp.usage is not None:
        details = resp.extra.get("usageMetadata") if own else None
        body["usageMetadata"] = render_usage(resp.usage, details)
    model = resp.model or ctx.model
    if model:
        body["modelVersion"] = model
    if resp.id:
        body["responseId"] = resp.id
    if own:
        for key, value in resp.extra.items():
            if key != "usageMetadata":
                body[key] = value
    return body


def _candidate(choice: ir.Choice, i: int, own: bool) -> dict:
    param = f"choices[{i}]"
    parts = [_response_part(part, f"{param}.parts[{j}]") for j, part in enumerate(choice.parts)]
    cand: dict = {}
    if parts:
        cand["content"] = {"parts": parts, "role": "model"}
    reason = finish_reason(choice.stop_reason, choice.raw_stop_reason, own)
    if reason is not None:
        cand["finishReason"] = reason
    cand["index"] = choice.index
    if own:
        cand.update(choice.extra)
    return cand


def _response_part(part: ir.Part, param: str) -> dict:
    if isinstance(part, ir.Text):
        return _text_part(part)
    if isinstance(part, ir.Thinking):
        return thought_part(part)
    if isinstance(part, ir.ToolCall):
        return call_part(part, param)
    if isinstance(part, ir.ToolResult):
        raise TranslationError("a response cannot contain a tool result", param=param)
    return _media_part(part, param)
