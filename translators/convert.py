"""Compose two codecs through the IR: the only translator API the addon uses.

Every direction is ``source codec -> IR -> target codec``; nothing here knows a wire
format. What lives here is the policy that is the same for every pair: which source
fields may be dropped, stripping provider state before it reaches another provider,
the output budget default, and turning a stream that ends without a finish into an
error instead of a silent truncation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import NamedTuple

import orjson

from translators import ir, sealing
from translators.codec import CODECS, COUNTERS
from translators.errors import TranslationError
from translators.openai_responses import wire as responses_wire

PROTOCOL_NAMES: dict[ir.Protocol, str] = {
    "openai_chat": "OpenAI Chat Completions",
    "openai_responses": "OpenAI Responses",
    "anthropic": "Anthropic Messages",
    "gemini": "Gemini generateContent",
}


def supported(client: ir.Protocol, upstream: ir.Protocol) -> bool:
    """Every pair of the four protocols converts."""
    return client in CODECS and upstream in CODECS


def load_json(body: bytes, what: str = "body") -> dict:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise TranslationError(f"The request {what} is not valid JSON: {e}", param=what) from None
    if not isinstance(data, dict):
        raise TranslationError(f"The request {what} must be a JSON object", param=what)
    return data


def parse_request(
    body: dict, client: ir.Protocol, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    return CODECS[client].parse_request(body, model=model, stream=stream)


# What the gateway writes into a caller's format to carry another provider's state
# (docs/extensions.md): its extension keys, and signatures with an origin prefix (also in
# the base64 form used for Gemini's thoughtSignature). A body without any of these needs
# no re-rendering on its way to a provider of its own protocol.
_GATEWAY_STATE = re.compile(
    rb'"(?:extra_content|thinking_blocks)"\s*:'
    # state sealed into a Responses caller's reasoning item (translators/sealing.py)
    rb'|"encrypted_content"\s*:\s*"' + re.escape(sealing.PREFIX.encode()) + rb"|"
    rb'"(?:signature|thoughtSignature|thought_signature)"\s*:\s*"'
    # base64 of "anthropic...", "gemini:", "openai_ch..." and "openai_re..." as written
    # for Gemini callers
    rb"(?:gemini:|anthropic:|anthropic-redacted:|openai_chat:|openai_responses:"
    rb"|YW50aHJvcGlj|Z2VtaW5pO|b3BlbmFpX2No|b3BlbmFpX3Jl)"
)


def carries_gateway_state(raw: bytes) -> bool:
    """Whether a same-protocol body holds state the gateway carried for another provider,
    which must be stripped before the body reaches a real API."""
    return _GATEWAY_STATE.search(raw) is not None


class Rendered(NamedTuple):
    """A rendered request and what its answer's translation must undo.

    ``tool_names``, ``json_tool`` and ``tool_origins`` go into the answer's
    ``RenderContext``; ``dropped`` names what the target could not express and was left
    out (for the ``x-gateway-dropped`` header and the log line)."""

    body: bytes
    tool_names: dict[str, str]  # upstream's tool name -> the caller's, where they differ
    json_tool: str | None  # the tool standing in for structured output, if any
    tool_origins: dict[str, ir.ToolOrigin] = {}  # noqa: RUF012 (never mutated)
    dropped: tuple[str, ...] = ()


def render_request(
    req: ir.Request,
    upstream: ir.Protocol,
    *,
    model: str,
    default_max_tokens: int | None = None,
    json_via_tool: bool = False,
    max_tokens_field: str = "max_completion_tokens",
    state_key: bytes | None = None,
    provider: str | None = None,
    strict: bool = False,
) -> Rendered:
    """Render ``req`` for ``upstream`` after the cross-protocol policy checks.

    The answer's translation needs ``tool_names``, ``json_tool`` and ``tool_origins``
    (via RenderContext) to undo what was changed here for the upstream's sake. With
    ``state_key`` and ``provider`` (the rules.yaml provider the request goes to), the
    provider state a Responses caller carried back sealed is opened first
    (``open_sealed_state``); sealed state that does not open is never sent. What the
    target cannot express and dropping does not mislead the caller about is dropped and
    named in ``dropped`` (DESIGN principle 8), unless the model's rule is ``strict``.
    """
    req.model = model
    tool_names: dict[str, str] = {}
    tool_origins: dict[str, ir.ToolOrigin] = {}
    dropped: list[str] = []
    json_tool = None
    if state_key is not None and provider is not None:
        open_sealed_state(req, state_key, provider)
    if req.source != upstream:
        dropped += _refuse_unmapped_fields(req)
        dropped += _drop_sampling_hints(req, upstream)
        dropped += _fit_hosted_tools(req, upstream)
        if strict and dropped:
            raise TranslationError(
                f"The field '{dropped[0]}' has no equivalent in "
                f"{PROTOCOL_NAMES[upstream]}, and this model's rule is strict: true, so it is "
                "refused rather than dropped.",
                param=dropped[0],
            )
        if json_via_tool:
            json_tool = _structured_output_as_tool(req)
        tool_origins = _plain_functions(req, upstream)
        tool_names = _fit_tool_names(req, upstream)
        for fitted, flat in list(tool_names.items()):
            if flat in tool_origins:  # one mapping per name: the origin holds the caller's
                tool_origins[fitted] = tool_origins.pop(flat)
                del tool_names[fitted]
    _strip_foreign_state(req, upstream)
    if req.max_tokens is None and default_max_tokens is not None and upstream == "anthropic":
        req.max_tokens = default_max_tokens  # the one protocol that requires a budget
    body = CODECS[upstream].render_request(req)
    # A provider quirk, not a format rule: some OpenAI-compatible servers only read
    # max_tokens (rules.yaml max_tokens_field).
    renamed = req.source != upstream and max_tokens_field != "max_completion_tokens"
    if renamed and "max_completion_tokens" in body:
        body[max_tokens_field] = body.pop("max_completion_tokens")
    return Rendered(orjson.dumps(body), tool_names, json_tool, tool_origins, tuple(dropped))


class Translated(NamedTuple):
    body: bytes
    usage: ir.Usage | None  # read on the way, so the gateway need not parse again


def translate_response(
    body: bytes, upstream: ir.Protocol, client: ir.Protocol, ctx: ir.RenderContext
) -> Translated:
    resp = CODECS[upstream].parse_response(load_json(body, "response"))
    for choice in resp.choices:
        if ctx.tool_names or ctx.json_tool or ctx.tool_origins:
            _restore_choice(choice, ctx)
        if client != "openai_chat" and choice.stop_reason in _CUT_OFF:
            _drop_truncated_calls(choice)
    return Translated(orjson.dumps(CODECS[client].render_response(resp, ctx)), resp.usage)


def usage_of(body: bytes, protocol: ir.Protocol) -> ir.Usage | None:
    """The token usage of a whole answer passed through untranslated, for the gateway's
    log line and flow annotation; None when the body is no answer the codec can read."""
    codec = CODECS.get(protocol)
    if codec is None:
        return None
    try:
        return codec.parse_response(load_json(body, "response")).usage
    except TranslationError:
        return None


class TranslatedError(NamedTuple):
    status: int
    body: bytes
    retry_after: float | None  # seconds, for the caller's retry-after header


def translate_error(
    status: int,
    body: bytes,
    upstream: ir.Protocol,
    client: ir.Protocol,
    *,
    retry_after: float | None = None,
) -> TranslatedError:
    """An upstream error in the caller's format. The retry hint comes from the upstream's
    ``retry-after`` header (``retry_after``) or, for Gemini, from its body, and goes to
    the caller in its own form: a header, and Gemini's RetryInfo for Gemini callers."""
    err = CODECS[upstream].parse_error(status, body)
    if err.retry_after is None and retry_after is not None:
        err = dataclasses.replace(err, retry_after=retry_after)
    status, out = render_error(client, err)
    return TranslatedError(status, out, err.retry_after)


def render_error(client: ir.Protocol, err: ir.Error) -> tuple[int, bytes]:
    status, body = CODECS[client].render_error(err)
    return status, orjson.dumps(body)


def render_guard_error(client: ir.Protocol, err: ir.Error) -> tuple[int, bytes]:
    """The native-route guard's refusal: the same three fields on every route
    (``type`` ``invalid_request_error``, ``code`` the string "400", ``message``) inside
    the envelope the route's SDK needs to raise its 400 error (Anthropic's top-level
    ``type``, Gemini's ``status``)."""
    codec = CODECS.get(client, CODECS["openai_chat"])
    _, body = codec.render_error(err)
    inner = body["error"]
    inner["type"], inner["code"], inner["message"] = "invalid_request_error", "400", err.message
    return 400, orjson.dumps(body)


# A fixed guess for media, whose real cost depends on pixels or pages, not bytes.
_MEDIA_TOKENS = 1000


def estimate_input_tokens(req: ir.Request) -> int:
    """A rough input count (4 characters a token) for formats that must report input
    usage before the upstream says it (Anthropic's message_start, which Claude Code shows
    as its context meter). Base64 media is counted as a fixed cost, not by its size."""
    chars, media = 0, 0
    parts: list[ir.Part] = [p for m in req.messages for p in m.parts]
    while parts:
        part = parts.pop()
        if isinstance(part, (ir.Text, ir.Thinking)):
            chars += len(part.text)
        elif isinstance(part, ir.ToolCall):
            chars += len(part.name) + len(part.arguments)
        elif isinstance(part, ir.ToolResult):
            parts.extend(part.content)
        else:
            media += 1
    for tool in req.tools:
        chars += len(tool.name) + len(tool.description or "")
        chars += len(orjson.dumps(tool.parameters)) if tool.parameters else 0
    return chars // 4 + media * _MEDIA_TOKENS


def parse_count_request(body: dict, client: ir.Protocol, *, model: str | None) -> ir.Request:
    """A caller's token-count request (count_tokens, countTokens, input_tokens) as IR."""
    return COUNTERS[client].parse_count_request(body, model=model)


def render_count_request(
    req: ir.Request,
    upstream: ir.Protocol,
    *,
    model: str,
    state_key: bytes | None = None,
    provider: str | None = None,
) -> bytes:
    """``req`` as the count request of ``upstream``'s own counting endpoint.

    The same preparation as a generate request where it changes what the provider
    reads (sealed state opened, tool names fitted, foreign signatures stripped), none of
    the output policy: budgets and sampling do not change an input count, so nothing is
    dropped, reported or refused for them."""
    req.model = model
    if state_key is not None and provider is not None:
        open_sealed_state(req, state_key, provider)
    if req.source != upstream:
        _fit_hosted_tools(req, upstream)
        _plain_functions(req, upstream)
        _fit_tool_names(req, upstream)
    _strip_foreign_state(req, upstream)
    return orjson.dumps(COUNTERS[upstream].render_count_request(req))


class TranslatedCount(NamedTuple):
    body: bytes  # the caller's count answer
    tokens: int


def translate_token_count(
    body: bytes, upstream: ir.Protocol, client: ir.Protocol
) -> TranslatedCount:
    """A provider's count answer in the caller's count shape."""
    tokens = COUNTERS[upstream].parse_token_count(load_json(body, "response"))
    return TranslatedCount(orjson.dumps(COUNTERS[client].render_token_count(tokens)), tokens)


def estimate_token_count(body: dict, client: ir.Protocol, *, model: str | None) -> TranslatedCount:
    """The gateway's own estimate (``estimate_input_tokens``) in the caller's count shape,
    for a provider without a counting endpoint."""
    tokens = estimate_input_tokens(parse_count_request(body, client, model=model))
    return TranslatedCount(orjson.dumps(COUNTERS[client].render_token_count(tokens)), tokens)


class StreamTranslator:
    """Upstream stream bytes in, caller stream bytes out, chunk by chunk.

    ``feed`` may raise on a codec bug; the addon catches that and calls ``fail`` so the
    caller gets its protocol's in-stream error rather than a hung connection.
    """

    __slots__ = (
        "_called",
        "_ctx",
        "_custom",
        "_failed",
        "_finished",
        "_json_blocks",
        "_parser",
        "_renderer",
        "error",
        "usage",
    )

    def __init__(self, upstream: ir.Protocol, client: ir.Protocol, ctx: ir.RenderContext) -> None:
        self._parser = CODECS[upstream].StreamParser()
        self._renderer = CODECS[client].StreamRenderer(ctx)
        self._finished = False
        self._failed = False
        self.error: str | None = None  # why the stream failed, for the gateway's log line
        self.usage: ir.Usage | None = None  # the latest usage the upstream reported
        self._ctx = ctx
        self._json_blocks: set[int] = set()  # IR blocks of the structured-output tool
        self._custom: dict[int, list[str]] = {}  # custom-tool blocks: wrapped input so far
        self._called = False  # a real tool call was streamed

    def feed(self, chunk: bytes) -> bytes:
        if self._failed:
            return b""
        events = self._parser.feed(chunk)
        if not events:
            return b""
        return self._renderer.render(self._note(events))

    def finish(self) -> bytes:
        """The upstream body ended: flush, and never let a cut-off stream look complete."""
        if self._failed:
            return b""
        events = self._note(self._parser.finish())
        if not self._finished:
            message = "The upstream stream ended before the response was complete."
            events.append(ir.StreamError(ir.Error(kind="api_error", status=502, message=message)))
            self._failed = True
            self.error = message
        return self._renderer.render(events) + self._renderer.finish()

    @property
    def final_response(self) -> dict | None:
        """For a Responses caller, the response object of the terminal event once the
        stream has ended (what the Responses store keeps); None otherwise."""
        response = getattr(self._renderer, "response", None)
        done = getattr(self._renderer, "done", False)
        return response if done and isinstance(response, dict) else None

    def fail(self, message: str) -> bytes:
        """Render an in-stream error after an internal failure and stop translating."""
        if self._failed:
            return b""
        self._failed = True
        self.error = message
        err = ir.Error(kind="api_error", status=500, message=message)
        return self._renderer.render([ir.StreamError(err)])

    def _note(self, events: list[ir.Event]) -> list[ir.Event]:
        """Track the end of the stream, and give back the events as the caller must see
        them: its own tool names, and the structured-output tool's call as text."""
        out: list[ir.Event] = []
        for event in events:
            if isinstance(event, ir.BlockStart) and isinstance(event.part, ir.ToolCall):
                part = _restore_call(event.part, self._ctx)
                if isinstance(part, ir.Text):
                    self._json_blocks.add(event.index)
                else:
                    self._called = True
                    if part.kind == "custom" and event.part.kind != "custom":
                        # the wrapped input is unwrapped whole when the call ends
                        self._custom[event.index] = [event.part.arguments]
                        part = dataclasses.replace(part, arguments="")
                if part is not event.part:
                    event = ir.BlockStart(event.index, part)
            elif isinstance(event, ir.BlockDelta) and event.index in self._json_blocks:
                event = dataclasses.replace(event, kind="text")
            elif isinstance(event, ir.BlockDelta) and event.index in self._custom:
                if event.kind == "arguments":
                    self._custom[event.index].append(event.text)
                    continue
            elif isinstance(event, ir.BlockStop) and event.index in self._custom:
                out.append(self._unwrapped(event.index))
            elif isinstance(event, ir.UsageUpdate):
                self.usage = event.usage
            elif isinstance(event, ir.Finish):
                out.extend(self._unwrapped(index) for index in list(self._custom))
                self._finished = True
                self.usage = event.usage or self.usage
                stop, raw = _restore_stop(event, self._ctx, self._called)
                if stop != event.stop_reason:
                    event = dataclasses.replace(event, stop_reason=stop, raw_stop_reason=raw)
            elif isinstance(event, ir.StreamError):
                self._finished = True
                self._failed = True
                self.error = event.error.message
            out.append(event)
        return out

    def _unwrapped(self, index: int) -> ir.BlockDelta:
        """A custom tool's whole raw input, out of the function argument it rode in."""
        return ir.BlockDelta(
            index, "arguments", unwrap_custom_input("".join(self._custom.pop(index)))
        )


# Sampling hints each upstream has no field for. They tune how the model samples, not
# what the caller gets back, so they are dropped and reported rather than refused:
# gemini-cli sends topK on every request, which OpenAI has no field for.
_SAMPLING_HINTS: dict[ir.Protocol, tuple[str, ...]] = {
    "openai_chat": ("top_k",),
    "openai_responses": ("top_k", "seed", "presence_penalty", "frequency_penalty"),
    "anthropic": ("seed", "presence_penalty", "frequency_penalty"),
    "gemini": (),
}


def _drop_sampling_hints(req: ir.Request, upstream: ir.Protocol) -> list[str]:
    dropped = []
    for name in _SAMPLING_HINTS[upstream]:
        if getattr(req, name) is not None:
            setattr(req, name, None)
            dropped.append(name)
    return dropped


def _refuse_unmapped_fields(req: ir.Request) -> list[str]:
    """Refuse what the source codec did not mark droppable; the names of the dropped
    fields (the codecs' own form markers, which contain a colon or start with an
    underscore, are not fields)."""
    droppable = CODECS[req.source].DROPPABLE
    dropped: list[str] = []
    for key in req.extra:
        if key not in droppable:
            raise TranslationError(
                f"The field '{key}' has no equivalent in the target provider's protocol; "
                "remove it or use a model served by a provider of the same protocol.",
                param=key,
            )
        if ":" not in key and not key.startswith("_"):
            dropped.append(key)
    return dropped


# Which hosted (provider-run) tools each upstream codec renders, by ``HostedTool.kind``.
# An upstream without one gets the request without it, and the drop is reported: the
# model simply does not search, where refusing would stop Codex (which always sends
# ``web_search``) on every other provider. A ``tool_choice`` forcing a hosted tool stays
# in the source's ``extra`` and is refused.
HOSTED_TOOLS: dict[ir.Protocol, frozenset[str]] = {
    "openai_chat": frozenset(),
    "anthropic": frozenset({"web_search"}),  # the web_search_20250305 server tool
    "gemini": frozenset({"web_search"}),  # googleSearch, without function tools only
}


def _fit_hosted_tools(req: ir.Request, upstream: ir.Protocol) -> list[str]:
    if upstream == "openai_responses":
        return []  # OpenAI runs every hosted tool the Responses format names
    rendered = HOSTED_TOOLS.get(upstream, frozenset())
    if upstream == "gemini" and req.tools:
        rendered = frozenset()  # Gemini 2.x refuses Google Search beside function calling
    kept = [tool for tool in req.hosted_tools if tool.kind in rendered]
    dropped = [f"tools.{tool.kind}" for tool in req.hosted_tools if tool.kind not in rendered]
    req.hosted_tools = kept
    return dropped


NAMESPACE_SEPARATOR = "__"
CUSTOM_INPUT_SCHEMA: dict = {
    "type": "object",
    "properties": {"input": {"type": "string", "description": "The raw input for the tool."}},
    "required": ["input"],
    "additionalProperties": False,
}


def _plain_functions(req: ir.Request, upstream: ir.Protocol) -> dict[str, ir.ToolOrigin]:
    """Responses namespaces and custom tools as plain functions, for upstreams that have
    neither: a namespaced tool is named ``<namespace>__<name>`` (with a hash suffix if that
    is taken), a custom tool takes its raw input as the one string argument ``input``,
    its grammar in the description. The same happens to calls and results in the
    history; the returned origins restore them in the answer (``_restore_call``)."""
    if upstream == "openai_responses":
        return {}
    origins: dict[str, ir.ToolOrigin] = {}
    flat: dict[tuple[str | None, str], str] = {}
    taken = {t.name for t in req.tools if t.namespace is None and t.kind == "function"}
    for tool in req.tools:
        if tool.namespace is None and tool.kind == "function":
            continue
        name = _flat_name(tool.namespace, tool.name, taken)
        taken.add(name)
        flat[(tool.namespace, tool.name)] = name
        origins[name] = ir.ToolOrigin(tool.name, tool.namespace, tool.kind)
        if tool.kind == "custom":
            tool.description = _custom_description(tool)
            tool.parameters = CUSTOM_INPUT_SCHEMA
            tool.strict = None
        if tool.namespace is not None:
            about = req.namespaces.get(tool.namespace)
            group = f"[{tool.namespace}: {about}]" if about else f"[{tool.namespace}]"
            tool.description = f"{group} {tool.description or ''}".rstrip()
        tool.name, tool.namespace, tool.kind, tool.format = name, None, "function", None
    req.namespaces = {}
    choice = req.tool_choice
    if choice is not None and choice.name is not None:
        choice.name = flat.get((None, choice.name), choice.name)
    if choice is not None and choice.allowed:
        choice.allowed = [flat.get((None, n), n) for n in choice.allowed]
    calls: dict[str, str] = {}  # call id -> the function name its call got
    for message in req.messages:
        for part in message.parts:
            if isinstance(part, ir.ToolCall) and (part.namespace or part.kind == "custom"):
                name = flat.get((part.namespace, part.name)) or _flat_name(
                    part.namespace, part.name, set()
                )
                if part.kind == "custom":
                    part.arguments = orjson.dumps({"input": part.arguments}).decode()
                calls[part.id] = part.name = name
                part.namespace, part.kind = None, "function"
            elif isinstance(part, ir.ToolResult) and part.call_id in calls:
                part.name = calls[part.call_id]
    return origins


def _flat_name(namespace: str | None, name: str, taken: set[str]) -> str:
    if namespace is None:
        return name
    flat = f"{namespace}{NAMESPACE_SEPARATOR}{name}"
    if flat in taken:
        digest = hashlib.sha256(f"{namespace}\0{name}".encode()).hexdigest()[:6]
        flat = f"{flat}_{digest}"
    return flat


def _custom_description(tool: ir.Tool) -> str:
    text = (tool.description or "").rstrip()
    text += (
        "\n\nThis tool takes free-form text, not JSON: pass the whole text as the string "
        "argument `input`."
    )
    fmt = tool.format or {}
    if fmt.get("type") == "grammar" and isinstance(fmt.get("definition"), str):
        syntax = fmt.get("syntax") if isinstance(fmt.get("syntax"), str) else "lark"
        text += f" The text must match this {syntax} grammar:\n{fmt['definition']}"
    return text.lstrip()


def unwrap_custom_input(arguments: str) -> str:
    """A custom tool's raw input from the JSON arguments of its stand-in function; text
    that is not the wrapper is passed on as it is (never a JSON-wrapped input: bug 10)."""
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return arguments
    if isinstance(value, dict):
        inner = value.get("input")
        if isinstance(inner, str):
            return inner
        strings = [v for v in value.values() if isinstance(v, str)]
        if len(value) == 1 and strings:
            return strings[0]
    return arguments


JSON_TOOL_NAME = "json_response"


def _structured_output_as_tool(req: ir.Request) -> str | None:
    """For a model without native structured output: a tool whose input schema is the
    requested one, forced when the caller has no tools of its own, otherwise required
    alongside them so the caller's tool loop keeps working. Its call becomes the text of
    the answer (``_restore_choice`` and ``StreamTranslator``)."""
    fmt = req.response_format
    if fmt is None or fmt.type == "text":
        return None
    taken = {tool.name for tool in req.tools}
    name = JSON_TOOL_NAME
    while name in taken:
        name += "_"
    schema = fmt.schema if fmt.type == "json_schema" and fmt.schema else {"type": "object"}
    description = fmt.description or "Give the final answer as this JSON object."
    req.tools.append(ir.Tool(name, description, schema))
    choice = req.tool_choice
    if not taken or (choice is not None and choice.mode == "none"):
        req.tool_choice = ir.ToolChoice("tool", name)
    elif choice is None or choice.mode == "auto":
        req.tool_choice = ir.ToolChoice("required")
    req.response_format = None
    return name


_CUT_OFF = ("max_tokens", "context_window")


def _drop_truncated_calls(choice: ir.Choice) -> None:
    """A call cut off by the output limit has arguments that are not JSON. OpenAI shows
    them as the partial string they are; formats whose arguments are objects cannot, and
    a half call is not safe to run, so it is left out while text and stop reason stay."""
    kept: list[ir.Part] = []
    for part in choice.parts:
        if isinstance(part, ir.ToolCall) and part.kind != "custom":  # raw input: no JSON
            try:
                complete = isinstance(orjson.loads(part.arguments or "{}"), dict)
            except orjson.JSONDecodeError:
                complete = False
            if not complete:
                continue
        kept.append(part)
    choice.parts = kept


def _restore_choice(choice: ir.Choice, ctx: ir.RenderContext) -> None:
    """Undo, in a whole answer, what the request changed for the upstream's sake."""
    choice.parts = [
        _restore_call(part, ctx) if isinstance(part, ir.ToolCall) else part for part in choice.parts
    ]
    called = any(isinstance(p, ir.ToolCall) for p in choice.parts)
    choice.stop_reason, choice.raw_stop_reason = _restore_stop(choice, ctx, called)


def _restore_call(call: ir.ToolCall, ctx: ir.RenderContext) -> ir.ToolCall | ir.Text:
    """The caller's view of a call the upstream made: the structured-output tool's call
    is the answer's text; a stand-in function gets its namespace, name and kind back (a
    custom tool's input unwrapped); any other call gets the caller's own tool name."""
    if call.name == ctx.json_tool:
        return ir.Text(call.arguments)
    origin = ctx.tool_origins.get(call.name)
    if origin is not None:
        arguments = call.arguments
        if origin.kind == "custom" and call.kind != "custom":
            arguments = unwrap_custom_input(arguments) if arguments else ""
        return dataclasses.replace(
            call,
            name=origin.name,
            namespace=origin.namespace,
            kind=origin.kind,
            arguments=arguments,
        )
    name = ctx.tool_names.get(call.name)
    return call if name is None else dataclasses.replace(call, name=name)


def _restore_stop(
    end: ir.Choice | ir.Finish, ctx: ir.RenderContext, called: bool
) -> tuple[ir.StopReason | None, str | None]:
    """An answer whose only call was the structured-output tool ended naturally."""
    if ctx.json_tool and end.stop_reason == "tool_use" and not called:
        return "end_turn", None
    return end.stop_reason, end.raw_stop_reason


# Each upstream's rule for function names. A caller's name that breaks it is replaced by a
# stable, unique fitting name and mapped back in the answer.
_TOOL_NAME_RULES: dict[ir.Protocol, tuple[re.Pattern[str], int]] = {
    "openai_chat": (re.compile(r"[^a-zA-Z0-9_-]"), 64),
    "openai_responses": (re.compile(r"[^a-zA-Z0-9_-]"), 64),
    "anthropic": (re.compile(r"[^a-zA-Z0-9_-]"), 128),
    "gemini": (re.compile(r"[^a-zA-Z0-9_.:-]"), 128),
}


def fit_tool_name(name: str, upstream: ir.Protocol) -> str:
    """The caller's name, or a stable unique one (name prefix + hash) that fits."""
    invalid, limit = _TOOL_NAME_RULES[upstream]
    fitted = invalid.sub("_", name)
    if upstream == "gemini" and not (fitted[:1].isalpha() or fitted[:1] == "_"):
        fitted = "_" + fitted  # Gemini names start with a letter or an underscore
    if fitted == name and 0 < len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{fitted[: limit - 9]}_{digest}"


def _fit_tool_names(req: ir.Request, upstream: ir.Protocol) -> dict[str, str]:
    """Rename tools whose names the upstream would reject, everywhere the name appears."""
    renamed: dict[str, str] = {}

    def fit(name: str) -> str:
        fitted = fit_tool_name(name, upstream)
        if fitted != name:
            renamed[fitted] = name
        return fitted

    for tool in req.tools:
        tool.name = fit(tool.name)
    if req.tool_choice is not None:
        if req.tool_choice.name is not None:
            req.tool_choice.name = fit(req.tool_choice.name)
        if req.tool_choice.allowed:
            req.tool_choice.allowed = [fit(n) for n in req.tool_choice.allowed]
    for message in req.messages:
        for part in message.parts:
            if isinstance(part, (ir.ToolCall, ir.ToolResult)) and part.name is not None:
                part.name = fit(part.name)
    return renamed


def _strip_foreign_state(req: ir.Request, upstream: ir.Protocol) -> None:
    """Signatures and redacted thinking only mean something to the provider that made
    them; another provider rejects or misreads them. Sealed state that was not opened
    never leaves the gateway (RESPONSES-NOTES bug 7)."""
    for message in req.messages:
        kept: list[ir.Part] = []
        for part in message.parts:
            if isinstance(part, ir.Thinking) and part.sealed is not None:
                continue
            if isinstance(part, ir.Thinking) and part.origin != upstream:
                if part.redacted is not None or not part.text:
                    continue
                part.signature = None
                part.origin = None
            elif isinstance(part, ir.ToolCall) and part.signature is not None:
                if upstream != "gemini":
                    part.signature = None
            elif isinstance(part, ir.Text) and part.signature is not None and upstream != "gemini":
                part.signature = None
            kept.append(part)
        message.parts = kept


def open_sealed_state(req: ir.Request, key: bytes, provider: str) -> None:
    """Turn the state sealed into a Responses caller's reasoning items back into what the
    provider gave: Thinking parts with their signatures, redacted data and origin, and
    Gemini signatures on the calls (matched by call id) and text of the same assistant
    turn. A blob that does not open for ``provider`` with ``key`` (another provider's,
    tampered, truncated, or not the gateway's) is dropped with its thought."""
    for message in req.messages:
        if not any(isinstance(p, ir.Thinking) and p.sealed is not None for p in message.parts):
            continue
        calls: dict[str, str] = {}
        text_signature: str | None = None
        parts: list[ir.Part] = []
        for part in message.parts:
            if not isinstance(part, ir.Thinking) or part.sealed is None:
                parts.append(part)
                continue
            state = sealing.unseal(key, provider, part.sealed)
            if state is None:
                continue
            parts.extend(_opened_thoughts(state.get("thinking")))
            found = state.get("calls")
            if isinstance(found, dict):
                calls.update((k, v) for k, v in found.items() if isinstance(v, str))
            if isinstance(state.get("text"), str):
                text_signature = state["text"]
        for part in parts:
            if isinstance(part, ir.ToolCall) and part.id in calls:
                part.signature = calls[part.id]
        if text_signature is not None:
            texts = [p for p in parts if isinstance(p, ir.Text)]
            if texts:
                texts[-1].signature = text_signature
            else:
                parts.append(ir.Text("", signature=text_signature))
        message.parts = parts


_ORIGINS = frozenset(CODECS)


def _opened_thoughts(thoughts: object) -> list[ir.Part]:
    out: list[ir.Part] = []
    for thought in thoughts if isinstance(thoughts, list) else []:
        if not isinstance(thought, dict):
            continue
        origin = thought.get("origin")
        text, signature, redacted = (thought.get(k) for k in ("text", "signature", "redacted"))
        out.append(
            ir.Thinking(
                text=text if isinstance(text, str) else "",
                signature=signature if isinstance(signature, str) else None,
                redacted=redacted if isinstance(redacted, str) else None,
                origin=origin if origin in _ORIGINS else None,
            )
        )
    return out


# ---------------------------------------------------------------- OpenAI Responses state
# A Responses body may name state in the gateway's store; the addon resolves it before
# ``parse_request`` (a pure translator cannot read the store).

ResponsesReferences = responses_wire.References


def responses_references(body: dict) -> ResponsesReferences:
    """The ``previous_response_id``, ``conversation`` and ``item_reference`` ids a
    Responses body refers to."""
    return responses_wire.references(body)


def resolve_responses_references(
    body: dict, *, history: list[dict] | None = None, items: dict[str, dict] | None = None
) -> dict:
    """``body`` with the stored history spliced in before its input and its item
    references replaced (``openai_responses.wire.resolve_references``)."""
    return responses_wire.resolve_references(body, history=history, items=items)


def responses_id(request_id: str) -> str:
    """The id the gateway gives the Responses answer to request ``request_id``."""
    return responses_wire.response_id(request_id)
