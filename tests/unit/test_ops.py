"""The pure parts of operations: gateway keys and limits in rules.yaml, key checks, the
per-minute counts, metrics from exchange records, the log line and gateway_log."""

from __future__ import annotations

import asyncio
import importlib.util
import logging

import orjson
import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons
from prometheus_client.parser import text_string_to_metric_families

from addons import keys_config, limits, observability
from addons.gateway_log import GatewayLog
from addons.keys_config import GatewayKey
from addons.metrics import GatewayMetrics
from addons.rules import RulesError, parse_rules
from translators import ir
from translators.errors import TranslationError

BASE = """
providers:
  openai: {protocol: openai, base_url: "http://127.0.0.1:1/v1"}
models:
  - {match: "gpt-*", provider: openai}
"""
ENV = {"KEY_A": "gw-secret-aaaa", "KEY_B": "gw-secret-bbbb"}


def rules(extra: str):
    return parse_rules(BASE + extra, "rules.yaml", ENV)


# --------------------------------------------------------------------- rules.yaml


def test_keys_come_from_the_environment_and_hide_in_repr():
    parsed = rules(
        'keys:\n  - {name: a, key: "${KEY_A}", models: ["gpt-*"], rpm: 10, tpm: 1000}\n'
        '  - {name: b, key: "${KEY_B}"}\n'
    )
    a, b = parsed.keys
    assert (a.name, a.key, a.models, a.rpm, a.tpm) == ("a", "gw-secret-aaaa", ("gpt-*",), 10, 1000)
    assert (b.models, b.rpm, b.tpm) == ((), None, None)
    assert "gw-secret" not in repr(parsed)
    assert parsed.limits_store is None


@pytest.mark.parametrize(
    ("extra", "where", "problem"),
    [
        ("keys: {a: 1}\n", "keys", "must be a list"),
        ('keys:\n  - {key: "${KEY_A}"}\n', "keys[0].name", "non-empty string"),
        ('keys:\n  - {name: a, key: "${NOPE}"}\n', "keys[0].key", "is empty"),
        ('keys:\n  - {name: a, key: "${KEY_A}", rpm: 0}\n', "keys[0].rpm", "positive integer"),
        ('keys:\n  - {name: a, key: "${KEY_A}", tpm: "x"}\n', "keys[0].tpm", "positive integer"),
        ('keys:\n  - {name: a, key: "${KEY_A}", models: "gpt-*"}\n', "keys[0].models", "globs"),
        ('keys:\n  - {name: a, key: "${KEY_A}", extra: 1}\n', "keys[0].extra", "unknown key"),
        (
            'keys:\n  - {name: a, key: "${KEY_A}"}\n  - {name: a, key: "${KEY_B}"}\n',
            "keys[1].name",
            "duplicates",
        ),
        (
            'keys:\n  - {name: a, key: "${KEY_A}"}\n  - {name: b, key: "${KEY_A}"}\n',
            "keys[1].key",
            "same key",
        ),
        ("limits: {store: 'memcached://x'}\n", "limits.store", "redis://"),
    ],
)
def test_bad_keys_and_limits_name_the_key_path_and_never_the_key(extra, where, problem):
    with pytest.raises(RulesError) as e:
        rules(extra)
    assert e.value.key == where and problem in e.value.problem
    assert "gw-secret" not in str(e.value)


def test_a_redis_limits_store_without_the_extra_names_the_extra(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RulesError) as e:
        rules("limits: {store: 'redis://127.0.0.1:6379/0', max_body_bytes: 1000}\n")
    assert e.value.key == "limits.store" and "llm-gateway[redis]" in e.value.problem


def test_limits_store_sits_beside_max_body_bytes():
    parsed = rules("limits: {store: 'redis://127.0.0.1:6379/2', max_body_bytes: 1000}\n")
    assert parsed.limits_store == "redis://127.0.0.1:6379/2" and parsed.max_body_bytes == 1000


# --------------------------------------------------------------------- key checks

A = GatewayKey("a", "gw-secret-aaaa", models=("gpt-*", "anthropic/*"))
B = GatewayKey("b", "gw-secret-bbbb")


def test_authenticate_finds_the_key_among_any_credential_offered():
    assert keys_config.authenticate([A, B], ["nope", "gw-secret-bbbb"]) is B
    assert keys_config.authenticate([A, B], ["gw-secret-aaa"]) is None  # a prefix is wrong
    assert keys_config.authenticate([A, B], []) is None


def test_model_globs_match_the_callers_name_or_the_resolved_provider_model():
    assert keys_config.model_allowed(A, "gpt-4o", "openai/gpt-4o")
    assert keys_config.model_allowed(A, "sonnet", "anthropic/claude-sonnet-4-5")
    assert not keys_config.model_allowed(A, "gemini-2.5-flash", "gemini/gemini-2.5-flash")
    assert keys_config.model_allowed(B, "anything", "x/anything")


def test_check_model_is_a_403_naming_the_key_not_the_secret():
    keys_config.check_model([A], None, "gemini-2.5-flash", "gemini/x")  # no key: no check
    with pytest.raises(TranslationError) as e:
        keys_config.check_model([A], "a", "gemini-2.5-flash", "gemini/gemini-2.5-flash")
    assert e.value.status == 403 and e.value.kind == "permission"
    assert "'a'" in e.value.message and "gw-secret" not in e.value.message


# ------------------------------------------------------------------------- limits


def test_rpm_counts_per_minute_and_says_when_the_window_resets():
    counts = limits.MemoryCounts()
    key = GatewayKey("k", "s", rpm=2)
    now = 600.0 + 45.5  # 45.5 s into a minute

    async def run():
        first = [await limits.admit(counts, key, now) for _ in range(3)]
        later = await limits.admit(counts, key, now + 15)  # the next minute
        return first, later

    (one, two, three), later = asyncio.run(run())
    assert one is None and two is None
    assert three == limits.Refusal("rpm", 15) and "2 requests per minute" in three.message(key)
    assert later is None


def test_tpm_refuses_once_the_recorded_tokens_reach_it():
    counts = limits.MemoryCounts()
    key = GatewayKey("k", "s", tpm=100)
    now = 1200.0

    async def run():
        before = await limits.admit(counts, key, now)
        await counts.add_tokens("k", limits.window_of(now), 100)
        return before, await limits.admit(counts, key, now + 1)

    before, after = asyncio.run(run())
    assert before is None
    assert after is not None and after.limit == "tpm" and after.retry_after == 59


def test_a_key_without_limits_is_not_counted():
    counts = limits.MemoryCounts()
    assert asyncio.run(limits.admit(counts, GatewayKey("k", "s"), 0.0)) is None
    assert asyncio.run(counts.hit("k", 0)) == (1, 0)  # nothing was counted before


# ----------------------------------------------------------- log line and metrics


def test_the_log_line_has_ttft_and_the_key_name(caplog):
    caplog.set_level(logging.INFO, logger="gateway")
    usage = ir.Usage(input_tokens=10, output_tokens=5, cache_read_tokens=4, reasoning_tokens=2)
    record = observability.log_exchange(
        request_id="gw-1",
        route="native:/v1/chat/completions",
        client="openai_chat",
        provider="openai",
        upstream_model="gpt-4o",
        status=200,
        latency_ms=812.44,
        usage=usage,
        ttft_ms=95.06,
        key="team",
        upstream_status=200,
    )
    line = orjson.loads(caplog.records[-1].getMessage().removeprefix("gateway "))
    assert line["ttft_ms"] == 95.1 and line["key"] == "team" and line["ms"] == 812.4
    assert getattr(caplog.records[-1], observability.EXCHANGE_LINE) == orjson.dumps(line).decode()
    assert record.ttft_ms == 95.06 and record.key == "team" and record.usage is usage


def _record(**overrides) -> observability.ExchangeRecord:
    fields: dict = {
        "route": "converter:/v1/messages",
        "client": "anthropic",
        "provider": "openai",
        "model": "gpt-4o",
        "status": 200,
        "latency_ms": 1500.0,
    }
    return observability.ExchangeRecord(**(fields | overrides))


def test_metrics_count_exchanges_in_their_own_registry():
    metrics, other = GatewayMetrics(), GatewayMetrics()  # two gateways in one process
    usage = ir.Usage(input_tokens=10, output_tokens=5, cache_read_tokens=4, reasoning_tokens=2)
    metrics.observe(_record(usage=usage, ttft_ms=250.0, key="team"))
    metrics.observe(_record(status=502, upstream_status=500))
    metrics.observe(_record(status="error"))
    metrics.observe(_record(provider="-", model="-", status=401))
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }
    base = {"route": "converter:/v1/messages", "client": "anthropic", "provider": "openai"}
    team = tuple(sorted({**base, "model": "gpt-4o", "key": "team"}.items()))
    assert samples[("gateway_requests_total", (*team, ("status", "200")))] == 1  # type: ignore[misc]
    for kind, count in (("in", 10), ("out", 5), ("cached", 4), ("reasoning", 2)):
        labels = tuple(sorted({**dict(team), "kind": kind}.items()))
        assert samples[("gateway_tokens_total", labels)] == count
    assert samples[("gateway_time_to_first_token_seconds_count", team)] == 1
    assert samples[("gateway_time_to_first_token_seconds_sum", team)] == 0.25
    upstream = "gateway_upstream_errors_total"
    assert samples[(upstream, (("provider", "openai"), ("status", "500")))] == 1
    assert samples[(upstream, (("provider", "openai"), ("status", "error")))] == 1
    assert not any(name == upstream and ("provider", "-") in labels for name, labels in samples)
    assert b"gateway_requests_total{" not in other.render()


# ----------------------------------------------------------------- gateway_log


def test_gateway_log_writes_only_exchange_lines(tmp_path):
    path = tmp_path / "lines.jsonl"
    addon = GatewayLog()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, gateway_log=str(path))
        logging.getLogger("gateway").info("gateway: loaded something")
        observability.log_exchange(
            request_id="gw-2",
            route="r",
            client="gemini",
            provider="gemini",
            upstream_model="m",
            status=200,
            latency_ms=1.0,
            key="team",
        )
        tctx.configure(addon, gateway_log="")
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and orjson.loads(lines[0])["key"] == "team"


def test_a_gateway_log_that_cannot_be_opened_is_an_options_error(tmp_path):
    addon = GatewayLog()
    with taddons.context(addon) as tctx, pytest.raises(exceptions.OptionsError) as e:
        tctx.configure(addon, gateway_log=str(tmp_path / "missing" / "x.jsonl"))
    assert "gateway_log: cannot write to" in str(e.value)
