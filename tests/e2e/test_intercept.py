"""The gateway as a local dev proxy: the official SDKs left at their default base URLs
(api.openai.com, api.anthropic.com, generativelanguage.googleapis.com), ``HTTPS_PROXY``
at a real mitmdump and its fresh CA trusted the way users do it (``SSL_CERT_FILE``;
``NODE_EXTRA_CA_CERTS`` for Claude Code). There is no DNS here: any connection to a
provider's real host fails, so every answer proves the gateway routed the request to a
local fake before anything connected upstream."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from google import genai

from tests.harness import CALLER_KEY, OPENAI_KEY, Gateway, rules_yaml, start_gateway

USER_HI = [{"role": "user", "content": "Hello"}]
# What a failed connection to a provider's real host looks like in mitmdump's output.
CONNECT_FAILURE = "error establishing server connection"
# Settings that would send an SDK elsewhere than its default host.
_SDK_ENV = (
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "NO_PROXY",
    "no_proxy",
)


class DevProxy:
    """A gateway in regular mode with its own fresh CA, and where its log stood when a
    test began, so a test reads only what it caused."""

    def __init__(self, gateway: Gateway, ca: Path) -> None:
        self.gateway = gateway
        self.ca = ca
        self.mark = 0

    def new_log(self) -> str:
        return self.gateway.log()[self.mark :]


@pytest.fixture(scope="module")
def dev_proxy(fakes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProxy]:
    tmp = tmp_path_factory.mktemp("intercept")
    (tmp / "rules.yaml").write_text(rules_yaml(fakes))
    confdir = tmp / "mitmproxy"
    gw = start_gateway(tmp / "rules.yaml", tmp / "gw.log", "--set", f"confdir={confdir}")
    ca = confdir / "mitmproxy-ca-cert.pem"
    deadline = time.monotonic() + 10
    while not ca.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ca.exists(), "mitmproxy wrote no CA into the fresh confdir"
    yield DevProxy(gw, ca)
    gw.stop()


@pytest.fixture
def proxy(dev_proxy: DevProxy, monkeypatch: pytest.MonkeyPatch) -> DevProxy:
    """The environment a user sets: the proxy and mitmproxy's CA, nothing else."""
    for name in _SDK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", dev_proxy.gateway.url)
    monkeypatch.setenv("SSL_CERT_FILE", str(dev_proxy.ca))
    dev_proxy.mark = len(dev_proxy.gateway.log())
    return dev_proxy


def credentials(headers: dict[str, str]) -> dict[str, str]:
    """The credential headers a provider received (DESIGN: exactly one, in its style)."""
    return {
        k: v for k, v in headers.items() if k in ("authorization", "x-api-key", "x-goog-api-key")
    }


def logged(proxy: DevProxy, route: str) -> str:
    """The gateway's log line for ``route`` written during this test (it is written
    just after the answer, so it is waited for)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in proxy.new_log().splitlines() if f'"route":"{route}"' in line]
        if lines:
            return lines[-1]
        time.sleep(0.05)
    raise AssertionError(f"no log line for {route}:\n{proxy.new_log()}")


def openai_sdk() -> openai.OpenAI:
    return openai.OpenAI(api_key=CALLER_KEY, max_retries=0, timeout=30)


def anthropic_sdk() -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=CALLER_KEY, max_retries=0, timeout=30)


def gemini_sdk() -> genai.Client:
    return genai.Client(api_key=CALLER_KEY)


# ------------------------------------------------------------------ openai SDK


def test_openai_sdk_own_model_reaches_the_configured_provider(proxy, fakes):
    raw = openai_sdk().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=USER_HI
    )
    reply = raw.parse()
    assert reply.choices[0].message.content
    got = fakes["openai"].last
    assert got.path == "/v1/chat/completions"
    assert got.json["messages"] == USER_HI
    # The configured key replaced the caller's, in OpenAI's header; the only credential.
    assert credentials(got.headers) == {"authorization": f"Bearer {OPENAI_KEY}"}
    request_id = raw.headers["x-request-id"]
    assert request_id.startswith("gw-")
    assert got.headers["x-request-id"] == request_id
    line = logged(proxy, "intercept:/v1/chat/completions")
    assert request_id in line and '"provider":"openai"' in line
    assert CONNECT_FAILURE not in proxy.new_log()


def test_openai_sdk_claude_is_converted(proxy, fakes):
    reply = openai_sdk().chat.completions.create(model="claude-sonnet-4-5", messages=USER_HI)
    assert reply.object == "chat.completion"
    assert reply.choices[0].message.content
    assert reply.model == "claude-sonnet-4-5"
    got = fakes["anthropic"].last
    assert got.path == "/v1/messages"
    # anthropic holds no key: the caller's goes on, in Anthropic's header only.
    assert credentials(got.headers) == {"x-api-key": CALLER_KEY}
    assert '"provider":"anthropic"' in logged(proxy, "intercept:/v1/chat/completions")
    assert CONNECT_FAILURE not in proxy.new_log()


def test_openai_sdk_gemini_stream_is_converted(proxy, fakes):
    stream = openai_sdk().chat.completions.create(
        model="gemini-2.5-flash", messages=USER_HI, stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].choices[0].finish_reason == "stop"
    got = fakes["gemini"].last
    assert got.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert CONNECT_FAILURE not in proxy.new_log()


def test_openai_sdk_own_model_streams_natively(proxy, fakes):
    stream = openai_sdk().chat.completions.create(
        model="gpt-4o-mini", messages=USER_HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage is not None
    assert fakes["openai"].last.json["stream"] is True


def test_openai_sdk_responses_on_claude_with_state_kept_by_the_gateway(proxy, fakes):
    """Codex's API: converted to Claude, stored, and read back from the gateway's store
    through the same intercepted host."""
    client = openai_sdk()
    response = client.responses.create(model="claude-sonnet-4-5", input="Hello")
    assert response.output_text
    assert fakes["anthropic"].last.path == "/v1/messages"
    assert client.responses.retrieve(response.id).output_text == response.output_text
    assert CONNECT_FAILURE not in proxy.new_log()


# --------------------------------------------------------------- anthropic SDK


def test_anthropic_sdk_own_model_and_a_converted_one(proxy, fakes):
    client = anthropic_sdk()
    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=USER_HI)
    assert message.content[0].text
    got = fakes["anthropic"].last
    assert got.path == "/v1/messages"
    assert got.json["max_tokens"] == 100
    # Same family, no key configured: the SDK's own header as sent (x-api-key from the
    # 0.x SDKs, a Bearer token from 2.x).
    assert list(credentials(got.headers).values()) in ([CALLER_KEY], [f"Bearer {CALLER_KEY}"])

    message = client.messages.create(model="gpt-4o", max_tokens=100, messages=USER_HI)
    assert message.type == "message" and message.content[0].text
    got = fakes["openai"].last
    assert got.path == "/v1/chat/completions"
    assert credentials(got.headers) == {"authorization": f"Bearer {OPENAI_KEY}"}
    assert '"provider":"openai"' in logged(proxy, "intercept:/v1/messages")
    assert CONNECT_FAILURE not in proxy.new_log()


def test_anthropic_sdk_stream_converted(proxy, fakes):
    with anthropic_sdk().messages.stream(
        model="gemini-2.5-flash", max_tokens=100, messages=USER_HI
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text
    assert final.stop_reason == "end_turn"
    assert fakes["gemini"].last.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert CONNECT_FAILURE not in proxy.new_log()


# ------------------------------------------------------------ google-genai SDK


def test_gemini_sdk_own_model_and_converted_ones(proxy, fakes):
    client = gemini_sdk()
    reply = client.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    assert reply.text
    assert fakes["gemini"].last.path == "/v1beta/models/gemini-2.5-flash:generateContent"

    reply = client.models.generate_content(model="claude-sonnet-4-5", contents="Hello")
    assert reply.text
    assert fakes["anthropic"].last.path == "/v1/messages"

    text = "".join(
        c.text or "" for c in client.models.generate_content_stream(model="gpt-4o", contents="Hi")
    )
    assert text
    got = fakes["openai"].last
    assert got.path == "/v1/chat/completions" and got.json["stream"] is True
    line = logged(proxy, "intercept:/v1beta/models/gpt-4o:streamGenerateContent")
    assert '"provider":"openai"' in line
    assert CONNECT_FAILURE not in proxy.new_log()


# ------------------------------------------------------------------ untouched


def test_a_host_not_intercepted_passes_untouched(proxy, fakes):
    """A plain request through the proxy to another server (here the OpenAI fake,
    under its own address) reaches it exactly as sent: no key swapped, no request id."""
    body = b'{"model":  "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}'
    r = httpx.post(
        f"{fakes['openai'].url}/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {CALLER_KEY}", "content-type": "application/json"},
        proxy=proxy.gateway.url,
        timeout=10,
    )
    assert r.status_code == 200
    assert "x-request-id" not in r.headers or not r.headers["x-request-id"].startswith("gw-")
    got = fakes["openai"].last
    assert got.body == body
    assert got.headers["authorization"] == f"Bearer {CALLER_KEY}"
    assert "x-request-id" not in got.headers
    assert "gateway {" not in proxy.new_log()


def test_intercept_off_leaves_the_providers_hosts_alone(fakes, tmp_path, monkeypatch):
    """``intercept: []``: api.openai.com is an ordinary host again, connected to at
    CONNECT as mitmproxy does by default (and, offline, refused)."""
    (tmp_path / "rules.yaml").write_text(rules_yaml(fakes) + "intercept: []\n")
    confdir = tmp_path / "mitmproxy"
    gw = start_gateway(tmp_path / "rules.yaml", tmp_path / "gw.log", "--set", f"confdir={confdir}")
    try:
        for name in _SDK_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", gw.url)
        monkeypatch.setenv("SSL_CERT_FILE", str(confdir / "mitmproxy-ca-cert.pem"))
        with pytest.raises(openai.APIConnectionError):
            openai_sdk().chat.completions.create(model="gpt-4o-mini", messages=USER_HI)
        assert CONNECT_FAILURE in gw.log()
        assert "gateway {" not in gw.log()
        assert fakes["openai"].received == []
    finally:
        gw.stop()


def test_a_path_the_gateway_does_not_serve_goes_to_the_host_untouched(proxy):
    """Claude Code's own /api/claude_code/* calls on api.anthropic.com, for one, are not
    the gateway's: they go on to the host (here unreachable, so mitmproxy's 502)."""
    r = httpx.get(
        "https://api.anthropic.com/api/claude_code/settings",
        proxy=proxy.gateway.url,
        verify=str(proxy.ca),
        timeout=10,
    )
    assert r.status_code == 502
    assert "x-request-id" not in r.headers
    assert "gateway {" not in proxy.new_log()


# ----------------------------------------------------------------- Claude Code

CLAUDE = shutil.which("claude")


@pytest.mark.skipif(
    CLAUDE is None, reason="Claude Code is not installed (npm i -g @anthropic-ai/claude-code)"
)
@pytest.mark.parametrize(
    ("model", "fake", "credential"),
    [
        ("claude-sonnet-4-5", "anthropic", {"x-api-key": CALLER_KEY}),
        ("gpt-4o", "openai", {"authorization": f"Bearer {OPENAI_KEY}"}),
    ],
)
def test_claude_code_through_the_proxy(proxy, fakes, tmp_path, model, fake, credential):
    """The real CLI, unchanged, with only HTTPS_PROXY and NODE_EXTRA_CA_CERTS set."""
    assert CLAUDE is not None
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "HTTPS_PROXY": proxy.gateway.url,
        "NODE_EXTRA_CA_CERTS": str(proxy.ca),
        "ANTHROPIC_API_KEY": CALLER_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    result = subprocess.run(
        [CLAUDE, "-p", "Say hello", "--model", model],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
    sent = [r for r in fakes[fake].received if b"Say hello" in r.body]
    assert sent, f"Claude Code's request did not reach the {fake} fake"
    assert credentials(sent[-1].headers) == credential
    assert f'"provider":"{fake}"' in logged(proxy, "intercept:/v1/messages")


CODEX = shutil.which("codex")


@pytest.mark.skipif(CODEX is None, reason="Codex is not installed (npm i -g @openai/codex)")
def test_codex_through_the_proxy(proxy, fakes, tmp_path):
    """The Rust Codex CLI, which trusts SSL_CERT_FILE, on the Responses API converted to
    Claude. It tries the Responses WebSocket first: the gateway answers that GET with a
    405 and Codex falls back to HTTPS after its retries."""
    assert CODEX is not None
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "CODEX_HOME": str(home / ".codex"),
        "HTTPS_PROXY": proxy.gateway.url,
        "SSL_CERT_FILE": str(proxy.ca),
        "CODEX_API_KEY": CALLER_KEY,
    }
    result = subprocess.run(
        [CODEX, "exec", "--skip-git-repo-check", "-m", "claude-sonnet-4-5", "Say hello"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
    sent = [r for r in fakes["anthropic"].received if b"Say hello" in r.body]
    assert sent, "Codex's request did not reach the anthropic fake"
    assert credentials(sent[-1].headers) == {"x-api-key": CALLER_KEY}
    assert '"provider":"anthropic"' in logged(proxy, "intercept:/v1/responses")
