"""translators/anthropic/response.py: whole answers both ways, and the token count."""

from __future__ import annotations

import contextlib
import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.anthropic import BLOCK, CTX, JSON, RESPONSE_EXAMPLES, httpx, load, sdk_client
from translators import anthropic as codec
from translators import ir
from translators.errors import TranslationError


@pytest.mark.parametrize("name", RESPONSE_EXAMPLES)
def test_spec_response_round_trip(name: str) -> None:
    body = load(name)
    resp = codec.parse_response(copy.deepcopy(body))
    assert resp.id == body["id"]
    assert codec.render_response(resp, CTX) == body


SERVER_TOOL_ANSWER: dict = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude",
    "content": [
        {"type": "thinking", "thinking": "hm", "signature": "SIG"},
        {"type": "redacted_thinking", "data": "RED"},
        {"type": "server_tool_use", "id": "srv_1", "name": "web_search", "input": {}},
        {"type": "web_search_tool_result", "tool_use_id": "srv_1", "content": []},
        {"type": "text", "text": "see", "citations": [{"type": "web_search_result_location"}]},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1]}},
    ],
    "stop_reason": "pause_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 5, "output_tokens": 7, "server_tool_use": {"web_search": 1}},
    "container": None,
}


def test_server_blocks_and_unknown_fields_round_trip_in_place() -> None:
    resp = codec.parse_response(copy.deepcopy(SERVER_TOOL_ANSWER))
    choice = resp.choices[0]
    assert [type(p).__name__ for p in choice.parts] == [
        "Thinking",
        "Thinking",
        "Text",
        "ToolCall",
    ]
    assert choice.stop_reason == "pause_turn"
    assert codec.render_response(resp, CTX) == SERVER_TOOL_ANSWER


def test_server_blocks_are_not_sent_to_other_protocols_callers() -> None:
    resp = codec.parse_response(copy.deepcopy(SERVER_TOOL_ANSWER))
    resp.source = "gemini"
    assert [b["type"] for b in codec.render_response(resp, CTX)["content"]] == [
        "thinking",
        "redacted_thinking",
        "text",
        "tool_use",
    ]


def gemini_answer() -> ir.Response:
    return ir.Response(
        id="chatcmpl-1",
        model="",
        source="gemini",
        choices=[
            ir.Choice(
                parts=[
                    ir.Thinking("plan", signature="GS", origin="gemini"),
                    ir.Thinking("oai", origin="openai_chat"),
                    ir.Text(""),
                    ir.Text("hi", signature="TS", citations=[{"x": 1}]),
                    ir.ToolCall("gem_1", "f", '{"x":1}', signature="FS"),
                    ir.ToolCall("gem_2", "g", ""),
                ],
                stop_reason="end_turn",
                raw_stop_reason="STOP",
            )
        ],
        usage=ir.Usage(
            input_tokens=100, output_tokens=20, cache_read_tokens=30, reasoning_tokens=5
        ),
    )


def test_foreign_answer_keeps_its_id_and_reports_the_callers_model() -> None:
    body = codec.render_response(gemini_answer(), CTX)
    assert (body["id"], body["model"]) == ("chatcmpl-1", "claude-test")


def test_foreign_answer_carries_state_in_signatures_and_extension_fields() -> None:
    assert codec.render_response(gemini_answer(), CTX)["content"] == [
        {"type": "thinking", "thinking": "plan", "signature": "gemini:GS"},
        {"type": "thinking", "thinking": "oai", "signature": "openai_chat:"},
        {
            "type": "text",
            "text": "hi",
            "extra_content": {"google": {"thought_signature": "TS"}},
        },
        {
            "type": "tool_use",
            "id": "gem_1",
            "name": "f",
            "input": {"x": 1},
            "extra_content": {"google": {"thought_signature": "FS"}},
        },
        {"type": "tool_use", "id": "gem_2", "name": "g", "input": {}},
    ]


def test_foreign_answer_with_calls_stops_with_tool_use() -> None:
    assert codec.render_response(gemini_answer(), CTX)["stop_reason"] == "tool_use"


def test_foreign_answer_usage_is_exclusive_of_cache_reads() -> None:
    assert codec.render_response(gemini_answer(), CTX)["usage"] == {
        "input_tokens": 70,
        "cache_read_input_tokens": 30,
        "output_tokens": 20,
        "output_tokens_details": {"thinking_tokens": 5},
    }


def test_callers_history_brings_the_foreign_state_back() -> None:
    content = codec.render_response(gemini_answer(), CTX)["content"]
    history = codec.parse_request(
        {"model": "m", "messages": [{"role": "assistant", "content": content}]}
    )
    parts = history.messages[0].parts
    assert parts[0] == ir.Thinking("plan", signature="GS", origin="gemini")
    assert parts[1] == ir.Thinking("oai", origin="openai_chat")
    assert isinstance(parts[3], ir.ToolCall) and parts[3].signature == "FS"


def test_response_without_id_or_usage() -> None:
    resp = ir.Response(id="", model="gpt", source="openai_chat", choices=[])
    body = codec.render_response(resp, CTX)
    assert body["id"] == "msg_req42"
    assert body["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert body["stop_reason"] == "end_turn"


def test_response_refuses_parts_anthropic_cannot_answer_with() -> None:
    resp = ir.Response(
        id="r",
        model="g",
        source="gemini",
        choices=[ir.Choice(parts=[ir.Image(media_type="image/png", data="A")], stop_reason=None)],
    )
    with pytest.raises(TranslationError) as exc:
        codec.render_response(resp, CTX)
    assert (exc.value.status, exc.value.param) == (501, "choices[0].parts[0]")


def test_upstream_call_arguments_that_are_not_an_object_are_its_fault() -> None:
    resp = ir.Response(
        id="r",
        model="g",
        source="openai_chat",
        choices=[ir.Choice(parts=[ir.ToolCall("c", "f", "[1]")], stop_reason="tool_use")],
    )
    with pytest.raises(TranslationError) as exc:
        codec.render_response(resp, CTX)
    assert (exc.value.kind, exc.value.status) == ("api_error", 500)


def test_sdk_parses_rendered_response() -> None:
    resp = codec.parse_response(load("response_tool_use.json"))
    resp.source = "openai_chat"
    body = codec.render_response(resp, CTX)
    client = sdk_client(lambda request: httpx.Response(200, json=body))
    message = client.messages.create(model="m", max_tokens=10, messages=[])
    assert message.stop_reason == "tool_use"
    assert message.content[1].input == {}
    assert message.usage.input_tokens == 602


def test_token_count_answer() -> None:
    assert codec.render_token_count(42) == {"input_tokens": 42}


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {"content": st.lists(BLOCK | JSON, max_size=3) | JSON},
        optional={"id": JSON, "model": JSON, "stop_reason": JSON, "usage": JSON},
    )
    | JSON
)
def test_random_responses_only_raise_translation_error(body: object) -> None:
    """Nothing but TranslationError escapes parse_response and render_response."""
    try:
        resp = codec.parse_response(body)
    except TranslationError:
        return
    with contextlib.suppress(TranslationError):
        codec.render_response(resp, CTX)
