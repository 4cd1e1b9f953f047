"""Which credential leaves the gateway, and that no key comes back in an answer."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from tests.e2e.clients import anthropic_client, openai_client
from tests.fakes.replies import Reply
from tests.harness import CALLER_KEY, OPENAI_KEY

CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key")


def sent_credentials(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in CREDENTIAL_HEADERS}


def test_an_openai_caller_sending_an_anthropic_header_too_leaves_only_its_bearer(gateway, fakes):
    client = openai_client(gateway, default_headers={"x-api-key": "sk-ant-not-for-openai"})
    client.chat.completions.create(model="local-1", messages=[{"role": "user", "content": "hi"}])
    sent = sent_credentials(fakes["openai"].last.headers)
    assert sent == {"authorization": f"Bearer {CALLER_KEY}"}


def test_an_anthropic_caller_sending_a_bearer_too_leaves_only_its_api_key(gateway, fakes):
    # Raw HTTP: the anthropic SDK sends x-api-key (0.x) or a Bearer token (2.x) itself.
    headers = {"x-api-key": CALLER_KEY, "authorization": "Bearer sk-openai-not-for-anthropic"}
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }
    answer = httpx.post(f"{gateway.url}/v1/messages", json=body, headers=headers, timeout=10)
    assert answer.status_code == 200
    assert sent_credentials(fakes["anthropic"].last.headers) == {"x-api-key": CALLER_KEY}


@pytest.mark.parametrize("prefix", ["", "/anthropic"])
def test_an_upstream_error_echoing_the_key_is_scrubbed(gateway, fakes, prefix):
    echo = {"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}", "type": "x"}}
    fakes["openai"].enqueue(Reply.json(echo, status=401))
    if prefix:
        client = anthropic_client(gateway, prefix)
        with pytest.raises(anthropic.AuthenticationError) as e:
            client.messages.create(
                model="gpt-4o", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
            )
    else:
        with pytest.raises(openai.AuthenticationError) as e:
            openai_client(gateway).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
    assert OPENAI_KEY not in str(e.value) and "[redacted]" in str(e.value)


def test_a_malformed_provider_answer_is_a_502_in_the_callers_format(gateway, fakes):
    fakes["gemini"].enqueue(Reply.json({"candidates": {"x": 1}}))
    with pytest.raises(anthropic.InternalServerError) as caught:
        anthropic_client(gateway, "/anthropic").messages.create(
            model="gemini-2.5-flash", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 502
    assert "candidates" in caught.value.message
