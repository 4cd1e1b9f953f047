"""Streams: ``StreamParser`` (upstream ``chat.completion.chunk`` SSE -> IR events) and
``StreamRenderer`` (IR events -> the caller's chunks). The rules are in
docs/conversion.md (§5 "Streaming"); the docstrings here say why the code does it.
"""

from __future__ import annotations

import orjson

from translators import extensions, fields, ir
from translators.errors import TranslationError
from translators.openai_chat import wire
from translators.openai_chat.messages import render_tool_call
from translators.openai_chat.wire import PROTOCOL
from translators.sse import SSEDecoder, encode_event

# ------------------------------------------------------------------------------ parser


class StreamParser:
    """Upstream chat.completion.chunk SSE bytes -> IR events, for any split of the bytes.

    Framing is data-only SSE ending with ``data: [DONE]``; ``usage`` may be absent or
    null on ordinary chunks, and ``obfuscation`` padding is ignored. Only choice 0 is
    streamed into the IR (which streams one choice); per-token ``logprobs`` are not
    carried. ``finish_reason`` is remembered and Finish emitted with the final usage, so
    a body that ends before any finish_reason is a StreamError, never a silent
    truncation.
    """

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
        """The body ended: after a finish_reason (without ``[DONE]``) that is the end;
        before one, the stream was cut off."""
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
            out.append(ir.StreamError(wire.parse_error(chunk["error"], None)))
            self._done = True
            return
        try:
            self._chunk(chunk, out)
        except TranslationError as exc:
            self._fail(out, f"malformed upstream stream chunk: {exc.message}")

    def _chunk(self, chunk: dict, out: list[ir.Event]) -> None:
        """Finish goes out with the usage chunk (``choices: []``) when one follows the
        finish_reason; usage seen before it is an update."""
        if not self._started:
            self._start(chunk, out)
        choices = fields.arr(chunk.get("choices") or [], "choices")
        for i, choice in enumerate(choices):
            at = fields.child("choices", i)
            choice = fields.obj(choice, at)
            if choice.get("index", 0) == 0:
                self._choice(choice, at, out)
        at = "usage"
        usage = chunk.get("usage")
        if usage is None:
            groq = chunk.get("x_groq")  # Groq puts the final usage here
            usage = groq.get("usage") if isinstance(groq, dict) else None
            at = "x_groq.usage"
        if usage is None:
            return
        self._usage = wire.parse_usage(usage, at)
        if self._finished and not choices:
            self._end(out)
        elif not self._finished:
            out.append(ir.UsageUpdate(self._usage))

    def _start(self, chunk: dict, out: list[ir.Event]) -> None:
        id_, model = chunk.get("id"), chunk.get("model")
        self._response_id = id_ if isinstance(id_, str) else ""
        out.append(
            ir.MessageStart(
                id=self._response_id,
                model=model if isinstance(model, str) else "",
                created=wire.parse_created(chunk.get("created")),
            )
        )
        self._started = True

    def _choice(self, choice: dict, at: str, out: list[ir.Event]) -> None:
        delta = choice.get("delta")
        if delta:
            delta_at = fields.child(at, "delta")
            self._delta(fields.obj(delta, delta_at), delta_at, out)
        finish_reason = fields.get(choice, "finish_reason", fields.string, at)
        if finish_reason is not None:
            self._finish_reason = finish_reason
            self._finished = True

    def _delta(self, delta: dict, at: str, out: list[ir.Event]) -> None:
        """``reasoning_content`` (DeepSeek, vLLM) and ``reasoning`` (OpenRouter, Ollama)
        become one Thinking block; ``content`` and ``refusal`` one Text block."""
        key = "reasoning_content" if delta.get("reasoning_content") is not None else "reasoning"
        reasoning = delta.get(key)
        if reasoning:
            self._thinking_delta(fields.string(reasoning, fields.child(at, key)), out)
        content = delta.get("content")
        if content:
            self._text_delta(fields.string(content, fields.child(at, "content")), out)
        refusal = delta.get("refusal")
        if refusal is not None:
            self._refused = True
            if refusal:
                self._text_delta(fields.string(refusal, fields.child(at, "refusal")), out)
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            calls_at = fields.child(at, "tool_calls")
            for position, call in enumerate(fields.arr(tool_calls, calls_at)):
                call_at = fields.child(calls_at, position)
                self._tool_delta(fields.obj(call, call_at), position, call_at, out)

    # -- blocks

    def _open(self, part: ir.Text | ir.Thinking | ir.ToolCall, out: list[ir.Event]) -> int:
        """A new block closes an open Text or Thinking block, so that text and thinking
        runs arrive as separate, sequential blocks. Tool-call blocks stay open: servers
        may interleave calls (``_close_complete_calls`` closes the finished ones)."""
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

    def _tool_delta(self, call: dict, position: int, at: str, out: list[ir.Event]) -> None:
        """Calls are keyed by ``tool_calls[].index``; servers that omit the index are keyed
        by the call ``id`` instead, and a new ``id`` under a known index starts a new call
        (servers that number every call 0). Argument text is forwarded as it arrives."""
        call_id = call.get("id")
        if call_id:
            call_id = fields.string(call_id, fields.child(at, "id"))
        key = call.get("index")
        if type(key) is not int:
            if call_id:
                key = ("id", call_id)
            else:
                key = self._last_tool if self._last_tool is not None else ("position", position)
        self._last_tool = key
        function_at = fields.child(at, "function")
        function = fields.obj(call.get("function") or {}, function_at)
        arguments = function.get("arguments")
        known = self._tools.get(key)
        if known is None or (call_id and call_id != known[1]):
            if known is not None and known[0] in self._open_args:
                # a server that numbers every call 0 moved on
                del self._open_args[known[0]]
                out.append(ir.BlockStop(known[0]))
            self._close_complete_calls(out)
            known = self._open_tool(call, call_id or None, function, function_at, out)
            self._tools[key] = known
            self._open_args[known[0]] = []
        if arguments:
            fragment = fields.string(arguments, fields.child(function_at, "arguments"))
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

    def _open_tool(
        self,
        call: dict,
        call_id: str | None,
        function: dict,
        function_at: str,
        out: list[ir.Event],
    ) -> tuple[int, str]:
        if call_id is None:
            # Servers that omit call ids: the response id keeps ours unique across turns,
            # which Anthropic requires of tool_use ids in one conversation.
            prefix = f"call_{self._response_id}_" if self._response_id else "call_"
            call_id = f"{prefix}{self._next}"
        name = fields.get(function, "name", fields.string, function_at)
        part = ir.ToolCall(
            id=call_id,
            name=name if name is not None else "",
            arguments="",
            signature=extensions.parse_google_extra(call.get("extra_content")),
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
        stop_reason = wire.parse_stop(
            self._finish_reason, has_tool_call=bool(self._tools), refused=self._refused
        )
        out.append(ir.Finish(stop_reason, self._usage, raw_stop_reason=self._finish_reason))
        self._done = True

    def _fail(self, out: list[ir.Event], message: str) -> None:
        out.append(ir.StreamError(ir.Error(kind="api_error", message=message, status=502)))
        self._done = True


# ---------------------------------------------------------------------------- renderer


class StreamRenderer:
    """IR events -> chat.completion.chunk SSE bytes for an OpenAI caller, in the shape
    of OpenAI's own streams: a first ``{"role":"assistant","content":""}`` delta, one
    delta per event, tool calls numbered in the order of their blocks with id, type and
    name on the first delta of each call only, an empty-delta chunk with
    ``finish_reason``, the ``choices: []`` usage chunk when the caller asked for
    ``include_usage``, and ``data: [DONE]``. Provider state goes where docs/extensions.md
    says: thinking signatures as ``thinking_blocks`` deltas, Gemini signatures on calls
    and text as ``extra_content``."""

    __slots__ = (
        "_ctx",
        "_done",
        "_head",
        "_kinds",
        "_same_protocol",
        "_thinking",
        "_tool_numbers",
        "_usage",
        "_without_args",
    )

    def __init__(self, ctx: ir.RenderContext) -> None:
        self._ctx = ctx
        self._same_protocol = ctx.source == PROTOCOL
        self._head = b""  # the chunk's JSON up to "choices", without "}"; set at the start
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
            if not self._head and not isinstance(event, ir.StreamError):
                self._start(event if isinstance(event, ir.MessageStart) else None, out)
                if isinstance(event, ir.MessageStart):
                    continue
            self._event(event, out)
        return b"".join(out)

    def finish(self) -> bytes:
        """The upstream body ended without Finish or StreamError: tell the caller rather
        than end a 200 stream silently."""
        if self._done or not self._head:
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
            call = {"index": number, **render_tool_call(part, signature=True)}
            if not part.arguments:
                self._without_args.add(index)
            out.append(self._chunk({"tool_calls": [call]}))
        elif isinstance(part, ir.Thinking):
            self._kinds[index] = "thinking"
            self._thinking[index] = (part.origin, [])
            if part.redacted:
                block = wire.render_thinking_block(part)
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
                out.append(
                    self._chunk({"extra_content": extensions.render_google_extra(part.signature)})
                )

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
        """A thinking signature goes out as a ``thinking_blocks`` delta holding the whole
        block, so the caller can send it back."""
        kind = self._kinds.get(index)
        if kind == "thinking":
            origin, texts = self._thinking.get(index, (None, []))
            thinking = ir.Thinking("".join(texts), signature=signature, origin=origin)
            out.append(self._chunk({"thinking_blocks": [wire.render_thinking_block(thinking)]}))
        elif kind == "tool":
            extra_content = extensions.render_google_extra(signature)
            call = {"index": self._tool_numbers[index], "extra_content": extra_content}
            out.append(self._chunk({"tool_calls": [call]}))
        elif kind == "text":
            out.append(self._chunk({"extra_content": extensions.render_google_extra(signature)}))

    def _block_stop(self, index: int, out: list[bytes]) -> None:
        self._thinking.pop(index, None)
        if index in self._without_args:
            self._empty_arguments(index, out)

    def _empty_arguments(self, index: int, out: list[bytes]) -> None:
        """A call with no parameters still needs valid JSON arguments: SDKs parse them
        (test_renderer_gives_calls_without_argument_text_empty_arguments)."""
        self._without_args.discard(index)
        call = {"index": self._tool_numbers[index], "function": {"arguments": "{}"}}
        out.append(self._chunk({"tool_calls": [call]}))

    def _finish(self, event: ir.Finish, out: list[bytes]) -> None:
        for index in sorted(self._without_args):
            self._empty_arguments(index, out)
        finish_reason = wire.render_stop(
            event.stop_reason,
            event.raw_stop_reason,
            same_protocol=self._same_protocol,
            has_tool_call=bool(self._tool_numbers),
        )
        out.append(self._chunk({}, finish_reason))
        usage = event.usage or self._usage
        # No usage known (the upstream never sent any): no chunk rather than made-up zeros,
        # as OpenAI itself does when a stream is interrupted.
        if self._ctx.include_usage and usage is not None:
            body = orjson.dumps(wire.render_usage(usage))
            out.append(encode_event(self._head + b',"choices":[],"usage":' + body + b"}"))
        out.append(encode_event(b"[DONE]"))
        self._done = True

    def _error(self, error: ir.Error, out: list[bytes]) -> None:
        """The openai SDK raises APIError for a data payload with an ``error`` key; no
        ``[DONE]`` follows, as the stream is over."""
        out.append(encode_event(orjson.dumps({"error": wire.render_error(error)})))
        self._done = True
