"""Both sides of a gateway exchange, kept and shown in mitmweb: the hooks of
``flow_bodies`` around the gateway's (mitmproxy's ``taddons``/``tflow``, no sockets), and
the LLM content view through mitmproxy's own content-view machinery, whichever of
mitmproxy 11 or 12 is installed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from mitmproxy import contentviews, http
from mitmproxy.test import taddons, tflow, tutils

from addons import llm_text
from addons.flow_bodies import (
    CALLER_REQUEST,
    PROVIDER_ANSWER,
    PROVIDER_STATUS,
    KeepOriginals,
    KeepStreams,
)
from addons.gateway_addon import Gateway
from addons.llm_view import LLMViewAddon
from addons.responses_state import ResponsesState
from addons.rules_file import RulesFile

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"
OPENAI_KEY = "sk-openai-configured-1111"
MITMPROXY_12 = hasattr(contentviews, "Contentview")

RULES = f"""
store: {{store}}
providers:
  openai: {{protocol: openai, base_url: "http://127.0.0.1:9/v1", api_key: "{OPENAI_KEY}"}}
  anthropic: {{protocol: anthropic, base_url: "http://127.0.0.1:8/"}}
  gemini: {{protocol: gemini, base_url: "http://127.0.0.1:7/"}}
  codex: {{protocol: openai, base_url: "http://127.0.0.1:6/v1", api: responses}}
models:
  - {{match: "gpt-*", provider: openai}}
  - {{match: "claude-*", provider: anthropic}}
  - {{match: "gemini-*", provider: gemini}}
  - {{match: "codex-*", provider: codex}}
"""

HISTORY_TOOL_CALL = "get_weather"


class Hooks:
    """The addons in gateway.py's order, with their hooks called as mitmproxy calls them."""

    def __init__(self, tctx: taddons.context, addons: list) -> None:
        self.tctx = tctx
        self.keep, self.gateway, self.streams, self.view = addons

    def request(self, flow: http.HTTPFlow) -> None:
        self.keep.request(flow)
        asyncio.run(self.gateway.request(flow))
        self.streams.request(flow)

    def answer(self, flow: http.HTTPFlow, status: int, body: bytes, streamed_in: int = 7) -> None:
        """The upstream's answer arrives: headers, then the body whole or in pieces."""
        flow.response = http.Response.make(status, b"", {"content-type": "x"})
        if flow.response is not None and flow.response.status_code == status:
            flow.response.data.content = None  # only headers so far
        self.gateway.responseheaders(flow)
        self.streams.responseheaders(flow)
        if callable(flow.response.stream) or flow.response.stream is True:
            self._stream(flow, body, streamed_in)
        else:
            flow.response.content = body
        self.keep.response(flow)
        asyncio.run(self.gateway.response(flow))
        self.streams.response(flow)

    def _stream(self, flow: http.HTTPFlow, body: bytes, pieces: int) -> None:
        """mitmproxy's streaming loop; on 12 with store_streamed_bodies it keeps what was
        sent to the caller, as the HTTP layer does."""
        stream = flow.response.stream
        step = max(1, len(body) // pieces)
        sent = b""
        for chunk in [body[i : i + step] for i in range(0, len(body), step)] + [b""]:
            out = stream(chunk) if callable(stream) else chunk
            sent += out if isinstance(out, bytes) else b"".join(out)
        if getattr(self.tctx.options, "store_streamed_bodies", False):
            flow.response.data.content = sent


@pytest.fixture
def hooks(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("{store}", str(tmp_path / "state.sqlite3")))
    rules_file = RulesFile()
    keep = KeepOriginals()
    addons = [keep, Gateway(rules_file, ResponsesState()), KeepStreams(keep), LLMViewAddon()]
    with taddons.context(rules_file, *addons) as tctx:
        tctx.configure(rules_file, rules=str(path))
        addons[0].running()  # mitmproxy 12: store_streamed_bodies on
        yield Hooks(tctx, addons)


def flow_to_gateway(path: str, body: dict, headers: tuple = ()) -> http.HTTPFlow:
    flow = tflow.tflow()
    flow.client_conn.timestamp_tls_setup = None
    flow.client_conn.sockname = ("127.0.0.1", 8080)
    flow.request = tutils.treq(
        host="127.0.0.1",
        port=8080,
        path=path.encode(),
        method=b"POST",
        content=orjson.dumps(body),
        headers=headers,
    )
    return flow


def view(flow: http.HTTPFlow, message: http.Message) -> tuple[str, str]:
    """The view mitmproxy itself picks for the message ("auto"), and its text."""
    if MITMPROXY_12:
        result = contentviews.prettify_message(message, flow)
        return str(result.view_name), result.text
    name, lines, error = contentviews.get_message_content_view("auto", message, flow)
    assert error is None, error
    return name, "\n".join("".join(text for _, text in line) for line in lines)


# A tool loop and reasoning in each caller's own format, translated to another protocol,
# and answered by that protocol's recorded stream: (caller route, body, upstream stream
# fixture, what the reassembled answer must show).
CASES = {
    "anthropic caller, openai upstream": (
        "/anthropic/v1/messages",
        {
            "model": "gpt-4.1",
            "max_tokens": 300,
            "stream": True,
            "system": "Be brief.",
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": HISTORY_TOOL_CALL,
                            "input": {"city": "Paris"},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": "18 C and sunny",
                        }
                    ],
                },
            ],
        },
        SPEC / "openai_chat" / "stream_tool_call.sse",
        ['→ tool call get_weather {"city":"San Francisco","state":"CA"}'],
    ),
    "openai chat caller, anthropic upstream": (
        "/openai/v1/chat/completions",
        {
            "model": "claude-sonnet-4-5",
            "stream": True,
            "reasoning_effort": "high",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": HISTORY_TOOL_CALL,
                                "arguments": '{"city":"Paris"}',
                            },
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C and sunny"},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "get_weather", "parameters": {"type": "object"}},
                }
            ],
        },
        SPEC / "anthropic" / "stream_docs_extended_thinking.sse",
        ["(reasoning", "27 * 453 = 12,231"],
    ),
    "responses caller, gemini upstream": (
        "/openai/v1/responses",
        {
            "model": "gemini-2.5-flash",
            "stream": True,
            "store": False,
            "instructions": "Be brief.",
            "tools": [
                {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
            ],
            "input": [
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "type": "function_call",
                    "call_id": "call_1",
                    "name": HISTORY_TOOL_CALL,
                    "arguments": '{"city":"Paris"}',
                },
                {"type": "function_call_output", "call_id": "call_1", "output": "18 C and sunny"},
            ],
        },
        SPEC / "gemini" / "stream_parallel_function_calls_gemini25.sse",
        ['→ tool call sum {"a":2,"b":3}', '→ tool call sum {"a":6,"b":7}'],
    ),
    "gemini caller, responses upstream": (
        "/gemini/v1beta/models/codex-mini:streamGenerateContent?alt=sse",
        {
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "tools": [{"functionDeclarations": [{"name": "get_weather"}]}],
            "contents": [
                {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
                {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": HISTORY_TOOL_CALL, "args": {"city": "Paris"}}}
                    ],
                },
                {
                    "role": "user",
                    "parts": [
                        {
                            "functionResponse": {
                                "name": HISTORY_TOOL_CALL,
                                "response": {"result": "18 C and sunny"},
                            }
                        }
                    ],
                },
            ],
        },
        SPEC / "openai_responses" / "stream_spec_example.sse",
        ["Hi there! How can I assist you today?"],
    ),
}

NAMES = {
    "anthropic": "Anthropic Messages",
    "openai_chat": "OpenAI Chat Completions",
    "openai_responses": "OpenAI Responses",
    "gemini": "Gemini generateContent",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_translated_stream_shows_both_sides_reassembled(hooks, case):
    path, body, upstream_stream, answer_shows = CASES[case]
    flow = flow_to_gateway(path, body)
    hooks.request(flow)
    gw = flow.metadata["gateway"]
    assert gw["kind"] == "translated", flow.response and flow.response.content
    client, wire = NAMES[gw["client"]], NAMES[gw["upstream_protocol"]]
    assert orjson.loads(flow.metadata[CALLER_REQUEST]) == body  # decoded, as the caller sent it

    name, text = view(flow, flow.request)
    assert name == "LLM"
    caller, _, sent = text.partition(f"── gateway sent ({wire}) ──")
    assert f"── caller sent ({client}) ──" in caller and sent
    for side in (caller, sent):  # the conversation, tool call and result, on both sides
        assert "[system]" in side or "[developer]" in side
        assert "Weather in Paris?" in side and "Be brief." in side
        assert f"→ tool call {HISTORY_TOOL_CALL} " in side and "Paris" in side
        assert "18 C and sunny" in side

    raw = upstream_stream.read_bytes()
    hooks.answer(flow, 200, raw)
    assert flow.metadata[PROVIDER_ANSWER] == raw and flow.metadata[PROVIDER_STATUS] == 200
    assert flow.response.content  # what the caller received, kept on 11 and 12 alike
    name, text = view(flow, flow.response)
    assert name == "LLM"
    provider, _, received = text.partition(f"── caller received ({client}) ──")
    assert f"── provider answered ({wire}) ──" in provider and received
    for side in (provider, received):
        assert "(stream, reassembled)" in side
        for shown in answer_shows:
            assert shown in side
    assert flow.comment.startswith(text.splitlines()[0]) and flow.marked


def test_a_translated_error_keeps_the_providers_answer_without_the_key(hooks):
    flow = flow_to_gateway(
        "/anthropic/v1/messages",
        {"model": "gpt-4.1", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
    )
    hooks.request(flow)
    echoed = {
        "error": {
            "message": f"Incorrect API key provided: {OPENAI_KEY}",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    hooks.answer(flow, 401, orjson.dumps(echoed))
    kept = flow.metadata[PROVIDER_ANSWER]
    assert OPENAI_KEY.encode() not in kept and b"[redacted]" in kept
    _, text = view(flow, flow.response)
    assert "── provider answered (OpenAI Chat Completions) ──\nerror 401 authentication" in text
    assert "── caller received (Anthropic Messages) ──\nerror 401 authentication" in text
    assert OPENAI_KEY not in text and OPENAI_KEY not in flow.comment
    assert flow.marked == ":x:"


def test_a_passthrough_keeps_no_copy_and_shows_one_side(hooks):
    body = {"model": "gpt-4.1", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    flow = flow_to_gateway("/v1/chat/completions", body)
    hooks.request(flow)
    hooks.answer(flow, 200, (SPEC / "openai_chat" / "stream_text_with_usage.sse").read_bytes())
    assert CALLER_REQUEST not in flow.metadata and PROVIDER_ANSWER not in flow.metadata
    _, text = view(flow, flow.request)
    assert "── caller sent = gateway sent (OpenAI Chat Completions) ──\nmodel: gpt-4.1" in text
    _, text = view(flow, flow.response)  # the stream was kept for viewing (11: by us)
    assert "provider answered = caller received" in text
    assert "I'm unable to provide real-time weather updates." in text
    assert flow.comment.startswith(
        "openai → openai · gpt-4.1 · 200 · "
    )  # a native stream is not parsed
    assert flow.marked == ":arrow_right:"


def test_a_local_answer_shows_what_the_gateway_answered(hooks):
    flow = flow_to_gateway("/v1/chat/completions", {"model": "nope", "messages": []})
    hooks.request(flow)
    asyncio.run(hooks.gateway.response(flow))
    _, text = view(flow, flow.response)
    assert "── gateway answered (OpenAI Chat Completions) ──\nerror 404 not_found" in text


def test_flows_the_gateway_did_not_handle_keep_their_usual_view(hooks):
    flow = tflow.tflow(resp=True)
    flow.request.headers["content-type"] = "application/json"
    flow.request.content = b'{"a": 1}'
    name, _ = view(flow, flow.request)
    assert name != "LLM"


def test_the_stream_keeper_stops_at_the_limit(hooks):
    hooks.tctx.options.gateway_keep_bytes = 100
    flow = flow_to_gateway(
        "/anthropic/v1/messages",
        {
            "model": "gpt-4.1",
            "max_tokens": 5,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    hooks.request(flow)
    hooks.answer(flow, 200, (SPEC / "openai_chat" / "stream_text_with_usage.sse").read_bytes())
    assert len(flow.metadata[PROVIDER_ANSWER]) == 100
    assert "gateway_provider_answer was cut" in view(flow, flow.response)[1]


def test_a_body_no_codec_reads_is_shown_with_the_reason():
    text = llm_text.request_text(b'{"messages": 3}', "openai_chat")
    assert text.startswith("(not readable as OpenAI Chat Completions:") and '"messages": 3' in text


def test_a_stream_that_breaks_keeps_what_arrived(hooks):
    flow = flow_to_gateway(
        "/anthropic/v1/messages",
        {
            "model": "gpt-4.1",
            "max_tokens": 5,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    hooks.request(flow)
    flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
    hooks.gateway.responseheaders(flow)
    hooks.streams.responseheaders(flow)
    first = (SPEC / "openai_chat" / "stream_text_with_usage.sse").read_bytes()[:300]
    flow.response.stream(first)
    flow.error = flow_error = tflow.terr()
    hooks.keep.error(flow)
    hooks.gateway.error(flow)
    hooks.streams.error(flow)
    assert flow.metadata[PROVIDER_ANSWER] == first
    assert flow.marked == ":x:" and f"error: {flow_error.msg}" in flow.comment
    _, text = view(flow, flow.response)
    assert "── provider answered (OpenAI Chat Completions) ──\n(stream, reassembled)" in text
