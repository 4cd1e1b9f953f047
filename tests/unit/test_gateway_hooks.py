"""Each kind of exchange driven through the addon's hooks with mitmproxy's own test
helpers (``taddons``, ``tflow``): no sockets, the same objects mitmproxy would pass.

The kinds are those of ``addons.gateway_addon.Kind``: a native passthrough, a
same-protocol rewrite, a translated answer, a translated stream, and a local answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from mitmproxy import http
from mitmproxy.test import taddons, tflow, tutils

from addons.gateway_addon import Gateway, Kind
from addons.responses_state import ResponsesState
from addons.rules_file import RulesFile
from tests.fakes import canned
from translators import detect

OPENAI_KEY = "sk-openai-configured-1111"
ANTHROPIC_KEY = "sk-ant-configured-2222"

RULES = f"""
store: {{store}}
providers:
  openai: {{protocol: openai, base_url: "http://127.0.0.1:9/v1", api_key: "{OPENAI_KEY}"}}
  anthropic: {{protocol: anthropic, base_url: "http://127.0.0.1:8/", api_key: "{ANTHROPIC_KEY}"}}
  gemini: {{protocol: gemini, base_url: "http://127.0.0.1:7/"}}
models:
  - {{match: "gpt-*", provider: openai}}
  - {{match: "claude-*", provider: anthropic}}
  - {{match: "gemini-*", provider: gemini}}
  - {{match: "house-model", provider: openai, model: gpt-4.1-mini}}
"""

CHAT_BODY = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def gateway(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("{store}", str(tmp_path / "state.sqlite3")))
    rules_file = RulesFile()
    addon = Gateway(rules_file, ResponsesState())
    with taddons.context(rules_file, addon) as tctx:
        tctx.configure(rules_file, rules=str(path))
        yield addon


def flow_to_gateway(path: str, body: dict | bytes) -> tflow.HTTPFlow:
    """A request addressed to the proxy itself, as an SDK with base_url=proxy sends it."""
    flow = tflow.tflow()
    flow.client_conn.timestamp_tls_setup = None  # plain HTTP, not inside a tunnel
    flow.client_conn.sockname = ("127.0.0.1", 8080)
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    flow.request = tutils.treq(
        host="127.0.0.1", port=8080, path=path, method=b"POST", content=content, headers=()
    )
    return flow


def upstream_answers(flow: tflow.HTTPFlow, status: int, body: bytes, content_type: str) -> None:
    """What mitmproxy does when the upstream's headers arrive: set flow.response."""
    flow.response = http.Response.make(status, body, {"content-type": content_type})


def meta(flow: tflow.HTTPFlow) -> dict:
    return flow.metadata["gateway"]


def test_native_passthrough_forwards_the_callers_bytes_and_reads_usage(gateway):
    flow = flow_to_gateway("/v1/chat/completions", CHAT_BODY)
    sent = flow.request.content
    asyncio.run(gateway.request(flow))
    assert meta(flow)["kind"] == Kind.PASSTHROUGH.value
    assert flow.request.url == "http://127.0.0.1:9/v1/chat/completions"
    assert flow.request.content == sent
    assert flow.request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    answer = orjson.dumps(canned.openai_completion("gpt-4.1"))
    upstream_answers(flow, 200, answer, "application/json")
    gateway.responseheaders(flow)
    assert flow.response.stream is False  # whole answers are not streamed
    asyncio.run(gateway.response(flow))
    assert flow.response.content == answer  # untouched
    assert meta(flow)["tokens"]["in"] > 0
    assert flow.response.headers["x-request-id"] == meta(flow)["request_id"]


def test_native_passthrough_stream_is_streamed_untouched(gateway):
    flow = flow_to_gateway("/v1/chat/completions", {**CHAT_BODY, "stream": True})
    asyncio.run(gateway.request(flow))
    upstream_answers(flow, 200, b"", "text/event-stream")
    gateway.responseheaders(flow)
    # Streamed as is; a callable only to note the first byte (ttft_ms).
    assert callable(flow.response.stream)
    assert flow.response.stream(b"data: {}\n\n") == b"data: {}\n\n"
    assert flow.response.stream(b"") == []


def test_passthrough_renames_the_model_the_rules_map(gateway):
    flow = flow_to_gateway("/v1/chat/completions", {**CHAT_BODY, "model": "house-model"})
    asyncio.run(gateway.request(flow))
    assert meta(flow)["kind"] == Kind.PASSTHROUGH.value
    assert orjson.loads(flow.request.content)["model"] == "gpt-4.1-mini"


def test_same_protocol_body_carrying_another_providers_state_is_rewritten(gateway):
    body = {
        "model": "claude-x",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "gemini:c2ln"},
                    {"type": "text", "text": "hello"},
                ],
            },
            {"role": "user", "content": "again"},
        ],
    }
    flow = flow_to_gateway("/anthropic/v1/messages", body)
    asyncio.run(gateway.request(flow))
    assert meta(flow)["kind"] == Kind.REWRITTEN.value
    assert b"gemini:" not in flow.request.content  # Claude never sees Gemini's signature
    assert flow.request.url == "http://127.0.0.1:8/v1/messages"


def test_translated_answer_is_rendered_in_the_callers_format(gateway):
    flow = flow_to_gateway("/openai/v1/chat/completions", {**CHAT_BODY, "model": "claude-x"})
    asyncio.run(gateway.request(flow))
    assert meta(flow)["kind"] == Kind.TRANSLATED.value and meta(flow)["translated"] is True
    assert flow.request.url == "http://127.0.0.1:8/v1/messages"
    assert flow.request.headers["x-api-key"] == ANTHROPIC_KEY
    assert flow.request.headers["accept-encoding"] == "identity"
    upstream_answers(flow, 200, orjson.dumps(canned.anthropic_message("claude-x")), "x")
    gateway.responseheaders(flow)
    assert flow.response.stream is False  # buffered so response() can translate it
    asyncio.run(gateway.response(flow))
    answer = orjson.loads(flow.response.content)
    assert answer["object"] == "chat.completion" and answer["model"] == "claude-x"
    assert meta(flow)["tokens"]["out"] == answer["usage"]["completion_tokens"]


def test_translated_upstream_error_is_the_callers_error(gateway):
    flow = flow_to_gateway("/anthropic/v1/messages", {**CHAT_BODY, "max_tokens": 5})
    asyncio.run(gateway.request(flow))
    error = {"error": {"message": "slow down", "type": "rate_limit_error", "code": None}}
    upstream_answers(flow, 429, orjson.dumps(error), "application/json")
    gateway.responseheaders(flow)
    asyncio.run(gateway.response(flow))
    assert flow.response.status_code == 429
    body = orjson.loads(flow.response.content)
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"


def test_translated_stream_gets_the_callers_headers_and_events(gateway):
    body = {**CHAT_BODY, "model": "claude-x", "stream": True}
    flow = flow_to_gateway("/openai/v1/chat/completions", body)
    asyncio.run(gateway.request(flow))
    upstream_answers(flow, 200, b"", "text/event-stream")
    flow.response.headers["content-length"] = "999"
    gateway.responseheaders(flow)
    assert callable(flow.response.stream)
    assert "content-length" not in flow.response.headers
    assert flow.response.headers["content-type"] == "text/event-stream"
    out = b"".join(
        flow.response.stream(chunk) or b"" for chunk in canned.anthropic_stream("claude-x")
    )
    out += flow.response.stream(b"")
    assert out.startswith(b"data: {") and out.endswith(b"data: [DONE]\n\n")
    assert b'"chat.completion.chunk"' in out and b'"finish_reason":"stop"' in out


def test_gemini_caller_without_alt_sse_gets_a_json_array_stream(gateway):
    path = "/gemini/v1beta/models/claude-x:streamGenerateContent"
    flow = flow_to_gateway(path, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    asyncio.run(gateway.request(flow))
    upstream_answers(flow, 200, b"", "text/event-stream")
    gateway.responseheaders(flow)
    assert flow.response.headers["content-type"] == "application/json"


def test_cross_protocol_token_count_is_answered_locally(gateway):
    body = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hello there"}]}
    flow = flow_to_gateway("/anthropic/v1/messages/count_tokens", body)
    asyncio.run(gateway.request(flow))
    assert flow.response.status_code == 200
    assert orjson.loads(flow.response.content)["input_tokens"] > 0


def test_cross_protocol_token_count_goes_to_the_providers_counting_endpoint(gateway):
    body = {"model": "claude-x", "messages": [{"role": "user", "content": "hello there"}]}
    flow = flow_to_gateway("/gemini/v1beta/models/claude-x:countTokens", b"")
    flow.request.content = orjson.dumps({"contents": [{"parts": [{"text": "hello there"}]}]})
    asyncio.run(gateway.request(flow))
    assert meta(flow)["kind"] == Kind.TRANSLATED.value
    assert flow.request.url == "http://127.0.0.1:8/v1/messages/count_tokens"
    assert orjson.loads(flow.request.content) == {**body, "model": "claude-x"}
    upstream_answers(flow, 200, b'{"input_tokens": 3}', "application/json")
    gateway.responseheaders(flow)
    asyncio.run(gateway.response(flow))
    assert orjson.loads(flow.response.content)["totalTokens"] == 3
    assert meta(flow)["counted"] == 3


def test_a_count_answer_that_cannot_be_read_is_a_server_error_in_the_callers_format(gateway):
    body = {"model": "claude-x", "input": "hi"}
    flow = flow_to_gateway("/openai/v1/responses/input_tokens", body)
    asyncio.run(gateway.request(flow))
    upstream_answers(flow, 200, b"<html>", "text/html")
    gateway.responseheaders(flow)
    asyncio.run(gateway.response(flow))
    assert flow.response.status_code == 500  # the openai SDK's InternalServerError
    assert "could not be translated" in orjson.loads(flow.response.content)["error"]["message"]


def test_unknown_model_is_a_404_in_the_callers_format(gateway):
    flow = flow_to_gateway("/v1/chat/completions", {**CHAT_BODY, "model": "nope"})
    asyncio.run(gateway.request(flow))
    assert flow.response.status_code == 404
    assert "rules.yaml" in orjson.loads(flow.response.content)["error"]["message"]
    assert meta(flow)["kind"] == Kind.LOCAL.value


def test_guard_refuses_another_formats_body_on_a_native_route(gateway):
    chat_only = {"response_format": {"type": "json_object"}}
    flow = flow_to_gateway("/v1/messages", {**CHAT_BODY, "model": "claude-x", **chat_only})
    asyncio.run(gateway.request(flow))
    error = orjson.loads(flow.response.content)
    assert flow.response.status_code == 400
    assert "OpenAI Chat Completions" in error["error"]["message"]


def test_guard_refuses_a_model_of_another_protocol_on_a_native_route(gateway):
    flow = flow_to_gateway("/v1/chat/completions", {**CHAT_BODY, "model": "claude-x"})
    asyncio.run(gateway.request(flow))
    error = orjson.loads(flow.response.content)["error"]
    assert flow.response.status_code == 400 and error["code"] == "400"
    assert "/openai/v1/chat/completions" in error["message"]


def test_invalid_json_is_a_400_naming_the_body(gateway):
    flow = flow_to_gateway("/v1/chat/completions", b"{not json")
    asyncio.run(gateway.request(flow))
    assert flow.response.status_code == 400
    assert "not valid JSON" in orjson.loads(flow.response.content)["error"]["message"]


def test_a_hook_crash_is_a_500_in_the_callers_format(gateway, monkeypatch):
    monkeypatch.setattr(detect, "check", lambda body, expected: 1 / 0)
    flow = flow_to_gateway("/v1/messages", {**CHAT_BODY, "model": "claude-x"})
    asyncio.run(gateway.request(flow))
    body = orjson.loads(flow.response.content)
    assert flow.response.status_code == 500 and body["type"] == "error"
    assert meta(flow)["request_id"] in body["error"]["message"]


def test_error_hook_forgets_the_exchange(gateway):
    flow = flow_to_gateway("/v1/chat/completions", CHAT_BODY)
    asyncio.run(gateway.request(flow))
    flow.error = tflow.terr()
    gateway.error(flow)
    assert gateway._live == {}
