"""translators/anthropic/stream.py: the stream parser and the stream renderer."""

from __future__ import annotations

import anthropic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.anthropic import (
    CTX,
    STREAM_EXAMPLES,
    check_grammar,
    frames,
    parse_stream,
    render_stream,
    sse_client,
    stream_bytes,
)
from translators import anthropic as codec
from translators import ir

# ------------------------------------------------------------------------ parser


def test_message_start_carries_id_model_and_inclusive_usage() -> None:
    events = parse_stream(stream_bytes("stream_text_then_tool_use.sse"))
    assert events[0] == ir.MessageStart(
        id="msg_019Q1hrJbZG26Fb9BQhrkHEr",
        model="claude-sonnet-4-20250514",
        usage=ir.Usage(377, 1, 0, 0),
    )


def test_tool_call_opens_with_id_and_name_and_streams_argument_fragments() -> None:
    events = parse_stream(stream_bytes("stream_text_then_tool_use.sse"))
    assert events[4:6] == [
        ir.BlockStop(0),
        ir.BlockStart(1, ir.ToolCall("toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", "")),
    ]
    args = [e.text for e in events if isinstance(e, ir.BlockDelta) and e.kind == "arguments"]
    assert args == ['{"locati', 'on": "P', "ar", 'is"}']  # the empty opening fragment is skipped


def test_finish_carries_the_stop_reason_and_cumulative_usage() -> None:
    events = parse_stream(stream_bytes("stream_text_then_tool_use.sse"))
    assert events[-1] == ir.Finish("tool_use", ir.Usage(377, 65, 0, 0), None, "tool_use")


def test_thinking_block_gets_its_signature_as_a_delta() -> None:
    events = parse_stream(stream_bytes("stream_thinking_then_text.jsonl"))
    assert events[1] == ir.BlockStart(0, ir.Thinking(origin="anthropic"))
    sig = [e for e in events if isinstance(e, ir.BlockDelta) and e.kind == "signature"]
    assert len(sig) == 1 and sig[0].text.startswith("EvQBCkYI")


def test_server_tool_blocks_are_skipped_and_later_blocks_renumbered() -> None:
    events = parse_stream(stream_bytes("stream_text_tool_use_server_tool_use.jsonl"))
    starts = [e for e in events if isinstance(e, ir.BlockStart)]
    assert [s.index for s in starts] == [0, 1]


def test_stream_max_tokens_without_block_stop() -> None:
    events = parse_stream(stream_bytes("stream_max_tokens_truncated_tool_json.sse"))
    assert events[-2:] == [
        ir.BlockStop(1),
        ir.Finish("max_tokens", ir.Usage(450, 124, 0, 0), None, "max_tokens"),
    ]


def test_error_event_becomes_a_stream_error_of_its_kind() -> None:
    assert parse_stream(stream_bytes("stream_error_event.sse")) == [
        ir.StreamError(ir.Error("overloaded", "Overloaded", 529))
    ]


def test_event_that_is_not_json_becomes_an_api_error() -> None:
    events = parse_stream(stream_bytes("stream_docs_web_search_elided.sse"))
    assert isinstance(events[-1], ir.StreamError)
    assert events[-1].error.kind == "api_error"


def test_body_ending_after_message_delta_finishes() -> None:
    data = stream_bytes("stream_text.sse")
    events = parse_stream(data[: data.index(b"event: message_stop")])
    assert isinstance(events[-1], ir.Finish) and events[-1].stop_reason == "end_turn"


def test_body_ending_before_message_delta_is_an_error() -> None:
    data = stream_bytes("stream_text.sse")
    events = parse_stream(data[: data.index(b"event: message_delta")])
    assert isinstance(events[-1], ir.StreamError)
    assert events[-1].error.message == "the upstream stream ended before its stop reason"


def test_empty_body_is_an_error() -> None:
    assert [type(e) for e in parse_stream(b"")] == [ir.StreamError]


def test_stream_unknown_events_and_blocks_ignored() -> None:
    data = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"a","model":"m"}}\n\n'
        b'event: brand_new\ndata: {"type":"brand_new"}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"hologram"}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"hologram_delta","x":1}}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":1,'
        b'"content_block":{"type":"text","text":"pre"}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,'
        b'"delta":{"type":"citations_delta","citation":{}}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta",'
        b'"delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},'
        b'"usage":{"output_tokens":3}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    assert parse_stream(data) == [
        ir.MessageStart("a", "m"),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockDelta(0, "text", "pre"),
        ir.BlockStop(0),
        ir.Finish("stop_sequence", ir.Usage(0, 3), "END", "stop_sequence"),
    ]


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("content_block_start", b'{"type":"content_block_start","index":"0"}', "index must be"),
        ("content_block_start", b'{"type":"content_block_start","index":0}', "content_block is"),
        ("content_block_delta", b'{"index":0,"delta":{"type":"text_delta","text":5}}', "text must"),
        ("message_start", b"[1,2]", "not a JSON object"),
        # a message_start after the stream started is ignored: the body then ends too early
        ("message_start", b'{"type":"message_start","message":"x"}', "before its stop reason"),
    ],
)
def test_stream_malformed_events_become_stream_errors(
    name: str, payload: bytes, reason: str
) -> None:
    prefix = (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
    )
    data = prefix + f"event: {name}\ndata: ".encode() + payload + b"\n\n"
    out = parse_stream(data)
    assert isinstance(out[0], ir.MessageStart) and out[0].id == ""
    assert isinstance(out[-1], ir.StreamError)
    assert out[-1].error.kind == "api_error"
    assert reason in out[-1].error.message


def test_stream_parser_ignores_repeats() -> None:
    start = b'event: message_start\ndata: {"type":"message_start","message":{"id":"a"}}\n\n'
    block = (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
    )
    stop = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    events = parse_stream(start + start + block + block + stop)
    assert [type(e).__name__ for e in events] == [
        "MessageStart",
        "BlockStart",
        "BlockStop",
        "Finish",
    ]


@pytest.mark.parametrize("name", STREAM_EXAMPLES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_split_gives_identical_events(name: str, data: st.DataObject) -> None:
    raw = stream_bytes(name)
    splits = data.draw(st.lists(st.integers(0, len(raw)), max_size=12))
    assert parse_stream(raw, splits) == parse_stream(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.lists(st.sampled_from(STREAM_EXAMPLES), max_size=2))
def test_any_bytes_end_in_finish_or_stream_error(data: bytes | list[str]) -> None:
    """Random bytes and cut or glued recordings raise nothing and always end the stream."""
    raw = data if isinstance(data, bytes) else b"".join(stream_bytes(n)[:-7] for n in data)
    events = parse_stream(raw)
    assert isinstance(events[-1], ir.Finish | ir.StreamError)


# ---------------------------------------------------------------------- renderer


def normalised(events: list[ir.Event], estimate: int = 0) -> list[ir.Event]:
    """What a re-parse of our rendering gives: usage is always present on the wire."""
    out: list[ir.Event] = []
    for event in events:
        if isinstance(event, ir.MessageStart) and event.usage is None:
            event = ir.MessageStart(event.id, event.model, ir.Usage(estimate, 0))
        if isinstance(event, ir.Finish) and event.usage is None:
            start = next(e for e in out if isinstance(e, ir.MessageStart))
            event = ir.Finish(
                event.stop_reason, start.usage, event.stop_sequence, event.raw_stop_reason
            )
        out.append(event)
    return out


@pytest.mark.parametrize("name", STREAM_EXAMPLES)
def test_stream_render_round_trip(name: str) -> None:
    events = parse_stream(stream_bytes(name))
    rendered = render_stream(events)
    check_grammar(rendered)
    assert parse_stream(rendered) == normalised(events)


@pytest.mark.parametrize(
    "name", [n for n in STREAM_EXAMPLES if "error" not in n and "elided" not in n]
)
def test_sdk_accumulates_rendered_stream(name: str) -> None:
    events = parse_stream(stream_bytes(name))
    with sse_client(render_stream(events)).messages.stream(
        model="m", max_tokens=10, messages=[]
    ) as stream:
        message = stream.get_final_message()
    finish = events[-1]
    assert isinstance(finish, ir.Finish)
    assert message.stop_reason == finish.raw_stop_reason
    assert message.role == "assistant"
    assert len(message.content) == sum(isinstance(e, ir.BlockStart) for e in events)


def foreign_events() -> list[ir.Event]:
    """What a Chat/Gemini parser might give: no BlockStop, interleaving, early args."""
    return [
        ir.MessageStart("chatcmpl-9", "gpt-x"),
        ir.BlockStart(0, ir.Thinking(origin="gemini")),
        ir.BlockDelta(0, "thinking", "plan"),
        ir.BlockStart(1, ir.Text("")),
        ir.BlockDelta(1, "text", "Hello"),
        ir.BlockDelta(0, "signature", "GSIG"),
        ir.BlockDelta(1, "signature", "lost"),
        ir.BlockStart(2, ir.ToolCall("call_1", "f", '{"a":', signature="FSIG")),
        ir.BlockDelta(2, "arguments", "1}"),
        ir.BlockStart(3, ir.ToolCall("call_2", "g", "")),
        ir.BlockStop(0),
        ir.BlockDelta(1, "text", " world"),
        ir.UsageUpdate(ir.Usage(10, 2)),
        ir.Finish("end_turn", ir.Usage(30, 12, cache_read_tokens=20), raw_stop_reason="stop"),
    ]


FOREIGN_CTX = ir.RenderContext(
    "claude-x", 0, "req7", source="openai_chat", input_tokens_estimate=99
)


def render_foreign() -> bytes:
    return render_stream(foreign_events(), FOREIGN_CTX)


def test_open_block_is_sent_at_once_and_later_ones_wait() -> None:
    renderer = codec.StreamRenderer(FOREIGN_CTX)
    first = frames(renderer.render(foreign_events()[:3]))
    assert [p["type"] for p in first] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
    ]
    assert first[2]["delta"] == {"type": "thinking_delta", "thinking": "plan"}
    rest = renderer.render(foreign_events()[3:])
    assert rest.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert renderer.finish() == b""


def test_foreign_stream_message_start_uses_the_input_estimate() -> None:
    start = check_grammar(render_foreign())[0]["message"]
    assert (start["id"], start["model"]) == ("chatcmpl-9", "gpt-x")
    assert start["usage"] == {"input_tokens": 99, "output_tokens": 0}


def test_interleaved_foreign_blocks_are_serialised_one_at_a_time() -> None:
    payloads = check_grammar(render_foreign())
    blocks = [p["content_block"] for p in payloads if p["type"] == "content_block_start"]
    assert blocks == [
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "text", "text": ""},
        {
            "type": "tool_use",
            "id": "call_1",
            "name": "f",
            "input": {},
            "extra_content": {"google": {"thought_signature": "FSIG"}},
        },
        {"type": "tool_use", "id": "call_2", "name": "g", "input": {}},
    ]


def test_foreign_deltas_keep_their_block_and_signatures_get_the_origin() -> None:
    payloads = check_grammar(render_foreign())
    deltas = [(p["index"], p["delta"]) for p in payloads if p["type"] == "content_block_delta"]
    assert deltas == [
        (0, {"type": "thinking_delta", "thinking": "plan"}),
        (0, {"type": "signature_delta", "signature": "gemini:GSIG"}),
        (1, {"type": "text_delta", "text": "Hello"}),
        (1, {"type": "text_delta", "text": " world"}),
        (2, {"type": "input_json_delta", "partial_json": '{"a":'}),
        (2, {"type": "input_json_delta", "partial_json": "1}"}),
    ]  # the signature delta on the text block is not one a text block can carry


def test_foreign_stream_with_calls_stops_with_tool_use_and_exclusive_usage() -> None:
    delta = frames(render_foreign())[-2]
    assert delta["type"] == "message_delta"
    assert delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert delta["usage"] == {
        "input_tokens": 10,
        "cache_read_input_tokens": 20,
        "output_tokens": 12,
    }


def test_sdk_accumulates_foreign_stream() -> None:
    with sse_client(render_foreign()).messages.stream(
        model="m", max_tokens=10, messages=[]
    ) as stream:
        message = stream.get_final_message()
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert message.content[0].signature == "gemini:GSIG"
    assert message.content[1].text == "Hello world"
    assert message.content[2].input == {"a": 1}
    assert message.content[3].input == {}
    assert message.usage.input_tokens == 10
    assert message.stop_reason == "tool_use"


def test_unsigned_foreign_thinking_closes_with_a_bare_origin_signature() -> None:
    events = [
        ir.MessageStart("a", "m"),
        ir.BlockStart(0, ir.Thinking("why", origin="openai_chat")),
        ir.BlockStop(0),
        ir.Finish("end_turn"),
    ]
    payloads = check_grammar(render_stream(events, CTX))
    assert [p["delta"] for p in payloads if p["type"] == "content_block_delta"] == [
        {"type": "thinking_delta", "thinking": "why"},
        {"type": "signature_delta", "signature": "openai_chat:"},
    ]


def test_stream_error_ends_the_rendered_stream() -> None:
    renderer = codec.StreamRenderer(CTX)
    out = renderer.render(
        [
            ir.MessageStart("a", "m", ir.Usage(5, 1)),
            ir.BlockStart(0, ir.Text("")),
            ir.BlockDelta(0, "text", "par"),
            ir.StreamError(ir.Error("rate_limit", "slow down", 429)),
            ir.BlockDelta(0, "text", "after"),
        ]
    )
    assert renderer.render([ir.Finish("end_turn")]) == b""
    assert renderer.finish() == b""
    assert out.endswith(
        b'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error",'
        b'"message":"slow down"}}\n\n'
    )
    assert b"after" not in out
    stream_manager = sse_client(out).messages.stream(model="m", max_tokens=10, messages=[])
    with pytest.raises(anthropic.APIStatusError) as exc, stream_manager as stream:
        stream.get_final_message()
    assert "slow down" in str(exc.value)


def test_stream_renderer_body_ends_without_finish() -> None:
    renderer = codec.StreamRenderer(CTX)
    out = renderer.render([ir.MessageStart("a", "m"), ir.BlockStart(0, ir.Text("x"))])
    out += renderer.finish()
    check_grammar(out)
    assert [(p["type"], p.get("delta")) for p in frames(out)] == [
        ("message_start", None),
        ("content_block_start", None),
        ("content_block_delta", {"type": "text_delta", "text": "x"}),
        ("error", None),
    ]
    assert frames(out)[-1]["error"] == {
        "type": "api_error",
        "message": "the upstream stream ended without a stop reason",
    }


REDACTED_EVENTS: list[ir.Event] = [
    ir.MessageStart("msg_1", "claude", ir.Usage(30, 1, cache_write_tokens=20)),
    ir.BlockStart(0, ir.Thinking(redacted="RED", origin="anthropic")),
    ir.BlockStop(0),
    ir.BlockStart(1, ir.ToolCall("t", "f", "")),
    ir.BlockStop(1),
    ir.Finish("max_tokens", raw_stop_reason="max_tokens"),
]


def test_rendered_message_start_usage_is_exclusive_of_cache_writes() -> None:
    payloads = check_grammar(render_stream(REDACTED_EVENTS))
    assert payloads[0]["message"]["usage"] == {
        "input_tokens": 10,
        "cache_creation_input_tokens": 20,
        "output_tokens": 1,
    }


def test_redacted_thinking_is_rendered_whole_in_its_start() -> None:
    payloads = check_grammar(render_stream(REDACTED_EVENTS))
    assert payloads[1]["content_block"] == {"type": "redacted_thinking", "data": "RED"}
    assert payloads[2] == {"type": "content_block_stop", "index": 0}


def test_max_tokens_stop_reaches_the_caller_from_any_source() -> None:
    assert parse_stream(render_stream(REDACTED_EVENTS))[-1].raw_stop_reason == "max_tokens"
    assert parse_stream(render_stream(REDACTED_EVENTS, CTX))[-1].raw_stop_reason == "max_tokens"


def test_stream_renderer_ignores_repeated_starts_and_empty_deltas() -> None:
    events = [
        ir.MessageStart("a", "m"),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockDelta(0, "text", ""),
        ir.BlockDelta(7, "text", "orphan"),
        ir.Finish("end_turn"),
    ]
    payloads = check_grammar(render_stream(events, CTX))
    assert [p["type"] for p in payloads] == [
        "message_start",
        "content_block_start",
        "content_block_stop",
    ]
