"""The intermediate representation every codec converts to and from.

One IR instead of pairwise converters: each protocol codec only knows its own wire
format and this module, so N codecs give N*(N-1) directions. The IR is the union of
what the protocols can say (thinking with signatures, redacted thinking, cache markers,
parallel tool calls, documents, audio), so that A -> IR -> A is the identity and
nothing is dropped silently on the way to another protocol.

Conventions that every codec relies on:

- Token counts follow the *inclusive* convention (OpenAI's): ``Usage.input_tokens``
  includes cached reads and cache writes, ``Usage.output_tokens`` includes reasoning.
  Codecs for exclusive formats (Anthropic input, Gemini thoughts) convert at the edge.
- Tool-call arguments are kept as JSON *text*, because OpenAI sends text that is not
  always valid JSON; object-based formats parse it when they render.
- ``extra`` dicts hold fields of the source protocol that have no IR field. They are
  rendered back only into the same protocol (``source``); for any other target the
  pipeline either drops them by a documented rule or refuses the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Protocol = Literal["openai_chat", "openai_responses", "anthropic", "gemini"]

Role = Literal["system", "developer", "user", "assistant", "tool"]

# Why a message ended, in one vocabulary. Codecs map their enums onto these and keep
# the native value in ``raw_stop_reason`` so the same protocol gets it back verbatim.
StopReason = Literal[
    "end_turn",  # natural end: OpenAI stop, Anthropic end_turn, Gemini STOP
    "max_tokens",  # output budget hit: length / max_tokens / MAX_TOKENS
    "stop_sequence",  # a caller stop sequence matched
    "tool_use",  # the model asks for tool results: tool_calls / tool_use
    "content_filter",  # refusal / safety / recitation / blocklist
    "pause_turn",  # Anthropic server-tool pause
    "context_window",  # Anthropic model_context_window_exceeded
    "error",  # malformed function call and other model-side failures
    "other",
]

ErrorKind = Literal[
    "invalid_request",  # 400
    "authentication",  # 401
    "billing",  # 402
    "permission",  # 403
    "not_found",  # 404
    "request_too_large",  # 413
    "rate_limit",  # 429
    "api_error",  # 500
    "not_implemented",  # 501: the gateway cannot do this (yet)
    "overloaded",  # 529 / 503
    "timeout",  # 504
]


# The one table of error kinds and HTTP statuses. A codec passes ``overrides`` only for
# what its protocol does differently (Anthropic's 529 overloaded, OpenAI's 429 billing).
STATUS_BY_KIND: dict[ErrorKind, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "billing": 402,
    "permission": 403,
    "not_found": 404,
    "request_too_large": 413,
    "rate_limit": 429,
    "api_error": 500,
    "not_implemented": 501,
    "overloaded": 503,
    "timeout": 504,
}
_KIND_BY_STATUS: dict[int, ErrorKind] = {
    **{status: kind for kind, status in STATUS_BY_KIND.items()},
    529: "overloaded",
}


def error_kind_for_status(status: int) -> ErrorKind:
    """The kind of an HTTP status; one the table does not name is an invalid request
    below 500 and a server error from 500 on."""
    kind = _KIND_BY_STATUS.get(status)
    if kind is not None:
        return kind
    return "invalid_request" if status < 500 else "api_error"


def status_for_kind(kind: ErrorKind, overrides: Mapping[ErrorKind, int] | None = None) -> int:
    """The status a caller's SDK maps to ``kind``'s exception class."""
    if overrides and kind in overrides:
        return overrides[kind]
    return STATUS_BY_KIND[kind]


# --------------------------------------------------------------------------- parts


@dataclass(slots=True)
class Text:
    text: str
    cache_control: dict | None = None  # Anthropic {"type":"ephemeral","ttl":...}
    signature: str | None = None  # Gemini thoughtSignature riding on a text part
    citations: list | None = None  # native citation objects of ``source`` protocol


@dataclass(slots=True)
class Image:
    media_type: str | None = None
    data: str | None = None  # base64, no data: prefix
    url: str | None = None  # http(s) or gs:// reference; exactly one of data/url
    detail: str | None = None  # OpenAI detail hint
    cache_control: dict | None = None
    file_id: str | None = None  # provider file reference (OpenAI Responses input_image)


@dataclass(slots=True)
class Document:
    """A PDF or other file: OpenAI ``file`` part, Anthropic ``document``, Gemini data."""

    media_type: str | None = None
    data: str | None = None  # base64
    url: str | None = None
    text: str | None = None  # plain-text document source
    title: str | None = None
    filename: str | None = None
    file_id: str | None = None  # provider file reference (OpenAI file_id)
    context: str | None = None
    citations: dict | None = None
    cache_control: dict | None = None


@dataclass(slots=True)
class Audio:
    media_type: str  # audio/wav, audio/mp3 ...
    data: str  # base64


ToolKind = Literal["function", "custom"]


@dataclass(slots=True)
class ToolCall:
    """A call the model made. ``kind`` "custom" is an OpenAI Responses freeform tool:
    ``arguments`` then holds the raw input text, not JSON. ``namespace`` is the
    Responses tool group the called tool belongs to (``name`` is the name inside it)."""

    id: str
    name: str
    arguments: str  # JSON text, possibly partial/invalid when it came from OpenAI
    signature: str | None = None  # Gemini thoughtSignature of the functionCall part
    cache_control: dict | None = None
    namespace: str | None = None
    kind: ToolKind = "function"


@dataclass(slots=True)
class ToolResult:
    call_id: str
    content: list[Part]  # Text / Image / Document
    name: str | None = None  # the called function's name, when the format carries it
    is_error: bool | None = None
    cache_control: dict | None = None


@dataclass(slots=True)
class Thinking:
    """Reasoning the model showed. ``origin`` is the provider protocol that made it.

    Signatures and redacted data are opaque and only valid for their ``origin``; the
    pipeline strips them before the history is sent to any other provider.
    """

    text: str = ""
    signature: str | None = None
    redacted: str | None = None  # Anthropic redacted_thinking.data
    origin: Protocol | None = None
    # Provider state the gateway sealed into a Responses caller's reasoning item
    # (translators/sealing.py), still closed: ``convert.open_sealed_state`` turns it back
    # into signed parts, and it is never sent anywhere as it is.
    sealed: str | None = None


Part = Text | Image | Document | Audio | ToolCall | ToolResult | Thinking


# ------------------------------------------------------------------------ request


@dataclass(slots=True)
class Message:
    role: Role
    parts: list[Part]
    name: str | None = None


@dataclass(slots=True)
class Tool:
    """A tool the caller runs. ``kind`` "custom" (OpenAI Responses) takes free text shaped
    by ``format`` (``{"type":"grammar","syntax":"lark"|"regex","definition"}`` or
    ``{"type":"text"}``) instead of JSON arguments; ``namespace`` names the Responses tool
    group it belongs to. Only the Responses codec renders either: for other upstreams
    ``convert`` turns them into plain functions and restores them in the answer."""

    name: str
    description: str | None = None
    parameters: dict | None = None  # JSON Schema of the arguments object
    strict: bool | None = None
    cache_control: dict | None = None
    kind: ToolKind = "function"
    namespace: str | None = None
    format: dict | None = None  # custom tools' input format


@dataclass(slots=True)
class HostedTool:
    """A tool the provider runs itself (OpenAI's ``web_search``, Anthropic's
    ``web_search_20250305`` server tool, Gemini's ``googleSearch``). ``kind`` is the
    gateway's name for it (``web_search``, ``file_search``, ``code_interpreter`` ...);
    ``options`` the source protocol's own fields, rendered as they are only to the same
    protocol. Which upstream codecs render which kind is ``convert``'s table."""

    kind: str
    options: dict = field(default_factory=dict)


@dataclass(slots=True)
class ToolChoice:
    mode: Literal["auto", "none", "required", "tool"]
    name: str | None = None  # with mode "tool"
    allowed: list[str] | None = None  # Gemini allowedFunctionNames with "required"


@dataclass(slots=True)
class ResponseFormat:
    type: Literal["text", "json_object", "json_schema"]
    schema: dict | None = None
    name: str | None = None
    description: str | None = None
    strict: bool | None = None


@dataclass(slots=True)
class Reasoning:
    """Caller's reasoning request; every field optional, see docs/conversion.md."""

    effort: str | None = None  # none|minimal|low|medium|high|xhigh|max
    budget_tokens: int | None = None
    enabled: bool | None = None  # False: explicitly off
    adaptive: bool | None = None
    include_thoughts: bool | None = None


@dataclass(slots=True)
class Request:
    model: str
    messages: list[Message]
    source: Protocol
    stream: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    n: int | None = None
    stop: list[str] | None = None
    user: str | None = None
    tools: list[Tool] = field(default_factory=list)
    # Responses tool groups: namespace name -> its description (the tools name theirs).
    namespaces: dict[str, str | None] = field(default_factory=dict)
    hosted_tools: list[HostedTool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning: Reasoning | None = None
    include_usage: bool = False  # OpenAI stream_options.include_usage
    logprobs: bool | None = None
    top_logprobs: int | None = None
    cache_control: dict | None = None  # Anthropic top-level automatic breakpoint
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------- response


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0  # inclusive of cache reads and writes
    output_tokens: int = 0  # inclusive of reasoning
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(slots=True)
class Choice:
    parts: list[Part]
    stop_reason: StopReason | None
    index: int = 0
    stop_sequence: str | None = None
    raw_stop_reason: str | None = None  # native value, for the same protocol only
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class Response:
    id: str
    model: str
    choices: list[Choice]
    source: Protocol
    usage: Usage | None = None
    created: int | None = None
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class Error:
    kind: ErrorKind
    message: str
    status: int
    param: str | None = None
    code: str | None = None
    retry_after: float | None = None  # seconds, when the provider said when to retry


# ------------------------------------------------------------------ stream events
# Immutable, as h11's events are: a step that changes an event (convert's restoring of
# tool names) returns a new one, so no parser or renderer sees an event change under it.


@dataclass(frozen=True, slots=True)
class MessageStart:
    id: str
    model: str
    usage: Usage | None = None  # best-known input count at the start
    created: int | None = None


@dataclass(frozen=True, slots=True)
class BlockStart:
    """A content block opens. ``part`` is an empty Text, Thinking, or a ToolCall with
    its id and name and whatever arguments arrived in the opening chunk."""

    index: int
    part: Text | Thinking | ToolCall


@dataclass(frozen=True, slots=True)
class BlockDelta:
    index: int
    kind: Literal["text", "arguments", "thinking", "signature"]
    text: str


@dataclass(frozen=True, slots=True)
class BlockStop:
    index: int


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    """Cumulative usage seen mid-stream (Gemini repeats it on every chunk)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Finish:
    stop_reason: StopReason | None
    usage: Usage | None = None
    stop_sequence: str | None = None
    raw_stop_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StreamError:
    error: Error


Event = MessageStart | BlockStart | BlockDelta | BlockStop | UsageUpdate | Finish | StreamError


@dataclass(frozen=True, slots=True)
class ToolOrigin:
    """What a plain function an upstream was given stands for in the caller's request:
    a tool inside a Responses namespace, or a custom (freeform) tool whose raw input was
    wrapped as the function's one string argument ``input``."""

    name: str  # the caller's tool name (inside its namespace)
    namespace: str | None = None
    kind: ToolKind = "function"


@dataclass(slots=True)
class RenderContext:
    """What a renderer needs that the translators may not compute themselves (no clocks,
    no randomness in translators/): the addon supplies it per request."""

    model: str  # model name to report to the caller
    created: int  # unix seconds, for formats that require a timestamp
    request_id: str  # seed for ids the target format requires but the source lacks
    include_usage: bool = False
    source: Protocol | None = None  # protocol of the upstream that produced the data
    input_tokens_estimate: int = 0  # for formats that must report input usage up front
    framing: Literal["sse", "json_array"] = "sse"  # Gemini streams come in either
    # Tool names the upstream was given -> the caller's own names, where the upstream's
    # naming rules forced a change (OpenAI allows 64 characters, no dots).
    tool_names: dict[str, str] = field(default_factory=dict)
    # The tool that stood in for structured output; its call is the answer's text.
    json_tool: str | None = None
    # Upstream function names that stand for namespaced or custom tools of the caller.
    tool_origins: dict[str, ToolOrigin] = field(default_factory=dict)
    # Sealing provider state into a Responses caller's reasoning items
    # (translators/sealing.py): the gateway's key, and the provider (rules.yaml name) that
    # answered, which the sealed state is bound to. No key: nothing is sealed.
    state_key: bytes | None = None
    provider: str | None = None
    # Responses: fields of the caller's request its answer repeats (``store``,
    # ``previous_response_id``, ``instructions``...), as OpenAI echoes them.
    echo: Mapping[str, object] = field(default_factory=dict)
