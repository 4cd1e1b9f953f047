"""Where a relayed stream can end cleanly: after a whole SSE event or a whole element of
Gemini's JSON-array stream.

The relay passes a stream on as it arrives, but holds back an event that is only partly
received, so that if the provider breaks off, the error event it appends does not land in
the middle of one (an SSE parser would glue the two together; a JSON parser would choke).
A whole event is never held: the first token leaves as soon as its event is complete.
This looks at framing bytes only, never at the JSON, so a native stream stays cheap.
"""

from __future__ import annotations

import re


class SSECut:
    """Passes on whole SSE events (LF or CRLF line endings, as providers send them)."""

    __slots__ = ("_count", "_held", "sent")

    def __init__(self, count: bool = False) -> None:
        self._held = b""
        self._count = count  # count the events passed on (an OpenAI Responses stream's)
        self.sent = 0

    def feed(self, data: bytes) -> bytes:
        if self._held:
            data = self._held + data
        if data.endswith((b"\n\n", b"\n\r\n")):  # the usual case: a chunk is whole events
            end = len(data)
        else:
            lf, crlf = data.rfind(b"\n\n"), data.rfind(b"\n\r\n")
            end = max(lf + 2 if lf >= 0 else 0, crlf + 3 if crlf >= 0 else 0)
        self._held = data[end:]
        if self._count and end:
            self.sent += data.count(b"\n\n", 0, end) + data.count(b"\n\r\n", 0, end)
        return data[:end] if end < len(data) else data

    def rest(self) -> bytes:
        """What the stream's clean end leaves: passed on as the provider sent it."""
        held, self._held = self._held, b""
        return held

    @property
    def array_open(self) -> bool:
        return False


_SIGNIFICANT = re.compile(rb'[{}\[\]"\\]')
_BACKSLASH, _QUOTE = 0x5C, 0x22
_OPENERS, _CLOSERS = b"{[", b"}]"


class JSONArrayCut:
    """Passes on a streamed top-level JSON array ``[{...},{...}]`` up to the end of its
    last whole element. Only the bytes that change nesting are visited (a regex scan),
    and each byte once, however the stream is split."""

    __slots__ = ("_depth", "_escape", "_held", "_in_string", "array_open", "sent")

    def __init__(self) -> None:
        self._held = b""
        self._depth = 0
        self._in_string = False
        self._escape = False
        self.array_open = False
        self.sent = 0  # whole elements passed on

    def feed(self, data: bytes) -> bytes:
        buf = self._held + data if self._held else data
        pos, end, size = len(self._held), 0, len(buf)
        while pos < size:
            if self._escape:
                self._escape = False
                pos += 1
                continue
            match = _SIGNIFICANT.search(buf, pos)
            if match is None:
                break
            c = buf[match.start()]
            pos = match.end()
            if self._in_string:
                if c == _BACKSLASH:
                    self._escape = True
                elif c == _QUOTE:
                    self._in_string = False
            elif c == _QUOTE:
                self._in_string = True
            elif c in _OPENERS:
                self.array_open = True
                self._depth += 1
            elif c in _CLOSERS:
                self._depth -= 1
                if self._depth == 1:
                    self.sent += 1
                    end = pos
                elif self._depth == 0:
                    end = pos  # the array closed
        self._held = buf[end:]
        return buf[:end]

    def rest(self) -> bytes:
        held, self._held = self._held, b""
        return held


StreamCut = SSECut | JSONArrayCut
