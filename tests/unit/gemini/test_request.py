"""Request-level fields: recognise, tools, tool config, generation config, thinking,
response format, what stays in ``extra``, token counts, and refusals naming the field."""

from __future__ import annotations

import contextlib
import copy

import pytest
from hypothesis import given, settings

from tests.unit.gemini import foreign, json_values, load, user
from translators import gemini, ir
from translators.errors import TranslationError

# ----------------------------------------------------------------------- recognise


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ({"contents": []}, 2),
        ({"contents": [], "messages": []}, 2),
        ({"system_instruction": {"parts": []}}, 2),
        ({"systemInstruction": {"parts": []}}, 2),
        ({"generationConfig": {}}, 2),
        ({"messages": [], "generationConfig": {}}, 0),
        ({"input": "hi"}, 0),
        ({"model": "x"}, 0),
        ([], 0),
    ],
)
def test_recognise(body: object, score: int) -> None:
    assert gemini.recognise(body) == score


# ----------------------------------------------------------- parse and round trip

CAMEL_REQUESTS = [
    "request_generate_basic.json",
    "request_parallel_tools_gemini25.json",
    "request_parallel_tools_gemini3flash.json",
    "request_parallel_function_responses_gemini25.json",
    "request_parallel_function_responses_gemini3flash.json",
]


@pytest.mark.parametrize("name", CAMEL_REQUESTS)
def test_request_examples_round_trip_exactly(name: str) -> None:
    body = load(name)
    before = copy.deepcopy(body)
    req = gemini.parse_request(body, model="gemini-2.5-flash", stream=True)
    assert req.source == "gemini" and req.stream is True and req.model == "gemini-2.5-flash"
    assert gemini.render_request(req) == body
    assert body == before  # parsing never modifies the caller's body


def test_model_defaults_to_the_bodys_model_field() -> None:
    req = gemini.parse_request({"model": "models/gemini-2.5-pro", "contents": []})
    assert req.model == "gemini-2.5-pro"


def _upper_types(schema: object) -> object:
    if isinstance(schema, dict):
        return {k: v.upper() if k == "type" else _upper_types(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_upper_types(v) for v in schema]
    return schema


def test_snake_case_request_normalizes_to_camel_case() -> None:
    body = load("request_function_declarations_snake_case.json")
    expected = {
        "contents": [{"role": "user", "parts": [body["contents"]["parts"]]}],
        "tools": [
            {
                "functionDeclarations": [
                    {**d, "parameters": _upper_types(d["parameters"])}
                    for d in body["tools"][0]["function_declarations"]
                ]
            }
        ],
    }
    req = gemini.parse_request(body, model="gemini-2.5-flash")
    assert [t.name for t in req.tools] == ["find_movies", "find_theaters", "get_showtimes"]
    tool = req.tools[0]
    assert tool.parameters is not None and tool.parameters["type"] == "object"  # JSON Schema
    assert gemini.render_request(req) == expected


def test_snake_case_config_names_are_read_and_written_in_camel_case() -> None:
    body = {
        "contents": [],
        "generation_config": {
            "max_output_tokens": 10,
            "response_mime_type": "application/json",
            "thinking_config": {"thinking_budget": 0},
        },
        "tool_config": {"function_calling_config": {"mode": "any"}},
        "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
    }
    req = gemini.parse_request(body, model="m")
    assert req.max_tokens == 10
    assert req.response_format == ir.ResponseFormat("json_object")
    assert req.reasoning == ir.Reasoning(enabled=False, budget_tokens=0)
    assert req.tool_choice == ir.ToolChoice("required")
    assert req.extra["safetySettings"] == body["safety_settings"]
    out = gemini.render_request(req)
    assert out["generationConfig"] == {
        "maxOutputTokens": 10,
        "responseMimeType": "application/json",
        "thinkingConfig": {"thinkingBudget": 0},
    }
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert out["safetySettings"] == body["safety_settings"]


FULL_CONFIG = {
    "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    "generationConfig": {
        "temperature": 0,
        "topP": 0.5,
        "topK": 40,
        "candidateCount": 2,
        "maxOutputTokens": 100,
        "stopSequences": ["END"],
        "presencePenalty": 0.0,
        "frequencyPenalty": 0.5,
        "seed": 7,
        "responseLogprobs": False,
        "logprobs": 3,
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object", "additionalProperties": False},
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True},
        "responseModalities": ["TEXT"],
    },
    "tools": [
        {"functionDeclarations": [{"name": "f", "description": "d"}]},
        {"googleSearch": {}},
    ],
    "toolConfig": {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]},
        "retrievalConfig": {"latLng": {"latitude": 1, "longitude": 2}},
    },
    "cachedContent": "cachedContents/abc",
    "serviceTier": "flex",
}


def test_generation_config_maps_to_ir_sampling_fields() -> None:
    req = gemini.parse_request(copy.deepcopy(FULL_CONFIG), model="m")
    assert (req.temperature, req.top_p, req.top_k, req.n, req.max_tokens) == (0, 0.5, 40, 2, 100)
    assert (req.stop, req.presence_penalty, req.frequency_penalty, req.seed) == (
        ["END"],
        0.0,
        0.5,
        7,
    )
    assert (req.logprobs, req.top_logprobs) == (False, 3)
    assert req.response_format == ir.ResponseFormat(
        "json_schema", schema={"type": "object", "additionalProperties": False}
    )
    assert req.reasoning == ir.Reasoning(enabled=True, budget_tokens=1024, include_thoughts=True)


def test_declarations_become_tools_and_one_allowed_name_with_any_forces_it() -> None:
    req = gemini.parse_request(copy.deepcopy(FULL_CONFIG), model="m")
    assert req.tools == [ir.Tool("f", "d")]
    assert req.tool_choice == ir.ToolChoice("tool", name="f")


def test_unmapped_fields_stay_in_extra_and_only_droppable_ones_may_be_lost() -> None:
    req = gemini.parse_request(copy.deepcopy(FULL_CONFIG), model="m")
    assert req.extra["tools"] == [{"googleSearch": {}}]
    assert req.extra["generationConfig"] == {"responseModalities": ["TEXT"]}
    assert set(req.extra) - gemini.DROPPABLE == {
        "tools",
        "toolConfig",
        "generationConfig",
        "cachedContent",
    }
    assert gemini.render_request(req) == FULL_CONFIG


def test_stop_sequences_may_be_one_string() -> None:
    body = {"contents": [], "generationConfig": {"stopSequences": "END"}}
    assert gemini.parse_request(body, model="m").stop == ["END"]


@pytest.mark.parametrize(
    ("config", "choice"),
    [
        ({"mode": "AUTO"}, ir.ToolChoice("auto")),
        ({"mode": "auto"}, ir.ToolChoice("auto")),
        ({"mode": "NONE"}, ir.ToolChoice("none")),
        ({"mode": "ANY"}, ir.ToolChoice("required")),
        ({"mode": "ANY", "allowedFunctionNames": ["a"]}, ir.ToolChoice("tool", name="a")),
        (
            {"mode": "ANY", "allowedFunctionNames": ["a", "b"]},
            ir.ToolChoice("required", allowed=["a", "b"]),
        ),
        ({"mode": "VALIDATED"}, ir.ToolChoice("auto")),
    ],
)
def test_function_calling_modes_round_trip(config: dict, choice: ir.ToolChoice) -> None:
    body = {"contents": [], "toolConfig": {"functionCallingConfig": config}}
    req = gemini.parse_request(body, model="m")
    assert req.tool_choice == choice
    expected = {"contents": [], "toolConfig": {"functionCallingConfig": {**config}}}
    expected["toolConfig"]["functionCallingConfig"]["mode"] = config["mode"].upper()
    assert gemini.render_request(req) == expected


@pytest.mark.parametrize(
    ("config", "reasoning"),
    [
        ({"thinkingBudget": 0}, ir.Reasoning(enabled=False, budget_tokens=0)),
        ({"thinkingBudget": -1}, ir.Reasoning(adaptive=True)),
        ({"thinkingBudget": 512}, ir.Reasoning(enabled=True, budget_tokens=512)),
        ({"thinkingLevel": "LOW"}, ir.Reasoning(effort="low")),
        ({"thinkingLevel": "high", "includeThoughts": False}, None),
        ({"includeThoughts": True}, ir.Reasoning(include_thoughts=True)),
    ],
)
def test_thinking_config_round_trip(config: dict, reasoning: ir.Reasoning | None) -> None:
    body = {"contents": [], "generationConfig": {"thinkingConfig": config}}
    req = gemini.parse_request(body, model="m")
    if reasoning is not None:
        assert req.reasoning == reasoning
    out = gemini.render_request(req)["generationConfig"]["thinkingConfig"]
    assert out == {k: v.upper() if k == "thinkingLevel" else v for k, v in config.items()}


def test_response_schema_reads_as_json_schema_and_round_trips() -> None:
    schema = {"type": "OBJECT", "properties": {"a": {"type": "STRING", "nullable": True}}}
    body = {
        "contents": [],
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
    }
    req = gemini.parse_request(body, model="m")
    assert req.response_format is not None
    assert req.response_format.schema == {
        "type": "object",
        "properties": {"a": {"type": ["string", "null"]}},
    }
    assert gemini.render_request(req) == body
    req.source = "openai_chat"
    assert gemini.render_request(req)["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": req.response_format.schema,
    }


def test_other_response_mime_types_stay_in_extra() -> None:
    body = {
        "contents": [],
        "generationConfig": {
            "responseMimeType": "text/x.enum",
            "responseSchema": {"type": "STRING", "enum": ["a"]},
        },
    }
    req = gemini.parse_request(body, model="m")
    assert req.response_format is None and "generationConfig" in req.extra
    assert gemini.render_request(req) == body


# ------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({}, "contents", "contents is required"),
        ({"contents": "x"}, "contents", "contents must be an array"),
        (
            {"contents": [], "generationConfig": {"temperature": "hot"}},
            "generationConfig.temperature",
            "generationConfig.temperature must be a number",
        ),
        (
            {"contents": [], "generationConfig": {"topK": True}},
            "generationConfig.topK",
            "generationConfig.topK must be an integer",
        ),
        (
            {"contents": [], "generationConfig": {"stopSequences": [1]}},
            "generationConfig.stopSequences",
            "generationConfig.stopSequences must be a string",
        ),
        (
            {"contents": [], "generationConfig": {"thinkingConfig": {"thinkingBudget": -5}}},
            "generationConfig.thinkingConfig.thinkingBudget",
            "generationConfig.thinkingConfig.thinkingBudget must be -1 or >= 0",
        ),
        (
            {"contents": [], "generationConfig": {"thinkingConfig": {"includeThoughts": 1}}},
            "generationConfig.thinkingConfig.includeThoughts",
            "generationConfig.thinkingConfig.includeThoughts must be a boolean",
        ),
        (
            {"contents": [], "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}},
            "toolConfig.functionCallingConfig.mode",
            "toolConfig.functionCallingConfig.mode must be AUTO, ANY, NONE or VALIDATED, "
            "not 'SOMETIMES'",
        ),
        (
            {"contents": [], "tools": [{"functionDeclarations": [{}]}]},
            "tools[0].functionDeclarations[0].name",
            "tools[0].functionDeclarations[0].name is required",
        ),
        (
            {"contents": [], "tools": [{"functionDeclarations": [{"name": "f", "parameters": 1}]}]},
            "tools[0].functionDeclarations[0].parameters",
            "tools[0].functionDeclarations[0].parameters must be an object",
        ),
    ],
)
def test_bad_request_fields_are_refused_naming_the_field(
    body: dict, param: str, message: str
) -> None:
    with pytest.raises(TranslationError) as exc:
        gemini.parse_request(body, model="m")
    assert (exc.value.param, exc.value.message) == (param, message)


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(TranslationError) as exc:
        gemini.parse_request([], model="m")
    assert (exc.value.param, exc.value.message) == ("body", "body must be an object")


@pytest.mark.parametrize("field", ["maxOutputTokens", "topK", "candidateCount", "seed", "logprobs"])
def test_integers_beyond_64_bits_are_refused_naming_the_field(field: str) -> None:
    """1e30 reads as an integer (JSON has one number type) but no provider can take it:
    a 400 naming the field, not a failure when the body is encoded."""
    body = {"contents": [], "generationConfig": {field: 1e30}}
    with pytest.raises(TranslationError) as exc:
        gemini.parse_request(body, model="m")
    assert exc.value.param == f"generationConfig.{field}"
    assert exc.value.message == f"generationConfig.{field} is out of range (it must fit in 64 bits)"


def test_thinking_budget_beyond_64_bits_is_refused_naming_the_field() -> None:
    body = {"contents": [], "generationConfig": {"thinkingConfig": {"thinkingBudget": 2**70}}}
    with pytest.raises(TranslationError) as exc:
        gemini.parse_request(body, model="m")
    assert exc.value.param == "generationConfig.thinkingConfig.thinkingBudget"


def test_integral_floats_are_integers() -> None:
    body = {"contents": [], "generationConfig": {"maxOutputTokens": 64.0, "seed": 7.0}}
    req = gemini.parse_request(body, model="m")
    assert (req.max_tokens, req.seed) == (64, 7)
    assert isinstance(req.max_tokens, int) and isinstance(req.seed, int)


# ---------------------------------------------------- render from other formats


def test_foreign_tools_are_declared_with_gemini_schemas() -> None:
    schema = {
        "type": "object",
        "properties": {"q": {"type": ["string", "null"]}},
        "additionalProperties": False,
        "$schema": "http://json-schema.org/draft-07/schema#",
    }
    req = foreign(
        [user("hi")], tools=[ir.Tool("search", "find", schema, strict=True), ir.Tool("ping")]
    )
    assert gemini.render_request(req)["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "search",
                    "description": "find",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {"q": {"type": "STRING", "nullable": True}},
                    },
                },
                {"name": "ping"},  # parameterless: no empty schema
            ]
        }
    ]


def test_foreign_sampling_fields_map_to_generation_config() -> None:
    req = foreign(
        [user("hi")],
        temperature=0.0,
        top_p=1.0,
        max_tokens=64,
        n=1,
        stop=["x"],
        seed=0,
        logprobs=True,
        top_logprobs=2,
        include_usage=True,
    )
    assert gemini.render_request(req)["generationConfig"] == {
        "temperature": 0.0,
        "topP": 1.0,
        "candidateCount": 1,
        "maxOutputTokens": 64,
        "seed": 0,
        "responseLogprobs": True,
        "logprobs": 2,
        "stopSequences": ["x"],
    }


@pytest.mark.parametrize(
    ("fmt", "config"),
    [
        (ir.ResponseFormat("text"), {"responseMimeType": "text/plain"}),
        (ir.ResponseFormat("json_object"), {"responseMimeType": "application/json"}),
        (
            ir.ResponseFormat("json_schema", schema={"type": "object"}, name="n", strict=True),
            {"responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}},
        ),
    ],
)
def test_foreign_response_format_maps_to_mime_type_and_json_schema(
    fmt: ir.ResponseFormat, config: dict
) -> None:
    req = foreign([user("hi")], response_format=fmt)
    assert gemini.render_request(req)["generationConfig"] == config


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        (ir.ToolChoice("auto"), {"mode": "AUTO"}),
        (ir.ToolChoice("none"), {"mode": "NONE"}),
        (ir.ToolChoice("required"), {"mode": "ANY"}),
        (ir.ToolChoice("tool", name="f"), {"mode": "ANY", "allowedFunctionNames": ["f"]}),
        (
            ir.ToolChoice("required", allowed=["f", "g"]),
            {"mode": "ANY", "allowedFunctionNames": ["f", "g"]},
        ),
    ],
)
def test_tool_choice_rendering(choice: ir.ToolChoice, config: dict) -> None:
    req = foreign([user("hi")], tools=[ir.Tool("f"), ir.Tool("g")], tool_choice=choice)
    assert gemini.render_request(req)["toolConfig"] == {"functionCallingConfig": config}


@pytest.mark.parametrize(
    ("reasoning", "config"),
    [
        (ir.Reasoning(enabled=False), {"thinkingBudget": 0}),
        (ir.Reasoning(effort="none"), {"thinkingBudget": 0}),
        (ir.Reasoning(effort="minimal"), {"thinkingLevel": "MINIMAL"}),
        (ir.Reasoning(effort="medium"), {"thinkingLevel": "MEDIUM"}),
        (ir.Reasoning(effort="xhigh"), {"thinkingLevel": "HIGH"}),
        (ir.Reasoning(effort="max"), {"thinkingLevel": "HIGH"}),
        (
            ir.Reasoning(enabled=True, budget_tokens=2048),
            {"thinkingBudget": 2048, "includeThoughts": True},
        ),
        (
            ir.Reasoning(enabled=True, budget_tokens=2048, effort="high"),
            {"thinkingBudget": 2048, "includeThoughts": True},
        ),
        (ir.Reasoning(adaptive=True), {"thinkingBudget": -1, "includeThoughts": True}),
        (
            ir.Reasoning(enabled=True, budget_tokens=1024, include_thoughts=False),
            {"thinkingBudget": 1024, "includeThoughts": False},
        ),
        (ir.Reasoning(), None),
    ],
)
def test_reasoning_renders_as_thinking_config(reasoning: ir.Reasoning, config: dict | None) -> None:
    out = gemini.render_request(foreign([user("hi")], reasoning=reasoning))
    assert out.get("generationConfig", {}).get("thinkingConfig") == config


@pytest.mark.parametrize(
    ("effort", "budget"),
    [("minimal", 512), ("low", 2048), ("medium", 8192), ("high", 16384), ("max", 24576)],
)
def test_effort_becomes_a_budget_for_models_before_gemini3(effort: str, budget: int) -> None:
    req = foreign([user("hi")], reasoning=ir.Reasoning(effort=effort))
    req.model = "gemini-2.5-flash"
    thinking = gemini.render_request(req)["generationConfig"]["thinkingConfig"]
    assert thinking == {"thinkingBudget": budget}


def test_user_parallel_switch_and_cache_markers_are_dropped() -> None:
    req = foreign(
        [ir.Message("user", [ir.Text("hi", cache_control={"type": "ephemeral"})])],
        user="u-1",
        parallel_tool_calls=False,
    )
    assert gemini.render_request(req) == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_foreign_extra_is_not_rendered() -> None:
    req = foreign([user("hi")])
    req.extra = {"store": True, "safetySettings": []}
    assert gemini.render_request(req) == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


# -------------------------------------------------------------------- token count


def test_count_request_takes_contents_or_a_whole_generate_request() -> None:
    contents = [{"role": "user", "parts": [{"text": "hi"}]}]
    plain = gemini.parse_count_request({"contents": contents}, model="m")
    wrapped = gemini.parse_count_request(
        {"generateContentRequest": {"contents": contents, "generationConfig": {"seed": 1}}},
        model="m",
    )
    assert plain.messages == wrapped.messages == [user("hi")]
    assert wrapped.seed == 1 and plain.stream is False


def test_token_count_reports_total_and_text_modality() -> None:
    assert gemini.render_token_count(12) == {
        "totalTokens": 12,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
    }


# ---------------------------------------------------------------- random inputs


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_random_request_bodies_only_raise_translation_error(body: object) -> None:
    """Nothing but TranslationError escapes parsing and rendering any request body."""
    with contextlib.suppress(TranslationError):
        if isinstance(body, dict):
            gemini.render_request(gemini.parse_request({"contents": [], **body}, model="m"))
        else:
            gemini.parse_request(body, model="m")
