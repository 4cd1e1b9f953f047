"""Benchmarks (run as ``scripts/bench``): translation cost, and the gateway's overhead.

1. Translation per request and per streamed chunk, for every caller/upstream pair, on a
   conversation built once in the IR and rendered by each codec (so every format gets
   the same content: a system prompt, three turns, two tools, a tool call and result).
2. End to end: the same local fake upstream reached through a bare ``mitmdump`` reverse
   proxy and through the gateway (native passthrough and a translated route), with
   sequential keep-alive requests; reported as latency and as ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from tests.fakes import FakeUpstream
from tests.harness import CALLER_KEY, MITMDUMP, free_port, rules_yaml, start_gateway
from translators import convert, ir
from translators.codec import CODECS

PAIRS = [(c, u) for c in CODECS for u in CODECS]


def sample_request() -> ir.Request:
    weather = ir.Tool(
        "get_weather",
        "Current weather for a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    clock = ir.Tool(
        "get_time",
        "Current time in a timezone",
        {"type": "object", "properties": {"tz": {"type": "string"}}},
    )
    return ir.Request(
        model="bench-model",
        source="openai_chat",
        max_tokens=512,
        temperature=0.2,
        tools=[weather, clock],
        messages=[
            ir.Message("system", [ir.Text("You are a concise assistant. " * 20)]),
            ir.Message("user", [ir.Text("What's the weather in Paris and the time there?")]),
            ir.Message(
                "assistant",
                [
                    ir.Text("Let me check."),
                    ir.ToolCall("call_1", "get_weather", '{"city": "Paris"}'),
                ],
            ),
            ir.Message(
                "tool", [ir.ToolResult("call_1", [ir.Text('{"temp_c": 18}')], name="get_weather")]
            ),
            ir.Message("assistant", [ir.Text("It is 18 °C in Paris.")]),
            ir.Message("user", [ir.Text("Thanks! And tomorrow?")]),
        ],
    )


def sample_response() -> ir.Response:
    return ir.Response(
        id="resp_bench",
        model="bench-model",
        source="openai_chat",
        choices=[
            ir.Choice(
                [ir.Text("Tomorrow looks sunny with a high of 21 °C. " * 5)],
                "end_turn",
                raw_stop_reason=None,
            )
        ],
        usage=ir.Usage(input_tokens=420, output_tokens=64, cache_read_tokens=128),
    )


def sample_stream(deltas: int) -> list[ir.Event]:
    events: list[ir.Event] = [
        ir.MessageStart("msg_bench", "bench-model", ir.Usage(420, 1)),
        ir.BlockStart(0, ir.Text("")),
    ]
    events += [ir.BlockDelta(0, "text", f"token{i} ") for i in range(deltas)]
    events += [ir.BlockStop(0), ir.Finish("end_turn", ir.Usage(420, deltas))]
    return events


def context() -> ir.RenderContext:
    return ir.RenderContext(
        model="bench-model", created=1_700_000_000, request_id="bench", include_usage=True
    )


def per_call_us(fn: Callable[[], object], number: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def bench_translation(deltas: int) -> None:
    request, response, events = sample_request(), sample_response(), sample_stream(deltas)
    bodies = {p: orjson.dumps(CODECS[p].render_request(request)) for p in CODECS}
    answers = {p: orjson.dumps(CODECS[p].render_response(response, context())) for p in CODECS}
    streams: dict[ir.Protocol, list[bytes]] = {}
    for p, codec in CODECS.items():
        renderer = codec.StreamRenderer(context())
        streams[p] = [renderer.render([e]) for e in events]
        streams[p] = [c for c in streams[p] if c] + ([tail] if (tail := renderer.finish()) else [])

    print(f"{'caller / upstream':34} {'request µs':>11} {'response µs':>12} {'chunk µs':>9}")
    for client, upstream in PAIRS:

        def translate_request(client=client, upstream=upstream) -> bytes:
            req = convert.parse_request(
                orjson.loads(bodies[client]), client, model="bench-model", stream=False
            )
            return convert.render_request(req, upstream, model="bench-model").body

        def translate_response(client=client, upstream=upstream) -> bytes:
            return convert.translate_response(answers[upstream], upstream, client, context()).body

        chunks = streams[upstream]

        def translate_stream(client=client, upstream=upstream, chunks=chunks) -> None:
            translator = convert.StreamTranslator(upstream, client, context())
            for chunk in chunks:
                translator.feed(chunk)
            translator.finish()

        req_us = per_call_us(translate_request, 300)
        resp_us = per_call_us(translate_response, 300)
        chunk_us = per_call_us(translate_stream, 30) / len(chunks)
        print(f"{client + ' / ' + upstream:34} {req_us:11.1f} {resp_us:12.1f} {chunk_us:9.2f}")


def timed_requests(runs: dict[str, tuple[str, dict]], headers: dict, count: int) -> dict[str, list]:
    """Round-robin over the targets, one request each per round, so drift in machine load
    hits every target alike; the first 20 rounds are warm-up."""
    latencies: dict[str, list[float]] = {name: [] for name in runs}
    clients = {name: httpx.Client(timeout=30) for name in runs}
    try:
        for i in range(count + 20):
            for name, (url, body) in runs.items():
                start = time.perf_counter()
                r = clients[name].post(url, json=body, headers=headers)
                elapsed = time.perf_counter() - start
                if r.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {r.status_code}: {r.text[:300]}")
                if i >= 20:
                    latencies[name].append(elapsed * 1000)
    finally:
        for client in clients.values():
            client.close()
    return latencies


def bench_end_to_end(count: int) -> None:
    fakes = {name: FakeUpstream(name).start() for name in ("openai", "anthropic", "gemini")}
    workdir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    rules = workdir / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    bare_port = free_port()
    bare = subprocess.Popen(
        [
            MITMDUMP,
            "-q",
            "--mode",
            f"reverse:{fakes['anthropic'].url}",
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(bare_port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Both print no per-flow summary, so the comparison is of proxying work only.
    gateway = start_gateway(rules, workdir / "mitmdump.log", "--set", "flow_detail=0")
    try:
        time.sleep(1.0)
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Hello"}],
        }
        auth = {"x-api-key": CALLER_KEY, "anthropic-version": "2023-06-01"}
        runs = {
            "direct to fake upstream": (f"{fakes['anthropic'].url}/v1/messages", body),
            "bare mitmdump (reverse proxy)": (f"http://127.0.0.1:{bare_port}/v1/messages", body),
            "gateway, native passthrough": (f"{gateway.url}/v1/messages", body),
            "gateway, OpenAI caller -> Anthropic": (
                f"{gateway.url}/openai/v1/chat/completions",
                {"model": "claude-sonnet-4-5", "messages": body["messages"], "max_tokens": 64},
            ),
        }
        results = {
            name: statistics.median(values)
            for name, values in timed_requests(runs, auth, count).items()
        }
        bare_ms = results["bare mitmdump (reverse proxy)"]
        print(f"\n{count} sequential keep-alive requests each, median latency:")
        for name, ms in results.items():
            print(f"  {name:40} {ms:7.2f} ms   x{ms / bare_ms:4.2f} of bare mitmdump")
    finally:
        gateway.stop()
        bare.terminate()
        for fake in fakes.values():
            fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deltas", type=int, default=100, help="text deltas per stream")
    parser.add_argument("--requests", type=int, default=300, help="end-to-end requests per run")
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args()
    bench_translation(args.deltas)
    if not args.skip_e2e:
        bench_end_to_end(args.requests)


if __name__ == "__main__":
    main()
