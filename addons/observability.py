"""Request ids and the one structured log line per request.

The log line is the gateway's audit trail, so it names what a user needs to debug a
call (route, formats, provider, upstream model, status, latency) and nothing secret:
credentials never reach this module.
"""

from __future__ import annotations

import logging
import uuid

import orjson

from translators import ir

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
    usage: ir.Usage | None = None,
    attempts: list[str] | None = None,
) -> None:
    record: dict[str, object] = {
        "id": request_id,
        "route": route,
        "client": client,
        "provider": provider,
        "model": upstream_model,
        "status": status,
        "ms": round(latency_ms, 1),
    }
    if usage is not None:
        record["tokens"] = usage_record(usage)
    if error:
        record["error"] = error
    if attempts:
        record["attempts"] = attempts  # what failed before the answer (docs/faults.md)
    log.info("gateway %s", orjson.dumps(record).decode())


def usage_record(usage: ir.Usage) -> dict[str, int]:
    """Token counts in one convention whatever the protocol: input and output are
    inclusive (cached reads and writes are inside input, reasoning inside output)."""
    record = {"in": usage.input_tokens, "out": usage.output_tokens}
    for key, value in (
        ("cached", usage.cache_read_tokens),
        ("cache_write", usage.cache_write_tokens),
        ("reasoning", usage.reasoning_tokens),
    ):
        if value:
            record[key] = value
    return record
