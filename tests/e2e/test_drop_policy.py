"""DESIGN principle 8 through real clients: sampling hints the target has no field for
are dropped and reported (x-gateway-dropped, the log line), unless the model's rule says
strict: true."""

from __future__ import annotations

import pytest
from google.genai import errors as genai_errors
from google.genai import types

from tests.e2e.clients import gemini_client, openai_client


def test_gemini_cli_top_k_reaches_openai_without_it_and_the_drop_is_reported(gateway, fakes):
    client = gemini_client(gateway, "/gemini")
    answer = client.models.generate_content(
        model="gpt-4o",
        contents="Hi",
        config=types.GenerateContentConfig(top_k=64, temperature=0, max_output_tokens=50),
    )
    assert answer.text
    sent = fakes["openai"].last.json
    assert "top_k" not in sent and sent["temperature"] == 0
    assert answer.sdk_http_response.headers["x-gateway-dropped"] == "top_k"
    assert '"dropped":["top_k"]' in gateway.log()


def test_anthropic_target_drops_an_openai_callers_seed_and_logit_bias(gateway, fakes):
    raw = openai_client(gateway, "/openai").chat.completions.with_raw_response.create(
        model="claude-sonnet-4-5",
        messages=[{"role": "user", "content": "Hi"}],
        seed=7,
        logit_bias={"50256": -100},
    )
    assert raw.headers["x-gateway-dropped"] == "logit_bias,seed"
    assert "seed" not in fakes["anthropic"].last.json


def test_a_strict_model_refuses_instead_of_dropping(gateway, fakes):
    with pytest.raises(genai_errors.ClientError) as caught:
        gemini_client(gateway, "/gemini").models.generate_content(
            model="strict-1", contents="Hi", config=types.GenerateContentConfig(top_k=64)
        )
    assert caught.value.code == 400 and "strict" in str(caught.value)


def test_nothing_dropped_means_no_header(gateway):
    raw = openai_client(gateway, "/openai").chat.completions.with_raw_response.create(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": "Hi"}]
    )
    assert "x-gateway-dropped" not in raw.headers
