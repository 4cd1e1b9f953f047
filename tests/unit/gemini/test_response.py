"""Whole responses, both ways."""

from __future__ import annotations

import contextlib
import copy

import pytest
from google.genai import types as genai_types
from hypothesis import given, settings

from tests.unit.gemini import FIXTURES, ctx, json_values, load
from translators import gemini, ir
from translators.errors import TranslationError

RESPONSES = sorted(p.name for p in FIXTURES.glob("response_*.json"))


@pytest.mark.parametrize("name", RESPONSES)
def test_response_examples_round_trip(name: str) -> None:
    body = load(name)
    resp = gemini.parse_response(body)
    out = gemini.render_response(resp, ctx())
    expected = copy.deepcopy(body)
    for cand in expected.get("candidates", []):
        cand.setdefault("index", 0)  # the codec always writes index
    assert out == expected
    genai_types.GenerateContentResponse.model_validate(out)


def test_response_id_and_model_are_response_id_and_model_version() -> None:
    resp = gemini.parse_response(load("response_generate_basic.json"))
    assert (resp.id, resp.model) == ("xlWYafXAOKSf1e8PpcODiAg", "gemini-2.5-flash")
    assert resp.choices[0].stop_reason == "end_turn"
    assert resp.usage == ir.Usage(input_tokens=11, output_tokens=35, reasoning_tokens=34)


def test_response_without_an_id_has_an_empty_id() -> None:
    resp = gemini.parse_response(load("response_text.json"))
    assert resp.id == "" and resp.model == "gemini-2.0-flash"


def test_response_calls_get_gem_ids_and_end_in_tool_use() -> None:
    resp = gemini.parse_response(load("response_thought_and_function_call.json"))
    thought, call = resp.choices[0].parts
    assert isinstance(thought, ir.Thinking) and thought.origin == "gemini"
    assert isinstance(call, ir.ToolCall) and call.arguments == "{}" and call.signature
    assert call.id.startswith("gem_")
    assert resp.choices[0].stop_reason == "tool_use"
    assert resp.choices[0].raw_stop_reason == "STOP"


def test_prompt_blocked_before_any_candidate_is_one_empty_content_filter_choice() -> None:
    resp = gemini.parse_response(load("response_only_prompt_feedback.json"))
    assert len(resp.choices) == 1 and resp.choices[0].stop_reason == "content_filter"
    assert resp.choices[0].parts == []


def test_no_candidate_and_no_prompt_feedback_is_other() -> None:
    resp = gemini.parse_response({"candidates": []})
    assert [c.stop_reason for c in resp.choices] == ["other"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], "body"),
        ({"candidates": ["x"]}, "candidates[0]"),
        ({"candidates": [{"index": "0"}]}, "candidates[0].index"),
        ({"candidates": [{"index": 1e30}]}, "candidates[0].index"),
        (
            {"candidates": [{"content": {"parts": [{"functionResponse": {}}]}}]},
            "candidates[0].content.parts[0]",
        ),
    ],
)
def test_malformed_responses_are_refused_naming_the_field(body: object, param: str) -> None:
    with pytest.raises(TranslationError) as exc:
        gemini.parse_response(body)
    assert exc.value.param == param


ANTHROPIC_ANSWER = ir.Response(
    id="msg_01",
    model="claude-sonnet-4-5",
    source="anthropic",
    choices=[
        ir.Choice(
            parts=[
                ir.Thinking("let me think", signature="EqQBCgIYAh==", origin="anthropic"),
                ir.Thinking("", redacted="opaque", origin="anthropic"),
                ir.Text("Calling.", citations=[{"type": "x"}]),
                ir.ToolCall("toolu_01", "get_weather", '{"city":"Paris"}'),
            ],
            stop_reason="tool_use",
            raw_stop_reason="tool_use",
        )
    ],
    usage=ir.Usage(input_tokens=50, output_tokens=10, cache_read_tokens=20),
)


def test_foreign_answer_renders_as_the_sdk_reads_it() -> None:
    out = gemini.render_response(copy.deepcopy(ANTHROPIC_ANSWER), ctx(model="ignored"))
    parsed = genai_types.GenerateContentResponse.model_validate(out)
    assert parsed.candidates is not None and parsed.candidates[0].content is not None
    parts = parsed.candidates[0].content.parts
    assert parts is not None and parts[0].thought_signature == b"anthropic:EqQBCgIYAh=="
    assert out["candidates"][0]["finishReason"] == "STOP"
    assert out["candidates"][0]["content"]["parts"][3] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_01"}
    }
    assert out["responseId"] == "msg_01" and out["modelVersion"] == "claude-sonnet-4-5"


def test_foreign_thinking_comes_back_with_its_origin() -> None:
    out = gemini.render_response(copy.deepcopy(ANTHROPIC_ANSWER), ctx())
    back = gemini.parse_response(out)
    assert back.choices[0].parts[:3] == [
        ir.Thinking("let me think", signature="EqQBCgIYAh==", origin="anthropic"),
        ir.Thinking("", redacted="opaque", origin="anthropic"),
        ir.Text("Calling."),
    ]
    call = back.choices[0].parts[3]
    assert isinstance(call, ir.ToolCall) and call.id == "toolu_01"


def test_empty_foreign_choice_has_no_content() -> None:
    resp = ir.Response(
        id="", model="", source="anthropic", choices=[ir.Choice([], "content_filter")]
    )
    out = gemini.render_response(resp, ctx(model="gemini-x"))
    assert out == {
        "candidates": [{"finishReason": "SAFETY", "index": 0}],
        "modelVersion": "gemini-x",
    }
    genai_types.GenerateContentResponse.model_validate(out)


def test_a_tool_result_in_an_answer_is_refused() -> None:
    resp = ir.Response(
        id="",
        model="",
        source="anthropic",
        choices=[ir.Choice([ir.ToolResult("c", [])], "end_turn")],
    )
    with pytest.raises(TranslationError) as exc:
        gemini.render_response(resp, ctx())
    assert exc.value.param == "choices[0].parts[0]"


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_random_response_bodies_only_raise_translation_error(body: object) -> None:
    """Nothing but TranslationError escapes parsing and rendering any response body."""
    with contextlib.suppress(TranslationError):
        gemini.render_response(gemini.parse_response(body), ctx())


@pytest.mark.parametrize("body", [{"candidates": {"x": 1}}, {}, {"usageMetadata": {}}])
def test_an_answer_without_geminis_shape_is_refused_not_read_as_empty(body: dict) -> None:
    with pytest.raises(TranslationError) as caught:  # the addon answers it with a 502
        gemini.parse_response(body)
    assert caught.value.param == "candidates"


def test_a_blocked_prompt_without_candidates_is_an_answer() -> None:
    resp = gemini.parse_response({"promptFeedback": {"blockReason": "SAFETY"}})
    assert resp.choices[0].stop_reason == "content_filter"
