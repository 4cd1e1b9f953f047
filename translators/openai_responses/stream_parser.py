"""A Responses event stream from an ``api: responses`` upstream -> IR events.

- ``response.created`` is the MessageStart; ``response.in_progress``, ``response.queued``,
  keep-alive comments, ``[DONE]`` and event types this parser does not know are ignored.
- Each ``output_text`` or ``refusal`` content part is a Text block; each reasoning item
  a Thinking block (origin ``openai_responses``; summary parts joined by a blank line,
  raw ``reasoning_text`` deltas too) whose ``encrypted_content`` from
  ``output_item.done`` is its signature; each ``function_call`` / ``custom_tool_call``
  a ToolCall block (namespace and kind kept). Items of hosted tools (``web_search_call``
  ...) have no IR stream form and are skipped.
- Text, arguments or input that arrive only in a ``.done`` event (no deltas) are still
  emitted, as the part of the final value the deltas did not carry.
- ``response.completed`` / ``response.incomplete`` end with Finish (stop reason from
  ``status`` and ``incomplete_details``, tool_use when a call was made, content_filter
  for a refusal) and the usage; ``error`` and ``response.failed`` end with StreamError.
  A body that ends without any of them yields nothing more: ``convert`` turns that
  into the caller's truncation error.
"""

from __future__ import annotations

import orjson

from translators import ir
from translators.errors import TranslationError
from translators.openai_responses import wire
from translators.sse import SSEDecoder

_TEXT_DELTAS = {"response.output_text.delta", "response.refusal.delta"}
_TEXT_DONES = {"response.output_text.done": "text", "response.refusal.done": "refusal"}
_CALL_DELTAS = {"response.function_call_arguments.delta", "response.custom_tool_call_input.delta"}
_CALL_DONES = {
    "response.function_call_arguments.done": "arguments",
    "response.custom_tool_call_input.done": "input",
}
_THINKING_DELTAS = {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}


class StreamParser:
    """Responses SSE bytes in any split -> IR events."""

    __slots__ = ("_called", "_done", "_items", "_next", "_refused", "_sent", "_sse", "_texts")

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._done = False
        self._next = 0  # next IR block index
        self._items: dict[int, int] = {}  # output_index -> open IR block (reasoning, call)
        self._texts: dict[tuple[int, int], int] = {}  # (output_index, content_index) -> block
        self._sent: dict[int, int] = {}  # block -> characters already emitted
        self._called = False
        self._refused = False

    def feed(self, chunk: bytes) -> list[ir.Event]:
        out: list[ir.Event] = []
        for event in self._sse.feed(chunk):
            if not self._done:
                self._frame(event.data, out)
        return out

    def finish(self) -> list[ir.Event]:
        out: list[ir.Event] = []
        for event in self._sse.finish():
            if not self._done:
                self._frame(event.data, out)
        return out

    def _frame(self, data: bytes, out: list[ir.Event]) -> None:
        if not data.strip() or data.strip() == b"[DONE]":
            return
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._fail(out, "the upstream sent a stream event that is not JSON")
            return
        if not isinstance(payload, dict):
            self._fail(out, "the upstream sent a stream event that is not an object")
            return
        try:
            self._event(payload, out)
        except (TranslationError, KeyError, TypeError, ValueError) as exc:
            detail = exc.message if isinstance(exc, TranslationError) else repr(exc)
            self._fail(out, f"malformed upstream stream event: {detail}")

    def _event(self, payload: dict, out: list[ir.Event]) -> None:
        kind = payload.get("type")
        if kind == "response.created":
            response = payload.get("response") or {}
            created = response.get("created_at")
            out.append(
                ir.MessageStart(
                    id=_str(response.get("id")),
                    model=_str(response.get("model")),
                    created=int(created) if isinstance(created, int | float) else None,
                )
            )
        elif kind == "response.output_item.added":
            self._item_added(payload["output_index"], payload["item"], out)
        elif kind == "response.content_part.added":
            key = (payload["output_index"], payload["content_index"])
            if key not in self._texts and _str(payload["part"].get("type")) != "reasoning_text":
                self._texts[key] = self._open(ir.Text(""), out)
        elif kind in _TEXT_DELTAS:
            self._refused = self._refused or kind == "response.refusal.delta"
            block = self._texts.get((payload["output_index"], payload["content_index"]))
            self._emit(block, "text", _str(payload.get("delta")), out)
        elif kind in _TEXT_DONES:
            self._refused = self._refused or kind == "response.refusal.done"
            block = self._texts.get((payload["output_index"], payload["content_index"]))
            self._rest(block, "text", _str(payload.get(_TEXT_DONES[kind])), out)
        elif kind == "response.content_part.done":
            block = self._texts.pop((payload["output_index"], payload["content_index"]), None)
            if block is not None:
                out.append(ir.BlockStop(block))
        elif kind == "response.reasoning_summary_part.added":
            block = self._items.get(payload["output_index"])
            if block is not None and payload.get("summary_index", 0) > 0:
                self._emit(block, "thinking", "\n\n", out)
        elif kind in _THINKING_DELTAS:
            self._emit(
                self._items.get(payload["output_index"]),
                "thinking",
                _str(payload.get("delta")),
                out,
            )
        elif kind in _CALL_DELTAS:
            self._emit(
                self._items.get(payload["output_index"]),
                "arguments",
                _str(payload.get("delta")),
                out,
            )
        elif kind in _CALL_DONES:
            block = self._items.get(payload["output_index"])
            self._rest(block, "arguments", _str(payload.get(_CALL_DONES[kind])), out)
        elif kind == "response.output_item.done":
            self._item_done(payload["output_index"], payload["item"], out)
        elif kind in ("response.completed", "response.incomplete"):
            self._end(payload.get("response") or {}, out)
        elif kind == "response.failed":
            out.append(ir.StreamError(wire.error_from_failed(payload.get("response") or {})))
            self._done = True
        elif kind == "error":
            error = payload.get("error")
            out.append(
                ir.StreamError(
                    wire.error_from_object(error if isinstance(error, dict) else payload, None)
                )
            )
            self._done = True

    # -- blocks

    def _open(self, part: ir.Text | ir.Thinking | ir.ToolCall, out: list[ir.Event]) -> int:
        index = self._next
        self._next += 1
        self._sent[index] = 0
        out.append(ir.BlockStart(index, part))
        return index

    def _emit(self, block: int | None, kind: str, text: str, out: list[ir.Event]) -> None:
        if block is None or not text:
            return
        self._sent[block] += len(text)
        out.append(ir.BlockDelta(block, kind, text))  # type: ignore[arg-type]

    def _rest(self, block: int | None, kind: str, final: str, out: list[ir.Event]) -> None:
        """What a ``.done`` value holds beyond the deltas (all of it when none came)."""
        if block is not None and len(final) > self._sent[block]:
            self._emit(block, kind, final[self._sent[block] :], out)

    def _item_added(self, index: int, item: dict, out: list[ir.Event]) -> None:
        kind = item.get("type")
        if kind == "reasoning":
            self._items[index] = self._open(ir.Thinking(origin=wire.PROTOCOL), out)
        elif kind in ("function_call", "custom_tool_call"):
            custom = kind == "custom_tool_call"
            call = ir.ToolCall(
                id=_str(item.get("call_id")),
                name=_str(item.get("name")),
                arguments="",
                namespace=item.get("namespace") if isinstance(item.get("namespace"), str) else None,
                kind="custom" if custom else "function",
            )
            self._called = True
            block = self._items[index] = self._open(call, out)
            self._emit(block, "arguments", _str(item.get("input" if custom else "arguments")), out)

    def _item_done(self, index: int, item: dict, out: list[ir.Event]) -> None:
        block = self._items.pop(index, None)
        for key in [k for k in self._texts if k[0] == index]:
            out.append(ir.BlockStop(self._texts.pop(key)))
        if block is None:
            return
        kind = item.get("type")
        if kind == "reasoning":
            if self._sent[block] == 0:
                texts = [
                    _str(p.get("text")) for p in item.get("summary") or [] if isinstance(p, dict)
                ]
                self._emit(block, "thinking", "\n\n".join(texts), out)
            encrypted = item.get("encrypted_content")
            if isinstance(encrypted, str) and encrypted:
                out.append(ir.BlockDelta(block, "signature", encrypted))
        elif kind in ("function_call", "custom_tool_call"):
            field = "input" if kind == "custom_tool_call" else "arguments"
            self._rest(block, "arguments", _str(item.get(field)), out)
        out.append(ir.BlockStop(block))

    def _end(self, response: dict, out: list[ir.Event]) -> None:
        for block in sorted([*self._items.values(), *self._texts.values()]):
            out.append(ir.BlockStop(block))
        self._items.clear()
        self._texts.clear()
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        status = _str(response.get("status")) or None
        stop = wire.parse_stop(
            status, reason if isinstance(reason, str) else None, called=self._called
        )
        if self._refused and stop == "end_turn":
            stop = "content_filter"
        usage = response.get("usage")
        parsed = wire.parse_usage(usage) if isinstance(usage, dict) else None
        out.append(ir.Finish(stop, parsed, raw_stop_reason=status))
        self._done = True

    def _fail(self, out: list[ir.Event], message: str) -> None:
        out.append(ir.StreamError(ir.Error(kind="api_error", message=message, status=502)))
        self._done = True


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""
