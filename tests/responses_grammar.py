"""Strict validator for a streamed OpenAI Responses answer produced by the gateway.

When the gateway translates another provider's stream into the Responses format, the
clients on the other end (the openai SDK's ``ResponseStreamState``, the Node accumulator,
Codex) are unforgiving: an item announced late, two items sharing an ``output_index``, a
delta that lands in the wrong item or a ``response.completed`` whose ``output`` disagrees
with what was streamed either crashes them or silently loses content.  Tests therefore
run every translated stream through :func:`validate_sse`, which raises
:class:`GrammarError` at the first event that breaks one of these rules:

1. event types: the SSE ``event:`` name equals the payload ``type`` and every type is one
   of the installed SDK's own ``ResponseStreamEvent`` types;
2. SDK model: each payload validates against the SDK's pydantic model for its type
   (required fields, field types, enums), bar the few documented wire deviations of the
   real API in :data:`WIRE_DEVIATIONS`;
3. sequence_number: present on every event and strictly increasing;
4. lifecycle: ``response.created`` first, optionally ``response.in_progress`` next, and one
   terminal event (``response.completed`` | ``response.incomplete`` | ``response.failed``)
   or an ``error`` event, with nothing after it but, after ``error``, one
   ``response.failed`` (the live API sends that pair);
5. items: one item at a time, dense ``output_index``, properly nested parts, ``.done``
   values equal to their deltas, done items consistent with what was streamed;
6. final response: the terminal ``response.output`` equals the done items, its ``id`` is
   the created one, and ``usage`` adds up.

:func:`replay_with_sdk` is a second, independent check: it feeds the raw bytes through the
installed SDK's own SSE decoder and stream accumulator.
"""

from __future__ import annotations

import functools
import importlib
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import openai
import openai.types.responses as sdk_types
import orjson
import pydantic
from openai.types.responses import ResponseStreamEvent

Event = tuple[str | None, dict[str, Any]]

RULE_TYPES = "rule 1: event types"
RULE_MODEL = "rule 2: SDK model"
RULE_SEQUENCE = "rule 3: sequence_number"
RULE_LIFECYCLE = "rule 4: lifecycle"
RULE_ITEMS = "rule 5: items"
RULE_FINAL = "rule 6: final response"
FRAMING = "SSE framing"


class GrammarError(AssertionError):
    """A streamed Responses answer broke the grammar; the message names where and which rule.

    It subclasses ``AssertionError`` so pytest shows it as a plain test failure.
    """


class SdkReplayError(AssertionError):
    """The installed openai SDK's own decoder or accumulator rejected the stream."""


# Used only if the SDK's ``ResponseStreamEvent`` alias cannot be introspected (its shape is
# generated code and may change): the event types of openai 2.54.
_FALLBACK_EVENT_TYPES = (
    "error",
    "response.audio.delta",
    "response.audio.done",
    "response.audio.transcript.delta",
    "response.audio.transcript.done",
    "response.code_interpreter_call.completed",
    "response.code_interpreter_call.in_progress",
    "response.code_interpreter_call.interpreting",
    "response.code_interpreter_call_code.delta",
    "response.code_interpreter_call_code.done",
    "response.completed",
    "response.content_part.added",
    "response.content_part.done",
    "response.created",
    "response.custom_tool_call_input.delta",
    "response.custom_tool_call_input.done",
    "response.failed",
    "response.file_search_call.completed",
    "response.file_search_call.in_progress",
    "response.file_search_call.searching",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.image_generation_call.completed",
    "response.image_generation_call.generating",
    "response.image_generation_call.in_progress",
    "response.image_generation_call.partial_image",
    "response.in_progress",
    "response.incomplete",
    "response.mcp_call.completed",
    "response.mcp_call.failed",
    "response.mcp_call.in_progress",
    "response.mcp_call_arguments.delta",
    "response.mcp_call_arguments.done",
    "response.mcp_list_tools.completed",
    "response.mcp_list_tools.failed",
    "response.mcp_list_tools.in_progress",
    "response.output_item.added",
    "response.output_item.done",
    "response.output_text.annotation.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.queued",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
    "response.refusal.delta",
    "response.refusal.done",
    "response.web_search_call.completed",
    "response.web_search_call.in_progress",
    "response.web_search_call.searching",
)


def _type_literal(model: object) -> str | None:
    """The single ``Literal`` value of a pydantic model's ``type`` field, if it has one."""
    fields = getattr(model, "model_fields", None)
    if not isinstance(fields, dict) or "type" not in fields:
        return None
    values = typing.get_args(fields["type"].annotation)
    return values[0] if len(values) == 1 and isinstance(values[0], str) else None


def event_models(stream_event_alias: object) -> dict[str, type[pydantic.BaseModel]]:
    """Map every event ``type`` to its SDK model, read off the SDK's ``ResponseStreamEvent``.

    Deriving the set from the installed SDK keeps the validator in step with it: a new SDK
    release brings its new event types along. Should the generated alias ever change shape,
    the models for the hard-coded openai 2.54 list are looked up in the types module.
    """
    union = stream_event_alias
    if typing.get_origin(union) is typing.Annotated:
        union = typing.get_args(union)[0]
    models = {}
    for member in typing.get_args(union):
        literal = _type_literal(member)
        if literal is not None and isinstance(member, type):
            models[literal] = member
    if models:
        return models
    wanted = set(_FALLBACK_EVENT_TYPES)
    for name in dir(sdk_types):
        member = getattr(sdk_types, name)
        literal = _type_literal(member)
        if literal in wanted and name.endswith("Event") and isinstance(member, type):
            models[literal] = member
    return models


EVENT_MODELS = event_models(ResponseStreamEvent)
EVENT_TYPES = frozenset(EVENT_MODELS)

# Where the real API's wire format departs from the SDK's generated types. The SDK itself
# never validates a stream (it builds models with ``construct``), so a client copes with
# these; each is pinned by a recording in tests/fixtures/spec/openai_responses/.
# Key: (event type or None for any, field path without union-branch names, pydantic error).
WIRE_DEVIATIONS: dict[tuple[str | None, tuple[str | int, ...], str], str] = {
    ("response.function_call_arguments.done", ("name",), "missing"): (
        "stream_reasoning_summary_then_function_call.jsonl: the live API sends no `name`; "
        "openai 2.x types require it, openai 3.x made it optional"
    ),
    (None, ("response", "usage", "input_tokens_details", "cache_write_tokens"), "missing"): (
        "every recorded 2025 stream sends input_tokens_details {cached_tokens} only"
    ),
    (None, ("response", "error", "code"), "literal_error"): (
        "stream_error_then_failed.jsonl: `insufficient_quota` is outside the SDK enum, and "
        "Codex classifies failures by codes such as `context_length_exceeded`"
    ),
}

_TERMINAL_STATUS = {
    "response.completed": "completed",
    "response.incomplete": "incomplete",
    "response.failed": "failed",
}
_LIFECYCLE = frozenset({"response.created", "response.in_progress"})

# Which item type an item-scoped event may address, by event-type prefix. openai 3.x's
# shell_call_* events are left out: their types do not say which item they stream into,
# and the gateway does not emit them.
_ITEM_TYPES_BY_PREFIX: tuple[tuple[str, frozenset[str]], ...] = (
    ("response.content_part.", frozenset({"message", "reasoning"})),
    ("response.output_text.", frozenset({"message"})),
    ("response.refusal.", frozenset({"message"})),
    ("response.reasoning_summary_", frozenset({"reasoning"})),
    ("response.reasoning_text.", frozenset({"reasoning"})),
    ("response.function_call_arguments.", frozenset({"function_call"})),
    ("response.custom_tool_call_input.", frozenset({"custom_tool_call"})),
    ("response.web_search_call.", frozenset({"web_search_call"})),
    ("response.file_search_call.", frozenset({"file_search_call"})),
    ("response.code_interpreter_call", frozenset({"code_interpreter_call"})),
    ("response.image_generation_call.", frozenset({"image_generation_call"})),
    ("response.mcp_call", frozenset({"mcp_call"})),
    ("response.mcp_list_tools.", frozenset({"mcp_list_tools"})),
    ("response.compaction.", frozenset({"compaction"})),
)

# Part kinds each item type may hold: content parts (content_index) and summary parts.
_CONTENT_KINDS = {
    "message": frozenset({"output_text", "refusal"}),
    "reasoning": frozenset({"reasoning_text"}),
}
_SUMMARY_KINDS = {"reasoning": frozenset({"summary_text"})}

# Text events inside a part: type -> (part kind, payload field, whether it closes the text).
_PART_TEXT_EVENTS = {
    "response.output_text.delta": ("output_text", "delta", False),
    "response.output_text.done": ("output_text", "text", True),
    "response.refusal.delta": ("refusal", "delta", False),
    "response.refusal.done": ("refusal", "refusal", True),
    "response.reasoning_text.delta": ("reasoning_text", "delta", False),
    "response.reasoning_text.done": ("reasoning_text", "text", True),
    "response.reasoning_summary_text.delta": ("summary_text", "delta", False),
    "response.reasoning_summary_text.done": ("summary_text", "text", True),
}
_PART_OPEN = {"response.content_part.added", "response.reasoning_summary_part.added"}
_PART_CLOSE = {"response.content_part.done", "response.reasoning_summary_part.done"}

# Item-level streams: delta type -> (done type, field on the done event and on the item).
_ITEM_STREAMS = {
    "response.function_call_arguments.delta": (
        "response.function_call_arguments.done",
        "arguments",
    ),
    "response.custom_tool_call_input.delta": ("response.custom_tool_call_input.done", "input"),
    "response.mcp_call_arguments.delta": ("response.mcp_call_arguments.done", "arguments"),
    "response.code_interpreter_call_code.delta": (
        "response.code_interpreter_call_code.done",
        "code",
    ),
}
_ITEM_STREAM_DONE = dict(_ITEM_STREAMS.values())
# Tool calls whose input must be streamed (delta* then .done) and start empty in `added`:
# the SDK accumulator appends function-call deltas to the announced item's arguments.
_CALL_STREAMS = {
    "function_call": ("response.function_call_arguments.done", "arguments"),
    "custom_tool_call": ("response.custom_tool_call_input.done", "input"),
}


def _part_text_field(kind: str) -> str:
    """The field of a part that holds its text: ``refusal`` for refusals, else ``text``."""
    return "refusal" if kind == "refusal" else "text"


# -- SSE framing ---------------------------------------------------------------------------


def parse_sse(raw: bytes) -> list[Event]:
    """Split raw SSE bytes into ``(event name, JSON payload)`` pairs, strictly.

    Strict where a client would lose data or a translator shows a bug: a ``[DONE]`` (the
    Responses grammar has none), ``data`` that is not a JSON object, a field other than
    event/data/id/retry, an ``event:`` without data, and a last event that is not closed by
    a blank line (the SDK's decoder dispatches an event only at a blank line, so it would
    silently drop it, typically the terminal one). Lines split on CR, LF and CRLF only, as
    in the SSE spec, so a U+2028 inside JSON is not a line break.
    """
    events: list[Event] = []
    name: str | None = None
    data: list[str] = []
    lines = raw.splitlines(keepends=True)
    for number, raw_line in enumerate(lines, 1):
        if not raw_line.endswith((b"\n", b"\r")):
            raise GrammarError(f"line {number}: the stream ends mid-line [{FRAMING}]")
        try:
            line = raw_line.rstrip(b"\r\n").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GrammarError(f"line {number}: not UTF-8 ({exc}) [{FRAMING}]") from exc
        if not line:
            if data:
                events.append((name, _decode_data(number, name, "\n".join(data))))
            elif name is not None:
                raise GrammarError(f"line {number}: event {name!r} has no data [{FRAMING}]")
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "event":
            if name is not None:
                raise GrammarError(f"line {number}: a second `event:` line [{FRAMING}]")
            name = value
        elif key == "data":
            data.append(value)
        elif key not in ("id", "retry"):
            raise GrammarError(f"line {number}: unknown SSE field {key!r} [{FRAMING}]")
    if data or name is not None:
        raise GrammarError(
            f"the last event ({name or 'unnamed'}) is not closed by a blank line; the SDK's "
            f"decoder would drop it [{FRAMING}]"
        )
    return events


def _decode_data(line: int, name: str | None, data: str) -> dict[str, Any]:
    """Parse one event's data as a JSON object, rejecting ``[DONE]`` and non-objects."""
    if data.strip() == "[DONE]":
        raise GrammarError(
            f"line {line}: `data: [DONE]`; the Responses grammar has none [{FRAMING}]"
        )
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise GrammarError(
            f"line {line}: event {name!r}: data is not JSON ({exc}) [{FRAMING}]"
        ) from exc
    if not isinstance(payload, dict):
        raise GrammarError(f"line {line}: event {name!r}: data is not a JSON object [{FRAMING}]")
    return payload


# -- the grammar ---------------------------------------------------------------------------


@dataclass
class _Part:
    """A content or summary part being streamed: its kind and what its events built."""

    kind: str
    text: str = ""
    done_text: str | None = None
    annotations: list[Any] = field(default_factory=list)
    closed: bool = False


@dataclass
class _Item:
    """The output item currently streaming, as announced by ``output_item.added``."""

    index: int
    id: str
    type: str
    added: dict[str, Any]
    content: list[_Part] = field(default_factory=list)
    summary: list[_Part] = field(default_factory=list)
    streamed: dict[str, str] = field(default_factory=dict)  # done type -> joined deltas
    finished: dict[str, str] = field(default_factory=dict)  # done type -> done value


class _Validator:
    """One pass over the events; holds the state the rules need and fails at the first break."""

    def __init__(self) -> None:
        self.number = 0
        self.type = ""
        self.last_sequence: int | None = None
        self.response_id: str | None = None
        self.items: list[_Item] = []
        self.open: _Item | None = None
        self.done_items: list[dict[str, Any]] = []
        self.ended_by: str | None = None  # the type of the terminal or error event
        self.result: dict[str, Any] | None = None

    def fail(self, rule: str, message: str) -> NoReturn:
        raise GrammarError(f"event #{self.number} ({self.type}): {message} [{rule}]")

    def run(self, events: list[Event]) -> dict[str, Any]:
        if not events:
            raise GrammarError(f"no events at all [{RULE_LIFECYCLE}]")
        for number, (name, payload) in enumerate(events):
            self.number = number
            self.step(name, payload)
        if self.result is None:
            raise GrammarError(
                f"the stream ends after event #{self.number} ({self.type}) without "
                f"response.completed, response.incomplete, response.failed or error "
                f"[{RULE_LIFECYCLE}]"
            )
        return self.result

    def step(self, name: str | None, payload: dict[str, Any]) -> None:
        self.type = ""
        kind = payload.get("type") if isinstance(payload, dict) else None
        if not isinstance(kind, str):
            self.fail(RULE_TYPES, "the payload has no string `type`")
        self.type = kind
        if name is not None and name != kind:
            self.fail(RULE_TYPES, f"SSE event name {name!r} differs from the payload type")
        model = EVENT_MODELS.get(kind)
        if model is None:
            self.fail(RULE_TYPES, f"unknown event type (not in openai {openai.__version__})")
        self.check_sequence(payload)
        self.check_model(model, payload)
        self.check_lifecycle(payload)
        if kind == "response.output_item.added":
            self.item_added(payload)
        elif kind == "response.output_item.done":
            self.item_done(payload)
        elif "output_index" in model.model_fields:
            self.item_event(payload)
        if kind in _TERMINAL_STATUS:
            self.terminal(payload["response"])

    def check_sequence(self, payload: dict[str, Any]) -> None:
        sequence = payload.get("sequence_number")
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            self.fail(RULE_SEQUENCE, f"sequence_number missing or not an integer: {sequence!r}")
        if self.last_sequence is not None and sequence <= self.last_sequence:
            self.fail(RULE_SEQUENCE, f"sequence_number {sequence} after {self.last_sequence}")
        self.last_sequence = sequence

    def check_model(self, model: type[pydantic.BaseModel], payload: dict[str, Any]) -> None:
        if self.type == "error" and isinstance(payload.get("error"), dict):
            # The live API nests {type, code, message, param} under `error`
            # (stream_error_then_failed.jsonl), unlike the flat ResponseErrorEvent. The SDK's
            # Stream raises APIError(error.message) on it before any model sees it.
            message = payload["error"].get("message")
            if not isinstance(message, str) or not message:
                self.fail(RULE_MODEL, "the nested `error` object has no message")
            return
        try:
            model.model_validate(payload)
        except pydantic.ValidationError as exc:
            problems = [e for e in _relevant(exc.errors()) if not self.tolerated(e)]
            if problems:
                shown = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in problems[:3]
                )
                self.fail(RULE_MODEL, f"does not match the SDK model {model.__name__}: {shown}")

    def tolerated(self, error: Mapping[str, Any]) -> bool:
        """Whether a model error is one of the real API's known WIRE_DEVIATIONS."""
        path = tuple(p for p in error["loc"] if not _is_branch(p))
        return any(
            kind in (None, self.type) and where == path and what == error["type"]
            for kind, where, what in WIRE_DEVIATIONS
        )

    def check_lifecycle(self, payload: dict[str, Any]) -> None:
        """Rule 4, plus the response-level parts of rules 5 and 6 on lifecycle events.

        An ``error`` event may be followed by one ``response.failed``: the live API does
        exactly that (stream_error_then_failed.jsonl), so it cannot be a grammar error.
        """
        kind = self.type
        if self.ended_by in _TERMINAL_STATUS:
            self.fail(RULE_LIFECYCLE, f"an event after the terminal {self.ended_by}")
        if self.ended_by == "error" and kind != "response.failed":
            self.fail(RULE_LIFECYCLE, "only response.failed may follow an error event")
        if self.number == 0 and kind != "response.created":
            self.fail(RULE_LIFECYCLE, "the first event must be response.created")
        if kind == "response.created" and self.number != 0:
            self.fail(RULE_LIFECYCLE, "response.created may only be the first event")
        if kind == "response.in_progress" and self.number != 1:
            self.fail(RULE_LIFECYCLE, "response.in_progress may only directly follow created")
        if kind == "response.queued":
            self.fail(RULE_LIFECYCLE, "response.queued belongs to background mode, not here")
        if kind == "error":
            self.ended_by, self.result = "error", payload
        if kind not in _LIFECYCLE and kind not in _TERMINAL_STATUS:
            return
        response = payload["response"]
        if kind == "response.created":
            self.response_id = response["id"]
            if response["output"]:
                self.fail(RULE_ITEMS, "response.created must carry an empty output")
        elif response["id"] != self.response_id:
            self.fail(RULE_FINAL, f"response.id {response['id']!r} != {self.response_id!r}")
        if kind not in _TERMINAL_STATUS:
            return
        if response.get("status") != _TERMINAL_STATUS[kind]:
            self.fail(RULE_LIFECYCLE, f"response.status is {response.get('status')!r}")
        details = response.get("incomplete_details") or {}
        if kind == "response.incomplete" and not details.get("reason"):
            self.fail(RULE_LIFECYCLE, "response.incomplete without incomplete_details.reason")
        if kind == "response.failed":
            error = response.get("error") or {}
            if not error.get("code") or not error.get("message"):
                self.fail(RULE_LIFECYCLE, "response.failed without error.code and error.message")

    # -- rule 5: items ---------------------------------------------------------------------

    def item_added(self, payload: dict[str, Any]) -> None:
        """Open an item. It must start empty: the SDK snapshot appends parts and deltas to
        the announced item, so anything already in it would be doubled."""
        index, item = payload["output_index"], payload["item"]
        if self.open is not None:
            self.fail(
                RULE_ITEMS,
                f"output_item.added at output_index {index} while item {self.open.index} "
                f"({self.open.id}) is still open: items must not overlap",
            )
        if index != len(self.items):
            self.fail(
                RULE_ITEMS,
                f"output_index {index} is not the next one ({len(self.items)}): indices are "
                f"dense and in order",
            )
        if not isinstance(item.get("id"), str) or not item["id"]:
            self.fail(RULE_ITEMS, "the added item has no id for its events' item_id to name")
        kind = item["type"]
        if kind == "message" and item["content"]:
            self.fail(RULE_ITEMS, "an added message must have empty content: parts are streamed")
        if kind == "reasoning" and (item["summary"] or item.get("content")):
            self.fail(RULE_ITEMS, "an added reasoning item must have an empty summary and content")
        if kind in _CALL_STREAMS and item[_CALL_STREAMS[kind][1]] != "":
            self.fail(
                RULE_ITEMS,
                f"an added {kind} must have empty {_CALL_STREAMS[kind][1]}: deltas are appended",
            )
        self.open = _Item(index=index, id=item["id"], type=kind, added=item)
        self.items.append(self.open)

    def current_item(self, payload: dict[str, Any]) -> _Item:
        """The open item that an event's ``output_index`` and ``item_id`` must both name."""
        index = payload["output_index"]
        if self.open is None or index != self.open.index:
            if index < len(self.items) and (self.open is None or index < self.open.index):
                self.fail(RULE_ITEMS, f"item {index} is already done: no events after its done")
            where = "no item is open" if self.open is None else f"item {self.open.index} is open"
            self.fail(RULE_ITEMS, f"output_index {index} is not the open item ({where})")
        item_id = payload.get("item_id")
        if item_id is not None and item_id != self.open.id:
            self.fail(RULE_ITEMS, f"item_id {item_id!r} is not the open item's {self.open.id!r}")
        return self.open

    def item_event(self, payload: dict[str, Any]) -> None:
        """An event inside the open item: route it by type once the item type fits it."""
        item = self.current_item(payload)
        allowed = next((t for p, t in _ITEM_TYPES_BY_PREFIX if self.type.startswith(p)), None)
        if allowed is None:
            self.fail(RULE_ITEMS, "no rule says which item type this event belongs to")
        if item.type not in allowed:
            self.fail(
                RULE_ITEMS,
                f"addresses a {item.type} item; it belongs to {'/'.join(sorted(allowed))}",
            )
        if self.type in _PART_OPEN:
            self.part_added(item, payload)
        elif self.type in _PART_CLOSE:
            self.part_done(item, payload)
        elif self.type in _PART_TEXT_EVENTS:
            self.part_text(item, payload)
        elif self.type == "response.output_text.annotation.added":
            part = self.current_part(item, payload)
            if part.kind != "output_text" or payload["annotation_index"] != len(part.annotations):
                self.fail(
                    RULE_ITEMS,
                    f"annotation_index must be {len(part.annotations)} within an output_text part",
                )
            part.annotations.append(payload["annotation"])
        elif self.type in _ITEM_STREAMS:
            done_type, _ = _ITEM_STREAMS[self.type]
            if done_type in item.finished:
                self.fail(RULE_ITEMS, f"a delta after {done_type}")
            item.streamed[done_type] = item.streamed.get(done_type, "") + payload["delta"]
        elif self.type in _ITEM_STREAM_DONE:
            self.stream_done(item, payload)

    def parts_of(self, item: _Item, payload: dict[str, Any]) -> tuple[str, list[_Part]]:
        """Summary events index ``summary_index``; all other part events ``content_index``."""
        if "summary_index" in payload:
            return "summary_index", item.summary
        return "content_index", item.content

    def current_part(self, item: _Item, payload: dict[str, Any]) -> _Part:
        """The open (last, not yet closed) part, which the event's index must name."""
        key, parts = self.parts_of(item, payload)
        index = payload[key]
        if not parts or index != len(parts) - 1 or parts[-1].closed:
            self.fail(RULE_ITEMS, f"{key} {index} is not an open part (parts must nest)")
        return parts[-1]

    def part_added(self, item: _Item, payload: dict[str, Any]) -> None:
        """Open a part: the previous one closed, the index dense, the kind fit, text empty."""
        key, parts = self.parts_of(item, payload)
        if parts and not parts[-1].closed:
            self.fail(RULE_ITEMS, f"{key} {len(parts) - 1} is still open: parts must nest")
        if payload[key] != len(parts):
            self.fail(
                RULE_ITEMS,
                f"{key} {payload[key]} is not the next one ({len(parts)}): dense from 0 per item",
            )
        part = payload["part"]
        kinds = (_SUMMARY_KINDS if key == "summary_index" else _CONTENT_KINDS).get(item.type, ())
        if part["type"] not in kinds:
            self.fail(RULE_ITEMS, f"a {part['type']} part in a {item.type} item")
        if part[_part_text_field(part["type"])] != "":
            self.fail(RULE_ITEMS, "a new part must start empty: the deltas build its text")
        parts.append(_Part(kind=part["type"]))

    def part_text(self, item: _Item, payload: dict[str, Any]) -> None:
        """A text delta or the text ``.done``, which must repeat the concatenated deltas."""
        kind, name, closes = _PART_TEXT_EVENTS[self.type]
        part = self.current_part(item, payload)
        if part.kind != kind:
            self.fail(RULE_ITEMS, f"{self.type} into a {part.kind} part")
        if part.done_text is not None:
            self.fail(RULE_ITEMS, "the part's text is already done")
        if not closes:
            part.text += payload[name]
        elif payload[name] != part.text:
            self.fail(
                RULE_ITEMS, f"{name} {payload[name]!r} != the concatenated deltas {part.text!r}"
            )
        else:
            part.done_text = part.text

    def part_done(self, item: _Item, payload: dict[str, Any]) -> None:
        """Close a part after its text ``.done``, with the same text and annotations."""
        part = self.current_part(item, payload)
        if part.done_text is None:
            self.fail(RULE_ITEMS, "the part is closed before its text .done event")
        final = payload["part"]
        if final["type"] != part.kind:
            self.fail(RULE_ITEMS, f"closes a {part.kind} part as {final['type']}")
        if final[_part_text_field(part.kind)] != part.done_text:
            self.fail(RULE_ITEMS, f"the part's text differs from the streamed {part.done_text!r}")
        if part.annotations and final.get("annotations") != part.annotations:
            self.fail(RULE_ITEMS, "the part's annotations differ from the streamed ones")
        part.closed = True

    def stream_done(self, item: _Item, payload: dict[str, Any]) -> None:
        """Arguments, input or code ``.done``: the concatenated deltas, once."""
        name = _ITEM_STREAM_DONE[self.type]
        if self.type in item.finished:
            self.fail(RULE_ITEMS, f"a second {self.type}")
        streamed = item.streamed.get(self.type, "")
        if payload[name] != streamed:
            self.fail(
                RULE_ITEMS, f"{name} {payload[name]!r} != the concatenated deltas {streamed!r}"
            )
        if "name" in payload and payload["name"] != item.added.get("name"):
            self.fail(
                RULE_ITEMS, f"name {payload['name']!r} != the item's {item.added.get('name')!r}"
            )
        item.finished[self.type] = streamed

    def item_done(self, payload: dict[str, Any]) -> None:
        """Close the open item. Codex takes ``output_item.done`` as the authoritative item,
        so it must hold exactly what was streamed, and every part must be closed."""
        open_item, done = self.current_item(payload), payload["item"]
        if done.get("id") != open_item.id or done["type"] != open_item.type:
            self.fail(
                RULE_ITEMS,
                f"the done item ({done['type']} {done.get('id')!r}) is not the open "
                f"{open_item.type} {open_item.id!r}",
            )
        if done.get("status") == "in_progress":
            self.fail(RULE_ITEMS, "the done item still has status in_progress")
        for key, parts in (
            ("content_index", open_item.content),
            ("summary_index", open_item.summary),
        ):
            if parts and not parts[-1].closed:
                self.fail(RULE_ITEMS, f"{key} {len(parts) - 1} was never closed")
        self.check_done_parts(open_item, done)
        for done_type in open_item.streamed.keys() - open_item.finished.keys():
            self.fail(RULE_ITEMS, f"deltas were streamed but {done_type} never came")
        required = _CALL_STREAMS.get(open_item.type)
        if required and required[0] not in open_item.finished:
            self.fail(RULE_ITEMS, f"a {open_item.type} needs {required[0]} before it is done")
        for done_type, value in open_item.finished.items():
            name = _ITEM_STREAM_DONE[done_type]
            if done.get(name) != value:
                self.fail(
                    RULE_ITEMS, f"the done item's {name} {done.get(name)!r} != streamed {value!r}"
                )
        if open_item.type in _CALL_STREAMS:
            for name in ("name", "call_id"):
                if not done.get(name) or done.get(name) != open_item.added.get(name):
                    self.fail(
                        RULE_ITEMS,
                        f"the done item's {name} {done.get(name)!r} != the added "
                        f"{open_item.added.get(name)!r}",
                    )
        self.done_items.append(done)
        self.open = None

    def check_done_parts(self, item: _Item, done: dict[str, Any]) -> None:
        """The done item's parts must be the streamed ones, text for text."""
        pairs = []
        if item.type == "message" or item.content:
            pairs.append(("content", item.content, done.get("content") or []))
        if item.type == "reasoning":
            pairs.append(("summary", item.summary, done["summary"]))
        for name, parts, final in pairs:
            if len(final) != len(parts):
                self.fail(
                    RULE_ITEMS,
                    f"the done item has {len(final)} {name} parts, {len(parts)} were streamed",
                )
            for index, (part, got) in enumerate(zip(parts, final, strict=True)):
                if (
                    got.get("type") != part.kind
                    or got.get(_part_text_field(part.kind)) != part.done_text
                ):
                    self.fail(
                        RULE_ITEMS,
                        f"the done item's {name}[{index}] is not the streamed {part.kind} "
                        f"{part.done_text!r}",
                    )

    # -- rule 6: the final response --------------------------------------------------------

    def terminal(self, response: dict[str, Any]) -> None:
        """Rule 6. Only ``response.failed`` may leave an item open (an upstream cut short);
        the output must still list exactly the items that were done."""
        if self.open is not None and self.type != "response.failed":
            self.fail(RULE_ITEMS, f"item {self.open.index} ({self.open.id}) is still open")
        output = response["output"]
        if len(output) != len(self.done_items):
            self.fail(
                RULE_FINAL,
                f"response.output has {len(output)} items, {len(self.done_items)} were done",
            )
        for index, (got, want) in enumerate(zip(output, self.done_items, strict=True)):
            got, want = _comparable(got), _comparable(want)
            if got != want:
                where = _first_difference(got, want, f"response.output[{index}]")
                self.fail(RULE_FINAL, f"{where} differs from the item of output_item.done")
        self.check_usage(response.get("usage"))
        self.ended_by, self.result = self.type, response

    def check_usage(self, usage: dict[str, Any] | None) -> None:
        """Token arithmetic; the counts' presence and types are the SDK model's (rule 2)."""
        if usage is None:
            return
        total, given = usage["input_tokens"] + usage["output_tokens"], usage["total_tokens"]
        if given != total:
            self.fail(RULE_FINAL, f"usage.total_tokens {given} != input + output = {total}")
        for side, detail in (("input", "cached_tokens"), ("output", "reasoning_tokens")):
            count = (usage.get(f"{side}_tokens_details") or {}).get(detail) or 0
            if count > usage[f"{side}_tokens"]:
                self.fail(
                    RULE_FINAL,
                    f"usage {detail} {count} > {side}_tokens {usage[f'{side}_tokens']}",
                )


def _is_branch(part: object) -> bool:
    """Whether a pydantic error-location element names a union branch (a class name)."""
    return isinstance(part, str) and part[:1].isupper()


def _relevant(errors: list[Any]) -> list[Any]:
    """Drop errors from union branches whose ``type`` literal did not match the payload.

    The SDK's unions are not pydantic-discriminated, so a bad message item also fails all
    ~28 other item types; only the branch the payload claims to be explains the problem.
    """
    wrong = {
        e["loc"][:-1]
        for e in errors
        if e["type"] == "literal_error"
        and e["loc"][-1] == "type"
        and len(e["loc"]) > 1
        and _is_branch(e["loc"][-2])
    }
    kept = [e for e in errors if not any(e["loc"][: len(w)] == w for w in wrong)]
    return kept or errors


def _comparable(item: dict[str, Any]) -> dict[str, Any]:
    """An output item with ``encrypted_content`` reduced to whether it is there.

    The API encrypts reasoning afresh at every serialisation (a Fernet token with a random
    IV): in stream_reasoning_summary_then_function_call.jsonl the reasoning item's token
    differs between ``output_item.added``, ``output_item.done`` and ``response.completed``.
    Clients therefore cannot rely on the bytes, only on the token being present.
    """
    comparable = dict(item)
    comparable["encrypted_content"] = bool(comparable.pop("encrypted_content", None))
    return comparable


def _first_difference(got: object, want: object, path: str) -> str:
    """The path of the first place where two JSON values differ, for a precise message."""
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(got.keys() | want.keys()):
            if got.get(key, ...) != want.get(key, ...):
                return _first_difference(got.get(key), want.get(key), f"{path}.{key}")
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        for index, (a, b) in enumerate(zip(got, want, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{index}]")
    return f"{path} ({got!r} vs {want!r})"


def validate_events(events: list[Event]) -> dict[str, Any]:
    """Check parsed events against rules 1-6 and return the terminal event's ``response``.

    A stream that ends with an ``error`` event (not followed by ``response.failed``) has no
    response object; the error event's payload is returned instead.
    """
    return _Validator().run(events)


def validate_sse(raw: bytes) -> dict[str, Any]:
    """Parse raw SSE bytes strictly and validate the events; see :func:`validate_events`."""
    return validate_events(parse_sse(raw))


# -- second opinion: the SDK's own accumulator -------------------------------------------


class _ReplayedBody:
    """The slice of ``httpx.Response`` that ``openai.Stream`` reads, over bytes in memory.

    Duck-typed so it fits openai 2.x (httpx) and 3.x (httpx2) alike.
    """

    request = None  # only used to build an APIError

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def iter_bytes(self) -> Iterator[bytes]:
        yield self._raw

    def close(self) -> None:
        """Nothing to release: the body is in memory."""


@functools.cache
def _replay_client() -> openai.OpenAI:
    """A client that never sends a request; ``Stream`` takes its SSE decoder and parser."""
    return openai.OpenAI(api_key="replay-only", base_url="http://replay.invalid/v1")


def replay_with_sdk(
    raw: bytes,
    *,
    input_tools: Iterable[Mapping[str, Any]] | None = None,
    text_format: type | None = None,
) -> Any:
    """Replay raw SSE bytes through the installed SDK; return its final ``ParsedResponse``.

    This is what ``client.responses.stream(...).get_final_response()`` does, minus the
    network: ``openai.Stream`` decodes the bytes with the SDK's SSE decoder (it raises
    ``APIError`` on an event with a top-level ``error``), and the stream helper's
    ``ResponseStreamState`` accumulates them (it asserts that each delta's item and part
    have the right type). ``input_tools`` and ``text_format`` are the request's, used to
    parse tool arguments and structured output.

    ``ResponseStreamState`` is the SDK's private API: it lives in
    ``openai.lib.streaming.responses`` (module ``_responses``) in both openai 2.x and 3.x,
    and 3.x checks more (item identities, unfinished items). Any rejection, or a stream
    without ``response.completed`` (``get_final_response()`` raises then too), raises
    :class:`SdkReplayError` naming the event.
    """
    state_class = _sdk_state_class()
    omit = getattr(openai, "omit", openai.NOT_GIVEN)
    state = state_class(
        input_tools=list(input_tools) if input_tools is not None else omit,
        text_format=text_format if text_format is not None else omit,
    )
    stream = openai.Stream(
        cast_to=ResponseStreamEvent, response=_ReplayedBody(raw), client=_replay_client()
    )
    final, number, kind = None, -1, "none yet"
    events = iter(stream)
    version = openai.__version__
    while True:
        try:
            event = next(events)
        except StopIteration:
            break
        except Exception as exc:
            raise SdkReplayError(
                f"openai {version} decoder rejected the event after #{number}: {exc!r}"
            ) from exc
        number, kind = number + 1, getattr(event, "type", "?")
        try:
            handled = state.handle_event(event)
        except Exception as exc:
            raise SdkReplayError(
                f"openai {version} rejected event #{number} ({kind}): {exc!r}"
            ) from exc
        final = next((e.response for e in handled if e.type == "response.completed"), final)
    if final is None:
        raise SdkReplayError(
            f"openai {version}: no response.completed (last event #{number}, {kind})"
        )
    return final


# Where the SDK keeps its (private) stream accumulator, newest layout first.
_STATE_MODULES = ("openai.lib.streaming.responses", "openai.lib.streaming.responses._responses")


def _sdk_state_class() -> type:
    """Find ``ResponseStreamState`` in the installed SDK's private stream helper."""
    for name in _STATE_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        state_class = getattr(module, "ResponseStreamState", None)
        if isinstance(state_class, type):
            return state_class
    raise SdkReplayError(
        f"openai {openai.__version__} has no ResponseStreamState in {_STATE_MODULES}"
    )
