"""``/p/{provider}/{path}`` through a real gateway: any method to the provider's base URL,
its credential only, the body and the answer untouched, a stream as it comes."""

from __future__ import annotations

import time
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from tests.e2e.clients import anthropic_client, openai_client
from tests.fakes import FakeUpstream
from tests.fakes.canned import openai_models
from tests.fakes.replies import Reply
from tests.harness import CALLER_KEY, GEMINI_KEY, OPENAI_KEY, Gateway, rules_yaml, start_gateway

CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key")


def credentials(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k in CREDENTIAL_HEADERS}


def test_get_reaches_the_openai_base_url_with_its_key_only(
    gateway: Gateway, fakes: dict[str, FakeUpstream]
) -> None:
    headers = {"authorization": f"Bearer {CALLER_KEY}", "x-api-key": "sk-ant-not-for-openai"}
    answer = httpx.get(f"{gateway.url}/p/openai/models", headers=headers)
    assert answer.status_code == 200 and answer.json() == openai_models()
    assert answer.headers["x-request-id"]
    received = fakes["openai"].last
    assert (received.method, received.path) == ("GET", "/v1/models")
    assert credentials(received.headers) == {"authorization": f"Bearer {OPENAI_KEY}"}


def test_get_reaches_anthropic_with_the_callers_key_and_query(
    gateway: Gateway, fakes: dict[str, FakeUpstream]
) -> None:
    headers = {"x-api-key": CALLER_KEY, "anthropic-version": "2023-06-01"}
    answer = httpx.get(f"{gateway.url}/p/anthropic/v1/models?limit=1", headers=headers)
    assert answer.status_code == 200 and answer.json()["has_more"] is True
    received = fakes["anthropic"].last
    assert (received.path, received.query) == ("/v1/models", {"limit": "1"})
    assert credentials(received.headers) == {"x-api-key": CALLER_KEY}


def test_gemini_key_in_the_query_is_replaced_by_the_held_key_in_its_header(
    gateway: Gateway, fakes: dict[str, FakeUpstream]
) -> None:
    url = f"{gateway.url}/p/gemini/v1beta/models?key={CALLER_KEY}&pageSize=1"
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.json()["nextPageToken"]
    received = fakes["gemini"].last
    assert (received.path, received.query) == ("/v1beta/models", {"pageSize": "1"})
    assert credentials(received.headers) == {"x-goog-api-key": GEMINI_KEY}


@pytest.mark.parametrize(
    ("provider", "path", "body", "upstream_path"),
    [
        (
            "openai",
            "chat/completions",
            b'{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]}',
            "/v1/chat/completions",
        ),
        (
            "anthropic",
            "v1/messages",
            b'{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"Hi"}]}',
            "/v1/messages",
        ),
        (
            "gemini",
            "v1beta/models/gpt-4o:generateContent",
            b'{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}',
            "/v1beta/models/gpt-4o:generateContent",
        ),
    ],
)
def test_post_goes_untranslated_whatever_the_model(
    gateway: Gateway, fakes: dict[str, FakeUpstream], provider, path, body, upstream_path
) -> None:
    """The model names another protocol's model, and still nothing is converted."""
    headers = {"content-type": "application/json", "x-api-key": CALLER_KEY}
    answer = httpx.post(f"{gateway.url}/p/{provider}/{path}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    received = fakes[provider].last
    assert (received.method, received.path, received.body) == ("POST", upstream_path, body)
    for other in {"openai", "anthropic", "gemini"} - {provider}:
        assert not fakes[other].received


def test_an_official_sdk_works_with_a_passthrough_base_url(
    gateway: Gateway, fakes: dict[str, FakeUpstream]
) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/p/openai", api_key=CALLER_KEY, max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
    )
    assert reply.choices[0].message.content
    assert fakes["openai"].last.headers["authorization"] == f"Bearer {OPENAI_KEY}"


def test_a_streamed_answer_arrives_chunk_by_chunk(
    gateway: Gateway, fakes: dict[str, FakeUpstream]
) -> None:
    frames = [b'data: {"n":1}\n\n', b'data: {"n":2}\n\n', b'data: {"n":3}\n\n']
    fakes["openai"].enqueue(Reply.sse(frames, delay=0.6))
    arrivals: list[tuple[float, bytes]] = []
    with httpx.stream(
        "POST", f"{gateway.url}/p/openai/chat/completions", content=b"{}", timeout=10
    ) as answer:
        assert answer.headers["content-type"] == "text/event-stream"
        for chunk in answer.iter_raw():
            arrivals.append((time.monotonic(), chunk))
    assert b"".join(c for _, c in arrivals) == b"".join(frames)
    # The first event was in the caller's hands well before the upstream finished.
    assert arrivals[-1][0] - arrivals[0][0] > 0.9
    assert arrivals[0][1].startswith(frames[0])


def test_an_upstream_error_comes_back_as_it_was(
    gateway: Gateway, fakes: dict[str, FakeUpstream]
) -> None:
    fakes["anthropic"].enqueue(Reply.error("anthropic", 429))
    with pytest.raises(anthropic.RateLimitError):
        anthropic_client(gateway, "/p/anthropic").models.list()


def test_an_unknown_provider_is_a_404_naming_the_configured_ones(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client(gateway, "/p/nope").models.list()
    assert "anthropic, compat, gemini, openai, responses_only" in caught.value.message
    with pytest.raises(anthropic.NotFoundError) as caught_anthropic:
        anthropic_client(gateway, "/p/nope").models.list()
    assert "No provider named 'nope'" in caught_anthropic.value.message


def test_passthrough_in_reverse_mode_is_not_taken_for_a_gateway_route(
    fakes: dict[str, FakeUpstream], tmp_path: Path
) -> None:
    """In reverse mode every request is the gateway's: the rewritten path must not then
    be routed (and translated) as ``/v1/chat/completions``."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    gw = start_gateway(
        rules,
        tmp_path / "gw.log",
        "--mode",
        f"reverse:{fakes['anthropic'].url}",
        "--set",
        "connection_strategy=lazy",
    )
    try:
        body = b'{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]}'
        answer = httpx.post(
            f"{gw.url}/p/openai/chat/completions",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        assert fakes["openai"].last.body == body
        assert not fakes["anthropic"].received
    finally:
        gw.stop()
