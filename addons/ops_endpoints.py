"""The gateway's own operations paths: ``GET /health``, ``/health/ready``, ``/metrics``.

Answered here, before any other gateway addon, on every host and in every mode where
the gateway answers, and never forwarded: a load balancer's health check must not reach
a provider, nor a reverse-mode target. Not behind gateway keys (probes and scrapers
carry none), so the answers say nothing a caller could use: readiness names which
check failed, never why (a rules error can quote the file).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import orjson
from mitmproxy import http

from addons.gateway_addon import _addressed_to_gateway
from addons.metrics import CONTENT_TYPE, GatewayMetrics
from addons.responses_state import ResponsesState
from addons.rules_file import RulesFile
from addons.store import StoreError

log = logging.getLogger("gateway")

HEALTH, READY, METRICS = "/health", "/health/ready", "/metrics"
OPS_PATHS = frozenset((HEALTH, READY, METRICS))
READY_TIMEOUT = 3.0  # a probe must get an answer even when the store hangs


class OpsEndpoints:
    def __init__(self, rules_file: RulesFile, state: ResponsesState, metrics: GatewayMetrics):
        self._rules_file = rules_file
        self._state = state
        self._metrics = metrics

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        path = flow.request.path.split("?", 1)[0]
        if path not in OPS_PATHS or not _addressed_to_gateway(flow):
            return
        if flow.request.method not in ("GET", "HEAD"):
            body = {"error": {"message": f"{path} takes GET.", "type": "invalid_request_error"}}
            flow.response = _json(405, body)
            flow.response.headers["allow"] = "GET, HEAD"
        elif path == HEALTH:
            flow.response = _json(200, {"status": "ok"})
        elif path == READY:
            checks = await self._checks()
            ready = all(v == "ok" for v in checks.values())
            status = "ready" if ready else "not ready"
            flow.response = _json(200 if ready else 503, {"status": status, "checks": checks})
        else:
            flow.response = http.Response.make(
                200, self._metrics.render(), {"content-type": CONTENT_TYPE}
            )
        flow.response.headers["cache-control"] = "no-store"

    async def _checks(self) -> dict[str, str]:
        """``rules``: the file on disk is the one in force (a bad edit is not); ``store``:
        the Responses store answers a trivial query in time."""
        rules = self._rules_file.rules
        checks = {"rules": "ok" if rules and not self._rules_file.invalid_edit else "invalid"}
        if rules is None:
            return checks | {"store": "unknown"}
        try:
            store = self._state.store_for(rules)
            ok = await asyncio.wait_for(store.ready(), READY_TIMEOUT)
        except (StoreError, ValueError, TimeoutError) as e:
            log.error("gateway: readiness: the Responses store is not usable: %s", e)
            ok = False
        checks["store"] = "ok" if ok else "unavailable"
        return checks


def _json(status: int, body: Mapping[str, object]) -> http.Response:
    return http.Response.make(status, orjson.dumps(body), {"content-type": "application/json"})
