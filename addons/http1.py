"""Just enough HTTP/1.1 for the relay, over asyncio streams.

Two peers only: mitmproxy, which sends well-formed requests to the relay, and providers,
whose answers are read with every framing HTTP/1.1 allows (content-length, chunked,
until close) and checked strictly enough that a garbage answer is a fault, not a hang.
Written by hand rather than with h11 because it runs for every request the gateway
forwards and must cost as little as possible.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

Fields = list[tuple[bytes, bytes]]

# Headers about one connection, never forwarded; content-length is recomputed.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
        b"content-length",
    }
)

READ_SIZE = 65536


class ProtocolError(Exception):
    """The peer sent something that is not HTTP/1.1."""


@dataclass(slots=True)
class RequestHead:
    method: bytes
    target: bytes
    fields: Fields


@dataclass(slots=True)
class ResponseHead:
    status: int
    reason: bytes
    fields: Fields
    keep_alive: bool


def field(fields: Fields, name: bytes) -> bytes | None:
    """The first value of a header (``name`` in lower case)."""
    for key, value in fields:
        if key == name:
            return value
    return None


def _parse_fields(lines: list[bytes]) -> Fields:
    fields: Fields = []
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip() or line[:1] in b" \t":
            raise ProtocolError(f"malformed header line {line[:40]!r}")
        fields.append((name.lower(), value.strip()))
    return fields


async def read_request_head(reader: asyncio.StreamReader) -> RequestHead | None:
    """The next request on a kept-alive connection; None when the peer closed it."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            return None
        raise ProtocolError("the request head was cut off") from None
    except asyncio.LimitOverrunError:
        raise ProtocolError("the request head is too large") from None
    lines = raw[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise ProtocolError(f"malformed request line {lines[0][:40]!r}")
    return RequestHead(parts[0], parts[1], _parse_fields(lines[1:]))


async def read_request_body(reader: asyncio.StreamReader, head: RequestHead) -> bytes:
    if (field(head.fields, b"transfer-encoding") or b"").lower() == b"chunked":
        parts: list[bytes] = []
        body = BodyReader(reader, chunked=True, length=None)
        while chunk := await body.read():
            parts.append(chunk)
        return b"".join(parts)
    length = field(head.fields, b"content-length")
    return await reader.readexactly(int(length)) if length else b""


async def read_response_head(reader: asyncio.StreamReader) -> ResponseHead:
    """Status line and headers, skipping interim 1xx answers. A connection closed
    before any of it raises ``asyncio.IncompleteReadError``; bytes that are not HTTP
    raise ``ProtocolError``."""
    while True:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise ProtocolError("the response head is too large") from None
        except asyncio.IncompleteReadError as e:
            if e.partial and not b"HTTP/1.".startswith(e.partial[:7]):
                raise ProtocolError("the response is not HTTP") from None
            raise
        lines = raw[:-4].split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code, _, reason = rest.partition(b" ")
        if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
            raise ProtocolError(f"malformed status line {lines[0][:40]!r}")
        status = int(code)
        fields = _parse_fields(lines[1:])
        if 100 <= status < 200:
            continue
        connection = (field(fields, b"connection") or b"").lower()
        keep_alive = b"close" not in connection if version == b"HTTP/1.1" else False
        return ResponseHead(status, reason, fields, keep_alive)


class BodyReader:
    """A response body in the pieces it arrives in. ``read`` returns b"" at its end and
    raises ``asyncio.IncompleteReadError`` (or ``ConnectionError``) when the connection
    ends before the framing does. A chunked body is read as the socket delivers it, not
    chunk by chunk: events that arrive together go on together, in one write."""

    __slots__ = ("_chunks", "_done", "_left", "_reader", "complete")

    def __init__(self, reader: asyncio.StreamReader, *, chunked: bool, length: int | None):
        self._reader = reader
        self._chunks = ChunkedDecoder() if chunked else None
        self._left = length  # content-length still to read; None: chunked or until close
        self._done = length == 0
        # Whether the end can be told from a cut, and nothing came after it: only then
        # may the connection carry another request.
        self.complete = length is not None or chunked

    @classmethod
    def of(cls, reader: asyncio.StreamReader, head: ResponseHead, method: bytes) -> BodyReader:
        if method == b"HEAD" or head.status in (204, 304):
            return cls(reader, chunked=False, length=0)
        if b"chunked" in (field(head.fields, b"transfer-encoding") or b"").lower():
            return cls(reader, chunked=True, length=None)
        length = field(head.fields, b"content-length")
        if length is not None:
            if not length.isdigit():
                raise ProtocolError("malformed content-length")
            return cls(reader, chunked=False, length=int(length))
        return cls(reader, chunked=False, length=None)

    async def read(self) -> bytes:
        if self._done:
            return b""
        if self._chunks is not None:
            return await self._read_chunked(self._chunks)
        if self._left is None:  # until the connection closes
            data = await self._reader.read(READ_SIZE)
            self._done = not data
            return data
        data = await self._reader.read(min(self._left, READ_SIZE))
        if not data:
            raise asyncio.IncompleteReadError(b"", self._left)
        self._left -= len(data)
        self._done = self._left == 0
        return data

    async def _read_chunked(self, chunks: ChunkedDecoder) -> bytes:
        while True:
            data = await self._reader.read(READ_SIZE)
            if not data:
                raise asyncio.IncompleteReadError(b"", None)
            payload = chunks.feed(data)
            if chunks.done:
                self._done = True
                self.complete = not chunks.excess
            if payload or self._done:
                return payload

    async def read_all(self) -> bytes:
        parts: list[bytes] = []
        while chunk := await self.read():
            parts.append(chunk)
        return b"".join(parts)


_SIZE, _DATA, _CRLF, _TRAILER = range(4)
_MAX_LINE = 4096


class ChunkedDecoder:
    """Chunked transfer coding, sans I/O: raw bytes in, split anywhere; payload out."""

    __slots__ = ("_buf", "_left", "_state", "done", "excess")

    def __init__(self) -> None:
        self._buf = b""
        self._state = _SIZE
        self._left = 0
        self.done = False
        self.excess = False  # bytes came after the end of the body

    def feed(self, data: bytes) -> bytes:
        buf = self._buf + data if self._buf else data
        out: list[bytes] = []
        pos, size = 0, len(buf)
        while pos < size and not self.done:
            if self._state == _DATA:
                take = min(self._left, size - pos)
                out.append(buf[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._state = _CRLF
                continue
            if self._state == _CRLF:
                if size - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise ProtocolError("malformed chunk")
                pos += 2
                self._state = _SIZE
                continue
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if size - pos > _MAX_LINE:
                    raise ProtocolError("chunk line too long")
                break
            line, pos = buf[pos:end], end + 2
            if self._state == _TRAILER:
                self.done = not line
                continue
            try:
                self._left = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise ProtocolError("malformed chunk size") from None
            self._state = _DATA if self._left else _TRAILER
        self.excess = self.done and pos < size
        self._buf = buf[pos:] if not self.done else b""
        return b"".join(out) if len(out) != 1 else out[0]


def request_bytes(method: bytes, target: bytes, host: bytes, fields: Fields, body: bytes) -> bytes:
    """A request for a provider: the caller's headers without hop-by-hop ones, and the
    provider's host."""
    lines = [method + b" " + target + b" HTTP/1.1", b"host: " + host]
    lines += [k + b": " + v for k, v in fields if k not in HOP_BY_HOP and k != b"host"]
    if body or method not in (b"GET", b"HEAD", b"DELETE"):
        lines.append(b"content-length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def response_head_bytes(status: int, reason: bytes, fields: Fields) -> bytes:
    lines = [b"HTTP/1.1 %d %s" % (status, reason)]
    lines += [k + b": " + v for k, v in fields]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
