"""A provider misbehaving on purpose, for the gateway's fault handling (docs/faults.md).

A ``Hostile`` is enqueued on a ``FakeUpstream`` like a ``Reply`` and acts on the raw
socket, so it can do what no well-behaved server does: stay silent before its headers or
in the middle of a stream, reset the connection, close it mid-body, or answer with bytes
that are not HTTP. A silence ends early when the gateway gives up and closes the
connection, so a test's timeout, not the script's, decides how long it lasts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import select
import socket
import struct
import time
from dataclasses import dataclass
from socketserver import StreamRequestHandler
from typing import Literal

from tests.fakes.replies import Reply

SILENCE = 30.0  # longer than any gateway timeout in the tests


@dataclass(frozen=True)
class Hostile:
    """Silence, then a head and body writes sent as given, silence, then an ending."""

    before: float = 0.0  # silence before anything is sent
    head: bytes | None = None  # status line and headers, exactly as sent (None: no head)
    writes: tuple[bytes, ...] = ()  # body bytes, each its own write, framing included
    after: float = 0.0  # silence after the writes
    end: Literal["close", "reset"] = "close"

    @classmethod
    def stall_before_headers(cls, seconds: float = SILENCE) -> Hostile:
        return cls(before=seconds)

    @classmethod
    def stall_mid_stream(
        cls, frames: list[bytes], seconds: float = SILENCE, content_type: str = "text/event-stream"
    ) -> Hostile:
        """A 200 stream that sends ``frames`` and then nothing at all."""
        return cls(head=_stream_head(content_type), writes=_chunks(frames), after=seconds)

    @classmethod
    def close_mid_stream(
        cls, frames: list[bytes], content_type: str = "text/event-stream"
    ) -> Hostile:
        """A 200 stream that sends ``frames`` and closes without its last chunk."""
        return cls(head=_stream_head(content_type), writes=_chunks(frames))

    @classmethod
    def reset(cls, frames: list[bytes] | None = None) -> Hostile:
        """A TCP reset: at once (``frames`` None), or a moment after a 200 stream's
        ``frames`` (a reset discards what the peer has not read yet, so sooner would race
        with the frames themselves)."""
        if frames is None:
            return cls(end="reset")
        head = _stream_head("text/event-stream")
        return cls(head=head, writes=_chunks(frames), after=0.3, end="reset")

    @classmethod
    def close_mid_body(cls, body: bytes, status: int = 200) -> Hostile:
        """A whole answer announced with its length that stops halfway."""
        head = (
            f"HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode()
        return cls(head=head, writes=(body[: len(body) // 2],))

    @classmethod
    def garbage(cls, data: bytes = b"\x16\x03\x01 this is not HTTP at all\r\n\r\n") -> Hostile:
        return cls(writes=(data,))

    def perform(self, handler: StreamRequestHandler) -> None:
        """Act it out on the connection whose request the fake's handler has read."""
        sock = handler.connection
        if _silent(sock, self.before):
            return
        if self.head is not None:
            sock.sendall(self.head)
        for data in self.writes:
            sock.sendall(data)
        if _silent(sock, self.after):
            return
        if self.end == "reset":
            # SO_LINGER 0: the close sends a RST instead of a FIN. The handler's files hold
            # the socket open, and its own shutdown would send a FIN first: close all now.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.rfile.close()
            handler.wfile.close()
            sock.close()
            handler.wfile = io.BytesIO()  # the handler flushes it once more on its way out


def busy(protocol: str, status: int, retry_after: str) -> Reply:
    """The provider's own 429 or 5xx error body, asking to be retried after a while."""
    reply = Reply.error(protocol, status, f"busy, retry after {retry_after}s")
    return dataclasses.replace(reply, headers=reply.headers | {"retry-after": retry_after})


def dead_port() -> int:
    """A local port with nothing listening: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _silent(sock: socket.socket, seconds: float) -> bool:
    """Stay silent for ``seconds``; True when the peer hung up meanwhile."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([sock], [], [], left)
        if readable:
            with contextlib.suppress(OSError):
                if sock.recv(65536):
                    continue
            return True
    return False


def _stream_head(content_type: str) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
    ).encode()


def _chunks(frames: list[bytes]) -> tuple[bytes, ...]:
    return tuple(b"%x\r\n%s\r\n" % (len(f), f) for f in frames if f)
