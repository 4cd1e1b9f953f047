"""A request body decoded under a size limit (rules.yaml ``limits.max_body_bytes``).

mitmproxy decodes a compressed body whole when asked for its content, so a 1 MB gzip
request that expands to 1 GB takes gigabytes and seconds of the event loop before any
check could run. The gateway decodes the raw bytes itself, a slice at a time, and stops
as soon as the output passes the limit.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator

import brotli
import zstandard

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
_SLICE = 16 * 1024  # compressed bytes fed at a time; brotli has no output bound of its own


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than the gateway's limit of {limit} bytes.")
        self.limit = limit


def decoded(raw: bytes, encoding: str, limit: int) -> bytes:
    """``raw`` decoded from ``encoding`` (``content-encoding``, possibly a list), at
    most ``limit`` bytes; ``BodyTooLarge`` past it, ``ValueError`` for bytes that are
    not what the header says."""
    if len(raw) > limit:
        raise BodyTooLarge(limit)
    body = raw
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding == "identity":
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise ValueError(f"unsupported content-encoding {coding!r}")
        body = _bounded(decoder(body), limit)
    return body


def _bounded(pieces: Iterator[bytes], limit: int) -> bytes:
    out = bytearray()
    for piece in pieces:
        out += piece
        if len(out) > limit:
            raise BodyTooLarge(limit)
    return bytes(out)


def _zlib(data: bytes) -> Iterator[bytes]:
    """gzip and zlib-wrapped deflate (wbits 47 reads both), or the raw deflate some
    clients send as ``deflate``."""
    wrapped = data[:2] == b"\x1f\x8b" or (len(data) > 1 and int.from_bytes(data[:2]) % 31 == 0)
    try:
        yield from _inflate(data, zlib.decompressobj(47 if wrapped else -15))
    except zlib.error as e:
        raise ValueError(f"invalid compressed data: {e}") from None


def _inflate(data: bytes, inflater: zlib._Decompress) -> Iterator[bytes]:
    pending = data
    while pending:
        yield inflater.decompress(pending, _SLICE)
        pending = inflater.unconsumed_tail
        if inflater.eof:
            break
    yield inflater.flush()


def _brotli(data: bytes) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    for start in range(0, len(data), _SLICE // 16):
        try:
            yield decompressor.process(data[start : start + _SLICE // 16])
        except brotli.error as e:
            raise ValueError(f"invalid brotli data: {e}") from None


def _zstd(data: bytes) -> Iterator[bytes]:
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
    try:
        while piece := reader.read(_SLICE):
            yield piece
    except zstandard.ZstdError as e:
        raise ValueError(f"invalid zstd data: {e}") from None


_DECODERS: dict[str, Callable[[bytes], Iterator[bytes]]] = {
    "gzip": _zlib,
    "x-gzip": _zlib,
    "deflate": _zlib,
    "br": _brotli,
    "zstd": _zstd,
}
