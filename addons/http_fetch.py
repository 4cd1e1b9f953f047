"""A small HTTP/1.1 client for the requests the gateway makes on its own behalf (a
provider's model list), on asyncio and h11.

mitmproxy already depends on h11, so no HTTP library is added for a few GETs. One
connection per request (``connection: close``): these calls are rare and cached, and
a pool would be state to keep healthy. The whole exchange (connecting, TLS, sending,
reading) runs under one timeout, and an answer larger than ``max_bytes`` is refused
rather than held in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi  # a mitmproxy dependency, as h11 is
import h11

MAX_BYTES = 16 * 1024 * 1024
_READ_SIZE = 65536


class FetchError(Exception):
    """The exchange failed before a whole answer arrived; the message says how, and
    never carries a header (so never a key)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def tls_context(*, insecure: bool = False, cafile: str | None = None) -> ssl.SSLContext:
    """Verification as mitmproxy does it for upstreams: certifi's roots (or the
    ``ssl_verify_upstream_trusted_ca`` file), none with ``ssl_insecure``."""
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=cafile or certifi.where())


async def fetch(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes = b"",
    *,
    timeout: float,
    tls: ssl.SSLContext | None = None,
    max_bytes: int = MAX_BYTES,
) -> Fetched:
    """One request, its whole answer. Raises FetchError on any failure or timeout."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"cannot fetch {parts.scheme}:// URLs")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = h11.Request(
        method=method,
        target=target,
        headers=[
            ("host", parts.netloc.rpartition("@")[2]),
            *headers,
            ("content-length", str(len(body))),
            ("connection", "close"),
        ],
    )
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                parts.hostname,
                port,
                ssl=(tls or tls_context()) if secure else None,
                server_hostname=parts.hostname if secure else None,
            )
            try:
                return await _exchange(reader, writer, request, body, max_bytes)
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
    except TimeoutError:
        raise FetchError(f"no whole answer within {timeout:g} s") from None
    except (OSError, ssl.SSLError) as e:
        raise FetchError(f"cannot reach {parts.hostname}:{port}: {e.strerror or e}") from None
    except h11.ProtocolError as e:
        raise FetchError(f"the answer is not valid HTTP/1.1: {e}") from None


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: h11.Request,
    body: bytes,
    max_bytes: int,
) -> Fetched:
    conn = h11.Connection(h11.CLIENT)
    out = conn.send(request) or b""
    if body:
        out += conn.send(h11.Data(data=body)) or b""
    writer.write(out + (conn.send(h11.EndOfMessage()) or b""))
    await writer.drain()
    response: h11.Response | None = None
    chunks: list[bytes] = []
    size = 0
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(_READ_SIZE))  # b"" is the end of input
        elif isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            size += len(event.data)
            if size > max_bytes:
                raise FetchError(f"the answer is larger than {max_bytes} bytes")
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            assert response is not None
            headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers)
            return Fetched(response.status_code, headers, b"".join(chunks))
        elif isinstance(event, h11.ConnectionClosed):
            raise FetchError("the connection closed before the answer was complete")
