"""OpenAI Chat Completions streams, and the wire atoms both directions of the codec share.

The usage object, the ``finish_reason`` enum and the error object appear in streamed
chunks and in whole responses alike. They live here, next to the stream classes, so that
``openai_chat`` can import this module (and re-export ``StreamParser``/``StreamRenderer``)
without an import cycle.

Stream parsing (upstream ``data:`` chunks -> IR events):

- Framing is data-only SSE ending with ``data: [DONE]``; ``usage`` may be absent or null
  on ordinary chunks, and ``obfuscation`` padding is ignored.
- Only ``choices[].index == 0`` is streamed into the IR (the IR streams one choice);
  other choices of an ``n > 1`` stream are skipped.
- ``reasoning_content`` (DeepSeek, vLLM) and ``reasoning`` (OpenRouter, Ollama) deltas
  become one Thinking block; ``content`` and ``refusal`` deltas become a Text block. A
  Text or Thinking block is closed when another block opens; tool-call blocks stay open
  until the end, because OpenAI-compatible servers may interleave calls.
- Tool calls are keyed by ``tool_calls[].index``; servers that omit the index are keyed
  by the call ``id`` instead, and a new ``id`` under a known index starts a new call
  (servers that number every call 0). Argument text is forwarded as it arrives.
- ``finish_reason`` is remembered; Finish is emitted with the final usage when the usage
  chunk (``choices: []``) arrives, at ``[DONE]``, or when the body ends after a
  finish_reason. A body that ends before any finish_reason is a StreamError, never a
  silent truncation. Per-token ``logprobs`` of a stream are not carried.

Stream rendering (IR events -> caller chunks) follows OpenAI's own streams: a first
``{"role":"assistant","content":""}`` delta, one delta per event, tool calls numbered
in order of their blocks with id/type/name only on the first delta of each call, an
``arguments: "{}"`` delta for calls that got no argument text, an empty-delta chunk
with ``finish_reason``, the ``choices: []`` usage chunk when the caller asked for
``include_usage`` and any usage is known, and ``data: [DONE]``. Thinking text goes out
as ``reasoning_content`` deltas; a thinking signature as a ``thinking_blocks`` delta
holding the whole block (docs/extensions.md); a Gemini signature on a call or text part
as ``extra_content``.
"""

from __future__ import annotations

import orjson

from translators import ir
from translators.errors import TranslationError
from translators.sse import SSEDecoder, encode_event

PROTOCOL: ir.Protocol = "openai_chat"

# ------------------------------------------------------------------ shared wire atoms

_FINISH_TO_IR: dict[str, ir.StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "content_filter",
    "function_call": "tool_use",
}

_IR_TO_FINISH: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "pause_turn": "stop",
    "context_window": "length",
    "error": "stop",
    "other": "stop",
}


def stop_reason_from_wire(
    finish_reason: str | None, *, has_tool_call: bool, refused: bool
) -> ir.StopReason | None:
    """Map ``finish_reason``; a choice holding tool calls asks for results, whatever an
    OpenAI-compatible server said, unless the output was cut off."""
    reason = None if finish_reason is None else _FINISH_TO_IR.get(finish_reason, "other")
    if has_tool_call and reason in (None, "end_turn"):
        return "tool_use"
    if refused and reason == "end_turn":
        return "content_filter"
    return reason


def finish_reason_to_wire(
    stop_reason: ir.StopReason | None, raw: str | None, *, same_source: bool, has_tool_call: bool
) -> str:
    """The native value goes back verbatim to its own protocol (OpenAI says ``stop`` for a
    forced tool call); anything else is mapped. Tool calls say tool_calls unless the
    output was cut off or filtered: a truncated call's arguments are not safe to run."""
    if same_source and raw is not None:
        return raw
    if has_tool_call and stop_reason not in ("max_tokens", "context_window", "content_filter"):
        return "tool_calls"
    return _IR_TO_FINISH.get(stop_reason or "end_turn", "stop")


def _count(obj: dict, key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise TranslationError(f"{path}.{key} must be an integer", param=f"{path}.{key}")
    return value


def _details(usage: dict, key: str) -> dict:
    value = usage.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TranslationError(f"usage.{key} must be an object", param=f"usage.{key}")
    return value


def usage_from_wire(usage: object) -> ir.Usage:
    """OpenAI counts are already inclusive (cached within prompt, reasoning within
    completion), so they map one to one. DeepSeek reports cache hits as
    ``prompt_cache_hit_tokens`` instead of ``prompt_tokens_details.cached_tokens``."""
    if not isinstance(usage, dict):
        raise TranslationError("usage must be an object", param="usage")
    prompt = _details(usage, "prompt_tokens_details")
    completion = _details(usage, "completion_tokens_details")
    cache_read = _count(prompt, "cached_tokens", "usage.prompt_tokens_details")
    if cache_read is None:
        cache_read = _count(usage, "prompt_cache_hit_tokens", "usage")
    return ir.Usage(
        input_tokens=_count(usage, "prompt_tokens", "usage") or 0,
        output_tokens=_count(usage, "completion_tokens", "usage") or 0,
        cache_read_tokens=cache_read,
        cache_write_tokens=_count(prompt, "cache_write_tokens", "usage.prompt_tokens_details"),
        reasoning_tokens=_count(completion, "reasoning_tokens", "usage.completion_tokens_details"),
    )


def usage_to_wire(usage: ir.Usage, base: dict | None = None) -> dict:
    """``base`` is the upstream's own usage object when it was OpenAI's, so detail fields
    the IR has no slot for (audio, prediction tokens) reach the caller unchanged."""
    out = dict(base) if base else {}
    out["prompt_tokens"] = usage.input_tokens
    out["completion_tokens"] = usage.output_tokens
    out["total_tokens"] = usage.input_tokens + usage.output_tokens
    if usage.cache_read_tokens is not None or usage.cache_write_tokens is not None:
        prompt = dict(out.get("prompt_tokens_details") or {})
        if usage.cache_read_tokens is not None:
            prompt["cached_tokens"] = usage.cache_read_tokens
        if usage.cache_write_tokens is not None:
            prompt["cache_write_tokens"] = usage.cache_write_tokens
        out["prompt_tokens_details"] = prompt
    if usage.reasoning_tokens is not None:
        completion = dict(out.get("completion_tokens_details") or {})
        completion["reasoning_tokens"] = usage.reasoning_tokens
        out["completion_tokens_details"] = completion
    return out


# ``type`` is a free string in OpenAI's spec; these are the values seen from OpenAI and
# the compatible servers. It decides the kind only for in-stream errors, which have no
# HTTP status.
_KIND_BY_TYPE: dict[str, ir.ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "permission_error": "permission",
    "not_found_error": "not_found",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit",
    "insufficient_quota": "billing",
    "server_error": "api_error",
    "api_error": "api_error",
    "not_implemented_error": "not_implemented",
    "service_unavailable_error": "overloaded",
    "overloaded_error": "overloaded",
    "timeout_error": "timeout",
}

# OpenAI has no billing status: quota exhaustion is its 429 ``insufficient_quota``.
_WIRE_BY_KIND: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "invalid_request_error"),
    "authentication": (401, "authentication_error"),
    "billing": (429, "insufficient_quota"),
    "permission": (403, "permission_error"),
    "not_found": (404, "not_found_error"),
    "request_too_large": (413, "invalid_request_error"),
    "rate_limit": (429, "rate_limit_error"),
    "api_error": (500, "server_error"),
    "not_implemented": (501, "not_implemented_error"),
    "overloaded": (503, "service_unavailable_error"),
    "timeout": (504, "timeout_error"),
}


def _error_kind(status: int | None, type_: object, code: object) -> ir.ErrorKind:
    if type_ == "insufficient_quota" or code == "insufficient_quota":
        return "billing"
    if status is None:
        return _KIND_BY_TYPE.get(type_, "api_error") if isinstance(type_, str) else "api_error"
    return ir.error_kind_for_status(status)


def _optional_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def error_from_object(error: object, status: int | None) -> ir.Error:
    """An ``error`` member in any of the shapes OpenAI-compatible servers send: OpenAI's
    object, a bare string (Ollama), or vLLM's flat body. ``status`` is None in a stream."""
    if not isinstance(error, dict):
        error = {"message": error}
    type_ = error.get("type")
    code = _optional_text(error.get("code"))
    kind = _error_kind(status, type_, code)
    message = error.get("message") or error.get("detail")  # FastAPI-based servers: detail
    if not isinstance(message, str) or not message:
        message = str(message) if message else f"upstream error (HTTP {status or 'stream'})"
    return ir.Error(
        kind=kind,
        message=message,
        status=status if status is not None else _WIRE_BY_KIND[kind][0],
        param=_optional_text(error.get("param")),
        code=code,
    )


def error_to_object(err: ir.Error) -> tuple[int, dict]:
    """The status that makes the openai SDK raise the matching class, and the inner
    ``error`` object it reads ``message``, ``type``, ``param`` and ``code`` from."""
    status, type_ = _WIRE_BY_KIND.get(err.kind, (500, "server_error"))
    code = err.code
    if code is None and err.kind == "billing":
        code = "insufficient_quota"
    return status, {"message": err.message, "type": type_, "param": err.param, "code": code}


# ---------------------------------------------------------------------------- parser


class StreamParser:
    """Upstream chat.completion.chunk SSE bytes -> IR events, for any split of the bytes."""

    __slots__ = (
        "_done",
        "_finish_reason",
        "_finished",
        "_last_tool",
        "_next",
        "_open_args",
        "_refused",
        "_response_id",
        "_sse",
        "_started",
        "_text",
        "_thinking",
        "_tools",
        "_usage",
    )

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._started = False
        self._done = False
        self._next = 0  # next IR block index
        self._text: int | None = None  # open Text block
        self._thinking: int | None = None  # open Thinking block
        self._tools: dict[object, tuple[int, str]] = {}  # upstream key -> (block, call id)
        self._last_tool: object = None
        # Argument text of tool blocks still open, so that a call can be closed as soon
        # as the next one starts: renderers with sequential blocks (Anthropic) or whole
        # calls (Gemini) would otherwise hold every later call until the end.
        self._open_args: dict[int, list[str]] = {}
        self._response_id = ""
        self._finish_reason: str | None = None
        self._finished = False  # a finish_reason for choice 0 was seen
        self._refused = False
        self._usage: ir.Usage | None = None

    def feed(self, data: bytes) -> list[ir.Event]:
        out: list[ir.Event] = []
        for event in self._sse.feed(data):
            if not self._done:
                self._frame(event.data, out)
        return out

    def finish(self) -> list[ir.Event]:
        out: list[ir.Event] = []
        for event in self._sse.finish():
            if not self._done:
                self._frame(event.data, out)
        if not self._done:
            if self._finished:
                self._end(out)
            else:
                self._fail(out, "the upstream stream ended before a finish_reason")
        return out

    # -- frames

    def _frame(self, data: bytes, out: list[ir.Event]) -> None:
        if not data.strip():  # keep-alive padding some proxies send
            return
        if data.startswith(b"[DONE]"):
            self._end(out)
            return
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._fail(out, "the upstream sent a stream chunk that is not JSON")
            return
        if not isinstance(chunk, dict):
            self._fail(out, "the upstream sent a stream chunk that is not an object")
            return
        if chunk.get("error"):
            out.append(ir.StreamError(error_from_object(chunk["error"], None)))
            self._done = True
            return
        try:
            self._chunk(chunk, out)
        except TranslationError as exc:
            self._fail(out, f"malformed upstream stream chunk: {exc.message}")

    def _chunk(self, chunk: dict, out: list[ir.Event]) -> None:
        if not self._started:
            self._start(chunk, out)
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            raise TranslationError("choices must be an array", param="choices")
        for choice in choices:
            if not isinstance(choice, dict):
                raise TranslationError("choices[] must be objects", param="choices")
            if choice.get("index", 0) == 0:
                self._choice(choice, out)
        usage = chunk.get("usage")
        if usage is None:
            groq = chunk.get("x_groq")  # Groq puts the final usage here
            usage = groq.get("usage") if isinstance(groq, dict) else None
        if usage is None:
            return
        self._usage = usage_from_wire(usage)
        if self._finished and not choices:
            self._end(out)
        elif not self._finished:
            out.append(ir.UsageUpdate(self._usage))

    def _start(self, chunk: dict, out: list[ir.Event]) -> None:
        id_, model, created = chunk.get("id"), chunk.get("model"), chunk.get("created")
        self._response_id = id_ if isinstance(id_, str) else ""
        out.append(
            ir.MessageStart(
                id=id_ if isinstance(id_, str) else "",
                model=model if isinstance(model, str) else "",
                created=created if type(created) is int else None,
            )
        )
        self._started = True

    def _choice(self, choice: dict, out: list[ir.Event]) -> None:
        delta = choice.get("delta")
        if delta:
            if not isinstance(delta, dict):
                raise TranslationError("choices[].delta must be an object", param="delta")
            self._delta(delta, out)
        finish_reason = choice.get("finish_reason")
        if finish_reason is not None:
            if not isinstance(finish_reason, str):
                raise TranslationError("finish_reason must be a string", param="finish_reason")
            self._finish_reason = finish_reason
            self._finished = True

    def _delta(self, delta: dict, out: list[ir.Event]) -> None:
        reasoning = delta.get("reasoning_content")
        if reasoning is None:
            reasoning = delta.get("reasoning")
        if reasoning:
            self._thinking_delta(_text(reasoning, "delta.reasoning_content"), out)
        content = delta.get("content")
        if content:
            self._text_delta(_text(content, "delta.content"), out)
        refusal = delta.get("refusal")
        if refusal is not None:
            self._refused = True
            if refusal:
                self._text_delta(_text(refusal, "delta.refusal"), out)
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            if not isinstance(tool_calls, list):
                raise TranslationError("delta.tool_calls must be an array", param="tool_calls")
            for position, call in enumerate(tool_calls):
                if not isinstance(call, dict):
                    raise TranslationError("tool_calls[] must be objects", param="tool_calls")
                self._tool_delta(call, position, out)

    # -- blocks

    def _open(self, part: ir.Text | ir.Thinking | ir.ToolCall, out: list[ir.Event]) -> int:
        """A new block closes an open Text or Thinking block, so that text and thinking
        runs arrive as separate, sequential blocks."""
        for open_block in (self._text, self._thinking):
            if open_block is not None:
                out.append(ir.BlockStop(open_block))
        self._text = self._thinking = None
        index = self._next
        self._next += 1
        out.append(ir.BlockStart(index, part))
        return index

    def _text_delta(self, text: str, out: list[ir.Event]) -> None:
        if self._text is None:
            self._text = self._open(ir.Text(""), out)
        out.append(ir.BlockDelta(self._text, "text", text))

    def _thinking_delta(self, text: str, out: list[ir.Event]) -> None:
        if self._thinking is None:
            self._thinking = self._open(ir.Thinking(origin=PROTOCOL), out)
        out.append(ir.BlockDelta(self._thinking, "thinking", text))

    def _tool_delta(self, call: dict, position: int, out: list[ir.Event]) -> None:
        call_id = call.get("id")
        key = call.get("index")
        if type(key) is not int:
            if call_id:
                key = ("id", call_id)
            else:
                key = self._last_tool if self._last_tool is not None else ("position", position)
        self._last_tool = key
        function = call.get("function") or {}
        if not isinstance(function, dict):
            raise TranslationError("tool_calls[].function must be an object", param="function")
        arguments = function.get("arguments")
        known = self._tools.get(key)
        if known is None or (call_id and call_id != known[1]):
            if known is not None and known[0] in self._open_args:
                # a server that numbers every call 0 moved on
                del self._open_args[known[0]]
                out.append(ir.BlockStop(known[0]))
            self._close_complete_calls(out)
            known = self._open_tool(call, function, out)
            self._tools[key] = known
            self._open_args[known[0]] = []
        if arguments:
            fragment = _text(arguments, "arguments")
            if known[0] in self._open_args:
                self._open_args[known[0]].append(fragment)
            out.append(ir.BlockDelta(known[0], "arguments", fragment))

    def _close_complete_calls(self, out: list[ir.Event]) -> None:
        """OpenAI streams calls one after another; a call whose arguments already parse
        is done. One that does not may still be receiving interleaved fragments."""
        for block, fragments in list(self._open_args.items()):
            try:
                orjson.loads("".join(fragments) or "{}")
            except orjson.JSONDecodeError:
                continue
            del self._open_args[block]
            out.append(ir.BlockStop(block))

    def _open_tool(self, call: dict, function: dict, out: list[ir.Event]) -> tuple[int, str]:
        call_id = call.get("id")
        if call_id:
            call_id = _text(call_id, "tool_calls[].id")
        else:
            # Servers that omit call ids: the response id keeps ours unique across turns,
            # which Anthropic requires of tool_use ids in one conversation.
            call_id = (
                f"call_{self._response_id}_{self._next}"
                if self._response_id
                else (f"call_{self._next}")
            )
        name = function.get("name")
        part = ir.ToolCall(
            id=call_id,
            name=_text(name, "function.name") if name is not None else "",
            arguments="",
            signature=google_signature(call.get("extra_content")),
        )
        return self._open(part, out), call_id

    # -- end

    def _end(self, out: list[ir.Event]) -> None:
        if not self._started:
            out.append(ir.MessageStart(id="", model=""))
            self._started = True
        open_blocks = list(self._open_args)
        open_blocks += [b for b in (self._text, self._thinking) if b is not None]
        out.extend(ir.BlockStop(index) for index in sorted(open_blocks))
        stop_reason = stop_reason_from_wire(
            self._finish_reason, has_tool_call=bool(self._tools), refused=self._refused
        )
        out.append(ir.Finish(stop_reason, self._usage, raw_stop_reason=self._finish_reason))
        self._done = True

    def _fail(self, out: list[ir.Event], message: str) -> None:
        out.append(ir.StreamError(ir.Error(kind="api_error", message=message, status=502)))
        self._done = True


def _text(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise TranslationError(f"{path} must be a string", param=path)
    return value


def google_signature(extra_content: object) -> str | None:
    """Google's OpenAI-compatibility field for a Gemini thought signature."""
    if not isinstance(extra_content, dict):
        return None
    google = extra_content.get("google")
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    return signature if isinstance(signature, str) else None


def google_extra(signature: str) -> dict:
    return {"google": {"thought_signature": signature}}


# -------------------------------------------------------------------------- renderer


def thinking_signature(signature: str, origin: ir.Protocol | None) -> str:
    """``thinking_blocks`` follows LiteLLM: Anthropic signatures go unprefixed, any other
    provider's carry their origin (docs/extensions.md)."""
    if origin in (None, "anthropic"):
        return signature
    return f"{origin}:{signature}"


class StreamRenderer:
    """IR events -> chat.completion.chunk SSE bytes for an OpenAI caller."""

    __slots__ = (
        "_ctx",
        "_done",
        "_head",
        "_kinds",
        "_same_source",
        "_thinking",
        "_tool_numbers",
        "_usage",
        "_without_args",
    )

    def __init__(self, ctx: ir.RenderContext) -> None:
        self._ctx = ctx
        self._same_source = ctx.source == PROTOCOL
        self._head: bytes | None = None  # the chunk's JSON up to "choices", without "}"
        self._kinds: dict[int, str] = {}  # IR block index -> text | thinking | tool
        self._tool_numbers: dict[int, int] = {}  # IR block index -> tool_calls[].index
        self._without_args: set[int] = set()  # tool blocks that got no argument text yet
        self._thinking: dict[int, tuple[ir.Protocol | None, list[str]]] = {}
        self._usage: ir.Usage | None = None
        self._done = False

    def render(self, events: list[ir.Event]) -> bytes:
        out: list[bytes] = []
        for event in events:
            if self._done:
                break
            if self._head is None and not isinstance(event, ir.StreamError):
                self._start(event if isinstance(event, ir.MessageStart) else None, out)
                if isinstance(event, ir.MessageStart):
                    continue
            self._event(event, out)
        return b"".join(out)

    def finish(self) -> bytes:
        """The upstream body ended without Finish or StreamError: tell the caller rather
        than end a 200 stream silently."""
        if self._done or self._head is None:
            return b""
        out: list[bytes] = []
        message = "the upstream stream ended unexpectedly"
        self._error(ir.Error(kind="api_error", message=message, status=502), out)
        return b"".join(out)

    def _start(self, start: ir.MessageStart | None, out: list[bytes]) -> None:
        ctx = self._ctx
        head = {
            "id": (start and start.id) or f"chatcmpl-{ctx.request_id}",
            "object": "chat.completion.chunk",
            "created": start.created if start and start.created is not None else ctx.created,
            "model": (start and start.model) or ctx.model,
        }
        self._head = orjson.dumps(head)[:-1]
        out.append(self._chunk({"role": "assistant", "content": ""}))

    def _chunk(self, delta: dict, finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return encode_event(self._head + b',"choices":[' + orjson.dumps(choice) + b"]}")

    def _event(self, event: ir.Event, out: list[bytes]) -> None:
        if isinstance(event, ir.BlockDelta):
            self._delta(event, out)
        elif isinstance(event, ir.BlockStart):
            self._block_start(event.index, event.part, out)
        elif isinstance(event, ir.BlockStop):
            self._block_stop(event.index, out)
        elif isinstance(event, ir.UsageUpdate):
            self._usage = event.usage
        elif isinstance(event, ir.Finish):
            self._finish(event, out)
        elif isinstance(event, ir.StreamError):
            self._error(event.error, out)

    def _block_start(
        self, index: int, part: ir.Text | ir.Thinking | ir.ToolCall, out: list[bytes]
    ) -> None:
        if isinstance(part, ir.ToolCall):
            self._kinds[index] = "tool"
            number = self._tool_numbers[index] = len(self._tool_numbers)
            call: dict = {
                "index": number,
                "id": part.id,
                "type": "function",
                "function": {"name": part.name, "arguments": part.arguments},
            }
            if part.signature:
                call["extra_content"] = google_extra(part.signature)
            if not part.arguments:
                self._without_args.add(index)
            out.append(self._chunk({"tool_calls": [call]}))
        elif isinstance(part, ir.Thinking):
            self._kinds[index] = "thinking"
            self._thinking[index] = (part.origin, [])
            if part.redacted:
                block = {"type": "redacted_thinking", "data": part.redacted}
                out.append(self._chunk({"thinking_blocks": [block]}))
            if part.text:
                self._delta(ir.BlockDelta(index, "thinking", part.text), out)
            if part.signature:
                self._delta(ir.BlockDelta(index, "signature", part.signature), out)
        else:
            self._kinds[index] = "text"
            if part.text:
                out.append(self._chunk({"content": part.text}))
            if part.signature:
                out.append(self._chunk({"extra_content": google_extra(part.signature)}))

    def _delta(self, event: ir.BlockDelta, out: list[bytes]) -> None:
        text = event.text
        if not text:
            return
        kind = event.kind
        if kind == "text":
            out.append(self._chunk({"content": text}))
        elif kind == "thinking":
            thinking = self._thinking.get(event.index)
            if thinking is not None:
                thinking[1].append(text)
            out.append(self._chunk({"reasoning_content": text}))
        elif kind == "arguments":
            number = self._tool_numbers.get(event.index)
            if number is not None:
                self._without_args.discard(event.index)
                call = {"index": number, "function": {"arguments": text}}
                out.append(self._chunk({"tool_calls": [call]}))
        else:
            self._signature(event.index, text, out)

    def _signature(self, index: int, signature: str, out: list[bytes]) -> None:
        kind = self._kinds.get(index)
        if kind == "thinking":
            origin, texts = self._thinking.get(index, (None, []))
            block = {
                "type": "thinking",
                "thinking": "".join(texts),
                "signature": thinking_signature(signature, origin),
            }
            out.append(self._chunk({"thinking_blocks": [block]}))
        elif kind == "tool":
            call = {"index": self._tool_numbers[index], "extra_content": google_extra(signature)}
            out.append(self._chunk({"tool_calls": [call]}))
        elif kind == "text":
            out.append(self._chunk({"extra_content": google_extra(signature)}))

    def _block_stop(self, index: int, out: list[bytes]) -> None:
        self._thinking.pop(index, None)
        if index in self._without_args:
            self._empty_arguments(index, out)

    def _empty_arguments(self, index: int, out: list[bytes]) -> None:
        """A call with no parameters still needs valid JSON arguments (PEER-BUGS #2)."""
        self._without_args.discard(index)
        call = {"index": self._tool_numbers[index], "function": {"arguments": "{}"}}
        out.append(self._chunk({"tool_calls": [call]}))

    def _finish(self, event: ir.Finish, out: list[bytes]) -> None:
        for index in sorted(self._without_args):
            self._empty_arguments(index, out)
        finish_reason = finish_reason_to_wire(
            event.stop_reason,
            event.raw_stop_reason,
            same_source=self._same_source,
            has_tool_call=bool(self._tool_numbers),
        )
        out.append(self._chunk({}, finish_reason))
        usage = event.usage or self._usage
        # No usage known (the upstream never sent any): no chunk rather than made-up zeros,
        # as OpenAI itself does when a stream is interrupted.
        if self._ctx.include_usage and usage is not None:
            body = orjson.dumps(usage_to_wire(usage))
            out.append(encode_event(self._head + b',"choices":[],"usage":' + body + b"}"))
        out.append(encode_event(b"[DONE]"))
        self._done = True

    def _error(self, error: ir.Error, out: list[bytes]) -> None:
        """The openai SDK raises APIError for a data payload with an ``error`` key; no
        ``[DONE]`` follows, as the stream is over."""
        out.append(encode_event(orjson.dumps({"error": error_to_object(error)[1]})))
        self._done = True
