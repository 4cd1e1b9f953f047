"""Responses streams: every other protocol's recorded streams rendered for a Responses
caller in the grammar (tests/responses_grammar.py) and accepted by the openai SDK's own
accumulator, for any byte split; the peer bugs of RESPONSES-NOTES.md that live in
streams; sealed state in reasoning items; and the parser for ``api: responses``
upstreams."""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.responses_grammar import validate_sse
from tests.unit.openai_responses import (
    FIXTURES,
    KEY,
    ctx,
    render_events,
    sdk_replay,
    split,
    sse_payloads,
    stream_bytes,
    translate,
    upstream_streams,
)
from translators import convert, ir, sealing
from translators.openai_responses import StreamParser, StreamRenderer

STREAMS = upstream_streams()
RESPONSES_STREAMS = sorted(p for p in FIXTURES.glob("stream_*") if p.suffix in (".sse", ".jsonl"))


def fixture(name: str):
    return next(path for _, path in STREAMS if path.name == name)


def types(raw: bytes) -> list[str]:
    return [p["type"] for p in sse_payloads(raw)]


def check(raw: bytes) -> dict:
    """Grammar, then the SDK: the accumulated snapshot agrees with the final output."""
    final = validate_sse(raw)
    snapshot, terminal = sdk_replay(raw)
    assert terminal["id"] == final["id"]
    for got, want in zip(snapshot.output, terminal["output"], strict=False):  # type: ignore[attr-defined]
        if want["type"] == "message":
            assert [c.text for c in got.content] == [c["text"] for c in want["content"]]
        elif want["type"] == "function_call":
            assert got.arguments == want["arguments"]
    return final


# ------------------------------------------------------------- every upstream stream


@pytest.mark.parametrize(("upstream", "path"), STREAMS, ids=lambda v: getattr(v, "name", v))
def test_upstream_streams_render_in_grammar_and_the_sdk_accepts_them(upstream, path):
    final = check(translate(upstream, [stream_bytes(path)]))
    assert final["status"] in ("completed", "incomplete", "failed")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(STREAMS), st.lists(st.integers(0), max_size=25))
def test_any_byte_split_gives_the_same_valid_stream(stream, cuts):
    upstream, path = stream
    data = stream_bytes(path)
    whole = translate(upstream, [data])
    assert translate(upstream, split(data, cuts)) == whole
    validate_sse(whole)


def test_one_byte_at_a_time():
    upstream, path = (
        "anthropic",
        fixture("stream_thinking_then_text.jsonl"),
    )
    data = stream_bytes(path)
    assert translate(upstream, [bytes([b]) for b in data]) == translate(upstream, [data])


def test_stream_shape_first_events_ids_and_no_done():
    raw = translate("anthropic", [stream_bytes(STREAMS[7][1])])
    kinds = types(raw)
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert b"[DONE]" not in raw
    for block in raw.split(b"\n\n")[:-1]:
        event, data = block.split(b"\n")
        assert event[7:] == orjson.loads(data[6:])["type"].encode()
    sequence = [p["sequence_number"] for p in sse_payloads(raw)]
    assert sequence == list(range(len(sequence)))
    final = validate_sse(raw)
    assert final["id"].startswith("resp_")
    assert all(i["id"].split("_")[0] in ("msg", "rs", "fc", "ctc") for i in final["output"])


# ------------------------------------------------------------------ peer bugs


def _chat(*chunks: dict) -> bytes:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "x"}
    frames = [b"data: " + orjson.dumps({**head, **c}) + b"\n\n" for c in chunks]
    return b"".join(frames) + b"data: [DONE]\n\n"


def _delta(delta: dict, finish: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_bug01_reasoning_then_text_announces_message_item():
    raw = render_events(
        [
            ir.MessageStart("m1", "claude"),
            ir.BlockStart(0, ir.Thinking(origin="anthropic")),
            ir.BlockDelta(0, "thinking", "Let me think."),
            ir.BlockDelta(0, "signature", "sig-A"),
            ir.BlockStop(0),
            ir.BlockStart(1, ir.Text("")),
            ir.BlockDelta(1, "text", "Answer."),
            ir.BlockStop(1),
            ir.Finish("end_turn", ir.Usage(10, 5)),
        ]
    )
    final = check(raw)
    assert [i["type"] for i in final["output"]] == ["reasoning", "message"]
    payloads = sse_payloads(raw)
    added = [p for p in payloads if p["type"] == "response.output_item.added"]
    first_text = next(
        i for i, p in enumerate(payloads) if p["type"] == "response.output_text.delta"
    )
    assert payloads.index(added[1]) < first_text and added[1]["item"]["type"] == "message"


def test_bug01_text_after_thinking_after_text_opens_a_new_message():
    raw = render_events(
        [
            ir.BlockStart(0, ir.Text("")),
            ir.BlockDelta(0, "text", "One."),
            ir.BlockStop(0),
            ir.BlockStart(1, ir.Thinking(origin="anthropic")),
            ir.BlockDelta(1, "thinking", "hmm"),
            ir.BlockStop(1),
            ir.BlockStart(2, ir.Text("")),
            ir.BlockDelta(2, "text", "Two."),
            ir.BlockStop(2),
            ir.Finish("end_turn"),
        ]
    )
    assert [i["type"] for i in check(raw)["output"]] == ["message", "reasoning", "message"]


def test_bug02_dense_output_index_no_overlap_and_summary_index():
    gemini = fixture("stream_parallel_function_calls_gemini25.sse")
    raw = translate("gemini", [stream_bytes(gemini)])
    final = check(raw)  # the grammar checks overlap and density
    indices = [
        p["output_index"] for p in sse_payloads(raw) if p["type"] == "response.output_item.added"
    ]
    assert indices == list(range(len(final["output"])))
    anthropic = fixture("stream_docs_extended_thinking.sse")
    payloads = sse_payloads(translate("anthropic", [stream_bytes(anthropic)]))
    summary = [p for p in payloads if p["type"].startswith("response.reasoning_summary")]
    assert summary and all(p["summary_index"] == 0 for p in summary)


def test_bug02_interleaved_call_fragments_become_sequential_items():
    def call(index: int, **fields: object) -> dict:
        return _delta({"tool_calls": [{"index": index, **fields}]})

    raw = translate(
        "openai_chat",
        [
            _chat(
                _delta({"role": "assistant"}),
                call(0, id="call_a", type="function", function={"name": "a", "arguments": '{"x'}),
                call(1, id="call_b", type="function", function={"name": "b", "arguments": '{"y"'}),
                call(0, function={"arguments": '": 1'}),
                call(1, function={"arguments": ": 2}"}),
                call(0, function={"arguments": "}"}),
                _delta({}, "tool_calls"),
            )
        ],
    )
    final = check(raw)
    assert [(i["name"], i["arguments"]) for i in final["output"]] == [
        ("a", '{"x": 1}'),
        ("b", '{"y": 2}'),
    ]


def test_bug03_role_only_first_chunk_keeps_the_reasoning():
    raw = translate(
        "openai_chat",
        [
            _chat(
                _delta({"role": "assistant", "content": ""}),
                _delta({"reasoning_content": "Thinking it over."}),
                _delta({"content": "Done."}),
                _delta({}, "stop"),
            )
        ],
    )
    final = check(raw)
    assert [i["type"] for i in final["output"]] == ["reasoning", "message"]
    assert final["output"][0]["summary"] == [{"type": "summary_text", "text": "Thinking it over."}]


def test_bug12_stream_cut_mid_item_ends_in_response_failed():
    anthropic = fixture("stream_text_then_tool_use.sse")
    data = stream_bytes(anthropic)
    cut = data[: data.index(b"input_json_delta") + 40]
    raw = translate("anthropic", [cut])
    final = validate_sse(raw)
    assert types(raw)[-1] == "response.failed"
    assert final["status"] == "failed" and final["error"]["code"] == "server_error"
    assert "ended before" in final["error"]["message"]
    sdk_replay(raw)


def test_bug12_stream_error_event_mid_item_is_response_failed():
    raw = render_events(
        [
            ir.BlockStart(0, ir.Text("")),
            ir.BlockDelta(0, "text", "partial"),
            ir.StreamError(ir.Error("overloaded", "Overloaded", 529)),
        ]
    )
    final = validate_sse(raw)
    assert final["error"] == {"code": "server_is_overloaded", "message": "Overloaded"}
    assert final["output"] == []


def test_bug12_renderer_finish_without_end_fails():
    renderer = StreamRenderer(ctx())
    raw = renderer.render([ir.BlockStart(0, ir.Text("")), ir.BlockDelta(0, "text", "x")])
    raw += renderer.finish()
    assert types(raw)[-1] == "response.failed"
    validate_sse(raw)


def test_bug13_arguments_only_in_the_opening_block_or_none_still_appear():
    raw = render_events(
        [
            ir.BlockStart(0, ir.ToolCall("call_1", "lookup", '{"q": "x"}')),
            ir.BlockStop(0),
            ir.BlockStart(1, ir.ToolCall("call_2", "now", "")),
            ir.BlockStop(1),
            ir.Finish("tool_use"),
        ]
    )
    final = check(raw)
    assert [i["arguments"] for i in final["output"]] == ['{"q": "x"}', "{}"]


def test_bug14_empty_tool_calls_with_text_keeps_the_message_open():
    raw = translate(
        "openai_chat",
        [
            _chat(
                _delta({"role": "assistant", "content": "Hel", "tool_calls": []}),
                _delta({"content": "lo", "tool_calls": []}),
                _delta({}, "stop"),
            )
        ],
    )
    final = check(raw)
    assert len(final["output"]) == 1
    assert final["output"][0]["content"][0]["text"] == "Hello"


def test_bug15_anthropic_cache_tokens_are_inside_input_tokens():
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude",
                "content": [],
                "stop_reason": None,
                "usage": {
                    "input_tokens": 10,
                    "cache_read_input_tokens": 100,
                    "cache_creation_input_tokens": 20,
                    "output_tokens": 1,
                },
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 7},
        },
        {"type": "message_stop"},
    ]
    data = b"".join(
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events
    )
    usage = check(translate("anthropic", [data]))["usage"]
    assert usage["input_tokens"] == 130
    assert usage["input_tokens_details"] == {"cached_tokens": 100, "cache_write_tokens": 20}
    assert usage["total_tokens"] == 137


def test_bug10_custom_tool_streams_as_custom_tool_call_with_raw_input():
    patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch"
    wrapped = orjson.dumps({"input": patch}).decode()
    context = ctx(tool_origins={"apply_patch": ir.ToolOrigin("apply_patch", None, "custom")})
    translator = convert.StreamTranslator("anthropic", "openai_responses", context)
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude",
                "content": [],
                "usage": {"input_tokens": 5, "output_tokens": 1},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "apply_patch",
                "input": {},
            },
        },
        *[
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": wrapped[i : i + 7]},
            }
            for i in range(0, len(wrapped), 7)
        ],
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
    data = b"".join(
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events
    )
    raw = translator.feed(data) + translator.finish()
    final = check(raw)
    assert final["output"] == [
        {
            "id": final["output"][0]["id"],
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": "toolu_1",
            "name": "apply_patch",
            "input": patch,
        }
    ]
    assert "response.custom_tool_call_input.done" in types(raw)
    assert "response.function_call_arguments.delta" not in types(raw)


def test_bug09_namespace_restored_on_a_streamed_call():
    context = ctx(tool_origins={"crm__find": ir.ToolOrigin("find", "crm")})
    gemini = [
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"functionCall": {"name": "crm__find", "args": {"who": "ada"}}}],
                    },
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 3,
                "candidatesTokenCount": 2,
                "totalTokenCount": 5,
            },
        },
    ]
    data = b"".join(b"data: " + orjson.dumps(c) + b"\r\n\r\n" for c in gemini)
    final = check(translate("gemini", [data], context))
    call = final["output"][0]
    assert (call["namespace"], call["name"], call["arguments"]) == ("crm", "find", '{"who":"ada"}')


# ------------------------------------------------------------------- sealed state


def _opened(item: dict, provider: str = "prov") -> dict | None:
    return sealing.unseal(KEY, provider, item["encrypted_content"])


def test_thinking_signature_sealed_into_encrypted_content():
    raw = render_events(
        [
            ir.BlockStart(0, ir.Thinking(origin="anthropic")),
            ir.BlockDelta(0, "thinking", "why"),
            ir.BlockDelta(0, "signature", "EqQBCkYIBxgC"),
            ir.BlockStop(0),
            ir.BlockStart(1, ir.Thinking(redacted="REDACTED", origin="anthropic")),
            ir.BlockStop(1),
            ir.Finish("end_turn"),
        ]
    )
    first, second = check(raw)["output"]
    assert first["summary"] == [{"type": "summary_text", "text": "why"}]
    assert _opened(first) == {
        "thinking": [{"origin": "anthropic", "text": "why", "signature": "EqQBCkYIBxgC"}]
    }
    assert second["summary"] == []
    assert _opened(second)["thinking"][0]["redacted"] == "REDACTED"  # type: ignore[index]
    assert _opened(first, "other-provider") is None


def test_without_a_key_nothing_is_sealed():
    raw = render_events(
        [
            ir.BlockStart(0, ir.Thinking(origin="anthropic")),
            ir.BlockDelta(0, "thinking", "why"),
            ir.BlockDelta(0, "signature", "sig"),
            ir.BlockStop(0),
            ir.BlockStart(1, ir.ToolCall("c1", "f", "{}", signature="gsig")),
            ir.BlockStop(1),
            ir.Finish("tool_use"),
        ],
        ctx(state_key=None),
    )
    output = check(raw)["output"]
    assert [i["type"] for i in output] == ["reasoning", "function_call"]
    assert "encrypted_content" not in output[0]


def test_bug08_gemini_call_and_text_signatures_ride_in_reasoning_items():
    call_stream = fixture("stream_gemini3_function_call.jsonl")
    output = check(translate("gemini", [stream_bytes(call_stream)]))["output"]
    assert [i["type"] for i in output] == ["reasoning", "function_call"]
    state = _opened(output[0])
    assert state is not None and list(state["calls"]) == [output[1]["call_id"]]
    text_stream = fixture("stream_gemini3_text_trailing_signature.jsonl")
    output = check(translate("gemini", [stream_bytes(text_stream)]))["output"]
    assert [i["type"] for i in output] == ["message", "reasoning"]
    assert isinstance((_opened(output[1]) or {}).get("text"), str)


def test_same_protocol_reasoning_keeps_openai_encrypted_content():
    path = FIXTURES / "stream_reasoning_summary_then_function_call.jsonl"
    raw = translate("openai_responses", [stream_bytes(path)], ctx(source="openai_responses"))
    final = check(raw)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    original = lines[-1]["response"]
    done = [e["item"] for e in lines if e["type"] == "response.output_item.done"]
    assert final["id"] == original["id"]
    # OpenAI encrypts afresh in each event; the parser keeps the one of output_item.done
    assert final["output"][0]["encrypted_content"] == done[0]["encrypted_content"]
    assert final["output"][0]["summary"] == original["output"][0]["summary"]
    assert final["output"][1]["arguments"] == original["output"][1]["arguments"]


# ------------------------------------------------------------------------ parser


def parse(data: bytes, chunks: list[bytes] | None = None) -> list[ir.Event]:
    parser = StreamParser()
    events = [e for c in (chunks or [data]) for e in parser.feed(c)]
    return events + parser.finish()


@pytest.mark.parametrize("path", RESPONSES_STREAMS, ids=lambda p: p.name)
def test_parser_reads_the_recorded_streams(path):
    events = parse(stream_bytes(path))
    assert isinstance(events[0], ir.MessageStart)
    assert isinstance(events[-1], (ir.Finish, ir.StreamError))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(RESPONSES_STREAMS), st.lists(st.integers(0), max_size=25))
def test_parser_any_split_gives_identical_events(path, cuts):
    data = stream_bytes(path)
    assert parse(data, split(data, cuts)) == parse(data)


def test_parser_reasoning_then_call():
    events = parse(stream_bytes(FIXTURES / "stream_reasoning_summary_then_function_call.jsonl"))
    starts = [e.part for e in events if isinstance(e, ir.BlockStart)]
    assert isinstance(starts[0], ir.Thinking) and starts[0].origin == "openai_responses"
    assert isinstance(starts[1], ir.ToolCall) and starts[1].name == "calculator"
    signature = [e for e in events if isinstance(e, ir.BlockDelta) and e.kind == "signature"]
    assert signature[0].text.startswith("gAAAA")
    finish = events[-1]
    assert isinstance(finish, ir.Finish) and finish.stop_reason == "tool_use"
    assert finish.usage is not None and finish.usage.output_tokens > 0


def test_parser_error_then_failed_is_one_stream_error():
    events = parse(stream_bytes(FIXTURES / "stream_error_then_failed.jsonl"))
    errors = [e for e in events if isinstance(e, ir.StreamError)]
    assert len(errors) == 1 and errors[0].error.kind == "billing"
    assert errors[0].error.code == "insufficient_quota"


def test_parser_ignores_unknown_events_and_keepalives_and_values_only_in_done():
    def ev(payload: dict) -> bytes:
        return b"event: " + payload["type"].encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"

    data = b"".join(
        [
            ev(
                {
                    "type": "response.created",
                    "response": {"id": "resp_1", "model": "gpt", "created_at": 5},
                }
            ),
            b": keepalive\n\n",
            ev({"type": "response.in_progress", "response": {}}),
            ev({"type": "response.something_new", "x": 1}),
            ev(
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {
                        "type": "function_call",
                        "id": "fc_1",
                        "call_id": "call_1",
                        "name": "f",
                        "arguments": "",
                    },
                }
            ),
            ev(
                {
                    "type": "response.function_call_arguments.done",
                    "output_index": 0,
                    "item_id": "fc_1",
                    "arguments": '{"a":1}',
                }
            ),
            ev(
                {
                    "type": "response.output_item.done",
                    "output_index": 0,
                    "item": {
                        "type": "function_call",
                        "id": "fc_1",
                        "call_id": "call_1",
                        "name": "f",
                        "arguments": '{"a":1}',
                    },
                }
            ),
            ev(
                {
                    "type": "response.incomplete",
                    "response": {
                        "status": "incomplete",
                        "incomplete_details": {"reason": "max_output_tokens"},
                    },
                }
            ),
        ]
    )
    events = parse(data)
    deltas = [e.text for e in events if isinstance(e, ir.BlockDelta)]
    assert deltas == ['{"a":1}']
    assert events[-1] == ir.Finish("max_tokens", None, raw_stop_reason="incomplete")


def test_parser_stream_without_terminal_yields_no_finish_and_convert_fails_it():
    data = stream_bytes(FIXTURES / "stream_text_message.jsonl")
    cut = data[: data.index(b"response.output_text.done")]
    assert not any(isinstance(e, (ir.Finish, ir.StreamError)) for e in parse(cut))
    translator = convert.StreamTranslator("openai_responses", "openai_chat", ctx())
    out = translator.feed(cut) + translator.finish()
    assert b'"error"' in out and translator.error


@pytest.mark.parametrize("client", ["openai_chat", "anthropic", "gemini", "openai_responses"])
@pytest.mark.parametrize("path", RESPONSES_STREAMS, ids=lambda p: p.name)
def test_responses_upstream_streams_reach_every_caller(client, path):
    translator = convert.StreamTranslator("openai_responses", client, ctx())
    out = translator.feed(stream_bytes(path)) + translator.finish()
    assert out
    if client == "openai_responses":
        validate_sse(out)


_part = st.sampled_from(
    [
        ir.Text(""),
        ir.Text("", signature="gsig"),
        ir.Thinking(origin="anthropic"),
        ir.Thinking(redacted="R", origin="anthropic"),
        ir.Thinking(origin="openai_responses"),
        ir.ToolCall("c", "f", ""),
        ir.ToolCall("c", "f", '{"a":', signature="gsig"),
        ir.ToolCall("c", "p", "", kind="custom", namespace="ns"),
    ]
)
_step = st.one_of(
    st.tuples(st.just("start"), _part),
    st.tuples(st.just("delta"), st.integers(0, 5), st.text(max_size=5)),
    st.tuples(st.just("signature"), st.integers(0, 5), st.text(min_size=1, max_size=5)),
    st.tuples(st.just("stop"), st.integers(0, 5)),
    st.tuples(st.just("usage"), st.integers(0, 50)),
)
_end = st.sampled_from(["end_turn", "tool_use", "max_tokens", "content_filter", "error", None])


@settings(max_examples=400, deadline=None)
@given(st.lists(_step, max_size=25), _end, st.booleans())
def test_any_ir_event_sequence_renders_in_grammar(steps, end, with_key):
    """Whatever order IR events come in (overlapping blocks, deltas of blocks that
    stopped or never started, repeated stops), the caller's stream is in grammar, ends
    with exactly one terminal event, and the SDK accumulates it."""
    events: list[ir.Event] = []
    kinds: dict[int, str] = {}
    for step in steps:
        if step[0] == "start":
            index = len(kinds)
            part = step[1]
            if isinstance(part, ir.ToolCall):  # call ids are unique within an answer
                part = dataclasses.replace(part, id=f"c{index}")
            kinds[index] = type(part).__name__
            events.append(ir.BlockStart(index, part))
        elif step[0] in ("delta", "signature") and step[1] in kinds:
            kind = {"Text": "text", "Thinking": "thinking", "ToolCall": "arguments"}[kinds[step[1]]]
            events.append(
                ir.BlockDelta(step[1], "signature" if step[0] == "signature" else kind, step[2])
            )  # type: ignore[arg-type]
        elif step[0] == "stop":
            events.append(ir.BlockStop(step[1]))
        elif step[0] == "usage":
            events.append(ir.UsageUpdate(ir.Usage(step[1], step[1])))
    if end == "error":
        events.append(ir.StreamError(ir.Error("api_error", "boom", 500)))
    elif end is not None:
        events.append(ir.Finish(end, ir.Usage(3, 4)))
    raw = render_events(events, ctx(state_key=KEY if with_key else None))
    final = validate_sse(raw)
    terminal = [
        t
        for t in types(raw)
        if t in ("response.completed", "response.incomplete", "response.failed")
    ]
    assert len(terminal) == 1
    assert final["status"] == {None: "failed", "error": "failed"}.get(end, final["status"])
    sdk_replay(raw)


def test_the_request_fields_the_answer_echoes_are_in_every_response_object():
    echo = {"store": True, "previous_response_id": "resp_prev", "instructions": "Be brief."}
    raw = translate(
        "anthropic",
        [stream_bytes(fixture("stream_thinking_then_text.jsonl"))],
        ctx(echo={**echo, "not_a_response_field": 1}),
    )
    final = validate_sse(raw)
    created = sse_payloads(raw)[0]["response"]
    for response in (created, final):
        assert {k: response[k] for k in echo} == echo
        assert "not_a_response_field" not in response
