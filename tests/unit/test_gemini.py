"""Tests for the Gemini codec: requests, responses, errors, stream parser and renderer."""

from __future__ import annotations

import base64
import contextlib
import copy
from pathlib import Path

import orjson
import pytest
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from hypothesis import given, settings
from hypothesis import strategies as st

from translators import gemini, ir
from translators.errors import TranslationError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "spec" / "gemini"


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


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


def ctx(**kw: object) -> ir.RenderContext:
    base: dict = {"model": "", "created": 1700000000, "request_id": "req_1"}
    base.update(kw)
    return ir.RenderContext(**base)


def user(text: str) -> ir.Message:
    return ir.Message("user", [ir.Text(text)])


def foreign(messages: list[ir.Message], **kw: object) -> ir.Request:
    return ir.Request(model="gemini-3-flash-preview", messages=messages, source="openai_chat", **kw)


STREAM_FIXTURES = sorted(
    p.name
    for p in FIXTURES.iterdir()
    if p.name.startswith("stream_") and p.suffix in (".sse", ".jsonl")
)
GEMINI_STREAMS = [n for n in STREAM_FIXTURES if "vertex" not in n]


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


# ------------------------------------------------------------------------ requests

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
    assert req.tools[0].parameters["type"] == "object"  # standard JSON Schema in the IR
    assert gemini.render_request(req) == expected


def test_snake_case_system_instruction() -> None:
    body = load("request_system_instruction_multiturn.json")
    req = gemini.parse_request(body, model="gemini-2.5-flash")
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "user"]
    expected = {
        "systemInstruction": {"parts": [body["system_instruction"]["parts"]]},
        "contents": body["contents"],
    }
    assert gemini.render_request(req) == expected


def test_legacy_function_role_is_user() -> None:
    body = load("request_function_response_turn.json")
    req = gemini.parse_request(body, model="gemini-2.5-flash")
    assert [m.role for m in req.messages] == ["user", "assistant", "tool"]
    call = req.messages[1].parts[0]
    result = req.messages[2].parts[0]
    assert isinstance(call, ir.ToolCall) and isinstance(result, ir.ToolResult)
    assert call.id.startswith("gem_") and result.call_id == call.id
    assert result.name == "find_theaters"
    assert (
        orjson.loads(result.content[0].text)
        == body["contents"][2]["parts"][0]["functionResponse"]["response"]
    )
    expected = copy.deepcopy(body)
    expected["contents"][2]["role"] = "user"
    assert gemini.render_request(req) == expected


def test_snake_case_parts_and_config_names() -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"mime_type": "image/png", "data": "iVBO-_"}},
                    {"file_data": {"mime_type": "application/pdf", "file_uri": "gs://b/x.pdf"}},
                ],
            }
        ],
        "generation_config": {
            "max_output_tokens": 10,
            "response_mime_type": "application/json",
            "thinking_config": {"thinking_budget": 0},
        },
        "tool_config": {"function_calling_config": {"mode": "any"}},
        "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
    }
    req = gemini.parse_request(body, model="m")
    image, doc = req.messages[0].parts
    assert image == ir.Image(media_type="image/png", data="iVBO+/")  # URL-safe -> standard
    assert doc == ir.Document(media_type="application/pdf", url="gs://b/x.pdf")
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


def test_parallel_calls_and_responses_gemini25_pair_by_name_and_order() -> None:
    req = gemini.parse_request(
        load("request_parallel_function_responses_gemini25.json"), model="gemini-2.5-flash"
    )
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "tool"]
    calls = req.messages[2].parts
    results = req.messages[3].parts
    assert all(isinstance(c, ir.ToolCall) and c.id.startswith("gem_") for c in calls)
    assert len({c.id for c in calls}) == 3
    assert calls[0].signature and calls[1].signature is None and calls[2].signature is None
    assert [r.call_id for r in results] == [c.id for c in calls]
    assert [orjson.loads(r.content[0].text) for r in results] == [
        {"sum": 5},
        {"sum": 9},
        {"sum": 13},
    ]
    again = gemini.parse_request(
        load("request_parallel_function_responses_gemini25.json"), model="gemini-2.5-flash"
    )
    assert [c.id for c in again.messages[2].parts] == [c.id for c in calls]  # stable ids


def test_parallel_calls_and_responses_gemini3_keep_ids() -> None:
    req = gemini.parse_request(
        load("request_parallel_function_responses_gemini3flash.json"), model="gemini-3-flash"
    )
    calls = req.messages[2].parts
    results = req.messages[3].parts
    assert [c.id for c in calls] == ["3ae8iwca", "up3kf30e", "ycroch25"]
    assert [r.call_id for r in results] == ["3ae8iwca", "up3kf30e", "ycroch25"]


def test_id_less_responses_pair_with_the_first_unanswered_call_of_that_name() -> None:
    body = {
        "contents": [
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"name": "a", "args": {"x": 1}}},
                    {"functionCall": {"name": "b", "args": {}}},
                    {"functionCall": {"name": "a", "args": {"x": 2}}},
                ],
            },
            {"role": "user", "parts": [{"functionResponse": {"name": "a", "response": {}}}]},
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "a", "response": {}}},
                    {"functionResponse": {"name": "b", "response": {}}},
                    {"functionResponse": {"name": "zzz", "response": {}}},
                ],
            },
        ]
    }
    req = gemini.parse_request(body, model="m")
    calls = req.messages[0].parts
    results = req.messages[1].parts + req.messages[2].parts
    assert [m.role for m in req.messages] == ["assistant", "tool", "tool"]
    assert [r.call_id for r in results[:3]] == [calls[0].id, calls[2].id, calls[1].id]
    assert results[3].call_id.startswith("gem_") and results[3].call_id not in {c.id for c in calls}


def test_function_response_content_forms() -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": "1", "name": "f", "response": {"output": "hi"}}},
                    {"functionResponse": {"id": "2", "name": "f", "response": {"error": "boom"}}},
                    {"functionResponse": {"id": "3", "name": "f", "response": {"a": [1]}}},
                    {
                        "functionResponse": {
                            "id": "4",
                            "name": "f",
                            "response": {"output": '{"a": 1}'},
                        }
                    },
                    {"functionResponse": {"id": "5", "name": "f", "response": {"error": {"c": 1}}}},
                ],
            }
        ]
    }
    req = gemini.parse_request(body, model="m")
    results = req.messages[0].parts
    assert results[0] == ir.ToolResult("1", [ir.Text("hi")], name="f")
    assert results[1] == ir.ToolResult("2", [ir.Text("boom")], name="f", is_error=True)
    assert results[2] == ir.ToolResult("3", [ir.Text('{"a":[1]}')], name="f")
    assert results[3].content == [ir.Text('{"output":"{\\"a\\": 1}"}')]
    assert results[4] == ir.ToolResult("5", [ir.Text('{"c":1}')], name="f", is_error=True)
    assert gemini.render_request(req) == body


def test_function_response_parts_round_trip_for_gemini_callers() -> None:
    body = {
        "contents": [
            {
                "role": "model",
                "parts": [{"functionCall": {"id": "c1", "name": "shot", "args": {}}}],
            },
            {
                "role": "user",
                "parts": [
                    {
                        "functionResponse": {
                            "id": "c1",
                            "name": "shot",
                            "response": {"ok": True},
                            "parts": [{"inlineData": {"mimeType": "image/png", "data": "AAAA"}}],
                        }
                    }
                ],
            },
        ]
    }
    req = gemini.parse_request(body, model="gemini-3-pro")
    result = req.messages[1].parts[0]
    assert result.content[1] == ir.Image(media_type="image/png", data="AAAA")
    assert gemini.render_request(req) == body


def test_thought_parts_and_foreign_signatures_in_requests() -> None:
    anthropic_sig = base64.b64encode(b"anthropic:EqQBCgIYAh").decode()
    redacted = base64.b64encode(b"anthropic-redacted:REDACTED").decode()
    body = {
        "contents": [
            {
                "role": "model",
                "parts": [
                    {"text": "mine", "thought": True, "thoughtSignature": "CmIBvj72"},
                    {"text": "theirs", "thought": True, "thoughtSignature": anthropic_sig},
                    {"text": "", "thought": True, "thoughtSignature": redacted},
                    {"text": "literal", "thought": True, "thoughtSignature": "anthropic:SIG"},
                    {"text": "answer", "thoughtSignature": "TXTSIG"},
                ],
            }
        ]
    }
    req = gemini.parse_request(body, model="gemini-2.5-pro")
    parts = req.messages[0].parts
    assert parts[0] == ir.Thinking("mine", signature="CmIBvj72", origin="gemini")
    assert parts[1] == ir.Thinking("theirs", signature="EqQBCgIYAh", origin="anthropic")
    assert parts[2] == ir.Thinking("", redacted="REDACTED", origin="anthropic")
    assert parts[3] == ir.Thinking("literal", signature="SIG", origin="anthropic")
    assert parts[4] == ir.Text("answer", signature="TXTSIG")
    # Foreign thinking never goes back to Gemini.
    assert gemini.render_request(req)["contents"][0]["parts"] == [
        body["contents"][0]["parts"][0],
        body["contents"][0]["parts"][4],
    ]


def test_generation_config_and_tools_parse_and_round_trip() -> None:
    body = {
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
    req = gemini.parse_request(body, model="m")
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
    assert req.tools == [ir.Tool("f", "d")]
    assert req.tool_choice == ir.ToolChoice("tool", name="f")
    assert req.extra["tools"] == [{"googleSearch": {}}]
    assert req.extra["generationConfig"] == {"responseModalities": ["TEXT"]}
    assert set(req.extra) - gemini.DROPPABLE == {
        "tools",
        "toolConfig",
        "generationConfig",
        "cachedContent",
    }
    assert gemini.render_request(req) == body


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


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "contents"),
        ({"contents": "x"}, "contents"),
        ({"contents": [{"role": "system", "parts": []}]}, "contents[0].role"),
        ({"contents": [{"parts": [{"text": 1}]}]}, "contents[0].parts[0].text"),
        ({"contents": [{"parts": [{"executableCode": {}}]}]}, "contents[0].parts[0]"),
        ({"contents": [{"parts": [{"functionCall": {"name": "f"}}]}]}, "contents[0].parts[0]"),
        (
            {"contents": [{"role": "model", "parts": [{"functionCall": {"args": {}}}]}]},
            "contents[0].parts[0].functionCall.name",
        ),
        (
            {
                "contents": [
                    {"role": "model", "parts": [{"functionCall": {"name": "f", "args": 1}}]}
                ]
            },
            "contents[0].parts[0].functionCall.args",
        ),
        (
            {"contents": [{"parts": [{"functionResponse": {"name": "f", "response": "x"}}]}]},
            "contents[0].parts[0].functionResponse.response",
        ),
        (
            {"contents": [], "generationConfig": {"temperature": "hot"}},
            "generationConfig.temperature",
        ),
        (
            {"contents": [], "generationConfig": {"thinkingConfig": {"thinkingBudget": -5}}},
            "generationConfig.thinkingConfig.thinkingBudget",
        ),
        (
            {"contents": [], "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}},
            "toolConfig.functionCallingConfig.mode",
        ),
        (
            {"contents": [], "tools": [{"functionDeclarations": [{}]}]},
            "tools[0].functionDeclarations[0].name",
        ),
    ],
)
def test_bad_requests_name_the_field(body: dict, param: str) -> None:
    with pytest.raises(TranslationError) as exc:
        gemini.parse_request(body, model="m")
    assert exc.value.param == param


# ---------------------------------------------- render_request from other formats


def test_consecutive_tool_results_become_one_user_content_in_call_order() -> None:
    # PEER-BUGS #5 and #6: N results in ONE content, call order, names from the calls.
    calls = [
        ir.ToolCall("gem_aaaaaaaaaaaaaaaa", "sum", '{"a":2,"b":3}', signature="SIG"),
        ir.ToolCall("gem_bbbbbbbbbbbbbbbb", "sum", '{"a":4,"b":5}'),
        ir.ToolCall("call_3", "mul", '{"a":6,"b":7}'),
    ]
    req = foreign(
        [
            user("add"),
            ir.Message("assistant", [ir.Text(""), *calls]),
            ir.Message("tool", [ir.ToolResult("call_3", [ir.Text("42")])]),
            ir.Message("tool", [ir.ToolResult("gem_aaaaaaaaaaaaaaaa", [ir.Text('{"sum": 5}')])]),
            ir.Message("tool", [ir.ToolResult("gem_bbbbbbbbbbbbbbbb", [ir.Text("9")])]),
            user("thanks"),
        ]
    )
    out = gemini.render_request(req)
    assert out["contents"] == [
        {"role": "user", "parts": [{"text": "add"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "sum", "args": {"a": 2, "b": 3}},
                    "thoughtSignature": "SIG",
                },
                {"functionCall": {"name": "sum", "args": {"a": 4, "b": 5}}},
                {"functionCall": {"name": "mul", "args": {"a": 6, "b": 7}, "id": "call_3"}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "sum", "response": {"sum": 5}}},
                {"functionResponse": {"name": "sum", "response": {"output": "9"}}},
                {"functionResponse": {"name": "mul", "response": {"output": "42"}, "id": "call_3"}},
                {"text": "thanks"},
            ],
        },
    ]


def test_tool_result_errors_names_and_missing_names() -> None:
    req = foreign(
        [
            ir.Message("assistant", [ir.ToolCall("t1", "f", "{}", signature="S")]),
            ir.Message("user", [ir.ToolResult("t1", [ir.Text("bad")], is_error=True)]),
            ir.Message("user", [ir.ToolResult("t2", [], name="g")]),
        ]
    )
    parts = gemini.render_request(req)["contents"][1]["parts"]
    assert parts == [
        {"functionResponse": {"name": "f", "response": {"error": "bad"}, "id": "t1"}},
        {"functionResponse": {"name": "g", "response": {"output": ""}, "id": "t2"}},
    ]
    req = foreign([ir.Message("tool", [ir.ToolResult("nope", [ir.Text("x")])])])
    with pytest.raises(TranslationError) as exc:
        gemini.render_request(req)
    assert exc.value.param == "messages[0].parts[0].name"


def test_images_in_tool_results_follow_the_function_responses() -> None:
    req = foreign(
        [
            ir.Message(
                "assistant",
                [ir.ToolCall("a", "shot", "", signature="S"), ir.ToolCall("b", "shot", "")],
            ),
            ir.Message(
                "tool",
                [
                    ir.ToolResult(
                        "a", [ir.Text("first"), ir.Image(media_type="image/png", data="AAAA")]
                    )
                ],
            ),
            ir.Message("tool", [ir.ToolResult("b", [ir.Text("second")])]),
        ]
    )
    parts = gemini.render_request(req)["contents"][1]["parts"]
    assert parts == [
        {"functionResponse": {"name": "shot", "response": {"output": "first"}, "id": "a"}},
        {"functionResponse": {"name": "shot", "response": {"output": "second"}, "id": "b"}},
        {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
    ]


def test_signature_placeholder_only_when_a_gemini3_turn_has_no_state() -> None:
    turn = ir.Message("assistant", [ir.ToolCall("a", "f", "{}"), ir.ToolCall("b", "f", "{}")])
    out = gemini.render_request(foreign([user("hi"), turn]))
    parts = out["contents"][1]["parts"]
    assert parts[0]["thoughtSignature"] == "skip_thought_signature_validator"
    assert "thoughtSignature" not in parts[1]
    older = foreign([user("hi"), turn])
    older.model = "gemini-2.5-flash"
    assert "thoughtSignature" not in gemini.render_request(older)["contents"][1]["parts"][0]
    signed = ir.Message(
        "assistant", [ir.ToolCall("a", "f", "{}"), ir.ToolCall("b", "f", "{}", "S")]
    )
    parts = gemini.render_request(foreign([signed]))["contents"][0]["parts"]
    assert "thoughtSignature" not in parts[0] and parts[1]["thoughtSignature"] == "S"
    own = gemini.parse_request(load("request_function_response_turn.json"), model="gemini-3-pro")
    assert "thoughtSignature" not in gemini.render_request(own)["contents"][1]["parts"][0]


def test_system_messages_and_thinking_from_other_formats() -> None:
    req = foreign(
        [
            ir.Message("system", [ir.Text("be brief")]),
            ir.Message("developer", [ir.Text("and kind")]),
            user("hi"),
            ir.Message(
                "assistant",
                [
                    ir.Thinking("claude thought", signature="sig", origin="anthropic"),
                    ir.Thinking("", redacted="xx", origin="anthropic"),
                    ir.Thinking("gemini thought", signature="GSIG", origin="gemini"),
                    ir.Text("hello", cache_control={"type": "ephemeral"}),
                ],
            ),
            ir.Message("system", [ir.Text("now in French")]),
            user("encore"),
        ],
        user="u-1",
        parallel_tool_calls=False,
    )
    out = gemini.render_request(req)
    assert out == {
        "systemInstruction": {"parts": [{"text": "be brief"}, {"text": "and kind"}]},
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {
                "role": "model",
                "parts": [
                    {"text": "gemini thought", "thought": True, "thoughtSignature": "GSIG"},
                    {"text": "hello"},
                ],
            },
            {"role": "user", "parts": [{"text": "now in French"}, {"text": "encore"}]},
        ],
    }


def test_media_rendering_and_refusals() -> None:
    parts: list[ir.Part] = [
        ir.Image(media_type="image/jpeg", data="/9j/"),
        ir.Image(url="https://example.com/cat.PNG?x=1"),
        ir.Image(url="gs://bucket/photo", media_type="image/webp"),
        ir.Image(url="data:image/gif;base64,R0lGOD"),
        ir.Audio(media_type="audio/wav", data="UklG"),
        ir.Document(media_type="application/pdf", data="JVBE", title="t"),
        ir.Document(url="https://example.com/a.pdf"),
        ir.Document(text="plain text doc"),
    ]
    out = gemini.render_request(foreign([ir.Message("user", parts)]))
    assert out["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}},
        {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.PNG?x=1"}},
        {"fileData": {"mimeType": "image/webp", "fileUri": "gs://bucket/photo"}},
        {"inlineData": {"mimeType": "image/gif", "data": "R0lGOD"}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklG"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "https://example.com/a.pdf"}},
        {"text": "plain text doc"},
    ]
    for bad in (
        ir.Image(url="https://example.com/image"),
        ir.Image(data="AAAA"),
        ir.Document(file_id="file-123"),
    ):
        with pytest.raises(TranslationError) as exc:
            gemini.render_request(foreign([ir.Message("user", [ir.Text("x"), bad])]))
        assert exc.value.param == "messages[0].parts[1]"


def test_tools_choice_sampling_and_format_from_other_formats() -> None:
    schema = {
        "type": "object",
        "properties": {"q": {"type": ["string", "null"]}},
        "additionalProperties": False,
        "$schema": "http://json-schema.org/draft-07/schema#",
    }
    req = foreign(
        [user("hi")],
        tools=[ir.Tool("search", "find", schema, strict=True), ir.Tool("ping")],
        tool_choice=ir.ToolChoice("none"),
        temperature=0.0,
        top_p=1.0,
        max_tokens=64,
        n=1,
        stop=["x"],
        seed=0,
        logprobs=True,
        top_logprobs=2,
        response_format=ir.ResponseFormat("json_schema", schema={"type": "object"}, name="n"),
        reasoning=ir.Reasoning(effort="xhigh"),
        include_usage=True,
    )
    out = gemini.render_request(req)
    assert out["tools"] == [
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
                {"name": "ping"},
            ]
        }
    ]
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}
    assert out["generationConfig"] == {
        "temperature": 0.0,
        "topP": 1.0,
        "candidateCount": 1,
        "maxOutputTokens": 64,
        "seed": 0,
        "responseLogprobs": True,
        "logprobs": 2,
        "stopSequences": ["x"],
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"},
        "thinkingConfig": {"thinkingLevel": "HIGH"},
    }


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
def test_reasoning_table(reasoning: ir.Reasoning, config: dict | None) -> None:
    out = gemini.render_request(foreign([user("hi")], reasoning=reasoning))
    assert out.get("generationConfig", {}).get("thinkingConfig") == config


def test_foreign_extra_is_not_rendered_and_bad_arguments_are_refused() -> None:
    req = foreign([user("hi")])
    req.extra = {"store": True, "safetySettings": []}
    assert gemini.render_request(req) == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    bad = foreign([ir.Message("assistant", [ir.ToolCall("a", "f", "{nope")])])
    with pytest.raises(TranslationError) as exc:
        gemini.render_request(bad)
    assert exc.value.param == "messages[0].parts[0].arguments"
    array = foreign([ir.Message("assistant", [ir.ToolCall("a", "f", "[1]")])])
    with pytest.raises(TranslationError):
        gemini.render_request(array)


# ----------------------------------------------------------------------- responses

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


def test_response_ids_models_and_stop_reasons() -> None:
    resp = gemini.parse_response(load("response_generate_basic.json"))
    assert (resp.id, resp.model) == ("xlWYafXAOKSf1e8PpcODiAg", "gemini-2.5-flash")
    assert resp.choices[0].stop_reason == "end_turn"
    assert resp.usage == ir.Usage(input_tokens=11, output_tokens=35, reasoning_tokens=34)
    resp = gemini.parse_response(load("response_text.json"))
    assert resp.id == "" and resp.model == "gemini-2.0-flash"
    resp = gemini.parse_response(load("response_thought_and_function_call.json"))
    thought, call = resp.choices[0].parts
    assert isinstance(thought, ir.Thinking) and thought.origin == "gemini"
    assert isinstance(call, ir.ToolCall) and call.arguments == "{}" and call.signature
    assert call.id.startswith("gem_")
    assert resp.choices[0].stop_reason == "tool_use"
    assert resp.choices[0].raw_stop_reason == "STOP"
    resp = gemini.parse_response(load("response_only_prompt_feedback.json"))
    assert len(resp.choices) == 1 and resp.choices[0].stop_reason == "content_filter"
    assert resp.choices[0].parts == []


@pytest.mark.parametrize(
    ("raw", "stop"),
    [
        ("STOP", "end_turn"),
        ("MAX_TOKENS", "max_tokens"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("IMAGE_PROHIBITED_CONTENT", "content_filter"),
        ("IMAGE_RECITATION", "content_filter"),
        ("IMAGE_OTHER", "content_filter"),
        ("LANGUAGE", "other"),
        ("OTHER", "other"),
        ("FINISH_REASON_UNSPECIFIED", "other"),
        ("SOMETHING_NEW", "other"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("UNEXPECTED_TOOL_CALL", "error"),
        ("TOO_MANY_TOOL_CALLS", "error"),
    ],
)
def test_finish_reasons(raw: str, stop: str) -> None:
    body = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": raw}]}
    choice = gemini.parse_response(body).choices[0]
    assert (choice.stop_reason, choice.raw_stop_reason) == (stop, raw)


def test_usage_is_inclusive_and_round_trips_without_double_counting() -> None:
    meta = {
        "promptTokenCount": 100,
        "cachedContentTokenCount": 60,
        "toolUsePromptTokenCount": 7,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "totalTokenCount": 157,
    }
    resp = gemini.parse_response({"candidates": [], "usageMetadata": meta})
    assert resp.usage == ir.Usage(
        input_tokens=107, output_tokens=50, cache_read_tokens=60, reasoning_tokens=30
    )
    assert gemini.render_response(resp, ctx())["usageMetadata"] == meta
    resp.source = "anthropic"
    assert gemini.render_response(resp, ctx())["usageMetadata"] == {
        "promptTokenCount": 107,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "cachedContentTokenCount": 60,
        "totalTokenCount": 157,
    }


def test_render_response_from_anthropic_ir() -> None:
    resp = ir.Response(
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
    out = gemini.render_response(resp, ctx(model="ignored"))
    parsed = genai_types.GenerateContentResponse.model_validate(out)
    assert parsed.candidates[0].content.parts[0].thought_signature == b"anthropic:EqQBCgIYAh=="
    assert out["candidates"][0]["finishReason"] == "STOP"
    assert out["candidates"][0]["content"]["parts"][3] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_01"}
    }
    assert out["responseId"] == "msg_01" and out["modelVersion"] == "claude-sonnet-4-5"
    back = gemini.parse_response(out)
    assert back.choices[0].parts[:3] == [
        ir.Thinking("let me think", signature="EqQBCgIYAh==", origin="anthropic"),
        ir.Thinking("", redacted="opaque", origin="anthropic"),
        ir.Text("Calling."),
    ]
    assert back.choices[0].parts[3].id == "toolu_01"
    # The google-genai SDK re-encodes signatures URL-safe when it sends history back.
    urlsafe = base64.urlsafe_b64encode(b"anthropic:EqQBCgIYAh==").decode()
    part = {"text": "t", "thought": True, "thoughtSignature": urlsafe}
    req = gemini.parse_request({"contents": [{"role": "model", "parts": [part]}]}, model="m")
    assert req.messages[0].parts[0] == ir.Thinking(
        "t", signature="EqQBCgIYAh==", origin="anthropic"
    )


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "STOP"),
        ("stop_sequence", "STOP"),
        ("tool_use", "STOP"),
        ("max_tokens", "MAX_TOKENS"),
        ("context_window", "MAX_TOKENS"),
        ("content_filter", "SAFETY"),
        ("pause_turn", "OTHER"),
        ("error", "OTHER"),
        ("other", "OTHER"),
    ],
)
def test_foreign_stop_reasons(stop: ir.StopReason, finish: str) -> None:
    resp = ir.Response(
        id="x",
        model="m",
        source="openai_chat",
        choices=[ir.Choice([ir.Text("hi")], stop, raw_stop_reason="length")],
    )
    assert gemini.render_response(resp, ctx())["candidates"][0]["finishReason"] == finish


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


# -------------------------------------------------------------------------- errors


def test_parse_error_examples() -> None:
    err = gemini.parse_error(400, load("error_400_api_key_invalid.json"))
    assert (err.kind, err.status, err.code) == ("authentication", 401, "API_KEY_INVALID")
    assert err.message == "API key not valid. Please pass a valid API key."
    err = gemini.parse_error(404, load("error_404_model_not_found.json"))
    assert (err.kind, err.status, err.code) == ("not_found", 404, "NOT_FOUND")
    err = gemini.parse_error(429, load("error_429_resource_exhausted.json"))
    assert (err.kind, err.status, err.code) == ("rate_limit", 429, "RESOURCE_EXHAUSTED")
    err = gemini.parse_error(502, b"<html>bad gateway</html>")
    assert (err.kind, err.status) == ("api_error", 500)
    err = gemini.parse_error(429, orjson.dumps([load("error_429_resource_exhausted.json")]))
    assert err.kind == "rate_limit"


@pytest.mark.parametrize(
    ("status_name", "kind", "http"),
    [
        ("INVALID_ARGUMENT", "invalid_request", 400),
        ("FAILED_PRECONDITION", "invalid_request", 400),
        ("UNAUTHENTICATED", "authentication", 401),
        ("PERMISSION_DENIED", "permission", 403),
        ("NOT_FOUND", "not_found", 404),
        ("RESOURCE_EXHAUSTED", "rate_limit", 429),
        ("INTERNAL", "api_error", 500),
        ("UNIMPLEMENTED", "not_implemented", 501),
        ("UNAVAILABLE", "overloaded", 503),
        ("DEADLINE_EXCEEDED", "timeout", 504),
    ],
)
def test_status_names(status_name: str, kind: str, http: int) -> None:
    body = {"error": {"code": http, "message": "m", "status": status_name}}
    err = gemini.parse_error(http, body)
    assert (err.kind, err.status) == (kind, http)
    assert gemini.render_error(err) == (http, body)


@pytest.mark.parametrize(
    ("kind", "http", "status_name"),
    [
        ("invalid_request", 400, "INVALID_ARGUMENT"),
        ("authentication", 401, "UNAUTHENTICATED"),
        ("billing", 400, "FAILED_PRECONDITION"),
        ("permission", 403, "PERMISSION_DENIED"),
        ("not_found", 404, "NOT_FOUND"),
        ("request_too_large", 400, "INVALID_ARGUMENT"),
        ("rate_limit", 429, "RESOURCE_EXHAUSTED"),
        ("api_error", 500, "INTERNAL"),
        ("not_implemented", 501, "UNIMPLEMENTED"),
        ("overloaded", 503, "UNAVAILABLE"),
        ("timeout", 504, "DEADLINE_EXCEEDED"),
    ],
)
def test_render_error_per_kind(kind: ir.ErrorKind, http: int, status_name: str) -> None:
    status, body = gemini.render_error(ir.Error(kind=kind, message="nope", status=0))
    assert status == http
    assert body == {"error": {"code": http, "message": "nope", "status": status_name}}
    exc_class = genai_errors.ClientError if http < 500 else genai_errors.ServerError
    with pytest.raises(exc_class) as exc:
        genai_errors.APIError.raise_error(status, body, None)
    assert exc.value.status == status_name and exc.value.message == "nope"


def test_render_error_param_and_api_key_reason_round_trip() -> None:
    err = ir.Error("invalid_request", "bad value", 400, param="messages[1].content")
    status, body = gemini.render_error(err)
    assert status == 400
    assert body["error"]["message"] == "bad value (param: messages[1].content)"
    back = gemini.parse_error(status, body)
    assert (back.kind, back.param) == ("invalid_request", "messages[1].content")
    key = gemini.parse_error(400, load("error_400_api_key_invalid.json"))
    status, body = gemini.render_error(key)
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    assert gemini.parse_error(status, body).kind == "authentication"


# --------------------------------------------------------------------- stream parse


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


def _blocks(events: list[ir.Event]) -> list[ir.Event]:
    return [e for e in events if isinstance(e, ir.BlockStart | ir.BlockDelta | ir.BlockStop)]


def test_stream_parallel_calls_gemini25() -> None:
    events = parse_stream(stream_bytes("stream_parallel_function_calls_gemini25.sse"))
    starts = [e for e in events if isinstance(e, ir.BlockStart)]
    assert [e.index for e in starts] == [0, 1, 2]
    calls = [e.part for e in starts]
    assert all(isinstance(c, ir.ToolCall) and c.id.startswith("gem_") for c in calls)
    assert len({c.id for c in calls}) == 3 and all(c.arguments == "" for c in calls)
    assert calls[0].signature and calls[1].signature is None and calls[2].signature is None
    args = [e.text for e in events if isinstance(e, ir.BlockDelta)]
    assert args == ['{"a":2,"b":3}', '{"a":4,"b":5}', '{"a":6,"b":7}']
    finish = events[-1]
    assert isinstance(finish, ir.Finish) and finish.stop_reason == "tool_use"
    assert finish.raw_stop_reason == "STOP"
    assert finish.usage == ir.Usage(input_tokens=171, output_tokens=131, reasoning_tokens=77)
    assert _blocks(parse_stream(stream_bytes("stream_parallel_function_calls_gemini25.sse"))) == (
        _blocks(events)
    )


def test_stream_parallel_calls_gemini3_keep_ids() -> None:
    events = parse_stream(stream_bytes("stream_parallel_function_calls_gemini3flash.sse"))
    calls = [e.part for e in events if isinstance(e, ir.BlockStart)]
    assert [c.id for c in calls] == ["3ae8iwca", "up3kf30e", "ycroch25"]
    assert [e.index for e in events if isinstance(e, ir.BlockStop)] == [0, 1, 2]
    assert isinstance(events[-1], ir.Finish) and events[-1].stop_reason == "tool_use"


def test_stream_trailing_text_signature_and_thoughts() -> None:
    events = parse_stream(stream_bytes("stream_gemini3_text_trailing_signature.jsonl"))
    sig = [e for e in events if isinstance(e, ir.BlockDelta) and e.kind == "signature"]
    assert len(sig) == 1 and sig[0].index == 0 and sig[0].text.startswith("EqsF")
    events = parse_stream(stream_bytes("stream_thoughts_then_function_call.sse"))
    starts = [e.part for e in events if isinstance(e, ir.BlockStart)]
    assert isinstance(starts[0], ir.Thinking) and starts[0].origin == "gemini"
    assert isinstance(starts[1], ir.ToolCall) and starts[1].name == "now"
    assert [e.text for e in events if isinstance(e, ir.BlockDelta) and e.kind == "arguments"] == [
        "{}"
    ]


def test_stream_prompt_blocked_and_errors() -> None:
    events = parse_stream(stream_bytes("stream_prompt_blocked.sse"))
    assert isinstance(events[0], ir.MessageStart)
    assert events[-1] == ir.Finish("content_filter")
    error = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
    data = stream_bytes("stream_text.sse")[:300].rsplit(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    events = parse_stream(data + b"data: " + orjson.dumps(error) + b"\r\n\r\n" + data)
    assert isinstance(events[-1], ir.StreamError)
    assert events[-1].error.kind == "overloaded" and events[-1].error.message == "overloaded"
    assert not any(isinstance(e, ir.Finish) for e in events)
    events = parse_stream(b"  \r\n" + orjson.dumps(error))  # bare JSON error body
    assert len(events) == 1 and events[0].error.kind == "overloaded"
    assert isinstance(parse_stream(b"")[0], ir.StreamError)
    assert isinstance(parse_stream(as_json_array("stream_text.sse")[:-40])[-1], ir.StreamError)
    assert isinstance(parse_stream(b"data: {not json\r\n\r\n")[-1], ir.StreamError)


def test_stream_vertex_partial_args_are_refused() -> None:
    events = parse_stream(stream_bytes("stream_vertex_partial_args.jsonl"))
    assert isinstance(events[-1], ir.StreamError)
    assert events[-1].error.kind == "not_implemented"
    assert not any(isinstance(e, ir.BlockStart) for e in events)


def test_stream_cut_off_before_finish_reason_is_an_error() -> None:
    chunk = {"candidates": [{"content": {"parts": [{"text": "a"}]}}], "responseId": "r"}
    events = parse_stream(b"data: " + orjson.dumps(chunk) + b"\n\n")
    assert isinstance(events[-1], ir.StreamError)
    assert "finishReason" in events[-1].error.message


@pytest.mark.parametrize("name", STREAM_FIXTURES)
def test_stream_sse_and_json_array_framing_give_identical_events(name: str) -> None:
    assert parse_stream(stream_bytes(name)) == parse_stream(as_json_array(name))


@pytest.mark.parametrize("name", STREAM_FIXTURES)
def test_stream_byte_at_a_time(name: str) -> None:
    data = stream_bytes(name)
    assert parse_stream(data, chunk=1) == parse_stream(data)
    assert parse_stream(as_json_array(name), chunk=7) == parse_stream(data)


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
    assert events == parse_stream(stream_bytes(name))


# ------------------------------------------------------------------- stream render


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


@pytest.mark.parametrize("name", GEMINI_STREAMS)
@pytest.mark.parametrize("framing", ["sse", "json_array"])
def test_stream_render_round_trip_and_sdk_validation(name: str, framing: str) -> None:
    events = parse_stream(stream_bytes(name))
    out = render(events, framing=framing, source="gemini", model="gateway-model")
    for chunk in chunks_of(out):
        parsed = genai_types.GenerateContentResponse.model_validate(chunk)
        # google-genai chats only record history when every chunk has content parts.
        assert parsed.candidates[0].content.parts
    again = parse_stream(out)
    assert _blocks(again) == _blocks(events) or _merged_text(again) == _merged_text(events)
    # A blocked prompt comes back as a SAFETY candidate: same stop reason, new raw value.
    assert (again[-1].stop_reason, again[-1].usage) == (events[-1].stop_reason, events[-1].usage)
    assert again[0].id == events[0].id


def _merged_text(events: list[ir.Event]) -> list[tuple]:
    """Block contents by index, ignoring how text was split into deltas."""
    out: dict[int, list[str]] = {}
    for e in events:
        if isinstance(e, ir.BlockDelta):
            out.setdefault(e.index, []).append(e.kind + ":" + e.text)
    return [(i, "".join(v)) for i, v in sorted(out.items())]


def test_stream_render_from_anthropic_events() -> None:
    events: list[ir.Event] = [
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
    out = render(events, source="anthropic", model="gateway-model")
    chunks = chunks_of(out)
    for chunk in chunks:
        genai_types.GenerateContentResponse.model_validate(chunk)
        assert chunk["responseId"] == "msg_1" and chunk["modelVersion"] == "claude-x"
    parts = [c["candidates"][0]["content"]["parts"][0] for c in chunks]
    assert parts[0] == {"text": "hmm", "thought": True}
    assert base64.b64decode(parts[1]["thoughtSignature"]) == b"anthropic:EqQB=="
    assert base64.b64decode(parts[2]["thoughtSignature"]) == b"anthropic-redacted:opaque"
    assert parts[3] == {"text": "Let me check."}
    assert parts[4] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_1"}
    }
    assert parts[5] == {"functionCall": {"name": "now", "args": {}, "id": "toolu_2"}}
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"] == {
        "promptTokenCount": 12,
        "candidatesTokenCount": 40,
        "totalTokenCount": 52,
    }
    back = parse_stream(out)
    thinking = [e for e in back if isinstance(e, ir.BlockDelta) and e.kind == "signature"]
    assert len(thinking) == 2


def test_stream_render_interleaved_blocks_and_missing_stops() -> None:
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


def test_stream_render_errors() -> None:
    bad_args = [
        ir.MessageStart(id="c1", model="m"),
        ir.BlockStart(0, ir.ToolCall("call_a", "a", "")),
        ir.BlockDelta(0, "arguments", '{"y": '),
        ir.BlockStop(0),
        ir.Finish("tool_use"),
    ]
    chunks = chunks_of(render(bad_args))
    assert len(chunks) == 1 and next(iter(chunks[0])) == "error"
    assert chunks[0]["error"]["code"] == 400
    failure = [
        ir.MessageStart(id="c1", model="m"),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockDelta(0, "text", "partial"),
        ir.StreamError(ir.Error("overloaded", "try later", 529)),
        ir.BlockDelta(0, "text", "ignored"),
    ]
    for framing in ("sse", "json_array"):
        out = render(failure, framing=framing)
        chunks = chunks_of(out)
        assert chunks[-1] == {
            "error": {"code": 503, "message": "try later", "status": "UNAVAILABLE"}
        }
        assert len(chunks) == 2
        # google-genai recognises an in-stream error by the leading '{"error":'.
        assert orjson.dumps(chunks[-1]).startswith(b'{"error":')


def test_stream_render_json_array_with_nothing_sent() -> None:
    renderer = gemini.StreamRenderer(ctx(framing="json_array"))
    assert renderer.render([]) == b""
    assert renderer.finish() == b"[]"
    renderer = gemini.StreamRenderer(ctx())
    assert renderer.finish() == b""


# ---------------------------------------------------------------- random inputs

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "contents",
                    "role",
                    "parts",
                    "text",
                    "thought",
                    "thoughtSignature",
                    "functionCall",
                    "functionResponse",
                    "inlineData",
                    "fileData",
                    "name",
                    "args",
                    "id",
                    "response",
                    "mimeType",
                    "data",
                    "fileUri",
                    "systemInstruction",
                    "system_instruction",
                    "generationConfig",
                    "thinkingConfig",
                    "thinkingBudget",
                    "tools",
                    "functionDeclarations",
                    "parameters",
                    "toolConfig",
                    "functionCallingConfig",
                    "mode",
                    "allowedFunctionNames",
                    "candidates",
                    "content",
                    "finishReason",
                    "usageMetadata",
                    "promptTokenCount",
                    "index",
                    "responseMimeType",
                    "responseSchema",
                    "stopSequences",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_random_bodies_only_raise_translation_error(body: object) -> None:
    for call in (
        lambda: (
            gemini.render_request(gemini.parse_request({"contents": [], **body}, model="m"))
            if isinstance(body, dict)
            else gemini.parse_request(body, model="m")
        ),
        lambda: gemini.render_response(gemini.parse_response(body), ctx()),
    ):
        with contextlib.suppress(TranslationError):
            call()


@settings(max_examples=200, deadline=None)
@given(_json)
def test_random_stream_payloads_never_raise(payload: object) -> None:
    try:
        data = orjson.dumps(payload)
    except orjson.JSONEncodeError:
        return
    events = parse_stream(b"data: " + data + b"\r\n\r\n")
    assert isinstance(events[-1], ir.Finish | ir.StreamError)
    render(events)


_value = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=4) | st.just({})
_part = st.one_of(
    st.fixed_dictionaries({"text": st.text(max_size=5)}, optional={"thought": st.booleans()}),
    st.fixed_dictionaries(
        {"functionCall": st.fixed_dictionaries({"name": st.sampled_from(["a", "b"])})},
        optional={"thoughtSignature": st.sampled_from(["CmIB", "YW50aHJvcGljOng=", "x:y"])},
    ),
    st.fixed_dictionaries(
        {
            "functionResponse": st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["a", "b"]),
                    "response": st.dictionaries(st.text(max_size=6), _value, max_size=2),
                },
                optional={"id": st.sampled_from(["1", "2"])},
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "inlineData": st.fixed_dictionaries(
                {
                    "mimeType": st.sampled_from(["image/png", "audio/wav", "application/pdf"]),
                    "data": st.text(max_size=4),
                }
            )
        }
    ),
    st.dictionaries(
        st.sampled_from(["text", "thought", "functionCall", "fileData"]), _value, max_size=2
    ),
)
_content = st.fixed_dictionaries(
    {"parts": st.lists(_part, max_size=4)},
    optional={"role": st.sampled_from(["user", "model", "function", "tool", None])},
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_content, max_size=5), st.sampled_from(["gemini", "openai_chat"]))
def test_random_conversations_only_raise_translation_error(contents: list, source: str) -> None:
    with contextlib.suppress(TranslationError):
        req = gemini.parse_request({"contents": contents}, model="gemini-3-pro")
        req.source = source  # type: ignore[assignment]
        out = gemini.render_request(req)
        if source == "gemini":
            again = gemini.parse_request(out, model="gemini-3-pro")
            assert gemini.render_request(again) == out


def test_tool_results_before_the_next_model_turn_keep_call_order() -> None:
    req = foreign(
        [
            user("go"),
            ir.Message("assistant", [ir.ToolCall("a", "f", "{}"), ir.ToolCall("b", "g", "{}")]),
            ir.Message("tool", [ir.ToolResult("b", [ir.Text("B")])]),
            ir.Message("tool", [ir.ToolResult("a", [ir.Text("A")])]),
            ir.Message("assistant", [ir.Text("done")]),
        ]
    )
    contents = gemini.render_request(req)["contents"]
    assert [p["functionResponse"]["id"] for p in contents[2]["parts"]] == ["a", "b"]
    assert contents[3] == {"role": "model", "parts": [{"text": "done"}]}


def test_stream_parts_without_an_ir_event_are_refused() -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    chunk = {"candidates": [{"content": {"parts": [{"text": "a", "partMetadata": {}}, image]}}]}
    events = parse_stream(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
    assert events[2] == ir.BlockDelta(0, "text", "a")
    assert isinstance(events[-1], ir.StreamError)
    assert events[-1].error.kind == "not_implemented" and "inlineData" in events[-1].error.message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 16))
def test_random_stream_bytes_never_raise(data: bytes, size: int) -> None:
    events = parse_stream(data, chunk=size)
    assert isinstance(events[-1], ir.Finish | ir.StreamError)
