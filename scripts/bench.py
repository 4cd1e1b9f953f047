"""Benchmarks (run as ``scripts/bench``): translation cost, and the gateway's overhead.

1. Translation per request and per streamed chunk, for every caller/upstream pair, on a
   conversation built once in the IR and rendered by each codec (so every format gets
   the same content: a system prompt, three turns, two tools, a tool call and result).
2. End to end: the same local fake upstream reached through a bare ``mitmdump`` reverse
   proxy and through the gateway (native passthrough and a translated route): median and
   p99 latency of sequential keep-alive requests, requests per second with concurrent
   clients, and a stream's first byte, each as ratios to bare mitmdump. ``--baseline DIR``
   runs another checkout's gateway beside this one, interleaved, for before/after figures
   on the same machine at the same time (docs/faults.md).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

from tests.fakes import FakeUpstream, Reply, canned
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


def timed_requests(
    runs: dict[str, tuple[str, dict]], headers: dict, count: int, pids: dict[str, int]
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Round-robin over the targets, one request each per round, so drift in machine load
    hits every target alike; the first 20 rounds are warm-up. Returns the latencies and,
    where the serving process is known, its CPU time per request (the event loop thread's,
    from /proc: on a loaded machine a steadier measure of the work than latency)."""
    latencies: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, float] = dict.fromkeys(pids, 0.0)
    clients = {name: httpx.Client(timeout=30) for name in runs}
    try:
        for i in range(count + 20):
            for name, (url, body) in runs.items():
                pid = pids.get(name)
                before = cpu_ns(pid) if pid else 0
                start = time.perf_counter()
                r = clients[name].post(url, json=body, headers=headers)
                elapsed = time.perf_counter() - start
                if r.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {r.status_code}: {r.text[:300]}")
                if i >= 20:
                    latencies[name].append(elapsed * 1000)
                    if pid:
                        time.sleep(0.0005)  # let the proxy finish its bookkeeping
                        cpu[name] += (cpu_ns(pid) - before) / 1e6
    finally:
        for client in clients.values():
            client.close()
    return latencies, {name: total / count for name, total in cpu.items()}


def cpu_ns(pid: int) -> int:
    """Nanoseconds a process's main thread has run (Linux)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def throughput(
    runs: dict[str, tuple[str, dict]], headers: dict, concurrency: int, per_client: int
) -> dict[str, float]:
    """Requests per second with ``concurrency`` keep-alive clients at once, each target in
    turn, three rounds interleaved; the median round. One mitmproxy process runs on one
    core, so this is its CPU cost per request."""
    rounds: dict[str, list[float]] = {name: [] for name in runs}

    def client_loop(url: str, body: dict) -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(per_client):
                r = client.post(url, json=body, headers=headers)
                if r.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {r.status_code}: {r.text[:300]}")

    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(3):
            for name, (url, body) in runs.items():
                start = time.perf_counter()
                list(pool.map(client_loop, [url] * concurrency, [body] * concurrency))
                rounds[name].append(concurrency * per_client / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rounds.items()}


def stream_first_bytes(
    runs: dict[str, tuple[str, dict]], headers: dict, fake: FakeUpstream, count: int
) -> dict[str, tuple[float, float]]:
    """(time to the first body byte, total) of a stream whose upstream waits 20 ms between
    events: a gateway that buffered would show it in the first figure."""
    frames = canned.anthropic_stream("claude-sonnet-4-5")
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            for name, (url, body) in runs.items():
                fake.enqueue(Reply.sse(frames, delay=STREAM_DELAY))
                start = time.perf_counter()
                with client.stream("POST", url, json=body, headers=headers) as r:
                    chunks = r.iter_raw()
                    next(chunks)
                    first = time.perf_counter() - start
                    for _ in chunks:
                        pass
                times[name].append((first * 1000, (time.perf_counter() - start) * 1000))
    return {
        name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
        for name, ts in times.items()
    }


def stream_cpu(
    runs: dict[str, tuple[str, dict]],
    headers: dict,
    fake: FakeUpstream,
    count: int,
    pids: dict[str, int],
    deltas: int,
    delay: float,
) -> dict[str, float]:
    """The proxy's CPU time per streamed event, on streams of ``deltas`` text events sent
    ``delay`` apart (0: as fast as the upstream can, so that many arrive together)."""
    frames = [
        b"event: message_start\ndata: "
        + orjson.dumps(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 5, "output_tokens": 1},
                },
            }
        )
        + b"\n\n",
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n',
    ]
    frames += [
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"token%d "}}\n\n' % i
        for i in range(deltas)
    ]
    frames += [
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
        b'"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}\n\n' % deltas,
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ]
    cpu: dict[str, float] = dict.fromkeys(pids, 0.0)
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            for name, (url, body) in runs.items():
                if name not in pids:
                    continue
                fake.enqueue(Reply.sse(frames, delay=delay))
                before = cpu_ns(pids[name])
                with client.stream("POST", url, json=body, headers=headers) as r:
                    for _ in r.iter_raw():
                        pass
                time.sleep(0.0005)
                cpu[name] += (cpu_ns(pids[name]) - before) / 1e3
    return {name: total / count / len(frames) for name, total in cpu.items()}


STREAM_DELAY = 0.02
STREAM_GAP = 0.002  # between the events of a stream measured for CPU: each arrives alone


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def bench_end_to_end(count: int, concurrency: int, baseline: Path | None) -> None:
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
    gateways = {"gateway": start_gateway(rules, workdir / "mitmdump.log", "--set", "flow_detail=0")}
    if baseline is not None:
        gateways["before"] = start_gateway(
            rules,
            workdir / "before.log",
            "--set",
            "flow_detail=0",
            script=baseline / "addons" / "gateway.py",
        )
    try:
        time.sleep(1.0)
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Hello"}],
        }
        chat = {"model": "claude-sonnet-4-5", "messages": body["messages"], "max_tokens": 64}
        auth = {"x-api-key": CALLER_KEY, "anthropic-version": "2023-06-01"}
        runs = {
            "direct to fake upstream": (f"{fakes['anthropic'].url}/v1/messages", body),
            "bare mitmdump (reverse proxy)": (f"http://127.0.0.1:{bare_port}/v1/messages", body),
        }
        for label, gw in gateways.items():
            runs[f"{label}, native passthrough"] = (f"{gw.url}/v1/messages", body)
            runs[f"{label}, OpenAI caller -> Anthropic"] = (
                f"{gw.url}/openai/v1/chat/completions",
                chat,
            )
        pids = {}
        if Path("/proc/self/schedstat").exists():
            pids["bare mitmdump (reverse proxy)"] = bare.pid
            for label, gw in gateways.items():
                pids[f"{label}, native passthrough"] = gw.process.pid
                pids[f"{label}, OpenAI caller -> Anthropic"] = gw.process.pid
        latencies, cpu = timed_requests(runs, auth, count, pids)
        bare_name = "bare mitmdump (reverse proxy)"
        bare_ms = statistics.median(latencies[bare_name])
        print(f"\n{count} sequential keep-alive requests each, interleaved:")
        print(f"  {'':40} {'median':>9} {'p99':>9} {'proxy CPU':>10}")
        for name, values in latencies.items():
            ms = statistics.median(values)
            line = f"  {name:40} {ms:6.2f} ms {p99(values):6.2f} ms"
            if name in cpu:
                line += f" {cpu[name]:6.2f} ms   x{cpu[name] / cpu[bare_name]:4.2f} CPU of bare"
            print(line + f"   x{ms / bare_ms:4.2f} latency of bare")

        per_client = max(count // concurrency, 10)
        rates = throughput(runs, auth, concurrency, per_client)
        bare_rate = rates[bare_name]
        print(f"\n{concurrency} concurrent keep-alive clients, {per_client} requests each:")
        for name, rate in rates.items():
            print(f"  {name:40} {rate:7.0f} req/s   x{rate / bare_rate:4.2f} of bare")

        streamed = {name: (url, {**b, "stream": True}) for name, (url, b) in runs.items()}
        first = stream_first_bytes(streamed, auth, fakes["anthropic"], max(count // 10, 10))
        events = len(canned.anthropic_stream("m"))
        gap = STREAM_DELAY * 1000
        print(f"\nstreams with {gap:.0f} ms between each of the upstream's {events} events:")
        print(f"  {'':40} {'first byte':>10} {'total':>9}")
        for name, (ttfb, total) in first.items():
            print(f"  {name:40} {ttfb:7.2f} ms {total:6.1f} ms")
        if pids:
            fake = fakes["anthropic"]
            spaced = stream_cpu(streamed, auth, fake, 10, pids, 200, STREAM_GAP)
            burst = stream_cpu(streamed, auth, fake, 10, pids, 200, 0.0)
            print("\nproxy CPU per streamed event, streams of 200 text events:")
            print(f"  {'':40} {f'{STREAM_GAP * 1000:g} ms apart':>14} {'all at once':>12}")
            for name in spaced:
                print(f"  {name:40} {spaced[name]:11.1f} µs {burst[name]:9.1f} µs")
            print("  (bare mitmdump buffers a stream: it does not pass it on event by event)")
    finally:
        for gw in gateways.values():
            gw.stop()
        bare.terminate()
        for fake in fakes.values():
            fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deltas", type=int, default=100, help="text deltas per stream")
    parser.add_argument("--requests", type=int, default=300, help="end-to-end requests per run")
    parser.add_argument("--concurrency", type=int, default=8, help="clients at once, throughput")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of the gateway (e.g. `git archive main | tar -x -C DIR`) run "
        "beside this one, interleaved, to compare before and after a change",
    )
    parser.add_argument("--skip-translation", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args()
    if not args.skip_translation:
        bench_translation(args.deltas)
    if not args.skip_e2e:
        bench_end_to_end(args.requests, args.concurrency, args.baseline)


if __name__ == "__main__":
    main()
