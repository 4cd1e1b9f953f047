"""Gateway keys (rules.yaml ``keys:``) with the official SDKs in all three formats: 401
without a valid key, 403 for a model outside the key's globs, 429 with retry-after past
rpm or tpm, success with the key's name in the log line and the metrics, and the key
never reaching a provider."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.e2e.test_ops import exchange_lines, sample, scrape, wait_for
from tests.harness import GATEWAY_KEYS, OPENAI_KEY, Gateway, rules_yaml, start_gateway

HI = [{"role": "user", "content": "Hi"}]
TEAM = GATEWAY_KEYS["GW_TEST_KEY_TEAM"]
GPT_ONLY = GATEWAY_KEYS["GW_TEST_KEY_GPT_ONLY"]
FORMATS = ("openai", "anthropic", "gemini")


def keys_yaml() -> str:
    return """
keys:
  - {name: team, key: "${GW_TEST_KEY_TEAM}"}
  - {name: gpt-only, key: "${GW_TEST_KEY_GPT_ONLY}", models: ["gpt-*"]}
  - {name: rpm-openai, key: "${GW_TEST_KEY_RPM_OPENAI}", rpm: 2}
  - {name: rpm-anthropic, key: "${GW_TEST_KEY_RPM_ANTHROPIC}", rpm: 2}
  - {name: rpm-gemini, key: "${GW_TEST_KEY_RPM_GEMINI}", rpm: 2}
  - {name: tpm-openai, key: "${GW_TEST_KEY_TPM_OPENAI}", tpm: 5}
  - {name: tpm-anthropic, key: "${GW_TEST_KEY_TPM_ANTHROPIC}", tpm: 5}
  - {name: tpm-gemini, key: "${GW_TEST_KEY_TPM_GEMINI}", tpm: 5}
"""


@pytest.fixture(scope="module")
def keyed(fakes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("keys")
    rules = folder / "rules.yaml"
    rules.write_text(rules_yaml(fakes) + keys_yaml())
    gw = start_gateway(rules, folder / "gw.log")
    yield gw
    gw.stop()


def call(gw: Gateway, fmt: str, key: str, model: str | None = None) -> object:
    """One generate call in ``fmt``'s SDK with ``key`` as its API key. The Anthropic SDK
    goes through the converter (Claude's provider holds no key: see below)."""
    if fmt == "openai":
        client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=key, max_retries=0)
        return client.chat.completions.create(model=model or "gpt-4o", messages=HI)
    if fmt == "anthropic":
        aclient = anthropic.Anthropic(base_url=f"{gw.url}/anthropic", api_key=key, max_retries=0)
        return aclient.messages.create(model=model or "gpt-4o", max_tokens=20, messages=HI)
    gclient = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=f"{gw.url}/"))
    return gclient.models.generate_content(model=model or "gemini-2.5-flash", contents="Hi")


def status_of(fmt: str) -> Callable[[BaseException], int]:
    return lambda e: e.code if isinstance(e, genai_errors.APIError) else e.status_code  # type: ignore[attr-defined]


def refused(gw: Gateway, fmt: str, key: str, model: str | None = None) -> BaseException:
    errors = {
        "openai": openai.APIStatusError,
        "anthropic": anthropic.APIStatusError,
        "gemini": genai_errors.APIError,
    }[fmt]
    with pytest.raises(errors) as e:
        call(gw, fmt, key, model)
    return e.value


def fresh_minute() -> None:
    """Limits count per clock minute: don't start a count that a new minute would reset."""
    left = 60 - time.time() % 60
    if left < 8:
        time.sleep(left + 0.2)


def never_reached_a_provider(fakes, *keys: str) -> None:
    for fake in fakes.values():
        for received in fake.received:
            seen = repr(received.headers) + repr(received.query) + repr(received.body)
            assert not any(k in seen for k in keys), f"a gateway key reached {received.path}"


# ------------------------------------------------------------------------------ 401


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_key_is_a_401_in_the_callers_format(keyed, fakes, fmt):
    error = refused(keyed, fmt, "gw-key-not-configured-9999")
    assert status_of(fmt)(error) == 401
    assert "gateway key is not valid" in str(error)
    if fmt == "openai":
        assert isinstance(error, openai.AuthenticationError)
    elif fmt == "anthropic":
        assert isinstance(error, anthropic.AuthenticationError)
    assert all(not fake.received for fake in fakes.values())


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/chat/completions", {}),
        ("/anthropic/v1/messages", {"anthropic-version": "2023-06-01"}),
        ("/v1beta/models/gemini-2.5-flash:generateContent", {}),
    ],
)
def test_no_key_at_all_is_a_401_in_the_routes_format(keyed, fakes, path, headers):
    # Raw HTTP: the SDKs refuse to send a request without an API key.
    answer = httpx.post(f"{keyed.url}{path}", json={"model": "gpt-4o"}, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["x-request-id"]
    body = answer.json()
    assert "requires a gateway key" in str(body)
    if path.startswith("/anthropic"):
        assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    elif "v1beta" in path:
        assert body["error"]["status"] == "UNAUTHENTICATED"
    else:
        assert body["error"]["type"] == "authentication_error"
    assert all(not fake.received for fake in fakes.values())


def test_state_paths_need_a_key_too_and_ops_paths_do_not(keyed, fakes):
    client = openai.OpenAI(base_url=f"{keyed.url}/openai/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.responses.retrieve("resp_does_not_exist")
    client = openai.OpenAI(base_url=f"{keyed.url}/openai/v1", api_key=TEAM, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_does_not_exist")
    for path in ("/health", "/health/ready", "/metrics"):
        assert httpx.get(f"{keyed.url}{path}").status_code == 200


# ------------------------------------------------------------------------------ 403


@pytest.mark.parametrize(
    ("fmt", "model"),
    [("openai", "claude-sonnet-4-5"), ("anthropic", "claude-sonnet-4-5"), ("gemini", None)],
)
def test_a_model_outside_the_keys_globs_is_a_403(keyed, fakes, fmt, model):
    error = refused(keyed, fmt, GPT_ONLY, model)
    assert status_of(fmt)(error) == 403
    assert "gateway key 'gpt-only' may not use model" in str(error)
    assert all(not fake.received for fake in fakes.values())
    # The same key on a model its globs allow.
    if fmt != "gemini":
        call(keyed, fmt, GPT_ONLY, "gpt-4o")


# ------------------------------------------------------------------------------ 429


@pytest.mark.parametrize("fmt", FORMATS)
def test_over_rpm_is_a_429_with_retry_after(keyed, fakes, fmt):
    fresh_minute()
    key = GATEWAY_KEYS[f"GW_TEST_KEY_RPM_{fmt.upper()}"]
    call(keyed, fmt, key)
    call(keyed, fmt, key)
    error = refused(keyed, fmt, key)
    assert status_of(fmt)(error) == 429
    assert f"'rpm-{fmt}' is over its limit of 2 requests per minute" in str(error)
    assert 1 <= int(error.response.headers["retry-after"]) <= 60  # type: ignore[attr-defined]
    if fmt == "gemini":  # Gemini clients read the delay from the body's RetryInfo
        assert "RetryInfo" in str(error)
    assert len([r for f in fakes.values() for r in f.received]) == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_over_tpm_is_a_429_once_recorded_usage_reaches_it(keyed, fakes, fmt):
    fresh_minute()
    key = GATEWAY_KEYS[f"GW_TEST_KEY_TPM_{fmt.upper()}"]
    call(keyed, fmt, key)  # the fakes' answers use more than 5 tokens
    error = refused(keyed, fmt, key)
    assert status_of(fmt)(error) == 429
    assert f"'tpm-{fmt}' is over its limit of 5 tokens per minute" in str(error)
    assert 1 <= int(error.response.headers["retry-after"]) <= 60  # type: ignore[attr-defined]


# -------------------------------------------------------------------------- success


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_valid_key_is_served_named_in_the_log_and_never_forwarded(keyed, fakes, fmt):
    answer = call(keyed, fmt, TEAM)
    assert answer is not None
    # The provider got its own configured key, never the gateway key.
    received = fakes["gemini" if fmt == "gemini" else "openai"].last
    if fmt == "gemini":
        assert "x-goog-api-key" in received.headers
    else:
        assert received.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    never_reached_a_provider(fakes, *GATEWAY_KEYS.values())
    client = "gemini" if fmt == "gemini" else ("anthropic" if fmt == "anthropic" else "openai_chat")
    assert wait_for(
        lambda: any(
            line.get("key") == "team" and line["client"] == client and line["status"] == 200
            for line in exchange_lines(keyed.log())
        )
    )
    samples = scrape(keyed)
    assert any(
        name == "gateway_requests_total" and ("key", "team") in labels for name, labels in samples
    )


def test_a_query_key_is_accepted_and_stripped(keyed, fakes):
    url = f"{keyed.url}/v1beta/models/gemini-2.5-flash:generateContent?key={TEAM}"
    answer = httpx.post(url, json={"contents": [{"parts": [{"text": "Hi"}]}]})
    assert answer.status_code == 200, answer.text
    assert "key" not in fakes["gemini"].last.query
    never_reached_a_provider(fakes, TEAM)


def test_a_provider_without_a_key_gets_no_credential_at_all(keyed, fakes):
    """With gateway keys on, the caller's credential is the gateway key: a provider with
    no api_key of its own gets none, and says so in its own 401."""
    client = anthropic.Anthropic(base_url=keyed.url, api_key=TEAM, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=20, messages=HI)
    sent = fakes["anthropic"].last.headers
    assert not {"authorization", "x-api-key", "x-goog-api-key"} & set(sent)
    never_reached_a_provider(fakes, TEAM)


def test_the_key_name_labels_the_metrics(keyed, fakes):
    call(keyed, "openai", TEAM)
    samples = scrape(keyed)
    labels = {
        "route": "native:/v1/chat/completions",
        "client": "openai_chat",
        "provider": "openai",
        "model": "gpt-4o",
        "key": "team",
    }
    assert sample(samples, "gateway_requests_total", **labels, status="200") >= 1
    wrong = {"route": "native:/v1/chat/completions", "client": "openai_chat"}
    refusals = sample(
        samples, "gateway_requests_total", **wrong, provider="-", model="-", key="", status="401"
    )
    assert refusals >= 1
    text = httpx.get(f"{keyed.url}/metrics").text
    assert not any(k in text for k in GATEWAY_KEYS.values())


def test_keys_live_in_the_rules_file(tmp_path: Path, fakes):
    """Keys reload with the rules: a key added to a running gateway works at once."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes) + keys_yaml().split("  - {name: gpt-only")[0])
    gw = start_gateway(rules, tmp_path / "gw.log")
    try:
        assert status_of("openai")(refused(gw, "openai", GPT_ONLY)) == 401
        rules.write_text(rules_yaml(fakes) + keys_yaml())
        assert wait_for(lambda: _served(gw, GPT_ONLY))
    finally:
        gw.stop()


def _served(gw: Gateway, key: str) -> bool:
    try:
        call(gw, "openai", key)
    except openai.AuthenticationError:
        return False
    return True


# ---------------------------------------------------------------------- Redis limits


def _redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_redis_limits_are_shared_by_two_gateway_processes(fakes, tmp_path):
    if not _redis_answers():
        pytest.skip("no Redis answers at 127.0.0.1:6379 (start redis-server to run this test)")
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=15).delete(
        *[f"gateway:limits:shared:{int(time.time() // 60) + n}" for n in (0, 1)]
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        rules_yaml(fakes)
        + "limits: {store: 'redis://127.0.0.1:6379/15'}\n"
        + 'keys:\n  - {name: shared, key: "${GW_TEST_KEY_SHARED}", rpm: 3}\n'
    )
    first = start_gateway(rules, tmp_path / "first.log")
    second = start_gateway(rules, tmp_path / "second.log")
    try:
        fresh_minute()
        key = GATEWAY_KEYS["GW_TEST_KEY_SHARED"]
        call(first, "openai", key)
        call(second, "openai", key)
        call(first, "gemini", key)
        # The fourth request this minute is over the shared rpm, whichever process gets it.
        error = refused(second, "anthropic", key)
        assert status_of("anthropic")(error) == 429
        assert "'shared' is over its limit of 3 requests per minute" in str(error)
        assert isinstance(error, anthropic.RateLimitError)
    finally:
        first.stop()
        second.stop()
