"""Token counts across protocols: each counting codec's request and answer verbs, the
convert functions composing them, and which providers count natively."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from addons import token_counts
from addons.rules import parse_rules
from translators import convert
from translators.errors import TranslationError

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"

ANTHROPIC_COUNT = {
    "model": "claude-x",
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Hello there"}],
    "tools": [
        {
            "name": "lookup",
            "description": "Look it up.",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        }
    ],
}


def translated(body: dict, client, upstream, model: str = "m") -> dict:
    req = convert.parse_count_request(body, client, model=None)
    return orjson.loads(convert.render_count_request(req, upstream, model=model))


def test_anthropic_count_for_openai_is_a_responses_input_tokens_body():
    sent = translated(ANTHROPIC_COUNT, "anthropic", "openai_responses", "gpt-4.1")
    assert sent["model"] == "gpt-4.1" and sent["instructions"] == "Be brief."
    assert sent["tools"][0]["name"] == "lookup"
    assert set(sent) <= {"model", "input", "instructions", "tools", "tool_choice", "text"}


def test_anthropic_count_for_gemini_uses_the_generate_content_request_form():
    sent = translated(ANTHROPIC_COUNT, "anthropic", "gemini", "gemini-2.5-flash")
    inner = sent["generateContentRequest"]
    assert list(sent) == ["generateContentRequest"]
    assert inner["model"] == "models/gemini-2.5-flash"
    assert inner["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert "generationConfig" not in inner


def test_bare_contents_stay_bare_for_gemini():
    body = {"model": "m", "input": "Tell me a joke."}
    sent = translated(body, "openai_responses", "gemini")
    assert sent == {"contents": [{"role": "user", "parts": [{"text": "Tell me a joke."}]}]}


def test_gemini_count_for_anthropic_has_no_budget():
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    req = convert.parse_count_request(body, "gemini", model="claude-x")
    sent = orjson.loads(convert.render_count_request(req, "anthropic", model="claude-x"))
    assert sent == {"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]}


def test_responses_count_fields_only():
    body = {**ANTHROPIC_COUNT, "max_tokens": 100, "temperature": 0.5, "stream": True}
    sent = translated(body, "anthropic", "openai_responses")
    assert not {"max_output_tokens", "temperature", "stream", "store"} & set(sent)


@pytest.mark.parametrize(
    ("upstream", "answer", "client", "expected"),
    [
        (
            "openai_responses",
            "openai_responses/input_tokens_response.json",
            "anthropic",
            {"input_tokens": 11},
        ),
        ("anthropic", {"input_tokens": 7}, "gemini", None),
        ("gemini", {"totalTokens": 9, "cachedContentTokenCount": 2}, "openai_responses", None),
        ("gemini", {}, "anthropic", {"input_tokens": 0}),  # proto3 JSON leaves a zero out
    ],
)
def test_a_provider_count_in_the_callers_shape(upstream, answer, client, expected):
    raw = (SPEC / answer).read_bytes() if isinstance(answer, str) else orjson.dumps(answer)
    out, tokens = convert.translate_token_count(raw, upstream, client)
    body = orjson.loads(out)
    if expected is not None:
        assert body == expected
    if client == "gemini":
        assert body["totalTokens"] == tokens == 7
    if client == "openai_responses":
        assert body == {"object": "response.input_tokens", "input_tokens": 9}


def test_a_count_answer_that_is_no_count_is_refused():
    with pytest.raises(TranslationError):
        convert.translate_token_count(b'{"total": 3}', "anthropic", "gemini")


def test_the_plan_translates_errors_too():
    plan = token_counts.CountPlan("anthropic", "gemini")
    error = b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'
    answer = plan.answer(429, error, 3.0)
    assert answer.status == 429 and answer.retry_after == 3.0
    assert orjson.loads(answer.body or b"")["error"]["status"] == "RESOURCE_EXHAUSTED"
    ok = plan.answer(200, b'{"input_tokens": 5}', None)
    assert orjson.loads(ok.body or b"")["totalTokens"] == 5 and ok.notes == {"counted": 5}


RULES = """
providers:
  openai: {protocol: openai, base_url: "https://api.openai.com/v1"}
  ollama: {protocol: openai, base_url: "http://127.0.0.1:11434/v1"}
  ollama_native: {protocol: openai, base_url: "http://h/v1", count_tokens: native}
  codex: {protocol: openai, base_url: "http://h/v1", api: responses}
  anthropic: {protocol: anthropic, base_url: "https://api.anthropic.com"}
  proxy: {protocol: anthropic, base_url: "http://h", count_tokens: estimate}
  gemini: {protocol: gemini, base_url: "https://generativelanguage.googleapis.com"}
models:
  - {match: "via-responses", provider: ollama, api: responses}
"""


@pytest.mark.parametrize(
    ("model", "mode", "wire"),
    [
        ("openai/gpt-4.1", "native", "openai_responses"),
        ("ollama/llama3", "estimate", "openai_responses"),
        ("ollama_native/llama3", "native", "openai_responses"),
        ("codex/gpt-5-codex", "native", "openai_responses"),
        ("via-responses", "native", "openai_responses"),
        ("anthropic/claude-x", "native", "anthropic"),
        ("proxy/claude-x", "estimate", "anthropic"),
        ("gemini/gemini-x", "native", "gemini"),
    ],
)
def test_which_providers_count_natively(model, mode, wire):
    res = parse_rules(RULES, "rules.yaml", {}).resolve(model)
    assert res is not None
    assert token_counts.count_mode(res) == mode
    assert token_counts.count_wire(res) == wire


def test_count_tokens_must_be_native_or_estimate():
    bad = RULES.replace("count_tokens: estimate", "count_tokens: maybe")
    with pytest.raises(ValueError, match=r"providers\.proxy\.count_tokens"):
        parse_rules(bad, "rules.yaml", {})


def test_the_estimate_is_marked():
    answer = token_counts.estimate({"model": "m", "input": "x" * 40}, "openai_responses", None)
    assert orjson.loads(answer.body or b"")["input_tokens"] == 10
    assert answer.notes == {"counted": 10, "tokens_estimated": True}
