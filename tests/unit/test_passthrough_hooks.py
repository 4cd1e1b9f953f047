"""addons/passthrough.py through its hooks (taddons, tflow): where a /p/ request goes,
with which credential, and that the gateway addon then leaves it alone; no sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from mitmproxy import http
from mitmproxy.test import taddons, tflow, tutils

from addons.gateway_addon import Gateway
from addons.passthrough import Passthrough
from addons.responses_state import ResponsesState
from addons.rules_file import RulesFile

RULES = """
store: {store}
providers:
  openai: {{protocol: openai, base_url: "https://api.example.test/v1", api_key: sk-held-0001}}
  gemini: {{protocol: gemini, base_url: "http://127.0.0.1:7", api_key: gm-held-0002}}
  anthropic: {{protocol: anthropic, base_url: "http://127.0.0.1:8"}}
models:
  - {{match: "gpt-*", provider: openai}}
"""


@pytest.fixture
def addons(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.format(store=tmp_path / "state.sqlite3"))
    rules_file = RulesFile()
    passthrough = Passthrough(rules_file)
    gateway = Gateway(rules_file, ResponsesState())
    with taddons.context(rules_file, passthrough, gateway) as tctx:
        tctx.configure(rules_file, rules=str(path))
        yield passthrough, gateway


def flow_to(path: str, method: bytes = b"GET", headers=(), content=b"") -> tflow.HTTPFlow:
    flow = tflow.tflow()
    flow.client_conn.timestamp_tls_setup = None
    flow.client_conn.sockname = ("127.0.0.1", 8080)
    flow.request = tutils.treq(
        host="127.0.0.1", port=8080, path=path, method=method, headers=headers, content=content
    )
    return flow


def through(addons, flow: tflow.HTTPFlow) -> None:
    passthrough, gateway = addons
    passthrough.request(flow)
    asyncio.run(gateway.request(flow))


def test_the_path_and_query_go_under_the_base_url_with_the_held_key(addons) -> None:
    body = b'{"model":"claude-x","messages":[]}'
    flow = flow_to(
        "/p/openai/chat/completions?a=1&b=%2F",
        b"POST",
        ((b"x-api-key", b"sk-caller"), (b"authorization", b"Bearer sk-caller")),
        body,
    )
    through(addons, flow)
    request = flow.request
    assert request.url == "https://api.example.test/v1/chat/completions?a=1&b=%2F"
    assert request.headers["authorization"] == "Bearer sk-held-0001"
    assert "x-api-key" not in request.headers
    assert request.content == body  # the gateway addon did not translate it
    assert flow.response is None and flow.metadata["gateway"]["kind"] == "passthrough"


def test_gemini_key_leaves_the_query_for_the_header(addons) -> None:
    flow = flow_to("/p/gemini/v1beta/models?key=sk-caller&pageSize=2")
    through(addons, flow)
    assert flow.request.url == "http://127.0.0.1:7/v1beta/models?pageSize=2"
    assert flow.request.headers["x-goog-api-key"] == "gm-held-0002"


def test_a_path_cannot_name_another_host(addons) -> None:
    flow = flow_to("/p/anthropic//evil.test/v1/models", headers=((b"x-api-key", b"sk-c"),))
    through(addons, flow)
    assert (flow.request.host, flow.request.port) == ("127.0.0.1", 8)
    assert flow.request.path == "//evil.test/v1/models"
    assert flow.request.headers["x-api-key"] == "sk-c"


def test_a_stream_is_streamed_and_an_error_buffered_and_scrubbed(addons) -> None:
    passthrough, _ = addons
    flow = flow_to("/p/openai/files", b"POST")
    through(addons, flow)
    flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
    passthrough.responseheaders(flow)
    assert flow.response.stream is True and flow.response.headers["x-request-id"]
    flow = flow_to("/p/openai/files", b"POST")
    through(addons, flow)
    flow.response = http.Response.make(401, b'{"error":"bad key sk-held-0001"}')
    passthrough.responseheaders(flow)
    passthrough.response(flow)
    assert flow.response.stream is False
    assert b"sk-held-0001" not in flow.response.content


def test_an_unknown_provider_is_a_404_naming_the_configured_ones(addons) -> None:
    flow = flow_to("/p/nope/x", headers=((b"anthropic-version", b"2023-06-01"),))
    through(addons, flow)
    assert flow.response is not None and flow.response.status_code == 404
    body = orjson.loads(flow.response.content)
    assert body["type"] == "error"  # Anthropic's shape, as its headers suggest
    assert "anthropic, gemini, openai" in body["error"]["message"]
