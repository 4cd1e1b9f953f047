"""The streamed Responses grammar: each rule pinned by a valid stream and a mutant of it.

The real recordings must pass; each mutant must fail with a message naming its rule, so a
translator bug shows up as the rule it breaks rather than as a client crash.
"""

from __future__ import annotations

import copy
import typing
from pathlib import Path
from typing import Any

import orjson
import pydantic
import pytest
from openai.types.responses import ResponseStreamEvent, ResponseTextDeltaEvent

from tests import responses_grammar
from tests.responses_grammar import (
    _FALLBACK_EVENT_TYPES,
    _ITEM_TYPES_BY_PREFIX,
    EVENT_MODELS,
    EVENT_TYPES,
    GrammarError,
    SdkReplayError,
    event_models,
    parse_sse,
    replay_with_sdk,
    validate_events,
    validate_sse,
)

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec" / "openai_responses"
REAL_RECORDINGS = (
    "stream_text_message.jsonl",
    "stream_reasoning_summary_then_function_call.jsonl",
    "stream_error_then_failed.jsonl",
)
SPEC_EXAMPLE = "stream_spec_example.sse"

RID, RS, MSG, FC, CT = "resp_test", "rs_1", "msg_1", "fc_1", "ctc_1"
USAGE = {
    "input_tokens": 10,
    "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
    "output_tokens": 7,
    "output_tokens_details": {"reasoning_tokens": 3},
    "total_tokens": 17,
}
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


# -- builders ------------------------------------------------------------------------------


def response(status: str = "in_progress", output: list[Any] | None = None, **extra: Any) -> dict:
    """A Response object with the SDK model's required fields."""
    return {
        "id": RID,
        "object": "response",
        "created_at": 1,
        "model": "gpt-test",
        "status": status,
        "output": output or [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "usage": None,
        **extra,
    }


def on_item(event_type: str, index: int, item_id: str, **fields: Any) -> dict:
    """An item-scoped event."""
    return {"type": event_type, "item_id": item_id, "output_index": index, **fields}


def reasoning(index: int = 0) -> list[dict]:
    """A reasoning item with one summary part streamed in two deltas."""
    done = {
        "id": RS,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Think."}],
        "encrypted_content": "token-a",
    }
    return [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {"id": RS, "type": "reasoning", "summary": [], "encrypted_content": "token-a"},
        },
        on_item(
            "response.reasoning_summary_part.added",
            index,
            RS,
            summary_index=0,
            part={"type": "summary_text", "text": ""},
        ),
        on_item("response.reasoning_summary_text.delta", index, RS, summary_index=0, delta="Thi"),
        on_item("response.reasoning_summary_text.delta", index, RS, summary_index=0, delta="nk."),
        on_item("response.reasoning_summary_text.done", index, RS, summary_index=0, text="Think."),
        on_item(
            "response.reasoning_summary_part.done",
            index,
            RS,
            summary_index=0,
            part={"type": "summary_text", "text": "Think."},
        ),
        {"type": "response.output_item.done", "output_index": index, "item": done},
    ]


def message(
    index: int = 1, kind: str = "output_text", chunks: tuple[str, ...] = ("Hi", " there")
) -> list[dict]:
    """A message with one ``output_text`` (or ``refusal``) part streamed in ``chunks``."""
    text = "".join(chunks)
    field = "refusal" if kind == "refusal" else "text"
    extra: dict[str, Any] = {"logprobs": []} if kind == "output_text" else {}
    empty: dict[str, Any] = {"type": kind, field: ""}
    if kind == "output_text":
        empty["annotations"] = []
    full = {**empty, field: text}
    return [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {
                "id": MSG,
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            },
        },
        on_item("response.content_part.added", index, MSG, content_index=0, part=empty),
        *(
            on_item(f"response.{kind}.delta", index, MSG, content_index=0, delta=chunk, **extra)
            for chunk in chunks
        ),
        on_item(f"response.{kind}.done", index, MSG, content_index=0, **{field: text}, **extra),
        on_item("response.content_part.done", index, MSG, content_index=0, part=dict(full)),
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": {
                "id": MSG,
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [dict(full)],
            },
        },
    ]


def function_call(index: int = 2) -> list[dict]:
    """A function call whose arguments arrive in two deltas."""
    call = {"id": FC, "type": "function_call", "call_id": "call_1", "name": "get_weather"}
    arguments = '{"city":"Paris"}'
    return [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**call, "status": "in_progress", "arguments": ""},
        },
        on_item("response.function_call_arguments.delta", index, FC, delta='{"city":'),
        on_item("response.function_call_arguments.delta", index, FC, delta='"Paris"}'),
        on_item(
            "response.function_call_arguments.done",
            index,
            FC,
            name="get_weather",
            arguments=arguments,
        ),
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": {**call, "status": "completed", "arguments": arguments},
        },
    ]


def custom_tool_call(index: int = 0) -> list[dict]:
    """A custom (freeform) tool call such as Codex's ``apply_patch``."""
    call = {"id": CT, "type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch"}
    return [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**call, "input": ""},
        },
        on_item("response.custom_tool_call_input.delta", index, CT, delta="*** Begin"),
        on_item("response.custom_tool_call_input.delta", index, CT, delta=" Patch"),
        on_item("response.custom_tool_call_input.done", index, CT, input="*** Begin Patch"),
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": {**call, "input": "*** Begin Patch"},
        },
    ]


def numbered(events: list[dict]) -> list[dict]:
    """Give the events sequence numbers 0, 1, 2, … (again, after a mutation moved them)."""
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def stream(*items: list[dict], end: str = "response.completed", **final: Any) -> list[dict]:
    """created, in_progress, the items' events, then a terminal event listing the done items."""
    events = [
        {"type": "response.created", "response": response()},
        {"type": "response.in_progress", "response": response()},
    ]
    for item in items:
        events += copy.deepcopy(item)
    done = [copy.deepcopy(e["item"]) for e in events if e["type"] == "response.output_item.done"]
    status = {"response.completed": "completed", "response.incomplete": "incomplete"}.get(
        end, "failed"
    )
    events.append(
        {"type": end, "response": response(status, done, usage=copy.deepcopy(USAGE)) | final}
    )
    return numbered(events)


def full() -> list[dict]:
    """Reasoning, then a message, then a function call: every kind of nesting at once."""
    return stream(reasoning(0), message(1), function_call(2))


def find(events: list[dict], event_type: str, nth: int = 0) -> int:
    """The position of the ``nth`` event of a type."""
    return [i for i, e in enumerate(events) if e["type"] == event_type][nth]


def check(events: list[dict]) -> dict:
    return validate_events([(e["type"], e) for e in events])


def rejects(events: list[dict], rule: int, phrase: str) -> str:
    """Assert that validation fails, naming ``rule`` and containing ``phrase``."""
    with pytest.raises(GrammarError) as caught:
        check(events)
    message_text = str(caught.value)
    assert f"[rule {rule}:" in message_text, message_text
    assert phrase in message_text, message_text
    return message_text


def to_sse(events: list[dict]) -> bytes:
    """Frame payloads as the gateway does: ``event:`` line, ``data:`` line, blank line."""
    return b"".join(
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events
    )


def load_fixture(name: str) -> list[tuple[str | None, dict]]:
    """Events of a spec fixture: ``.sse`` is framed, ``.jsonl`` holds one bare payload a line."""
    raw = (SPEC / name).read_bytes()
    if name.endswith(".sse"):
        return parse_sse(raw)
    return [(None, orjson.loads(line)) for line in raw.splitlines() if line.strip()]


# -- the valid streams pass ----------------------------------------------------------------


def test_valid_streams_pass() -> None:
    final = check(full())
    assert final["status"] == "completed"
    assert [item["id"] for item in final["output"]] == [RS, MSG, FC]
    check(stream(message(0, kind="refusal", chunks=("No", "."))))
    check(stream(custom_tool_call(0)))
    check(stream())


def test_validate_sse_round_trip() -> None:
    assert validate_sse(to_sse(full()))["id"] == RID


# -- SSE framing ---------------------------------------------------------------------------


def test_parse_sse_reads_event_and_data() -> None:
    raw = b': keep-alive\r\nid: 1\r\nevent: a\r\ndata: {"x":\r\ndata: 1}\r\n\r\ndata: {"y":2}\n\n'
    assert parse_sse(raw) == [("a", {"x": 1}), (None, {"y": 2})]


def test_parse_sse_rejects_done_sentinel() -> None:
    with pytest.raises(GrammarError, match=r"\[DONE\]"):
        parse_sse(b'data: {"a":1}\n\ndata: [DONE]\n\n')


def test_parse_sse_rejects_non_json_data() -> None:
    with pytest.raises(GrammarError, match="not JSON"):
        parse_sse(b"event: x\ndata: {oops\n\n")


def test_parse_sse_rejects_non_object_data() -> None:
    with pytest.raises(GrammarError, match="not a JSON object"):
        parse_sse(b"data: [1]\n\n")


def test_parse_sse_rejects_unterminated_last_event() -> None:
    with pytest.raises(GrammarError, match="not closed by a blank line"):
        parse_sse(b'data: {"a":1}\n\ndata: {"b":2}\n')


def test_parse_sse_rejects_unknown_field() -> None:
    with pytest.raises(GrammarError, match="unknown SSE field"):
        parse_sse(b'...\ndata: {"a":1}\n\n')


# -- the spec's own examples ---------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_RECORDINGS)
def test_real_recordings_pass(name: str) -> None:
    # stream_reasoning_summary_then_function_call.jsonl showed two things the rules had to
    # learn: function_call_arguments.done carries no `name` (openai 2.x types require it,
    # see WIRE_DEVIATIONS) and encrypted_content is re-encrypted in response.completed.
    # stream_error_then_failed.jsonl has a nested `error` event followed by response.failed,
    # and an error code outside the SDK's enum; both are accepted as the live API's shape.
    final = validate_events(load_fixture(name))
    assert final["status"] == {"stream_error_then_failed.jsonl": "failed"}.get(name, "completed")


@pytest.mark.parametrize("name", REAL_RECORDINGS[:2])
def test_real_recordings_replay_through_sdk(name: str) -> None:
    events = [payload for _, payload in load_fixture(name)]
    final = replay_with_sdk(to_sse(events), input_tools=[])
    assert [item.id for item in final.output] == [
        item["id"] for item in events[-1]["response"]["output"]
    ]


def test_sdk_raises_on_the_real_nested_error_event() -> None:
    events = [payload for _, payload in load_fixture("stream_error_then_failed.jsonl")]
    with pytest.raises(SdkReplayError, match="exceeded your current quota"):
        replay_with_sdk(to_sse(events))


def test_spec_example_is_rejected_as_elided() -> None:
    # stream_spec_example.sse is documentation, not a recording, and fails for that: a
    # literal "..." line stands for elided deltas, the file lacks the final blank line,
    # the events predate sequence_number and logprobs, and the one delta left ("Hi") is not
    # the done text.
    raw = (SPEC / SPEC_EXAMPLE).read_bytes()
    with pytest.raises(GrammarError, match=r"unknown SSE field '\.\.\.'"):
        parse_sse(raw)
    raw = b"\n".join(line for line in raw.split(b"\n") if line != b"...")
    with pytest.raises(GrammarError, match="not closed by a blank line"):
        parse_sse(raw)
    events = [payload for _, payload in parse_sse(raw + b"\n\n")]
    rejects(events, 3, "sequence_number missing")
    rejects(numbered(events), 2, "ResponseTextDeltaEvent: logprobs: Field required")
    for event in events:
        if event["type"].startswith("response.output_text."):
            event["logprobs"] = []
    rejects(
        events,
        5,
        "'Hi there! How can I assist you today?' != the concatenated deltas 'Hi'",
    )


def test_every_stream_fixture_is_classified() -> None:
    names = {path.name for path in SPEC.glob("stream_*") if path.suffix in (".sse", ".jsonl")}
    assert names == {*REAL_RECORDINGS, SPEC_EXAMPLE}


# -- rule 1: event types -------------------------------------------------------------------


def test_event_name_must_equal_payload_type() -> None:
    pairs = [(e["type"], e) for e in full()]
    pairs[3] = ("response.output_text.delta", pairs[3][1])
    with pytest.raises(GrammarError, match=r"differs from the payload type \[rule 1"):
        validate_events(pairs)


def test_unknown_event_type_is_rejected() -> None:
    events = full()
    events[find(events, "response.output_text.delta")]["type"] = "response.text.delta"
    rejects(events, 1, "unknown event type")


def test_event_types_follow_the_installed_sdk() -> None:
    members = typing.get_args(typing.get_args(ResponseStreamEvent)[0])
    assert len(EVENT_TYPES) == len(members)
    assert {"response.created", "response.output_text.delta", "error"} <= EVENT_TYPES


def test_event_types_fall_back_to_the_hard_list() -> None:
    models = event_models(object())
    assert set(models) == set(_FALLBACK_EVENT_TYPES)
    assert models["response.output_text.delta"] is ResponseTextDeltaEvent


# -- rule 2: SDK model ---------------------------------------------------------------------


def test_pydantic_raises_for_missing_required_fields() -> None:
    with pytest.raises(pydantic.ValidationError, match="content_index"):
        ResponseTextDeltaEvent.model_validate(
            {"type": "response.output_text.delta", "item_id": MSG, "output_index": 0}
            | {"delta": "x", "logprobs": [], "sequence_number": 0}
        )


def test_missing_required_field_fails_the_sdk_model() -> None:
    events = full()
    del events[find(events, "response.output_text.delta")]["logprobs"]
    rejects(events, 2, "ResponseTextDeltaEvent: logprobs: Field required")


def test_enum_outside_the_sdk_fails_the_sdk_model() -> None:
    # The spec's own response.incomplete example uses "max_tokens", outside the enum.
    events = stream(
        message(0), end="response.incomplete", incomplete_details={"reason": "max_tokens"}
    )
    rejects(events, 2, "incomplete_details.reason")


def test_sdk_model_errors_name_the_claimed_item_type() -> None:
    events = full()
    del events[find(events, "response.output_item.done", 1)]["item"]["content"][0]["annotations"]
    text = rejects(events, 2, "ResponseOutputMessage.content.0.ResponseOutputText.annotations")
    assert "ResponseFileSearchToolCall" not in text


def test_known_wire_deviations_are_tolerated() -> None:
    events = stream(function_call(0))
    del events[find(events, "response.function_call_arguments.done")]["name"]
    del events[-1]["response"]["usage"]["input_tokens_details"]["cache_write_tokens"]
    check(events)
    failed = stream(
        end="response.failed", error={"code": "context_length_exceeded", "message": "too long"}
    )
    check(failed)


def test_nested_error_event_needs_a_message() -> None:
    events = numbered(
        [
            {"type": "response.created", "response": response()},
            {"type": "error", "error": {"code": "x"}},
        ]
    )
    rejects(events, 2, "nested `error` object has no message")


# -- rule 3: sequence_number ---------------------------------------------------------------


def test_sequence_number_is_required() -> None:
    events = full()
    del events[4]["sequence_number"]
    rejects(events, 3, "sequence_number missing")


def test_sequence_number_must_increase() -> None:
    events = full()
    events[5]["sequence_number"] = 4
    rejects(events, 3, "sequence_number 4 after 4")


# -- rule 4: lifecycle ---------------------------------------------------------------------


def test_first_event_must_be_response_created() -> None:
    rejects(numbered(full()[1:]), 4, "first event must be response.created")


def test_in_progress_only_directly_after_created() -> None:
    events = full()
    events.insert(3, copy.deepcopy(events[1]))
    rejects(numbered(events), 4, "may only directly follow created")


def test_queued_is_not_part_of_a_foreground_stream() -> None:
    events = full()
    events[1]["type"] = "response.queued"
    rejects(events, 4, "background mode")


def test_stream_must_end_with_a_terminal_event() -> None:
    with pytest.raises(GrammarError, match=r"without response.completed.*\[rule 4"):
        check(full()[:-1])


def test_nothing_after_the_terminal_event() -> None:
    events = full()
    events.append(copy.deepcopy(events[-1]))
    rejects(numbered(events), 4, "after the terminal response.completed")


def test_error_event_may_end_the_stream() -> None:
    error = {"type": "error", "code": "server_error", "message": "upstream closed", "param": None}
    events = numbered([{"type": "response.created", "response": response()}, error])
    assert check(events)["message"] == "upstream closed"


def test_only_response_failed_may_follow_an_error_event() -> None:
    error = {"type": "error", "code": "server_error", "message": "boom", "param": None}
    events = full()
    events.insert(2, error)
    rejects(numbered(events), 4, "only response.failed may follow an error event")


def test_incomplete_needs_a_reason() -> None:
    rejects(stream(message(0), end="response.incomplete"), 4, "without incomplete_details.reason")
    check(
        stream(
            message(0),
            end="response.incomplete",
            incomplete_details={"reason": "max_output_tokens"},
        )
    )


def test_failed_needs_error_code_and_message() -> None:
    rejects(stream(end="response.failed"), 4, "without error.code and error.message")


def test_terminal_status_must_match_the_event() -> None:
    events = full()
    events[-1]["response"]["status"] = "in_progress"
    rejects(events, 4, "response.status is 'in_progress'")


# -- rule 5: items -------------------------------------------------------------------------


def test_output_index_must_be_dense() -> None:
    events = full()
    events[find(events, "response.output_item.added", 1)]["output_index"] = 2
    rejects(events, 5, "output_index 2 is not the next one (1)")


def test_items_must_not_overlap() -> None:
    events = full()
    done = events.pop(find(events, "response.output_item.done"))
    events.insert(find(events, "response.output_item.added", 1) + 1, done)
    rejects(numbered(events), 5, "item 0 (rs_1) is still open: items must not overlap")


def test_no_item_events_after_its_done() -> None:
    events = full()
    late = copy.deepcopy(events[find(events, "response.output_text.delta")])
    events.insert(find(events, "response.output_item.done", 1) + 1, late)
    rejects(numbered(events), 5, "item 1 is already done")


def test_events_must_refer_to_the_open_item() -> None:
    events = full()
    events[find(events, "response.output_text.delta")]["output_index"] = 5
    rejects(events, 5, "output_index 5 is not the open item (item 1 is open)")


def test_item_id_must_match_the_open_item() -> None:
    events = full()
    events[find(events, "response.output_text.delta")]["item_id"] = "msg_other"
    rejects(events, 5, "item_id 'msg_other' is not the open item's 'msg_1'")


def test_added_item_needs_an_id() -> None:
    events = full()
    del events[find(events, "response.output_item.added", 2)]["item"]["id"]
    rejects(events, 5, "has no id")


def test_added_item_must_start_empty() -> None:
    events = full()
    events[find(events, "response.output_item.added", 2)]["item"]["arguments"] = "{"
    rejects(events, 5, "must have empty arguments")


def test_created_response_must_have_an_empty_output() -> None:
    events = full()
    events[0]["response"]["output"] = [copy.deepcopy(events[-1]["response"]["output"][0])]
    rejects(events, 5, "response.created must carry an empty output")


def test_content_index_must_be_dense() -> None:
    events = full()
    events[find(events, "response.content_part.added")]["content_index"] = 1
    rejects(events, 5, "content_index 1 is not the next one (0)")


def test_summary_index_must_be_dense() -> None:
    events = full()
    events[find(events, "response.reasoning_summary_part.added")]["summary_index"] = 1
    rejects(events, 5, "summary_index 1 is not the next one (0)")


def test_text_delta_needs_an_open_content_part() -> None:
    events = full()
    added = find(events, "response.content_part.added")
    events[added], events[added + 1] = events[added + 1], events[added]
    rejects(numbered(events), 5, "content_index 0 is not an open part (parts must nest)")


def test_next_content_part_only_after_the_previous_is_done() -> None:
    events = full()
    second = copy.deepcopy(events[find(events, "response.content_part.added")]) | {
        "content_index": 1
    }
    events.insert(find(events, "response.content_part.done"), second)
    rejects(numbered(events), 5, "content_index 0 is still open: parts must nest")


def test_content_part_done_needs_the_text_done_first() -> None:
    events = full()
    del events[find(events, "response.output_text.done")]
    rejects(numbered(events), 5, "closed before its text .done event")


def test_no_text_delta_after_the_text_done() -> None:
    events = full()
    late = copy.deepcopy(events[find(events, "response.output_text.delta")])
    events.insert(find(events, "response.output_text.done") + 1, late)
    rejects(numbered(events), 5, "the part's text is already done")


def test_output_text_done_must_equal_the_deltas() -> None:
    events = full()
    events[find(events, "response.output_text.done")]["text"] = "Hi there!"
    rejects(events, 5, "text 'Hi there!' != the concatenated deltas 'Hi there'")


def test_content_part_done_must_equal_the_text() -> None:
    events = full()
    events[find(events, "response.content_part.done")]["part"]["text"] = "Hi"
    rejects(events, 5, "the part's text differs from the streamed 'Hi there'")


def test_new_part_must_start_empty() -> None:
    events = full()
    events[find(events, "response.content_part.added")]["part"]["text"] = "Hi"
    rejects(events, 5, "a new part must start empty")


def test_refusal_delta_must_go_into_a_refusal_part() -> None:
    events = full()
    events[find(events, "response.output_text.delta")]["type"] = "response.refusal.delta"
    rejects(events, 5, "response.refusal.delta into a output_text part")


def test_refusal_done_must_equal_the_deltas() -> None:
    events = stream(message(0, kind="refusal", chunks=("No", ".")))
    events[find(events, "response.refusal.done")]["refusal"] = "No!"
    rejects(events, 5, "refusal 'No!' != the concatenated deltas 'No.'")


def with_annotation(events: list[dict]) -> list[dict]:
    """Add a url_citation to the message: announced after the deltas, then in every copy."""
    citation = {"type": "url_citation", "url": "https://x.test", "title": "X"}
    citation |= {"start_index": 0, "end_index": 2}
    added = on_item("response.output_text.annotation.added", 1, MSG, content_index=0)
    events.insert(
        find(events, "response.output_text.done"),
        added | {"annotation_index": 0, "annotation": citation},
    )
    events[find(events, "response.content_part.done")]["part"]["annotations"] = [citation]
    events[find(events, "response.output_item.done", 1)]["item"]["content"][0]["annotations"] = [
        citation
    ]
    events[-1]["response"]["output"][1]["content"][0]["annotations"] = [citation]
    return numbered(events)


def test_annotations_stream_into_an_output_text_part() -> None:
    check(with_annotation(full()))


def test_annotation_index_must_be_dense() -> None:
    events = with_annotation(full())
    events[find(events, "response.output_text.annotation.added")]["annotation_index"] = 1
    rejects(events, 5, "annotation_index must be 0 within an output_text part")


def test_content_part_done_must_repeat_the_streamed_annotations() -> None:
    events = with_annotation(full())
    events[find(events, "response.content_part.done")]["part"]["annotations"] = []
    rejects(events, 5, "the part's annotations differ from the streamed ones")


def reasoning_with_text(index: int = 0) -> list[dict]:
    """A reasoning item that exposes raw reasoning text as a ``reasoning_text`` content part."""
    events = reasoning(index)
    part = {"type": "reasoning_text", "text": ""}
    events[-1:-1] = [
        on_item("response.content_part.added", index, RS, content_index=0, part=part),
        on_item("response.reasoning_text.delta", index, RS, content_index=0, delta="Raw"),
        on_item("response.reasoning_text.done", index, RS, content_index=0, text="Raw"),
        on_item(
            "response.content_part.done", index, RS, content_index=0, part=part | {"text": "Raw"}
        ),
    ]
    events[-1]["item"]["content"] = [{"type": "reasoning_text", "text": "Raw"}]
    return events


def test_reasoning_text_streams_as_a_content_part() -> None:
    check(stream(reasoning_with_text(0)))


def test_part_kind_must_fit_the_item() -> None:
    events = stream(reasoning_with_text(0))
    events[find(events, "response.content_part.added")]["part"] = {
        "type": "output_text",
        "text": "",
        "annotations": [],
    }
    rejects(events, 5, "a output_text part in a reasoning item")


def test_reasoning_summary_delta_needs_an_open_summary_part() -> None:
    events = full()
    del events[find(events, "response.reasoning_summary_part.added")]
    rejects(numbered(events), 5, "summary_index 0 is not an open part (parts must nest)")


def test_reasoning_summary_done_must_equal_the_deltas() -> None:
    events = full()
    events[find(events, "response.reasoning_summary_text.done")]["text"] = "Thought."
    rejects(events, 5, "text 'Thought.' != the concatenated deltas 'Think.'")


def test_reasoning_summary_part_done_must_equal_the_text() -> None:
    events = full()
    events[find(events, "response.reasoning_summary_part.done")]["part"]["text"] = "Thought."
    rejects(events, 5, "the part's text differs from the streamed 'Think.'")


def test_function_call_arguments_done_must_equal_the_deltas() -> None:
    events = full()
    events[find(events, "response.function_call_arguments.done")]["arguments"] = "{}"
    rejects(events, 5, "arguments '{}' != the concatenated deltas")


def test_function_call_arguments_done_name_must_match_the_item() -> None:
    events = full()
    events[find(events, "response.function_call_arguments.done")]["name"] = "other"
    rejects(events, 5, "name 'other' != the item's 'get_weather'")


def test_function_call_needs_arguments_done() -> None:
    events = full()
    del events[find(events, "response.function_call_arguments.done")]
    rejects(
        numbered(events),
        5,
        "deltas were streamed but response.function_call_arguments.done never came",
    )
    bare = stream(function_call(0))
    for position in reversed(range(len(bare))):
        if bare[position]["type"].startswith("response.function_call_arguments."):
            del bare[position]
    rejects(numbered(bare), 5, "needs response.function_call_arguments.done")


def test_no_function_call_delta_after_its_done() -> None:
    events = full()
    late = copy.deepcopy(events[find(events, "response.function_call_arguments.delta")])
    events.insert(find(events, "response.function_call_arguments.done") + 1, late)
    rejects(numbered(events), 5, "a delta after response.function_call_arguments.done")


def test_custom_tool_call_input_done_must_equal_the_deltas() -> None:
    events = stream(custom_tool_call(0))
    events[find(events, "response.custom_tool_call_input.done")]["input"] = "*** Begin"
    rejects(events, 5, "input '*** Begin' != the concatenated deltas '*** Begin Patch'")


def test_delta_must_match_the_item_type() -> None:
    events = full()
    delta = copy.deepcopy(events[find(events, "response.output_text.delta")])
    delta |= {"output_index": 2, "item_id": FC}
    events.insert(find(events, "response.function_call_arguments.delta"), delta)
    rejects(numbered(events), 5, "addresses a function_call item; it belongs to message")


def test_item_scoped_event_types_have_an_item_type() -> None:
    scoped = {t for t, model in EVENT_MODELS.items() if "output_index" in model.model_fields}
    scoped -= {"response.output_item.added", "response.output_item.done"}
    mapped = {t for t in scoped if any(t.startswith(p) for p, _ in _ITEM_TYPES_BY_PREFIX)}
    # Only openai 3.x's shell_call_* events lack a rule (see _ITEM_TYPES_BY_PREFIX).
    assert all(t.startswith("response.shell_call") for t in scoped - mapped), scoped - mapped


def test_item_event_without_an_item_type_rule_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(responses_grammar, "_ITEM_TYPES_BY_PREFIX", ())
    rejects(full(), 5, "no rule says which item type this event belongs to")


def test_done_item_must_be_the_open_one() -> None:
    events = full()
    events[find(events, "response.output_item.done", 1)]["item"]["id"] = "msg_other"
    rejects(events, 5, "is not the open message 'msg_1'")


def test_done_item_must_be_complete() -> None:
    events = full()
    events[find(events, "response.output_item.done", 1)]["item"]["status"] = "in_progress"
    rejects(events, 5, "still has status in_progress")


def test_done_message_text_must_equal_the_streamed_text() -> None:
    events = full()
    events[find(events, "response.output_item.done", 1)]["item"]["content"][0]["text"] = "Hi"
    rejects(events, 5, "content[0] is not the streamed output_text 'Hi there'")


def test_done_message_must_hold_every_streamed_part() -> None:
    events = full()
    events[find(events, "response.output_item.done", 1)]["item"]["content"] = []
    rejects(events, 5, "has 0 content parts, 1 were streamed")


@pytest.mark.parametrize(
    ("name", "value"), [("arguments", "{}"), ("name", "other"), ("call_id", "call_other")]
)
def test_done_function_call_must_match_what_was_streamed(name: str, value: str) -> None:
    events = full()
    events[find(events, "response.output_item.done", 2)]["item"][name] = value
    rejects(events, 5, f"the done item's {name} {value!r}")


def test_done_reasoning_item_needs_a_summary_list() -> None:
    events = full()
    del events[find(events, "response.output_item.done")]["item"]["summary"]
    rejects(events, 2, "ResponseReasoningItem.summary: Field required")


def test_done_reasoning_summary_must_equal_the_streamed_summary() -> None:
    events = full()
    events[find(events, "response.output_item.done")]["item"]["summary"][0]["text"] = "Other."
    rejects(events, 5, "summary[0] is not the streamed summary_text 'Think.'")


def test_completed_must_not_leave_an_item_open() -> None:
    events = full()
    del events[find(events, "response.output_item.done", 2)]
    events[-1]["response"]["output"].pop()
    rejects(numbered(events), 5, "item 2 (fc_1) is still open")


def test_failed_may_cut_an_item_short() -> None:
    events = stream(reasoning(0), message(1)[:3], end="response.failed")
    events[-1]["response"]["error"] = {"code": "server_error", "message": "upstream closed"}
    assert [item["id"] for item in check(events)["output"]] == [RS]


# -- rule 6: final response ----------------------------------------------------------------


def test_final_output_must_equal_the_done_items() -> None:
    events = full()
    events[-1]["response"]["output"][1]["content"][0]["text"] = "Hi"
    rejects(events, 6, "response.output[1].content[0].text ('Hi' vs 'Hi there')")


def test_final_output_must_keep_the_order() -> None:
    events = full()
    output = events[-1]["response"]["output"]
    output[0], output[1] = output[1], output[0]
    rejects(events, 6, "response.output[0]")


def test_final_output_must_list_every_done_item() -> None:
    events = full()
    events[-1]["response"]["output"].pop()
    rejects(events, 6, "response.output has 2 items, 3 were done")


def test_final_output_compares_encrypted_content_by_presence() -> None:
    events = full()
    events[-1]["response"]["output"][0]["encrypted_content"] = "token-b"
    check(events)
    del events[-1]["response"]["output"][0]["encrypted_content"]
    rejects(events, 6, "response.output[0].encrypted_content")


def test_response_id_must_match_created() -> None:
    events = full()
    events[-1]["response"]["id"] = "resp_other"
    rejects(events, 6, "response.id 'resp_other' != 'resp_test'")


def test_usage_needs_token_counts() -> None:
    events = full()
    del events[-1]["response"]["usage"]["output_tokens"]
    rejects(events, 2, "response.usage.output_tokens: Field required")


def test_usage_total_must_be_the_sum() -> None:
    events = full()
    events[-1]["response"]["usage"]["total_tokens"] = 10
    rejects(events, 6, "usage.total_tokens 10 != input + output = 17")


def test_usage_cached_tokens_within_input() -> None:
    events = full()
    events[-1]["response"]["usage"]["input_tokens_details"]["cached_tokens"] = 11
    rejects(events, 6, "usage cached_tokens 11 > input_tokens 10")


def test_usage_reasoning_tokens_within_output() -> None:
    events = full()
    events[-1]["response"]["usage"]["output_tokens_details"]["reasoning_tokens"] = 8
    rejects(events, 6, "usage reasoning_tokens 8 > output_tokens 7")


# -- the SDK's own accumulator -------------------------------------------------------------


def test_replay_with_sdk_returns_the_parsed_response() -> None:
    final = replay_with_sdk(to_sse(full()), input_tools=[WEATHER_TOOL])
    assert final.id == RID
    assert final.output_text == "Hi there"
    assert final.output[2].parsed_arguments == {"city": "Paris"}


def test_replay_with_sdk_rejects_a_text_delta_into_a_function_call() -> None:
    events = full()
    delta = copy.deepcopy(events[find(events, "response.output_text.delta")])
    delta |= {"output_index": 2, "item_id": FC}
    events.insert(find(events, "response.function_call_arguments.delta"), delta)
    with pytest.raises(SdkReplayError, match=r"rejected event #\d+ \(response.output_text.delta\)"):
        replay_with_sdk(to_sse(numbered(events)))


def test_replay_with_sdk_needs_response_created_first() -> None:
    with pytest.raises(SdkReplayError, match=r"response\.created"):
        replay_with_sdk(to_sse(numbered(full()[1:])))


def test_replay_with_sdk_needs_response_completed() -> None:
    events = stream(
        message(0), end="response.incomplete", incomplete_details={"reason": "max_output_tokens"}
    )
    with pytest.raises(SdkReplayError, match=r"no response\.completed"):
        replay_with_sdk(to_sse(events))
