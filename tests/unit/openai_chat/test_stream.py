"""stream.py: StreamParser (any split, dialects, truncation) and StreamRenderer."""

from __future__ import annotations

import dataclasses

import openai
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

from tests.unit.openai_chat import CTX, FIXTURES, JSON, SAME_CTX, USAGE_CTX, sdk
from translators import ir
from translators import openai_chat as oc
from translators.openai_chat import wire
from translators.sse import SSEDecoder

STREAMS = [
    *sorted(p.name for p in FIXTURES.glob("stream_*.sse")),
    "stream_text_2026_usage_null_obfuscation.jsonl",
]


def stream_bytes(name: str) -> bytes:
    """Raw SSE; the ``.jsonl`` recording gets back the framing and ``[DONE]`` it lost."""
    raw = (FIXTURES / name).read_bytes()
    if name.endswith(".sse"):
        return raw
    frames = [b"data: " + line + b"\n\n" for line in raw.splitlines() if line.strip()]
    return b"".join(frames) + b"data: [DONE]\n\n"


def parse_stream(data: bytes, splits: list[int] | None = None) -> list[ir.Event]:
    parser = oc.StreamParser()
    events: list[ir.Event] = []
    start = 0
    for cut in [*sorted(set(splits or [])), len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
    return events + parser.finish()


def assert_grammar(events: list[ir.Event]) -> None:
    """MessageStart, blocks numbered 0.. opened once and closed once, then one Finish;
    or a StreamError, which ends everything."""
    failed = isinstance(events[-1], ir.StreamError)
    assert failed or isinstance(events[-1], ir.Finish)
    events = events[:-1]
    if not events:
        assert failed
        return
    assert isinstance(events[0], ir.MessageStart)
    open_blocks: set[int] = set()
    opened = 0
    for event in events[1:]:
        if isinstance(event, ir.BlockStart):
            assert event.index == opened
            opened += 1
            open_blocks.add(event.index)
            if isinstance(event.part, ir.ToolCall):
                assert event.part.arguments == ""
        elif isinstance(event, ir.BlockDelta):
            assert event.index in open_blocks
        elif isinstance(event, ir.BlockStop):
            open_blocks.remove(event.index)
        else:
            assert isinstance(event, ir.UsageUpdate)
    assert failed or not open_blocks


def render_stream(events: list[ir.Event], ctx: ir.RenderContext = SAME_CTX) -> bytes:
    renderer = oc.StreamRenderer(ctx)
    return renderer.render(events) + renderer.finish()


def payloads(data: bytes) -> list[bytes]:
    decoder = SSEDecoder()
    return [event.data for event in decoder.feed(data) + decoder.finish()]


def chunk_json(data: bytes) -> list[dict]:
    return [orjson.loads(p) for p in payloads(data) if p != b"[DONE]"]


def sdk_stream(data: bytes) -> list[ChatCompletionChunk]:
    client = sdk(200, data, "text/event-stream")
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    return list(stream)


def sdk_final(data: bytes):
    """The SDK's own accumulation of a stream (the snapshot: the final-completion helper
    raises on finish_reason length by design)."""
    state = ChatCompletionStreamState()
    for chunk in sdk_stream(data):
        state.handle_chunk(chunk)
    return state.current_completion_snapshot


def chunks(*deltas: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    """A stream body from deltas for choice 0."""
    head = {"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 5, "model": "ds"}
    out = [{**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    if finish is not None:
        out.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if usage is not None:
        out.append({**head, "choices": [], "usage": usage})
    return b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in out) + b"data: [DONE]\n\n"


# ------------------------------------------------------------------------------- parse


@pytest.mark.parametrize("name", STREAMS)
def test_stream_examples_survive_render_and_reparse(name: str) -> None:
    events = parse_stream(stream_bytes(name))
    assert_grammar(events)
    assert isinstance(events[-1], ir.Finish)
    rendered = render_stream(events)
    for chunk in chunk_json(rendered):
        ChatCompletionChunk.model_validate(chunk)
    again = parse_stream(rendered)
    if name == "stream_refusal.sse":
        # The IR has no refusal marker on a streamed block: the text comes back as content.
        assert events[-1].stop_reason == "content_filter"
        assert again[-1].stop_reason == "end_turn"
        again[-1] = dataclasses.replace(again[-1], stop_reason="content_filter")
    assert again == events


@pytest.mark.parametrize("name", STREAMS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_split_gives_identical_events(name: str, data: st.DataObject) -> None:
    raw = stream_bytes(name)
    splits = data.draw(st.lists(st.integers(0, len(raw)), max_size=12))
    assert parse_stream(raw, splits) == parse_stream(raw)


def test_byte_by_byte_split_gives_identical_events() -> None:
    raw = stream_bytes("stream_parallel_tool_calls.sse")
    assert parse_stream(raw, list(range(len(raw)))) == parse_stream(raw)


def test_parallel_tool_calls_keep_their_indices() -> None:
    events = parse_stream(stream_bytes("stream_parallel_tool_calls.sse"))
    starts = [e for e in events if isinstance(e, ir.BlockStart)]
    assert [(s.index, s.part.name) for s in starts] == [
        (0, "GetWeatherArgs"),
        (1, "get_stock_price"),
    ]
    args = {0: "", 1: ""}
    for event in events:
        if isinstance(event, ir.BlockDelta):
            args[event.index] += event.text
    assert all(orjson.loads(a) for a in args.values())
    assert events[-1].stop_reason == "tool_use"


def test_n3_stream_carries_only_choice_zero() -> None:
    events = parse_stream(stream_bytes("stream_n3_choices.sse"))
    text = "".join(e.text for e in events if isinstance(e, ir.BlockDelta))
    raw = [
        orjson.loads(p) for p in payloads(stream_bytes("stream_n3_choices.sse")) if p != b"[DONE]"
    ]
    expected = "".join(
        c["delta"].get("content") or ""
        for chunk in raw
        for c in chunk["choices"]
        if c["index"] == 0
    )
    assert text == expected
    assert events[-1].usage.output_tokens == 42


def test_reasoning_text_and_calls_become_sequential_blocks() -> None:
    events = parse_stream(
        chunks(
            {"role": "assistant", "content": None, "reasoning_content": ""},
            {"reasoning_content": "let me"},
            {"reasoning": " think"},
            {"content": "ok"},
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a":1}'},
                    }
                ]
            },
            finish="tool_calls",
            usage={"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        )
    )
    assert_grammar(events)
    assert events == [
        ir.MessageStart(id="chatcmpl-t", model="ds", created=5),
        ir.BlockStart(0, ir.Thinking(origin="openai_chat")),
        ir.BlockDelta(0, "thinking", "let me"),
        ir.BlockDelta(0, "thinking", " think"),
        ir.BlockStop(0),
        ir.BlockStart(1, ir.Text("")),
        ir.BlockDelta(1, "text", "ok"),
        ir.BlockStop(1),
        ir.BlockStart(2, ir.ToolCall("c1", "f", "")),
        ir.BlockDelta(2, "arguments", '{"a":1}'),
        ir.BlockStop(2),
        ir.Finish("tool_use", ir.Usage(5, 7), raw_stop_reason="tool_calls"),
    ]


def test_calls_without_index_are_keyed_by_id() -> None:
    events = parse_stream(
        chunks(
            {
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
                ]
            },
            {"tool_calls": [{"id": "a", "function": {"arguments": ""}}]},
            finish="tool_calls",
        )
    )
    assert_grammar(events)
    starts = [(e.index, e.part.id, e.part.name) for e in events if isinstance(e, ir.BlockStart)]
    assert starts == [(0, "a", "f"), (1, "b", "g")]
    deltas = [(e.index, e.text) for e in events if isinstance(e, ir.BlockDelta)]
    assert deltas == [(0, "{}"), (1, "{}")]


def test_a_new_id_under_a_known_index_starts_a_new_call() -> None:
    """Servers that number every call 0: the open call is closed, the new one opened; a
    fragment without id continues the latest call."""
    events = parse_stream(
        chunks(
            {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "h", "arguments": "{"}}]},
            {"tool_calls": [{"index": 0, "id": "d", "function": {"name": "i", "arguments": ""}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]},
            finish="stop",
        )
    )
    assert_grammar(events)
    assert events[1:] == [
        ir.BlockStart(0, ir.ToolCall("c", "h", "")),
        ir.BlockDelta(0, "arguments", "{"),
        ir.BlockStop(0),
        ir.BlockStart(1, ir.ToolCall("d", "i", "")),
        ir.BlockDelta(1, "arguments", "}"),
        ir.BlockStop(1),
        ir.Finish("tool_use", None, raw_stop_reason="stop"),
    ]


def test_calls_without_ids_get_ids_unique_across_turns() -> None:
    call = {"index": 0, "function": {"name": "f", "arguments": "{}"}}
    starts = [e for e in parse_stream(chunks({"tool_calls": [call]}, finish="tool_calls"))]
    assert ir.BlockStart(0, ir.ToolCall("call_chatcmpl-t_0", "f", "")) in starts


def test_gemini_signature_on_streamed_call() -> None:
    call = {
        "index": 0,
        "id": "c",
        "type": "function",
        "function": {"name": "f", "arguments": "{}"},
        "extra_content": {"google": {"thought_signature": "sig"}},
    }
    events = parse_stream(chunks({"tool_calls": [call]}, finish="tool_calls"))
    assert events[1] == ir.BlockStart(0, ir.ToolCall("c", "f", "", signature="sig"))


def test_usage_on_the_finish_chunk_is_the_final_usage() -> None:
    body = (
        b'data: {"id":"i","model":"m","created":1,'
        b'"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\ndata: [DONE]\n\n'
    )
    assert parse_stream(body)[-1] == ir.Finish("end_turn", ir.Usage(1, 2), raw_stop_reason="stop")


def test_groq_usage_is_read_from_x_groq() -> None:
    groq = (
        b'data: {"id":"i","model":"m","created":1,'
        b'"choices":[{"index":0,"delta":{},"finish_reason":"length"}],'
        b'"x_groq":{"usage":{"prompt_tokens":3,"completion_tokens":4}}}\n\ndata: [DONE]\n\n'
    )
    assert parse_stream(groq)[-1] == ir.Finish(
        "max_tokens", ir.Usage(3, 4), raw_stop_reason="length"
    )


def test_mid_stream_usage_is_an_update() -> None:
    events = parse_stream(
        b'data: {"id":"i","model":"m","choices":[{"index":0,"delta":{"content":"x"}}],'
        b'"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n'
        b'data: {"id":"i","model":"m",'
        b'"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    assert ir.UsageUpdate(ir.Usage(1, 1)) in events
    assert events[-1].usage == ir.Usage(1, 1)


def test_finish_is_emitted_on_the_usage_chunk() -> None:
    data = chunks(
        {"content": "x"}, finish="stop", usage={"prompt_tokens": 1, "completion_tokens": 1}
    )
    without_done = data[: -len(b"data: [DONE]\n\n")]
    parser = oc.StreamParser()
    events = parser.feed(without_done)
    assert isinstance(events[-1], ir.Finish)
    assert parser.feed(b"data: [DONE]\n\n") == [] and parser.finish() == []


def test_stream_ending_after_finish_reason_without_done() -> None:
    data = chunks({"content": "x"}, finish="stop")[: -len(b"data: [DONE]\n\n")]
    assert parse_stream(data)[-1] == ir.Finish("end_turn", None, raw_stop_reason="stop")


@pytest.mark.parametrize(
    "data",
    [
        chunks({"content": "x"})[: -len(b"data: [DONE]\n\n")],
        b"",
        b"data: {not json\n\n",
        b"data: [1]\n\n",
        b'data: {"choices":[{"index":0,"delta":{"content":5}}]}\n\n',
    ],
)
def test_truncated_or_malformed_streams_end_in_an_error(data: bytes) -> None:
    events = parse_stream(data)
    assert isinstance(events[-1], ir.StreamError)
    assert sum(isinstance(e, ir.StreamError | ir.Finish) for e in events) == 1


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        (
            {"choices": [{"index": 0, "delta": {"content": 5}}]},
            "choices[0].delta.content must be a string",
        ),
        ({"choices": ["x"]}, "choices[0] must be an object"),
        (
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"id": 7}]}}]},
            "choices[0].delta.tool_calls[0].id must be a string",
        ),
        ({"choices": [], "usage": {"prompt_tokens": 1e30}}, "usage.prompt_tokens is out of range"),
    ],
)
def test_a_malformed_chunk_is_an_error_naming_the_field(chunk: dict, message: str) -> None:
    events = parse_stream(b"data: " + orjson.dumps(chunk) + b"\n\n")
    assert isinstance(events[-1], ir.StreamError)
    assert events[-1].error.message.startswith(f"malformed upstream stream chunk: {message}")


def test_in_stream_error_payload_becomes_a_stream_error() -> None:
    data = (
        chunks({"content": "x"})[: -len(b"data: [DONE]\n\n")]
        + b'data: {"error":{"message":"overloaded","type":"server_error",'
        + b'"param":null,"code":null}}\n\n'
        + b"data: [DONE]\n\n"
    )
    events = parse_stream(data)
    assert events[-1] == ir.StreamError(
        ir.Error(kind="api_error", message="overloaded", status=500)
    )


def test_done_without_anything_still_starts_and_finishes() -> None:
    assert parse_stream(b"data: [DONE]\n\n") == [
        ir.MessageStart(id="", model=""),
        ir.Finish(None, None),
    ]


# ------------------------------------------------------------------------------ render


def foreign_events() -> list[ir.Event]:
    return [
        ir.MessageStart(id="msg_1", model="claude", usage=ir.Usage(10, 0)),
        ir.BlockStart(0, ir.Thinking(origin="anthropic")),
        ir.BlockDelta(0, "thinking", "hmm "),
        ir.BlockDelta(0, "thinking", "ok"),
        ir.BlockDelta(0, "signature", "c2ln"),
        ir.BlockStop(0),
        ir.BlockStart(1, ir.Text("")),
        ir.BlockDelta(1, "text", "Let me look."),
        ir.BlockDelta(1, "text", ""),
        ir.BlockStop(1),
        ir.BlockStart(2, ir.ToolCall("toolu_1", "search", "")),
        ir.BlockDelta(2, "arguments", '{"q":'),
        ir.BlockStart(3, ir.ToolCall("toolu_2", "now", "", signature="gsig")),
        ir.BlockDelta(2, "arguments", '"x"}'),
        ir.UsageUpdate(ir.Usage(10, 3)),
        ir.Finish("tool_use", ir.Usage(10, 30, cache_read_tokens=4), raw_stop_reason="tool_use"),
    ]


def test_foreign_stream_renders_like_openai_own_streams() -> None:
    data = render_stream(foreign_events(), USAGE_CTX)
    assert data.endswith(b"data: [DONE]\n\n")
    parsed = chunk_json(data)
    for chunk in parsed:
        ChatCompletionChunk.model_validate(chunk)
        assert (chunk["id"], chunk["created"], chunk["model"]) == ("msg_1", 1700000000, "claude")
        assert chunk["object"] == "chat.completion.chunk"
    deltas = [c["choices"][0]["delta"] for c in parsed if c["choices"]]
    finishes = [c["choices"][0]["finish_reason"] for c in parsed if c["choices"]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"reasoning_content": "hmm "},
        {"reasoning_content": "ok"},
        {"thinking_blocks": [{"type": "thinking", "thinking": "hmm ok", "signature": "c2ln"}]},
        {"content": "Let me look."},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "search", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"q":'}}]},
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "toolu_2",
                    "type": "function",
                    "function": {"name": "now", "arguments": ""},
                    "extra_content": {"google": {"thought_signature": "gsig"}},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '"x"}'}}]},
        {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]},
        {},
    ]
    assert finishes == [None] * 10 + ["tool_calls"]
    assert parsed[-1]["choices"] == []
    assert parsed[-1]["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 30,
        "total_tokens": 40,
        "prompt_tokens_details": {"cached_tokens": 4},
    }


def test_sdk_accumulates_rendered_foreign_stream() -> None:
    final = sdk_final(render_stream(foreign_events(), USAGE_CTX))
    (choice,) = final.choices
    assert choice.message.content == "Let me look."
    assert choice.finish_reason == "tool_calls"
    calls = [(c.id, c.function.name, c.function.arguments) for c in choice.message.tool_calls]
    assert calls == [("toolu_1", "search", '{"q":"x"}'), ("toolu_2", "now", "{}")]
    assert final.usage.total_tokens == 40


@pytest.mark.parametrize("name", STREAMS)
def test_sdk_reads_rendered_examples(name: str) -> None:
    events = parse_stream(stream_bytes(name))
    final = sdk_final(render_stream(events))
    text = "".join(e.text for e in events if isinstance(e, ir.BlockDelta) and e.kind == "text")
    assert (final.choices[0].message.content or "") == text
    assert final.usage == openai.types.CompletionUsage.model_validate(
        wire.render_usage(events[-1].usage)
    )


def test_no_usage_chunk_unless_asked() -> None:
    asked = chunk_json(render_stream(foreign_events(), USAGE_CTX))
    parsed = chunk_json(render_stream(foreign_events(), CTX))
    assert parsed == asked[:-1]
    assert parsed[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert all(chunk["choices"] for chunk in parsed)


def test_renderer_without_message_start_takes_id_and_model_from_ctx() -> None:
    data = render_stream([ir.BlockStart(0, ir.Text("")), ir.Finish("end_turn", None)], CTX)
    parsed = chunk_json(data)
    assert [(c["id"], c["model"], c["created"]) for c in parsed] == [
        ("chatcmpl-req42", "gpt-test", 1700000000)
    ] * 2
    assert parsed[-1]["choices"][0]["finish_reason"] == "stop"


def test_renderer_gives_calls_without_argument_text_empty_arguments() -> None:
    """Also without a BlockStop: the Finish closes the call."""
    data = render_stream(
        [
            ir.BlockStart(0, ir.ToolCall("c", "f", "")),
            ir.BlockStart(1, ir.Text("")),
            ir.BlockDelta(1, "text", "hi"),
            ir.Finish("end_turn", None),
        ],
        CTX,
    )
    parsed = chunk_json(data)
    assert parsed[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert parsed[-2]["choices"][0]["delta"] == {
        "tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]
    }
    assert sdk_final(data).choices[0].message.tool_calls[0].function.arguments == "{}"


def test_arguments_in_block_start_are_sent() -> None:
    data = render_stream(
        [
            ir.BlockStart(0, ir.ToolCall("c", "f", '{"a":1}')),
            ir.BlockStop(0),
            ir.Finish("tool_use"),
        ],
        CTX,
    )
    final = sdk_final(data)
    assert final.choices[0].message.tool_calls[0].function.arguments == '{"a":1}'


def test_stream_signatures_render_as_thinking_blocks_and_extra_content() -> None:
    data = render_stream(
        [
            ir.MessageStart(id="g", model="gemini"),
            ir.BlockStart(0, ir.Thinking(redacted="cmVk", origin="anthropic")),
            ir.BlockStop(0),
            ir.BlockStart(1, ir.Thinking(origin="gemini")),
            ir.BlockDelta(1, "thinking", "t"),
            ir.BlockDelta(1, "signature", "Z3M="),
            ir.BlockStart(2, ir.Text("")),
            ir.BlockDelta(2, "text", "a"),
            ir.BlockDelta(2, "signature", "tsig"),
            ir.Finish("end_turn"),
        ],
        CTX,
    )
    deltas = [c["choices"][0]["delta"] for c in chunk_json(data)]
    assert {"thinking_blocks": [{"type": "redacted_thinking", "data": "cmVk"}]} in deltas
    assert {
        "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "gemini:Z3M="}]
    } in deltas
    assert {"extra_content": {"google": {"thought_signature": "tsig"}}} in deltas


def test_stream_error_is_an_sdk_api_error_and_ends_the_stream() -> None:
    renderer = oc.StreamRenderer(CTX)
    data = renderer.render(
        [
            ir.MessageStart(id="x", model="m"),
            ir.BlockStart(0, ir.Text("")),
            ir.BlockDelta(0, "text", "partial"),
            ir.StreamError(ir.Error(kind="overloaded", message="Overloaded", status=529)),
            ir.BlockDelta(0, "text", "ignored"),
        ]
    )
    assert renderer.render([ir.Finish("end_turn")]) == b"" and renderer.finish() == b""
    assert payloads(data)[-1] == orjson.dumps(
        {
            "error": {
                "message": "Overloaded",
                "type": "service_unavailable_error",
                "param": None,
                "code": None,
            }
        }
    )
    assert b"[DONE]" not in data and b"ignored" not in data
    with pytest.raises(openai.APIError) as info:
        sdk_stream(data)
    assert info.value.message == "Overloaded"
    assert parse_stream(data)[-1] == ir.StreamError(
        ir.Error(kind="overloaded", message="Overloaded", status=503)
    )


def test_renderer_finish_reports_a_cut_off_stream() -> None:
    renderer = oc.StreamRenderer(CTX)
    renderer.render([ir.MessageStart(id="x", model="m")])
    tail = renderer.finish()
    assert orjson.loads(payloads(tail)[0])["error"]["type"] == "server_error"
    assert oc.StreamRenderer(CTX).finish() == b""


def test_same_protocol_stream_keeps_the_raw_finish_reason() -> None:
    events = [ir.MessageStart(id="x", model="m"), ir.Finish("max_tokens", raw_stop_reason="eos")]
    rendered = chunk_json(render_stream(events, SAME_CTX))
    assert rendered[-1]["choices"][0]["finish_reason"] == "eos"
    # No usage was known, so no usage chunk follows even though the caller asked for it.
    assert rendered[-1]["choices"]


def test_foreign_context_window_stop_renders_as_length() -> None:
    events = [
        ir.MessageStart(id="x", model="m"),
        ir.Finish("context_window", raw_stop_reason="model_context_window_exceeded"),
    ]
    assert chunk_json(render_stream(events, CTX))[-1]["choices"][0]["finish_reason"] == "length"


# ------------------------------------------------------------------------ random input


STREAM_CALL = st.fixed_dictionaries(
    {},
    optional={
        "index": st.integers(0, 2) | JSON,
        "id": st.sampled_from(["a", "b", None]),
        "function": st.fixed_dictionaries(
            {}, optional={"name": st.text(max_size=2), "arguments": st.text(max_size=3)}
        ),
    },
)
DELTA = st.fixed_dictionaries(
    {},
    optional={
        "content": st.text(max_size=3) | JSON,
        "reasoning_content": st.text(max_size=3),
        "refusal": st.none() | st.text(max_size=2),
        "tool_calls": st.lists(STREAM_CALL, max_size=2),
    },
)
STREAM_CHOICE = st.fixed_dictionaries(
    {"index": st.integers(0, 1), "delta": DELTA},
    optional={"finish_reason": st.sampled_from(["stop", "length", "tool_calls", None])},
)
CHUNK = st.fixed_dictionaries(
    {"id": st.just("x"), "choices": st.lists(STREAM_CHOICE, max_size=2)},
    optional={"usage": st.none() | st.just({"prompt_tokens": 1, "completion_tokens": 2})},
)
FRAME = (
    (CHUNK | JSON).map(lambda v: b"data: " + orjson.dumps(v) + b"\n\n")
    | st.just(b"data: [DONE]\n\n")
    | st.binary(max_size=30)
)


@settings(max_examples=300, deadline=None)
@given(frames=st.lists(FRAME, max_size=8))
def test_random_streams_end_in_exactly_one_finish_or_error(frames: list[bytes]) -> None:
    data = b"".join(frames)
    events = parse_stream(data)
    assert_grammar(events)
    rendered = payloads(render_stream(events, USAGE_CTX))
    if isinstance(events[-1], ir.Finish):
        assert rendered[-1] == b"[DONE]"
    else:
        assert "error" in orjson.loads(rendered[-1])
    for chunk in chunk_json(b"".join(b"data: " + p + b"\n\n" for p in rendered)):
        if "error" not in chunk:
            ChatCompletionChunk.model_validate(chunk)
