"""Model lists through a real gateway with the official SDKs: OpenAI's, Anthropic's and
Gemini's shapes, native and converter, paged by the providers and by the caller,
cached, and a provider that cannot be listed left out without failing the list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from google.genai import errors as genai_errors

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes import FakeUpstream
from tests.fakes.replies import Reply
from tests.harness import (
    CALLER_KEY,
    GEMINI_KEY,
    OPENAI_KEY,
    Gateway,
    free_port,
    rules_yaml,
    start_gateway,
)

CLAUDES = ["claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]
GEMINIS = ["gemini-3.1-pro-preview", "gemini-2.5-flash", "gemini-embedding-001"]
# The OpenAI fake lists model-id-0..2, which no rule routes: each is listed under the
# name that reaches the provider that listed it. Three providers share that fake.
OPENAI_IDS = [f"{p}/model-id-{i}" for p in ("openai",) for i in range(3)]
COMPAT_IDS = [f"{p}/model-id-{i}" for p in ("compat", "responses_only") for i in range(3)]
EVERY_ID = [*OPENAI_IDS, *CLAUDES, *GEMINIS, *COMPAT_IDS, "sonnet", "flash"]


@pytest.fixture(scope="module")
def uncached(rules_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway that asks the providers on every list, so a test sees what they got."""
    log = tmp_path_factory.mktemp("gw-uncached") / "mitmdump.log"
    gw = start_gateway(rules_path, log, "--set", "models_cache_seconds=0")
    yield gw
    gw.stop()


# ------------------------------------------------------------------ OpenAI shape


def test_openai_sdk_native_lists_the_openai_protocol_providers(gateway: Gateway) -> None:
    models = list(openai_client(gateway).models.list())
    assert [m.id for m in models] == [*OPENAI_IDS, *COMPAT_IDS]
    assert models[0].owned_by == "organization-owner" and models[0].created == 1686935002


def test_openai_sdk_converter_lists_every_provider(gateway: Gateway) -> None:
    models = {m.id: m for m in openai_client(gateway, "/openai").models.list()}
    assert list(models) == EVERY_ID
    assert models["claude-opus-4-6"].owned_by == "anthropic"
    assert models["claude-opus-4-6"].created == 1770163200  # Anthropic's created_at
    assert models["gemini-2.5-flash"].owned_by == "gemini"


def test_openai_sdk_retrieves_natively_and_through_the_converter(gateway: Gateway) -> None:
    model = openai_client(gateway).models.retrieve("openai/model-id-2")
    assert (model.id, model.owned_by) == ("openai/model-id-2", "openai")
    model = openai_client(gateway, "/openai").models.retrieve("sonnet")
    assert (model.id, model.owned_by, model.object) == ("sonnet", "anthropic", "model")


def test_openai_sdk_unknown_model_is_its_not_found_error(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client(gateway, "/openai").models.retrieve("no-such-model")
    assert "no-such-model" in caught.value.message
    # Natively, a model of another protocol is not one this route can call.
    with pytest.raises(openai.NotFoundError):
        openai_client(gateway).models.retrieve("claude-opus-4-6")


# ------------------------------------------------------------------ Anthropic shape


def test_anthropic_sdk_native_lists_anthropic_models_page_by_page(gateway: Gateway) -> None:
    client = anthropic_client(gateway)
    assert [m.id for m in client.models.list()] == [*CLAUDES, "sonnet"]
    page = client.models.list(limit=3)
    assert [m.id for m in page.data] == CLAUDES and page.has_more is True
    assert [m.id for m in page] == [*CLAUDES, "sonnet"]  # the SDK follows after_id
    previous = client.models.list(limit=2, before_id="sonnet")
    assert [m.id for m in previous.data] == CLAUDES[1:]


def test_anthropic_sdk_converter_lists_every_provider(gateway: Gateway) -> None:
    models = {m.id: m for m in anthropic_client(gateway, "/anthropic").models.list(limit=5)}
    assert list(models) == EVERY_ID
    assert models["gemini-2.5-flash"].display_name == "Gemini 2.5 Flash"
    assert models["openai/model-id-0"].created_at.year == 2023


def test_anthropic_sdk_retrieves_and_gets_404_for_unknown(gateway: Gateway) -> None:
    sonnet = anthropic_client(gateway).models.retrieve("sonnet")
    assert (sonnet.display_name, sonnet.created_at.year) == ("Claude Sonnet 4.5", 2025)
    flash = anthropic_client(gateway, "/anthropic").models.retrieve("flash")
    assert flash.display_name == "Gemini 2.5 Flash" and flash.max_input_tokens == 1048576
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client(gateway).models.retrieve("gemini-2.5-flash")
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client(gateway, "/anthropic").models.retrieve("no-such-model")


# ------------------------------------------------------------------ Gemini shape


def test_genai_sdk_native_lists_gemini_models_with_their_own_fields(gateway: Gateway) -> None:
    models = list(gemini_client(gateway).models.list(config={"page_size": 2}))
    assert [m.name for m in models] == [f"models/{m}" for m in [*GEMINIS, "flash"]]
    assert models[0].thinking is True and models[0].output_token_limit == 65536
    assert models[2].supported_actions == ["embedContent", "batchEmbedContents"]


def test_genai_sdk_converter_lists_every_provider(gateway: Gateway) -> None:
    models = list(gemini_client(gateway, "/gemini").models.list())
    assert [m.name for m in models] == [f"models/{m}" for m in EVERY_ID]
    claude = next(m for m in models if m.name == "models/claude-opus-4-6")
    assert claude.display_name == "Claude Opus 4.6"
    assert claude.supported_actions == ["generateContent", "countTokens"]


def test_genai_sdk_gets_one_model_and_404_for_unknown(gateway: Gateway) -> None:
    model = gemini_client(gateway).models.get(model="gemini-2.5-flash")
    assert model.display_name == "Gemini 2.5 Flash"
    model = gemini_client(gateway, "/gemini").models.get(model="openai/model-id-1")
    assert model.name == "models/openai/model-id-1"
    with pytest.raises(genai_errors.ClientError) as caught:
        gemini_client(gateway, "/gemini").models.get(model="no-such-model")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


# ------------------------------------------------------------------ what the providers see


def test_each_provider_is_asked_with_its_own_credential_and_paged(
    uncached: Gateway, fakes: dict[str, FakeUpstream]
) -> None:
    list(openai_client(uncached, "/openai").models.list())
    openai_asks = [r for r in fakes["openai"].received]
    assert {r.headers["authorization"] for r in openai_asks} == {
        f"Bearer {OPENAI_KEY}",  # openai and responses_only hold a key
        f"Bearer {CALLER_KEY}",  # compat holds none: the caller's
    }
    assert any(r.headers.get("x-title") == "gateway-tests" for r in openai_asks)
    anthropic_asks = fakes["anthropic"].received
    assert [r.query.get("after_id") for r in anthropic_asks] == [None, CLAUDES[1]]
    assert all(r.headers["x-api-key"] == CALLER_KEY for r in anthropic_asks)
    assert all("authorization" not in r.headers for r in anthropic_asks)
    gemini_asks = fakes["gemini"].received
    assert [r.query.get("pageToken") for r in gemini_asks] == [None, "fake-page-2"]
    assert all(r.headers["x-goog-api-key"] == GEMINI_KEY for r in gemini_asks)
    assert all(r.path == "/v1beta/models" and "key" not in r.query for r in gemini_asks)


def test_a_native_list_asks_only_the_providers_it_lists(
    uncached: Gateway, fakes: dict[str, FakeUpstream]
) -> None:
    gemini_client(uncached).models.list()
    assert fakes["gemini"].received and not fakes["anthropic"].received
    assert not fakes["openai"].received


def test_a_second_list_within_the_cache_time_does_not_ask_again(
    rules_path: Path, fakes: dict[str, FakeUpstream], tmp_path: Path
) -> None:
    gw = start_gateway(rules_path, tmp_path / "gw.log", "--set", "models_cache_seconds=300")
    try:
        first = [m.id for m in openai_client(gw, "/openai").models.list()]
        asked = sum(len(f.received) for f in fakes.values())
        assert asked == 7  # openai, compat, responses_only, 2 Anthropic and 2 Gemini pages
        second = [m.id for m in openai_client(gw, "/openai").models.list()]
        anthropic_client(gw, "/anthropic").models.retrieve("sonnet")
        assert second == first
        assert sum(len(f.received) for f in fakes.values()) == asked
    finally:
        gw.stop()


def test_gateway_answers_list_paths_with_get_only_and_its_request_id(gateway: Gateway) -> None:
    answer = httpx.post(f"{gateway.url}/v1/models", headers={"x-request-id": "req-m1"})
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert answer.json()["error"]["message"].startswith("POST is not allowed")
    answer = httpx.get(f"{gateway.url}/v1/models", headers={"x-request-id": "req-m2"})
    assert answer.headers["x-request-id"] == "req-m2"
    answer = httpx.get(f"{gateway.url}/anthropic/v1/models?limit=nope")
    assert answer.status_code == 400 and answer.json()["type"] == "error"


# ------------------------------------------------------------------ partial failure


def _rules_with_broken_providers(fakes: dict[str, FakeUpstream], tmp_path: Path) -> Path:
    text = rules_yaml(fakes).replace(
        "models:\n",
        f"  down:\n    protocol: openai\n    base_url: http://127.0.0.1:{free_port()}/v1\n"
        "models:\n",
        1,
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def test_providers_that_cannot_be_listed_are_left_out_and_logged(
    fakes: dict[str, FakeUpstream], tmp_path: Path
) -> None:
    rules = _rules_with_broken_providers(fakes, tmp_path)
    gw = start_gateway(rules, tmp_path / "gw.log", "--set", "models_timeout=1")
    try:
        fakes["anthropic"].enqueue(Reply.error("anthropic", 500))
        fakes["gemini"].enqueue(Reply.sse([b'{"models": [', b"]}"], delay=3))  # too slow
        answer = openai_client(gw, "/openai").models.with_raw_response.list()
        ids = [m.id for m in answer.parse()]
        assert ids == [*OPENAI_IDS, *COMPAT_IDS, "sonnet", "flash"]  # rules.yaml's names stay
        assert answer.headers["x-gateway-unlisted"] == "anthropic,down,gemini"
        # A model of a provider that cannot be listed, asked for by name: a 502, not a 404.
        fakes["anthropic"].enqueue(Reply.error("anthropic", 500))
        with pytest.raises(openai.InternalServerError) as caught:
            openai_client(gw, "/openai").models.retrieve("claude-opus-4-6")
        assert caught.value.status_code == 502
    finally:
        gw.stop()
    log = gw.log()
    assert "provider down was not listed: cannot reach 127.0.0.1" in log
    assert "provider gemini was not listed: no whole " in log and "within 1 s" in log
    assert "provider anthropic was not listed: HTTP 500" in log


def test_when_no_provider_can_be_listed_the_caller_gets_its_502(
    fakes: dict[str, FakeUpstream], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"providers:\n  down:\n    protocol: anthropic\n"
        f"    base_url: http://127.0.0.1:{free_port()}\nmodels: []\n"
    )
    gw = start_gateway(rules, tmp_path / "gw.log")
    try:
        with pytest.raises(anthropic.APIStatusError) as caught:
            anthropic_client(gw).models.list()
        assert caught.value.status_code == 502
        assert "down: cannot reach" in caught.value.message
    finally:
        gw.stop()
