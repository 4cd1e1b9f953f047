"""request.py: recognise, request-level fields both ways, DROPPABLE, refusals."""

from __future__ import annotations

import contextlib
import copy

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.openai_chat import FIXTURES, JSON, foreign_request, load, user
from translators import ir
from translators import openai_chat as oc
from translators.errors import TranslationError

REQUESTS = sorted(p.name for p in FIXTURES.glob("request_*.json"))


@pytest.mark.parametrize("name", REQUESTS)
def test_request_examples_round_trip(name: str) -> None:
    body = load(name)
    assert oc.render_request(oc.parse_request(copy.deepcopy(body))) == body
    assert oc.recognise(body) == 2


# --------------------------------------------------------------------------- recognise


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, 1),
        ({"model": "m", "messages": [{"role": "system", "content": "s"}]}, 2),
        ({"model": "m", "messages": [], "max_completion_tokens": 5}, 2),
        ({"model": "m", "messages": [], "n": 2}, 2),
        ({"model": "m", "messages": [], "response_format": {"type": "text"}}, 2),
        ({"model": "m", "messages": [], "stream_options": {}}, 2),
        ({"model": "m", "messages": [], "reasoning_effort": "low"}, 2),
        ({"model": "m", "messages": [], "logit_bias": {}}, 2),
        ({"model": "m", "messages": [], "presence_penalty": 0}, 2),
        ({"model": "m", "messages": [{"role": "tool", "tool_call_id": "c", "content": ""}]}, 2),
        ({"model": "m", "messages": [{"role": "assistant", "tool_calls": []}]}, 2),
        (
            {
                "model": "m",
                "messages": [
                    {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}
                ],
            },
            2,
        ),
        (
            {
                "model": "m",
                "messages": [],
                "tools": [{"type": "function", "function": {"name": "f"}}],
            },
            2,
        ),
        ({"contents": [{"parts": [{"text": "hi"}]}]}, 0),
        ({"model": "m", "input": "hi", "instructions": "x"}, 0),
        ({"model": "m", "system": "s", "messages": [], "max_tokens": 5}, 0),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}],
            },
            0,
        ),
        ({"model": "m", "messages": [], "tools": [{"name": "f", "input_schema": {}}]}, 0),
        ({"model": "m", "messages": [{"role": "model", "content": "x"}]}, 0),
        ([], 0),
        ("messages", 0),
    ],
)
def test_recognise_scores_chat_only_2_shared_1_foreign_0(body: object, score: int) -> None:
    assert oc.recognise(body) == score


# ------------------------------------------------------------------------------- parse


def test_request_fields_map_to_ir_keeping_explicit_zero_and_false() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "max_completion_tokens": 0,
            "temperature": 0,
            "top_p": 0.5,
            "n": 2,
            "stop": "END",
            "seed": 7,
            "presence_penalty": 0,
            "frequency_penalty": -1.5,
            "logprobs": False,
            "top_logprobs": 0,
            "user": "u1",
            "stream": True,
            "stream_options": {"include_usage": True},
            "parallel_tool_calls": False,
            "reasoning_effort": "minimal",
            "tool_choice": "none",
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": {"type": "object"}, "strict": True},
            },
        }
    )
    assert (req.max_tokens, req.temperature, req.top_p, req.n, req.stop) == (0, 0, 0.5, 2, ["END"])
    assert (req.seed, req.presence_penalty, req.frequency_penalty) == (7, 0, -1.5)
    assert (req.logprobs, req.top_logprobs, req.user) == (False, 0, "u1")
    assert (req.stream, req.include_usage, req.parallel_tool_calls) == (True, True, False)
    assert req.reasoning == ir.Reasoning(effort="minimal")
    assert req.tool_choice == ir.ToolChoice("none")
    assert req.response_format == ir.ResponseFormat(
        "json_schema", schema={"type": "object"}, name="r", strict=True
    )
    assert set(req.extra) <= oc.DROPPABLE


def test_null_fields_mean_the_default() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "temperature": None,
            "store": None,
            "stream": False,
        }
    )
    assert (req.temperature, req.stream) == (None, False)
    assert req.extra == {}


def test_unmapped_fields_go_to_extra_and_only_harmless_ones_are_droppable() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "logit_bias": {"50256": -100},
            "metadata": {"k": "v"},
        }
    )
    assert req.extra == {"logit_bias": {"50256": -100}, "metadata": {"k": "v"}}
    assert "logit_bias" in oc.DROPPABLE  # a sampling hint: dropped and reported
    assert "metadata" in oc.DROPPABLE
    assert "verbosity" not in oc.DROPPABLE and "modalities" not in oc.DROPPABLE


def test_legacy_max_tokens_comes_back_under_its_own_name() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 9}
    req = oc.parse_request(copy.deepcopy(body))
    assert req.max_tokens == 9
    assert oc.render_request(req) == body


def test_foreign_max_tokens_renders_as_max_completion_tokens() -> None:
    rendered = oc.render_request(foreign_request(user(ir.Text("x")), max_tokens=9))
    assert rendered["max_completion_tokens"] == 9
    assert "max_tokens" not in rendered


def test_string_stop_comes_back_as_a_string_and_a_list_otherwise() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": "\n"}
    req = oc.parse_request(copy.deepcopy(body))
    assert req.stop == ["\n"]
    assert oc.render_request(req) == body
    assert oc.render_request(foreign_request(stop=["\n"]))["stop"] == ["\n"]


def test_both_max_token_fields_prefer_max_completion_tokens() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 9,
        "max_completion_tokens": 50,
    }
    req = oc.parse_request(copy.deepcopy(body))
    assert req.max_tokens == 50
    assert oc.render_request(req) == body
    assert set(req.extra) <= oc.DROPPABLE


def test_every_field_of_a_full_request_round_trips() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "s", "name": "sys"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "a"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/jpeg;base64,/9j/", "detail": "high"},
                    },
                    {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
                    {"type": "file", "file": {"file_id": "file-9", "filename": "x.pdf"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "hmm",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{"}},
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "one"},
            {
                "role": "tool",
                "tool_call_id": "c2",
                "content": [{"type": "text", "text": "t"}, {"type": "text", "text": "u"}],
            },
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}],
            },
        ],
        "tools": [
            {
                "type": "function",
                "function": {"name": "f", "description": "d", "parameters": {}, "strict": False},
            },
            {"type": "function", "function": {"name": "g"}},
            {"type": "custom", "custom": {"name": "lark"}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "response_format": {"type": "json_object"},
        "logit_bias": {"1": 2},
        "top_k": 40,
        "verbosity": "low",
        "seed": 0,
    }
    assert oc.render_request(oc.parse_request(copy.deepcopy(body))) == body


@pytest.mark.parametrize(
    "choice",
    [
        "none",
        "auto",
        "required",
        {"type": "function", "function": {"name": "f"}},
        {
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "required",
                "tools": [{"type": "function", "function": {"name": "f"}}],
            },
        },
        {"type": "custom", "custom": {"name": "lark"}},
    ],
)
def test_tool_choice_round_trips(choice: object) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": choice}
    req = oc.parse_request(copy.deepcopy(body))
    assert oc.render_request(req) == body
    if choice == "none":
        assert req.tool_choice == ir.ToolChoice("none")


def test_custom_tools_are_kept_but_not_droppable() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "custom", "custom": {"name": "lark"}}],
            "tool_choice": {"type": "custom", "custom": {"name": "lark"}},
        }
    )
    assert req.tools == []
    assert "tools" in req.extra and "tool_choice" in req.extra
    assert not {"tools", "tool_choice"} & oc.DROPPABLE


def test_stream_requests_always_ask_for_usage() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
        "stream_options": {"include_obfuscation": False},
    }
    req = oc.parse_request(copy.deepcopy(body))
    assert req.include_usage is False
    rendered = oc.render_request(req)
    assert rendered["stream_options"] == {"include_obfuscation": False, "include_usage": True}
    foreign = oc.render_request(foreign_request(user(ir.Text("x")), stream=True))
    assert foreign["stream"] is True
    assert foreign["stream_options"] == {"include_usage": True}


def test_route_model_and_stream_override_the_body() -> None:
    req = oc.parse_request({"model": "a", "messages": [], "stream": False}, model="b", stream=True)
    assert (req.model, req.stream) == ("b", True)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": {}}, "messages"),
        ({"model": "m", "messages": [], "temperature": "hot"}, "temperature"),
        ({"model": "m", "messages": [], "n": True}, "n"),
        ({"model": "m", "messages": [], "stop": [1]}, "stop"),
        ({"model": "m", "messages": [], "functions": [{"name": "f"}]}, "functions"),
        (
            {"model": "m", "messages": [], "response_format": {"type": "yaml"}},
            "response_format.type",
        ),
        ({"model": "m", "messages": [], "tools": [{"type": "function"}]}, "tools[0].function"),
        ([], "body"),
    ],
)
def test_bad_request_fields_name_the_field(body: object, param: str) -> None:
    with pytest.raises(TranslationError) as info:
        oc.parse_request(body)
    assert info.value.param == param


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temperature", "hot", "temperature must be a number"),
        ("n", 1.5, "n must be an integer"),
        ("user", 5, "user must be a string"),
        ("logprobs", 1, "logprobs must be a boolean"),
        ("stream_options", [], "stream_options must be an object"),
        ("tools", {}, "tools must be an array"),
    ],
)
def test_type_errors_say_what_the_field_must_be(field: str, value: object, message: str) -> None:
    with pytest.raises(TranslationError) as info:
        oc.parse_request({"model": "m", "messages": [], field: value})
    assert (info.value.message, info.value.param) == (message, field)


@pytest.mark.parametrize(
    "field", ["max_tokens", "max_completion_tokens", "seed", "n", "top_logprobs", "top_k"]
)
@pytest.mark.parametrize("value", [1e30, 2**64])
def test_integers_beyond_64_bits_are_a_400_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(TranslationError) as info:
        oc.parse_request({"model": "m", "messages": [], field: value})
    assert (info.value.status, info.value.param) == (400, field)
    assert info.value.message == f"{field} is out of range (it must fit in 64 bits)"


def test_integral_floats_count_as_integers() -> None:
    req = oc.parse_request({"model": "m", "messages": [], "n": 2.0, "seed": -3.0})
    assert (req.n, req.seed) == (2, -3)
    assert type(req.n) is int


# ------------------------------------------------------------------------------ render


def test_foreign_extra_is_not_rendered() -> None:
    req = foreign_request(user(ir.Text("x")))
    req.extra = {"container": "x"}
    assert oc.render_request(req) == {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
    }


@pytest.mark.parametrize(
    ("reasoning", "effort"),
    [
        (ir.Reasoning(effort="high"), "high"),
        (ir.Reasoning(budget_tokens=1024), "low"),
        (ir.Reasoning(budget_tokens=1025), "medium"),
        (ir.Reasoning(budget_tokens=8192), "medium"),
        (ir.Reasoning(budget_tokens=32000), "high"),
        (ir.Reasoning(budget_tokens=0), None),
        (ir.Reasoning(enabled=False), None),
        (ir.Reasoning(enabled=False, budget_tokens=2048), None),
        (ir.Reasoning(adaptive=True), None),
        (ir.Reasoning(effort="low", budget_tokens=32000), "low"),
    ],
)
def test_reasoning_to_effort(reasoning: ir.Reasoning, effort: str | None) -> None:
    rendered = oc.render_request(foreign_request(user(ir.Text("x")), reasoning=reasoning))
    assert rendered.get("reasoning_effort") == effort


def test_tool_choice_none_stays_none() -> None:
    none = oc.render_request(foreign_request(tool_choice=ir.ToolChoice("none")))
    assert none["tool_choice"] == "none"


def test_allowed_tool_names_render_as_allowed_tools() -> None:
    allowed = oc.render_request(
        foreign_request(tool_choice=ir.ToolChoice("required", allowed=["a"]))
    )
    assert allowed["tool_choice"] == {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required",
            "tools": [{"type": "function", "function": {"name": "a"}}],
        },
    }


def test_tool_cache_markers_are_dropped() -> None:
    req = foreign_request(
        tools=[ir.Tool("f", "d", {"type": "object"}, cache_control={"type": "ephemeral"})]
    )
    assert oc.render_request(req)["tools"] == [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object"}},
        }
    ]


def test_json_schema_without_a_name_is_named_response() -> None:
    req = foreign_request(
        response_format=ir.ResponseFormat("json_schema", schema={"type": "object"})
    )
    assert oc.render_request(req)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": {"type": "object"}},
    }


def test_an_openai_callers_top_k_is_kept_for_compatible_servers() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "top_k": 5}
    assert oc.render_request(oc.parse_request(copy.deepcopy(body))) == body


# ------------------------------------------------------------------------ random input


ROLE = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", None])
PART_TYPE = st.sampled_from(["text", "image_url", "input_audio", "file", "refusal", "image"])
PART = st.fixed_dictionaries(
    {"type": PART_TYPE},
    optional={k: JSON for k in ["text", "image_url", "input_audio", "file", "refusal"]},
)
MESSAGE = st.fixed_dictionaries(
    {"role": ROLE},
    optional={
        "content": st.text(max_size=4) | st.lists(PART, max_size=3) | JSON,
        "name": JSON,
        "tool_calls": st.lists(JSON, max_size=2),
        "tool_call_id": st.text(max_size=3) | JSON,
        "reasoning_content": JSON,
        "thinking_blocks": st.lists(JSON, max_size=2),
        "extra_content": JSON,
        "refusal": JSON,
    },
)
BODY = st.fixed_dictionaries(
    {"model": st.text(max_size=3) | JSON, "messages": st.lists(MESSAGE, max_size=4) | JSON},
    optional={
        key: JSON
        for key in [
            "max_tokens",
            "max_completion_tokens",
            "temperature",
            "n",
            "stop",
            "tools",
            "tool_choice",
            "response_format",
            "stream",
            "stream_options",
            "reasoning_effort",
            "top_k",
            "user",
            "logprobs",
        ]
    },
)


def without_empty_texts(req: ir.Request) -> ir.Request:
    """An empty content array and an empty string are both rendered as ``""``."""
    for message in req.messages:
        for part in message.parts:
            if isinstance(part, ir.ToolResult):
                part.content = [p for p in part.content if p != ir.Text("")]
        message.parts = [p for p in message.parts if p != ir.Text("")]
    return req


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODY | JSON)
def test_random_requests_only_raise_translation_error(body: object) -> None:
    """Any body: only TranslationError escapes; one that parses renders and parses back
    to the same IR."""
    assert oc.recognise(body) in (0, 1, 2)
    try:
        req = oc.parse_request(copy.deepcopy(body))
    except TranslationError:
        return
    rendered = oc.render_request(req)
    orjson.dumps(rendered)
    assert without_empty_texts(oc.parse_request(copy.deepcopy(rendered))) == without_empty_texts(
        req
    )
    req.source = "gemini"
    with contextlib.suppress(TranslationError):
        oc.render_request(req)


TEXT = st.text(max_size=5)
TEXT_PART = st.builds(lambda t: {"type": "text", "text": t}, TEXT)
MEDIA_PART = st.sampled_from(
    [
        {"type": "image_url", "image_url": {"url": "https://x/a.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
        {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
        {"type": "file", "file": {"file_id": "file-1"}},
        {
            "type": "file",
            "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a"},
        },
        {"type": "file", "file": {"file_data": "JVBE"}},
    ]
)
TEXTS = TEXT | st.lists(TEXT_PART, min_size=2, max_size=3)
USER_CONTENT = (
    TEXTS
    | st.lists(TEXT_PART | MEDIA_PART, min_size=2, max_size=4)
    | st.lists(MEDIA_PART, min_size=1, max_size=1)
)
CALL = st.builds(
    lambda i, name, args: {
        "id": f"call_{i}",
        "type": "function",
        "function": {"name": name, "arguments": args},
    },
    st.integers(0, 9),
    st.sampled_from(["f", "g"]),
    st.sampled_from(["{}", '{"a": 1}', "{", ""]),
)


@st.composite
def assistant_message(draw: st.DrawFn) -> dict:
    calls = draw(st.lists(CALL, max_size=2, unique_by=lambda c: c["id"]))
    # Beside tool calls empty texts are not sent (test_tool_only_assistant_turn_has_null_content),
    # so none is generated.
    full = TEXT.filter(bool)
    spoken = full | st.lists(st.builds(lambda t: {"type": "text", "text": t}, full), min_size=2)
    content = draw(st.none() | (spoken if calls else TEXTS))
    message = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    if draw(st.booleans()):
        message["reasoning_content"] = draw(TEXT.filter(bool))
    return message


VALID_MESSAGE = (
    st.builds(
        lambda r, c: {"role": r, "content": c}, st.sampled_from(["system", "developer"]), TEXTS
    )
    | st.builds(lambda c: {"role": "user", "content": c}, USER_CONTENT)
    | st.builds(lambda n, c: {"role": "user", "content": c, "name": n}, TEXT, TEXT)
    | assistant_message()
    | st.builds(
        lambda i, c: {"role": "tool", "tool_call_id": f"call_{i}", "content": c},
        st.integers(0, 9),
        TEXTS,
    )
)
VALID_OPTIONS = {
    "temperature": st.floats(0, 2) | st.integers(0, 2),
    "top_p": st.floats(0, 1),
    "n": st.integers(1, 4),
    "seed": st.integers(-(2**63), 2**63 - 1),  # every provider stores int64
    "stop": TEXT | st.lists(TEXT, max_size=4),
    "max_completion_tokens": st.integers(0, 10**6),
    "user": TEXT,
    "logprobs": st.booleans(),
    "top_logprobs": st.integers(0, 20),
    "presence_penalty": st.floats(-2, 2),
    "parallel_tool_calls": st.booleans(),
    "reasoning_effort": st.sampled_from(["none", "minimal", "low", "medium", "high", "xhigh"]),
    "tool_choice": st.sampled_from(
        ["none", "auto", "required", {"type": "function", "function": {"name": "f"}}]
    ),
    "response_format": st.sampled_from(
        [
            {"type": "text"},
            {"type": "json_object"},
            {"type": "json_schema", "json_schema": {"name": "r", "schema": {}, "strict": True}},
        ]
    ),
    "tools": st.just([{"type": "function", "function": {"name": "f", "parameters": {}}}]),
    "metadata": st.dictionaries(TEXT, TEXT, max_size=2),
    "store": st.booleans(),
    "logit_bias": st.dictionaries(st.sampled_from(["1", "2"]), st.integers(-100, 100)),
    "top_k": st.integers(1, 100),
}
VALID_BODY = st.fixed_dictionaries(
    {"model": TEXT, "messages": st.lists(VALID_MESSAGE, max_size=5)}, optional=VALID_OPTIONS
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=VALID_BODY, stream=st.booleans(), legacy=st.booleans())
def test_valid_requests_round_trip_exactly(body: dict, stream: bool, legacy: bool) -> None:
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if legacy and "max_completion_tokens" in body:
        body["max_tokens"] = body.pop("max_completion_tokens")
    assert oc.render_request(oc.parse_request(copy.deepcopy(body))) == body
