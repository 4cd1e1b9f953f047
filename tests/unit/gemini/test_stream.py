"""``StreamParser`` and ``StreamRenderer``: Gemini stream bytes <-> IR events."""

from __future__ import annotations

import base64
import copy

import orjson
import pytest
from google.genai import types as genai_types
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.gemini import FIXTURES, ctx, json_values
from translators import gemini, ir


def stream_bytes(name: str) -> bytes:
    """SSE bytes of a stream fixture; .jsonl fixtures are re-framed as CRLF SSE."""
    data = (FIXTURES / name).read_bytes()
    if name.endswith(".jsonl"):
        lines = [line for line in data.splitlines() if line.strip()]
        data = b"".join(b"data: " + line + b"\r\n\r\n" for line in lines)
    return data


def payloads(name: str) -> list[bytes]:
    data = stream_bytes(name)
    return [
        line[6:] for line in data.replace(b"\r\n", b"\n").split(b"\n") if line.startswith(b"data: ")
    ]


def as_json_array(name: str) -> bytes:
    return b"[" + b",\r\n".join(payloads(name)) + b"]"


def parse_stream(data: bytes, chunk: int | None = None) -> list[ir.Event]:
    parser = gemini.StreamParser()
    events: list[ir.Event] = []
    if chunk is None:
        events += parser.feed(data)
    else:
        for i in range(0, len(data), chunk):
            events += parser.feed(data[i : i + chunk])
    return events + parser.finish()


STREAM_FIXTURES = sorted(
    p.name
    for p in FIXTURES.iterdir()
    if p.name.startswith("stream_") and p.suffix in (".sse", ".jsonl")
)
GEMINI_STREAMS = [n for n in STREAM_FIXTURES if "vertex" not in n]


def expected_events(name: str) -> list[ir.Event]:
    """The events of a fixture read whole, checked to be a real stream: it starts with
    MessageStart and ends in Finish (Vertex partialArgs fixtures: a StreamError)."""
    events = parse_stream(stream_bytes(name))
    assert isinstance(events[0], ir.MessageStart)
    if "vertex" in name:
        assert isinstance(events[-1], ir.StreamError)
    else:
        assert isinstance(events[-1], ir.Finish)
        assert any(isinstance(e, ir.BlockStart) for e in events) or "prompt_blocked" in name
    return events


def _blocks(events: list[ir.Event]) -> list[ir.Event]:
    return [e for e in events if isinstance(e, ir.BlockStart | ir.BlockDelta | ir.BlockStop)]


# ------------------------------------------------------------------------- parser


def test_stream_text_events() -> None:
    events = parse_stream(stream_bytes("stream_text.sse"))
    usage_start = ir.Usage(input_tokens=7)
    assert events == [
        ir.MessageStart(id="", model="gemini-2.0-flash", usage=usage_start),
        ir.UsageUpdate(ir.Usage(input_tokens=7)),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockDelta(0, "text", "The"),
        ir.BlockDelta(0, "text", " capital of Wyoming"),
        ir.UsageUpdate(ir.Usage(input_tokens=7, output_tokens=10)),
        ir.BlockDelta(0, "text", " is **Cheyenne**.\n"),
        ir.BlockStop(0),
        ir.Finish(
            "end_turn", usage=ir.Usage(input_tokens=7, output_tokens=10), raw_stop_reason="STOP"
        ),
    ]


def test_stream_parallel_calls_without_ids_are_whole_call_blocks_with_stable_ids() -> None:
    events = parse_stream(stream_bytes("stream_parallel_function_calls_gemini25.sse"))
    starts = [e for e in events if isinstance(e, ir.BlockStart)]
    assert [e.index for e in starts] == [0, 1, 2]
    calls = [e.part for e in starts if isinstance(e.part, ir.ToolCall)]
    assert len(calls) == 3 and all(c.id.startswith("gem_") for c in calls)
    assert len({c.id for c in calls}) == 3 and all(c.arguments == "" for c in calls)
    assert calls[0].signature and calls[1].signature is None and calls[2].signature is None
    args = [e.text for e in events if isinstance(e, ir.BlockDelta)]
    assert args == ['{"a":2,"b":3}', '{"a":4,"b":5}', '{"a":6,"b":7}']
    finish = events[-1]
    assert isinstance(finish, ir.Finish) and finish.stop_reason == "tool_use"
    assert finish.raw_stop_reason == "STOP"
    assert finish.usage == ir.Usage(input_tokens=171, output_tokens=131, reasoning_tokens=77)
    again = parse_stream(stream_bytes("stream_parallel_function_calls_gemini25.sse"))
    assert _blocks(again) == _blocks(events)


def test_stream_parallel_calls_gemini3_keep_ids() -> None:
    events = parse_stream(stream_bytes("stream_parallel_function_calls_gemini3flash.sse"))
    calls = [e.part for e in events if isinstance(e, ir.BlockStart)]
    assert [c.id for c in calls if isinstance(c, ir.ToolCall)] == [
        "3ae8iwca",
        "up3kf30e",
        "ycroch25",
    ]
    assert [e.index for e in events if isinstance(e, ir.BlockStop)] == [0, 1, 2]
    assert isinstance(events[-1], ir.Finish) and events[-1].stop_reason == "tool_use"


def test_stream_trailing_text_signature_is_a_delta_on_the_text_block() -> None:
    events = parse_stream(stream_bytes("stream_gemini3_text_trailing_signature.jsonl"))
    sig = [e for e in events if isinstance(e, ir.BlockDelta) and e.kind == "signature"]
    assert len(sig) == 1 and sig[0].index == 0 and sig[0].text.startswith("EqsF")


def test_stream_thoughts_then_a_call_give_a_thinking_block_then_a_call_block() -> None:
    events = parse_stream(stream_bytes("stream_thoughts_then_function_call.sse"))
    starts = [e.part for e in events if isinstance(e, ir.BlockStart)]
    assert isinstance(starts[0], ir.Thinking) and starts[0].origin == "gemini"
    assert isinstance(starts[1], ir.ToolCall) and starts[1].name == "now"
    arguments = [e.text for e in events if isinstance(e, ir.BlockDelta) and e.kind == "arguments"]
    assert arguments == ["{}"]  # a call without args still gives valid JSON


def test_stream_prompt_blocked_finishes_with_content_filter() -> None:
    events = parse_stream(stream_bytes("stream_prompt_blocked.sse"))
    assert isinstance(events[0], ir.MessageStart)
    assert events[-1] == ir.Finish("content_filter")


OVERLOADED = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}


def test_stream_error_chunk_ends_the_stream_without_finish() -> None:
    data = stream_bytes("stream_text.sse")[:300].rsplit(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    events = parse_stream(data + b"data: " + orjson.dumps(OVERLOADED) + b"\r\n\r\n" + data)
    error = events[-1]
    assert isinstance(error, ir.StreamError)
    assert error.error.kind == "overloaded" and error.error.message == "overloaded"
    assert not any(isinstance(e, ir.Finish) for e in events)


def test_stream_bare_json_error_body_is_read() -> None:
    events = parse_stream(b"  \r\n" + orjson.dumps(OVERLOADED))
    assert len(events) == 1
    assert isinstance(events[0], ir.StreamError) and events[0].error.kind == "overloaded"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        as_json_array("stream_text.sse")[:-40],  # cut inside an array element
        b"data: {not json\r\n\r\n",
    ],
    ids=["empty", "cut-array", "not-json"],
)
def test_stream_that_is_empty_cut_or_not_json_is_an_error(data: bytes) -> None:
    error = parse_stream(data)[-1]
    assert isinstance(error, ir.StreamError) and error.error.kind == "api_error"


def test_stream_vertex_partial_args_are_refused() -> None:
    events = parse_stream(stream_bytes("stream_vertex_partial_args.jsonl"))
    error = events[-1]
    assert isinstance(error, ir.StreamError) and error.error.kind == "not_implemented"
    assert not any(isinstance(e, ir.BlockStart) for e in events)


def test_stream_cut_off_before_finish_reason_is_an_error() -> None:
    chunk = {"candidates": [{"content": {"parts": [{"text": "a"}]}}], "responseId": "r"}
    events = parse_stream(b"data: " + orjson.dumps(chunk) + b"\n\n")
    error = events[-1]
    assert isinstance(error, ir.StreamError) and "finishReason" in error.error.message


def test_stream_parts_without_an_ir_event_are_refused() -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    chunk = {"candidates": [{"content": {"parts": [{"text": "a", "partMetadata": {}}, image]}}]}
    events = parse_stream(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
    assert events[2] == ir.BlockDelta(0, "text", "a")
    error = events[-1]
    assert isinstance(error, ir.StreamError)
    assert error.error.kind == "not_implemented" and "inlineData" in error.error.message


@pytest.mark.parametrize("name", STREAM_FIXTURES)
def test_stream_sse_and_json_array_framing_give_identical_events(name: str) -> None:
    assert parse_stream(as_json_array(name)) == expected_events(name)


@pytest.mark.parametrize("name", STREAM_FIXTURES)
def test_stream_byte_at_a_time(name: str) -> None:
    expected = expected_events(name)
    assert parse_stream(stream_bytes(name), chunk=1) == expected
    assert parse_stream(as_json_array(name), chunk=7) == expected


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(STREAM_FIXTURES), st.data())
def test_stream_any_split_gives_identical_events(name: str, data: st.DataObject) -> None:
    raw = stream_bytes(name) if data.draw(st.booleans()) else as_json_array(name)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    parser = gemini.StreamParser()
    events: list[ir.Event] = []
    prev = 0
    for cut in [*cuts, len(raw)]:
        events += parser.feed(raw[prev:cut])
        prev = cut
    events += parser.finish()
    assert events == expected_events(name)


# ----------------------------------------------------------------------- renderer


def render(events: list[ir.Event], **kw: object) -> bytes:
    renderer = gemini.StreamRenderer(ctx(**kw))
    out = b""
    for event in events:  # one event per call, as a stream would arrive
        out += renderer.render([event])
    return out + renderer.finish()


def chunks_of(data: bytes) -> list[dict]:
    if data.startswith(b"["):
        return orjson.loads(data)
    assert data.endswith(b"\r\n\r\n")
    return [orjson.loads(line[6:]) for line in data.split(b"\r\n") if line.startswith(b"data: ")]


def _merged_text(events: list[ir.Event]) -> list[tuple]:
    """Block contents by index, ignoring how text was split into deltas."""
    out: dict[int, list[str]] = {}
    for e in events:
        if isinstance(e, ir.BlockDelta):
            out.setdefault(e.index, []).append(e.kind + ":" + e.text)
    return [(i, "".join(v)) for i, v in sorted(out.items())]


@pytest.mark.parametrize("name", GEMINI_STREAMS)
@pytest.mark.parametrize("framing", ["sse", "json_array"])
def test_stream_render_round_trip_and_sdk_validation(name: str, framing: str) -> None:
    events = expected_events(name)
    out = render(events, framing=framing, source="gemini", model="gateway-model")
    chunks = chunks_of(out)
    assert chunks
    for chunk in chunks:
        parsed = genai_types.GenerateContentResponse.model_validate(chunk)
        # google-genai chats only record history when every chunk has content parts.
        assert parsed.candidates and parsed.candidates[0].content
        assert parsed.candidates[0].content.parts
    again = parse_stream(out)
    assert _blocks(again) == _blocks(events) or _merged_text(again) == _merged_text(events)
    # A blocked prompt comes back as a SAFETY candidate: same stop reason, new raw value.
    last, first = again[-1], again[0]
    end, start = events[-1], events[0]
    assert isinstance(last, ir.Finish) and isinstance(end, ir.Finish)
    assert isinstance(first, ir.MessageStart) and isinstance(start, ir.MessageStart)
    assert (last.stop_reason, last.usage) == (end.stop_reason, end.usage)
    assert first.id == start.id


ANTHROPIC_EVENTS: list[ir.Event] = [
    ir.MessageStart(id="msg_1", model="claude-x", usage=ir.Usage(input_tokens=12)),
    ir.BlockStart(0, ir.Thinking(origin="anthropic")),
    ir.BlockDelta(0, "thinking", "hmm"),
    ir.BlockDelta(0, "signature", "EqQB=="),
    ir.BlockStop(0),
    ir.BlockStart(1, ir.Thinking(redacted="opaque", origin="anthropic")),
    ir.BlockStop(1),
    ir.BlockStart(2, ir.Text("")),
    ir.BlockDelta(2, "text", "Let me check."),
    ir.BlockStop(2),
    ir.BlockStart(3, ir.ToolCall("toolu_1", "get_weather", "")),
    ir.BlockDelta(3, "arguments", '{"city":'),
    ir.BlockDelta(3, "arguments", '"Paris"}'),
    ir.BlockStop(3),
    ir.BlockStart(4, ir.ToolCall("toolu_2", "now", "")),
    ir.UsageUpdate(ir.Usage(input_tokens=12, output_tokens=30)),
    ir.Finish("tool_use", usage=ir.Usage(input_tokens=12, output_tokens=40)),
]


def _anthropic_chunks() -> list[dict]:
    chunks = chunks_of(render(copy.deepcopy(ANTHROPIC_EVENTS), source="anthropic", model="gw"))
    for chunk in chunks:
        genai_types.GenerateContentResponse.model_validate(chunk)
        assert chunk["responseId"] == "msg_1" and chunk["modelVersion"] == "claude-x"
    return chunks


def test_stream_render_foreign_thinking_carries_base64_origin_signatures() -> None:
    parts = [c["candidates"][0]["content"]["parts"][0] for c in _anthropic_chunks()]
    assert parts[0] == {"text": "hmm", "thought": True}
    assert base64.b64decode(parts[1]["thoughtSignature"]) == b"anthropic:EqQB=="
    assert base64.b64decode(parts[2]["thoughtSignature"]) == b"anthropic-redacted:opaque"
    assert parts[3] == {"text": "Let me check."}
    back = parse_stream(render(copy.deepcopy(ANTHROPIC_EVENTS), source="anthropic"))
    signatures = [e for e in back if isinstance(e, ir.BlockDelta) and e.kind == "signature"]
    assert len(signatures) == 2


def test_stream_render_sends_each_call_whole_when_it_ends_or_at_finish() -> None:
    parts = [c["candidates"][0]["content"]["parts"][0] for c in _anthropic_chunks()]
    assert parts[4] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_1"}
    }
    assert parts[5] == {"functionCall": {"name": "now", "args": {}, "id": "toolu_2"}}


def test_stream_render_last_chunk_has_the_finish_reason_and_final_usage() -> None:
    last = _anthropic_chunks()[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["candidates"][0]["content"]["parts"] == [{"text": ""}]
    assert last["usageMetadata"] == {
        "promptTokenCount": 12,
        "candidatesTokenCount": 40,
        "totalTokenCount": 52,
    }


def test_stream_render_leaves_the_events_it_was_given_unchanged() -> None:
    events = copy.deepcopy(ANTHROPIC_EVENTS)
    events.insert(12, ir.BlockDelta(3, "signature", "SIG"))
    before = copy.deepcopy(events)
    chunks = chunks_of(render(events, source="anthropic"))
    assert events == before  # the call's part still has its opening arguments ""
    call = chunks[4]["candidates"][0]["content"]["parts"][0]
    assert call["thoughtSignature"] == "SIG" and call["functionCall"]["args"] == {"city": "Paris"}


def test_stream_render_interleaved_calls_are_completed_at_finish() -> None:
    events: list[ir.Event] = [
        ir.MessageStart(id="c1", model=""),
        ir.BlockStart(0, ir.ToolCall("call_a", "a", "")),
        ir.BlockStart(1, ir.ToolCall("call_b", "b", '{"x"')),
        ir.BlockDelta(0, "arguments", '{"y": 1}'),
        ir.BlockDelta(1, "arguments", ": 2}"),
        ir.Finish("tool_use"),
    ]
    out = render(events, model="fallback", framing="json_array")
    chunks = chunks_of(out)
    assert [c["candidates"][0]["content"]["parts"][0]["functionCall"] for c in chunks[:2]] == [
        {"name": "a", "args": {"y": 1}, "id": "call_a"},
        {"name": "b", "args": {"x": 2}, "id": "call_b"},
    ]
    assert chunks[0]["modelVersion"] == "fallback"
    assert out.endswith(b"]") and out.count(b"]") >= 1


def test_stream_render_invalid_call_arguments_become_an_in_stream_400() -> None:
    bad_args: list[ir.Event] = [
        ir.MessageStart(id="c1", model="m"),
        ir.BlockStart(0, ir.ToolCall("call_a", "a", "")),
        ir.BlockDelta(0, "arguments", '{"y": '),
        ir.BlockStop(0),
        ir.Finish("tool_use"),
    ]
    chunks = chunks_of(render(bad_args))
    assert len(chunks) == 1 and next(iter(chunks[0])) == "error"
    assert chunks[0]["error"]["code"] == 400
    assert chunks[0]["error"]["message"].startswith("tool call arguments must be a JSON object")


@pytest.mark.parametrize("framing", ["sse", "json_array"])
def test_stream_render_stream_error_ends_the_stream(framing: str) -> None:
    failure: list[ir.Event] = [
        ir.MessageStart(id="c1", model="m"),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockDelta(0, "text", "partial"),
        ir.StreamError(ir.Error("overloaded", "try later", 529)),
        ir.BlockDelta(0, "text", "ignored"),
    ]
    chunks = chunks_of(render(failure, framing=framing))
    assert chunks[-1] == {"error": {"code": 503, "message": "try later", "status": "UNAVAILABLE"}}
    assert len(chunks) == 2
    # google-genai recognises an in-stream error by the leading '{"error":'.
    assert orjson.dumps(chunks[-1]).startswith(b'{"error":')


def test_stream_render_with_nothing_sent_is_an_empty_json_array_or_nothing() -> None:
    renderer = gemini.StreamRenderer(ctx(framing="json_array"))
    assert renderer.render([]) == b""
    assert renderer.finish() == b"[]"
    renderer = gemini.StreamRenderer(ctx())
    assert renderer.finish() == b""


# ---------------------------------------------------------------- random inputs


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_random_stream_payloads_never_raise(payload: object) -> None:
    """Nothing escapes parsing or rendering any JSON chunk, and the stream always ends in
    Finish or StreamError."""
    try:
        data = orjson.dumps(payload)
    except orjson.JSONEncodeError:
        return
    events = parse_stream(b"data: " + data + b"\r\n\r\n")
    assert isinstance(events[-1], ir.Finish | ir.StreamError)
    render(events)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 16))
def test_random_stream_bytes_never_raise(data: bytes, size: int) -> None:
    """Nothing escapes parsing any bytes in any split, and the stream always ends in
    Finish or StreamError."""
    events = parse_stream(data, chunk=size)
    assert isinstance(events[-1], ir.Finish | ir.StreamError)
