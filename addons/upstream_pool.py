"""The relay's connections to providers, kept alive and shared by every caller.

mitmproxy reuses an upstream connection only within one client connection; the relay
keeps idle connections per origin for all of them, so a new caller does not pay a TCP
and TLS handshake with a provider another caller just used.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass, field

import certifi

Origin = tuple[str, str, int]  # scheme, host, port

IDLE_SECONDS = 30.0  # below what providers' load balancers allow an idle connection
MAX_IDLE_PER_ORIGIN = 32
STREAM_LIMIT = 1 << 20  # the longest header block or chunk-size line accepted


def host_header(origin: Origin) -> bytes:
    scheme, host, port = origin
    name = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return (name if port == default else f"{name}:{port}").encode()


@dataclass(slots=True, eq=False)
class Connection:
    origin: Origin
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reused: bool = False
    idle_since: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Pool:
    def __init__(self) -> None:
        self._idle: dict[Origin, list[Connection]] = {}
        self.tls: ssl.SSLContext | None = None  # set by the relay's configure, or on first use

    async def connect(self, origin: Origin) -> Connection:
        """A new connection (TLS included for https). The caller bounds it in time."""
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            tls = self.tls = self.tls or tls_context(insecure=False, ca_file=None, ca_dir=None)
        reader, writer = await asyncio.open_connection(
            host, port, ssl=tls, server_hostname=host if tls else None, limit=STREAM_LIMIT
        )
        return Connection(origin, reader, writer)

    def take(self, origin: Origin) -> Connection | None:
        """An idle connection that still looks open, newest first."""
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if now - conn.idle_since < IDLE_SECONDS and not _closed(conn):
                conn.reused = True
                return conn
            conn.close()
        return None

    def give_back(self, conn: Connection) -> None:
        idle = self._idle.setdefault(conn.origin, [])
        if len(idle) >= MAX_IDLE_PER_ORIGIN or _closed(conn):
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


def _closed(conn: Connection) -> bool:
    """Closed by either side (a peer's close shows once its EOF was read off the socket)."""
    return conn.writer.is_closing() or conn.reader.at_eof()


def tls_context(insecure: bool, ca_file: str | None, ca_dir: str | None) -> ssl.SSLContext:
    """TLS toward providers, honouring mitmproxy's own upstream options (``ssl_insecure``,
    ``ssl_verify_upstream_trusted_ca`` and ``…_confdir``); by default certifi's CAs, as
    mitmproxy's."""
    if ca_file is None and ca_dir is None:
        ca_file = certifi.where()
    context = ssl.create_default_context(cafile=ca_file, capath=ca_dir)
    context.set_alpn_protocols(["http/1.1"])
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
