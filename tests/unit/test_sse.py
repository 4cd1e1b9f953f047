"""Stream framing: any split of the bytes gives the same frames."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.sse import JSONArrayDecoder, SSEDecoder, encode_event

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"
# "elided" examples are documentation excerpts with "..." in place of JSON.
SSE_FILES = sorted(p for p in SPEC.glob("*/*.sse") if "elided" not in p.name)


def decode_sse(chunks: list[bytes]) -> list[tuple[str | None, bytes]]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)] + decoder.finish()
    return [(e.event, e.data) for e in events]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@pytest.mark.parametrize("path", SSE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_spec_streams_decode_to_json_frames(path):
    events = decode_sse([path.read_bytes()])
    assert events
    for _, data in events:
        if data != b"[DONE]":
            orjson.loads(data)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SSE_FILES), st.lists(st.integers(min_value=0), max_size=40))
def test_any_split_gives_the_same_events(path, cuts):
    data = path.read_bytes()
    assert decode_sse(split(data, cuts)) == decode_sse([data])


def test_crlf_multiline_data_comments_and_missing_final_blank_line():
    raw = b": keepalive\r\nevent: a\r\ndata: 1\r\ndata: 2\r\n\r\nid: 7\ndata:3"
    assert decode_sse([raw]) == [("a", b"1\n2"), (None, b"3")]
    assert encode_event(b"{}", "ping") == b"event: ping\ndata: {}\n\n"
    assert encode_event(b"{}") == b"data: {}\n\n"


ARRAY = b'[{"a": "x}]\\"", "b": [1, {"c": 2}]}\r\n,\r\n{"d": "\\\\"}\r\n]'


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0), max_size=30))
def test_json_array_any_split(cuts):
    decoder = JSONArrayDecoder()
    items = [item for chunk in split(ARRAY, cuts) for item in decoder.feed(chunk)]
    assert [orjson.loads(i) for i in items] == orjson.loads(ARRAY)
    assert not decoder.incomplete


def test_json_array_truncated_is_incomplete():
    decoder = JSONArrayDecoder()
    assert len(decoder.feed(b'[{"a": 1}, {"b": ')) == 1
    assert decoder.incomplete
