"""The pipeline across codecs: any split of an upstream stream gives the same caller bytes
for every pair, cross-protocol policy, and streams that end badly."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators import convert, ir
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
def test_complete_streams_end_without_error(upstream, path, client):
    out = translate(upstream, client, [path.read_bytes() + b"\n\n"])
    assert b'"error"' not in out


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
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"1": 2}},
        "openai_chat",
    )
    with pytest.raises(TranslationError) as caught:
        render(req, "anthropic", model="claude-x")
    assert caught.value.param == "logit_bias"


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
    """PEER-BUGS #3/#4: the second call must reach sequential-block (Anthropic) and
    whole-call (Gemini) callers while it streams, not at the end of the response."""
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
