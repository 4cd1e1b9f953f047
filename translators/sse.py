"""Incremental stream framing: Server-Sent Events and Gemini's streamed JSON array.

Both decoders are sans-I/O state machines in the h11 style: ``feed(chunk)`` takes bytes
split anywhere (mid-line, mid-event, ten events at once) and returns the complete
frames seen so far; ``finish()`` flushes what the end of the body completes. They
never look at the JSON inside a frame: codecs decide what a frame means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(slots=True)
class SSEEvent:
    event: str | None
    data: bytes


class SSEDecoder:
    """Splits an SSE byte stream into events (LF or CRLF line endings).

    Lone-CR line endings, legal in the SSE grammar, are not produced by any provider
    and are not handled; ``id:``/``retry:`` fields and comments are ignored.
    """

    __slots__ = ("_buf", "_data", "_event")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._event: str | None = None
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        if self._buf:
            # The held bytes have no newline: only the new ones need searching, and the
            # bytearray grows in place, so a huge event split in many chunks stays linear.
            scan_from = len(self._buf)
            self._buf += chunk
            buf: bytes | bytearray = self._buf
        else:
            scan_from = 0
            buf = chunk
        nl = buf.find(b"\n", scan_from)
        if nl < 0:
            if buf is chunk:
                self._buf = bytearray(chunk)
            return events
        start = 0
        while nl >= 0:
            end = nl - 1 if nl > start and buf[nl - 1] == 13 else nl
            self._line(bytes(buf[start:end]), events)
            start = nl + 1
            nl = buf.find(b"\n", start)
        if buf is self._buf:
            del self._buf[:start]
        elif start < len(buf):
            self._buf = bytearray(buf[start:])
        return events

    def finish(self) -> list[SSEEvent]:
        """Dispatch a last event whose terminating blank line never came."""
        events: list[SSEEvent] = []
        if self._buf:
            self._line(bytes(self._buf.rstrip(b"\r")), events)
            self._buf = bytearray()
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[SSEEvent]) -> None:
        if not line:
            if self._data:
                events.append(SSEEvent(self._event, b"\n".join(self._data)))
            self._event = None
            self._data = []
            return
        if line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            self._event = line[6:].strip().decode("utf-8", "replace")


def encode_event(data: bytes, event: str | None = None) -> bytes:
    """One SSE frame. ``data`` must not contain newlines (compact JSON never does)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


_JSON_SIGNIFICANT = re.compile(rb'[{}\[\]"\\]')


class JSONArrayDecoder:
    """Splits a streamed top-level JSON array ``[{...},{...}]`` into its element bytes.

    Gemini's ``streamGenerateContent`` without ``alt=sse`` sends this shape. Only the
    characters that change nesting are visited (via a regex scan), so a large element
    costs a few C-level searches rather than a Python loop per byte.
    """

    __slots__ = ("_buf", "_depth", "_escape", "_in_string", "_pos", "_start")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0  # where scanning resumes in _buf
        self._depth = 0  # 0 outside the array, 1 inside it, >1 inside an element
        self._in_string = False
        self._escape = False
        self._start = -1  # where the current element began in _buf

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buf += chunk
        buf = self._buf
        out: list[bytes] = []
        pos = self._pos
        while True:
            if self._escape:
                # The character after a backslash is inert, whatever it is.
                if pos >= len(buf):
                    break
                self._escape = False
                pos += 1
                continue
            m = _JSON_SIGNIFICANT.search(buf, pos)
            if m is None:
                pos = len(buf)
                break
            c = m.group()
            pos = m.end()
            if self._in_string:
                if c == b"\\":
                    self._escape = True
                elif c == b'"':
                    self._in_string = False
                continue
            if c == b'"':
                self._in_string = True
            elif c in b"{[":
                self._depth += 1
                if self._depth == 2:
                    self._start = pos - 1
            elif c in b"}]":
                self._depth -= 1
                if self._depth == 1 and self._start >= 0:
                    out.append(bytes(buf[self._start : pos]))
                    self._start = -1
        # Drop consumed bytes so the buffer only holds the unfinished element.
        keep = self._start if self._start >= 0 else pos
        if keep:
            del buf[:keep]
        self._pos = pos - keep
        if self._start >= 0:
            self._start = 0
        return out

    def finish(self) -> list[bytes]:
        return []

    @property
    def incomplete(self) -> bool:
        """True when the body ended inside an element (a truncated stream)."""
        return self._start >= 0
