"""Tests of the Anthropic Messages codec (``translators/anthropic/``), one module per
source file, and the helpers they share: spec fixtures, stream drivers, an SDK client
without network, and the event grammar the SDK's accumulator relies on."""

from __future__ import annotations

from pathlib import Path

import anthropic
import anthropic._base_client as _sdk_http
import orjson
import pytest
from hypothesis import strategies as st

from translators import anthropic as codec
from translators import ir
from translators.sse import SSEDecoder

# anthropic < 1 is built on httpx, anthropic >= 2 on httpx2 (same API): mock with the one
# the installed SDK uses, so these tests run under both Python legs of CI.
httpx = getattr(_sdk_http, "httpx2", None) or _sdk_http.httpx

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "spec" / "anthropic"
CTX = ir.RenderContext(model="claude-test", created=1700000000, request_id="req42")
SAME_CTX = ir.RenderContext(
    model="claude-test", created=1700000000, request_id="req42", source="anthropic"
)

SSE_EXAMPLES = sorted(p.name for p in FIXTURES.glob("*.sse"))
STREAM_EXAMPLES = SSE_EXAMPLES + sorted(p.name for p in FIXTURES.glob("*.jsonl"))
REQUEST_EXAMPLES = sorted(p.name for p in FIXTURES.glob("request_*.json"))
RESPONSE_EXAMPLES = sorted(p.name for p in FIXTURES.glob("response_*.json"))


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def stream_bytes(name: str) -> bytes:
    """Raw SSE; ``.jsonl`` recordings get back the ``event:`` line they lost."""
    raw = (FIXTURES / name).read_bytes()
    if name.endswith(".sse"):
        return raw
    frames = []
    for line in raw.splitlines():
        if line.strip():
            event = orjson.loads(line)["type"].encode()
            frames.append(b"event: " + event + b"\ndata: " + line + b"\n\n")
    return b"".join(frames)


def parse_stream(data: bytes, splits: list[int] | None = None) -> list[ir.Event]:
    parser = codec.StreamParser()
    events: list[ir.Event] = []
    cuts = sorted(set(splits or []))
    start = 0
    for cut in [*cuts, len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
    return events + parser.finish()


def render_stream(events: list[ir.Event], ctx: ir.RenderContext = SAME_CTX) -> bytes:
    renderer = codec.StreamRenderer(ctx)
    return renderer.render(events) + renderer.finish()


def user(text: str) -> ir.Message:
    return ir.Message("user", [ir.Text(text)])


def foreign(*messages: ir.Message, **fields: object) -> ir.Request:
    """A request from another protocol's caller."""
    return ir.Request(model="m", messages=list(messages), source="openai_chat", **fields)


def sdk_client(handler) -> anthropic.Anthropic:
    """An SDK client whose HTTP goes to ``handler``: no network."""
    transport = httpx.MockTransport(handler)
    return anthropic.Anthropic(
        api_key="test",
        base_url="http://gateway.test",
        http_client=httpx.Client(transport=transport),
        max_retries=0,
    )


def sse_client(body: bytes) -> anthropic.Anthropic:
    """An SDK client that gets ``body`` as a 200 event stream."""
    headers = {"content-type": "text/event-stream"}
    return sdk_client(lambda request: httpx.Response(200, content=body, headers=headers))


def check_grammar(raw: bytes) -> list[dict]:
    """Anthropic's event grammar, as the SDK's accumulator relies on it; the payloads
    between ``message_start`` and the final ``message_delta`` (or error) are returned."""
    decoder = SSEDecoder()
    frames = decoder.feed(raw) + decoder.finish()
    payloads = [orjson.loads(f.data) for f in frames]
    for frame, payload in zip(frames, payloads, strict=True):
        assert frame.event == payload["type"]
    if payloads[-1]["type"] == "error":
        assert all(p["type"] != "error" for p in payloads[:-1])
        payloads = payloads[:-1]
        if not payloads:
            return []
    else:
        assert [p["type"] for p in payloads[-2:]] == ["message_delta", "message_stop"]
        payloads = payloads[:-2]
    assert payloads[0]["type"] == "message_start"
    open_index: int | None = None
    opened = 0
    for p in payloads[1:]:
        if p["type"] == "content_block_start":
            assert open_index is None and p["index"] == opened
            open_index = opened
            opened += 1
        elif p["type"] == "content_block_delta":
            assert p["index"] == open_index
        elif p["type"] == "content_block_stop":
            assert p["index"] == open_index
            open_index = None
        else:
            pytest.fail(f"unexpected event {p['type']}")
    return payloads


def frames(raw: bytes) -> list[dict]:
    """Every payload of a rendered stream, in order."""
    decoder = SSEDecoder()
    return [orjson.loads(f.data) for f in decoder.feed(raw) + decoder.finish()]


# Random JSON, and content blocks of every known type with random fields, for the
# property tests of parse_request and parse_response.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_BLOCK_TYPES = st.sampled_from(
    ["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "x"]
)
BLOCK = st.fixed_dictionaries(
    {"type": _BLOCK_TYPES},
    optional={
        key: JSON
        for key in (
            "text",
            "source",
            "id",
            "name",
            "input",
            "tool_use_id",
            "content",
            "is_error",
            "thinking",
            "signature",
            "data",
            "cache_control",
            "citations",
            "extra_content",
            "title",
        )
    },
) | st.fixed_dictionaries(
    {
        "type": st.just("image"),
        "source": st.fixed_dictionaries(
            {"type": st.sampled_from(["base64", "url", "file"])},
            optional={"media_type": JSON, "data": JSON, "url": JSON},
        ),
    }
)
