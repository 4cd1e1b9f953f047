"""OpenAI Chat Completions codec: spec examples, mapping rules, refusals, streams, SDK checks."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from pathlib import Path

import openai
import openai._base_client as _sdk_http
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from translators import ir
from translators import openai_chat as oc
from translators import openai_chat_stream as ocs
from translators.errors import TranslationError
from translators.sse import SSEDecoder

# openai 2.x is built on httpx, openai 3.x on httpx2 (same API): mock with the one the
# installed SDK uses, so these tests run under both Python legs of CI.
httpx = getattr(_sdk_http, "httpx2", None) or _sdk_http.httpx

FIXTURES = Path(__file__).parent.parent / "fixtures" / "spec" / "openai_chat"
CTX = ir.RenderContext(model="gpt-test", created=1700000000, request_id="req42")
USAGE_CTX = ir.RenderContext(
    model="gpt-test", created=1700000000, request_id="req42", include_usage=True
)
SAME_CTX = ir.RenderContext(
    model="gpt-test",
    created=1700000000,
    request_id="req42",
    include_usage=True,
    source="openai_chat",
)

REQUESTS = sorted(p.name for p in FIXTURES.glob("request_*.json"))
RESPONSES = sorted(p.name for p in FIXTURES.glob("response_*.json"))
STREAMS = [
    *sorted(p.name for p in FIXTURES.glob("stream_*.sse")),
    "stream_text_2026_usage_null_obfuscation.jsonl",
]


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def stream_bytes(name: str) -> bytes:
    """Raw SSE; the ``.jsonl`` recording gets back the framing and ``[DONE]`` it lost."""
    raw = (FIXTURES / name).read_bytes()
    if name.endswith(".sse"):
        return raw
    frames = [b"data: " + line + b"\n\n" for line in raw.splitlines() if line.strip()]
    return b"".join(frames) + b"data: [DONE]\n\n"


def parse_stream(data: bytes, splits: list[int] | None = None) -> list[ir.Event]:
    parser = oc.StreamParser()
    events: list[ir.Event] = []
    start = 0
    for cut in [*sorted(set(splits or [])), len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
    return events + parser.finish()


def assert_grammar(events: list[ir.Event]) -> None:
    """MessageStart, blocks numbered 0.. opened once and closed once, then one Finish;
    or a StreamError, which ends everything."""
    failed = isinstance(events[-1], ir.StreamError)
    assert failed or isinstance(events[-1], ir.Finish)
    events = events[:-1]
    if not events:
        assert failed
        return
    assert isinstance(events[0], ir.MessageStart)
    open_blocks: set[int] = set()
    opened = 0
    for event in events[1:]:
        if isinstance(event, ir.BlockStart):
            assert event.index == opened
            opened += 1
            open_blocks.add(event.index)
            if isinstance(event.part, ir.ToolCall):
                assert event.part.arguments == ""
        elif isinstance(event, ir.BlockDelta):
            assert event.index in open_blocks
        elif isinstance(event, ir.BlockStop):
            open_blocks.remove(event.index)
        else:
            assert isinstance(event, ir.UsageUpdate)
    assert failed or not open_blocks


def render_stream(events: list[ir.Event], ctx: ir.RenderContext = SAME_CTX) -> bytes:
    renderer = oc.StreamRenderer(ctx)
    return renderer.render(events) + renderer.finish()


def payloads(data: bytes) -> list[bytes]:
    decoder = SSEDecoder()
    return [event.data for event in decoder.feed(data) + decoder.finish()]


def chunk_json(data: bytes) -> list[dict]:
    return [orjson.loads(p) for p in payloads(data) if p != b"[DONE]"]


def sdk(status: int, content: bytes, content_type: str = "application/json") -> openai.OpenAI:
    """A real openai client whose transport answers with our bytes."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return openai.OpenAI(
        api_key="k", base_url="http://gateway.test/v1", http_client=http, max_retries=0
    )


def sdk_stream(data: bytes) -> list[ChatCompletionChunk]:
    client = sdk(200, data, "text/event-stream")
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    return list(stream)


def sdk_final(data: bytes):
    """The SDK's own accumulation of a stream (the snapshot: the final-completion helper
    raises on finish_reason length by design)."""
    state = ChatCompletionStreamState()
    for chunk in sdk_stream(data):
        state.handle_chunk(chunk)
    return state.current_completion_snapshot


def user(*parts: ir.Part) -> ir.Message:
    return ir.Message(role="user", parts=list(parts))


def foreign_request(*messages: ir.Message, **fields) -> ir.Request:
    return ir.Request(model="m", messages=list(messages), source="anthropic", **fields)


# --------------------------------------------------------------------- spec examples


@pytest.mark.parametrize("name", REQUESTS)
def test_request_examples_round_trip(name: str) -> None:
    body = load(name)
    assert oc.render_request(oc.parse_request(copy.deepcopy(body))) == body
    assert oc.recognise(body) == 2


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


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [
        ("error_400_unsupported_parameter.json", 400, "invalid_request"),
        ("error_429_insufficient_quota.json", 429, "billing"),
    ],
)
def test_error_examples(name: str, status: int, kind: str) -> None:
    body = load(name)
    err = oc.parse_error(status, orjson.dumps(body))
    assert err.kind == kind
    assert err.message == body["error"]["message"]
    assert oc.render_error(err) == (status, body)


# ------------------------------------------------------------------------- recognise


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
def test_recognise(body: object, score: int) -> None:
    assert oc.recognise(body) == score


# ------------------------------------------------------------------- parse requests


def test_system_and_developer_stay_in_place() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {"role": "developer", "content": "d"},
                {"role": "user", "content": "u", "name": "ann"},
                {"role": "system", "content": [{"type": "text", "text": "s"}]},
            ],
        }
    )
    assert [(m.role, m.parts, m.name) for m in req.messages] == [
        ("developer", [ir.Text("d")], None),
        ("user", [ir.Text("u")], "ann"),
        ("system", [ir.Text("s")], None),
    ]


def test_user_content_parts() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {
                            "type": "image_url",
                            "image_url": {"url": "data:image/png;base64,iVBO", "detail": "low"},
                        },
                        {"type": "image_url", "image_url": {"url": "https://x/y.jpg"}},
                        {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                        {
                            "type": "file",
                            "file": {
                                "filename": "a.pdf",
                                "file_data": "data:application/pdf;base64,JVBE",
                            },
                        },
                        {"type": "file", "file": {"file_data": "JVBE"}},
                        {"type": "file", "file": {"file_id": "file-1"}},
                    ],
                }
            ],
        }
    )
    assert req.messages[0].parts == [
        ir.Text("look"),
        ir.Image(media_type="image/png", data="iVBO", detail="low"),
        ir.Image(url="https://x/y.jpg"),
        ir.Audio(media_type="audio/wav", data="UklG"),
        ir.Document(media_type="application/pdf", data="JVBE", filename="a.pdf"),
        ir.Document(data="JVBE"),
        ir.Document(file_id="file-1"),
    ]


def test_assistant_history_thinking_text_calls_and_results() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": "checking",
                    "reasoning_content": "they want weather",
                    "extra_content": {"google": {"thought_signature": "textsig"}},
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get", "arguments": '{"a": 1 }'},
                            "extra_content": {"google": {"thought_signature": "callsig"}},
                        }
                    ],
                    "refusal": None,
                    "annotations": [],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
        }
    )
    assistant, tool = req.messages[1:]
    assert assistant.parts == [
        ir.Thinking(text="they want weather", origin="openai_chat"),
        ir.Text("checking", signature="textsig"),
        ir.ToolCall("call_1", "get", '{"a": 1 }', signature="callsig"),
    ]
    assert tool.role == "tool"
    assert tool.parts == [ir.ToolResult("call_1", [ir.Text("sunny")], name="get")]


def test_thinking_blocks_attributed_by_prefix() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": "ignored: the blocks hold it",
                    "thinking_blocks": [
                        {"type": "thinking", "thinking": "a", "signature": "c2ln"},
                        {"type": "redacted_thinking", "data": "ZGF0"},
                        {"type": "thinking", "thinking": "g", "signature": "gemini:Z3NpZw=="},
                        {"type": "thinking", "thinking": "plain"},
                    ],
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}
                    ],
                }
            ],
        }
    )
    assert req.messages[0].parts[:4] == [
        ir.Thinking(text="a", signature="c2ln", origin="anthropic"),
        ir.Thinking(redacted="ZGF0", origin="anthropic"),
        ir.Thinking(text="g", signature="Z3NpZw==", origin="gemini"),
        ir.Thinking(text="plain", origin="openai_chat"),
    ]


def test_sampling_and_options_map_to_ir() -> None:
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


def test_nulls_mean_default_and_unknown_fields_go_to_extra() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "temperature": None,
            "logit_bias": {"50256": -100},
            "store": None,
            "metadata": {"k": "v"},
        }
    )
    assert req.temperature is None
    assert req.extra == {"logit_bias": {"50256": -100}, "metadata": {"k": "v"}}
    assert "logit_bias" not in oc.DROPPABLE
    assert "metadata" in oc.DROPPABLE


def test_legacy_max_tokens_and_string_stop_round_trip() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 9}
    body["stop"] = "\n"
    req = oc.parse_request(copy.deepcopy(body))
    assert req.max_tokens == 9 and req.stop == ["\n"]
    assert oc.render_request(req) == body
    req.source = "anthropic"
    req.extra = {}
    rendered = oc.render_request(req)
    assert rendered["max_completion_tokens"] == 9 and rendered["stop"] == ["\n"]
    assert "max_tokens" not in rendered


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


def test_kitchen_sink_request_round_trips() -> None:
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


def test_model_and_stream_overrides() -> None:
    req = oc.parse_request({"model": "a", "messages": [], "stream": False}, model="b", stream=True)
    assert (req.model, req.stream) == ("b", True)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": {}}, "messages"),
        ({"model": "m", "messages": [{"role": "function", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]"),
        ({"model": "m", "messages": [{"role": "user"}]}, "messages[0].content"),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "image", "x": 1}]}]},
            "messages[0].content[0].type",
        ),
        (
            {"model": "m", "messages": [{"role": "system", "content": [{"type": "image_url"}]}]},
            "messages[0].content[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png,xx"}}
                        ],
                    }
                ],
            },
            "messages[0].content[0].image_url.url",
        ),
        (
            {"model": "m", "messages": [{"role": "tool", "content": "x"}]},
            "messages[0].tool_call_id",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "c", "type": "custom", "custom": {"name": "x", "input": ""}}
                        ],
                    }
                ],
            },
            "messages[0].tool_calls[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "c",
                                "type": "function",
                                "function": {"name": "x", "arguments": {}},
                            }
                        ],
                    }
                ],
            },
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            {"model": "m", "messages": [{"role": "assistant", "audio": {"id": "a"}}]},
            "messages[0].audio",
        ),
        ({"model": "m", "messages": [], "temperature": "hot"}, "temperature"),
        ({"model": "m", "messages": [], "n": True}, "n"),
        ({"model": "m", "messages": [], "stop": [1]}, "stop"),
        ({"model": "m", "messages": [], "functions": [{"name": "f"}]}, "functions"),
        (
            {"model": "m", "messages": [], "response_format": {"type": "yaml"}},
            "response_format.type",
        ),
        ({"model": "m", "messages": [], "tools": [{"type": "function"}]}, "tools[0].function"),
    ],
)
def test_bad_requests_name_the_field(body: dict, param: str) -> None:
    with pytest.raises(TranslationError) as info:
        oc.parse_request(body)
    assert info.value.param == param


# ------------------------------------------------------- render requests from other IR


def test_render_foreign_conversation() -> None:
    req = foreign_request(
        ir.Message("system", [ir.Text("be brief", cache_control={"type": "ephemeral"})]),
        user(ir.Text("hi", cache_control={"type": "ephemeral", "ttl": "1h"})),
        ir.Message(
            "assistant",
            [
                ir.Thinking(text="think", signature="sig", origin="anthropic"),
                ir.Thinking(redacted="xx", origin="anthropic"),
                ir.Thinking(text="deepseek's own", origin="openai_chat"),
                ir.Text(""),
                ir.ToolCall("toolu_1", "shot", '{"x":1}', signature="gsig"),
            ],
        ),
        user(
            ir.ToolResult(
                "toolu_1",
                [ir.Text("here"), ir.Image(media_type="image/png", data="iVBO")],
                is_error=True,
            ),
            ir.Text("what do you see?"),
        ),
        max_tokens=100,
        top_p=0.9,
    )
    assert oc.render_request(req) == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "deepseek's own",
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "shot", "arguments": '{"x":1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "here"},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                    {"type": "text", "text": "what do you see?"},
                ],
            },
        ],
        "max_completion_tokens": 100,
        "top_p": 0.9,
    }


def test_render_media_parts() -> None:
    req = foreign_request(
        user(
            ir.Audio(media_type="audio/mpeg", data="SUQz"),
            ir.Document(media_type="application/pdf", data="JVBE", title="t"),
            ir.Document(text="plain doc"),
            ir.Image(url="https://x/y.png"),
        )
    )
    assert oc.render_request(req)["messages"][0]["content"] == [
        {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE"}},
        {"type": "text", "text": "plain doc"},
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
    ]


def test_developer_role_and_tool_role_messages() -> None:
    req = foreign_request(
        ir.Message("developer", [ir.Text("a"), ir.Text("b")]),
        ir.Message(
            "tool",
            [ir.ToolResult("c1", [ir.Text("r1")]), ir.ToolResult("c2", [])],
        ),
    )
    assert oc.render_request(req)["messages"] == [
        {
            "role": "developer",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "r1"},
        {"role": "tool", "tool_call_id": "c2", "content": ""},
    ]


def test_foreign_extra_is_not_rendered_and_signatures_stay_home() -> None:
    req = foreign_request(
        ir.Message("assistant", [ir.Text("t", signature="s"), ir.ToolCall("c", "f", "{}", "s2")]),
    )
    req.extra = {"container": "x"}
    rendered = oc.render_request(req)
    assert "container" not in rendered
    assert "extra_content" not in orjson.dumps(rendered).decode()


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


def test_tool_choice_none_never_becomes_auto_and_allowed_names() -> None:
    none = oc.render_request(foreign_request(tool_choice=ir.ToolChoice("none")))
    assert none["tool_choice"] == "none"
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


def test_tools_and_response_format_from_foreign() -> None:
    req = foreign_request(
        tools=[ir.Tool("f", "d", {"type": "object"}, cache_control={"type": "ephemeral"})],
        response_format=ir.ResponseFormat("json_schema", schema={"type": "object"}),
    )
    rendered = oc.render_request(req)
    assert rendered["tools"] == [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object"}},
        }
    ]
    assert rendered["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": {"type": "object"}},
    }


def test_top_k_refused_toward_openai_but_kept_for_openai_callers() -> None:
    with pytest.raises(TranslationError) as info:
        oc.render_request(foreign_request(user(ir.Text("x")), top_k=5))
    assert info.value.param == "top_k"
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "top_k": 5}
    assert oc.render_request(oc.parse_request(copy.deepcopy(body))) == body


@pytest.mark.parametrize(
    ("message", "param"),
    [
        (user(ir.Image(url="gs://b/x.png")), "messages[0].parts[0]"),
        (user(ir.Image(data="xx")), "messages[0].parts[0]"),
        (user(ir.Document(url="https://x/a.pdf")), "messages[0].parts[0]"),
        (
            user(ir.Document(data="x", media_type="application/pdf", citations={"enabled": True})),
            "messages[0].parts[0]",
        ),
        (user(ir.Audio(media_type="image/png", data="x")), "messages[0].parts[0]"),
        (user(ir.ToolCall("c", "f", "{}")), "messages[0].parts[0]"),
        (ir.Message("system", [ir.Image(url="https://x")]), "messages[0].parts[0]"),
        (ir.Message("assistant", [ir.Image(url="https://x")]), "messages[0].parts[0]"),
    ],
)
def test_inexpressible_parts_are_refused(message: ir.Message, param: str) -> None:
    with pytest.raises(TranslationError) as info:
        oc.render_request(foreign_request(message))
    assert info.value.param == param


# ------------------------------------------------------------------------- responses


def test_refusal_response() -> None:
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


def test_render_foreign_response_with_thinking_and_signatures() -> None:
    resp = foreign_response(
        ir.Thinking("step 1", signature="c2ln", origin="anthropic"),
        ir.Thinking(redacted="cmVk", origin="anthropic"),
        ir.Thinking("step 2", signature="Z3M=", origin="gemini"),
        ir.Text("answer", signature="tsig"),
        ir.ToolCall("toolu_1", "f", '{"a":1}', signature="csig"),
        stop="end_turn",
        usage=ir.Usage(100, 20, cache_read_tokens=80, cache_write_tokens=10, reasoning_tokens=5),
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
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 80, "cache_write_tokens": 10},
            "completion_tokens_details": {"reasoning_tokens": 5},
        },
    }
    ChatCompletion.model_validate(body)
    # The caller sends the turn back: the same IR state comes out of its request.
    message = body["choices"][0]["message"]
    parsed = oc.parse_request({"model": "m", "messages": [message]}).messages[0].parts
    assert parsed == resp.choices[0].parts


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
def test_foreign_stop_reasons(stop: ir.StopReason | None, finish: str) -> None:
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


# ----------------------------------------------------------------------------- usage


def test_usage_is_inclusive_and_never_double_counted() -> None:
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 300,
        "total_tokens": 1300,
        "prompt_tokens_details": {"cached_tokens": 900, "cache_write_tokens": 50},
        "completion_tokens_details": {"reasoning_tokens": 200},
    }
    parsed = ocs.usage_from_wire(usage)
    assert parsed == ir.Usage(
        1000, 300, cache_read_tokens=900, cache_write_tokens=50, reasoning_tokens=200
    )
    assert ocs.usage_to_wire(parsed) == usage


def test_usage_without_details() -> None:
    assert ocs.usage_from_wire({"prompt_tokens": 3, "completion_tokens": 4}) == ir.Usage(3, 4)
    assert ocs.usage_to_wire(ir.Usage(3, 4)) == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
    }


# ---------------------------------------------------------------------------- errors

KINDS = [
    ("invalid_request", 400, openai.BadRequestError),
    ("authentication", 401, openai.AuthenticationError),
    ("billing", 429, openai.RateLimitError),
    ("permission", 403, openai.PermissionDeniedError),
    ("not_found", 404, openai.NotFoundError),
    ("request_too_large", 413, openai.APIStatusError),
    ("rate_limit", 429, openai.RateLimitError),
    ("api_error", 500, openai.InternalServerError),
    ("not_implemented", 501, openai.InternalServerError),
    ("overloaded", 503, openai.InternalServerError),
    ("timeout", 504, openai.InternalServerError),
]


@pytest.mark.parametrize(("kind", "status", "exc"), KINDS)
def test_rendered_errors_raise_the_sdk_class(kind: str, status: int, exc: type) -> None:
    err = ir.Error(kind=kind, message=f"boom {kind}", status=status, param="messages[0]", code="c1")
    rendered_status, body = oc.render_error(err)
    assert rendered_status == status
    client = sdk(status, orjson.dumps(body))
    with pytest.raises(exc) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert type(info.value) is exc
    assert info.value.body["message"] == f"boom {kind}"
    assert (info.value.param, info.value.code) == ("messages[0]", "c1")
    back = oc.parse_error(status, orjson.dumps(body))
    assert (back.kind, back.message, back.param, back.code) == (
        kind,
        err.message,
        "messages[0]",
        "c1",
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request"),
        (401, "authentication"),
        (402, "billing"),
        (403, "permission"),
        (404, "not_found"),
        (409, "invalid_request"),
        (413, "request_too_large"),
        (422, "invalid_request"),
        (429, "rate_limit"),
        (500, "api_error"),
        (501, "not_implemented"),
        (502, "api_error"),
        (503, "overloaded"),
        (504, "timeout"),
        (418, "invalid_request"),
    ],
)
def test_parse_error_status_to_kind(status: int, kind: str) -> None:
    body = {"error": {"message": "m", "type": "x", "param": None, "code": None}}
    assert oc.parse_error(status, body).kind == kind


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>", None),
        (b"", "upstream error (HTTP 502)", None),
        ({"error": "model 'x' not found"}, "model 'x' not found", None),
        (
            {"object": "error", "message": "bad", "type": "BadRequestError", "code": 400},
            "bad",
            "400",
        ),
        ({"detail": "Not Found"}, "Not Found", None),
        ([1, 2], "upstream error (HTTP 502)", None),
    ],
)
def test_parse_error_tolerates_compatible_server_shapes(body: object, message: str, code) -> None:
    err = oc.parse_error(502, body)
    assert (err.message, err.code, err.status) == (message, code, 502)


# ----------------------------------------------------------------------- stream parse


@pytest.mark.parametrize("name", STREAMS)
def test_stream_examples_parse_render_reparse(name: str) -> None:
    events = parse_stream(stream_bytes(name))
    assert_grammar(events)
    assert isinstance(events[-1], ir.Finish)
    rendered = render_stream(events)
    for chunk in chunk_json(rendered):
        ChatCompletionChunk.model_validate(chunk)
    again = parse_stream(rendered)
    if name == "stream_refusal.sse":
        # The IR has no refusal marker on a streamed block: the text comes back as content.
        assert events[-1].stop_reason == "content_filter"
        assert again[-1].stop_reason == "end_turn"
        again[-1] = dataclasses.replace(again[-1], stop_reason="content_filter")
    assert again == events


@pytest.mark.parametrize("name", STREAMS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_split_gives_identical_events(name: str, data: st.DataObject) -> None:
    raw = stream_bytes(name)
    splits = data.draw(st.lists(st.integers(0, len(raw)), max_size=12))
    assert parse_stream(raw, splits) == parse_stream(raw)


def test_byte_by_byte_split() -> None:
    raw = stream_bytes("stream_parallel_tool_calls.sse")
    assert parse_stream(raw, list(range(len(raw)))) == parse_stream(raw)


def test_parallel_tool_calls_keep_their_indices() -> None:
    events = parse_stream(stream_bytes("stream_parallel_tool_calls.sse"))
    starts = [e for e in events if isinstance(e, ir.BlockStart)]
    assert [(s.index, s.part.name) for s in starts] == [
        (0, "GetWeatherArgs"),
        (1, "get_stock_price"),
    ]
    args = {0: "", 1: ""}
    for event in events:
        if isinstance(event, ir.BlockDelta):
            args[event.index] += event.text
    assert all(orjson.loads(a) for a in args.values())
    assert events[-1].stop_reason == "tool_use"


def test_n3_stream_carries_only_choice_zero() -> None:
    events = parse_stream(stream_bytes("stream_n3_choices.sse"))
    text = "".join(e.text for e in events if isinstance(e, ir.BlockDelta))
    raw = [
        orjson.loads(p) for p in payloads(stream_bytes("stream_n3_choices.sse")) if p != b"[DONE]"
    ]
    expected = "".join(
        c["delta"].get("content") or ""
        for chunk in raw
        for c in chunk["choices"]
        if c["index"] == 0
    )
    assert text == expected
    assert events[-1].usage.output_tokens == 42


def chunks(*deltas: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    """A stream body from deltas for choice 0."""
    head = {"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 5, "model": "ds"}
    out = [{**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    if finish is not None:
        out.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if usage is not None:
        out.append({**head, "choices": [], "usage": usage})
    return b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in out) + b"data: [DONE]\n\n"


def test_deepseek_reasoning_then_text_then_tool() -> None:
    events = parse_stream(
        chunks(
            {"role": "assistant", "content": None, "reasoning_content": ""},
            {"reasoning_content": "let me"},
            {"reasoning": " think"},
            {"content": "ok"},
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a":1}'},
                    }
                ]
            },
            finish="tool_calls",
            usage={"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        )
    )
    assert_grammar(events)
    assert events == [
        ir.MessageStart(id="chatcmpl-t", model="ds", created=5),
        ir.BlockStart(0, ir.Thinking(origin="openai_chat")),
        ir.BlockDelta(0, "thinking", "let me"),
        ir.BlockDelta(0, "thinking", " think"),
        ir.BlockStop(0),
        ir.BlockStart(1, ir.Text("")),
        ir.BlockDelta(1, "text", "ok"),
        ir.BlockStop(1),
        ir.BlockStart(2, ir.ToolCall("c1", "f", "")),
        ir.BlockDelta(2, "arguments", '{"a":1}'),
        ir.BlockStop(2),
        ir.Finish("tool_use", ir.Usage(5, 7), raw_stop_reason="tool_calls"),
    ]


def test_tool_calls_without_index_and_reused_index() -> None:
    events = parse_stream(
        chunks(
            {
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
                ]
            },
            {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "h", "arguments": "{"}}]},
            {"tool_calls": [{"index": 0, "id": "d", "function": {"name": "i", "arguments": ""}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]},
            finish="stop",
        )
    )
    assert_grammar(events)
    starts = [(e.index, e.part.id) for e in events if isinstance(e, ir.BlockStart)]
    assert starts == [(0, "a"), (1, "b"), (2, "c"), (3, "d")]
    deltas = [(e.index, e.text) for e in events if isinstance(e, ir.BlockDelta)]
    assert deltas == [(0, "{}"), (1, "{}"), (2, "{"), (3, "}")]
    stops = [e.index for e in events if isinstance(e, ir.BlockStop)]
    assert sorted(stops) == [0, 1, 2, 3]
    assert events[-1] == ir.Finish("tool_use", None, raw_stop_reason="stop")


def test_gemini_signature_on_streamed_call() -> None:
    call = {
        "index": 0,
        "id": "c",
        "type": "function",
        "function": {"name": "f", "arguments": "{}"},
        "extra_content": {"google": {"thought_signature": "sig"}},
    }
    events = parse_stream(chunks({"tool_calls": [call]}, finish="tool_calls"))
    assert events[1] == ir.BlockStart(0, ir.ToolCall("c", "f", "", signature="sig"))


def test_usage_on_the_finish_chunk_and_groq_usage() -> None:
    head = b'{"id":"i","model":"m","created":1,'
    body = (
        b"data: "
        + head
        + b'"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\ndata: [DONE]\n\n'
    )
    assert parse_stream(body)[-1].usage == ir.Usage(1, 2)
    groq = (
        b"data: " + head + b'"choices":[{"index":0,"delta":{},"finish_reason":"length"}],'
        b'"x_groq":{"usage":{"prompt_tokens":3,"completion_tokens":4}}}\n\ndata: [DONE]\n\n'
    )
    assert parse_stream(groq)[-1] == ir.Finish(
        "max_tokens", ir.Usage(3, 4), raw_stop_reason="length"
    )


def test_mid_stream_usage_is_an_update() -> None:
    events = parse_stream(
        b'data: {"id":"i","model":"m","choices":[{"index":0,"delta":{"content":"x"}}],'
        b'"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n'
        b'data: {"id":"i","model":"m",'
        b'"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    assert ir.UsageUpdate(ir.Usage(1, 1)) in events
    assert events[-1].usage == ir.Usage(1, 1)


def test_finish_is_emitted_on_the_usage_chunk() -> None:
    data = chunks(
        {"content": "x"}, finish="stop", usage={"prompt_tokens": 1, "completion_tokens": 1}
    )
    without_done = data[: -len(b"data: [DONE]\n\n")]
    parser = oc.StreamParser()
    events = parser.feed(without_done)
    assert isinstance(events[-1], ir.Finish)
    assert parser.feed(b"data: [DONE]\n\n") == [] and parser.finish() == []


def test_stream_ending_after_finish_reason_without_done() -> None:
    data = chunks({"content": "x"}, finish="stop")[: -len(b"data: [DONE]\n\n")]
    assert parse_stream(data)[-1] == ir.Finish("end_turn", None, raw_stop_reason="stop")


@pytest.mark.parametrize(
    "data",
    [
        chunks({"content": "x"})[: -len(b"data: [DONE]\n\n")],
        b"",
        b"data: {not json\n\n",
        b"data: [1]\n\n",
        b'data: {"choices":[{"index":0,"delta":{"content":5}}]}\n\n',
    ],
)
def test_truncated_or_malformed_streams_end_in_an_error(data: bytes) -> None:
    events = parse_stream(data)
    assert isinstance(events[-1], ir.StreamError)
    assert sum(isinstance(e, ir.StreamError | ir.Finish) for e in events) == 1


def test_in_stream_error_payload() -> None:
    data = (
        chunks({"content": "x"})[: -len(b"data: [DONE]\n\n")]
        + b'data: {"error":{"message":"overloaded","type":"server_error",'
        + b'"param":null,"code":null}}\n\n'
        + b"data: [DONE]\n\n"
    )
    events = parse_stream(data)
    assert events[-1] == ir.StreamError(
        ir.Error(kind="api_error", message="overloaded", status=500)
    )


def test_done_without_anything_still_starts_and_finishes() -> None:
    assert parse_stream(b"data: [DONE]\n\n") == [
        ir.MessageStart(id="", model=""),
        ir.Finish(None, None),
    ]


# --------------------------------------------------------------------- stream render


def foreign_events() -> list[ir.Event]:
    return [
        ir.MessageStart(id="msg_1", model="claude", usage=ir.Usage(10, 0)),
        ir.BlockStart(0, ir.Thinking(origin="anthropic")),
        ir.BlockDelta(0, "thinking", "hmm "),
        ir.BlockDelta(0, "thinking", "ok"),
        ir.BlockDelta(0, "signature", "c2ln"),
        ir.BlockStop(0),
        ir.BlockStart(1, ir.Text("")),
        ir.BlockDelta(1, "text", "Let me look."),
        ir.BlockDelta(1, "text", ""),
        ir.BlockStop(1),
        ir.BlockStart(2, ir.ToolCall("toolu_1", "search", "")),
        ir.BlockDelta(2, "arguments", '{"q":'),
        ir.BlockStart(3, ir.ToolCall("toolu_2", "now", "", signature="gsig")),
        ir.BlockDelta(2, "arguments", '"x"}'),
        ir.UsageUpdate(ir.Usage(10, 3)),
        ir.Finish("tool_use", ir.Usage(10, 30, cache_read_tokens=4), raw_stop_reason="tool_use"),
    ]


def test_render_foreign_stream_shape() -> None:
    data = render_stream(foreign_events(), USAGE_CTX)
    assert data.endswith(b"data: [DONE]\n\n")
    parsed = chunk_json(data)
    for chunk in parsed:
        ChatCompletionChunk.model_validate(chunk)
        assert (chunk["id"], chunk["created"], chunk["model"]) == ("msg_1", 1700000000, "claude")
        assert chunk["object"] == "chat.completion.chunk"
    deltas = [c["choices"][0]["delta"] for c in parsed if c["choices"]]
    finishes = [c["choices"][0]["finish_reason"] for c in parsed if c["choices"]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"reasoning_content": "hmm "},
        {"reasoning_content": "ok"},
        {"thinking_blocks": [{"type": "thinking", "thinking": "hmm ok", "signature": "c2ln"}]},
        {"content": "Let me look."},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "search", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"q":'}}]},
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "toolu_2",
                    "type": "function",
                    "function": {"name": "now", "arguments": ""},
                    "extra_content": {"google": {"thought_signature": "gsig"}},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '"x"}'}}]},
        {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]},
        {},
    ]
    assert finishes == [None] * 10 + ["tool_calls"]
    assert parsed[-1]["choices"] == []
    assert parsed[-1]["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 30,
        "total_tokens": 40,
        "prompt_tokens_details": {"cached_tokens": 4},
    }


def test_sdk_accumulates_rendered_foreign_stream() -> None:
    final = sdk_final(render_stream(foreign_events(), USAGE_CTX))
    (choice,) = final.choices
    assert choice.message.content == "Let me look."
    assert choice.finish_reason == "tool_calls"
    calls = [(c.id, c.function.name, c.function.arguments) for c in choice.message.tool_calls]
    assert calls == [("toolu_1", "search", '{"q":"x"}'), ("toolu_2", "now", "{}")]
    assert final.usage.total_tokens == 40


@pytest.mark.parametrize("name", STREAMS)
def test_sdk_reads_rendered_examples(name: str) -> None:
    events = parse_stream(stream_bytes(name))
    final = sdk_final(render_stream(events))
    text = "".join(e.text for e in events if isinstance(e, ir.BlockDelta) and e.kind == "text")
    assert (final.choices[0].message.content or "") == text
    assert final.usage == openai.types.CompletionUsage.model_validate(
        ocs.usage_to_wire(events[-1].usage)
    )


def test_no_usage_chunk_unless_asked() -> None:
    parsed = chunk_json(render_stream(foreign_events(), CTX))
    assert all(chunk["choices"] for chunk in parsed)


def test_render_without_message_start_or_block_stops() -> None:
    data = render_stream(
        [
            ir.BlockStart(0, ir.ToolCall("c", "f", "")),
            ir.BlockStart(1, ir.Text("")),
            ir.BlockDelta(1, "text", "hi"),
            ir.Finish("end_turn", None),
        ],
        CTX,
    )
    parsed = chunk_json(data)
    assert parsed[0]["id"] == "chatcmpl-req42" and parsed[0]["model"] == "gpt-test"
    assert parsed[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert parsed[-2]["choices"][0]["delta"] == {
        "tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]
    }


def test_arguments_in_block_start_are_sent() -> None:
    data = render_stream(
        [
            ir.BlockStart(0, ir.ToolCall("c", "f", '{"a":1}')),
            ir.BlockStop(0),
            ir.Finish("tool_use"),
        ],
        CTX,
    )
    final = sdk_final(data)
    assert final.choices[0].message.tool_calls[0].function.arguments == '{"a":1}'


def test_redacted_and_gemini_thinking_in_stream() -> None:
    data = render_stream(
        [
            ir.MessageStart(id="g", model="gemini"),
            ir.BlockStart(0, ir.Thinking(redacted="cmVk", origin="anthropic")),
            ir.BlockStop(0),
            ir.BlockStart(1, ir.Thinking(origin="gemini")),
            ir.BlockDelta(1, "thinking", "t"),
            ir.BlockDelta(1, "signature", "Z3M="),
            ir.BlockStart(2, ir.Text("")),
            ir.BlockDelta(2, "text", "a"),
            ir.BlockDelta(2, "signature", "tsig"),
            ir.Finish("end_turn"),
        ],
        CTX,
    )
    deltas = [c["choices"][0]["delta"] for c in chunk_json(data)]
    assert {"thinking_blocks": [{"type": "redacted_thinking", "data": "cmVk"}]} in deltas
    assert {
        "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "gemini:Z3M="}]
    } in deltas
    assert {"extra_content": {"google": {"thought_signature": "tsig"}}} in deltas


def test_stream_error_is_an_sdk_api_error_and_ends_the_stream() -> None:
    renderer = oc.StreamRenderer(CTX)
    data = renderer.render(
        [
            ir.MessageStart(id="x", model="m"),
            ir.BlockStart(0, ir.Text("")),
            ir.BlockDelta(0, "text", "partial"),
            ir.StreamError(ir.Error(kind="overloaded", message="Overloaded", status=529)),
            ir.BlockDelta(0, "text", "ignored"),
        ]
    )
    assert renderer.render([ir.Finish("end_turn")]) == b"" and renderer.finish() == b""
    assert payloads(data)[-1] == orjson.dumps(
        {
            "error": {
                "message": "Overloaded",
                "type": "service_unavailable_error",
                "param": None,
                "code": None,
            }
        }
    )
    assert b"[DONE]" not in data and b"ignored" not in data
    with pytest.raises(openai.APIError) as info:
        sdk_stream(data)
    assert info.value.message == "Overloaded"
    assert parse_stream(data)[-1] == ir.StreamError(
        ir.Error(kind="overloaded", message="Overloaded", status=503)
    )


def test_renderer_finish_reports_a_cut_off_stream() -> None:
    renderer = oc.StreamRenderer(CTX)
    renderer.render([ir.MessageStart(id="x", model="m")])
    tail = renderer.finish()
    assert orjson.loads(payloads(tail)[0])["error"]["type"] == "server_error"
    assert oc.StreamRenderer(CTX).finish() == b""


def test_same_source_raw_finish_reason_and_foreign_mapping() -> None:
    events = [ir.MessageStart(id="x", model="m"), ir.Finish("max_tokens", raw_stop_reason="length")]
    rendered = chunk_json(render_stream(events, SAME_CTX))
    # No usage was known, so no usage chunk follows even though the caller asked for it.
    assert rendered[-1]["choices"][0]["finish_reason"] == "length"
    events[-1] = ir.Finish("context_window", raw_stop_reason="model_context_window_exceeded")
    assert chunk_json(render_stream(events, CTX))[-1]["choices"][0]["finish_reason"] == "length"


# ------------------------------------------------------------------ random input


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "text",
                    "image_url",
                    "url",
                    "detail",
                    "input_audio",
                    "data",
                    "format",
                    "file",
                    "file_data",
                    "file_id",
                    "function",
                    "name",
                    "arguments",
                    "id",
                    "tool_call_id",
                    "thinking",
                    "signature",
                    "google",
                    "thought_signature",
                    "json_schema",
                    "schema",
                    "allowed_tools",
                    "mode",
                    "tools",
                    "include_usage",
                    "message",
                    "content",
                    "refusal",
                    "tool_calls",
                    "index",
                    "finish_reason",
                    "prompt_tokens",
                    "completion_tokens",
                    "prompt_tokens_details",
                    "cached_tokens",
                    "error",
                    "delta",
                    "choices",
                    "usage",
                    "reasoning_content",
                    "reasoning",
                ]
            )
            | st.text(max_size=3),
            inner,
            max_size=4,
        )
    ),
    max_leaves=16,
)
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
    try:
        resp = oc.parse_response(copy.deepcopy(body))
    except TranslationError:
        return
    for ctx in (CTX, SAME_CTX):
        resp.source = ctx.source or "anthropic"
        orjson.dumps(oc.render_response(resp, ctx))


@settings(max_examples=200, deadline=None)
@given(status=st.integers(100, 599), body=JSON | st.binary(max_size=20))
def test_random_errors_never_raise(status: int, body: object) -> None:
    err = oc.parse_error(status, body)
    assert isinstance(err.message, str) and err.message
    oc.render_error(err)


STREAM_CALL = st.fixed_dictionaries(
    {},
    optional={
        "index": st.integers(0, 2) | JSON,
        "id": st.sampled_from(["a", "b", None]),
        "function": st.fixed_dictionaries(
            {}, optional={"name": st.text(max_size=2), "arguments": st.text(max_size=3)}
        ),
    },
)
DELTA = st.fixed_dictionaries(
    {},
    optional={
        "content": st.text(max_size=3) | JSON,
        "reasoning_content": st.text(max_size=3),
        "refusal": st.none() | st.text(max_size=2),
        "tool_calls": st.lists(STREAM_CALL, max_size=2),
    },
)
STREAM_CHOICE = st.fixed_dictionaries(
    {"index": st.integers(0, 1), "delta": DELTA},
    optional={"finish_reason": st.sampled_from(["stop", "length", "tool_calls", None])},
)
CHUNK = st.fixed_dictionaries(
    {"id": st.just("x"), "choices": st.lists(STREAM_CHOICE, max_size=2)},
    optional={"usage": st.none() | st.just({"prompt_tokens": 1, "completion_tokens": 2})},
)
FRAME = (
    (CHUNK | JSON).map(lambda v: b"data: " + orjson.dumps(v) + b"\n\n")
    | st.just(b"data: [DONE]\n\n")
    | st.binary(max_size=30)
)


@settings(max_examples=300, deadline=None)
@given(frames=st.lists(FRAME, max_size=8))
def test_random_streams_end_in_exactly_one_finish_or_error(frames: list[bytes]) -> None:
    data = b"".join(frames)
    events = parse_stream(data)
    assert_grammar(events)
    for chunk in chunk_json(render_stream(events, USAGE_CTX)):
        if "error" not in chunk:
            ChatCompletionChunk.model_validate(chunk)


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
    # Beside tool calls empty texts are not sent (PEER-BUGS #9), so none is generated.
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
    "seed": st.integers(),
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
