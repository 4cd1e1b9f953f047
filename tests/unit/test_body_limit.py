"""Request bodies decoded under the size limit, whatever the content-encoding."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
import zstandard

from addons.body_limit import BodyTooLarge, decoded

BODY = b'{"model": "m", "messages": []}' * 100
LIMIT = 64 * 1024


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("", lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate
        ("br", brotli.compress),
        ("zstd", lambda b: zstandard.ZstdCompressor().compress(b)),
        ("gzip, br", lambda b: brotli.compress(gzip.compress(b))),
    ],
)
def test_each_encoding_decodes_to_the_body(encoding, encode):
    assert decoded(encode(BODY), encoding, LIMIT) == BODY


@pytest.mark.parametrize(
    "encode",
    [gzip.compress, brotli.compress, lambda b: zstandard.ZstdCompressor().compress(b)],
)
def test_a_bomb_stops_at_the_limit(encode):
    bomb = encode(b"\0" * (8 * LIMIT))  # a few hundred bytes that expand 8 times past it
    assert len(bomb) < LIMIT
    with pytest.raises(BodyTooLarge):
        decoded(bomb, {gzip.compress: "gzip", brotli.compress: "br"}.get(encode, "zstd"), LIMIT)


def test_a_raw_body_over_the_limit_is_refused_before_anything_else():
    with pytest.raises(BodyTooLarge):
        decoded(b"x" * (LIMIT + 1), "", LIMIT)


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "compress"])
def test_bytes_that_are_not_the_encoding_are_a_value_error(encoding):
    with pytest.raises(ValueError):
        decoded(b"definitely not compressed", encoding, LIMIT)
