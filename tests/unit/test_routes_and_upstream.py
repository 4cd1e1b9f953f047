"""Route matching and upstream addressing/credentials."""

from __future__ import annotations

import pytest

from addons import routes, upstream
from addons.rules import Provider, Routes

DEFAULT = Routes()


@pytest.mark.parametrize(
    ("path", "kind", "client", "endpoint", "model", "stream"),
    [
        ("/v1/chat/completions", "native", "openai_chat", "generate", None, None),
        ("/v1/responses", "native", "openai_responses", "generate", None, None),
        ("/v1/messages", "native", "anthropic", "generate", None, None),
        ("/v1/messages/count_tokens", "native", "anthropic", "count_tokens", None, None),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            "native",
            "gemini",
            "generate",
            "gemini-2.5-flash",
            False,
        ),
        (
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            "native",
            "gemini",
            "generate",
            "gemini-2.5-flash",
            True,
        ),
        (
            "/v1/models/gemini-pro:countTokens",
            "native",
            "gemini",
            "count_tokens",
            "gemini-pro",
            False,
        ),
        ("/openai/v1/chat/completions", "converter", "openai_chat", "generate", None, None),
        ("/openai/v1/responses", "converter", "openai_responses", "generate", None, None),
        ("/anthropic/v1/messages", "converter", "anthropic", "generate", None, None),
        (
            "/gemini/v1beta/models/claude-x:streamGenerateContent",
            "converter",
            "gemini",
            "generate",
            "claude-x",
            True,
        ),
    ],
)
def test_routes(path, kind, client, endpoint, model, stream):
    route = routes.match(path, DEFAULT)
    assert (route.kind, route.client, route.endpoint, route.model, route.stream) == (
        kind,
        client,
        endpoint,
        model,
        stream,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/files",
        "/anthropic/v1/chat/completions",
        "/gemini/v1/messages",
        "/v1beta/models/x:embed",
        "/openai",
    ],
)
def test_not_routes(path):
    assert routes.match(path, DEFAULT) is None


def test_native_routes_can_be_switched_off_and_prefixes_changed():
    custom = Routes(native=False, converters=(("anthropic", "/claude"),))
    assert routes.match("/v1/messages", custom) is None
    assert routes.match("/claude/v1/messages", custom).kind == "converter"
    assert routes.converter_path("anthropic", custom) == "/claude/v1/messages"
    assert routes.converter_path("gemini", custom) is None


def provider(protocol, base, key=""):
    return Provider(name=protocol, protocol=protocol, base_url=base, api_key=key)


def test_upstream_urls_follow_each_sdks_base_url_convention():
    o = provider("openai", "http://h/v1")
    a = provider("anthropic", "http://h")
    g = provider("gemini", "http://h")
    assert (
        upstream.upstream_url(o, "openai_chat", "generate", "m", False)
        == "http://h/v1/chat/completions"
    )
    assert (
        upstream.upstream_url(o, "openai_responses", "generate", "m", True)
        == "http://h/v1/responses"
    )
    assert upstream.upstream_url(a, "anthropic", "count_tokens", "m", False) == (
        "http://h/v1/messages/count_tokens"
    )
    assert upstream.upstream_url(g, "gemini", "generate", "m", True) == (
        "http://h/v1beta/models/m:streamGenerateContent?alt=sse"
    )
    assert upstream.upstream_url(g, "gemini", "generate", "m", True, [("key", "x")]) == (
        "http://h/v1beta/models/m:streamGenerateContent"
    )


def test_wire_protocol():
    assert upstream.wire_protocol("openai", "openai_responses") == "openai_responses"
    assert upstream.wire_protocol("openai", "anthropic") == "openai_chat"
    assert upstream.wire_protocol("gemini", "openai_chat") == "gemini"


def test_caller_credential_in_any_style():
    assert upstream.caller_credential({"authorization": "Bearer k1"}, None) == "k1"
    assert upstream.caller_credential({"x-api-key": "k2"}, None) == "k2"
    assert upstream.caller_credential({"x-goog-api-key": "k3"}, None) == "k3"
    assert upstream.caller_credential({}, "k4") == "k4"
    assert upstream.caller_credential({"authorization": "Basic zz"}, None) is None


def test_prepare_headers_converts_credentials_and_drops_foreign_headers():
    headers = {
        "authorization": "Bearer caller",
        "anthropic-beta": "b",
        "x-goog-api-client": "g",
        "openai-project": "p",
        "accept-encoding": "gzip",
    }
    upstream.prepare_headers(
        headers, provider("anthropic", "http://h"), "caller", translated=True, same_family=False
    )
    assert headers == {
        "anthropic-beta": "b",
        "x-api-key": "caller",
        "anthropic-version": upstream.ANTHROPIC_VERSION,
        "accept-encoding": "identity",
        "content-type": "application/json",
    }
    headers = {"x-api-key": "caller", "anthropic-version": "2026-10-21"}
    upstream.prepare_headers(
        headers,
        provider("openai", "http://h", key="mine"),
        "caller",
        translated=False,
        same_family=False,
    )
    assert headers == {"authorization": "Bearer mine"}


def test_same_family_caller_keeps_its_credential_header_when_no_key_is_configured():
    # An Anthropic OAuth token only works as Authorization: Bearer.
    headers = {"authorization": "Bearer sk-ant-oat01-x", "anthropic-beta": "oauth-2025-04-20"}
    upstream.prepare_headers(
        headers,
        provider("anthropic", "http://h"),
        "sk-ant-oat01-x",
        translated=False,
        same_family=True,
    )
    assert headers["authorization"] == "Bearer sk-ant-oat01-x" and "x-api-key" not in headers
    headers = {"authorization": "Bearer caller"}
    upstream.prepare_headers(
        headers,
        provider("anthropic", "http://h", key="mine"),
        "caller",
        translated=False,
        same_family=True,
    )
    assert headers["x-api-key"] == "mine" and "authorization" not in headers


def test_gemini_model_names_cannot_leave_the_models_path():
    url = upstream.upstream_url(
        provider("gemini", "http://h"), "gemini", "generate", "gemini-x/../../v1beta/files?", False
    )
    assert url == "http://h/v1beta/models/gemini-x%2F..%2F..%2Fv1beta%2Ffiles%3F:generateContent"


def test_a_gemini_query_key_becomes_a_header_when_no_key_is_configured():
    headers: dict[str, str] = {}
    upstream.prepare_headers(
        headers, provider("gemini", "http://h"), "from-query", translated=False, same_family=True
    )
    assert headers == {"x-goog-api-key": "from-query"}


@pytest.mark.parametrize(
    ("protocol", "sent", "leaves"),
    [
        # With no key configured, the caller's own-style header stays; any other goes.
        ("openai", {"authorization": "Bearer c-key-1", "x-api-key": "other-1"}, "authorization"),
        (
            "gemini",
            {"x-goog-api-key": "c-key-1", "authorization": "Bearer other-1"},
            "x-goog-api-key",
        ),
        ("anthropic", {"x-api-key": "c-key-1", "x-goog-api-key": "other-1"}, "x-api-key"),
        ("anthropic", {"authorization": "Bearer c-key-1", "x-api-key": "c-key-2"}, "x-api-key"),
    ],
)
def test_exactly_one_credential_leaves_in_the_providers_own_header(protocol, sent, leaves):
    headers = dict(sent)
    credential = upstream.caller_credential(headers, None)
    returned = upstream.prepare_headers(
        headers, provider(protocol, "http://h"), credential, translated=False, same_family=True
    )
    names = [n for n in headers if n in ("authorization", "x-api-key", "x-goog-api-key")]
    assert names == [leaves]
    assert returned == headers[leaves].removeprefix("Bearer ")


def test_a_caller_key_in_another_style_is_converted_not_forwarded():
    headers = {"x-api-key": "c-key-1"}  # an OpenAI caller using the Anthropic header
    upstream.prepare_headers(
        headers, provider("openai", "http://h"), "c-key-1", translated=False, same_family=True
    )
    assert headers == {"authorization": "Bearer c-key-1"}


def test_an_echoed_credential_is_scrubbed_from_the_answer():
    body = b'{"error": {"message": "Incorrect API key provided: sk-secret-12345678."}}'
    assert upstream.scrub(body, "sk-secret-12345678") == (
        b'{"error": {"message": "Incorrect API key provided: [redacted]."}}'
    )
