"""Request ids and the one structured log line per request.

The log line is the gateway's audit trail, so it names what a user needs to debug a
call (route, formats, provider, upstream model, status, latency) and nothing secret:
credentials never reach this module.
"""

from __future__ import annotations

import logging
import uuid

import orjson

log = logging.getLogger("gateway")


def request_id(caller_value: str | None) -> str:
    """Honour the caller's ``x-request-id`` (trimmed to a sane size) or make one."""
    if caller_value and caller_value.isprintable():
        return caller_value[:128]
    return "gw-" + uuid.uuid4().hex


def log_exchange(
    *,
    request_id: str,
    route: str,
    client: str,
    provider: str,
    upstream_model: str,
    status: int | str,
    latency_ms: float,
    error: str | None = None,
) -> None:
    record = {
        "id": request_id,
        "route": route,
        "client": client,
        "provider": provider,
        "model": upstream_model,
        "status": status,
        "ms": round(latency_ms, 1),
    }
    if error:
        record["error"] = error
    log.info("gateway %s", orjson.dumps(record).decode())
