"""/health, /health/ready and /metrics, the gateway_log file and the log line's
ttft_ms, on a real mitmdump with the official SDKs as callers."""

from __future__ import annotations

import time

import httpx
import openai
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes.replies import Reply
from tests.harness import refused_start, rules_yaml, start_gateway

HI = [{"role": "user", "content": "Hi"}]


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def exchange_lines(text: str) -> list[dict]:
    """The JSON of every `gateway {...}` line mitmdump printed."""
    marker = "gateway {"
    return [
        orjson.loads(line[line.index(marker) + len("gateway ") :])
        for line in text.splitlines()
        if marker in line
    ]


def scrape(gw) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed by prometheus_client's own parser."""
    answer = httpx.get(f"{gw.url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def sample(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# ------------------------------------------------------------------------- health


def test_health_and_ready_are_answered_by_the_gateway(gateway, fakes):
    health = httpx.get(f"{gateway.url}/health", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = httpx.get(f"{gateway.url}/health/ready", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"rules": "ok", "store": "ok"}}
    refused = httpx.post(f"{gateway.url}/health", timeout=10)
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"
    assert all(not fake.received for fake in fakes.values())  # never forwarded


def test_readiness_is_503_while_the_rules_file_is_broken(fakes, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    gw = start_gateway(rules, tmp_path / "gw.log")
    try:

        def ready_status() -> int:
            return httpx.get(f"{gw.url}/health/ready", timeout=10).status_code

        assert ready_status() == 200
        rules.write_text("providers: [broken")
        assert wait_for(lambda: ready_status() == 503)
        answer = httpx.get(f"{gw.url}/health/ready", timeout=10).json()
        assert answer == {"status": "not ready", "checks": {"rules": "invalid", "store": "ok"}}
        assert "broken" not in str(answer)  # the problem is in the log, not the answer
        # The previous rules still serve, and /health says the process is up.
        assert httpx.get(f"{gw.url}/health", timeout=10).status_code == 200
        chat = openai_client(gw).chat.completions.create(model="gpt-4o", messages=HI)
        assert chat.choices[0].message.content
        rules.write_text(rules_yaml(fakes))
        assert wait_for(lambda: ready_status() == 200)
    finally:
        gw.stop()


def test_readiness_is_503_when_the_responses_store_is_unusable(fakes, tmp_path):
    not_a_directory = tmp_path / "plain-file"
    not_a_directory.write_text("")
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes, store=not_a_directory / "state.sqlite3"))
    gw = start_gateway(rules, tmp_path / "gw.log")
    try:
        answer = httpx.get(f"{gw.url}/health/ready", timeout=10)
        assert answer.status_code == 503
        assert answer.json()["checks"] == {"rules": "ok", "store": "unavailable"}
        assert httpx.get(f"{gw.url}/health", timeout=10).status_code == 200
    finally:
        gw.stop()


def test_ops_paths_are_answered_in_reverse_mode_not_sent_to_the_target(fakes, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    gw = start_gateway(
        rules,
        tmp_path / "gw.log",
        "--mode",
        f"reverse:{fakes['anthropic'].url}",
        "--set",
        "connection_strategy=lazy",
    )
    try:
        for path in ("/health", "/health/ready", "/metrics"):
            assert httpx.get(f"{gw.url}{path}", timeout=10).status_code == 200
        assert not fakes["anthropic"].received
    finally:
        gw.stop()


# ------------------------------------------------------------------------ metrics


def test_a_metrics_scrape_counts_the_requests_just_made(fakes, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    gw = start_gateway(rules, tmp_path / "gw.log")
    try:
        chat = openai_client(gw).chat.completions.create(model="gpt-4o", messages=HI)
        openai_client(gw).chat.completions.create(model="gpt-4o", messages=HI)
        with anthropic_client(gw, "/anthropic").messages.stream(
            model="gpt-4.1-mini", max_tokens=50, messages=HI
        ) as stream:
            streamed = stream.get_final_message()
        gemini = gemini_client(gw).models.generate_content(model="gemini-2.5-flash", contents="Hi")
        fakes["openai"].enqueue(
            Reply.json({"error": {"message": "down", "type": "server_error"}}, status=500)
        )
        with pytest.raises(openai.InternalServerError):
            openai_client(gw).chat.completions.create(model="gpt-4o-mini", messages=HI)

        samples = scrape(gw)
        chat_labels = {
            "route": "native:/v1/chat/completions",
            "client": "openai_chat",
            "provider": "openai",
            "model": "gpt-4o",
            "key": "",
        }
        assert sample(samples, "gateway_requests_total", **chat_labels, status="200") == 2
        assert sample(samples, "gateway_request_duration_seconds_count", **chat_labels) == 2
        assert chat.usage is not None
        in_tokens = sample(samples, "gateway_tokens_total", **chat_labels, kind="in")
        out_tokens = sample(samples, "gateway_tokens_total", **chat_labels, kind="out")
        assert (in_tokens, out_tokens) == (
            2 * chat.usage.prompt_tokens,
            2 * chat.usage.completion_tokens,
        )

        stream_labels = {
            "route": "converter:/v1/messages",
            "client": "anthropic",
            "provider": "openai",
            "model": "gpt-4.1-mini",
            "key": "",
        }
        assert sample(samples, "gateway_requests_total", **stream_labels, status="200") == 1
        assert sample(samples, "gateway_time_to_first_token_seconds_count", **stream_labels) == 1
        assert sample(samples, "gateway_tokens_total", **stream_labels, kind="out") == (
            streamed.usage.output_tokens
        )
        # Only streams have a time to first token.
        assert sample(samples, "gateway_time_to_first_token_seconds_count", **chat_labels) == 0

        gemini_labels = {
            "route": "native:/v1beta/models/gemini-2.5-flash:generateContent",
            "client": "gemini",
            "provider": "gemini",
            "model": "gemini-2.5-flash",
            "key": "",
        }
        assert sample(samples, "gateway_requests_total", **gemini_labels, status="200") == 1
        assert gemini.usage_metadata is not None
        assert sample(samples, "gateway_tokens_total", **gemini_labels, kind="in") == (
            gemini.usage_metadata.prompt_token_count
        )

        failed = {**chat_labels, "model": "gpt-4o-mini", "status": "500"}
        assert sample(samples, "gateway_requests_total", **failed) == 1
        errors = "gateway_upstream_errors_total"
        assert sample(samples, errors, provider="openai", status="500") == 1
        assert sample(samples, errors, provider="gemini", status="500") == 0
        # The scrape itself and health checks are not requests to a provider.
        assert not any(
            labels and dict(labels).get("route", "").endswith("/metrics") for _, labels in samples
        )
    finally:
        gw.stop()


# ----------------------------------------------------------------- the log line


def test_gateway_log_writes_the_lines_to_a_file_with_ttft_on_streams(fakes, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    log_file = tmp_path / "exchanges.jsonl"
    gw = start_gateway(rules, tmp_path / "gw.log", "--set", f"gateway_log={log_file}")
    try:
        client = openai_client(gw)
        client.chat.completions.create(model="gpt-4o", messages=HI)
        # A passed-through stream and a translated one.
        for model in ("gpt-4o", "claude-sonnet-4-5"):
            prefix_client = openai_client(gw, "/openai")
            chunks = list(
                prefix_client.chat.completions.create(model=model, messages=HI, stream=True)
            )
            assert chunks
        assert wait_for(lambda: len(log_file.read_text().splitlines()) >= 3)
        lines = [orjson.loads(line) for line in log_file.read_text().splitlines()]
        assert [line["model"] for line in lines] == ["gpt-4o", "gpt-4o", "claude-sonnet-4-5"]
        assert "ttft_ms" not in lines[0]
        for line in lines[1:]:
            assert 0 < line["ttft_ms"] <= line["ms"]
        assert all("key" not in line for line in lines)  # no gateway keys configured
        # The same lines mitmdump printed.
        assert exchange_lines(gw.log()) == lines
    finally:
        gw.stop()


def test_a_gateway_log_that_cannot_be_written_stops_start_up(tmp_path, fakes):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    unwritable = tmp_path / "no-such-dir" / "x.jsonl"
    output = refused_start(rules, "--set", f"gateway_log={unwritable}")
    assert "gateway_log: cannot write to" in output
