"""A fake provider upstream on 127.0.0.1: records requests and sends scripted or canned
replies with real HTTP/1.1 framing.

Stdlib only. Unary replies carry Content-Length and keep the connection alive; streamed
replies are chunked and every write goes out at once (the socket file is unbuffered),
so a test can observe that the gateway forwards streams as they arrive.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import traceback
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.hostile import Hostile
from tests.fakes.openai_responses import ResponsesMemory
from tests.fakes.replies import Received, Reply, next_request_id, provider
from tests.fakes.services import GEMINI_JSON, rejection, respond
from tests.fakes.validate import Rejected

# Content type of a unary reply whose script did not set one, per provider.
_JSON_TYPE = {"openai": "application/json", "anthropic": "application/json", "gemini": GEMINI_JSON}


class FakeUpstream:
    """One fake provider (``"openai"``, ``"anthropic"`` or ``"gemini"``) on a local port."""

    def __init__(self, protocol: str, port: int = 0, host: str = "127.0.0.1") -> None:
        self.protocol = provider(protocol)
        self._address = (host, port)
        self._lock = threading.Lock()
        self._queue: deque[Reply | Hostile] = deque()
        self._received: list[Received] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # The Responses objects this fake created: what previous_response_id,
        # item_reference and GET /v1/responses/{id} may name. clear() keeps them.
        self.responses = ResponsesMemory()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeUpstream:
        """Bind and serve in a daemon thread; returns self so it chains off the constructor."""
        if self._server is not None:
            raise RuntimeError("fake upstream already started")
        self._server = _Server(self._address, _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-{self.protocol}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeUpstream:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake upstream not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        """What a provider's ``base_url`` in rules.yaml is: OpenAI's includes ``/v1``."""
        return self.url + "/v1" if self.protocol == "openai" else self.url

    # -- script and record -------------------------------------------------------------

    def enqueue(self, *replies: Reply | Hostile) -> None:
        """Script the replies to the next requests, whatever their path, in order (a
        ``Hostile`` misbehaves instead of replying: tests/fakes/hostile.py)."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def received(self) -> list[Received]:
        """A snapshot, in arrival order."""
        with self._lock:
            return list(self._received)

    @property
    def last(self) -> Received:
        with self._lock:
            return self._received[-1]

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forget what was received and what was scripted, so one server serves many tests."""
        with self._lock:
            self._received.clear()
            self._queue.clear()

    def _take(self, request: Received) -> Reply | Hostile:
        """Record ``request`` and pick its reply, atomically so FIFO order is arrival order."""
        with self._lock:
            self._received.append(request)
            scripted = self._queue.popleft() if self._queue else None
        return scripted if scripted is not None else respond(self.protocol, request, self.responses)

    def _default_headers(self, reply: Reply) -> dict[str, str]:
        kind = "text/event-stream" if reply.streamed else _JSON_TYPE[self.protocol]
        headers = {"content-type": kind}
        if self.protocol == "openai":
            headers["x-request-id"] = next_request_id("openai")
        elif self.protocol == "anthropic":
            headers["request-id"] = next_request_id("anthropic")
        else:
            headers["server"] = "scaffolding on HTTPServer2"
        return headers | reply.headers


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeUpstream) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            (self._connections.add if alive else self._connections.discard)(conn)

    def close_connections(self) -> None:
        """Wake keep-alive handlers blocked on an idle connection so stop() is prompt."""
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-reply is routine here; anything else is a fake bug."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every reply and drown any measurement.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, alive=True)

    def finish(self) -> None:
        self.server.track(self.connection, alive=False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests assert on ``received``, not on access logs."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        request = self._read_request()
        try:
            reply = fake._take(request)
        except Exception as exc:
            traceback.print_exc()
            reply = rejection(fake.protocol, Rejected(f"fake upstream bug: {exc!r}", status=500))
        if isinstance(reply, Hostile):
            self.close_connection = True
            reply.perform(self)
            return
        headers = fake._default_headers(reply)
        if reply.streamed:
            self._send_stream(reply, headers)
        else:
            self._send_unary(reply, headers)

    def _read_request(self) -> Received:
        url = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return Received(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=headers,
            body=self._read_body(headers),
        )

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        return self.rfile.read(int(headers.get("content-length") or 0))

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _start(self, status: int, headers: dict[str, str]) -> None:
        """Status line and headers; unlike send_response, no stdlib ``Server`` header."""
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for name, value in headers.items():
            self.send_header(name, value)

    def _send_unary(self, reply: Reply, headers: dict[str, str]) -> None:
        self._start(reply.status, headers)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()

    def _send_stream(self, reply: Reply, headers: dict[str, str]) -> None:
        self._start(reply.status, headers)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        budget = reply.break_after
        frames = reply.frames or ()
        for n, frame in enumerate(frames):
            piece = frame if budget is None else frame[:budget]
            if piece:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            if budget is not None:
                budget -= len(piece)
                if budget <= 0:
                    break
            if reply.delay and n + 1 < len(frames):
                time.sleep(reply.delay)
        if reply.break_after is not None:
            self._drop_connection()
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop_connection(self) -> None:
        """End the TCP connection mid-body: the client sees the body stop, with no
        terminating chunk, like an upstream that died."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
