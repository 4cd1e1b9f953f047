"""The gateway's Prometheus metrics, kept with ``prometheus_client`` and served at
``/metrics`` (addons/ops_endpoints.py).

Each gateway owns a ``CollectorRegistry`` rather than the library's global default, so
several gateways in one process (tests, an embedding application) never count into
each other's metrics. Fed by ``observe``, an exchange listener: one call per exchange
the gateway logged, with what its log line says.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from addons.observability import ExchangeRecord

CONTENT_TYPE = CONTENT_TYPE_LATEST

_EXCHANGE = ("route", "client", "provider", "model", "key")
# LLM calls take from a fraction of a second to minutes; the default buckets stop at 10 s.
_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300)
_TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)


class GatewayMetrics:
    """The five metrics DESIGN names; the ``key`` label is a gateway key's name, empty
    when the caller used none."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gateway_requests",
            "Requests the gateway answered, by route, client format, provider, model, "
            "gateway key and the status the caller got ('error': the exchange broke off).",
            (*_EXCHANGE, "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "gateway_request_duration_seconds",
            "From the request to the end of the answer (of the whole stream, for streams).",
            _EXCHANGE,
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.ttft = Histogram(
            "gateway_time_to_first_token_seconds",
            "Streams: from the request to the first byte of the body sent to the caller.",
            _EXCHANGE,
            buckets=_TTFT_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "gateway_tokens",
            "Tokens the providers reported, by kind: in (cached included), out (reasoning "
            "included), cached, reasoning.",
            (*_EXCHANGE, "kind"),
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "gateway_upstream_errors",
            "Provider answers with a 4xx or 5xx status, by the provider's own status; "
            "'error' when the provider could not be reached or the exchange broke off "
            "(the caller going away included).",
            ("provider", "status"),
            registry=self.registry,
        )

    def observe(self, record: ExchangeRecord) -> None:
        """An exchange listener (``Gateway(listeners=...)``)."""
        labels = (record.route, record.client, record.provider, record.model, record.key or "")
        self.requests.labels(*labels, str(record.status)).inc()
        self.duration.labels(*labels).observe(record.latency_ms / 1000)
        if record.ttft_ms is not None:
            self.ttft.labels(*labels).observe(record.ttft_ms / 1000)
        if record.usage is not None:
            usage = record.usage
            for kind, count in (
                ("in", usage.input_tokens),
                ("out", usage.output_tokens),
                ("cached", usage.cache_read_tokens),
                ("reasoning", usage.reasoning_tokens),
            ):
                if count:
                    self.tokens.labels(*labels, kind).inc(count)
        if record.upstream_status is not None and record.upstream_status >= 400:
            self.upstream_errors.labels(record.provider, str(record.upstream_status)).inc()
        elif record.status == "error" and record.provider != "-":
            self.upstream_errors.labels(record.provider, "error").inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
