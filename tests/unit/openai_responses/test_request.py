"""Responses request bodies: spec examples, Codex's body, tools and tool_choice, text and
reasoning, what is dropped or refused, rendering for an ``api: responses`` upstream,
token-count bodies and stored-state references."""

from __future__ import annotations

import copy

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.openai_responses import FIXTURES, load
from translators import convert, ir
from translators import openai_responses as codec
from translators.errors import TranslationError
from translators.openai_responses import wire

REQUESTS = sorted(p.name for p in FIXTURES.glob("request_*.json"))


@pytest.mark.parametrize("name", REQUESTS)
def test_spec_requests_round_trip(name):
    body = load(name)
    req = codec.parse_request(body)
    assert req.source == "openai_responses" and req.messages
    assert codec.render_request(req) == body


def test_spec_examples_map_to_ir():
    req = codec.parse_request(load("request_stream.json"))
    assert req.stream is True
    assert [(m.role, m.parts) for m in req.messages] == [
        ("system", [ir.Text("You are a helpful assistant.")]),
        ("user", [ir.Text("Hello!")]),
    ]
    req = codec.parse_request(load("request_function_call.json"))
    assert req.tools[0].name == "get_current_weather" and req.tool_choice == ir.ToolChoice("auto")
    req = codec.parse_request(load("request_reasoning.json"))
    assert req.reasoning == ir.Reasoning(effort="high")
    req = codec.parse_request(load("request_web_search.json"))
    assert req.hosted_tools == [ir.HostedTool("web_search", {"type": "web_search_preview"})]
    req = codec.parse_request(load("request_file_url.json"))
    doc = req.messages[0].parts[1]
    assert isinstance(doc, ir.Document) and doc.url.endswith("2024ltr.pdf")  # type: ignore[union-attr]


CODEX = {
    "model": "gpt-5-codex",
    "instructions": "You are Codex.",
    "input": [
        {
            "type": "message",
            "role": "developer",
            "content": [{"type": "input_text", "text": "<permissions>"}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {
            "type": "reasoning",
            "summary": [
                {"type": "summary_text", "text": "A"},
                {"type": "summary_text", "text": "B"},
            ],
            "encrypted_content": "gAAAAABopenai",
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "shell",
            "arguments": '{"command":["ls"]}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "a.py"},
        {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** P"},
        {"type": "custom_tool_call_output", "call_id": "call_2", "output": "Done!"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Edited."}],
        },
    ],
    "tools": [
        {"type": "function", "name": "shell", "strict": False, "parameters": {"type": "object"}},
        {
            "type": "namespace",
            "name": "mcp__fs",
            "description": "files",
            "tools": [{"type": "function", "name": "read", "parameters": {"type": "object"}}],
        },
        {"type": "custom", "name": "apply_patch", "format": {"type": "text"}},
        {"type": "web_search", "external_web_access": False},
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "reasoning": {"effort": "high", "summary": "detailed", "context": "all_turns"},
    "store": False,
    "stream": True,
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": "c-1",
    "text": {"verbosity": "low"},
    "service_tier": "priority",
    "client_metadata": {"originator": "codex_cli_rs"},
}


def test_codex_body_maps_to_ir():
    req = codec.parse_request(CODEX)
    roles = [m.role for m in req.messages]
    assert roles == [
        "system",
        "developer",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    thinking, call = req.messages[3].parts
    assert thinking == ir.Thinking("A\n\nB", "gAAAAABopenai", origin="openai_responses")
    assert call == ir.ToolCall("call_1", "shell", '{"command":["ls"]}')
    assert req.messages[4].parts == [ir.ToolResult("call_1", [ir.Text("a.py")], name="shell")]
    assert req.messages[5].parts == [ir.ToolCall("call_2", "apply_patch", "*** P", kind="custom")]
    assert [(t.name, t.kind, t.namespace) for t in req.tools] == [
        ("shell", "function", None),
        ("read", "function", "mcp__fs"),
        ("apply_patch", "custom", None),
    ]
    assert req.namespaces == {"mcp__fs": "files"}
    assert req.tools[2].format == {"type": "text"}
    assert req.hosted_tools == [ir.HostedTool("web_search", CODEX["tools"][3])]
    assert req.reasoning == ir.Reasoning(effort="high", include_thoughts=True)
    assert req.parallel_tool_calls is False and req.stream is True
    assert req.extra["text"] == {"verbosity": "low"}
    assert req.extra["reasoning"] == {"context": "all_turns"}


def test_codex_body_round_trips_exactly():
    assert codec.render_request(codec.parse_request(copy.deepcopy(CODEX))) == CODEX


def test_history_with_ids_status_phase_and_kept_items_round_trips_exactly():
    body = {
        "model": "gpt-5",
        "input": [
            {"role": "user", "content": "easy form"},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "raw"}],
            },
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "phase": "final_answer",
                "content": [
                    {
                        "type": "output_text",
                        "text": "See [1].",
                        "annotations": [{"type": "url_citation", "url": "u"}],
                    },
                    {"type": "refusal", "refusal": "no"},
                ],
            },
            {
                "type": "function_call",
                "id": "fc_1",
                "status": "completed",
                "call_id": "c",
                "name": "f",
                "arguments": "{}",
                "namespace": "ns",
            },
            {
                "type": "function_call_output",
                "id": "fco_1",
                "call_id": "c",
                "output": [
                    {"type": "input_text", "text": "r"},
                    {"type": "input_image", "image_url": "https://x/y.png", "detail": "low"},
                ],
            },
            {
                "type": "message",
                "role": "user",
                "content": [
                    {
                        "type": "input_file",
                        "file_data": "data:application/pdf;base64,JVBER",
                        "filename": "a.pdf",
                    },
                    {"type": "input_image", "file_id": "file-1", "detail": "auto"},
                ],
            },
        ],
    }
    req = codec.parse_request(copy.deepcopy(body))
    assert codec.render_request(req) == body
    assert req.extra[codec.request.KEPT] == [[2, body["input"][2]]]
    assert "openai_responses:items" in codec.DROPPABLE


def test_additional_tools_are_hoisted_and_kept_in_place_for_openai():
    body = {
        "model": "gpt-5",
        "input": [
            {
                "type": "additional_tools",
                "role": "developer",
                "tools": [
                    {
                        "type": "namespace",
                        "name": "functions",
                        "description": "code mode",
                        "tools": [{"type": "custom", "name": "exec", "format": {"type": "text"}}],
                    }
                ],
            },
            {"role": "user", "content": "go"},
        ],
        "tools": [],
    }
    req = codec.parse_request(copy.deepcopy(body))
    assert [(t.name, t.kind, t.namespace) for t in req.tools] == [("exec", "custom", "functions")]
    assert codec.render_request(req) == body
    sent = orjson.loads(
        convert.render_request(req, "anthropic", model="c", default_max_tokens=9).body
    )
    assert [t["name"] for t in sent["tools"]] == ["functions__exec"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("none", ir.ToolChoice("none")),
        ("required", ir.ToolChoice("required")),
        ({"type": "function", "name": "shell"}, ir.ToolChoice("tool", "shell")),
        ({"type": "custom", "name": "apply_patch"}, ir.ToolChoice("tool", "apply_patch")),
        (
            {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "a"}],
            },
            ir.ToolChoice("required", allowed=["a"]),
        ),
        ({"type": "web_search_preview"}, None),
        ({"type": "mcp", "server_label": "x"}, None),
    ],
)
def test_tool_choice_forms(choice, expected):
    body = {"model": "m", "input": "x", "tool_choice": choice}
    req = codec.parse_request(body)
    assert req.tool_choice == expected
    if expected is None:
        assert req.extra["tool_choice"] == choice and "tool_choice" not in codec.DROPPABLE
    assert codec.render_request(req) == body


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ({"type": "text"}, ir.ResponseFormat("text")),
        ({"type": "json_object"}, ir.ResponseFormat("json_object")),
        (
            {"type": "json_schema", "name": "x", "schema": {"type": "object"}, "strict": True},
            ir.ResponseFormat("json_schema", {"type": "object"}, "x", None, True),
        ),
    ],
)
def test_text_format(fmt, expected):
    body = {"model": "m", "input": "x", "text": {"format": fmt, "verbosity": "high"}}
    req = codec.parse_request(body)
    assert req.response_format == expected
    assert req.extra["text"] == {"verbosity": "high"}
    assert codec.render_request(req) == body


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "m", "input": 3}, "input"),
        (
            {"model": "m", "input": [{"type": "message", "role": "robot", "content": "x"}]},
            "input[0].role",
        ),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "output_audio"}]}]},
            "input[0].content[0].type",
        ),
        (
            {"model": "m", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]},
            "input[0].call_id",
        ),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "input_image"}]}]},
            "input[0].content[0]",
        ),
        (
            {
                "model": "m",
                "input": [
                    {"role": "user", "content": [{"type": "input_image", "image_url": "data:x"}]}
                ],
            },
            "input[0].content[0].image_url",
        ),
        ({"model": "m", "input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
        (
            {
                "model": "m",
                "input": "x",
                "tools": [{"type": "namespace", "name": "n", "tools": [{"type": "web_search"}]}],
            },
            "tools[0].tools[0].type",
        ),
        ({"model": "m", "input": "x", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({"model": "m", "input": "x", "max_output_tokens": True}, "max_output_tokens"),
        (
            {"model": "m", "input": [{"type": "reasoning", "summary": [{"type": "x"}]}]},
            "input[0].summary[0].type",
        ),
        ({"model": "m", "input": [{"foo": 1}]}, "input[0].type"),
    ],
)
def test_bad_requests_name_the_field(body, param):
    with pytest.raises(TranslationError) as err:
        codec.parse_request(body)
    assert err.value.param == param


def test_bug06_unresolved_item_reference_is_a_404():
    body = {"model": "m", "input": [{"type": "item_reference", "id": "msg_gone"}]}
    with pytest.raises(TranslationError) as err:
        codec.parse_request(body)
    assert (err.value.status, err.value.param) == (404, "input[0]")
    assert "msg_gone" in err.value.message


def test_bug06_unresolved_stored_state_is_refused_toward_other_providers():
    for field, value in (("previous_response_id", "resp_1"), ("conversation", "conv_1")):
        req = codec.parse_request({"model": "m", "input": "x", field: value})
        with pytest.raises(TranslationError) as err:
            convert.render_request(req, "anthropic", model="c", default_max_tokens=9)
        assert err.value.param == field
    req = codec.parse_request({"model": "m", "input": "x", "background": True})
    with pytest.raises(TranslationError):
        convert.render_request(req, "gemini", model="g")
    req = codec.parse_request({"model": "m", "input": "x", "background": False, "store": True})
    assert convert.render_request(req, "gemini", model="g").dropped == ("store",)


def test_bug05_stored_history_is_spliced_before_parsing():
    body = {
        "model": "m",
        "previous_response_id": "resp_prev",
        "instructions": "new instructions",
        "input": [
            {"type": "function_call_output", "call_id": "c1", "output": "42"},
            {"type": "item_reference", "id": "msg_old"},
        ],
    }
    refs = wire.references(body)
    assert refs == wire.References("resp_prev", None, ["msg_old"])
    stored = [
        {"role": "user", "content": "compute"},
        {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "calc", "arguments": "{}"},
    ]
    resolved = wire.resolve_references(
        body, history=stored, items={"msg_old": {"role": "user", "content": "again"}}
    )
    assert "previous_response_id" not in resolved and body["previous_response_id"] == "resp_prev"
    req = codec.parse_request(resolved)
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "tool", "user"]
    assert req.messages[3].parts[0].name == "calc"  # type: ignore[union-attr]
    assert wire.response_id("gw-1") == wire.response_id("gw-1") != wire.response_id("gw-2")
    assert wire.resolve_references({"input": "hi"}, history=[])["input"] == [
        {"role": "user", "content": "hi"}
    ]


def test_count_request_and_answer():
    req = codec.parse_count_request(load("input_tokens_request.json"))
    assert req.messages == [ir.Message("user", [ir.Text("Tell me a joke.")])]
    assert codec.parse_count_request({"input": "x"}).model == ""
    assert codec.render_token_count(11) == load("input_tokens_response.json")


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ({"model": "m", "input": "x"}, 2),
        ({"model": "m", "previous_response_id": "r"}, 2),
        ({"model": "m", "messages": [], "input": "x"}, 0),
        ({"model": "m"}, 0),
        ([], 0),
    ],
)
def test_recognise(body, score):
    assert codec.recognise(body) == score


# ---------------------------------------------------------- rendering for OpenAI


def chat_request() -> ir.Request:
    return ir.Request(
        model="gpt-5",
        source="openai_chat",
        stream=True,
        messages=[
            ir.Message("system", [ir.Text("Be brief.")]),
            ir.Message("developer", [ir.Text("Use tools.")]),
            ir.Message("user", [ir.Text("hi"), ir.Image(media_type="image/png", data="iVBO")]),
            ir.Message(
                "assistant",
                [
                    ir.Thinking("t", "gAAAAAenc", origin="openai_responses"),
                    ir.Thinking("claude's", "SIG", origin="anthropic"),
                    ir.Text("calling"),
                    ir.ToolCall("call_1", "f", '{"a":1}'),
                ],
            ),
            ir.Message("tool", [ir.ToolResult("call_1", [ir.Text("ok")], name="f")]),
            ir.Message("system", [ir.Text("late system")]),
        ],
        max_tokens=100,
        temperature=0.5,
        tools=[ir.Tool("f", "does f", {"type": "object"}, strict=True)],
        tool_choice=ir.ToolChoice("tool", "f"),
        response_format=ir.ResponseFormat("json_schema", {"type": "object"}, strict=True),
        reasoning=ir.Reasoning(budget_tokens=4000, include_thoughts=True),
        seed=7,
    )


def test_render_request_from_another_protocol():
    body = codec.render_request(chat_request())
    assert body == {
        "model": "gpt-5",
        "instructions": "Be brief.\n\nUse tools.",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "hi"},
                    {
                        "type": "input_image",
                        "image_url": "data:image/png;base64,iVBO",
                        "detail": "auto",
                    },
                ],
            },
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "t"}],
                "encrypted_content": "gAAAAAenc",
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "calling", "annotations": []}],
            },
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": '{"a":1}'},
            {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
            {
                "type": "message",
                "role": "system",
                "content": [{"type": "input_text", "text": "late system"}],
            },
        ],
        "store": False,
        "max_output_tokens": 100,
        "temperature": 0.5,
        "stream": True,
        "tools": [
            {
                "type": "function",
                "name": "f",
                "description": "does f",
                "parameters": {"type": "object"},
                "strict": True,
            }
        ],
        "tool_choice": {"type": "function", "name": "f"},
        "text": {
            "format": {
                "type": "json_schema",
                "name": "response",
                "schema": {"type": "object"},
                "strict": True,
            }
        },
        "reasoning": {"effort": "medium", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
    }


@pytest.mark.parametrize("field", ["stop", "n"])
def test_what_responses_cannot_express_is_refused(field):
    req = chat_request()
    setattr(req, field, {"stop": ["x"], "n": 2}[field])
    with pytest.raises(TranslationError) as err:
        codec.render_request(req)
    assert err.value.param == field


def test_render_tools_choices_and_namespaces_for_openai():
    req = chat_request()
    req.tools = [
        ir.Tool("read", parameters={"type": "object"}, namespace="fs"),
        ir.Tool("write", parameters={"type": "object"}, namespace="fs"),
        ir.Tool("patch", kind="custom", format={"type": "text"}),
    ]
    req.namespaces = {"fs": "files"}
    req.hosted_tools = [ir.HostedTool("web_search")]
    req.tool_choice = ir.ToolChoice("required", allowed=["patch"])
    body = codec.render_request(req)
    assert body["tools"] == [
        {
            "type": "namespace",
            "name": "fs",
            "description": "files",
            "tools": [
                {"type": "function", "name": "read", "parameters": {"type": "object"}},
                {"type": "function", "name": "write", "parameters": {"type": "object"}},
            ],
        },
        {"type": "custom", "name": "patch", "format": {"type": "text"}},
        {"type": "web_search"},
    ]
    assert body["tool_choice"] == {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "custom", "name": "patch"}],
    }


def test_reasoning_off_asks_for_nothing():
    req = chat_request()
    req.reasoning = ir.Reasoning(enabled=False)
    req.messages = [ir.Message("user", [ir.Text("x")])]
    body = codec.render_request(req)
    assert "reasoning" not in body and "include" not in body


@pytest.mark.parametrize(
    ("reasoning", "summary"),
    [
        (ir.Reasoning(enabled=True, budget_tokens=2048), "auto"),  # Claude caller: shown
        (ir.Reasoning(adaptive=True), "auto"),
        (ir.Reasoning(enabled=True, budget_tokens=2048, include_thoughts=False), None),
        (ir.Reasoning(effort="high"), None),  # a Chat caller's reasoning_effort: hidden
    ],
)
def test_thinking_another_caller_switched_on_asks_for_a_summary(reasoning, summary):
    req = chat_request()
    req.source = "anthropic"
    req.reasoning = reasoning
    req.messages = [ir.Message("user", [ir.Text("x")])]
    body = codec.render_request(req)
    assert body["reasoning"].get("summary") == summary
    assert body["include"] == ["reasoning.encrypted_content"]


# ------------------------------------------------------------------- properties

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "text",
        "reasoning",
        "stream",
        "max_output_tokens",
        "temperature",
        "parallel_tool_calls",
        "metadata",
        "include",
        "user",
    ]
)
_items = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "message",
                "reasoning",
                "function_call",
                "function_call_output",
                "custom_tool_call",
                "item_reference",
                "additional_tools",
                "x",
            ]
        )
    },
    optional={
        "role": st.sampled_from(["user", "assistant", "system", "bot"]),
        "content": _json,
        "call_id": _json,
        "name": _json,
        "arguments": _json,
        "output": _json,
        "summary": _json,
        "encrypted_content": _json,
        "tools": _json,
        "input": _json,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        _json,
        st.dictionaries(_keys, _json),
        st.fixed_dictionaries({"model": st.just("m"), "input": st.lists(_items, max_size=5)}),
    )
)
def test_random_bodies_raise_only_translation_error(body):
    """Random bodies, and bodies shaped like Responses requests with random values, are
    either parsed (and then render for OpenAI and for Claude without crashing) or
    refused with a TranslationError naming the field: never another exception."""
    try:
        req = codec.parse_request(body)
        codec.render_request(req)
        convert.render_request(req, "anthropic", model="c", default_max_tokens=9)
    except TranslationError as err:
        assert err.message
