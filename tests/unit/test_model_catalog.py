"""addons/model_catalog.py and model_routes.py: paging, caching, partial failure, the
merge with rules.yaml, and which paths are model lists; no sockets."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from addons import http_fetch, model_routes
from addons.model_catalog import MAX_PAGES, Caller, Catalog, Listing, merge
from addons.rules import Routes, parse_rules
from translators.models import ModelRecord

RULES = parse_rules(
    """
providers:
  openai: {protocol: openai, base_url: "http://o.test/v1", api_key: sk-held}
  anthropic: {protocol: anthropic, base_url: "http://a.test"}
  gemini: {protocol: gemini, base_url: "http://g.test", api_key: gm-held}
  compat: {protocol: openai, base_url: "http://c.test/v1"}
  gemini2: {protocol: gemini, base_url: "http://gm.test", api_key: gm-other}
models:
  - {match: "gpt-*", provider: openai}
  - {match: "claude-*", provider: anthropic}
  - {match: "gemini-*", provider: gemini}
  - {match: "sonnet", provider: anthropic, model: claude-sonnet-4-5}
  - {match: "fast", provider: compat}
  - {match: "gpt-4o", provider: compat}
""",
    "rules.yaml",
    {},
)
CALLER = Caller("openai", "sk-caller", {"authorization": "Bearer sk-caller"})


class FakeFetch:
    """Answers by host; counts and records every request."""

    def __init__(self, answers: dict[str, list[tuple[int, object]]]) -> None:
        self.answers = {host: list(pages) for host, pages in answers.items()}
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []

    async def __call__(self, method, url, headers, *, timeout):
        parts = urlsplit(url)
        self.requests.append((parts.path, dict(parse_qsl(parts.query)), dict(headers)))
        pages = self.answers[parts.hostname]
        if not pages:
            raise http_fetch.FetchError("cannot reach the host: Connection refused")
        status, body = pages.pop(0) if len(pages) > 1 else pages[0]
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return http_fetch.Fetched(status, (), raw)


def anthropic_page(ids: list[str], more: bool) -> dict:
    data = [
        {"type": "model", "id": i, "display_name": i, "created_at": "2025-01-01T00:00:00Z"}
        for i in ids
    ]
    return {"data": data, "has_more": more, "first_id": ids[0], "last_id": ids[-1]}


def listing(catalog: Catalog, names: list[str], ttl: float = 300) -> Listing:
    providers = [RULES.providers[n] for n in names]
    return asyncio.run(catalog.listing(providers, CALLER, ttl=ttl, timeout=1))


def test_anthropic_listing_follows_after_id_with_the_callers_key() -> None:
    fetch = FakeFetch(
        {
            "a.test": [
                (200, anthropic_page(["claude-a", "claude-b"], True)),
                (200, anthropic_page(["claude-c"], False)),
            ]
        }
    )
    result = listing(Catalog(fetch), ["anthropic"])
    assert [r.id for r in result.models["anthropic"]] == ["claude-a", "claude-b", "claude-c"]
    (p1, q1, h1), (_, q2, _) = fetch.requests
    assert (p1, q1, q2) == (
        "/v1/models",
        {"limit": "1000"},
        {"limit": "1000", "after_id": "claude-b"},
    )
    # The provider holds no key: the caller's, in Anthropic's header, and nothing else.
    assert h1["x-api-key"] == "sk-caller" and "authorization" not in h1
    assert h1["anthropic-version"]


def test_gemini_listing_follows_page_tokens_with_the_held_key() -> None:
    page = {"models": [{"name": "models/gemini-x"}], "nextPageToken": "t2"}
    last = {"models": [{"name": "models/gemini-y"}]}
    fetch = FakeFetch({"g.test": [(200, page), (200, last)]})
    result = listing(Catalog(fetch), ["gemini"])
    assert [r.id for r in result.models["gemini"]] == ["gemini-x", "gemini-y"]
    assert [q.get("pageToken") for _, q, _ in fetch.requests] == [None, "t2"]
    headers = fetch.requests[0][2]
    assert headers["x-goog-api-key"] == "gm-held" and "authorization" not in headers


def test_the_timeout_covers_all_of_a_providers_pages() -> None:
    page = {"models": [{"name": "models/gemini-x"}], "nextPageToken": "t2"}
    fetch = FakeFetch({"g.test": [(200, page), (200, {"models": []})]})

    async def slow(method, url, headers, *, timeout):
        await asyncio.sleep(0.3)  # each page within the timeout, both pages not
        return await fetch(method, url, headers, timeout=timeout)

    providers = [RULES.providers["gemini"]]
    result = asyncio.run(Catalog(slow).listing(providers, CALLER, ttl=0, timeout=0.5))
    assert result.failures["gemini"] == "no whole list within 0.5 s"


def test_a_provider_that_never_stops_paging_is_cut_off() -> None:
    endless = {"models": [{"name": "models/gemini-x"}], "nextPageToken": "same"}
    result = listing(Catalog(FakeFetch({"g.test": [(200, endless)]})), ["gemini"])
    assert "repeats the page cursor" in result.failures["gemini"]
    assert MAX_PAGES > 2


def test_a_second_list_within_the_cache_time_asks_no_provider() -> None:
    now = [1000.0]
    fetch = FakeFetch({"o.test": [(200, {"data": [{"id": "gpt-4o"}]})]})
    catalog = Catalog(fetch, clock=lambda: now[0])
    listing(catalog, ["openai"], ttl=60)
    now[0] += 59
    assert listing(catalog, ["openai"], ttl=60).models["openai"][0].id == "gpt-4o"
    assert len(fetch.requests) == 1
    now[0] += 2
    listing(catalog, ["openai"], ttl=60)
    assert len(fetch.requests) == 2


def test_a_provider_without_a_key_is_cached_per_caller_credential() -> None:
    fetch = FakeFetch({"c.test": [(200, {"data": [{"id": "m"}]})]})
    catalog = Catalog(fetch)
    listing(catalog, ["compat"])
    other = Caller("openai", "sk-other", {"authorization": "Bearer sk-other"})
    asyncio.run(catalog.listing([RULES.providers["compat"]], other, ttl=300, timeout=1))
    assert len(fetch.requests) == 2
    listing(catalog, ["compat"])
    assert len(fetch.requests) == 2


def test_failures_are_reported_per_provider_and_not_cached() -> None:
    fetch = FakeFetch(
        {
            "o.test": [(200, {"data": [{"id": "gpt-4o"}]})],
            "a.test": [(401, {"type": "error", "error": {"message": "bad key sk-caller"}})],
            "g.test": [],  # unreachable
            "c.test": [(200, b"not json")],
            "gm.test": [(200, {"models": [{"displayName": "no name"}]})],
        }
    )
    result = listing(Catalog(fetch), ["openai", "anthropic", "gemini", "compat", "gemini2"])
    assert list(result.models) == ["openai"]
    assert result.failures["anthropic"].startswith("HTTP 401")
    assert "sk-caller" not in result.failures["anthropic"]  # an echoed key is blanked
    assert "Connection refused" in result.failures["gemini"]
    assert result.failures["compat"] == "the answer is not JSON"
    assert result.failures["gemini2"].startswith("the model list is malformed")
    before = len(fetch.requests)
    listing(Catalog(fetch), ["anthropic"])
    assert len(fetch.requests) == before + 1


def test_merge_lists_callable_ids_once_with_rule_names() -> None:
    listed = Listing(
        models={
            "openai": [ModelRecord("gpt-4o", "openai"), ModelRecord("whisper-1", "openai")],
            "anthropic": [ModelRecord("claude-sonnet-4-5", "anthropic", display_name="S")],
            "compat": [ModelRecord("llama", "compat")],
        },
        failures={"gemini": "HTTP 500"},
    )
    ids = [r.id for r in merge(RULES, listed, None)]
    # whisper-1 routes nowhere by itself; gpt-4o from compat is taken by gpt-* first;
    # "gpt-4o" as a rule of compat is shadowed by gpt-*, so it is not a compat name.
    assert ids == [
        "gpt-4o",
        "openai/whisper-1",
        "claude-sonnet-4-5",
        "compat/llama",
        "sonnet",
        "fast",
    ]
    sonnet = next(r for r in merge(RULES, listed, None) if r.id == "sonnet")
    assert sonnet.display_name == "S"  # described by the model it renames to
    native = [r.id for r in merge(RULES, listed, frozenset({"anthropic"}))]
    assert native == ["claude-sonnet-4-5", "sonnet"]


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/v1/models", {}, ("openai", True, None)),
        ("/v1/models", {"anthropic-version": "2023-06-01"}, ("anthropic", True, None)),
        ("/v1/models/ft:gpt-4o:org::x1", {}, ("openai", True, "ft:gpt-4o:org::x1")),
        ("/v1/models/openai%2Fmodel-id-0", {}, ("openai", True, "openai/model-id-0")),
        ("/v1/models?key=k", {}, ("gemini", True, None)),
        ("/v1beta/models", {}, ("gemini", True, None)),
        ("/v1beta/models/gemini-x?pageSize=2", {}, ("gemini", True, "gemini-x")),
        ("/v1beta/models/openai/model-id-0", {}, ("gemini", True, "openai/model-id-0")),
        ("/openai/v1/models", {}, ("openai", False, None)),
        ("/anthropic/v1/models/gpt-4o", {}, ("anthropic", False, "gpt-4o")),
        ("/gemini/v1beta/models/", {}, ("gemini", False, None)),
        ("/gemini/v1/models/claude-x", {}, ("gemini", False, "claude-x")),
    ],
)
def test_model_paths(path, headers, expected) -> None:
    found = model_routes.match(path, headers, Routes())
    assert found is not None and (found.shape, found.native, found.model) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/v1beta/models/gemini-x:generateContent",
        "/v1/models/gemini-x:countTokens",
        "/gemini/v1beta/models/gemini-x:batchEmbedContents",
        "/v1/modelsx",
        "/openai/v1beta/models",
        "/v1/chat/completions",
    ],
)
def test_other_paths_are_not_model_lists(path) -> None:
    assert model_routes.match(path, {}, Routes()) is None


def test_native_model_paths_follow_routes_native() -> None:
    assert model_routes.match("/v1/models", {}, Routes(native=False)) is None
    assert model_routes.match("/openai/v1/models", {}, Routes(native=False)) is not None
