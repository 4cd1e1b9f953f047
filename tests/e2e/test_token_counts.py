"""Token counts for a model of another protocol, through the official SDKs: the count
is the provider's own (its counting endpoint was called with a translated request), in
the caller's count shape; a provider without a counting endpoint gets no request and the
gateway's estimate, which the log line says is one."""

from __future__ import annotations

import time

import anthropic
import orjson
import pytest
from google.genai import types

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes import Reply, canned
from tests.fakes.openai_responses import count_input_tokens

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
HISTORY = [
    {"role": "user", "content": "What is the weather in Paris? " * 20},
    {"role": "assistant", "content": "Let me look."},
    {"role": "user", "content": "Thanks."},
]


def provider_count(fakes, provider: str) -> tuple[str, int]:
    """The path the provider's fake was called on, and the number it answered."""
    (sent,) = fakes[provider].received
    if provider == "openai":
        return sent.path, count_input_tokens(sent.json, fakes["openai"].responses)["input_tokens"]
    if provider == "anthropic":
        return sent.path, canned.anthropic_count_tokens(sent.json)["input_tokens"]
    return sent.path, canned.gemini_count_tokens(sent.json)["totalTokens"]


def log_line(gateway, request_id: str) -> dict:
    """The request's log line, written just after the caller has its answer."""
    deadline = time.monotonic() + 3
    while True:
        for line in gateway.log().splitlines():
            if f'"id":"{request_id}"' in line:
                return orjson.loads(line[line.index("{") :])
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line for {request_id}")
        time.sleep(0.05)


# ------------------------------------------------------------ Anthropic callers


@pytest.mark.parametrize(
    ("model", "provider", "path"),
    [
        ("gpt-4.1-mini", "openai", "/v1/responses/input_tokens"),
        ("gemini-2.5-flash", "gemini", "/v1beta/models/gemini-2.5-flash:countTokens"),
    ],
)
def test_anthropic_count_tokens_asks_the_provider(gateway, fakes, model, provider, path):
    counted = anthropic_client(gateway, "/anthropic").messages.count_tokens(
        model=model, system="Be brief.", messages=HISTORY, tools=[WEATHER_TOOL]
    )
    sent_path, tokens = provider_count(fakes, provider)
    assert sent_path == path
    assert counted.input_tokens == tokens
    sent = fakes[provider].last.json
    if provider == "openai":
        assert sent["model"] == model and sent["instructions"] == "Be brief."
        assert sent["tools"][0]["name"] == "get_weather"
        assert "max_output_tokens" not in sent and "stream" not in sent
    else:  # system and tools only count in Gemini's generateContentRequest form
        inner = sent["generateContentRequest"]
        assert inner["model"] == f"models/{model}"
        assert inner["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert inner["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"
        assert len(inner["contents"]) == 3 and "generationConfig" not in inner


def test_a_provider_error_on_a_count_is_the_callers_error(gateway, fakes):
    fakes["gemini"].enqueue(Reply.error("gemini", 429, "quota for counting"))
    with pytest.raises(anthropic.RateLimitError) as caught:
        anthropic_client(gateway, "/anthropic").messages.count_tokens(
            model="gemini-2.5-flash", messages=HISTORY
        )
    assert "quota for counting" in caught.value.message


def test_a_server_without_a_counting_endpoint_gets_the_estimate(gateway, fakes):
    raw = anthropic_client(gateway, "/anthropic").messages.with_raw_response.count_tokens(
        model="local-llama", messages=[{"role": "user", "content": "x" * 400}]
    )
    assert raw.parse().input_tokens == 100  # the gateway's four characters a token
    assert fakes["openai"].received == []
    line = log_line(gateway, raw.headers["x-request-id"])
    assert line["tokens_estimated"] is True and line["counted"] == 100


# --------------------------------------------------------------- Gemini callers


@pytest.mark.parametrize(
    ("model", "provider", "path"),
    [
        ("claude-sonnet-4-5", "anthropic", "/v1/messages/count_tokens"),
        ("gpt-4.1-mini", "openai", "/v1/responses/input_tokens"),
    ],
)
def test_genai_count_tokens_asks_the_provider(gateway, fakes, model, provider, path):
    contents = [
        types.Content(role="user", parts=[types.Part(text="Tell me about Paris. " * 30)]),
        types.Content(role="model", parts=[types.Part(text="Paris is the capital of France.")]),
        types.Content(role="user", parts=[types.Part(text="And Lyon?")]),
    ]
    counted = gemini_client(gateway, "/gemini").models.count_tokens(model=model, contents=contents)
    sent_path, tokens = provider_count(fakes, provider)
    assert sent_path == path
    assert counted.total_tokens == tokens > 100
    raw = fakes[provider].last.json
    assert raw["model"] == model
    if provider == "anthropic":
        assert [m["role"] for m in raw["messages"]] == ["user", "assistant", "user"]
        assert "max_tokens" not in raw


# ----------------------------------------------------------- Responses callers


@pytest.mark.parametrize(
    ("model", "provider", "path"),
    [
        ("claude-sonnet-4-5", "anthropic", "/v1/messages/count_tokens"),
        ("gemini-2.5-flash", "gemini", "/v1beta/models/gemini-2.5-flash:countTokens"),
    ],
)
def test_responses_input_tokens_count_asks_the_provider(gateway, fakes, model, provider, path):
    counted = openai_client(gateway, "/openai").responses.input_tokens.count(
        model=model, instructions="Be brief.", input="Tell me a joke about tokens. " * 10
    )
    sent_path, tokens = provider_count(fakes, provider)
    assert sent_path == path
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens == tokens


def test_a_native_count_passes_through(gateway, fakes):
    counted = anthropic_client(gateway).messages.count_tokens(
        model="claude-sonnet-4-5", messages=HISTORY
    )
    assert fakes["anthropic"].last.path == "/v1/messages/count_tokens"
    assert counted.input_tokens == provider_count(fakes, "anthropic")[1]
