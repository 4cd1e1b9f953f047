"""Anthropic Messages codec: spec examples, mapping rules, refusals, streams, SDK checks."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path

import anthropic
import anthropic._base_client as _sdk_http
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translators import anthropic_messages as am
from translators import ir
from translators.errors import TranslationError
from translators.sse import SSEDecoder

# anthropic < 1 is built on httpx, anthropic >= 2 on httpx2 (same API): mock with the one
# the installed SDK uses, so these tests run under both Python legs of CI.
httpx = getattr(_sdk_http, "httpx2", None) or _sdk_http.httpx

FIXTURES = Path(__file__).parent.parent / "fixtures" / "spec" / "anthropic"
CTX = ir.RenderContext(model="claude-test", created=1700000000, request_id="req42")
SAME_CTX = ir.RenderContext(
    model="claude-test", created=1700000000, request_id="req42", source="anthropic"
)


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def stream_bytes(name: str) -> bytes:
    """Raw SSE; ``.jsonl`` recordings get back the ``event:`` line they lost."""
    raw = (FIXTURES / name).read_bytes()
    if name.endswith(".sse"):
        return raw
    frames = []
    for line in raw.splitlines():
        if line.strip():
            event = orjson.loads(line)["type"].encode()
            frames.append(b"event: " + event + b"\ndata: " + line + b"\n\n")
    return b"".join(frames)


def parse_stream(data: bytes, splits: list[int] | None = None) -> list[ir.Event]:
    parser = am.StreamParser()
    events: list[ir.Event] = []
    cuts = sorted(set(splits or []))
    start = 0
    for cut in [*cuts, len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
    return events + parser.finish()


def render_stream(events: list[ir.Event], ctx: ir.RenderContext = SAME_CTX) -> bytes:
    renderer = am.StreamRenderer(ctx)
    return renderer.render(events) + renderer.finish()


def user(text: str) -> ir.Message:
    return ir.Message("user", [ir.Text(text)])


def foreign(*messages: ir.Message, **fields: object) -> ir.Request:
    return ir.Request(model="m", messages=list(messages), source="openai_chat", **fields)


def sdk_client(handler) -> anthropic.Anthropic:
    """An SDK client whose HTTP goes to ``handler``: no network."""
    transport = httpx.MockTransport(handler)
    return anthropic.Anthropic(
        api_key="test",
        base_url="http://gateway.test",
        http_client=httpx.Client(transport=transport),
        max_retries=0,
    )


SSE_EXAMPLES = sorted(p.name for p in FIXTURES.glob("*.sse"))
STREAM_EXAMPLES = SSE_EXAMPLES + sorted(p.name for p in FIXTURES.glob("*.jsonl"))
REQUEST_EXAMPLES = sorted(p.name for p in FIXTURES.glob("request_*.json"))
RESPONSE_EXAMPLES = sorted(p.name for p in FIXTURES.glob("response_*.json"))


# ------------------------------------------------------------------- recognise


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_recognise_spec_requests(name: str) -> None:
    # The minimal request (model, max_tokens, one user message) is valid OpenAI Chat too.
    assert am.recognise(load(name)) == (1 if name == "request_basic.json" else 2)


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
    assert am.recognise(body) == score


# ------------------------------------------------------------ request round trip


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_spec_request_round_trip(name: str) -> None:
    body = load(name)
    assert am.render_request(am.parse_request(copy.deepcopy(body))) == body


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
    req = am.parse_request(body)
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
    assert set(req.extra) <= am.DROPPABLE
    assert am.render_request(req) == RICH_REQUEST


def test_request_variants_round_trip() -> None:
    for extra in (
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
    ):
        body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
        body |= extra
        assert am.render_request(am.parse_request(copy.deepcopy(body))) == body, extra


def test_server_tools_kept_for_anthropic_only() -> None:
    tools = [
        {"name": "f", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
    ]
    body = {"model": "m", "max_tokens": 10, "messages": [], "tools": tools}
    req = am.parse_request(copy.deepcopy(body))
    assert [t.name for t in req.tools] == ["f"]
    assert "tools" in req.extra and "tools" not in am.DROPPABLE
    assert am.render_request(req) == body


def test_unknown_tool_fields_are_kept_but_not_droppable() -> None:
    tool = {"name": "f", "input_schema": {"type": "object"}, "future_flag": 1}
    body = {"model": "m", "max_tokens": 10, "messages": [], "tools": [tool]}
    req = am.parse_request(copy.deepcopy(body))
    assert req.extra == {"tool_fields": {"f": {"future_flag": 1}}}
    assert "tool_fields" not in am.DROPPABLE
    assert am.render_request(req) == body


def test_parse_request_overrides_and_kwargs() -> None:
    req = am.parse_request(load("request_basic.json"), model="other", stream=True)
    assert (req.model, req.stream, req.max_tokens) == ("other", True, 1024)
    assert req.messages == [user("Hello, world")]


def test_parse_request_extensions() -> None:
    body = {
        "model": "m",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "t1", "signature": "gemini:GSIG"},
                    {"type": "thinking", "thinking": "t2", "signature": ""},
                    {
                        "type": "text",
                        "text": "ok",
                        "extra_content": {"google": {"thought_signature": "TSIG"}},
                    },
                    {
                        "type": "tool_use",
                        "id": "gem_1",
                        "name": "f",
                        "input": {},
                        "extra_content": {"google": {"thought_signature": "FSIG"}},
                    },
                ],
            },
        ],
    }
    parts = am.parse_request(body).messages[1].parts
    assert parts[0] == ir.Thinking("t1", signature="GSIG", origin="gemini")
    assert parts[1] == ir.Thinking("t2")
    assert parts[2] == ir.Text("ok", signature="TSIG")
    assert parts[3] == ir.ToolCall("gem_1", "f", "{}", signature="FSIG")


# -------------------------------------------------------------- request rules


def test_foreign_system_developer_and_mid_conversation_system() -> None:
    req = foreign(
        ir.Message("system", [ir.Text("sys")]),
        ir.Message("developer", [ir.Text("dev", cache_control={"type": "ephemeral"})]),
        user("q1"),
        ir.Message("assistant", [ir.Text("a1")]),
        ir.Message("system", [ir.Text("now be formal")]),
        user("q2"),
    )
    body = am.render_request(req)
    assert body["system"] == [
        {"type": "text", "text": "sys"},
        {"type": "text", "text": "dev", "cache_control": {"type": "ephemeral"}},
    ]
    assert body["messages"] == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "now be formal"}, {"type": "text", "text": "q2"}],
        },
    ]
    assert body["max_tokens"] == am.DEFAULT_MAX_TOKENS


def test_anthropic_caller_system_role_kept_in_place() -> None:
    body = {
        "model": "m",
        "max_tokens": 5,
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "system", "content": "b"},
            {"role": "user", "content": "c"},
        ],
    }
    assert am.render_request(am.parse_request(copy.deepcopy(body))) == body


def test_tool_messages_merge_in_call_order_and_first() -> None:
    req = foreign(
        user("weather?"),
        ir.Message(
            "assistant",
            [
                ir.Text(""),
                ir.ToolCall("c1", "f", '{"a":1}'),
                ir.ToolCall("c2", "g", ""),
            ],
        ),
        ir.Message("tool", [ir.ToolResult("c2", [ir.Text("two")], name="g")]),
        ir.Message("user", [ir.Text("and also")]),
        ir.Message("tool", [ir.ToolResult("c1", [], is_error=True)]),
    )
    messages = am.render_request(req)["messages"]
    assert messages == [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "c1", "name": "f", "input": {"a": 1}},
                {"type": "tool_use", "id": "c2", "name": "g", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "", "is_error": True},
                {"type": "tool_result", "tool_use_id": "c2", "content": "two"},
                {"type": "text", "text": "and also"},
            ],
        },
    ]


def test_empty_text_blocks_and_empty_turns_are_dropped() -> None:
    req = foreign(
        user("  "),
        user("hi"),
        ir.Message("assistant", [ir.Text("")]),
        ir.Message("assistant", [ir.Text(" \n"), ir.Text("real")]),
    )
    assert am.render_request(req)["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "real"},
    ]


def test_foreign_state_never_sent_to_anthropic() -> None:
    assistant = ir.Message(
        "assistant",
        [
            ir.Thinking("gem", signature="G", origin="gemini"),
            ir.Thinking("oai", origin="openai_chat"),
            ir.Thinking("unsigned", origin="anthropic"),
            ir.Thinking("signed", signature="S", origin="anthropic"),
            ir.Thinking(redacted="R", origin="anthropic"),
            ir.Text("t", signature="TS", citations=[{"type": "url_citation"}]),
            ir.ToolCall("c", "f", "{}", signature="FS"),
        ],
    )
    content = am.render_request(foreign(user("q"), assistant))["messages"][1]["content"]
    assert content == [
        {"type": "thinking", "thinking": "signed", "signature": "S"},
        {"type": "redacted_thinking", "data": "R"},
        {"type": "text", "text": "t"},
        {"type": "tool_use", "id": "c", "name": "f", "input": {}},
    ]


def test_parameters_mapping_and_drops() -> None:
    req = foreign(
        user("q"),
        temperature=1.7,
        seed=7,
        n=1,
        presence_penalty=0.0,
        frequency_penalty=0,
        logprobs=False,
        top_logprobs=0,
        user="u",
        stop=["x"],
        include_usage=True,
        max_tokens=50,
    )
    body = am.render_request(req)
    assert body == {
        "model": "m",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "q"}],
        "temperature": 1.0,
        "stop_sequences": ["x"],
        "metadata": {"user_id": "u"},
    }


def test_foreign_extra_is_ignored() -> None:
    req = foreign(user("q"), extra={"store": True})
    assert "store" not in am.render_request(req)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -1.0}, "frequency_penalty"),
    ],
)
def test_refusals(fields: dict, param: str) -> None:
    with pytest.raises(TranslationError) as exc:
        am.render_request(foreign(user("q"), **fields))
    assert exc.value.param == param
    assert exc.value.status == 400


@pytest.mark.parametrize(
    ("part", "param", "text"),
    [
        (ir.Audio("audio/wav", "UklG"), "messages[0].parts[1]", "audio"),
        (ir.Image(url="gs://bucket/a.png"), "messages[0].parts[1]", "http"),
        (ir.Image(data="iVBOR"), "messages[0].parts[1]", "media type"),
        (ir.Document(file_id="file-abc"), "messages[0].parts[1]", "file id"),
        (
            ir.ToolResult("c", [ir.Audio("audio/wav", "x")]),
            "messages[0].parts[1].content[0]",
            "tool results",
        ),
    ],
)
def test_part_refusals(part: ir.Part, param: str, text: str) -> None:
    with pytest.raises(TranslationError) as exc:
        am.render_request(foreign(ir.Message("user", [ir.Text("q"), part])))
    assert exc.value.param == param
    assert text in exc.value.message


def test_invalid_tool_arguments_refused() -> None:
    req = foreign(user("q"), ir.Message("assistant", [ir.ToolCall("c", "f", '{"a":')]))
    with pytest.raises(TranslationError) as exc:
        am.render_request(req)
    assert exc.value.param == "messages[1].parts[0]"


def test_foreign_parts_mapping() -> None:
    req = foreign(
        ir.Message(
            "user",
            [
                ir.Image(media_type="image/png", data="AAA", detail="high"),
                ir.Document(media_type="application/pdf", data="JVB", filename="r.pdf"),
            ],
        ),
        tools=[ir.Tool("noargs"), ir.Tool("f", "d", {"type": "object"}, strict=True)],
    )
    body = am.render_request(req)
    assert body["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVB"},
            "title": "r.pdf",
        },
    ]
    assert body["tools"] == [
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
    assert am.render_request(req)["tool_choice"] == expected


def test_tool_choice_refusals_and_no_tools() -> None:
    tools = [ir.Tool("f"), ir.Tool("g"), ir.Tool("h")]
    req = foreign(user("q"), tools=tools, tool_choice=ir.ToolChoice("required", allowed=["f", "g"]))
    with pytest.raises(TranslationError) as exc:
        am.render_request(req)
    assert exc.value.param == "tool_choice.allowed"
    assert "tool_choice" not in am.render_request(foreign(user("q"), parallel_tool_calls=False))


@pytest.mark.parametrize(
    ("reasoning", "max_tokens", "thinking", "output_config"),
    [
        (ir.Reasoning(effort="low"), 10000, {"type": "enabled", "budget_tokens": 2048}, None),
        (ir.Reasoning(effort="high"), None, {"type": "enabled", "budget_tokens": 4095}, None),
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
    body = am.render_request(foreign(user("q"), reasoning=reasoning, max_tokens=max_tokens))
    assert body.get("thinking") == thinking
    assert body.get("output_config") == output_config


def test_unknown_foreign_effort_refused() -> None:
    with pytest.raises(TranslationError) as exc:
        am.render_request(foreign(user("q"), reasoning=ir.Reasoning(effort="extreme")))
    assert exc.value.param == "reasoning.effort"


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
    body = am.render_request(foreign(user("q"), response_format=fmt))
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
        am.parse_request(body)
    assert exc.value.param == param


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_block_types = st.sampled_from(
    ["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "x"]
)
_block = st.fixed_dictionaries(
    {"type": _block_types},
    optional={
        key: _json
        for key in (
            "text",
            "source",
            "id",
            "name",
            "input",
            "tool_use_id",
            "content",
            "is_error",
            "thinking",
            "signature",
            "data",
            "cache_control",
            "citations",
            "extra_content",
            "title",
        )
    },
) | st.fixed_dictionaries(
    {
        "type": st.just("image"),
        "source": st.fixed_dictionaries(
            {"type": st.sampled_from(["base64", "url", "file"])},
            optional={"media_type": _json, "data": _json, "url": _json},
        ),
    }
)
_message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant", "system", "tool"]) | _json,
        "content": st.text(max_size=5) | st.lists(_block | _json, max_size=3) | _json,
    }
)
_body = st.fixed_dictionaries(
    {"model": st.text(max_size=5) | _json, "messages": st.lists(_message, max_size=3) | _json},
    optional={
        key: _json
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
@given(_body | _json)
def test_random_bodies_only_raise_translation_error(body: object) -> None:
    am.recognise(body)
    try:
        req = am.parse_request(body)
    except TranslationError:
        return
    with contextlib.suppress(TranslationError):
        am.render_request(req)


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {"content": st.lists(_block | _json, max_size=3) | _json},
        optional={"id": _json, "model": _json, "stop_reason": _json, "usage": _json},
    )
    | _json
)
def test_random_responses_only_raise_translation_error(body: object) -> None:
    try:
        resp = am.parse_response(body)
    except TranslationError:
        return
    with contextlib.suppress(TranslationError):
        am.render_response(resp, CTX)


# -------------------------------------------------------------------- responses


@pytest.mark.parametrize("name", RESPONSE_EXAMPLES)
def test_spec_response_round_trip(name: str) -> None:
    body = load(name)
    resp = am.parse_response(copy.deepcopy(body))
    assert resp.id == body["id"]
    assert am.render_response(resp, CTX) == body


def test_response_blocks_and_server_blocks_round_trip() -> None:
    body = {
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
    resp = am.parse_response(copy.deepcopy(body))
    choice = resp.choices[0]
    assert [type(p).__name__ for p in choice.parts] == [
        "Thinking",
        "Thinking",
        "Text",
        "ToolCall",
    ]
    assert choice.stop_reason == "pause_turn"
    assert am.render_response(resp, CTX) == body
    resp.source = "gemini"  # toward another caller protocol, server blocks are not sent
    assert [b["type"] for b in am.render_response(resp, CTX)["content"]] == [
        "thinking",
        "redacted_thinking",
        "text",
        "tool_use",
    ]


@pytest.mark.parametrize(
    ("native", "stop"),
    [
        ("end_turn", "end_turn"),
        ("max_tokens", "max_tokens"),
        ("stop_sequence", "stop_sequence"),
        ("tool_use", "tool_use"),
        ("pause_turn", "pause_turn"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "context_window"),
        ("brand_new_reason", "other"),
    ],
)
def test_stop_reasons_both_ways(native: str, stop: str) -> None:
    body = {"id": "m", "model": "c", "content": [], "stop_reason": native}
    resp = am.parse_response(body)
    assert resp.choices[0].stop_reason == stop
    assert resp.choices[0].raw_stop_reason == native
    assert am.render_response(resp, CTX)["stop_reason"] == native
    resp.source = "openai_chat"
    resp.choices[0].raw_stop_reason = "whatever"
    expected = "end_turn" if stop == "other" else native
    assert am.render_response(resp, CTX)["stop_reason"] == expected


def test_foreign_response_rendering() -> None:
    resp = ir.Response(
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
    body = am.render_response(resp, CTX)
    assert body["id"] == "chatcmpl-1"
    assert body["model"] == "claude-test"
    assert body["stop_reason"] == "tool_use"
    assert body["content"] == [
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
    assert body["usage"] == {
        "input_tokens": 70,
        "cache_read_input_tokens": 30,
        "output_tokens": 20,
        "output_tokens_details": {"thinking_tokens": 5},
    }
    # What the Anthropic caller sends back reaches Gemini state again.
    history = am.parse_request(
        {"model": "m", "messages": [{"role": "assistant", "content": body["content"]}]}
    )
    assert history.messages[0].parts[0] == ir.Thinking("plan", signature="GS", origin="gemini")
    assert history.messages[0].parts[3].signature == "FS"


def test_response_without_id_or_usage() -> None:
    resp = ir.Response(id="", model="gpt", source="openai_chat", choices=[])
    body = am.render_response(resp, CTX)
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
        am.render_response(resp, CTX)
    assert (exc.value.status, exc.value.param) == (501, "choices[0].parts[0]")


def test_sdk_parses_rendered_response() -> None:
    resp = am.parse_response(load("response_tool_use.json"))
    resp.source = "openai_chat"
    body = am.render_response(resp, CTX)
    client = sdk_client(lambda request: httpx.Response(200, json=body))
    message = client.messages.create(model="m", max_tokens=10, messages=[])
    assert message.stop_reason == "tool_use"
    assert message.content[1].input == {}
    assert message.usage.input_tokens == 602


# ------------------------------------------------------------------------ usage


def test_usage_anthropic_to_ir_is_inclusive() -> None:
    body = {
        "id": "m",
        "model": "c",
        "content": [],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 100,
            "cache_read_input_tokens": 50,
            "cache_creation_input_tokens": 25,
            "output_tokens": 10,
            "output_tokens_details": {"thinking_tokens": 4},
        },
    }
    resp = am.parse_response(copy.deepcopy(body))
    assert resp.usage == ir.Usage(175, 10, 50, 25, 4)
    assert resp.extra == {}
    assert am.render_response(resp, CTX)["usage"] == body["usage"]


def test_usage_ir_to_anthropic_never_negative() -> None:
    resp = ir.Response(
        id="r",
        model="g",
        source="gemini",
        choices=[],
        usage=ir.Usage(input_tokens=10, output_tokens=1, cache_read_tokens=20),
    )
    assert am.render_response(resp, CTX)["usage"]["input_tokens"] == 0


# ----------------------------------------------------------------------- errors

ERROR_TABLE = [
    (400, "invalid_request_error", "invalid_request", anthropic.BadRequestError),
    (401, "authentication_error", "authentication", anthropic.AuthenticationError),
    (402, "billing_error", "billing", anthropic.APIStatusError),
    (403, "permission_error", "permission", anthropic.PermissionDeniedError),
    (404, "not_found_error", "not_found", anthropic.NotFoundError),
    (413, "request_too_large", "request_too_large", anthropic.RequestTooLargeError),
    (429, "rate_limit_error", "rate_limit", anthropic.RateLimitError),
    (500, "api_error", "api_error", anthropic.InternalServerError),
    (504, "timeout_error", "timeout", anthropic.InternalServerError),
    (529, "overloaded_error", "overloaded", anthropic.OverloadedError),
]


@pytest.mark.parametrize(("status", "etype", "kind", "exc_class"), ERROR_TABLE)
def test_error_mapping(status: int, etype: str, kind: str, exc_class: type) -> None:
    body = {"type": "error", "error": {"type": etype, "message": "boom"}, "request_id": "req_1"}
    err = am.parse_error(status, body)
    assert (err.kind, err.message, err.status) == (kind, "boom", status)
    out_status, out_body = am.render_error(err)
    assert out_status == status
    assert out_body == {"type": "error", "error": {"type": etype, "message": "boom"}}
    client = sdk_client(lambda request: httpx.Response(out_status, json=out_body))
    with pytest.raises(exc_class) as exc:
        client.messages.create(model="m", max_tokens=10, messages=[])
    assert exc.value.status_code == status
    assert "boom" in str(exc.value)


def test_spec_error_example() -> None:
    err = am.parse_error(529, load("error_529_overloaded.json"))
    assert err == ir.Error("overloaded", "Overloaded", 529)


@pytest.mark.parametrize(
    ("err", "status", "etype", "message"),
    [
        (ir.Error("overloaded", "busy", 503), 529, "overloaded_error", "busy"),
        (ir.Error("not_implemented", "no", 501), 501, "api_error", "no"),
        (ir.Error("invalid_request", "bad", 422, param="messages[0]"), 422, None, None),
        (ir.Error("api_error", "gw", 502), 502, "api_error", "gw"),
        (ir.Error("api_error", "odd", 404), 500, "api_error", "odd"),
    ],
)
def test_render_error_status(err: ir.Error, status: int, etype: str | None, message: str) -> None:
    out_status, body = am.render_error(err)
    assert out_status == status
    if etype is not None:
        assert body["error"] == {"type": etype, "message": message}
    else:
        assert body["error"] == {"type": "invalid_request_error", "message": "messages[0]: bad"}


def test_translation_error_renders_with_param() -> None:
    exc = TranslationError("Anthropic has no audio input", param="messages[0].content[1]")
    assert am.render_error(exc.to_ir()) == (
        400,
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "messages[0].content[1]: Anthropic has no audio input",
            },
        },
    )


def test_parse_error_non_json_and_unknown_type() -> None:
    err = am.parse_error(413, b"<html>Request Entity Too Large</html>")
    assert (err.kind, err.status) == ("request_too_large", 413)
    assert "Too Large" in err.message
    err = am.parse_error(409, b'{"type":"error","error":{"type":"conflict_error","message":"c"}}')
    assert (err.kind, err.message, err.code) == ("invalid_request", "c", "conflict_error")
    assert am.parse_error(503, None).kind == "overloaded"


# ---------------------------------------------------------------------- streams


def test_stream_event_details() -> None:
    events = parse_stream(stream_bytes("stream_text_then_tool_use.sse"))
    assert events[0] == ir.MessageStart(
        id="msg_019Q1hrJbZG26Fb9BQhrkHEr",
        model="claude-sonnet-4-20250514",
        usage=ir.Usage(377, 1, 0, 0),
    )
    assert events[4] == ir.BlockStop(0)
    assert events[5] == ir.BlockStart(
        1, ir.ToolCall("toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", "")
    )
    args = [e.text for e in events if isinstance(e, ir.BlockDelta) and e.kind == "arguments"]
    assert args == ['{"locati', 'on": "P', "ar", 'is"}']
    assert events[-1] == ir.Finish("tool_use", ir.Usage(377, 65, 0, 0), None, "tool_use")


def test_stream_thinking_signature_and_skipped_server_blocks() -> None:
    events = parse_stream(stream_bytes("stream_thinking_then_text.jsonl"))
    assert events[1] == ir.BlockStart(0, ir.Thinking(origin="anthropic"))
    sig = [e for e in events if isinstance(e, ir.BlockDelta) and e.kind == "signature"]
    assert len(sig) == 1 and sig[0].text.startswith("EvQBCkYI")
    events = parse_stream(stream_bytes("stream_text_tool_use_server_tool_use.jsonl"))
    starts = [e for e in events if isinstance(e, ir.BlockStart)]
    assert [s.index for s in starts] == [0, 1]  # the server_tool_use block is skipped


def test_stream_max_tokens_without_block_stop() -> None:
    events = parse_stream(stream_bytes("stream_max_tokens_truncated_tool_json.sse"))
    assert events[-2:] == [
        ir.BlockStop(1),
        ir.Finish("max_tokens", ir.Usage(450, 124, 0, 0), None, "max_tokens"),
    ]


def test_stream_error_event_and_invalid_json() -> None:
    assert parse_stream(stream_bytes("stream_error_event.sse")) == [
        ir.StreamError(ir.Error("overloaded", "Overloaded", 529))
    ]
    events = parse_stream(stream_bytes("stream_docs_web_search_elided.sse"))
    assert isinstance(events[-1], ir.StreamError)
    assert events[-1].error.kind == "api_error"


def test_stream_truncations() -> None:
    data = stream_bytes("stream_text.sse")
    cut = data.index(b"event: message_stop")
    events = parse_stream(data[:cut])
    assert isinstance(events[-1], ir.Finish) and events[-1].stop_reason == "end_turn"
    cut = data.index(b"event: message_delta")
    events = parse_stream(data[:cut])
    assert isinstance(events[-1], ir.StreamError)
    assert [type(e) for e in parse_stream(b"")] == [ir.StreamError]


def test_stream_unknown_events_and_blocks_ignored() -> None:
    data = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"a","model":"m"}}\n\n'
        b'event: brand_new\ndata: {"type":"brand_new"}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"hologram"}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"hologram_delta","x":1}}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":1,'
        b'"content_block":{"type":"text","text":"pre"}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,'
        b'"delta":{"type":"citations_delta","citation":{}}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta",'
        b'"delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},'
        b'"usage":{"output_tokens":3}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    assert parse_stream(data) == [
        ir.MessageStart("a", "m"),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockDelta(0, "text", "pre"),
        ir.BlockStop(0),
        ir.Finish("stop_sequence", ir.Usage(0, 3), "END", "stop_sequence"),
    ]


@pytest.mark.parametrize("name", STREAM_EXAMPLES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_split_gives_identical_events(name: str, data: st.DataObject) -> None:
    raw = stream_bytes(name)
    splits = data.draw(st.lists(st.integers(0, len(raw)), max_size=12))
    assert parse_stream(raw, splits) == parse_stream(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.lists(st.sampled_from(STREAM_EXAMPLES), max_size=2))
def test_stream_parser_never_raises(data: bytes | list[str]) -> None:
    raw = data if isinstance(data, bytes) else b"".join(stream_bytes(n)[:-7] for n in data)
    events = parse_stream(raw)
    assert isinstance(events[-1], ir.Finish | ir.StreamError)


def check_grammar(raw: bytes) -> list[dict]:
    """Anthropic's event grammar, as the SDK's accumulator relies on it."""
    decoder = SSEDecoder()
    frames = decoder.feed(raw) + decoder.finish()
    payloads = [orjson.loads(f.data) for f in frames]
    for frame, payload in zip(frames, payloads, strict=True):
        assert frame.event == payload["type"]
    if payloads[-1]["type"] == "error":
        assert all(p["type"] != "error" for p in payloads[:-1])
        payloads = payloads[:-1]
        if not payloads:
            return []
    else:
        assert [p["type"] for p in payloads[-2:]] == ["message_delta", "message_stop"]
        payloads = payloads[:-2]
    assert payloads[0]["type"] == "message_start"
    open_index: int | None = None
    opened = 0
    for p in payloads[1:]:
        if p["type"] == "content_block_start":
            assert open_index is None and p["index"] == opened
            open_index = opened
            opened += 1
        elif p["type"] == "content_block_delta":
            assert p["index"] == open_index
        elif p["type"] == "content_block_stop":
            assert p["index"] == open_index
            open_index = None
        else:
            pytest.fail(f"unexpected event {p['type']}")
    return payloads


def normalised(events: list[ir.Event], estimate: int = 0) -> list[ir.Event]:
    """What a re-parse of our rendering gives: usage is always present on the wire."""
    out = []
    for event in events:
        if isinstance(event, ir.MessageStart) and event.usage is None:
            event = ir.MessageStart(event.id, event.model, ir.Usage(estimate, 0))
        if isinstance(event, ir.Finish) and event.usage is None:
            start = next(e for e in out if isinstance(e, ir.MessageStart))
            event = ir.Finish(
                event.stop_reason, start.usage, event.stop_sequence, event.raw_stop_reason
            )
        out.append(event)
    return out


@pytest.mark.parametrize("name", STREAM_EXAMPLES)
def test_stream_render_round_trip(name: str) -> None:
    events = parse_stream(stream_bytes(name))
    rendered = render_stream(events)
    check_grammar(rendered)
    assert parse_stream(rendered) == normalised(events)


@pytest.mark.parametrize(
    "name", [n for n in STREAM_EXAMPLES if "error" not in n and "elided" not in n]
)
def test_sdk_accumulates_rendered_stream(name: str) -> None:
    rendered = render_stream(parse_stream(stream_bytes(name)))
    headers = {"content-type": "text/event-stream"}
    client = sdk_client(lambda request: httpx.Response(200, content=rendered, headers=headers))
    with client.messages.stream(model="m", max_tokens=10, messages=[]) as stream:
        message = stream.get_final_message()
    assert message.stop_reason is not None
    assert message.role == "assistant"


def foreign_events() -> list[ir.Event]:
    """What a Chat/Gemini parser might give: no BlockStop, interleaving, early args."""
    return [
        ir.MessageStart("chatcmpl-9", "gpt-x"),
        ir.BlockStart(0, ir.Thinking(origin="gemini")),
        ir.BlockDelta(0, "thinking", "plan"),
        ir.BlockStart(1, ir.Text("")),
        ir.BlockDelta(1, "text", "Hello"),
        ir.BlockDelta(0, "signature", "GSIG"),
        ir.BlockDelta(1, "signature", "lost"),
        ir.BlockStart(2, ir.ToolCall("call_1", "f", '{"a":', signature="FSIG")),
        ir.BlockDelta(2, "arguments", "1}"),
        ir.BlockStart(3, ir.ToolCall("call_2", "g", "")),
        ir.BlockStop(0),
        ir.BlockDelta(1, "text", " world"),
        ir.UsageUpdate(ir.Usage(10, 2)),
        ir.Finish("end_turn", ir.Usage(30, 12, cache_read_tokens=20), raw_stop_reason="stop"),
    ]


def test_foreign_stream_rendering() -> None:
    ctx = ir.RenderContext("claude-x", 0, "req7", source="openai_chat", input_tokens_estimate=99)
    renderer = am.StreamRenderer(ctx)
    first = renderer.render(foreign_events()[:3])
    assert b"content_block_start" in first and b"thinking_delta" in first
    rest = renderer.render(foreign_events()[3:])
    assert renderer.finish() == b""
    payloads = check_grammar(first + rest)
    start = payloads[0]["message"]
    assert (start["id"], start["model"]) == ("chatcmpl-9", "gpt-x")
    assert start["usage"] == {"input_tokens": 99, "output_tokens": 0}
    blocks = [p["content_block"] for p in payloads if p["type"] == "content_block_start"]
    assert blocks == [
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "text", "text": ""},
        {
            "type": "tool_use",
            "id": "call_1",
            "name": "f",
            "input": {},
            "extra_content": {"google": {"thought_signature": "FSIG"}},
        },
        {"type": "tool_use", "id": "call_2", "name": "g", "input": {}},
    ]
    deltas = [(p["index"], p["delta"]) for p in payloads if p["type"] == "content_block_delta"]
    assert deltas == [
        (0, {"type": "thinking_delta", "thinking": "plan"}),
        (0, {"type": "signature_delta", "signature": "gemini:GSIG"}),
        (1, {"type": "text_delta", "text": "Hello"}),
        (1, {"type": "text_delta", "text": " world"}),
        (2, {"type": "input_json_delta", "partial_json": '{"a":'}),
        (2, {"type": "input_json_delta", "partial_json": "1}"}),
    ]
    tail = (first + rest).split(b"event: message_delta\n")[1]
    delta = orjson.loads(tail.split(b"\n")[0][len(b"data: ") :])
    assert delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert delta["usage"] == {
        "input_tokens": 10,
        "cache_read_input_tokens": 20,
        "output_tokens": 12,
    }

    client = sdk_client(
        lambda request: httpx.Response(
            200, content=first + rest, headers={"content-type": "text/event-stream"}
        )
    )
    with client.messages.stream(model="m", max_tokens=10, messages=[]) as stream:
        message = stream.get_final_message()
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert message.content[0].signature == "gemini:GSIG"
    assert message.content[1].text == "Hello world"
    assert message.content[2].input == {"a": 1}
    assert message.content[3].input == {}
    assert message.usage.input_tokens == 10
    assert message.stop_reason == "tool_use"


def test_stream_renderer_error_mid_stream() -> None:
    renderer = am.StreamRenderer(CTX)
    out = renderer.render(
        [
            ir.MessageStart("a", "m", ir.Usage(5, 1)),
            ir.BlockStart(0, ir.Text("")),
            ir.BlockDelta(0, "text", "par"),
            ir.StreamError(ir.Error("rate_limit", "slow down", 429)),
            ir.BlockDelta(0, "text", "after"),
        ]
    )
    assert renderer.render([ir.Finish("end_turn")]) == b""
    assert renderer.finish() == b""
    assert out.endswith(
        b'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error",'
        b'"message":"slow down"}}\n\n'
    )
    assert b"after" not in out
    client = sdk_client(
        lambda request: httpx.Response(
            200, content=out, headers={"content-type": "text/event-stream"}
        )
    )
    stream_manager = client.messages.stream(model="m", max_tokens=10, messages=[])
    with pytest.raises(anthropic.APIStatusError) as exc, stream_manager as stream:
        stream.get_final_message()
    assert "slow down" in str(exc.value)


def test_stream_renderer_body_ends_without_finish() -> None:
    renderer = am.StreamRenderer(CTX)
    out = renderer.render([ir.MessageStart("a", "m"), ir.BlockStart(0, ir.Text("x"))])
    out += renderer.finish()
    check_grammar(out)
    assert out.endswith(b"\n\n") and b"event: error" in out


def test_stream_renderer_redacted_and_same_protocol_stop() -> None:
    events = [
        ir.MessageStart("msg_1", "claude", ir.Usage(30, 1, cache_write_tokens=20)),
        ir.BlockStart(0, ir.Thinking(redacted="RED", origin="anthropic")),
        ir.BlockStop(0),
        ir.BlockStart(1, ir.ToolCall("t", "f", "")),
        ir.BlockStop(1),
        ir.Finish("max_tokens", raw_stop_reason="max_tokens"),
    ]
    payloads = check_grammar(render_stream(events))
    assert payloads[0]["message"]["usage"] == {
        "input_tokens": 10,
        "cache_creation_input_tokens": 20,
        "output_tokens": 1,
    }
    assert payloads[1]["content_block"] == {"type": "redacted_thinking", "data": "RED"}
    assert parse_stream(render_stream(events))[-1].raw_stop_reason == "max_tokens"
    assert parse_stream(render_stream(events, CTX))[-1].raw_stop_reason == "max_tokens"


def test_thinking_left_out_when_last_tool_turn_has_no_thinking() -> None:
    history = [
        user("q"),
        ir.Message("assistant", [ir.ToolCall("c", "f", "{}")]),
        ir.Message("tool", [ir.ToolResult("c", [ir.Text("r")])]),
    ]
    reasoning = ir.Reasoning(effort="low")
    assert "thinking" not in am.render_request(foreign(*history, reasoning=reasoning))
    history[1].parts.insert(0, ir.Thinking("t", signature="S", origin="anthropic"))
    body = am.render_request(foreign(*history, reasoning=reasoning, max_tokens=5000))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_document_file_source_and_system_refusal() -> None:
    doc = {"type": "document", "source": {"type": "file", "file_id": "file_011"}}
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [doc]}]}
    assert am.render_request(am.parse_request(copy.deepcopy(body))) == body
    req = foreign(ir.Message("system", [ir.Image(url="https://x.test/i.png")]), user("q"))
    with pytest.raises(TranslationError) as exc:
        am.render_request(req)
    assert exc.value.param == "messages[0].parts[0]"


@pytest.mark.parametrize(
    ("name", "payload", "events"),
    [
        ("content_block_start", b'{"type":"content_block_start","index":"0"}', 1),
        ("content_block_start", b'{"type":"content_block_start","index":0}', 1),
        ("content_block_delta", b'{"index":0,"delta":{"type":"text_delta","text":5}}', 1),
        ("message_start", b"[1,2]", 1),
        ("message_start", b'{"type":"message_start","message":"x"}', 1),
    ],
)
def test_stream_malformed_events_become_stream_errors(
    name: str, payload: bytes, events: int
) -> None:
    prefix = (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
    )
    data = prefix + f"event: {name}\ndata: ".encode() + payload + b"\n\n"
    out = parse_stream(data)
    assert isinstance(out[0], ir.MessageStart) and out[0].id == ""
    assert isinstance(out[-1], ir.StreamError)
    assert out[-1].error.kind == "api_error"


def test_stream_parser_ignores_repeats() -> None:
    start = b'event: message_start\ndata: {"type":"message_start","message":{"id":"a"}}\n\n'
    block = (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
    )
    stop = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    events = parse_stream(start + start + block + block + stop)
    assert [type(e).__name__ for e in events] == [
        "MessageStart",
        "BlockStart",
        "BlockStop",
        "Finish",
    ]


def test_stream_renderer_ignores_repeated_starts_and_empty_deltas() -> None:
    events = [
        ir.MessageStart("a", "m"),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockStart(0, ir.Text("")),
        ir.BlockDelta(0, "text", ""),
        ir.BlockDelta(7, "text", "orphan"),
        ir.Finish("end_turn"),
    ]
    payloads = check_grammar(render_stream(events, CTX))
    assert [p["type"] for p in payloads] == [
        "message_start",
        "content_block_start",
        "content_block_stop",
    ]
