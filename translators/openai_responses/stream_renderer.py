"""IR events -> a Responses event stream, in the grammar of RESPONSES-NOTES.md.

- ``response.created`` then ``response.in_progress`` come first, whatever event arrives
  first; the end is exactly one of ``response.completed``, ``response.incomplete``
  (``incomplete_details.reason`` ``max_output_tokens`` | ``content_filter``) or
  ``response.failed`` (``error.code`` / ``message``), never silence: a StreamError,
  including convert's for a cut-off upstream, is ``response.failed`` (bug 12).
- Output items never overlap and ``output_index`` is dense. IR blocks may overlap
  (OpenAI-compatible servers interleave tool calls), so the block that started first is
  streamed live and later ones are buffered until it ends.
- Consecutive text blocks fill one message item; any other block closes it, so text
  after thinking opens a new message (bug 1). A message is announced only when text
  arrives, so a role-only or empty first chunk swallows nothing (bugs 3 and 14).
- One reasoning item per thinking block, always with a ``summary`` array (Codex drops
  one without), the thinking text as ``summary_text``. Its provider state (signature,
  redacted data, origin) is sealed into ``encrypted_content`` when the context has a key
  (``wire.seal_state``); OpenAI's own reasoning keeps OpenAI's ``encrypted_content``.
- Gemini thought signatures on function calls and text travel in a reasoning item of
  their own (summary ``[]``), emitted before the call or after the message.
- A function call's arguments are streamed as they come; a call whose arguments arrive
  only in its opening block (bug 13) or not at all (``{}``) still gets its delta and
  ``.done``. A custom tool call is a ``custom_tool_call`` with the raw input (bug 10).
- ``sequence_number`` increases by one from 0; the SSE ``event:`` is the ``type``;
  there is no ``[DONE]``. ``output_item.done`` carries the whole item and the terminal
  ``response.output`` equals the done items. ``render_response`` uses this class, so a
  whole answer has the same items as a stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from translators import ir
from translators.openai_responses import wire
from translators.sse import encode_event

_CUT_OFF = ("max_tokens", "context_window")


@dataclass(slots=True)
class _Block:
    """An IR block: what it is, what arrived while it waited, and whether it ended."""

    part: ir.Text | ir.Thinking | ir.ToolCall
    chunks: list[str] = field(default_factory=list)
    signature: str | None = None
    stopped: bool = False


@dataclass(slots=True)
class _Item:
    """The output item being streamed."""

    index: int
    id: str
    kind: str  # message | reasoning | call
    text: list[str] = field(default_factory=list)  # the open part's text, or arguments
    parts: list[dict] = field(default_factory=list)  # closed content / summary parts
    part_open: bool = False
    call: ir.ToolCall | None = None


def skeleton(response_id: str, model: str, created: int) -> dict:
    """The response object as every lifecycle event carries it."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
    }


class StreamRenderer:
    """IR events -> Responses SSE bytes for a Responses caller."""

    __slots__ = (
        "_blocks",
        "_ctx",
        "_item",
        "_live",
        "_out",
        "_queue",
        "_seq",
        "_state",
        "_usage",
        "done",
        "output",
        "response",
    )

    def __init__(self, ctx: ir.RenderContext) -> None:
        self._ctx = ctx
        self._seq = 0
        self._out: list[bytes] = []
        self._blocks: dict[int, _Block] = {}
        self._queue: list[int] = []  # started blocks, in order, not yet streamed
        self._live: int | None = None  # the block streaming into the open item
        self._item: _Item | None = None
        self._state: dict = {}  # Gemini signatures waiting for a reasoning item
        self._usage: ir.Usage | None = None
        self.response: dict | None = None  # the response object; final after the end
        self.output: list[dict] = []  # the done items
        self.done = False

    # -- public

    def render(self, events: list[ir.Event]) -> bytes:
        for event in events:
            if self.done:
                break
            self._event(event)
        out, self._out = b"".join(self._out), []
        return out

    def finish(self) -> bytes:
        """The upstream body ended without Finish or StreamError: fail, never go silent."""
        if self.done:
            return b""
        message = "the upstream stream ended unexpectedly"
        return self.render([ir.StreamError(ir.Error("api_error", message, 502))])

    # -- events

    def _event(self, event: ir.Event) -> None:
        if self.response is None:
            self._start(event if isinstance(event, ir.MessageStart) else None)
        if isinstance(event, ir.BlockDelta):
            self._delta(event)
        elif isinstance(event, ir.BlockStart):
            self._blocks[event.index] = _Block(event.part)
            self._queue.append(event.index)
            self._advance()
        elif isinstance(event, ir.BlockStop):
            self._stop(event.index)
        elif isinstance(event, ir.UsageUpdate):
            self._usage = event.usage
        elif isinstance(event, ir.Finish):
            self._finish(event)
        elif isinstance(event, ir.StreamError):
            self._fail(event.error)

    def _emit(self, kind: str, payload: dict) -> None:
        payload = {"type": kind, "sequence_number": self._seq, **payload}
        self._seq += 1
        self._out.append(encode_event(orjson.dumps(payload), kind))

    def _start(self, start: ir.MessageStart | None) -> None:
        ctx = self._ctx
        same = ctx.source == wire.PROTOCOL and start is not None and start.id
        response_id = start.id if same and start is not None else wire.response_id(ctx.request_id)
        model = (start.model if start is not None else "") or ctx.model
        created = start.created if start is not None and start.created is not None else ctx.created
        self.response = skeleton(response_id, model, created)
        self.response.update((k, v) for k, v in ctx.echo.items() if k in self.response)
        if start is not None and start.usage is not None:
            self._usage = start.usage
        self._emit("response.created", {"response": dict(self.response)})
        self._emit("response.in_progress", {"response": dict(self.response)})

    # -- blocks

    def _delta(self, event: ir.BlockDelta) -> None:
        block = self._blocks.get(event.index)
        if block is None:
            return
        if event.kind == "signature":
            block.signature = event.text
        elif event.index == self._live:
            self._stream(block, event.text)
        else:
            block.chunks.append(event.text)

    def _stop(self, index: int) -> None:
        block = self._blocks.get(index)
        if block is None or block.stopped:
            return
        block.stopped = True
        if index == self._live:
            self._end(block)
            self._live = None
            self._advance()

    def _advance(self) -> None:
        """Stream waiting blocks in order: each goes live, gets what it buffered, and if
        it has already ended, ends, letting the next one go live."""
        while self._live is None and self._queue:
            index = self._queue.pop(0)
            block = self._blocks[index]
            self._live = index
            self._go_live(block)
            for chunk in block.chunks:
                self._stream(block, chunk)
            block.chunks.clear()
            if block.stopped:
                self._end(block)
                self._live = None

    def _go_live(self, block: _Block) -> None:
        part = block.part
        if isinstance(part, ir.Text):
            if self._item is not None and self._item.kind != "message":
                self._close()
            if part.signature:
                block.signature = part.signature
            self._stream(block, part.text)
        elif isinstance(part, ir.Thinking):
            self._close()
            self._open("reasoning", "rs", {"summary": []})
            if part.signature:
                block.signature = part.signature
            self._stream(block, part.text)
        else:
            self._close()
            if part.signature:
                self._state.setdefault(wire.STATE_CALLS, {})[part.id] = part.signature
            self._flush_state()
            self._open_call(part)
            self._stream(block, part.arguments)

    def _stream(self, block: _Block, text: str) -> None:
        if not text:
            return
        part = block.part
        if isinstance(part, ir.Text):
            item = self._item
            if item is None or item.kind != "message":
                item = self._open("message", "msg", {"content": []})
            if not item.part_open:
                item.part_open = True
                self._emit_item(
                    "response.content_part.added",
                    {"content_index": len(item.parts)},
                    part=wire.output_text(""),
                )
            item.text.append(text)
            self._emit_item(
                "response.output_text.delta",
                {"content_index": len(item.parts), "delta": text, "logprobs": []},
            )
        elif isinstance(part, ir.Thinking):
            item = self._item
            assert item is not None
            if not item.part_open:
                item.part_open = True
                self._emit_item(
                    "response.reasoning_summary_part.added",
                    {"summary_index": 0},
                    part={"type": "summary_text", "text": ""},
                )
            item.text.append(text)
            self._emit_item(
                "response.reasoning_summary_text.delta", {"summary_index": 0, "delta": text}
            )
        else:
            assert self._item is not None
            self._item.text.append(text)
            kind = "custom_tool_call_input" if part.kind == "custom" else "function_call_arguments"
            self._emit_item(f"response.{kind}.delta", {"delta": text})

    def _end(self, block: _Block, status: str = "completed") -> None:
        part = block.part
        item = self._item
        if isinstance(part, ir.Text):
            if block.signature:
                self._state[wire.STATE_TEXT] = block.signature
            return  # the message stays open for the text blocks that follow
        if item is None:
            return
        if isinstance(part, ir.Thinking):
            self._close_reasoning(item, part, block.signature)
        else:
            if block.signature:
                self._state.setdefault(wire.STATE_CALLS, {})[part.id] = block.signature
            self._close_call(item, status)
        self._item = None

    # -- items

    def _open(self, kind: str, prefix: str, body: dict) -> _Item:
        index = len(self.output)
        item = _Item(index, wire.item_id(prefix, self._ctx.request_id, index), kind)
        self._item = item
        shell = {"id": item.id, "type": kind}
        if kind == "message":
            shell.update(status="in_progress", role="assistant")
        shell.update(body)
        self._emit("response.output_item.added", {"output_index": index, "item": shell})
        return item

    def _open_call(self, call: ir.ToolCall) -> None:
        index = len(self.output)
        item_id = wire.item_id(wire.call_prefix(call), self._ctx.request_id, index)
        self._item = _Item(index, item_id, "call", call=call)
        shell = wire.call_item(item_id, call, "", "in_progress")
        self._emit("response.output_item.added", {"output_index": index, "item": shell})

    def _emit_item(self, kind: str, payload: dict, **more: object) -> None:
        item = self._item
        assert item is not None
        base = {"item_id": item.id, "output_index": item.index}
        self._emit(kind, {**base, **payload, **more})

    def _close(self, status: str = "completed") -> None:
        """Close the open message item (other items close with their block)."""
        item = self._item
        if item is None or item.kind != "message":
            return
        self._close_part(item)
        done = wire.message_item(item.id, item.parts, status)
        self._done_item(item, done)
        self._item = None
        if self._state:
            self._flush_state()

    def _close_part(self, item: _Item) -> None:
        if not item.part_open:
            return
        text = "".join(item.text)
        index = len(item.parts)
        if item.kind == "message":
            self._emit_item(
                "response.output_text.done", {"content_index": index, "text": text, "logprobs": []}
            )
            part = wire.output_text(text)
            self._emit_item("response.content_part.done", {"content_index": index, "part": part})
        else:
            self._emit_item(
                "response.reasoning_summary_text.done", {"summary_index": 0, "text": text}
            )
            part = {"type": "summary_text", "text": text}
            self._emit_item(
                "response.reasoning_summary_part.done", {"summary_index": 0, "part": part}
            )
        item.parts.append(part)
        item.part_open = False
        item.text = []

    def _close_reasoning(self, item: _Item, part: ir.Thinking, signature: str | None) -> None:
        text = "".join(item.text)
        self._close_part(item)
        if part.origin == wire.PROTOCOL:
            encrypted = signature  # OpenAI's own encrypted_content, back as it came
        else:
            thought = ir.Thinking(text, signature, part.redacted, part.origin)
            state = {wire.STATE_THINKING: [wire.thinking_state(thought)]}
            encrypted = wire.seal_state(self._ctx, state) if wire.carries_state(thought) else None
        summary = [p["text"] for p in item.parts]
        self._done_item(item, wire.reasoning_item(item.id, summary, encrypted))

    def _close_call(self, item: _Item, status: str) -> None:
        call = item.call
        assert call is not None
        if not item.text and call.kind != "custom":
            item.text.append("{}")  # no arguments at all: an empty object, not ""
            self._emit_item("response.function_call_arguments.delta", {"delta": "{}"})
        arguments = "".join(item.text)
        if call.kind == "custom":
            self._emit_item("response.custom_tool_call_input.done", {"input": arguments})
        else:
            done = {"arguments": arguments, "name": call.name}
            self._emit_item("response.function_call_arguments.done", done)
        self._done_item(item, wire.call_item(item.id, call, arguments, status))

    def _done_item(self, item: _Item, done: dict) -> None:
        self._emit("response.output_item.done", {"output_index": item.index, "item": done})
        self.output.append(done)

    def _flush_state(self) -> None:
        """Gemini signatures of calls and text, in a reasoning item of their own."""
        state, self._state = self._state, {}
        encrypted = wire.seal_state(self._ctx, state)
        if encrypted is None:
            return
        item = self._open("reasoning", "rs", {"summary": []})
        self._done_item(item, wire.reasoning_item(item.id, [], encrypted))
        self._item = None

    # -- the end

    def _finish(self, event: ir.Finish) -> None:
        cut = event.stop_reason in _CUT_OFF
        status = "incomplete" if cut else "completed"
        while self._live is not None or self._queue:
            if self._live is not None:
                block = self._blocks[self._live]
                block.stopped = True
                self._end(block, status)
                self._live = None
            self._advance()
        self._close(status)
        self._flush_state()
        usage = event.usage or self._usage
        state, incomplete = wire.render_stop(event.stop_reason)
        kind = "response.completed" if state == "completed" else "response.incomplete"
        self._terminal(kind, state, usage, incomplete_details=incomplete)

    def _fail(self, error: ir.Error) -> None:
        self._terminal("response.failed", "failed", self._usage, error=wire.failed_error(error))

    def _terminal(self, kind: str, status: str, usage: ir.Usage | None, **fields: object) -> None:
        assert self.response is not None
        response = dict(self.response)
        response.update(status=status, output=list(self.output), **fields)
        response["usage"] = wire.render_usage(usage) if usage is not None else None
        self.response = response
        self._emit(kind, {"response": response})
        self.done = True
