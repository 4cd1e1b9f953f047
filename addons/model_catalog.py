"""Every provider's models: fetched from its own listing endpoint (following its
pages), cached, and merged with the model names ``rules.yaml`` gives.

The merged list only holds ids a caller can send back: a listed model whose name the
rules route elsewhere (or nowhere) is listed as ``provider/model``, which always
reaches the provider that listed it; a rule whose ``match`` has no wildcard is a name
too (``sonnet`` → Claude), described by its target's entry when the provider lists it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import orjson

from addons import http_fetch, upstream
from addons.rules import Provider, ProviderProtocol, Rules
from translators import models
from translators.models import ModelRecord

log = logging.getLogger("gateway")

# Real APIs answer at most this many per page; asking for it keeps the pages few.
_PAGE_SIZE = "1000"
# A provider that keeps answering "more" (or repeats a cursor) is cut off here.
MAX_PAGES = 50
_WILDCARDS = frozenset("*?[")


class Fetch(Protocol):
    def __call__(
        self, method: str, url: str, headers: Iterable[tuple[str, str]], *, timeout: float
    ) -> Awaitable[http_fetch.Fetched]: ...


class ListingError(Exception):
    """One provider could not be listed; the message is safe to log and to show."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks for the list: its protocol family, and its credential as it sent it
    (the header, for a provider of its own family that holds no key of its own)."""

    protocol: ProviderProtocol
    credential: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Listing:
    """What the providers said: each one's models, and why the others are missing."""

    models: Mapping[str, list[ModelRecord]]
    failures: Mapping[str, str]


class Catalog:
    """Provider model lists, cached per provider and per credential: a provider that
    holds no key is listed with each caller's own, and one caller's list must not be
    served to another on the strength of someone else's key. Keys are kept hashed."""

    def __init__(self, fetch: Fetch, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._cache: dict[tuple[str, ...], tuple[float, list[ModelRecord]]] = {}
        self._inflight: dict[tuple[str, ...], asyncio.Future[list[ModelRecord]]] = {}

    async def listing(
        self,
        providers: Iterable[Provider],
        caller: Caller,
        *,
        ttl: float,
        timeout: float,
    ) -> Listing:
        """Every provider listed concurrently; a failure is recorded, not raised."""
        chosen = list(providers)
        results = await asyncio.gather(
            *(self.provider_models(p, caller, ttl=ttl, timeout=timeout) for p in chosen),
            return_exceptions=True,
        )
        listed: dict[str, list[ModelRecord]] = {}
        failures: dict[str, str] = {}
        for provider, result in zip(chosen, results, strict=True):
            if isinstance(result, ListingError):
                failures[provider.name] = str(result)
            elif isinstance(result, Exception):
                log.error("gateway: listing provider %s failed", provider.name, exc_info=result)
                failures[provider.name] = "the gateway failed to list it (see its log)"
            elif isinstance(result, BaseException):
                raise result
            else:
                listed[provider.name] = result
        return Listing(listed, failures)

    async def provider_models(
        self,
        provider: Provider,
        caller: Caller,
        *,
        ttl: float,
        timeout: float,
    ) -> list[ModelRecord]:
        """One provider's models, from the cache while fresh; callers asking while a
        fetch is under way share it. Failures are not cached."""
        key = _cache_key(provider, caller.credential)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch_all(provider, caller, timeout))
            self._inflight[key] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(key, None))
        records = await asyncio.shield(pending)
        if ttl > 0:
            self._cache[key] = (self._clock() + ttl, records)
        return records

    async def _fetch_all(
        self, provider: Provider, caller: Caller, timeout: float
    ) -> list[ModelRecord]:
        try:
            async with asyncio.timeout(timeout):  # for all of the provider's pages
                return await self._pages(provider, _headers(provider, caller), timeout)
        except TimeoutError:
            raise ListingError(f"no whole list within {timeout:g} s") from None
        except ValueError as e:  # a page that is not a model list of the provider's shape
            raise ListingError(f"the model list is malformed: {e}") from None

    async def _pages(
        self, provider: Provider, headers: list[tuple[str, str]], timeout: float
    ) -> list[ModelRecord]:
        base = provider.base_url
        if provider.protocol == "openai":
            return models.from_openai(
                await self._get(provider, base + "/models", headers, timeout), provider.name
            )
        records: list[ModelRecord] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            if provider.protocol == "anthropic":
                query = f"limit={_PAGE_SIZE}" + (f"&after_id={_quote(cursor)}" if cursor else "")
                body = await self._get(provider, f"{base}/v1/models?{query}", headers, timeout)
                page, cursor = models.from_anthropic_page(body, provider.name)
            else:
                query = f"pageSize={_PAGE_SIZE}" + (
                    f"&pageToken={_quote(cursor)}" if cursor else ""
                )
                body = await self._get(provider, f"{base}/v1beta/models?{query}", headers, timeout)
                page, cursor = models.from_gemini_page(body, provider.name)
            records.extend(page)
            if cursor is None:
                return records
            if cursor in seen:
                raise ListingError(f"the listing repeats the page cursor {cursor!r}")
            seen.add(cursor)
        raise ListingError(f"the listing has more than {MAX_PAGES} pages")

    async def _get(
        self, provider: Provider, url: str, headers: list[tuple[str, str]], timeout: float
    ) -> object:
        try:
            answer = await self._fetch("GET", url, headers, timeout=timeout)
        except http_fetch.FetchError as e:
            raise ListingError(str(e)) from None
        if answer.status != 200:
            raise ListingError(f"HTTP {answer.status}: {_excerpt(answer.body, provider, headers)}")
        try:
            return orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            raise ListingError("the answer is not JSON") from None


def merge(
    rules: Rules, listing: Listing, protocols: frozenset[ProviderProtocol] | None
) -> list[ModelRecord]:
    """One list, each id once, in the order of the providers in rules.yaml, then the
    rules' own names. ``protocols`` keeps only providers of those protocols (a native
    route lists what it can call without converting); None keeps all."""
    merged: dict[str, ModelRecord] = {}
    for name, provider in rules.providers.items():
        if protocols is not None and provider.protocol not in protocols:
            continue
        for record in listing.models.get(name, []):
            callable_id = (
                record.id if _reaches(rules, record.id, name, record.id) else f"{name}/{record.id}"
            )
            merged.setdefault(callable_id, record.named(callable_id))
    for rule in rules.models:
        provider = rules.providers[rule.provider]
        if protocols is not None and provider.protocol not in protocols:
            continue
        if _WILDCARDS & set(rule.match) or rule.match in merged:
            continue
        target = rule.model or rule.match
        if not _reaches(rules, rule.match, rule.provider, target):
            continue  # an earlier rule takes this name: it does not mean this model
        listed = next((r for r in listing.models.get(rule.provider, []) if r.id == target), None)
        merged[rule.match] = (
            listed.named(rule.match) if listed else ModelRecord(id=rule.match, owner=rule.provider)
        )
    return list(merged.values())


def _reaches(rules: Rules, model_id: str, provider: str, upstream_model: str) -> bool:
    resolution = rules.resolve(model_id)
    return (
        resolution is not None
        and resolution.provider.name == provider
        and resolution.model == upstream_model
    )


def _headers(provider: Provider, caller: Caller) -> list[tuple[str, str]]:
    """The provider's credential in its own header, as for any forwarded request
    (``upstream.prepare_headers``): its configured key, else the caller's."""
    headers = {"accept": "application/json", "accept-encoding": "identity", **caller.headers}
    same_family = caller.protocol == provider.protocol
    upstream.prepare_headers(
        headers, provider, caller.credential, translated=False, same_family=same_family
    )
    return list(headers.items())


def _cache_key(provider: Provider, credential: str | None) -> tuple[str, ...]:
    if provider.api_key:
        whose = "configured"
    else:
        whose = hashlib.sha256((credential or "").encode()).hexdigest()
    return (provider.name, provider.protocol, provider.base_url, whose)


def _excerpt(body: bytes, provider: Provider, headers: list[tuple[str, str]]) -> str:
    """The start of an error answer, for the log; any credential it echoes is blanked."""
    text = body[:300]
    for name, value in headers:
        if name in ("authorization", "x-api-key", "x-goog-api-key"):
            text = upstream.scrub(text, value.removeprefix("Bearer "))
    return text.decode("utf-8", "replace").strip() or "(empty body)"


def _quote(value: str) -> str:
    return quote(value, safe="")
