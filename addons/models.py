"""Model lists: ``GET /v1/models`` (OpenAI's or Anthropic's shape), ``/v1beta/models``
(Gemini's), one model by id, natively and under the converter prefixes.

A mitmproxy addon answered by the gateway itself (never forwarded): the providers'
own listings come from ``model_catalog`` (paged, cached, merged with rules.yaml), and
``translators.models`` puts them in the caller's shape. A provider that cannot be
listed is logged and named in the ``x-gateway-unlisted`` header; the others answer.
"""

from __future__ import annotations

import functools
import logging
import ssl
import time

import orjson
from mitmproxy import ctx, exceptions, http

from addons import http_fetch, model_routes, observability, upstream
from addons.gateway_addon import _addressed_to_gateway
from addons.model_catalog import Caller, Catalog, Listing, merge
from addons.rules import ProviderProtocol, Rules
from addons.rules_file import RulesFile
from translators import convert, ir, models
from translators.models import ModelRecord, Shape

log = logging.getLogger("gateway")

# The protocol whose error shape each list shape's SDK raises from.
_ERRORS: dict[Shape, ir.Protocol] = {
    "openai": "openai_chat",
    "anthropic": "anthropic",
    "gemini": "gemini",
}
_CONTENT_TYPE: dict[Shape, str] = {
    "openai": "application/json",
    "anthropic": "application/json",
    "gemini": "application/json; charset=UTF-8",
}
_CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key")


class ModelList:
    """Answers the model-list paths; registered before the gateway addon, which
    leaves a flow that already has its response alone."""

    def __init__(self, rules_file: RulesFile) -> None:
        self._rules_file = rules_file
        self._catalog = Catalog(self._fetch)
        self._tls: ssl.SSLContext | None = None

    def load(self, loader) -> None:
        loader.add_option(
            "models_cache_seconds",
            int,
            300,
            "How long the gateway keeps each provider's model list before asking it "
            "again (0: ask on every list request).",
        )
        loader.add_option(
            "models_timeout",
            int,
            10,
            "Seconds the gateway waits for one provider's whole model list (all its "
            "pages); a provider that takes longer is left out of the list.",
        )

    def configure(self, updated: set[str]) -> None:
        for name in ("models_cache_seconds", "models_timeout"):
            if name in updated and getattr(ctx.options, name) < 0:
                raise exceptions.OptionsError(f"{name} must be 0 or more seconds")
        if "models_timeout" in updated and ctx.options.models_timeout == 0:
            raise exceptions.OptionsError("models_timeout must be more than 0 seconds")
        if {"ssl_insecure", "ssl_verify_upstream_trusted_ca"} & updated or self._tls is None:
            self._tls = http_fetch.tls_context(
                insecure=ctx.options.ssl_insecure,
                cafile=ctx.options.ssl_verify_upstream_trusted_ca,
            )

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live or not _addressed_to_gateway(flow):
            return
        rules = self._rules_file.rules
        if rules is None:
            return
        where = model_routes.match(flow.request.path, flow.request.headers, rules.routes)
        if where is None:
            return
        started = time.monotonic()
        request_id = observability.request_id(flow.request.headers.get("x-request-id"))
        headers = {"content-type": _CONTENT_TYPE[where.shape], "x-request-id": request_id}
        if flow.request.method != "GET":
            message = f"{flow.request.method} is not allowed on {where.path}; it takes GET."
            err = ir.Error(kind="invalid_request", status=405, message=message)
            status, body = convert.render_error(_ERRORS[where.shape], err)
            status, headers["allow"] = 405, "GET"
        else:
            listing = await self._listing(flow, rules, where)
            status, body = _answer(rules, listing, where, dict(flow.request.query.items()))
            for name, reason in listing.failures.items():
                log.warning("gateway %s: provider %s was not listed: %s", request_id, name, reason)
            if listing.failures:
                headers["x-gateway-unlisted"] = ",".join(sorted(listing.failures))
        flow.response = http.Response.make(status, body, headers)
        flow.metadata["gateway"] = {
            "request_id": request_id,
            "route": where.name,
            "client": _ERRORS[where.shape],
            "kind": "local",
            "translated": False,
        }
        observability.log_exchange(
            request_id=request_id,
            route=where.name,
            client=_ERRORS[where.shape],
            provider="-",
            upstream_model=where.model or "-",
            status=status,
            latency_ms=(time.monotonic() - started) * 1000,
        )

    async def _listing(
        self, flow: http.HTTPFlow, rules: Rules, where: model_routes.ModelsPath
    ) -> Listing:
        family: ProviderProtocol = where.shape
        wanted: set[ProviderProtocol] | None = {family} if where.native else None
        providers = [p for p in rules.providers.values() if wanted is None or p.protocol in wanted]
        request = flow.request
        caller = Caller(
            protocol=family,
            credential=upstream.caller_credential(request.headers, request.query.get("key")),
            headers={n: request.headers[n] for n in _CREDENTIAL_HEADERS if n in request.headers},
        )
        return await self._catalog.listing(
            providers,
            caller,
            ttl=ctx.options.models_cache_seconds,
            timeout=ctx.options.models_timeout,
        )

    def _fetch(self, method: str, url: str, headers, *, timeout: float):
        return http_fetch.fetch(method, url, headers, timeout=timeout, tls=self._tls)


def _answer(
    rules: Rules, listing: Listing, where: model_routes.ModelsPath, query: dict[str, str]
) -> tuple[int, bytes]:
    """The list (a page of it) or one model in the caller's shape, or the caller's
    error: 404 for a model no provider lists, 502 when nothing could be listed."""
    error = functools.partial(_error, where.shape)
    if not listing.models and listing.failures:
        reasons = "; ".join(f"{name}: {why}" for name, why in sorted(listing.failures.items()))
        return error("api_error", 502, f"No provider's model list could be read ({reasons}).")
    records = merge(rules, listing, frozenset({where.shape}) if where.native else None)
    if where.model is None:
        try:
            return 200, orjson.dumps(models.render_list(records, where.shape, query))
        except ValueError as e:
            return error("invalid_request", 400, str(e))
    found = _find(records, where.model, where.shape)
    if found is not None:
        return 200, orjson.dumps(models.render_model(found, where.shape))
    resolution = rules.resolve(where.model)
    if resolution is not None and resolution.provider.name in listing.failures:
        name = resolution.provider.name
        reason = listing.failures[name]
        return error(
            "api_error", 502, f"Provider {name}'s model list could not be read ({reason})."
        )
    scope = " this native route reaches without conversion" if where.native else ""
    return error(
        "not_found",
        404,
        f"The model '{where.model}' is not in the model list of any provider{scope}; "
        f"the list itself (this path without the model) names every model it serves.",
    )


def _find(records: list[ModelRecord], model: str, shape: Shape) -> ModelRecord | None:
    """A Gemini caller may name a model by its resource name (``models/...``)."""
    wanted = model.removeprefix("models/") if shape == "gemini" else model
    return next((r for r in records if r.id == wanted), None)


def _error(shape: Shape, kind: ir.ErrorKind, status: int, message: str) -> tuple[int, bytes]:
    """The caller's error body; the status is this one (a 502 has no error kind of its
    own: its body is a server error's)."""
    err = ir.Error(kind=kind, status=status, message=message, param="model")
    return status, convert.render_error(_ERRORS[shape], err)[1]
