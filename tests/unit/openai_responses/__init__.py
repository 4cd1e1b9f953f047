"""Tests of the OpenAI Responses codec, one module per source module, and what they share:
the spec fixtures, translating upstream streams for a Responses caller, and replaying a
stream through the installed openai SDK's own decoder and accumulator."""

from __future__ import annotations

from pathlib import Path

import openai
import orjson
from openai.lib.streaming.responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent

from tests.responses_grammar import _replay_client, _ReplayedBody
from translators import convert, ir

SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "spec"
FIXTURES = SPEC / "openai_responses"
KEY = b"test-state-key"


def ctx(**changes: object) -> ir.RenderContext:
    """The render context the addon would build, with a state key and provider."""
    base: dict = {
        "model": "gpt-caller",
        "created": 1700000000,
        "request_id": "req-1",
        "state_key": KEY,
        "provider": "prov",
    }
    base.update(changes)
    return ir.RenderContext(**base)


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def stream_bytes(path: Path) -> bytes:
    """A recorded stream as the upstream sends it (``.jsonl`` recordings lost framing)."""
    raw = path.read_bytes()
    if path.suffix != ".jsonl":
        return raw if raw.endswith(b"\n\n") else raw + b"\n\n"
    lines = [line for line in raw.splitlines() if line.strip()]
    protocol = path.parent.name
    if protocol == "openai_chat":
        return b"".join(b"data: " + line + b"\n\n" for line in lines) + b"data: [DONE]\n\n"
    if protocol == "gemini":
        return b"".join(b"data: " + line + b"\r\n\r\n" for line in lines)
    return b"".join(
        b"event: " + orjson.loads(line)["type"].encode() + b"\ndata: " + line + b"\n\n"
        for line in lines
    )


def upstream_streams() -> list[tuple[ir.Protocol, Path]]:
    """Every recorded stream of the three other protocols."""
    out: list[tuple[ir.Protocol, Path]] = []
    for protocol in ("openai_chat", "anthropic", "gemini"):
        for path in sorted((SPEC / protocol).glob("stream_*")):
            if path.suffix in (".sse", ".jsonl"):
                out.append((protocol, path))  # type: ignore[arg-type]
    return out


def translate(
    upstream: ir.Protocol,
    chunks: list[bytes],
    context: ir.RenderContext | None = None,
) -> bytes:
    translator = convert.StreamTranslator(upstream, "openai_responses", context or ctx())
    return b"".join(translator.feed(c) for c in chunks) + translator.finish()


def render_events(events: list[ir.Event], context: ir.RenderContext | None = None) -> bytes:
    """IR events through convert's stream policy and the Responses renderer."""
    from translators.openai_responses import StreamRenderer

    renderer = StreamRenderer(context or ctx())
    return renderer.render(events) + renderer.finish()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def sse_payloads(raw: bytes) -> list[dict]:
    return [orjson.loads(line[6:]) for line in raw.splitlines() if line.startswith(b"data: ")]


def sdk_replay(raw: bytes) -> tuple[object, dict]:
    """Feed the bytes through the SDK's ``Stream`` decoder and ``ResponseStreamState``
    (which asserts every delta lands in an item and part of the right type), whatever
    the terminal event. Returns the accumulated snapshot and the terminal response."""
    state = ResponseStreamState(input_tools=openai.omit, text_format=openai.omit)
    stream = openai.Stream(
        cast_to=ResponseStreamEvent, response=_ReplayedBody(raw), client=_replay_client()
    )
    terminal: dict = {}
    for event in stream:
        state.handle_event(event)
        if event.type in ("response.completed", "response.incomplete", "response.failed"):
            terminal = event.response.to_dict()
    snapshot = state._ResponseStreamState__current_snapshot  # type: ignore[attr-defined]
    return snapshot, terminal
