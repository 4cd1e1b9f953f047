"""Cut points of relayed streams: whole events pass at once, half events wait, and any
split of the bytes passes the same stream on."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from addons.stream_cut import JSONArrayCut, SSECut

SSE = (
    b'data: {"a":1}\n\n'
    b"event: ping\ndata: {}\n\n"
    b'data: {"b":"x\\n\\ny"}\r\n\r\n'  # an escaped newline inside JSON is no boundary
    b"data: [DONE]\n\n"
)
ARRAY = b'[{"a": "]}\\"[{"}\r\n,{"b": [1, {"c": 2}]}\r\n,{"d": "\\\\"}\r\n]'


def splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(st.lists(st.integers(min_value=0, max_value=len(SSE)), max_size=12))
def test_any_split_of_an_sse_stream_passes_whole_events(cuts):
    cut = SSECut(count=True)
    out = []
    for piece in splits(SSE, cuts):
        passed = cut.feed(piece)
        assert not passed or passed.endswith((b"\n\n", b"\n\r\n"))
        out.append(passed)
    assert b"".join(out) + cut.rest() == SSE
    assert cut.sent == 4


def test_a_half_event_waits_for_its_end():
    cut = SSECut()
    assert cut.feed(b'data: {"a":1}\n\ndata: {"b"') == b'data: {"a":1}\n\n'
    assert cut.feed(b":2}\n") == b""
    assert cut.feed(b"\n") == b'data: {"b":2}\n\n'
    assert cut.rest() == b""


@given(st.lists(st.integers(min_value=0, max_value=len(ARRAY)), max_size=12))
def test_any_split_of_a_json_array_passes_whole_elements(cuts):
    cut = JSONArrayCut()
    out = b""
    for piece in splits(ARRAY, cuts):
        out += cut.feed(piece)
        if cut.sent:
            # What went out so far is an array of whole elements, were it closed now.
            closed = out if out.endswith(b"]") else out + b"]"
            assert len(orjson.loads(closed)) == cut.sent
    assert out + cut.rest() == ARRAY
    assert cut.sent == 3 and cut.array_open


def test_an_array_not_yet_opened_or_without_elements():
    cut = JSONArrayCut()
    assert cut.feed(b"  ") == b"" and not cut.array_open
    assert cut.feed(b'[{"a": ') == b"" and cut.array_open and cut.sent == 0
