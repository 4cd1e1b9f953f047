"""translators/anthropic/request.py: recognise, request-level fields both ways, refusals,
validation of a caller's body."""

from __future__ import annotations

import contextlib
import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.anthropic import BLOCK, JSON, REQUEST_EXAMPLES, foreign, load, user
from translators import anthropic as codec
from translators import ir
from translators.anthropic.request import DEFAULT_MAX_TOKENS
from translators.errors import TranslationError

# ------------------------------------------------------------------- recognise


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_recognise_spec_requests(name: str) -> None:
    # The minimal request (model, max_tokens, one user message) is valid OpenAI Chat too.
    assert codec.recognise(load(name)) == (1 if name == "request_basic.json" else 2)


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, 1),
        ({"model": "m", "messages": [], "system": "be brief"}, 2),
        ({"model": "m", "messages": [], "stop_sequences": ["x"]}, 2),
        ({"model": "m", "messages": [], "tool_choice": {"type": "any"}}, 2),
        ({"model": "m", "messages": [], "tools": [{"name": "f", "input_schema": {}}]}, 2),
        (
            {
                "model": "m",
                "messages": [
                    {"role": "user", "content": [{"type": "image", "source": {"type": "url"}}]}
                ],
            },
            2,
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "tool_result"}]}],
            },
            2,
        ),
        ({"model": "m", "messages": [{"role": "system", "content": "x"}], "max_tokens": 5}, 0),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, 0),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}, 0),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "auto"}, 1),
        ({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, 0),
        ({"model": "m", "input": "hi"}, 0),
        ({"model": "m", "messages": [{"role": "user", "content": [{"type": ["x"]}]}]}, 1),
        ([], 0),
        ("text", 0),
    ],
)
def test_recognise(body: object, score: int) -> None:
    assert codec.recognise(body) == score


# ------------------------------------------------------------ request round trip


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_spec_request_round_trip(name: str) -> None:
    body = load(name)
    assert codec.render_request(codec.parse_request(copy.deepcopy(body))) == body


RICH_REQUEST: dict = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 8000,
    "system": [
        {"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Answer in French."},
    ],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look at these."},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
                    "cache_control": {"type": "ephemeral", "ttl": "1h"},
                },
                {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}},
                {
                    "type": "document",
                    "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"},
                    "title": "Report",
                    "context": "Q3",
                    "citations": {"enabled": True},
                },
                {"type": "document", "source": {"type": "url", "url": "https://x.test/b.pdf"}},
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": "plain"},
                },
                {"type": "document", "source": {"type": "content", "content": "inline"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Hmm.", "signature": "EqQBsig"},
                {"type": "redacted_thinking", "data": "EmwKAhgB"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"q": 1}},
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "get_time",
                    "input": {},
                    "cache_control": {"type": "ephemeral"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [
                        {"type": "text", "text": "noon"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/gif", "data": "R0l"},
                        },
                    ],
                    "is_error": False,
                    "cache_control": {"type": "ephemeral"},
                },
                {"type": "text", "text": "Thanks", "citations": [{"type": "char_location"}]},
            ],
        },
    ],
    "temperature": 0.5,
    "top_p": 0.9,
    "top_k": 40,
    "stop_sequences": ["END"],
    "stream": True,
    "metadata": {"user_id": "u-1"},
    "tools": [
        {
            "name": "get_weather",
            "description": "Weather",
            "input_schema": {"type": "object", "properties": {"q": {"type": "integer"}}},
            "cache_control": {"type": "ephemeral"},
            "strict": True,
            "type": "custom",
            "input_examples": [{"q": 1}],
        },
        {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
    ],
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "thinking": {"type": "enabled", "budget_tokens": 4000, "display": "summarized"},
    "output_config": {
        "effort": "high",
        "format": {"type": "json_schema", "schema": {"type": "object"}},
    },
    "cache_control": {"type": "ephemeral"},
    "service_tier": "auto",
    "container": "c-1",
    "context_management": {"edits": []},
    "inference_geo": "us",
}


def test_rich_request_round_trip() -> None:
    body = copy.deepcopy(RICH_REQUEST)
    req = codec.parse_request(body)
    assert req.messages[0].role == "system"
    assert req.user == "u-1"
    assert req.parallel_tool_calls is False
    assert req.reasoning == ir.Reasoning(
        effort="high", budget_tokens=4000, enabled=True, include_thoughts=True
    )
    assert req.response_format == ir.ResponseFormat("json_schema", schema={"type": "object"})
    assert set(req.extra) == {
        "service_tier",
        "container",
        "context_management",
        "inference_geo",
        "tool_hints",
    }
    assert set(req.extra) <= codec.DROPPABLE
    assert codec.render_request(req) == RICH_REQUEST


@pytest.mark.parametrize(
    "fields",
    [
        {"thinking": {"type": "adaptive", "display": "omitted"}},
        {"thinking": {"type": "disabled"}},
        {"output_config": {"effort": "low"}},
        {
            "tool_choice": {"type": "none"},
            "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        },
        {"tool_choice": {"type": "tool", "name": "f"}},
        {"tool_choice": {"type": "any", "disable_parallel_tool_use": False}},
        {"metadata": {"user_id": None}},
        {"system": "plain system"},
        {"temperature": 0, "top_k": 0, "max_tokens": 0, "stop_sequences": []},
        {"mcp_servers": [{"type": "url", "url": "https://mcp.test"}]},
    ],
)
def test_same_protocol_request_fields_round_trip_unchanged(fields: dict) -> None:
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    body |= fields
    assert codec.render_request(codec.parse_request(copy.deepcopy(body))) == body


def test_server_tools_kept_for_anthropic_only() -> None:
    tools = [
        {"name": "f", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
    ]
    body = {"model": "m", "max_tokens": 10, "messages": [], "tools": tools}
    req = codec.parse_request(copy.deepcopy(body))
    assert [t.name for t in req.tools] == ["f"]
    assert "tools" in req.extra and "tools" not in codec.DROPPABLE
    assert codec.render_request(req) == body


def test_unknown_tool_fields_are_kept_but_not_droppable() -> None:
    tool = {"name": "f", "input_schema": {"type": "object"}, "future_flag": 1}
    body = {"model": "m", "max_tokens": 10, "messages": [], "tools": [tool]}
    req = codec.parse_request(copy.deepcopy(body))
    assert req.extra == {"tool_fields": {"f": {"future_flag": 1}}}
    assert "tool_fields" not in codec.DROPPABLE
    assert codec.render_request(req) == body


def test_model_and_stream_arguments_override_the_body() -> None:
    req = codec.parse_request(load("request_basic.json"), model="other", stream=True)
    assert (req.model, req.stream, req.max_tokens) == ("other", True, 1024)
    assert req.messages == [user("Hello, world")]


def test_count_request_is_a_messages_body_without_max_tokens() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    req = codec.parse_count_request(body)
    assert (req.model, req.stream, req.max_tokens) == ("m", False, None)
    assert req.messages == [user("hi")]


# ------------------------------------------------------- toward Anthropic: fields


def test_absent_max_tokens_gets_the_default() -> None:
    assert codec.render_request(foreign(user("q")))["max_tokens"] == DEFAULT_MAX_TOKENS == 4096


def test_temperature_above_one_is_clamped_to_one() -> None:
    body = codec.render_request(foreign(user("q"), temperature=1.7))
    assert body["temperature"] == 1.0


def test_user_becomes_metadata_and_stop_becomes_stop_sequences() -> None:
    body = codec.render_request(foreign(user("q"), user="u", stop=["x"]))
    assert (body["metadata"], body["stop_sequences"]) == ({"user_id": "u"}, ["x"])


def test_fields_without_an_anthropic_equivalent_are_dropped_when_harmless() -> None:
    req = foreign(
        user("q"),
        seed=7,
        n=1,
        presence_penalty=0.0,
        frequency_penalty=0,
        logprobs=False,
        top_logprobs=0,
        include_usage=True,
        max_tokens=50,
    )
    assert codec.render_request(req) == {
        "model": "m",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "q"}],
    }


def test_foreign_extra_is_ignored() -> None:
    req = foreign(user("q"), extra={"store": True})
    assert codec.render_request(req) == {
        "model": "m",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": "q"}],
    }


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
    ],
)
def test_inexpressible_fields_are_refused(fields: dict, param: str) -> None:
    with pytest.raises(TranslationError) as exc:
        codec.render_request(foreign(user("q"), **fields))
    assert exc.value.param == param
    assert exc.value.status == 400


# -------------------------------------------------------- toward Anthropic: tools


def test_parameterless_tool_gets_an_empty_object_schema() -> None:
    tools = [ir.Tool("noargs"), ir.Tool("f", "d", {"type": "object"}, strict=True)]
    assert codec.render_request(foreign(user("q"), tools=tools))["tools"] == [
        {"name": "noargs", "input_schema": {"type": "object", "properties": {}}},
        {"name": "f", "description": "d", "input_schema": {"type": "object"}, "strict": True},
    ]


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (ir.ToolChoice("none"), False, {"type": "none"}),
        (ir.ToolChoice("auto"), None, {"type": "auto"}),
        (ir.ToolChoice("required"), True, {"type": "any", "disable_parallel_tool_use": False}),
        (ir.ToolChoice("tool", name="f"), None, {"type": "tool", "name": "f"}),
        (ir.ToolChoice("required", allowed=["g"]), None, {"type": "tool", "name": "g"}),
        (ir.ToolChoice("required", allowed=["f", "g"]), None, {"type": "any"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
def test_tool_choice(choice: ir.ToolChoice | None, parallel: bool | None, expected: dict) -> None:
    tools = [ir.Tool("f"), ir.Tool("g")]
    req = foreign(user("q"), tools=tools, tool_choice=choice, parallel_tool_calls=parallel)
    assert codec.render_request(req)["tool_choice"] == expected


def test_allowed_tools_that_are_neither_one_nor_all_are_refused() -> None:
    tools = [ir.Tool("f"), ir.Tool("g"), ir.Tool("h")]
    req = foreign(user("q"), tools=tools, tool_choice=ir.ToolChoice("required", allowed=["f", "g"]))
    with pytest.raises(TranslationError) as exc:
        codec.render_request(req)
    assert exc.value.param == "tool_choice.allowed"


def test_parallel_tool_calls_without_tools_writes_no_tool_choice() -> None:
    assert codec.render_request(foreign(user("q"), parallel_tool_calls=False)) == {
        "model": "m",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": "q"}],
    }


# ---------------------------------------------------- toward Anthropic: reasoning


@pytest.mark.parametrize(
    ("reasoning", "max_tokens", "thinking", "output_config"),
    [
        (ir.Reasoning(effort="low"), 10000, {"type": "enabled", "budget_tokens": 2048}, None),
        (ir.Reasoning(effort="high"), 8000, {"type": "enabled", "budget_tokens": 7999}, None),
        (ir.Reasoning(effort="high"), None, {"type": "enabled", "budget_tokens": 16384}, None),
        (ir.Reasoning(effort="none"), None, {"type": "disabled"}, None),
        (ir.Reasoning(enabled=False), None, {"type": "disabled"}, None),
        (ir.Reasoning(budget_tokens=0), None, {"type": "disabled"}, None),
        (ir.Reasoning(budget_tokens=100), 2000, {"type": "enabled", "budget_tokens": 1024}, None),
        (ir.Reasoning(enabled=True), 20000, {"type": "enabled", "budget_tokens": 8192}, None),
        (ir.Reasoning(effort="medium"), 1000, None, None),
        (ir.Reasoning(include_thoughts=True), None, None, None),
        (
            ir.Reasoning(budget_tokens=2000, include_thoughts=False),
            None,
            {"type": "enabled", "budget_tokens": 2000, "display": "omitted"},
            None,
        ),
        (
            ir.Reasoning(adaptive=True, effort="minimal"),
            None,
            {"type": "adaptive"},
            {"effort": "low"},
        ),
    ],
)
def test_reasoning_toward_anthropic(
    reasoning: ir.Reasoning, max_tokens: int | None, thinking: dict | None, output_config: dict
) -> None:
    body = codec.render_request(foreign(user("q"), reasoning=reasoning, max_tokens=max_tokens))
    assert body.get("thinking") == thinking
    assert body.get("output_config") == output_config


def test_without_a_callers_budget_the_answer_keeps_its_room_above_thinking() -> None:
    body = codec.render_request(foreign(user("q"), reasoning=ir.Reasoning(effort="medium")))
    assert body["thinking"]["budget_tokens"] == 8192
    assert body["max_tokens"] == 8192 + DEFAULT_MAX_TOKENS


def test_unknown_foreign_effort_refused() -> None:
    with pytest.raises(TranslationError) as exc:
        codec.render_request(foreign(user("q"), reasoning=ir.Reasoning(effort="extreme")))
    assert exc.value.param == "reasoning.effort"


def test_thinking_left_out_when_last_tool_turn_has_no_thinking() -> None:
    history = [
        user("q"),
        ir.Message("assistant", [ir.ToolCall("c", "f", "{}")]),
        ir.Message("tool", [ir.ToolResult("c", [ir.Text("r")])]),
    ]
    reasoning = ir.Reasoning(effort="low")
    body = codec.render_request(foreign(*history, reasoning=reasoning))
    assert set(body) == {"model", "max_tokens", "messages"}
    history[1].parts.insert(0, ir.Thinking("t", signature="S", origin="anthropic"))
    body = codec.render_request(foreign(*history, reasoning=reasoning, max_tokens=5000))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_forced_tool_choice_wins_over_foreign_thinking() -> None:
    req = foreign(
        user("q"),
        tools=[ir.Tool("f")],
        tool_choice=ir.ToolChoice("tool", name="f"),
        reasoning=ir.Reasoning(effort="low"),
        max_tokens=5000,
    )
    body = codec.render_request(req)
    assert "thinking" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "f"}


def test_foreign_thinking_drops_sampling_overrides() -> None:
    req = foreign(
        user("q"),
        temperature=0.0,
        top_k=5,
        top_p=0.5,
        reasoning=ir.Reasoning(effort="low"),
        max_tokens=5000,
    )
    body = codec.render_request(req)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert not {"temperature", "top_k", "top_p"} & body.keys()
    req.top_p = 0.95
    assert codec.render_request(req)["top_p"] == 0.95


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (ir.ResponseFormat("json_object"), {"type": "json_schema", "schema": {"type": "object"}}),
        (
            ir.ResponseFormat("json_schema", schema={"type": "object"}, name="n", strict=True),
            {"type": "json_schema", "schema": {"type": "object"}},
        ),
        (ir.ResponseFormat("text"), None),
    ],
)
def test_response_format(fmt: ir.ResponseFormat, expected: dict | None) -> None:
    body = codec.render_request(foreign(user("q"), response_format=fmt))
    assert body.get("output_config", {}).get("format") == expected


# ------------------------------------------------------- parse_request errors


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], "body"),
        ({"messages": []}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "audio"}]}]},
            "messages[0].content[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "server_tool_use", "id": "s"}]}],
            },
            "messages[0].content[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "input": 1}]}
                ],
            },
            "messages[0].content[0].input",
        ),
        ({"model": "m", "messages": [], "max_tokens": "5"}, "max_tokens"),
        ({"model": "m", "messages": [], "temperature": True}, "temperature"),
        ({"model": "m", "messages": [], "thinking": {"type": "maybe"}}, "thinking.type"),
        ({"model": "m", "messages": [], "tool_choice": {"type": "required"}}, "tool_choice.type"),
        ({"model": "m", "messages": [], "system": [{"type": "image"}]}, "system[0].type"),
        (
            {"model": "m", "messages": [], "output_config": {"format": {"type": "regex"}}},
            "output_config.format.type",
        ),
    ],
)
def test_parse_request_errors(body: object, param: str) -> None:
    with pytest.raises(TranslationError) as exc:
        codec.parse_request(body)
    assert exc.value.param == param


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_tokens", "5", "max_tokens must be an integer"),
        ("temperature", True, "temperature must be a number"),
        ("stream", "yes", "stream must be a boolean"),
        ("messages", {}, "messages must be an array"),
        ("metadata", [], "metadata must be an object"),
    ],
)
def test_field_errors_name_the_field_first(field: str, value: object, message: str) -> None:
    body = {"model": "m", "messages": []} | {field: value}
    with pytest.raises(TranslationError) as exc:
        codec.parse_request(body)
    assert (exc.value.message, exc.value.param) == (message, field)


@pytest.mark.parametrize("field", ["max_tokens", "top_k", "thinking.budget_tokens"])
def test_integers_beyond_64_bits_are_refused_naming_the_field(field: str) -> None:
    """1e30 is an integral JSON number no provider can store: a 400, not a 500 later."""
    body: dict = {"model": "m", "messages": []}
    if field == "thinking.budget_tokens":
        body["thinking"] = {"type": "enabled", "budget_tokens": 1e30}
    else:
        body[field] = 1e30
    with pytest.raises(TranslationError) as exc:
        codec.parse_request(body)
    assert exc.value.param == field
    assert exc.value.status == 400
    assert exc.value.message.startswith(f"{field} is out of range")


def test_integral_floats_are_integers() -> None:
    body = {"model": "m", "messages": [], "max_tokens": 2.0, "top_k": 40.0}
    req = codec.parse_request(body)
    assert (req.max_tokens, req.top_k) == (2, 40)
    assert isinstance(req.max_tokens, int)


_message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant", "system", "tool"]) | JSON,
        "content": st.text(max_size=5) | st.lists(BLOCK | JSON, max_size=3) | JSON,
    }
)
_body = st.fixed_dictionaries(
    {"model": st.text(max_size=5) | JSON, "messages": st.lists(_message, max_size=3) | JSON},
    optional={
        key: JSON
        for key in (
            "system",
            "max_tokens",
            "temperature",
            "top_k",
            "stop_sequences",
            "stream",
            "metadata",
            "tools",
            "tool_choice",
            "thinking",
            "output_config",
            "cache_control",
        )
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_body | JSON)
def test_random_bodies_only_raise_translation_error(body: object) -> None:
    """Nothing but TranslationError escapes recognise, parse_request and render_request."""
    codec.recognise(body)
    try:
        req = codec.parse_request(body)
    except TranslationError:
        return
    with contextlib.suppress(TranslationError):
        codec.render_request(req)
