"""Whole Responses objects: spec examples parse and round trip, other providers' answers
render as responses the SDK's own model validates, and a whole answer has the items a
stream of it would have."""

from __future__ import annotations

import contextlib

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response

from tests.responses_grammar import validate_sse
from tests.unit.openai_responses import FIXTURES, SPEC, ctx, load, render_events
from translators import convert, ir
from translators import openai_responses as codec
from translators.errors import TranslationError
from translators.openai_responses.response import events_of

RESPONSES = sorted(p.name for p in FIXTURES.glob("response_*.json"))
SAME = ctx(source="openai_responses")
FOREIGN = [
    (protocol, path.name)
    for protocol in ("openai_chat", "anthropic", "gemini")
    for path in sorted((SPEC / protocol).glob("response_*.json"))
]


@pytest.mark.parametrize("name", RESPONSES)
def test_spec_responses_round_trip(name):
    body = load(name)
    resp = codec.parse_response(body)
    assert resp.source == "openai_responses"
    assert codec.render_response(resp, SAME) == body


def test_spec_responses_map_to_ir():
    resp = codec.parse_response(load("response_function_call.json"))
    (choice,) = resp.choices
    assert choice.stop_reason == "tool_use"
    assert choice.parts == [
        ir.ToolCall(
            "call_unLAR8MvFNptuiZK6K6HCy5k",
            "get_current_weather",
            '{"location":"Boston, MA","unit":"celsius"}',
        )
    ]
    resp = codec.parse_response(load("response_reasoning.json"))
    assert resp.usage == ir.Usage(81, 1035, 0, 0, 832)
    assert resp.created == 1741477868
    resp = codec.parse_response(load("response_web_search.json"))
    text = resp.choices[0].parts[0]
    assert isinstance(text, ir.Text) and len(text.citations or []) == 3


@pytest.mark.parametrize(("protocol", "name"), FOREIGN)
def test_other_providers_answers_validate_as_sdk_responses(protocol, name):
    body = (SPEC / protocol / name).read_bytes()
    try:
        out = convert.translate_response(body, protocol, "openai_responses", ctx(source=protocol))
    except TranslationError as err:  # an image in a Chat answer has no Responses form
        assert err.status == 502
        return
    response = orjson.loads(out.body)
    Response.model_validate(response)
    assert response["id"].startswith("resp_") and response["status"] in ("completed", "incomplete")
    for item in response["output"]:
        assert item["type"] != "reasoning" or isinstance(item["summary"], list)


def test_a_whole_answer_has_the_items_of_its_stream():
    resp = ir.Response(
        id="msg_1",
        model="claude",
        source="anthropic",
        usage=ir.Usage(10, 20, cache_read_tokens=4),
        choices=[
            ir.Choice(
                [
                    ir.Thinking("hm", "SIG", origin="anthropic"),
                    ir.Text("Let me check."),
                    ir.ToolCall("toolu_1", "f", '{"a":1}', signature=None),
                    ir.ToolCall("toolu_2", "g", '{"b":2}'),
                ],
                "tool_use",
            )
        ],
    )
    whole = codec.render_response(resp, ctx(source="anthropic"))
    streamed = validate_sse(
        render_events(events_of(resp, resp.choices[0]), ctx(source="anthropic"))
    )
    assert whole == streamed
    Response.model_validate(whole)
    assert [i["type"] for i in whole["output"]] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    assert whole["usage"]["input_tokens_details"]["cached_tokens"] == 4


def test_refusal_incomplete_and_failed():
    body = load("response_text.json")
    body["output"][0]["content"] = [{"type": "refusal", "refusal": "I can't."}]
    assert codec.parse_response(body).choices[0].stop_reason == "content_filter"
    body = load("response_text.json")
    body["status"], body["incomplete_details"] = "incomplete", {"reason": "max_output_tokens"}
    resp = codec.parse_response(body)
    assert resp.choices[0].stop_reason == "max_tokens"
    resp.source = "anthropic"  # rendered from the IR, not the upstream's own items
    out = codec.render_response(resp, ctx())
    assert out["status"] == "incomplete" and out["incomplete_details"] == {
        "reason": "max_output_tokens"
    }
    assert out["output"][0]["status"] == "incomplete"
    failed = {"status": "failed", "error": {"code": "rate_limit_exceeded", "message": "slow"}}
    with pytest.raises(TranslationError) as err:
        codec.parse_response(failed)
    assert err.value.kind == "rate_limit" and "slow" in err.value.message


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"output": 3},
        {"output": [{"type": "message", "content": [{"type": "output_text"}]}]},
        {"output": [{"type": "function_call", "name": "f"}]},
        {"output": [], "usage": {"input_tokens": "x"}},
    ],
)
def test_malformed_upstream_responses_are_502(body):
    with pytest.raises(TranslationError) as err:
        codec.parse_response(body)
    assert err.value.status == 502


def test_openai_reasoning_replays_to_openai_only():
    resp = codec.parse_response(
        {
            "id": "resp_1",
            "status": "completed",
            "output": [
                {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAB"},
                {
                    "type": "message",
                    "id": "m",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "hi", "annotations": []}],
                },
            ],
        }
    )
    thinking = resp.choices[0].parts[0]
    assert thinking == ir.Thinking("", "gAAAAB", origin="openai_responses")
    chat = orjson.loads(
        convert.translate_response(
            orjson.dumps(
                {
                    "id": "resp_1",
                    "status": "completed",
                    "output": [
                        {
                            "type": "reasoning",
                            "id": "rs_1",
                            "summary": [{"type": "summary_text", "text": "s"}],
                            "encrypted_content": "gAAAAB",
                        }
                    ],
                }
            ),
            "openai_responses",
            "openai_chat",
            ctx(),
        ).body
    )
    assert (
        chat["choices"][0]["message"]["thinking_blocks"][0]["signature"]
        == "openai_responses:gAAAAB"
    )


def test_image_in_an_answer_is_refused():
    resp = ir.Response("r", "m", [ir.Choice([ir.Image(url="https://x")], "end_turn")], "gemini")
    with pytest.raises(TranslationError) as err:
        codec.render_response(resp, ctx())
    assert err.value.status == 502


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=15,
)
_item = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["message", "reasoning", "function_call", "custom_tool_call", "web_search_call"]
        )
    },
    optional={
        "content": _json,
        "summary": _json,
        "call_id": _json,
        "name": _json,
        "arguments": _json,
        "input": _json,
        "encrypted_content": _json,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        _json,
        st.fixed_dictionaries(
            {"status": _json, "output": st.lists(_item, max_size=4)},
            optional={"usage": _json, "incomplete_details": _json},
        ),
    )
)
def test_random_responses_raise_only_translation_error(body):
    """Any upstream body either parses (and renders for every caller) or is refused
    with a TranslationError: never another exception."""
    try:
        resp = codec.parse_response(body)
    except TranslationError:
        return
    for client in ("openai_responses", "openai_chat", "anthropic", "gemini"):
        with contextlib.suppress(TranslationError):
            convert.CODECS[client].render_response(resp, ctx())
