"""Gateway keys (``keys:`` in rules.yaml): who may call the gateway, at what rate.

Off unless a key is configured. Then every request the gateway answers, except
``/health``, ``/health/ready`` and ``/metrics``, must carry a configured key in its
SDK's usual credential header (``Authorization: Bearer``, ``x-api-key``,
``x-goog-api-key`` or ``?key=``): none or a wrong one is a 401, a key over its ``rpm``
or ``tpm`` a 429 with ``retry-after``, each in the caller's own error format. The
key's model globs are checked where the model is known, in the gateway addon's
``_forward`` (``keys_config.check_model``: 403).

The caller's credential is removed here, whatever it is: it is the gateway key, and it
must never reach a provider. A provider then gets its configured ``api_key``, or no
credential at all. The key's name is left in ``flow.metadata`` for the log line and the
metrics.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from mitmproxy import http

from addons import keys_config, limits, observability, responses_state, routes
from addons.gateway_addon import _addressed_to_gateway
from addons.keys_config import GatewayKey
from addons.observability import ExchangeListener, ExchangeRecord
from addons.ops_endpoints import OPS_PATHS
from addons.rules import Rules
from addons.rules_file import RulesFile
from translators import convert, ir

log = logging.getLogger("gateway")

_CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key")
_CONVERTER_CLIENT: dict[str, ir.Protocol] = {
    "openai": "openai_chat",
    "anthropic": "anthropic",
    "gemini": "gemini",
}
_MISSING = (
    "This gateway requires a gateway key: send it as your SDK's API key "
    "(Authorization: Bearer, x-api-key, x-goog-api-key or ?key=)."
)
_WRONG = "The gateway key is not valid."


class GatewayKeys:
    """Checks the key and its limits before the gateway addon sees the request, and
    counts each exchange's tokens for ``tpm`` once the gateway has logged it."""

    def __init__(self, rules_file: RulesFile, listeners: tuple[ExchangeListener, ...] = ()) -> None:
        self._rules_file = rules_file
        self._listeners = listeners  # told of the requests refused here (metrics)
        self._counts: limits.Counts | None = None
        self._counts_url: str | None = None
        self._pending: set[asyncio.Task] = set()

    def _counts_for(self, rules: Rules) -> limits.Counts:
        """The counts ``limits.store`` names, re-opened when a reload changes it."""
        if self._counts is None or rules.limits_store != self._counts_url:
            if self._counts is not None:
                self._spawn(self._counts.close())
            self._counts_url = rules.limits_store
            self._counts = limits.open_counts(rules.limits_store)
        return self._counts

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        rules = self._rules_file.rules
        if rules is None or not rules.keys or not _addressed_to_gateway(flow):
            return
        if flow.request.path.split("?", 1)[0] in OPS_PATHS:
            return
        started = time.monotonic()
        caller = _caller(flow, rules)  # read before the credential headers go
        offered = _strip_credentials(flow.request)
        key = keys_config.authenticate(rules.keys, offered)
        if key is None:
            err = ir.Error("authentication", _WRONG if offered else _MISSING, 401)
            self._refuse(flow, caller, started, None, err)
            return
        flow.metadata[keys_config.KEY_METADATA] = key.name
        try:
            refusal = await limits.admit(self._counts_for(rules), key)
        except limits.LimitsError as e:
            log.error("gateway: the limits store failed, request let through: %s", e)
            return
        if refusal is not None:
            message = refusal.message(key)
            err = ir.Error("rate_limit", message, 429, retry_after=refusal.retry_after)
            self._refuse(flow, caller, started, key.name, err)

    def record_usage(self, record: ExchangeRecord) -> None:
        """An exchange listener: the tokens it used count toward its key's ``tpm``."""
        rules = self._rules_file.rules
        if record.key is None or record.usage is None or rules is None:
            return
        key = next((k for k in rules.keys if k.name == record.key), None)
        tokens = record.usage.input_tokens + record.usage.output_tokens
        if key is None or key.tpm is None or tokens <= 0:
            return
        window = limits.window_of(time.time())
        self._spawn(self._add_tokens(self._counts_for(rules), key, window, tokens))

    async def _add_tokens(
        self, counts: limits.Counts, key: GatewayKey, window: int, tokens: int
    ) -> None:
        try:
            await counts.add_tokens(key.name, window, tokens)
        except limits.LimitsError as e:
            log.error("gateway: the limits store failed, tokens not counted: %s", e)

    def _spawn(self, job) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._pending.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._pending.discard)

    async def done(self) -> None:
        if self._counts is not None:
            await self._counts.close()

    def _refuse(
        self,
        flow: http.HTTPFlow,
        caller: tuple[str, ir.Protocol],
        started: float,
        name: str | None,
        err: ir.Error,
    ) -> None:
        """Answer in the caller's format, log the line the gateway would, tell metrics."""
        route, client = caller
        request_id = observability.request_id(flow.request.headers.get("x-request-id"))
        status, body = convert.render_error(client, err)
        headers = {"content-type": "application/json", "x-request-id": request_id}
        if err.retry_after is not None:
            headers["retry-after"] = str(math.ceil(err.retry_after))
        flow.response = http.Response.make(status, body, headers)
        record = observability.log_exchange(
            request_id=request_id,
            route=route,
            client=client,
            provider="-",
            upstream_model="-",
            status=status,
            latency_ms=(time.monotonic() - started) * 1000,
            error=err.message,
            key=name,
        )
        for listener in self._listeners:
            listener(record)


def _strip_credentials(request: http.Request) -> list[str]:
    """Every credential the caller sent, removed from the request (they are gateway
    keys, never a provider's)."""
    found: list[str] = []
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        found.append(auth[7:].strip())
    found += [request.headers.get(h, "") for h in ("x-api-key", "x-goog-api-key")]
    found.append(request.query.get("key", ""))
    for name in _CREDENTIAL_HEADERS:
        request.headers.pop(name, None)
    if "key" in request.query:
        del request.query["key"]
    return [c for c in found if c]


def _caller(flow: http.HTTPFlow, rules: Rules) -> tuple[str, ir.Protocol]:
    """The route name and the caller's protocol, for a refusal in its own format. Paths
    that are not generate or count routes (model lists, state paths, passthrough,
    unknown paths) are known by their prefix, then by the caller's headers."""
    path = flow.request.path.split("?", 1)[0]
    route = routes.match(path, rules.routes)
    if route is not None:
        return route.name, route.client
    other = "-"  # not a fixed route: the raw path (ids, anything) would flood metric labels
    openai_prefix = dict(rules.routes.converters).get("openai")
    if responses_state.match(path, openai_prefix, rules.routes.native):
        return other, "openai_responses"
    for fmt, prefix in rules.routes.converters:
        if path.startswith(prefix + "/"):
            return other, _CONVERTER_CLIENT[fmt]
    headers = flow.request.headers
    if path.startswith("/v1beta/") or "x-goog-api-key" in headers or "key" in flow.request.query:
        return other, "gemini"
    if "anthropic-version" in headers or "x-api-key" in headers:
        return other, "anthropic"
    return other, "openai_chat"
