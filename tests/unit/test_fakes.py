"""The fake upstreams speak each provider's exact wire format.

The official SDKs talk to the fakes directly (no gateway): if an SDK parses a fake's
replies and raises the right exception class for its errors, the end-to-end tests that
put the gateway in between are testing the gateway and not the fakes. Raw HTTP checks
cover what SDKs hide: chunk boundaries, truncation, keep-alive, recorded bytes.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anthropic
import openai
import orjson
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from tests.fakes import FakeUpstream, Received, Reply

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "spec"
OPENAI_AUTH = {"authorization": "Bearer k"}
ANTHROPIC_AUTH = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
GEMINI_AUTH = {"x-goog-api-key": "k"}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def openai_server() -> Iterator[FakeUpstream]:
    with FakeUpstream("openai") as fake:
        yield fake


@pytest.fixture(scope="module")
def anthropic_server() -> Iterator[FakeUpstream]:
    with FakeUpstream("anthropic") as fake:
        yield fake


@pytest.fixture(scope="module")
def gemini_server() -> Iterator[FakeUpstream]:
    with FakeUpstream("gemini") as fake:
        yield fake


@pytest.fixture
def oai(openai_server: FakeUpstream) -> FakeUpstream:
    openai_server.clear()
    return openai_server


@pytest.fixture
def ant(anthropic_server: FakeUpstream) -> FakeUpstream:
    anthropic_server.clear()
    return anthropic_server


@pytest.fixture
def gem(gemini_server: FakeUpstream) -> FakeUpstream:
    gemini_server.clear()
    return gemini_server


@dataclass
class Response:
    """A plain HTTP answer; stdlib only, since the SDK generations use different clients."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return orjson.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


def request(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None
) -> Response:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        answer = conn.getresponse()
        content = answer.read()
        names = {name.lower(): value for name, value in answer.getheaders()}
        return Response(answer.status, names, content)
    finally:
        conn.close()


def post(fake: FakeUpstream, path: str, body: object, headers: dict[str, str]) -> Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return request(fake.url + path, "POST", raw, headers)


def raw_exchange(fake: FakeUpstream, request: bytes) -> tuple[bytes, list[bytes], bool]:
    """Send one request, read to EOF, and return (head, chunk payloads, saw last-chunk)."""
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while piece := sock.recv(65536):
            data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    chunks: list[bytes] = []
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0:
            return head, chunks, True
        chunks.append(rest[:size])
        rest = rest[size + 2 :]
    return head, chunks, False


def http_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", "connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- OpenAI SDK -----------------------------------------------------------------------


def openai_client(fake: FakeUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)


def test_openai_sdk_reads_the_canned_completion(oai: FakeUpstream) -> None:
    reply = openai_client(oai).chat.completions.create(model="gpt-test", messages=HI)
    example = orjson.loads((FIXTURES / "openai_chat/response_text_2026.json").read_bytes())
    assert reply.model == "gpt-test"
    assert reply.id == example["id"]
    assert reply.choices[0].message.content == example["choices"][0]["message"]["content"]
    assert reply.usage is not None and reply.usage.total_tokens == 379
    assert oai.last.path == "/v1/chat/completions"
    assert oai.last.headers["authorization"] == "Bearer k"
    assert oai.last.json == {"model": "gpt-test", "messages": HI}


def test_openai_sdk_streams_with_a_usage_chunk(oai: FakeUpstream) -> None:
    stream = openai_client(oai).chat.completions.create(
        model="gpt-test", messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("I'm unable to provide real-time weather updates.")
    assert {c.model for c in chunks} == {"gpt-test"}
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 44
    assert all(c.usage is None for c in chunks[:-1])


def test_openai_stream_without_include_usage_sends_no_usage_chunk(oai: FakeUpstream) -> None:
    body = {"model": "m", "messages": HI, "stream": True}
    response = post(oai, "/v1/chat/completions", body, OPENAI_AUTH)
    events = [e for e in response.content.split(b"\n\n") if e]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["transfer-encoding"] == "chunked"
    assert events[-1] == b"data: [DONE]"
    payloads = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert all(p["choices"] for p in payloads)
    assert payloads[-2]["choices"][0]["finish_reason"] is None
    assert payloads[-1]["choices"][0]["finish_reason"] == "stop"


def test_openai_sdk_raises_rate_limit_error(oai: FakeUpstream) -> None:
    oai.enqueue(Reply.error("openai", 429))
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(oai).chat.completions.create(model="m", messages=HI)
    assert caught.value.status_code == 429


def test_openai_sdk_lists_models(oai: FakeUpstream) -> None:
    ids = [m.id for m in openai_client(oai).models.list()]
    assert ids == ["model-id-0", "model-id-1", "model-id-2"]


# --- Anthropic SDK --------------------------------------------------------------------


def anthropic_client(fake: FakeUpstream) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fake.url, api_key="k", max_retries=0)


def test_anthropic_sdk_reads_the_canned_message(ant: FakeUpstream) -> None:
    message = anthropic_client(ant).messages.create(model="claude-test", max_tokens=64, messages=HI)
    assert message.model == "claude-test"
    assert message.id == "msg_01VdEjxAP5ahtHKrrRdNBteQ"
    assert message.content[0].type == "text"
    assert message.content[0].text.startswith("Hello! I'm doing well")
    assert message.stop_reason == "end_turn"
    sent = ant.last
    assert sent.path == "/v1/messages"
    assert sent.headers.get("x-api-key") == "k" or sent.headers.get("authorization") == "Bearer k"
    assert "anthropic-version" in sent.headers


def test_anthropic_sdk_stream_helper_builds_the_final_message(ant: FakeUpstream) -> None:
    client = anthropic_client(ant)
    with client.messages.stream(model="claude-test", max_tokens=64, messages=HI) as stream:
        message = stream.get_final_message()
    assert message.model == "claude-test"
    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello there!"
    assert message.usage.output_tokens == 6
    assert ant.last.json["stream"] is True


def test_anthropic_sdk_streams_a_scripted_tool_use_example(ant: FakeUpstream) -> None:
    ant.enqueue(Reply.example("anthropic/stream_text_then_tool_use.sse"))
    client = anthropic_client(ant)
    with client.messages.stream(model="claude-test", max_tokens=64, messages=HI) as stream:
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    tool = message.content[1]
    assert tool.type == "tool_use"
    assert tool.id == "toolu_01NRLabsLyVHZPKxbKvkfSMn"
    assert tool.input == {"location": "Paris"}


def test_anthropic_sdk_raises_on_overloaded(ant: FakeUpstream) -> None:
    ant.enqueue(Reply.error("anthropic", 529))
    expected = getattr(anthropic, "OverloadedError", anthropic.InternalServerError)
    with pytest.raises(expected) as caught:
        anthropic_client(ant).messages.create(model="m", max_tokens=8, messages=HI)
    assert caught.value.status_code == 529
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["error"]["type"] == "overloaded_error"
    assert body["request_id"].startswith("req_")


def test_anthropic_sdk_counts_tokens(ant: FakeUpstream) -> None:
    count = anthropic_client(ant).messages.count_tokens(model="claude-test", messages=HI)
    assert count.input_tokens > 0
    assert ant.last.path == "/v1/messages/count_tokens"


# --- google-genai SDK -----------------------------------------------------------------


def genai_client(fake: FakeUpstream) -> genai.Client:
    return genai.Client(api_key="k", http_options=genai_types.HttpOptions(base_url=fake.url))


def test_genai_sdk_reads_the_canned_response(gem: FakeUpstream) -> None:
    client = genai_client(gem)  # kept referenced: a collected Client closes its transport
    response = client.models.generate_content(model="gemini-test", contents="hi")
    assert response.text is not None and "Mountain View, California" in response.text
    assert response.model_version == "gemini-test"
    assert response.usage_metadata is not None
    assert response.usage_metadata.total_token_count == 29
    assert gem.last.path == "/v1beta/models/gemini-test:generateContent"
    assert gem.last.headers["x-goog-api-key"] == "k"


def test_genai_sdk_streams(gem: FakeUpstream) -> None:
    client = genai_client(gem)
    chunks = list(client.models.generate_content_stream(model="g", contents="hi"))
    assert "".join(c.text or "" for c in chunks) == "The capital of Wyoming is **Cheyenne**.\n"
    assert gem.last.query["alt"] == "sse"


def test_genai_sdk_raises_client_error_on_429(gem: FakeUpstream) -> None:
    gem.enqueue(Reply.error("gemini", 429))
    client = genai_client(gem)
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="g", contents="hi")
    assert caught.value.code == 429
    assert caught.value.status == "RESOURCE_EXHAUSTED"


def test_genai_sdk_counts_tokens(gem: FakeUpstream) -> None:
    client = genai_client(gem)
    count = client.models.count_tokens(model="g", contents="hello there")
    assert count.total_tokens is not None and count.total_tokens > 0
    assert gem.last.path == "/v1beta/models/g:countTokens"


# --- recording and the script ---------------------------------------------------------


def test_requests_are_recorded_with_lower_cased_headers_and_exact_bytes(
    oai: FakeUpstream,
) -> None:
    raw = b'{"model": "m",\n "messages": [{"role": "user", "content": "hi"}]}'
    headers = {"Authorization": "Bearer k", "X-Custom-Thing": "Yes"}
    request(oai.base_url + "/chat/completions?trace=1&x=y", "POST", raw, headers)
    sent = oai.last
    assert isinstance(sent, Received)
    assert (sent.method, sent.path, sent.query) == (
        "POST",
        "/v1/chat/completions",
        {"trace": "1", "x": "y"},
    )
    assert sent.headers["x-custom-thing"] == "Yes"
    assert all(name == name.lower() for name in sent.headers)
    assert sent.body == raw
    assert sent.json["model"] == "m"


def test_scripted_replies_are_used_in_order_then_defaults(oai: FakeUpstream) -> None:
    oai.enqueue(Reply.json({"n": 1}), Reply.json({"n": 2}, status=201, headers={"X-A": "b"}))
    first = post(oai, "/anything", b"not json", {})
    second = post(oai, "/anything", b"", {})
    third = post(oai, "/anything", b"", OPENAI_AUTH)
    assert first.json() == {"n": 1}
    assert (second.status_code, second.json(), second.headers["x-a"]) == (201, {"n": 2}, "b")
    assert third.status_code == 404
    assert len(oai.received) == 3
    oai.enqueue(Reply.json({"n": 3}))
    oai.clear()
    assert oai.received == []
    assert post(oai, "/anything", b"", OPENAI_AUTH).status_code == 404


def test_every_reply_carries_the_providers_request_id_header(
    oai: FakeUpstream, ant: FakeUpstream, gem: FakeUpstream
) -> None:
    assert request(oai.url + "/v1/models", headers=OPENAI_AUTH).headers["x-request-id"]
    assert request(ant.url + "/v1/models", headers=ANTHROPIC_AUTH).headers["request-id"]
    listed = request(gem.url + "/v1beta/models?key=k")
    assert listed.headers["content-type"] == "application/json; charset=UTF-8"
    assert listed.json()["models"][0]["name"] == "models/gemini-3.1-pro-preview"


# --- error replies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "status", "kind"),
    [
        ("openai", 400, "invalid_request_error"),
        ("openai", 401, "invalid_request_error"),
        ("openai", 429, "insufficient_quota"),
        ("openai", 500, "server_error"),
        ("openai", 503, "server_error"),
        ("anthropic", 400, "invalid_request_error"),
        ("anthropic", 401, "authentication_error"),
        ("anthropic", 429, "rate_limit_error"),
        ("anthropic", 500, "api_error"),
        ("anthropic", 529, "overloaded_error"),
        ("gemini", 400, "INVALID_ARGUMENT"),
        ("gemini", 404, "NOT_FOUND"),
        ("gemini", 429, "RESOURCE_EXHAUSTED"),
        ("gemini", 500, "INTERNAL"),
        ("gemini", 503, "UNAVAILABLE"),
    ],
)
def test_error_replies_have_the_provider_shape(protocol: str, status: int, kind: str) -> None:
    reply = Reply.error(protocol, status)
    body = orjson.loads(reply.body)
    assert reply.status == status
    assert (reply.headers.get("retry-after") == "1") is (status == 429)
    if protocol == "openai":
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] == kind
    elif protocol == "anthropic":
        assert body["type"] == "error"
        assert body["error"]["type"] == kind
        assert body["request_id"] == reply.headers["request-id"]
        assert body["request_id"].startswith("req_")
    else:
        assert body["error"]["code"] == status
        assert body["error"]["status"] == kind
        assert reply.headers["content-type"] == "application/json; charset=UTF-8"


def test_error_replies_use_the_spec_examples_and_take_a_message() -> None:
    key_invalid = orjson.loads(Reply.error("gemini", 400).body)
    assert key_invalid["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    custom = orjson.loads(Reply.error("openai", 429, "slow down").body)["error"]
    assert custom == {
        "message": "slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert orjson.loads(Reply.error("anthropic", 529).body)["error"]["message"] == "Overloaded"


# --- validation (empty queue) ---------------------------------------------------------


def test_missing_credentials_are_refused_in_each_providers_shape(
    oai: FakeUpstream, ant: FakeUpstream, gem: FakeUpstream
) -> None:
    body = {"model": "m", "messages": HI, "max_tokens": 5}
    openai_reply = post(oai, "/v1/chat/completions", body, {})
    assert openai_reply.status_code == 401
    assert openai_reply.json()["error"]["type"] == "invalid_request_error"
    anthropic_reply = post(ant, "/v1/messages", body, {"anthropic-version": "2023-06-01"})
    assert anthropic_reply.status_code == 401
    assert anthropic_reply.json()["error"]["type"] == "authentication_error"
    gemini_reply = post(gem, "/v1beta/models/g:generateContent", {"contents": []}, {})
    assert gemini_reply.status_code == 400
    assert gemini_reply.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_anthropic_accepts_bearer_auth_and_gemini_a_key_query(
    ant: FakeUpstream, gem: FakeUpstream
) -> None:
    headers = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}
    body = {"model": "m", "messages": HI, "max_tokens": 5}
    assert post(ant, "/v1/messages", body, headers).status_code == 200
    contents = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    assert post(gem, "/v1beta/models/g:generateContent?key=k", contents, {}).status_code == 200


def test_anthropic_missing_max_tokens_is_a_400_in_anthropic_shape(ant: FakeUpstream) -> None:
    response = post(ant, "/v1/messages", {"model": "m", "messages": HI}, ANTHROPIC_AUTH)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error"
    assert body["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }
    assert body["request_id"] == response.headers["request-id"]


def _anthropic_error(fake: FakeUpstream, body: dict, headers: dict | None = None) -> str:
    response = post(fake, "/v1/messages", body, headers or ANTHROPIC_AUTH)
    assert response.status_code == 400, response.text
    return response.json()["error"]["message"]


def test_anthropic_refuses_what_a_bad_translation_produces(ant: FakeUpstream) -> None:
    base = {"model": "m", "max_tokens": 50}
    call = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    answer = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}

    def message(*blocks: dict, role: str = "assistant") -> dict:
        return {"role": role, "content": list(blocks)}

    cases = {
        "stream_options: Extra inputs are not permitted": {
            **base,
            "messages": HI,
            "stream_options": {},
        },
        "messages.1.content.0.tool_use.extra_content: Extra inputs are not permitted": {
            **base,
            "messages": [
                HI[0],
                message({**call, "extra_content": {}}),
                message(answer, role="user"),
            ],
        },
        "messages: text content blocks must be non-empty": {
            **base,
            "messages": [
                HI[0],
                message({"type": "text", "text": ""}, call),
                message(answer, role="user"),
            ],
        },
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: "
        "toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the "
        "next message.": {**base, "messages": [HI[0], message(call), HI[0]]},
        "messages.1.content.0.tool_use.input: Input should be a valid dictionary": {
            **base,
            "messages": [HI[0], message({**call, "input": "{}"}), message(answer, role="user")],
        },
        "temperature: Input should be less than or equal to 1": {
            **base,
            "messages": HI,
            "temperature": 1.5,
        },
        "tool_choice: Input should be a valid dictionary or object": {
            **base,
            "messages": HI,
            "tool_choice": "required",
        },
        "messages.1.content.0: Invalid `signature` in `thinking` block": {
            **base,
            "messages": [
                HI[0],
                message({"type": "thinking", "thinking": "t", "signature": "gemini:abc"}),
            ],
        },
    }
    for expected, body in cases.items():
        assert _anthropic_error(ant, body) == expected
    no_version = {"x-api-key": "k"}
    assert _anthropic_error(ant, {**base, "messages": HI}, no_version).startswith(
        "anthropic-version"
    )
    merged = [HI[0], message(call, {**call, "id": "toolu_2"}), message(answer, role="user")]
    assert "toolu_2" in _anthropic_error(ant, {**base, "messages": merged})


def test_anthropic_accepts_a_full_tool_round_trip(ant: FakeUpstream) -> None:
    call = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}
    body = {
        "model": "m",
        "max_tokens": 2048,
        "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "messages": [
            HI[0],
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]},
            {"role": "user", "content": "and now?"},
        ],
    }
    response = post(ant, "/v1/messages", body, ANTHROPIC_AUTH)
    assert response.status_code == 200, response.text


def _openai_error(fake: FakeUpstream, body: dict) -> dict:
    response = post(fake, "/v1/chat/completions", body, OPENAI_AUTH)
    assert response.status_code == 400, response.text
    return response.json()["error"]


def test_openai_refuses_what_a_bad_translation_produces(oai: FakeUpstream) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    assistant = {"role": "assistant", "content": None, "tool_calls": [call]}
    tool = {"role": "tool", "tool_call_id": "call_1", "content": "ok"}
    orphan = _openai_error(oai, {"model": "m", "messages": [*HI, tool]})
    assert orphan["message"].startswith("Invalid parameter: messages with role 'tool'")
    assert orphan["param"] == "messages.[1].role"
    unanswered = _openai_error(oai, {"model": "m", "messages": [*HI, assistant, *HI]})
    assert unanswered["message"].endswith("did not have response messages: call_1")
    object_args = {**call, "function": {"name": "f", "arguments": {}}}
    bad_args = {**assistant, "tool_calls": [object_args]}
    wrong_type = _openai_error(oai, {"model": "m", "messages": [*HI, bad_args, tool]})
    assert wrong_type["code"] == "invalid_type"
    assert wrong_type["param"] == "messages[1].tool_calls[0].function.arguments"
    unknown = _openai_error(oai, {"model": "m", "messages": HI, "max_output_tokens": 5})
    assert unknown["message"] == "Unrecognized request argument supplied: max_output_tokens"
    options = _openai_error(oai, {"model": "m", "messages": HI, "stream_options": {}})
    assert options["param"] == "stream_options"
    missing = _openai_error(oai, {"model": "m"})
    assert missing["code"] == "missing_required_parameter"
    role = _openai_error(oai, {"model": "m", "messages": [{"role": "model", "content": "x"}]})
    assert role["param"] == "messages[0].role"
    ok = post(
        oai, "/v1/chat/completions", {"model": "m", "messages": [*HI, assistant, tool]}, OPENAI_AUTH
    )
    assert ok.status_code == 200


def _gemini_error(fake: FakeUpstream, contents: list, model: str = "gemini-2.5-flash") -> str:
    path = f"/v1beta/models/{model}:generateContent"
    response = post(fake, path, {"contents": contents}, GEMINI_AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    return response.json()["error"]["message"]


def test_gemini_refuses_split_function_responses_and_bad_parts(gem: FakeUpstream) -> None:
    user = {"role": "user", "parts": [{"text": "add"}]}
    calls = {
        "role": "model",
        "parts": [{"functionCall": {"name": "sum", "args": {"a": i}}} for i in (1, 2)],
    }

    def answers(*values: int) -> dict:
        parts = [{"functionResponse": {"name": "sum", "response": {"v": v}}} for v in values]
        return {"role": "user", "parts": parts}

    split = _gemini_error(gem, [user, calls, answers(1), answers(2)])
    assert split.startswith("Please ensure that the number of function response parts is equal")
    assert _gemini_error(gem, [{"role": "assistant", "parts": [{"text": "x"}]}]).startswith(
        "Please use a valid role"
    )
    leaked = [{"role": "user", "parts": [{"text": "x", "extra_content": {}}]}]
    assert 'Unknown name "extra_content"' in _gemini_error(gem, leaked)
    assert "contents is not specified" in _gemini_error(gem, [])
    foreign = {**calls, "parts": [{**calls["parts"][0], "thoughtSignature": "anthropic:sig"}]}
    assert "Base64 decoding failed" in _gemini_error(gem, [user, foreign, answers(1)])
    unsigned = _gemini_error(gem, [user, calls, answers(1, 2)], model="gemini-3-flash-preview")
    assert unsigned.startswith("Function call is missing a thought_signature")
    merged = {"contents": [user, calls, answers(1, 2)]}
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    assert post(gem, path, merged, GEMINI_AUTH).status_code == 200


def test_bad_json_and_unknown_paths_are_refused_in_provider_shape(
    oai: FakeUpstream, ant: FakeUpstream, gem: FakeUpstream
) -> None:
    assert post(oai, "/v1/chat/completions", b"{", OPENAI_AUTH).json()["error"]["type"] == (
        "invalid_request_error"
    )
    assert post(ant, "/v1/messages", b"{", ANTHROPIC_AUTH).status_code == 400
    assert post(gem, "/v1beta/models/g:generateContent", b"{", GEMINI_AUTH).status_code == 400
    assert post(oai, "/v1/nope", {}, OPENAI_AUTH).json()["error"]["message"] == (
        "Invalid URL (POST /v1/nope)"
    )
    assert post(ant, "/v1/nope", {}, ANTHROPIC_AUTH).json()["error"]["type"] == "not_found_error"
    assert post(gem, "/v1beta/nope", {}, GEMINI_AUTH).json()["error"]["status"] == "NOT_FOUND"


def _example_requests() -> list[Path]:
    folders = ("openai_chat", "anthropic", "gemini")
    return sorted(p for f in folders for p in (FIXTURES / f).glob("request_*.json"))


@pytest.mark.parametrize("path", _example_requests(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_spec_example_requests_are_accepted(
    path: Path, oai: FakeUpstream, ant: FakeUpstream, gem: FakeUpstream
) -> None:
    body = path.read_bytes()
    folder = path.parent.name
    if folder == "openai_chat":
        response = post(oai, "/v1/chat/completions", body, OPENAI_AUTH)
    elif folder == "anthropic":
        response = post(ant, "/v1/messages", body, ANTHROPIC_AUTH)
    else:
        model = "gemini-3-flash-preview" if "gemini3" in path.name else "gemini-2.5-flash"
        response = post(gem, f"/v1beta/models/{model}:generateContent", body, GEMINI_AUTH)
    if path.name == "request_function_response_turn.json":
        # The 2024 cookbook body answers with role "function"; current docs allow only
        # user and model, so the fake refuses it as the brief asks.
        assert response.status_code == 400
        return
    assert response.status_code == 200, response.text


# --- framing --------------------------------------------------------------------------


def test_examples_are_framed_like_their_provider() -> None:
    openai_frames = Reply.example(
        "openai_chat/stream_text_2026_usage_null_obfuscation.jsonl"
    ).frames
    assert openai_frames is not None
    assert openai_frames[0].startswith(b'data: {"id":"chatcmpl-')
    assert openai_frames[-1] == b"data: [DONE]\n\n"
    anthropic_frames = Reply.example("anthropic/stream_text_2025.jsonl").frames
    assert anthropic_frames is not None
    assert anthropic_frames[0].startswith(b'event: message_start\ndata: {"type":"message_start"')
    assert all(f.endswith(b"\n\n") for f in anthropic_frames)
    gemini_frames = Reply.example("gemini/stream_gemini3_function_call.jsonl").frames
    assert gemini_frames is not None
    assert all(f.startswith(b"data: {") and f.endswith(b"}\r\n\r\n") for f in gemini_frames)
    trimmed = Reply.example("anthropic/stream_text.sse")
    assert trimmed.frames is not None and trimmed.frames[-1].endswith(b"\n\n")
    assert len(trimmed.frames) == 9
    assert Reply.example("gemini/error_404_model_not_found.json").status == 404
    assert Reply.example("openai_chat/response_basic.json", status=201).status == 201


def test_chunk_size_sets_the_write_size(ant: FakeUpstream) -> None:
    raw = (FIXTURES / "anthropic/stream_text_then_tool_use.sse").read_bytes()
    ant.enqueue(Reply.sse(raw, chunk_size=100))
    head, chunks, terminated = raw_exchange(ant, http_request("/v1/messages", b"{}", {}))
    assert head.startswith(b"HTTP/1.1 200")
    assert b"\r\ntransfer-encoding: chunked" in head.lower()
    assert terminated
    assert b"".join(chunks) == raw
    assert [len(c) for c in chunks[:-1]] == [100] * (len(chunks) - 1)


def test_break_after_cuts_the_stream_without_the_last_chunk(ant: FakeUpstream) -> None:
    raw = (FIXTURES / "anthropic/stream_text.sse").read_bytes()
    ant.enqueue(Reply.sse(raw, break_after=300))
    _, chunks, terminated = raw_exchange(ant, http_request("/v1/messages", b"{}", {}))
    assert not terminated
    assert b"".join(chunks) == raw[:300]
    ant.enqueue(Reply.sse(raw, break_after=300))
    with pytest.raises(http.client.IncompleteRead) as caught:
        post(ant, "/v1/messages", b"{}", {})
    assert caught.value.partial == raw[:300]


def test_gemini_streams_a_json_array_without_alt_sse(gem: FakeUpstream) -> None:
    body = orjson.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    path = "/v1beta/models/gemini-test:streamGenerateContent"
    head, chunks, terminated = raw_exchange(gem, http_request(path, body, GEMINI_AUTH))
    assert terminated
    assert b"\r\ncontent-type: application/json; charset=utf-8\r\n" in head.lower()
    assert head.lower().count(b"\r\nserver:") == 1
    assert len(chunks) == 4
    assert chunks[0].startswith(b"[{") and chunks[1].startswith(b"\r\n,{")
    assert chunks[-1] == b"\r\n]"
    items = orjson.loads(b"".join(chunks))
    assert [i["modelVersion"] for i in items] == ["gemini-test"] * 3
    response = post(gem, path + "?alt=sse", body, GEMINI_AUTH)
    assert response.headers["content-type"] == "text/event-stream"
    assert response.content.count(b"\r\n\r\n") == 3


def test_streamed_writes_arrive_as_they_are_sent(ant: FakeUpstream) -> None:
    ant.enqueue(Reply.sse([b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n"], delay=0.25))
    arrivals: list[float] = []
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", ant.port), timeout=10) as sock:
        sock.sendall(http_request("/v1/messages", b"{}", {}))
        while sock.recv(65536):
            arrivals.append(time.monotonic() - start)
    assert len(arrivals) >= 3
    assert arrivals[-1] - arrivals[0] >= 0.45  # the first write did not wait for the last


def test_connections_are_kept_alive(oai: FakeUpstream) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", oai.port, timeout=10)
    try:
        conn.request("GET", "/v1/models", headers=OPENAI_AUTH)
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        conn.request("POST", "/v1/chat/completions", body=b"{", headers=OPENAI_AUTH)
        second = conn.getresponse()
        second.read()
        assert (first.status, second.status) == (200, 400)
        assert conn.sock is sock and sock is not None
    finally:
        conn.close()


def test_stop_frees_the_port() -> None:
    fake = FakeUpstream("gemini").start()
    port = fake.port
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    idle.request("GET", "/v1beta/models?key=k")
    idle.getresponse().read()
    fake.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    idle.close()


def test_cli_prints_base_urls_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.fakes", "--gemini-port", "0"]
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE) as proc:
        try:
            assert proc.stdout is not None
            urls = orjson.loads(proc.stdout.readline())
            assert set(urls) == {"openai", "anthropic", "gemini"}
            assert urls["openai"].endswith("/v1")
            listings = [
                request(urls["openai"] + "/models", headers=OPENAI_AUTH),
                request(urls["anthropic"] + "/v1/models", headers=ANTHROPIC_AUTH),
                request(urls["gemini"] + "/v1beta/models", headers=GEMINI_AUTH),
            ]
            assert [r.status_code for r in listings] == [200, 200, 200]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
