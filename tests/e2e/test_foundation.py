"""Native routes, same-protocol converter routes, the protocol guard, credentials,
request ids and logging, with the official SDKs as clients."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
import orjson
import pytest
from google.genai import errors as genai_errors

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes import Reply
from tests.harness import CALLER_KEY, GEMINI_KEY, OPENAI_KEY

USER_HI = [{"role": "user", "content": "Hello"}]


# ----------------------------------------------------------- native, each SDK


def test_openai_native_chat(gateway, fakes):
    reply = openai_client(gateway).chat.completions.create(model="gpt-4o-mini", messages=USER_HI)
    assert reply.choices[0].message.content
    assert reply.model == "gpt-4o-mini"
    got = fakes["openai"].last
    assert got.path == "/v1/chat/completions"
    assert got.json["messages"] == USER_HI


def test_openai_native_stream_with_usage(gateway, fakes):
    stream = openai_client(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=USER_HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert fakes["openai"].last.json["stream"] is True


def test_native_body_passes_byte_for_byte(gateway, fakes):
    body = b'{"model":  "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],\n "n": 1}'
    r = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {CALLER_KEY}", "content-type": "application/json"},
    )
    assert r.status_code == 200
    assert fakes["openai"].last.body == body


def test_anthropic_native_messages(gateway, fakes):
    client = anthropic_client(gateway)
    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=USER_HI)
    assert message.content[0].text
    got = fakes["anthropic"].last
    assert got.path == "/v1/messages"
    assert got.json["max_tokens"] == 100


def test_anthropic_native_stream(gateway, fakes):
    with anthropic_client(gateway).messages.stream(
        model="claude-sonnet-4-5", max_tokens=100, messages=USER_HI
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text
    assert final.stop_reason == "end_turn"
    assert fakes["anthropic"].last.json["stream"] is True


def test_gemini_native_generate_and_stream(gateway, fakes):
    client = gemini_client(gateway)
    reply = client.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    assert reply.text
    got = fakes["gemini"].last
    assert got.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    text = "".join(
        c.text or ""
        for c in client.models.generate_content_stream(model="gemini-2.5-flash", contents="Hello")
    )
    assert text
    got = fakes["gemini"].last
    assert got.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert got.query.get("alt") == "sse"


def test_responses_native_passthrough(gateway, fakes):
    fakes["openai"].enqueue(Reply.example("openai_responses/response_text.json"))
    reply = openai_client(gateway).responses.create(model="gpt-4o-mini", input="Hello")
    assert reply.output_text
    assert fakes["openai"].last.path == "/v1/responses"


def test_native_upstream_error_reaches_sdk(gateway, fakes):
    fakes["openai"].enqueue(Reply.error("openai", 429))
    with pytest.raises(openai.RateLimitError):
        openai_client(gateway).chat.completions.create(model="gpt-4o-mini", messages=USER_HI)
    fakes["anthropic"].enqueue(Reply.error("anthropic", 529))
    with pytest.raises(anthropic.APIStatusError) as caught:
        anthropic_client(gateway).messages.create(model="claude-x", max_tokens=5, messages=USER_HI)
    assert caught.value.status_code == 529


# ------------------------------------------------- same-protocol converter routes


def test_converter_same_protocol_passes_through(gateway, fakes):
    reply = openai_client(gateway, "/openai").chat.completions.create(
        model="gpt-4o-mini", messages=USER_HI
    )
    assert reply.choices[0].message.content
    message = anthropic_client(gateway, "/anthropic").messages.create(
        model="claude-sonnet-4-5", max_tokens=10, messages=USER_HI
    )
    assert message.content[0].text
    reply = gemini_client(gateway, "/gemini").models.generate_content(
        model="gemini-2.5-flash", contents="Hello"
    )
    assert reply.text
    assert fakes["gemini"].last.path == "/v1beta/models/gemini-2.5-flash:generateContent"


def test_model_mapping_renames_for_the_upstream(gateway, fakes):
    anthropic_client(gateway, "/anthropic").messages.create(
        model="sonnet", max_tokens=10, messages=USER_HI
    )
    assert fakes["anthropic"].last.json["model"] == "claude-sonnet-4-5-20250929"
    gemini_client(gateway).models.generate_content(model="flash", contents="Hello")
    assert fakes["gemini"].last.path == "/v1beta/models/gemini-2.5-flash:generateContent"


def test_provider_prefix_picks_the_provider(gateway, fakes):
    openai_client(gateway).chat.completions.create(model="compat/llama3.2", messages=USER_HI)
    got = fakes["openai"].last
    assert got.json["model"] == "llama3.2"
    assert got.headers["x-title"] == "gateway-tests"  # the provider's extra header
    assert got.headers["authorization"] == f"Bearer {CALLER_KEY}"  # compat holds no key


# ------------------------------------------------------------------ credentials


def test_configured_key_replaces_the_callers(gateway, fakes):
    openai_client(gateway).chat.completions.create(model="gpt-4o-mini", messages=USER_HI)
    assert fakes["openai"].last.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    gemini_client(gateway).models.generate_content(model="gemini-2.5-flash", contents="Hi")
    assert fakes["gemini"].last.headers["x-goog-api-key"] == GEMINI_KEY


def test_callers_key_forwarded_in_provider_style(gateway, fakes):
    # The anthropic provider holds no key: an Anthropic caller's credential goes on as it
    # came (x-api-key, or Authorization: Bearer as anthropic >= 2 and OAuth tokens use it);
    # a caller of another protocol has its key converted to x-api-key.
    body = {"model": "claude-x", "max_tokens": 5, "messages": USER_HI}
    for header, value in (("x-api-key", CALLER_KEY), ("authorization", f"Bearer {CALLER_KEY}")):
        r = httpx.post(f"{gateway.url}/v1/messages", headers={header: value}, json=body)
        assert r.status_code == 200, r.text
        got = fakes["anthropic"].last.headers
        assert got[header] == value
        assert got["anthropic-version"]
    r = httpx.post(
        f"{gateway.url}/openai/v1/chat/completions",
        json={"model": "claude-x", "messages": USER_HI},
        headers={"authorization": f"Bearer {CALLER_KEY}"},
    )
    assert r.status_code == 200, r.text
    got = fakes["anthropic"].last.headers
    assert got["x-api-key"] == CALLER_KEY and "authorization" not in got


def test_gemini_query_key_moves_to_header(gateway, fakes):
    r = httpx.post(
        f"{gateway.url}/v1beta/models/gemini-2.5-flash:generateContent?key={CALLER_KEY}",
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    )
    assert r.status_code == 200, r.text
    got = fakes["gemini"].last
    assert "key" not in got.query
    assert got.headers["x-goog-api-key"] == GEMINI_KEY


def test_foreign_protocol_headers_not_forwarded(gateway, fakes):
    r = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o", "messages": USER_HI},
        headers={
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "x",
            "x-goog-api-client": "y",
            "openai-organization": "org-1",
        },
    )
    assert r.status_code == 200
    got = fakes["openai"].last.headers
    assert "anthropic-version" not in got and "anthropic-beta" not in got
    assert "x-goog-api-client" not in got
    assert got["openai-organization"] == "org-1"


# --------------------------------------------------------------------- the guard


def test_guard_openai_body_on_anthropic_route(gateway):
    body = {
        "model": "claude-x",
        "max_tokens": 10,
        "messages": [{"role": "system", "content": "Be brief"}, *USER_HI],
    }
    r = httpx.post(f"{gateway.url}/v1/messages", json=body, headers={"x-api-key": CALLER_KEY})
    assert r.status_code == 400
    err = r.json()
    assert err["type"] == "error"
    assert err["error"]["type"] == "invalid_request_error"
    message = err["error"]["message"]
    assert "OpenAI Chat Completions" in message
    assert "/v1/chat/completions" in message and "/openai/v1/chat/completions" in message
    assert "docs/routes.md" in message


def test_guard_gemini_body_on_openai_route_raises_in_sdk(gateway):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(gateway).chat.completions.create(
            model="gpt-4o", messages=USER_HI, extra_body={"contents": [{"parts": [{"text": "x"}]}]}
        )
    assert "Gemini" in caught.value.message
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.body["code"] == "400"  # the guard's error shape


def test_guard_model_of_another_protocol(gateway):
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client(gateway).messages.create(model="gpt-4o", max_tokens=10, messages=USER_HI)
    message = caught.value.message
    assert "openai" in message and "/anthropic/v1/messages" in message


def test_unknown_model_is_404_in_each_format(gateway):
    with pytest.raises(openai.NotFoundError) as o:
        openai_client(gateway).chat.completions.create(model="mystery-1", messages=USER_HI)
    assert "rules.yaml" in o.value.message
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client(gateway).messages.create(model="mystery-1", max_tokens=5, messages=USER_HI)
    with pytest.raises(genai_errors.ClientError) as g:
        gemini_client(gateway).models.generate_content(model="mystery-1", contents="Hi")
    assert g.value.code == 404


def test_invalid_json_is_400_in_callers_format(gateway):
    r = httpx.post(
        f"{gateway.url}/v1/messages",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["type"] == "error"
    r = httpx.post(f"{gateway.url}/v1beta/models/gemini-2.5-flash:generateContent", content=b"[1,")
    assert r.status_code == 400
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_unrouted_path_is_a_helpful_404(gateway):
    r = httpx.get(f"{gateway.url}/nothing/here")
    assert r.status_code == 404
    assert "/v1/chat/completions" in r.json()["error"]["message"]


# ------------------------------------------------------- ids, logs, other traffic


def test_request_id_honoured_and_logged(gateway, fakes):
    r = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o", "messages": USER_HI},
        headers={"x-request-id": "trace-abc-123", "authorization": f"Bearer {CALLER_KEY}"},
    )
    assert r.headers["x-request-id"] == "trace-abc-123"
    assert fakes["openai"].last.headers["x-request-id"] == "trace-abc-123"
    r = httpx.post(
        f"{gateway.url}/v1/chat/completions", json={"model": "gpt-4o", "messages": USER_HI}
    )
    assert r.headers["x-request-id"].startswith("gw-")
    line = _log_line(gateway, "trace-abc-123")
    assert line["route"] == "native:/v1/chat/completions"
    assert line["client"] == "openai_chat" and line["provider"] == "openai"
    assert line["model"] == "gpt-4o" and line["status"] == 200 and line["ms"] >= 0
    assert line["tokens"]["in"] > 0 and line["tokens"]["out"] > 0  # usage is recorded


def test_usage_recorded_for_translated_streams(gateway, fakes):
    body = {"model": "claude-x", "stream": True, "messages": USER_HI}
    headers = {"x-request-id": "trace-usage-1", "authorization": f"Bearer {CALLER_KEY}"}
    with httpx.stream(
        "POST", f"{gateway.url}/openai/v1/chat/completions", json=body, headers=headers
    ) as r:
        r.read()
    line = _log_line(gateway, "trace-usage-1")
    assert line["tokens"]["in"] > 0 and line["tokens"]["out"] > 0


def test_traffic_not_addressed_to_the_gateway_passes_untouched(gateway, fakes):
    # A client using mitmproxy as an ordinary HTTP proxy to reach some other server.
    target = fakes["openai"].url + "/v1/chat/completions"
    body = b'{"model": "mystery-model", "messages": []}'
    with httpx.Client(proxy=gateway.url) as client:
        r = client.post(target, content=body, headers={"authorization": "Bearer untouched"})
    assert r.status_code in (200, 400)
    got = fakes["openai"].last
    assert got.body == body
    assert got.headers["authorization"] == "Bearer untouched"
    assert "x-request-id" not in got.headers or not got.headers["x-request-id"].startswith("gw-")


def _log_line(gateway, request_id: str) -> dict:
    """The request's log line; written by the response hook, which for a stream runs
    just after the caller has read the last byte, so it may take a moment."""
    deadline = time.monotonic() + 3
    while True:
        for line in gateway.log().splitlines():
            if f'"id":"{request_id}"' in line:
                return orjson.loads(line[line.index("{") :])
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line for {request_id}:\n{gateway.log()}")
        time.sleep(0.05)


def test_openai_body_with_max_tokens_is_not_taken_for_anthropic(gateway, fakes):
    r = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"authorization": f"Bearer {CALLER_KEY}"},
        json={"model": "gpt-4o", "max_tokens": 100, "messages": USER_HI},
    )
    assert r.status_code == 200, r.text


def test_request_id_echoed_on_streams_too(gateway, fakes):
    for url, body in (
        (
            f"{gateway.url}/v1/messages",
            {"model": "claude-x", "max_tokens": 5, "stream": True, "messages": USER_HI},
        ),
        (
            f"{gateway.url}/openai/v1/chat/completions",
            {"model": "claude-x", "stream": True, "messages": USER_HI},
        ),
    ):
        with httpx.stream(
            "POST",
            url,
            json=body,
            headers={"x-request-id": "trace-stream-1", "x-api-key": CALLER_KEY},
        ) as r:
            r.read()
        assert r.headers["x-request-id"] == "trace-stream-1"


def test_gzip_request_body_is_translated(gateway, fakes):
    import gzip

    body = gzip.compress(orjson.dumps({"model": "claude-x", "messages": USER_HI}))
    r = httpx.post(
        f"{gateway.url}/openai/v1/chat/completions",
        content=body,
        headers={
            "content-encoding": "gzip",
            "content-type": "application/json",
            "authorization": f"Bearer {CALLER_KEY}",
        },
    )
    assert r.status_code == 200, r.text
    got = fakes["anthropic"].last
    assert "content-encoding" not in got.headers
    assert got.json["messages"] == USER_HI


def test_bad_part_type_is_a_clean_400_not_a_crash(gateway, fakes):
    for path in ("/v1/chat/completions", "/openai/v1/chat/completions"):
        r = httpx.post(
            f"{gateway.url}{path}",
            json={
                "model": "claude-x" if "openai/" in path else "gpt-4o",
                "messages": [{"role": "user", "content": [{"type": []}]}],
            },
        )
        assert r.status_code == 400, r.text
        assert r.json()["error"]["type"] == "invalid_request_error"


GEMINI_BODY = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
CHAT_BODY = {"model": "gpt-4o", "response_format": {"type": "json_object"}, "messages": USER_HI}


@pytest.mark.parametrize(
    ("path", "body", "detected"),
    [
        ("/v1/messages", GEMINI_BODY, "Gemini"),  # named, not refused for lacking a model
        ("/v1/chat/completions", GEMINI_BODY, "Gemini"),
        ("/v1beta/models/gemini-2.5-flash:generateContent", CHAT_BODY, "OpenAI Chat"),
    ],
)
def test_guard_body_has_the_same_three_fields_on_every_native_route(gateway, path, body, detected):
    r = httpx.post(f"{gateway.url}{path}", json=body, headers={"x-api-key": CALLER_KEY})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "400"
    assert detected in error["message"] and "docs/routes.md" in error["message"]
    if path == "/v1/messages":
        assert r.json()["type"] == "error"
    if path.startswith("/v1beta"):
        assert error["status"] == "INVALID_ARGUMENT"


def test_guard_refusal_raises_the_anthropic_sdks_bad_request_error(gateway):
    with pytest.raises(anthropic.BadRequestError, match="Gemini"):
        anthropic_client(gateway).messages.create(
            model="claude-x", max_tokens=5, messages=USER_HI, extra_body={"contents": []}
        )


@pytest.mark.parametrize(
    ("path", "envelope"),
    [
        ("/v1/chat/completions", "openai"),
        ("/anthropic/v1/messages", "anthropic"),
        ("/v1beta/models/gemini-2.5-flash:generateContent", "gemini"),
    ],
)
def test_wrong_method_on_a_route_is_405_with_allow(gateway, path, envelope):
    r = httpx.get(f"{gateway.url}{path}", headers={"x-request-id": "req-405"})
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.headers["x-request-id"] == "req-405"
    body = r.json()
    assert "GET" in body["error"]["message"]
    assert ("type" in body) is (envelope == "anthropic")
    assert ("status" in body["error"]) is (envelope == "gemini")


def test_a_model_that_is_not_a_string_is_named_as_such(gateway):
    body = {"model": 5, "messages": USER_HI}
    r = httpx.post(f"{gateway.url}/openai/v1/chat/completions", json=body)
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "model must be a non-empty string"
    assert r.json()["error"]["param"] == "model"
