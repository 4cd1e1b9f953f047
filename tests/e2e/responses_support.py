"""What the Responses end-to-end tests share: an ``openai`` SDK client whose every
streamed answer is checked against the Responses stream grammar, and scripted
Anthropic and Gemini answers (whole or streamed) built from their content.

``sdk(gateway)`` records the bytes of every ``text/event-stream`` answer the SDK reads
(a tee in the HTTP transport, so the SDK sees exactly what the gateway sent) and runs
each completely read one through ``tests.responses_grammar.validate_sse`` when the
block ends, so no test can forget to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import openai
import orjson
import pytest

from tests.fakes import Reply
from tests.harness import CALLER_KEY, Gateway
from tests.responses_grammar import validate_sse

CLAUDE = "claude-sonnet-4-5"
GEMINI = "gemini-2.5-flash"
GEMINI_3 = "gemini-3-pro-preview"  # the fake demands thought signatures on its calls
MODELS = {"anthropic": CLAUDE, "gemini": GEMINI}
PROVIDERS = ["anthropic", "gemini"]
# Every Responses test file runs unary and streamed, and against both translated providers.
STREAMS = pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
BOTH = pytest.mark.parametrize("provider", PROVIDERS)


# ------------------------------------------------------------ recorded streams


@dataclass
class Captured:
    """One event-stream answer as it came over the wire."""

    path: str
    headers: httpx.Headers
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False

    @property
    def raw(self) -> bytes:
        return b"".join(self.chunks)


class _Tee(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, captured: Captured) -> None:
        self._inner, self._captured = inner, captured

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._captured.chunks.append(chunk)
            yield chunk
        self._captured.complete = True

    def close(self) -> None:
        self._inner.close()


class Recorder(httpx.BaseTransport):
    """An HTTP transport that keeps a copy of every event-stream answer."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.streams: list[Captured] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            return response
        captured = Captured(request.url.path, response.headers)
        self.streams.append(captured)
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Tee(response.stream, captured),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class Client(openai.OpenAI):
    """The openai SDK on the gateway's OpenAI converter route, with its streams recorded."""

    recorder: Recorder

    def validated(self) -> list[dict]:
        """Validate every stream read to its end so far; the terminal responses."""
        return [validate_sse(c.raw) for c in self.recorder.streams if c.complete]


@contextlib.contextmanager
def sdk(gateway: Gateway, prefix: str = "/openai") -> Iterator[Client]:
    recorder = Recorder()
    client = Client(
        base_url=f"{gateway.url}{prefix}/v1",
        api_key=CALLER_KEY,
        max_retries=0,
        http_client=httpx.Client(transport=recorder, timeout=30),
    )
    client.recorder = recorder
    yield client
    client.validated()
    client.close()


def raw_stream(gateway: Gateway, body: dict, prefix: str = "/openai") -> httpx.Response:
    """A streamed Responses call without the SDK: status, headers and every byte."""
    return httpx.post(
        f"{gateway.url}{prefix}/v1/responses",
        json={**body, "stream": True},
        headers={"authorization": f"Bearer {CALLER_KEY}"},
        timeout=30,
    )


def sse_events(raw: bytes) -> list[dict]:
    """The JSON payloads of a (validated) Responses stream, in order."""
    return [
        orjson.loads(line[5:])
        for line in raw.splitlines()
        if line.startswith(b"data:") and line[5:].strip()
    ]


def final_of(client: Client, **kwargs) -> openai.types.responses.Response:
    """``responses.stream(...).get_final_response()``."""
    with client.responses.stream(**kwargs) as stream:
        return stream.get_final_response()


def answer(client: Client, stream: bool, **kwargs) -> openai.types.responses.Response:
    """One Responses call, whole or streamed (through the SDK's stream helper)."""
    if stream:
        return final_of(client, **kwargs)
    return client.responses.create(**kwargs)


def outcome(client: Client, stream: bool, **kwargs) -> openai.types.responses.Response:
    """The response however the call ended (completed, incomplete or failed): the whole
    answer, or the response of the stream's terminal event."""
    if not stream:
        return client.responses.create(**kwargs)
    events = list(client.responses.create(stream=True, **kwargs))
    assert events[-1].type in ("response.completed", "response.incomplete", "response.failed")
    return events[-1].response


def history(response: openai.types.responses.Response, *, ids: bool = True) -> list[dict]:
    """A response's output items as a caller sends them back; ``ids=False`` drops the
    ids and statuses, as Codex does."""
    items = []
    for item in response.output:
        data = item.model_dump(exclude_none=True)
        if not ids:
            data.pop("id", None)
            data.pop("status", None)
        items.append(data)
    return items


def user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def call_output(call_id: str, output: str, kind: str = "function_call_output") -> dict:
    return {"type": kind, "call_id": call_id, "output": output}


# ------------------------------------------------------------ Anthropic answers

ANTHROPIC_USAGE = {"input_tokens": 30, "output_tokens": 12}


def anthropic_reply(
    content: list[dict],
    *,
    stream: bool,
    stop: str | None = None,
    usage: dict | None = None,
    model: str = CLAUDE,
) -> Reply:
    """A Messages answer holding ``content`` blocks (text, thinking, redacted_thinking,
    tool_use), whole or as Anthropic streams it (thinking, then its signature delta;
    tool input in fragments)."""
    called = any(block["type"] == "tool_use" for block in content)
    stop = stop or ("tool_use" if called else "end_turn")
    usage = usage or ANTHROPIC_USAGE
    message = {
        "id": "msg_01Fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }
    if not stream:
        return Reply.json(message)
    start_usage = {k: v for k, v in usage.items() if k != "output_tokens"} | {"output_tokens": 1}
    start = {**message, "content": [], "stop_reason": None, "usage": start_usage}
    events: list[dict] = [{"type": "message_start", "message": start}]
    for i, block in enumerate(content):
        events += _anthropic_block_events(i, block)
    delta = {"stop_reason": stop, "stop_sequence": None}
    events.append(
        {
            "type": "message_delta",
            "delta": delta,
            "usage": {"output_tokens": usage["output_tokens"]},
        }
    )
    events.append({"type": "message_stop"})
    return Reply.sse(anthropic_frames(events))


def anthropic_frames(events: list[dict]) -> list[bytes]:
    return [
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events
    ]


def _anthropic_block_events(i: int, block: dict) -> list[dict]:
    kind = block["type"]

    def delta(d: dict) -> dict:
        return {"type": "content_block_delta", "index": i, "delta": d}

    if kind == "text":
        start = {"type": "text", "text": ""}
        inner = [delta({"type": "text_delta", "text": block["text"]})]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        inner = [
            delta({"type": "thinking_delta", "thinking": block["thinking"]}),
            delta({"type": "signature_delta", "signature": block["signature"]}),
        ]
    elif kind == "redacted_thinking":
        start, inner = block, []
    elif kind == "tool_use":
        start = {**block, "input": {}}
        text = orjson.dumps(block["input"]).decode()
        inner = [
            delta({"type": "input_json_delta", "partial_json": text[j : j + 7]})
            for j in range(0, len(text), 7)
        ]
    else:
        raise ValueError(kind)
    return [
        {"type": "content_block_start", "index": i, "content_block": start},
        *inner,
        {"type": "content_block_stop", "index": i},
    ]


# --------------------------------------------------------------- Gemini answers

GEMINI_USAGE = {"promptTokenCount": 30, "candidatesTokenCount": 12, "totalTokenCount": 42}


def gemini_reply(
    parts: list[dict],
    *,
    stream: bool,
    finish: str = "STOP",
    usage: dict | None = None,
    model: str = GEMINI,
) -> Reply:
    """A generateContent answer with ``parts``; streamed, one part per SSE chunk (a
    function call arrives whole, as Gemini sends it), the finish on the last."""
    usage = usage or GEMINI_USAGE

    def chunk(ps: list[dict], last: bool) -> dict:
        candidate: dict = {"content": {"role": "model", "parts": ps}, "index": 0}
        if last:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": "gem-resp-1",
        }

    if not stream:
        return Reply.json(chunk(parts, True))
    frames = [
        b"data: " + orjson.dumps(chunk([p], n == len(parts) - 1)) + b"\r\n\r\n"
        for n, p in enumerate(parts)
    ]
    return Reply.sse(frames)
