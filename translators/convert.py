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

from translators import ir
from translators.codec import CODECS, COUNTERS
from translators.errors import TranslationError

PROTOCOL_NAMES: dict[ir.Protocol, str] = {
    "openai_chat": "OpenAI Chat Completions",
    "openai_responses": "OpenAI Responses",
    "anthropic": "Anthropic Messages",
    "gemini": "Gemini generateContent",
}


def supported(client: ir.Protocol, upstream: ir.Protocol) -> bool:
    """OpenAI Responses has no codec yet: its converter route answers 501."""
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
    rb'|"(?:signature|thoughtSignature|thought_signature)"\s*:\s*"'
    # base64 of "anthropic...", "gemini:" and "openai_ch..." as written for Gemini callers
    rb"(?:gemini:|anthropic:|anthropic-redacted:|openai_chat:|YW50aHJvcGlj|Z2VtaW5pO|b3BlbmFpX2No)"
)


def carries_gateway_state(raw: bytes) -> bool:
    """Whether a same-protocol body holds state the gateway carried for another provider,
    which must be stripped before the body reaches a real API."""
    return _GATEWAY_STATE.search(raw) is not None


class Rendered(NamedTuple):
    """A rendered request and what its answer's translation must undo."""

    body: bytes
    tool_names: dict[str, str]  # upstream's tool name -> the caller's, where they differ
    json_tool: str | None  # the tool standing in for structured output, if any


def render_request(
    req: ir.Request,
    upstream: ir.Protocol,
    *,
    model: str,
    default_max_tokens: int | None = None,
    json_via_tool: bool = False,
    max_tokens_field: str = "max_completion_tokens",
) -> Rendered:
    """Render ``req`` for ``upstream`` after the cross-protocol policy checks.

    The answer's translation needs ``tool_names`` and ``json_tool`` (via RenderContext)
    to undo what was changed here for the upstream's sake.
    """
    req.model = model
    tool_names: dict[str, str] = {}
    json_tool = None
    if req.source != upstream:
        _refuse_unmapped_fields(req)
        if json_via_tool:
            json_tool = _structured_output_as_tool(req)
        tool_names = _fit_tool_names(req, upstream)
    _strip_foreign_state(req, upstream)
    if req.max_tokens is None and default_max_tokens is not None and upstream == "anthropic":
        req.max_tokens = default_max_tokens  # the one protocol that requires a budget
    body = CODECS[upstream].render_request(req)
    # A provider quirk, not a format rule: some OpenAI-compatible servers only read
    # max_tokens (rules.yaml max_tokens_field).
    renamed = req.source != upstream and max_tokens_field != "max_completion_tokens"
    if renamed and "max_completion_tokens" in body:
        body[max_tokens_field] = body.pop("max_completion_tokens")
    return Rendered(orjson.dumps(body), tool_names, json_tool)


class Translated(NamedTuple):
    body: bytes
    usage: ir.Usage | None  # read on the way, so the gateway need not parse again


def translate_response(
    body: bytes, upstream: ir.Protocol, client: ir.Protocol, ctx: ir.RenderContext
) -> Translated:
    resp = CODECS[upstream].parse_response(load_json(body, "response"))
    for choice in resp.choices:
        if ctx.tool_names or ctx.json_tool:
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


def translate_error(
    status: int, body: bytes, upstream: ir.Protocol, client: ir.Protocol
) -> tuple[int, bytes]:
    return render_error(client, CODECS[upstream].parse_error(status, body))


def render_error(client: ir.Protocol, err: ir.Error) -> tuple[int, bytes]:
    codec = CODECS.get(client, CODECS["openai_chat"])  # Responses errors: the OpenAI shape
    status, body = codec.render_error(err)
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


def count_tokens_locally(body: dict, client: ir.Protocol, *, model: str | None) -> bytes:
    """A token-count request whose model another protocol's provider serves has no
    upstream endpoint to go to (OpenAI has none; the others count in their own format), so
    the gateway answers with its estimate (``estimate_input_tokens``), in the caller's
    format. Claude Code calls this to size its context."""
    codec = COUNTERS[client]
    req = codec.parse_count_request(body, model=model)
    return orjson.dumps(codec.render_token_count(estimate_input_tokens(req)))


class StreamTranslator:
    """Upstream stream bytes in, caller stream bytes out, chunk by chunk.

    ``feed`` may raise on a codec bug; the addon catches that and calls ``fail`` so the
    caller gets its protocol's in-stream error rather than a hung connection.
    """

    __slots__ = (
        "_called",
        "_ctx",
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
                if part is not event.part:
                    event = ir.BlockStart(event.index, part)
            elif isinstance(event, ir.BlockDelta) and event.index in self._json_blocks:
                event = dataclasses.replace(event, kind="text")
            elif isinstance(event, ir.UsageUpdate):
                self.usage = event.usage
            elif isinstance(event, ir.Finish):
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


def _refuse_unmapped_fields(req: ir.Request) -> None:
    droppable = CODECS[req.source].DROPPABLE
    for key in req.extra:
        if key not in droppable:
            raise TranslationError(
                f"The field '{key}' has no equivalent in the target provider's protocol; "
                "remove it or use a model served by a provider of the same protocol.",
                param=key,
            )


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
        if isinstance(part, ir.ToolCall):
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
    is the answer's text; any other call gets the caller's own tool name back."""
    if call.name == ctx.json_tool:
        return ir.Text(call.arguments)
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
    them; another provider rejects or misreads them."""
    for message in req.messages:
        kept: list[ir.Part] = []
        for part in message.parts:
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
