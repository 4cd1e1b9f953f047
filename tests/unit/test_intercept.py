"""Interception of the providers' own hosts, driven through the hooks with mitmproxy's
test helpers: each proxy mode an unmodified app may come through (regular with CONNECT,
transparent, WireGuard, local, SOCKS5), what stays untouched, the ``intercept`` key of
rules.yaml, and the connection strategy the addon keeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.proxy.mode_specs import ProxyMode
from mitmproxy.test import taddons, tflow, tutils

from addons.gateway_addon import Gateway, Kind
from addons.intercept import InterceptHosts
from addons.responses_state import ResponsesState
from addons.rules import RulesError, parse_rules
from addons.rules_file import RulesFile

RULES = """
store: {store}
providers:
  openai: {{protocol: openai, base_url: "http://127.0.0.1:9/v1", api_key: "sk-conf-1111"}}
  anthropic: {{protocol: anthropic, base_url: "http://127.0.0.1:8"}}
  gemini: {{protocol: gemini, base_url: "http://127.0.0.1:7"}}
models:
  - {{match: "gpt-*", provider: openai}}
  - {{match: "claude-*", provider: anthropic}}
  - {{match: "gemini-*", provider: gemini}}
"""
CHAT = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
CLAUDE_ON_OPENAI_HOST = {**CHAT, "model": "claude-sonnet-4-5"}


class Setup:
    def __init__(
        self, tctx: taddons.context, rules: Path, rules_file: RulesFile, gateway: Gateway
    ) -> None:
        self.tctx, self.rules, self.rules_file, self.gateway = tctx, rules, rules_file, gateway

    def request(self, flow: tflow.HTTPFlow) -> None:
        asyncio.run(self.gateway.request(flow))


@pytest.fixture
def setup(tmp_path: Path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(store=tmp_path / "state.sqlite3"))
    rules_file = RulesFile()
    gateway = Gateway(rules_file, ResponsesState())
    with taddons.context(Proxyserver(), rules_file, InterceptHosts(rules_file), gateway) as tctx:
        tctx.configure(rules_file, rules=str(rules))
        yield Setup(tctx, rules, rules_file, gateway)


def app_flow(mode: str, host: str, path: str, body: dict, *, address: str | None = None):
    """A request an unmodified app sent to ``host`` through ``mode``: in regular mode
    inside a CONNECT tunnel, elsewhere to the address it resolved (``Host`` names it)."""
    flow = tflow.tflow()
    flow.client_conn.proxy_mode = ProxyMode.parse(mode)
    flow.request = tutils.treq(
        host=address or host,
        port=443,
        scheme=b"https",
        authority=b"",
        path=path.encode(),
        method=b"POST",
        content=orjson.dumps(body),
        headers=((b"host", host.encode()), (b"authorization", b"Bearer sk-app-own-2222")),
    )
    return flow


@pytest.mark.parametrize(
    ("mode", "address"),
    [
        ("regular", None),
        ("transparent", "162.159.140.245"),
        ("wireguard", "162.159.140.245"),
        ("local", "162.159.140.245"),
        ("socks5", None),
    ],
)
def test_every_proxy_mode_serves_the_hosts_own_route(setup, mode, address):
    flow = app_flow(mode, "api.openai.com", "/v1/chat/completions", CHAT, address=address)
    setup.request(flow)
    assert flow.response is None
    assert flow.request.url == "http://127.0.0.1:9/v1/chat/completions"
    assert flow.request.headers["authorization"] == "Bearer sk-conf-1111"
    meta = flow.metadata["gateway"]
    assert meta["route"] == "intercept:/v1/chat/completions"
    assert meta["intercepted_host"] == "api.openai.com"
    assert meta["kind"] == Kind.PASSTHROUGH.value


def test_a_model_of_another_protocol_is_converted_not_refused(setup):
    flow = app_flow("regular", "api.openai.com", "/v1/chat/completions", CLAUDE_ON_OPENAI_HOST)
    setup.request(flow)
    assert flow.response is None
    assert flow.request.url == "http://127.0.0.1:8/v1/messages"
    assert flow.metadata["gateway"]["kind"] == Kind.TRANSLATED.value
    # Translated: the caller's key goes on in Anthropic's header, and only there.
    assert flow.request.headers["x-api-key"] == "sk-app-own-2222"
    assert "authorization" not in flow.request.headers


def test_gemini_host_serves_generate_content_with_the_model_from_the_path(setup):
    host = "generativelanguage.googleapis.com"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    flow = app_flow("regular", host, "/v1beta/models/gpt-4.1:generateContent", body)
    setup.request(flow)
    assert flow.request.url == "http://127.0.0.1:9/v1/chat/completions"
    assert flow.metadata["gateway"]["kind"] == Kind.TRANSLATED.value


def test_an_unknown_model_is_answered_in_the_hosts_format(setup):
    flow = app_flow("regular", "api.anthropic.com", "/v1/messages", {**CHAT, "model": "x-1"})
    setup.request(flow)
    assert flow.response is not None and flow.response.status_code == 404
    assert orjson.loads(flow.response.content)["type"] == "error"  # Anthropic's envelope


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("api.anthropic.com", "/api/claude_code/settings"),  # a path the gateway does not own
        ("api.openai.com", "/v1/messages"),  # another protocol's path on OpenAI's host
        ("pypi.org", "/v1/chat/completions"),  # not a provider host
    ],
)
def test_what_is_not_the_gateways_passes_untouched(setup, host, path):
    flow = app_flow("regular", host, path, CHAT)
    url, headers = flow.request.url, flow.request.headers.copy()
    setup.request(flow)
    assert flow.response is None
    assert flow.request.url == url and flow.request.headers == headers
    assert "gateway" not in flow.metadata


def test_intercept_off_passes_the_providers_hosts_untouched(setup):
    setup.rules.write_text(setup.rules.read_text() + "intercept: []\n")
    setup.rules_file.reload_if_changed()
    flow = app_flow("regular", "api.openai.com", "/v1/chat/completions", CHAT)
    setup.request(flow)
    assert flow.request.host == "api.openai.com"
    assert "gateway" not in flow.metadata


def test_reverse_mode_is_not_interception(setup):
    """In reverse mode every request is the gateway's already, whatever its Host."""
    flow = app_flow("reverse:https://api.openai.com", "api.openai.com", "/v1/messages", CHAT)
    setup.request(flow)
    assert flow.response is not None and flow.response.status_code == 400  # the native guard
    assert flow.metadata["gateway"]["route"] == "native:/v1/messages"


# --------------------------------------------------------- connection strategy


def test_interception_makes_the_connection_strategy_lazy(setup):
    assert setup.tctx.options.connection_strategy == "lazy"


def test_without_interception_mitmproxys_default_stays(tmp_path: Path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(store=tmp_path / "s.sqlite3") + "intercept: []\n")
    rules_file = RulesFile()
    intercept = InterceptHosts(rules_file)
    with taddons.context(Proxyserver(), rules_file, intercept) as tctx:
        tctx.configure(rules_file, rules=str(rules))
        assert tctx.options.connection_strategy == "eager"
        # A reload that turns interception on takes effect at the next client.
        rules.write_text(RULES.format(store=tmp_path / "s.sqlite3"))
        rules_file.reload_if_changed()
        intercept.client_connected(tflow.tclient_conn())
        assert tctx.options.connection_strategy == "lazy"


# ----------------------------------------------------------------- rules.yaml


def parse(extra: str):
    return parse_rules(RULES.format(store="s.sqlite3") + extra, "rules.yaml", {})


def test_intercept_defaults_to_the_three_official_hosts_and_can_be_off():
    assert parse("").intercept == (
        "api.openai.com",
        "api.anthropic.com",
        "generativelanguage.googleapis.com",
    )
    assert parse("intercept: []\n").intercept == ()
    assert parse("intercept: [API.Anthropic.com]\n").intercept == ("api.anthropic.com",)


@pytest.mark.parametrize(
    ("value", "key", "problem"),
    [
        ("api.openai.com", "intercept", "must be a list of host names"),
        ("", "intercept", "must be a list of host names"),
        ("[api.groq.com]", "intercept[0]", "'api.groq.com' is not a provider's API host"),
        ("[api.openai.com, 3]", "intercept[1]", "must be a non-empty string"),
    ],
)
def test_a_bad_intercept_names_its_key(value, key, problem):
    with pytest.raises(RulesError) as caught:
        parse(f"intercept: {value}\n")
    assert caught.value.key == key
    assert problem in caught.value.problem
