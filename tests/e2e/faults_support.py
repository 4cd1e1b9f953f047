"""What the fault and fallback tests share: their gateway's rules, the misbehaving
streams, each caller format's way of calling, and what a caller must see when a provider
fails (docs/faults.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import orjson

from tests.fakes import FakeUpstream, canned
from tests.fakes.hostile import dead_port
from tests.harness import CALLER_KEY, Gateway
from translators.sse import SSEDecoder

# Small timeouts, so that every timeout in these tests fires within a second or two.
TIMEOUTS = "timeouts: {connect: 1, first_byte: 1, idle: 1, retry_wait: 3}"


def fault_rules(fakes: dict[str, FakeUpstream], store: str) -> str:
    """The session fakes as providers, plus providers nobody can reach, and model rules
    with fallbacks. Providers are named so a message can be checked for the right one."""
    dead = dead_port()
    openai_port = fakes["openai"].port
    openai, anthropic, gemini = (fakes[p].base_url for p in ("openai", "anthropic", "gemini"))
    return f"""
{TIMEOUTS}
store: {store}
providers:
  openai: {{protocol: openai, base_url: "{openai}", api_key: "${{GW_TEST_OPENAI_KEY}}"}}
  backup: {{protocol: openai, base_url: "{openai}", api_key: "${{GW_TEST_OPENAI_KEY}}"}}
  anthropic: {{protocol: anthropic, base_url: "{anthropic}"}}
  gemini: {{protocol: gemini, base_url: "{gemini}", api_key: "${{GW_TEST_GEMINI_KEY}}"}}
  down-openai: {{protocol: openai, base_url: "http://127.0.0.1:{dead}/v1"}}
  down-anthropic: {{protocol: anthropic, base_url: "http://127.0.0.1:{dead}"}}
  down-gemini: {{protocol: gemini, base_url: "http://127.0.0.1:{dead}"}}
  no-tls: {{protocol: openai, base_url: "https://127.0.0.1:{openai_port}/v1"}}
models:
  - {{match: "gpt-*", provider: openai}}
  - {{match: "claude-*", provider: anthropic}}
  - {{match: "gemini-*", provider: gemini}}
  - {{match: "dead-gpt", provider: down-openai, model: gpt-4o}}
  - {{match: "dead-claude", provider: down-anthropic, model: claude-sonnet-4-5}}
  - {{match: "dead-gemini", provider: down-gemini, model: gemini-2.5-flash}}
  - {{match: "tls-gpt", provider: no-tls, model: gpt-4o}}
  - match: "safe-gpt"
    provider: openai
    model: gpt-4o-mini
    fallbacks: [anthropic/claude-sonnet-4-5]
  - match: "dead-then-safe"
    provider: down-openai
    model: gpt-4o
    fallbacks: [down-gemini/gemini-2.5-flash, anthropic/claude-sonnet-4-5]
  - match: "safe-native-gpt"
    provider: openai
    model: gpt-4o-mini
    fallbacks: [anthropic/claude-sonnet-4-5, backup/gpt-4o]
"""


# ------------------------------------------------------------------ callers

# A caller format: the SDK's protocol, and for Gemini which stream framing it asks for.
CALLERS = ["openai", "anthropic", "gemini", "gemini_array"]
PREFIX = {"openai": "/openai", "anthropic": "/anthropic", "gemini": "/gemini"}
NATIVE_MODEL = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
    "gemini_array": "gemini-2.5-flash",
}
# On a converter route, each caller reaches a provider of another protocol.
TRANSLATED_MODEL = {
    "openai": "claude-sonnet-4-5",
    "anthropic": "gpt-4o-mini",
    "gemini": "claude-sonnet-4-5",
    "gemini_array": "gpt-4o-mini",
}
PROVIDER_OF = {
    "gpt-4o-mini": "openai",
    "claude-sonnet-4-5": "anthropic",
    "gemini-2.5-flash": "gemini",
}


@dataclass(frozen=True)
class Case:
    """One caller format on one kind of route, and the provider that will misbehave."""

    caller: str
    route: str  # "native" or "translated"

    @property
    def model(self) -> str:
        return (NATIVE_MODEL if self.route == "native" else TRANSLATED_MODEL)[self.caller]

    @property
    def provider(self) -> str:
        return PROVIDER_OF[self.model]

    @property
    def prefix(self) -> str:
        return "" if self.route == "native" else PREFIX[self.caller.removesuffix("_array")]

    @property
    def upstream_framing(self) -> str:
        """Gemini answers a JSON array only when the caller's own request asked for one."""
        native_array = self.route == "native" and self.caller == "gemini_array"
        return "json_array" if native_array else "sse"

    def __str__(self) -> str:
        return f"{self.caller}-{self.route}"


CASES = [Case(c, r) for r in ("native", "translated") for c in CALLERS]
SDK_CASES = [case for case in CASES if case.caller != "gemini_array"]


def request(case: Case, gateway_url: str, *, stream: bool, model: str | None = None):
    """(url, body, headers) of a minimal call in the caller's own format."""
    model = model or case.model
    base = gateway_url + case.prefix
    if case.caller == "openai":
        body: dict = {"model": model, "messages": [{"role": "user", "content": "Hi"}]}
        if stream:
            body["stream"] = True
        return f"{base}/v1/chat/completions", body, {"authorization": f"Bearer {CALLER_KEY}"}
    if case.caller == "anthropic":
        body = {"model": model, "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}
        if stream:
            body["stream"] = True
        headers = {"x-api-key": CALLER_KEY, "anthropic-version": "2023-06-01"}
        return f"{base}/v1/messages", body, headers
    verb = "streamGenerateContent" if stream else "generateContent"
    query = "?alt=sse" if stream and case.caller == "gemini" else ""
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    url = f"{base}/v1beta/models/{model}:{verb}{query}"
    return url, body, {"x-goog-api-key": CALLER_KEY}


def call(case: Case, gateway_url: str, *, stream: bool, model: str | None = None):
    """The whole HTTP answer, with how long it took."""
    url, body, headers = request(case, gateway_url, stream=stream, model=model)
    started = time.monotonic()
    response = httpx.post(url, json=body, headers=headers, timeout=30)
    return response, time.monotonic() - started


# ------------------------------------------------------------ misbehaving streams


def upstream_frames(provider: str, framing: str) -> list[bytes]:
    """The writes of a real stream of ``provider``, framed as it sends them."""
    if provider == "openai":
        return canned.openai_stream("gpt-4o-mini", False)
    if provider == "anthropic":
        return canned.anthropic_stream("claude-sonnet-4-5")
    chunks = [orjson.dumps(c) for c in canned.gemini_stream_chunks("gemini-2.5-flash")]
    if framing == "sse":
        return [b"data: " + c + b"\r\n\r\n" for c in chunks]
    return [b"[" + chunks[0]] + [b"\r\n," + c for c in chunks[1:]] + [b"\r\n]"]


def broken_frames(provider: str, framing: str) -> list[bytes]:
    """Enough of a stream for text to reach the caller, and then half an event, so a
    stream that breaks there must not pass the half on."""
    frames = upstream_frames(provider, framing)
    marker = (
        b"text_delta"
        if provider == "anthropic"
        else b'"content":"'
        if provider == "openai"
        else b'"text"'
    )
    keep = next(i for i, frame in enumerate(frames) if marker in frame) + 2
    return [*frames[:keep], frames[keep][: len(frames[keep]) // 2]]


# ------------------------------------------------------------ what a caller sees


def assert_names_provider(message: str, provider: str, *ports: int) -> None:
    """A message a caller can act on: which provider, in words; never an HTML page or
    an address of the gateway's upstreams."""
    assert f"'{provider}'" in message, message
    assert "<html" not in message.lower() and "<!doctype" not in message.lower(), message
    assert "127.0.0.1" not in message, message
    for port in ports:
        assert str(port) not in message, message


def error_message(case: Case, body: bytes) -> str:
    """The message of a whole error answer in the caller's format."""
    data = orjson.loads(body)
    if case.caller == "anthropic":
        assert data["type"] == "error"
    return data["error"]["message"]


def stream_error(case: Case, body: bytes) -> str:
    """The message of the in-stream error that must end a broken stream, after checking
    the stream ends the way its format says: OpenAI with an error chunk then [DONE],
    Anthropic with an error event, Gemini SSE with an error object, and Gemini's JSON
    array with an error element and its closing bracket."""
    if case.caller == "gemini_array":
        elements = orjson.loads(body)  # the whole array must parse: closed, no half element
        assert isinstance(elements, list) and elements
        assert all("error" not in e for e in elements[:-1])
        return elements[-1]["error"]["message"]
    decoder = SSEDecoder()
    events = decoder.feed(body) + decoder.finish()
    assert events, body
    if case.caller == "openai":
        assert events[-1].data == b"[DONE]", events[-2:]
        last = orjson.loads(events[-2].data)
        assert all(b'"error"' not in e.data for e in events[:-2])
        return last["error"]["message"]
    last = orjson.loads(events[-1].data)
    assert all(b'"error"' not in e.data for e in events[:-1])
    if case.caller == "anthropic":
        assert events[-1].event == "error" and last["type"] == "error"
    return last["error"]["message"]


def streamed_text(case: Case, body: bytes) -> str:
    """The text a stream in the caller's format carried (errors aside)."""
    if case.caller == "gemini_array":
        payloads = orjson.loads(body)
    else:
        decoder = SSEDecoder()
        events = decoder.feed(body) + decoder.finish()
        payloads = [orjson.loads(e.data) for e in events if e.data != b"[DONE]"]
    text = []
    for p in payloads:
        if case.caller == "openai":
            text += [c["delta"].get("content") or "" for c in p.get("choices", [])]
        elif case.caller == "anthropic":
            text.append(p.get("delta", {}).get("text", "") if p["type"] != "error" else "")
        else:
            for candidate in p.get("candidates", []):
                text += [part.get("text", "") for part in candidate["content"].get("parts", [])]
    return "".join(text)


def log_line(gateway: Gateway, request_id: str) -> dict:
    """The request's log line; for a stream it is written just after the caller read the
    last byte, so it may take a moment to appear."""
    deadline = time.monotonic() + 5
    while True:
        for line in gateway.log().splitlines():
            if f'"id":"{request_id}"' in line:
                return orjson.loads(line[line.index("{") :])
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line for {request_id}:\n{gateway.log()}")
        time.sleep(0.05)
