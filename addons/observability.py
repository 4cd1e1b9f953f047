"""Request ids and the one structured log line per request.

The log line is the gateway's audit trail, so it names what a user needs to debug a
call (route, formats, provider, upstream model, status, latency) and nothing secret:
credentials never reach this module.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from translators import ir

log = logging.getLogger("gateway")

# The attribute of a log record that holds an exchange's JSON line, for handlers that
# want only those lines (the ``gateway_log`` file: addons/gateway_log.py).
EXCHANGE_LINE = "gateway_exchange"


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """One finished exchange, as logged; what metrics and key limits count. Holds a
    key's name, never a key."""

    route: str
    client: str
    provider: str
    model: str
    status: int | str
    latency_ms: float
    ttft_ms: float | None = None  # streams: request to the first byte sent to the caller
    key: str | None = None  # the gateway key's name
    usage: ir.Usage | None = None
    upstream_status: int | None = None  # the provider's own status, when it answered


# Called with every exchange logged (metrics, token limits); must not raise.
ExchangeListener = Callable[[ExchangeRecord], None]


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
    dropped: tuple[str, ...] = (),
    notes: Mapping[str, object] | None = None,
    ttft_ms: float | None = None,
    key: str | None = None,
    upstream_status: int | None = None,
    attempts: list[str] | None = None,
) -> ExchangeRecord:
    """``notes``: fields a companion endpoint adds (``tokens_estimated``, ``counted``)."""
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
    if dropped:
        record["dropped"] = list(dropped)
    if error:
        record["error"] = error
    if notes:
        record.update(notes)
    # ops (issue 10): time to first token and the gateway key's name
    if ttft_ms is not None:
        record["ttft_ms"] = round(ttft_ms, 1)
    if key is not None:
        record["key"] = key
    if attempts:
        record["attempts"] = attempts  # what failed before the answer (docs/faults.md)
    line = orjson.dumps(record).decode()
    log.info("gateway %s", line, extra={EXCHANGE_LINE: line})
    return ExchangeRecord(
        route=route,
        client=client,
        provider=provider,
        model=upstream_model,
        status=status,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        key=key,
        usage=usage,
        upstream_status=upstream_status,
    )


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
