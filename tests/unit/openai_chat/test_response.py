"""response.py: whole answers both ways (errors: test_wire.py, with the error table)."""

from __future__ import annotations

import copy

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion

from tests.unit.openai_chat import CTX, FIXTURES, JSON, SAME_CTX, load
from translators import ir
from translators import openai_chat as oc
from translators.errors import TranslationError

RESPONSES = sorted(p.name for p in FIXTURES.glob("response_*.json"))


@pytest.mark.parametrize("name", RESPONSES)
def test_response_examples_round_trip(name: str) -> None:
    body = load(name)
    rendered = oc.render_response(oc.parse_response(copy.deepcopy(body)), CTX)
    assert rendered == body
    ChatCompletion.model_validate(rendered)


def test_response_tools_example_maps_to_ir() -> None:
    resp = oc.parse_response(load("response_tools.json"))
    (choice,) = resp.choices
    assert choice.parts == [
        ir.ToolCall("call_abc123", "get_current_weather", '{\n"location": "Boston, MA"\n}')
    ]
    assert choice.stop_reason == "tool_use"
    assert choice.raw_stop_reason == "tool_calls"
    assert resp.usage == ir.Usage(input_tokens=82, output_tokens=17, reasoning_tokens=0)


def test_refusal_is_text_with_stop_reason_content_filter() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "refusal": "No."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
    }
    resp = oc.parse_response(copy.deepcopy(body))
    assert resp.choices[0].parts == [ir.Text("No.")]
    assert resp.choices[0].stop_reason == "content_filter"
    assert oc.render_response(resp, CTX) == body
    resp.source = "anthropic"
    foreign = oc.render_response(resp, CTX)
    assert foreign["choices"][0]["message"]["content"] == "No."
    assert foreign["choices"][0]["finish_reason"] == "content_filter"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_compatible_server_reasoning_round_trips(field: str) -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "42", field: "thinking..."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 20,
            "total_tokens": 30,
            "prompt_cache_hit_tokens": 4,
            "prompt_cache_miss_tokens": 6,
            "completion_tokens_details": {"reasoning_tokens": 15},
        },
    }
    resp = oc.parse_response(copy.deepcopy(body))
    assert resp.choices[0].parts == [
        ir.Thinking("thinking...", origin="openai_chat"),
        ir.Text("42"),
    ]
    assert resp.usage == ir.Usage(10, 20, cache_read_tokens=4, reasoning_tokens=15)
    # DeepSeek's own cache counters go back as they came, plus OpenAI's field for them.
    body["usage"]["prompt_tokens_details"] = {"cached_tokens": 4}
    assert oc.render_response(resp, CTX) == body


def test_n_choices_round_trip() -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": str(i)},
                "finish_reason": "stop",
            }
            for i in range(3)
        ],
    }
    resp = oc.parse_response(copy.deepcopy(body))
    assert [c.index for c in resp.choices] == [0, 1, 2]
    rendered = oc.render_response(resp, CTX)
    for choice in rendered["choices"]:
        assert choice.pop("logprobs") is None
    assert rendered == body


def foreign_response(*parts: ir.Part, stop: ir.StopReason | None = "end_turn", **kw) -> ir.Response:
    return ir.Response(
        id="msg_1",
        model="claude",
        choices=[ir.Choice(parts=list(parts), stop_reason=stop, raw_stop_reason="weird")],
        source="anthropic",
        **kw,
    )


def test_foreign_thinking_and_signatures_reach_the_caller_and_come_back() -> None:
    """Thinking as ``reasoning_content`` plus ``thinking_blocks`` (foreign signatures
    prefixed with their origin), Gemini signatures as ``extra_content``; the caller's
    next request gives back the same IR parts."""
    resp = foreign_response(
        ir.Thinking("step 1", signature="c2ln", origin="anthropic"),
        ir.Thinking(redacted="cmVk", origin="anthropic"),
        ir.Thinking("step 2", signature="Z3M=", origin="gemini"),
        ir.Text("answer", signature="tsig"),
        ir.ToolCall("toolu_1", "f", '{"a":1}', signature="csig"),
        stop="end_turn",
        extra={"container": None},
    )
    body = oc.render_response(resp, CTX)
    assert body == {
        "id": "msg_1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "claude",
        "choices": [
            {
                "logprobs": None,
                "index": 0,
                "message": {
                    "role": "assistant",
                    "refusal": None,
                    "content": "answer",
                    "reasoning_content": "step 1step 2",
                    "thinking_blocks": [
                        {"type": "thinking", "thinking": "step 1", "signature": "c2ln"},
                        {"type": "redacted_thinking", "data": "cmVk"},
                        {"type": "thinking", "thinking": "step 2", "signature": "gemini:Z3M="},
                    ],
                    "extra_content": {"google": {"thought_signature": "tsig"}},
                    "tool_calls": [
                        {
                            "id": "toolu_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"a":1}'},
                            "extra_content": {"google": {"thought_signature": "csig"}},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    ChatCompletion.model_validate(body)
    message = body["choices"][0]["message"]
    parsed = oc.parse_request({"model": "m", "messages": [message]}).messages[0].parts
    assert parsed == resp.choices[0].parts


def test_foreign_usage_renders_with_openai_detail_fields() -> None:
    usage = ir.Usage(100, 20, cache_read_tokens=80, cache_write_tokens=10, reasoning_tokens=5)
    body = oc.render_response(foreign_response(ir.Text("x"), usage=usage), CTX)
    assert body["usage"] == {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 120,
        "prompt_tokens_details": {"cached_tokens": 80, "cache_write_tokens": 10},
        "completion_tokens_details": {"reasoning_tokens": 5},
    }
    ChatCompletion.model_validate(body)


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("content_filter", "content_filter"),
        ("pause_turn", "stop"),
        ("context_window", "length"),
        ("error", "stop"),
        ("other", "stop"),
        (None, "stop"),
    ],
)
def test_foreign_stop_reasons_map_to_finish_reasons(
    stop: ir.StopReason | None, finish: str
) -> None:
    body = oc.render_response(foreign_response(ir.Text("x"), stop=stop), CTX)
    assert body["choices"][0]["finish_reason"] == finish
    assert "system_fingerprint" not in body
    ChatCompletion.model_validate(body)


def test_foreign_tool_only_answer_has_null_content() -> None:
    body = oc.render_response(
        foreign_response(ir.Text(""), ir.ToolCall("c", "f", "{}"), stop="end_turn"), CTX
    )
    message = body["choices"][0]["message"]
    assert message["content"] is None
    assert body["choices"][0]["finish_reason"] == "tool_calls"


def test_foreign_response_without_id_gets_one() -> None:
    resp = foreign_response(ir.Text("x"))
    resp.id, resp.model = "", ""
    body = oc.render_response(resp, CTX)
    assert (body["id"], body["model"]) == ("chatcmpl-req42", "gpt-test")


@pytest.mark.parametrize("created", [2**70, -(2**64), 1.5, "1", None])
def test_created_that_is_no_64_bit_integer_is_replaced(created: object) -> None:
    body = load("response_basic.json")
    body["created"] = created
    rendered = oc.render_response(oc.parse_response(body), CTX)
    assert rendered["created"] == CTX.created
    orjson.dumps(rendered)


def test_image_in_answer_is_refused() -> None:
    with pytest.raises(TranslationError) as info:
        oc.render_response(foreign_response(ir.Image(data="x", media_type="image/png")), CTX)
    assert info.value.param == "choices[0].parts[0]"


def test_forced_tool_call_finish_reason_stays_native() -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                "finish_reason": "stop",
            }
        ],
    }
    resp = oc.parse_response(copy.deepcopy(body))
    assert resp.choices[0].stop_reason == "tool_use"
    rendered = oc.render_response(resp, CTX)
    rendered["choices"][0].pop("logprobs")
    assert rendered == body


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"choices": {}},
        {"choices": [1]},
        {"choices": [{"message": "x"}]},
        {"choices": [], "usage": 3},
    ],
)
def test_malformed_upstream_response_is_a_502(body: object) -> None:
    with pytest.raises(TranslationError) as info:
        oc.parse_response(body)
    assert (info.value.kind, info.value.status) == ("api_error", 502)


def test_malformed_upstream_response_names_the_field() -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": 5}}]}
    with pytest.raises(TranslationError) as info:
        oc.parse_response(body)
    assert info.value.param == "choices[0].message.content"
    assert info.value.message == (
        "malformed upstream response: choices[0].message.content must be a string "
        "or an array of content parts"
    )


# ------------------------------------------------------------------------ random input


CHOICE = st.fixed_dictionaries(
    {
        "message": st.fixed_dictionaries(
            {"role": st.just("assistant")},
            optional={
                k: JSON
                for k in [
                    "content",
                    "refusal",
                    "tool_calls",
                    "reasoning_content",
                    "reasoning",
                    "thinking_blocks",
                    "extra_content",
                    "annotations",
                ]
            },
        )
        | JSON
    },
    optional={
        "index": JSON,
        "finish_reason": st.sampled_from(
            ["stop", "length", "tool_calls", "content_filter", "function_call", "eos"]
        )
        | JSON,
        "logprobs": JSON,
    },
)
RESPONSE = st.fixed_dictionaries(
    {"choices": st.lists(CHOICE, max_size=2) | JSON},
    optional={"id": JSON, "model": JSON, "created": JSON, "usage": JSON, "object": JSON},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=RESPONSE | JSON)
def test_random_responses_only_raise_translation_error(body: object) -> None:
    """Any body: nothing but TranslationError escapes parsing, and rendering a parsed
    answer (for a caller of the same or another protocol) never fails."""
    try:
        resp = oc.parse_response(copy.deepcopy(body))
    except TranslationError:
        return
    for ctx in (CTX, SAME_CTX):
        resp.source = ctx.source or "anthropic"
        orjson.dumps(oc.render_response(resp, ctx))
