"""The addon's hooks driven by mitmproxy's own test helpers, without sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from mitmproxy.test import taddons, tflow, tutils

from addons.gateway_addon import Gateway, _stream_callable
from addons.responses_state import ResponsesState
from addons.rules_file import RulesFile
from translators import convert, ir

SECRET = "sk-configured-secret-1234"

RULES = f"""
providers:
  anthropic: {{protocol: anthropic, base_url: "http://127.0.0.1:9/", api_key: "{SECRET}"}}
models:
  - {{match: "claude-*", provider: anthropic}}
"""


@pytest.fixture
def addon(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    rules_file = RulesFile()
    gateway = Gateway(rules_file, ResponsesState())
    with taddons.context(rules_file, gateway) as tctx:
        tctx.configure(rules_file, rules=str(path))
        yield gateway


def gateway_flow(path: str, body: dict) -> tflow.HTTPFlow:
    """A request addressed to the proxy itself, as an SDK with base_url=proxy sends it."""
    flow = tflow.tflow()
    flow.client_conn.timestamp_tls_setup = None  # plain HTTP, not inside a tunnel
    flow.client_conn.sockname = ("127.0.0.1", 8080)
    flow.request = tutils.treq(
        host="127.0.0.1",
        port=8080,
        path=path,
        method=b"POST",
        content=orjson.dumps(body),
        headers=((b"authorization", b"Bearer caller-key"),),
    )
    return flow


def test_translated_request_and_annotation_without_secrets(addon):
    flow = gateway_flow(
        "/openai/v1/chat/completions",
        {"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]},
    )
    asyncio.run(addon.request(flow))
    assert flow.response is None
    assert flow.request.url == "http://127.0.0.1:9/v1/messages"
    assert flow.request.headers["x-api-key"] == SECRET
    assert "authorization" not in flow.request.headers
    assert orjson.loads(flow.request.content)["max_tokens"] > 0
    meta = flow.metadata["gateway"]
    assert meta["client"] == "openai_chat" and meta["upstream_protocol"] == "anthropic"
    assert meta["translated"] is True
    assert SECRET not in repr(flow.metadata) and "caller-key" not in repr(flow.metadata)


def test_local_error_answer_in_callers_format(addon):
    flow = gateway_flow("/v1/messages", {"model": "nope", "max_tokens": 5, "messages": []})
    asyncio.run(addon.request(flow))
    assert flow.response.status_code == 404
    assert orjson.loads(flow.response.content)["type"] == "error"


def test_browser_traffic_is_not_touched(addon):
    flow = tflow.tflow()  # an ordinary proxied request to some other host
    before = flow.request.copy()
    asyncio.run(addon.request(flow))
    assert flow.response is None and "gateway" not in flow.metadata
    assert flow.request.url == before.url and flow.request.headers == before.headers


def test_stream_callable_returns_a_list_while_waiting_and_bytes_at_the_end():
    ctx = ir.RenderContext(model="m", created=1, request_id="r")
    on_chunk = _stream_callable(convert.StreamTranslator("anthropic", "openai_chat", ctx), "r")
    assert on_chunk(b"event: message_st") == []  # never b"": that would end the response
    out = on_chunk(b"")
    assert isinstance(out, bytes) and b"error" in out  # cut off: an error, not silence


class ExplodingTranslator(convert.StreamTranslator):
    def feed(self, chunk: bytes) -> bytes:
        raise RuntimeError("codec bug")


def test_stream_callable_turns_a_crash_into_the_callers_stream_error():
    ctx = ir.RenderContext(model="m", created=1, request_id="req-9")
    on_chunk = _stream_callable(ExplodingTranslator("openai_chat", "anthropic", ctx), "req-9")
    out = on_chunk(b"data: {}\n\n")
    assert b"event: error" in out and b"req-9" in out
    assert on_chunk(b"more") == []


def test_a_failed_openai_stream_still_ends_with_done():
    ctx = ir.RenderContext(model="m", created=1, request_id="r")
    translator = convert.StreamTranslator("anthropic", "openai_chat", ctx)
    on_chunk = _stream_callable(translator, "r", client="openai_chat")
    on_chunk(b'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"x"}}\n\n')
    assert on_chunk(b"").endswith(b"data: [DONE]\n\n")
