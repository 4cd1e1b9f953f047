"""The pipeline across codecs: any split of an upstream stream gives the same caller bytes
for every pair, cross-protocol policy, and streams that end badly."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators import convert, ir
from translators.codec import CODECS
from translators.errors import TranslationError

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"
STREAMS: list[tuple[ir.Protocol, Path]] = [
    ("openai_chat", SPEC / "openai_chat" / "stream_text_with_usage.sse"),
    ("openai_chat", SPEC / "openai_chat" / "stream_parallel_tool_calls.sse"),
    ("anthropic", SPEC / "anthropic" / "stream_text_then_tool_use.sse"),
    ("anthropic", SPEC / "anthropic" / "stream_docs_extended_thinking.sse"),
    ("gemini", SPEC / "gemini" / "stream_parallel_function_calls_gemini25.sse"),
    ("gemini", SPEC / "gemini" / "stream_thought_summaries_then_text.sse"),
]
CLIENTS: list[ir.Protocol] = ["openai_chat", "anthropic", "gemini"]
CTX = ir.RenderContext(model="m", created=1, request_id="r", include_usage=True)


def render(req: ir.Request, upstream: ir.Protocol, **kwargs) -> bytes:
    return convert.render_request(req, upstream, **kwargs).body


def translate(upstream: ir.Protocol, client: ir.Protocol, chunks: list[bytes]) -> bytes:
    translator = convert.StreamTranslator(upstream, client, CTX)
    return b"".join(translator.feed(c) for c in chunks) + translator.finish()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(STREAMS), st.sampled_from(CLIENTS), st.lists(st.integers(0), max_size=30))
def test_any_split_gives_identical_output(stream, client, cuts):
    upstream, path = stream
    data = path.read_bytes() + b"\n\n"  # some recorded files lack the final blank line
    whole = translate(upstream, client, [data])
    assert whole
    assert translate(upstream, client, split(data, cuts)) == whole
    assert translate(upstream, client, [bytes([b]) for b in data[:400]] + [data[400:]]) == whole


@pytest.mark.parametrize(("upstream", "path"), STREAMS, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("client", CLIENTS)
def test_complete_streams_keep_text_calls_and_stop_reason(upstream, path, client):
    data = path.read_bytes() + b"\n\n"
    upstream_events = parse_stream(upstream, data)
    caller_events = parse_stream(client, translate(upstream, client, [data]))
    assert not any(isinstance(e, ir.StreamError) for e in caller_events)
    assert isinstance(caller_events[-1], ir.Finish)
    assert caller_events[-1].stop_reason == upstream_events[-1].stop_reason
    assert streamed_text(caller_events) == streamed_text(upstream_events)
    assert called_tools(caller_events) == called_tools(upstream_events)


def parse_stream(protocol: ir.Protocol, data: bytes) -> list[ir.Event]:
    parser = CODECS[protocol].StreamParser()
    return parser.feed(data) + parser.finish()


def streamed_text(events: list[ir.Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, ir.BlockDelta) and e.kind == "text")


def called_tools(events: list[ir.Event]) -> list[str]:
    return [
        e.part.name
        for e in events
        if isinstance(e, ir.BlockStart) and isinstance(e.part, ir.ToolCall)
    ]


@pytest.mark.parametrize("client", CLIENTS)
def test_truncated_upstream_stream_ends_in_an_error(client):
    data = (SPEC / "anthropic" / "stream_text.sse").read_bytes()
    cut = data[: data.index(b"message_delta")]
    out = translate("anthropic", client, [cut])
    assert b"error" in out
    assert b"stream ended before" in out


def test_fail_renders_an_error_once_and_stops():
    translator = convert.StreamTranslator("openai_chat", "anthropic", CTX)
    first = translator.fail("boom")
    assert b"event: error" in first and b"boom" in first
    assert translator.fail("again") == b""
    assert translator.feed(b'data: {"x": 1}\n\n') == b""
    assert translator.finish() == b""


def test_unmapped_source_fields_are_refused_by_name():
    req = convert.parse_request(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "modalities": ["audio"]},
        "openai_chat",
    )
    with pytest.raises(TranslationError) as caught:
        render(req, "anthropic", model="claude-x")
    assert caught.value.param == "modalities"


@pytest.mark.parametrize(
    ("upstream", "hint", "value"),
    [
        ("openai_chat", "top_k", 64),  # gemini-cli's topK toward OpenAI
        ("anthropic", "seed", 7),
        ("anthropic", "frequency_penalty", 0.5),
        ("openai_responses", "presence_penalty", 0.1),
    ],
)
def test_sampling_hints_the_target_lacks_are_dropped_and_reported(upstream, hint, value):
    req = convert.parse_request(CHAT_HI, "openai_chat") if hint != "top_k" else gemini_hi()
    setattr(req, hint, value)
    rendered = convert.render_request(req, upstream, model="m")
    assert hint in rendered.dropped
    assert hint not in orjson.loads(rendered.body)


def test_logit_bias_is_dropped_and_reported():
    body = {**CHAT_HI, "logit_bias": {"1": 2}}
    rendered = convert.render_request(
        convert.parse_request(body, "openai_chat"), "gemini", model="g"
    )
    assert rendered.dropped == ("logit_bias",)


def test_a_strict_model_refuses_what_would_be_dropped():
    req = gemini_hi()
    req.top_k = 64
    with pytest.raises(TranslationError) as caught:
        convert.render_request(req, "openai_chat", model="m", strict=True)
    assert caught.value.param == "top_k" and "strict" in caught.value.message


CHAT_HI = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def gemini_hi() -> ir.Request:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    return convert.parse_request(body, "gemini", model="gemini-x")


def test_droppable_fields_are_dropped_and_same_protocol_keeps_them():
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "store": False}
    out = orjson.loads(render(convert.parse_request(body, "openai_chat"), "gemini", model="g"))
    assert "store" not in orjson.dumps(out).decode()
    same = orjson.loads(
        render(convert.parse_request(body, "openai_chat"), "openai_chat", model="m")
    )
    assert same["store"] is False


def test_default_max_tokens_from_rules_only_when_caller_gave_none():
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    out = orjson.loads(
        render(
            convert.parse_request(body, "openai_chat"),
            "anthropic",
            model="c",
            default_max_tokens=777,
        )
    )
    assert out["max_tokens"] == 777
    out = orjson.loads(
        render(
            convert.parse_request(body, "openai_chat"), "gemini", model="g", default_max_tokens=777
        )
    )
    assert "maxOutputTokens" not in out.get("generationConfig", {})  # only where required
    body["max_tokens"] = 0
    out = orjson.loads(
        render(
            convert.parse_request(body, "openai_chat"), "gemini", model="g", default_max_tokens=777
        )
    )
    assert out["generationConfig"]["maxOutputTokens"] == 0  # explicit 0 is a value


def test_foreign_thinking_state_is_stripped():
    req = ir.Request(
        model="m",
        source="anthropic",
        messages=[
            ir.Message("user", [ir.Text("q")]),
            ir.Message(
                "assistant",
                [
                    ir.Thinking("thought", signature="sig", origin="anthropic"),
                    ir.Thinking(redacted="data", origin="anthropic"),
                    ir.ToolCall("c1", "f", "{}", signature="gsig"),
                ],
            ),
            ir.Message("tool", [ir.ToolResult("c1", [ir.Text("ok")], name="f")]),
        ],
    )
    sent = render(req, "gemini", model="g")
    assert b"sig" not in sent.replace(b"gsig", b"") and b"data" not in sent
    assert b"gsig" in sent  # a Gemini signature goes back to Gemini
    req.messages[1].parts.append(ir.Text("x"))
    assert b"gsig" not in render(req, "openai_chat", model="o")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"extra_content": {}}',
        b'{"signature":"gemini:abc"}',
        b'{"signature": "gemini:abc"}',
        b'{"thoughtSignature": "YW50aHJvcGljOmFiYw=="}',
        b'{"thoughtSignature": "YW50aHJvcGljLXJlZGFjdGVkOmFiYw=="}',
        b'{"thoughtSignature": "b3BlbmFpX2NoYXQ6"}',
    ],
)
def test_gateway_state_markers(raw):
    assert convert.carries_gateway_state(raw)


def test_user_text_mentioning_a_prefix_is_not_gateway_state():
    text = b'{"messages": [{"role": "user", "content": "see gemini: and anthropic: docs"}]}'
    assert not convert.carries_gateway_state(text)


def test_invalid_json_body_is_a_translation_error():
    with pytest.raises(TranslationError) as caught:
        convert.load_json(b"{nope")
    assert caught.value.param == "body"
    with pytest.raises(TranslationError):
        convert.load_json(b"[1, 2]")


LONG = "mcp__github__create_or_update_file_contents_in_repository_with_commit"  # 69 chars


def test_tool_names_fitted_for_the_upstream_and_mapped_back():
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [
            {"name": LONG, "input_schema": {"type": "object"}},
            {"name": "ok_name", "input_schema": {"type": "object"}},
        ],
        "tool_choice": {"type": "tool", "name": LONG},
        "max_tokens": 10,
    }
    req = convert.parse_request(body, "anthropic")
    rendered = convert.render_request(req, "openai_chat", model="gpt")
    sent, names = rendered.body, rendered.tool_names
    sent_tools = [t["function"]["name"] for t in orjson.loads(sent)["tools"]]
    assert len(sent_tools[0]) == 64 and sent_tools[1] == "ok_name"
    assert names == {sent_tools[0]: LONG}
    assert orjson.loads(sent)["tool_choice"]["function"]["name"] == sent_tools[0]

    answer = orjson.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": sent_tools[0], "arguments": "{}"},
                            }
                        ],
                    },
                }
            ],
        }
    )
    ctx = ir.RenderContext(model="m", created=1, request_id="r", tool_names=names)
    out = orjson.loads(convert.translate_response(answer, "openai_chat", "anthropic", ctx).body)
    assert out["content"][0]["name"] == LONG

    stream = (
        b"".join(
            b"data: " + orjson.dumps(c) + b"\n\n"
            for c in [
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt",
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "role": "assistant",
                                "tool_calls": [
                                    {
                                        "index": 0,
                                        "id": "call_1",
                                        "type": "function",
                                        "function": {"name": sent_tools[0], "arguments": "{}"},
                                    }
                                ],
                            },
                            "finish_reason": None,
                        }
                    ],
                },
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
                },
            ]
        )
        + b"data: [DONE]\n\n"
    )
    translator = convert.StreamTranslator("openai_chat", "anthropic", ctx)
    rendered = translator.feed(stream) + translator.finish()
    assert LONG.encode() in rendered and sent_tools[0].encode() not in rendered


@pytest.mark.parametrize(
    ("name", "upstream", "changed"),
    [
        ("get_weather", "openai_chat", False),
        ("ns.tool", "openai_chat", True),
        ("ns.tool", "gemini", False),
        ("9lives", "gemini", True),
        (".x", "gemini", True),
        ("x" * 100, "anthropic", False),
    ],
)
def test_fit_tool_name(name, upstream, changed):
    fitted = convert.fit_tool_name(name, upstream)
    assert (fitted != name) is changed
    assert fitted == convert.fit_tool_name(name, upstream)  # stable across requests


@pytest.mark.parametrize("client", ["anthropic", "gemini"])
def test_parallel_openai_calls_are_not_held_until_the_end(client):
    """The second of parallel OpenAI calls must reach sequential-block (Anthropic) and
    whole-call (Gemini) callers while it streams, not at the end of the response (peer
    gateways hold it back until the finish)."""
    data = (SPEC / "openai_chat" / "stream_parallel_tool_calls.sse").read_bytes()
    frames = [f + b"\n\n" for f in data.split(b"\n\n") if f.strip()]
    translator = convert.StreamTranslator("openai_chat", client, CTX)
    before_finish = b"".join(translator.feed(f) for f in frames[:-3])
    if client == "anthropic":
        assert before_finish.count(b'"type":"tool_use"') == 2
    else:
        assert before_finish.count(b'"functionCall"') == 1  # the first, whole, as Gemini sends


@pytest.mark.parametrize("client", ["anthropic", "gemini", "openai_chat"])
def test_a_call_cut_off_by_max_tokens_is_not_a_502(client):
    answer = orjson.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length",
                    "message": {
                        "role": "assistant",
                        "content": "Let me",
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"x": "ab'},
                            }
                        ],
                    },
                }
            ],
        }
    )
    out = convert.translate_response(answer, "openai_chat", client, CTX).body.decode()
    assert "Let me" in out
    assert {"anthropic": '"max_tokens"', "gemini": '"MAX_TOKENS"', "openai_chat": '"length"'}[
        client
    ] in out
    assert (client == "openai_chat") == ("call_1" in out)


def test_gemini_cached_content_is_refused_not_dropped_for_other_providers():
    body = {"contents": [{"parts": [{"text": "hi"}]}], "cachedContent": "cachedContents/abc"}
    req = convert.parse_request(body, "gemini", model="g", stream=False)
    with pytest.raises(TranslationError) as caught:
        convert.render_request(req, "anthropic", model="claude-x")
    assert caught.value.param == "cachedContent"


def test_max_tokens_field_for_openai_compatible_servers():
    body = {"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    req = convert.parse_request(body, "anthropic")
    sent = orjson.loads(
        render(req, "openai_chat", model="deepseek-chat", max_tokens_field="max_tokens")
    )
    assert sent["max_tokens"] == 50 and "max_completion_tokens" not in sent
    req = convert.parse_request(body, "anthropic")
    sent = orjson.loads(render(req, "openai_chat", model="gpt-5"))
    assert sent["max_completion_tokens"] == 50 and "max_tokens" not in sent


# ----------------------------------------------------------- OpenAI Responses callers
# The policy convert applies for a Responses caller (Codex) on other providers: namespace
# and custom tools as plain functions and back, hosted tools dropped and reported, and
# provider state sealed into reasoning items and opened on the next turn.

from tests.responses_grammar import validate_sse  # noqa: E402
from translators import sealing  # noqa: E402

KEY = b"gateway-key"
PATCH = "*** Begin Patch\n*** Update File: a.py\n@@\n-x = 1\n+x = 2\n*** End Patch\n"
CODEX_TOOLS = [
    {
        "type": "function",
        "name": "shell",
        "description": "Runs a command",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "array", "items": {"type": "string"}}},
            "required": ["command"],
        },
    },
    {
        "type": "namespace",
        "name": "mcp__github",
        "description": "GitHub tools",
        "tools": [
            {
                "type": "function",
                "name": "get_issue",
                "description": "Read an issue",
                "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
            }
        ],
    },
    {
        "type": "custom",
        "name": "apply_patch",
        "description": "Edit files",
        "format": {"type": "grammar", "syntax": "lark", "definition": "start: patch"},
    },
    {"type": "web_search"},
]


def codex_body(history: list[dict], model: str = "claude-sonnet-4-5") -> dict:
    """What Codex sends: no item ids, store false, encrypted reasoning asked for."""
    return {
        "model": model,
        "instructions": "You are Codex.",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "fix a.py"}],
            },
            *history,
        ],
        "tools": CODEX_TOOLS,
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "conversation-1",
        "text": {"verbosity": "low"},
        "metadata": {"k": "v"},
        "client_metadata": {"originator": "codex"},
    }


def codex_history(output: list[dict]) -> list[dict]:
    """Codex keeps the done items and sends them back without ids or status."""
    return [{k: v for k, v in item.items() if k not in ("id", "status")} for item in output]


def responses_ctx(rendered: convert.Rendered, provider: str) -> ir.RenderContext:
    return ir.RenderContext(
        model="claude-sonnet-4-5",
        created=1,
        request_id=f"req-{provider}",
        tool_names=rendered.tool_names,
        json_tool=rendered.json_tool,
        tool_origins=rendered.tool_origins,
        state_key=KEY,
        provider=provider,
    )


def anthropic_sse(blocks: list[dict], stop: str) -> bytes:
    events: list[dict] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude",
                "content": [],
                "usage": {"input_tokens": 20, "output_tokens": 1},
            },
        }
    ]
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "thinking":
            start = {"type": "thinking", "thinking": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": block["thinking"]},
                {"type": "signature_delta", "signature": block["signature"]},
            ]
        elif kind == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": orjson.dumps(block["input"]).decode()}
            ]
        else:
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": block["text"]}]
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 30}}
    )
    events.append({"type": "message_stop"})
    return b"".join(
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events
    )


def codex_turn_on_anthropic(history: list[dict], answer: bytes) -> tuple[dict, list[dict]]:
    """One Codex turn against Claude: the body Claude gets, and the items Codex keeps."""
    req = convert.parse_request(codex_body(history), "openai_responses")
    rendered = convert.render_request(
        req,
        "anthropic",
        model="claude-sonnet-4-5",
        default_max_tokens=16000,
        state_key=KEY,
        provider="anthropic",
    )
    translator = convert.StreamTranslator(
        "anthropic", "openai_responses", responses_ctx(rendered, "anthropic")
    )
    final = validate_sse(translator.feed(answer) + translator.finish())
    return orjson.loads(rendered.body), final["output"]


def test_responses_is_supported_with_every_protocol():
    protocols: list[ir.Protocol] = ["openai_chat", "openai_responses", "anthropic", "gemini"]
    assert all(convert.supported(a, b) for a in protocols for b in protocols)


def test_bug16_metadata_and_client_metadata_never_reach_other_upstreams():
    for upstream in ("anthropic", "gemini", "openai_chat"):
        req = convert.parse_request(codex_body([]), "openai_responses")
        rendered = convert.render_request(req, upstream, model="m", default_max_tokens=4096)
        sent = orjson.loads(rendered.body)
        assert "client_metadata" not in rendered.body.decode()
        assert sent.get("metadata") is None or "k" not in sent["metadata"]
        assert {"metadata", "client_metadata"} <= set(rendered.dropped)
        # Claude runs web search itself; Gemini cannot beside function tools, nor Chat.
        searched = upstream == "anthropic"
        assert ("tools.web_search" in rendered.dropped) is not searched


def test_namespace_and_custom_tools_become_plain_functions():
    req = convert.parse_request(codex_body([]), "openai_responses")
    rendered = convert.render_request(req, "anthropic", model="m", default_max_tokens=4096)
    tools = {t["name"]: t for t in orjson.loads(rendered.body)["tools"]}
    assert set(tools) == {"shell", "mcp__github__get_issue", "apply_patch", "web_search"}
    assert tools["web_search"] == {"type": "web_search_20250305", "name": "web_search"}
    assert tools["apply_patch"]["input_schema"] == convert.CUSTOM_INPUT_SCHEMA
    assert "lark grammar:\nstart: patch" in tools["apply_patch"]["description"]
    assert (
        tools["mcp__github__get_issue"]["description"]
        == "[mcp__github: GitHub tools] Read an issue"
    )
    assert rendered.tool_origins == {
        "mcp__github__get_issue": ir.ToolOrigin("get_issue", "mcp__github", "function"),
        "apply_patch": ir.ToolOrigin("apply_patch", None, "custom"),
    }


def test_namespaced_names_cannot_collide_and_are_fitted():
    body = codex_body([])
    body["tools"] = [
        {"type": "function", "name": "ns__f", "parameters": {}},
        {
            "type": "namespace",
            "name": "ns",
            "description": "",
            "tools": [{"type": "function", "name": "f"}],
        },
        {
            "type": "namespace",
            "name": "a.b" * 30,
            "description": "",
            "tools": [{"type": "function", "name": "g"}],
        },
    ]
    req = convert.parse_request(body, "openai_responses")
    rendered = convert.render_request(req, "openai_chat", model="m")
    names = [t["function"]["name"] for t in orjson.loads(rendered.body)["tools"]]
    assert names[0] == "ns__f" and names[1].startswith("ns__f_") and len(set(names)) == 3
    assert all(len(n) <= 64 and "." not in n for n in names)
    assert rendered.tool_origins[names[1]] == ir.ToolOrigin("f", "ns")
    assert rendered.tool_origins[names[2]] == ir.ToolOrigin("g", "a.b" * 30)
    assert rendered.tool_names == {}


def test_forcing_a_hosted_tool_is_refused_but_the_tool_alone_is_dropped():
    body = codex_body([])
    body["tool_choice"] = {"type": "web_search"}
    req = convert.parse_request(body, "openai_responses")
    with pytest.raises(TranslationError) as err:
        convert.render_request(req, "gemini", model="gemini-2.5-pro")
    assert err.value.param == "tool_choice"


def test_bug09_bug10_whole_answer_restores_namespace_and_custom_calls():
    req = convert.parse_request(codex_body([]), "openai_responses")
    rendered = convert.render_request(req, "anthropic", model="m", default_max_tokens=4096)
    answer = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "mcp__github__get_issue",
                "input": {"n": 7},
            },
            {"type": "tool_use", "id": "toolu_2", "name": "apply_patch", "input": {"input": PATCH}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    out = convert.translate_response(
        orjson.dumps(answer), "anthropic", "openai_responses", responses_ctx(rendered, "anthropic")
    )
    items = orjson.loads(out.body)["output"]
    assert (items[0]["type"], items[0]["namespace"], items[0]["name"]) == (
        "function_call",
        "mcp__github",
        "get_issue",
    )
    assert items[0]["arguments"] == '{"n":7}'
    assert (items[1]["type"], items[1]["name"], items[1]["input"]) == (
        "custom_tool_call",
        "apply_patch",
        PATCH,
    )
    assert "namespace" not in items[1]


def test_bug04_codex_tool_loop_on_claude_replays_signed_thinking():
    """Three turns: each answer's signed thinking comes back to Claude byte for byte,
    though Codex sends no ids, and the custom call goes back wrapped for Claude."""
    first = anthropic_sse(
        [
            {"type": "thinking", "thinking": "Need to edit a.py.", "signature": "SIG-ONE"},
            {"type": "tool_use", "id": "toolu_1", "name": "apply_patch", "input": {"input": PATCH}},
        ],
        "tool_use",
    )
    sent, output = codex_turn_on_anthropic([], first)
    assert "thinking" in sent and "metadata" not in sent
    assert [i["type"] for i in output] == ["reasoning", "custom_tool_call"]
    assert output[1]["input"] == PATCH
    history = [
        *codex_history(output),
        {"type": "custom_tool_call_output", "call_id": "toolu_1", "output": "Done!"},
    ]
    second = anthropic_sse(
        [
            {"type": "thinking", "thinking": "Now run the tests.", "signature": "SIG-TWO"},
            {
                "type": "tool_use",
                "id": "toolu_2",
                "name": "shell",
                "input": {"command": ["pytest"]},
            },
        ],
        "tool_use",
    )
    sent, output = codex_turn_on_anthropic(history, second)
    assistant = sent["messages"][1]
    assert assistant == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Need to edit a.py.", "signature": "SIG-ONE"},
            {"type": "tool_use", "id": "toolu_1", "name": "apply_patch", "input": {"input": PATCH}},
        ],
    }
    assert sent["messages"][2]["content"][0]["tool_use_id"] == "toolu_1"
    history += [
        *codex_history(output),
        {"type": "function_call_output", "call_id": "toolu_2", "output": "1 passed"},
    ]
    sent, _ = codex_turn_on_anthropic(
        history, anthropic_sse([{"type": "text", "text": "ok"}], "end_turn")
    )
    signatures = [
        block["signature"]
        for message in sent["messages"]
        if message["role"] == "assistant"
        for block in message["content"]
        if block["type"] == "thinking"
    ]
    assert signatures == ["SIG-ONE", "SIG-TWO"]


def test_bug07_tampered_or_foreign_encrypted_content_is_never_forwarded():
    good = sealing.seal(
        KEY, "anthropic", {"thinking": [{"origin": "anthropic", "text": "t", "signature": "S"}]}
    )
    foreign = sealing.seal(
        KEY, "gemini-prov", {"thinking": [{"origin": "gemini", "text": "t", "signature": "G"}]}
    )
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for blob, kept in ((good, True), (tampered, False), (foreign, False), ("gAAAAABopenai", False)):
        history = [
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "t"}],
                "encrypted_content": blob,
            },
            {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "x"},
        ]
        req = convert.parse_request(codex_body(history), "openai_responses")
        rendered = convert.render_request(
            req,
            "anthropic",
            model="m",
            default_max_tokens=4096,
            state_key=KEY,
            provider="anthropic",
        )
        assert (b'"signature":"S"' in rendered.body) is kept
        assert blob.encode() not in rendered.body
        assert sealing.PREFIX.encode() not in rendered.body


def test_sealed_state_is_dropped_even_when_the_addon_gives_no_key():
    blob = sealing.seal(
        KEY, "anthropic", {"thinking": [{"origin": "anthropic", "text": "t", "signature": "S"}]}
    )
    history = [{"type": "reasoning", "summary": [], "encrypted_content": blob}]
    for upstream in ("anthropic", "openai_responses"):
        req = convert.parse_request(codex_body(history), "openai_responses")
        body = convert.render_request(req, upstream, model="m", default_max_tokens=4096).body
        assert blob.encode() not in body


def test_bug08_gemini_call_signature_survives_a_codex_turn_without_ids():
    path = SPEC / "gemini" / "stream_gemini3_function_call.jsonl"
    answer = b"".join(
        b"data: " + line + b"\r\n\r\n" for line in path.read_bytes().splitlines() if line.strip()
    )
    signature = orjson.loads(path.read_bytes().splitlines()[0])["candidates"][0]["content"][
        "parts"
    ][0]["thoughtSignature"]
    body = codex_body([], model="gemini-3-pro-preview")
    req = convert.parse_request(body, "openai_responses")
    rendered = convert.render_request(
        req, "gemini", model="gemini-3-pro-preview", state_key=KEY, provider="gemini"
    )
    translator = convert.StreamTranslator(
        "gemini", "openai_responses", responses_ctx(rendered, "gemini")
    )
    output = validate_sse(translator.feed(answer) + translator.finish())["output"]
    call = output[-1]
    history = [
        *codex_history(output),
        {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"},
    ]
    req = convert.parse_request(codex_body(history, "gemini-3-pro-preview"), "openai_responses")
    sent = orjson.loads(
        convert.render_request(
            req, "gemini", model="gemini-3-pro-preview", state_key=KEY, provider="gemini"
        ).body
    )
    model_turn = next(c for c in sent["contents"] if c["role"] == "model")
    assert model_turn["parts"] == [
        {
            "functionCall": {"name": "weather", "args": {"location": "San Francisco"}},
            "thoughtSignature": signature,
        }
    ]


def test_namespace_and_custom_calls_go_back_to_gemini_as_their_functions():
    history = [
        {
            "type": "function_call",
            "call_id": "c1",
            "namespace": "mcp__github",
            "name": "get_issue",
            "arguments": '{"n":1}',
        },
        {"type": "function_call_output", "call_id": "c1", "output": "issue text"},
        {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": PATCH},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "Done!"},
    ]
    req = convert.parse_request(codex_body(history, "gemini-2.5-pro"), "openai_responses")
    sent = orjson.loads(convert.render_request(req, "gemini", model="gemini-2.5-pro").body)
    calls = [p["functionCall"] for c in sent["contents"] for p in c["parts"] if "functionCall" in p]
    results = [
        p["functionResponse"]["name"]
        for c in sent["contents"]
        for p in c["parts"]
        if "functionResponse" in p
    ]
    assert calls == [
        {"name": "mcp__github__get_issue", "args": {"n": 1}, "id": "c1"},
        {"name": "apply_patch", "args": {"input": PATCH}, "id": "c2"},
    ]
    assert results == ["mcp__github__get_issue", "apply_patch"]


def test_sealed_blobs_mark_a_same_protocol_body_for_re_rendering():
    blob = sealing.seal(KEY, "anthropic", {"x": 1})
    assert convert.carries_gateway_state(orjson.dumps({"encrypted_content": blob}))
    assert not convert.carries_gateway_state(b'{"encrypted_content": "gAAAAABopenai"}')


def test_bug11_upstream_error_reaches_a_responses_caller_as_an_sdk_error():
    body = b'{"type":"error","error":{"type":"rate_limit_error","message":"Slow down."}}'
    status, out, _ = convert.translate_error(429, body, "anthropic", "openai_responses")
    assert status == 429
    assert orjson.loads(out)["error"] == {
        "message": "Slow down.",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }


def test_bug12_a_cut_upstream_stream_is_response_failed_for_a_responses_caller():
    data = anthropic_sse([{"type": "text", "text": "partial answer"}], "end_turn")
    cut = data[: data.index(b"content_block_stop")]
    translator = convert.StreamTranslator(
        "anthropic", "openai_responses", responses_ctx(convert.Rendered(b"", {}, None), "anthropic")
    )
    raw = translator.feed(cut) + translator.finish()
    final = validate_sse(raw)
    assert final["status"] == "failed" and translator.error


def test_responses_token_count_is_estimated_in_its_own_shape():
    out = orjson.loads(
        convert.estimate_token_count(
            {"model": "m", "input": "Tell me a joke."}, "openai_responses", model=None
        ).body
    )
    assert out["object"] == "response.input_tokens" and out["input_tokens"] > 0


def test_the_store_gets_the_final_response_and_the_stored_state_helpers():
    data = anthropic_sse([{"type": "text", "text": "hello"}], "end_turn")
    context = responses_ctx(convert.Rendered(b"", {}, None), "anthropic")
    translator = convert.StreamTranslator("anthropic", "openai_responses", context)
    cut = data.index(b"event: message_delta")
    translator.feed(data[:cut])
    assert translator.final_response is None
    translator.feed(data[cut:])
    translator.finish()
    final = translator.final_response
    assert final is not None and final["status"] == "completed"
    assert final["id"] == convert.responses_id(context.request_id)
    assert convert.StreamTranslator("anthropic", "openai_chat", context).final_response is None
    body = {"model": "m", "previous_response_id": final["id"], "input": "next"}
    assert convert.responses_references(body).previous_response_id == final["id"]
    resolved = convert.resolve_responses_references(body, history=final["output"])
    assert resolved["input"][0] == final["output"][0]


# ------------------------------------------------- callers of every format on Responses


def test_chat_caller_on_a_responses_model_gets_openai_reasoning_back_next_turn():
    answer = {
        "id": "resp_1",
        "object": "response",
        "created_at": 5,
        "status": "completed",
        "model": "gpt-5",
        "output": [
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "plan"}],
                "encrypted_content": "gAAAAABsecret",
            },
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "call_1",
                "name": "lookup",
                "arguments": '{"q":"x"}',
                "status": "completed",
            },
        ],
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
            "output_tokens_details": {"reasoning_tokens": 3},
        },
    }
    request = {
        "model": "gpt-5",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q"}],
        "tools": [
            {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
        ],
        "reasoning_effort": "low",
    }
    sent = orjson.loads(
        render(convert.parse_request(request, "openai_chat"), "openai_responses", model="gpt-5")
    )
    assert sent["instructions"] == "Be brief." and sent["store"] is False
    assert sent["include"] == ["reasoning.encrypted_content"]
    assert sent["reasoning"] == {"effort": "low"}
    assert sent["tools"] == [
        {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    ]
    out = convert.translate_response(orjson.dumps(answer), "openai_responses", "openai_chat", CTX)
    message = orjson.loads(out.body)["choices"][0]["message"]
    assert out.usage == ir.Usage(10, 5, reasoning_tokens=3)
    assert orjson.loads(out.body)["choices"][0]["finish_reason"] == "tool_calls"
    request["messages"] += [
        message,
        {"role": "tool", "tool_call_id": "call_1", "content": "found"},
    ]
    sent = orjson.loads(
        render(convert.parse_request(request, "openai_chat"), "openai_responses", model="gpt-5")
    )
    assert sent["input"][1:] == [
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "plan"}],
            "encrypted_content": "gAAAAABsecret",
        },
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": '{"q":"x"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "found"},
    ]


def test_anthropic_and_gemini_callers_reach_a_responses_model():
    answer = (SPEC / "openai_responses" / "response_function_call.json").read_bytes()
    anthropic = orjson.loads(
        convert.translate_response(answer, "openai_responses", "anthropic", CTX).body
    )
    assert anthropic["stop_reason"] == "tool_use"
    assert anthropic["content"][0]["input"] == {"location": "Boston, MA", "unit": "celsius"}
    gemini = orjson.loads(
        convert.translate_response(answer, "openai_responses", "gemini", CTX).body
    )
    call = gemini["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert call["name"] == "get_current_weather"
    body = {
        "model": "claude-x",
        "max_tokens": 2000,
        "system": "sys",
        "thinking": {"type": "enabled", "budget_tokens": 1500},
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "claude's own", "signature": "SIG"},
                    {"type": "text", "text": "hello"},
                ],
            },
            {"role": "user", "content": "again"},
        ],
    }
    sent = orjson.loads(
        render(convert.parse_request(body, "anthropic"), "openai_responses", model="gpt-5")
    )
    assert sent["instructions"] == "sys" and sent["max_output_tokens"] == 2000
    assert sent["reasoning"] == {"effort": "medium", "summary": "auto"}  # Claude shows thinking
    assert [i["type"] for i in sent["input"]] == ["message", "message", "message"]
    assert b"SIG" not in orjson.dumps(sent)


def test_a_responses_upstream_stream_reaches_a_chat_caller():
    path = SPEC / "openai_responses" / "stream_reasoning_summary_then_function_call.jsonl"
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    data = b"".join(b"event: x\ndata: " + line + b"\n\n" for line in lines)
    out = translate("openai_responses", "openai_chat", [data])
    chunks = [orjson.loads(line[6:]) for line in out.splitlines() if line.startswith(b"data: {")]
    deltas = [ch["choices"][0]["delta"] for ch in chunks if ch["choices"]]
    calls = [c for delta in deltas for c in delta.get("tool_calls") or []]
    assert calls[0]["function"]["name"] == "calculator"
    arguments = "".join(c["function"].get("arguments", "") for c in calls)
    assert orjson.loads(arguments) == {"a": 12, "b": 7, "op": "add"}
    finish = [ch["choices"][0]["finish_reason"] for ch in chunks if ch["choices"]]
    assert finish[-1] == "tool_calls"
