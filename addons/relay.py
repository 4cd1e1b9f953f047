"""The relay: a small HTTP/1.1 server inside the mitmproxy process that owns each
exchange with a provider (docs/faults.md).

Why: when mitmproxy itself talks to a provider, a failure reaches the addon only through
the ``error`` hook, after which mitmproxy writes its own HTML 502 page; a silent provider
holds the caller until mitmproxy's 600 s inactivity limit; and a response cannot be
re-sent to another provider. So the gateway points each forwarded request at the relay
(on 127.0.0.1) with a plan, and the relay talks to the providers: timeouts, retries and
fallbacks happen there, and mitmproxy always receives one well-formed answer: the
provider's, or the gateway's own error in the caller's format, or a stream that ends with
an in-stream error. Only public mitmproxy API is involved (the request URL, the hooks),
so it works the same on mitmproxy 11 and 12.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from mitmproxy import ctx, http

from addons import http1
from addons.relay_exchange import Abort, Exchange
from addons.relay_plan import Plan
from addons.upstream_pool import STREAM_LIMIT, Pool, tls_context

log = logging.getLogger("gateway")

TOKEN_HEADER = "x-gateway-relay"
# mitmproxy drops a connection silent for this long (``tcp_timeout`` on mitmproxy 12,
# fixed on 11); the relay answers before that, whatever the rules' timeouts add up to.
MITMPROXY_SILENCE_LIMIT = 600.0
SILENCE_MARGIN = 5.0

_FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"

_TLS_OPTIONS = {
    "ssl_insecure",
    "ssl_verify_upstream_trusted_ca",
    "ssl_verify_upstream_trusted_confdir",
}


class Relay:
    """A mitmproxy addon: listens from ``running`` to ``done``; the gateway hands it
    each request to forward (``hand_over``) and reads the outcome back (``plan``)."""

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}  # by token, from hand-over to the gateway's last hook
        self._pool = Pool()
        self._address: str | None = None
        self._server: asyncio.AbstractServer | None = None
        self._silence = MITMPROXY_SILENCE_LIMIT - SILENCE_MARGIN

    def configure(self, updated: set[str]) -> None:
        options = ctx.options
        if updated & _TLS_OPTIONS:
            self._pool.tls = tls_context(
                options.ssl_insecure,
                options.ssl_verify_upstream_trusted_ca,
                options.ssl_verify_upstream_trusted_confdir,
            )
        if "tcp_timeout" in updated:  # mitmproxy 12
            self._silence = max(float(options.tcp_timeout) - SILENCE_MARGIN, 1.0)

    def running(self) -> None:
        """Bind now (synchronously, so the first request can be handed over at once);
        connections wait in the backlog until the server task accepts them."""
        sock = socket.create_server(("127.0.0.1", 0))
        sock.setblocking(False)
        self._address = f"127.0.0.1:{sock.getsockname()[1]}"
        asyncio.get_running_loop().create_task(self._start(sock))

    async def _start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_server(self._serve, sock=sock, limit=STREAM_LIMIT)

    def done(self) -> None:
        if self._server is not None:
            self._server.close()
        self._pool.close()

    # ------------------------------------------------------------------ for the gateway

    def hand_over(self, flow: http.HTTPFlow, plan: Plan) -> bool:
        """Send ``flow`` to the relay instead of the provider; False when the relay is not
        serving (hooks driven without a running proxy), and mitmproxy forwards as before."""
        if self._address is None:
            return False
        self._plans[flow.id] = plan  # a random uuid: no other client can guess it
        flow.request.url = f"http://{self._address}{flow.request.path}"
        flow.request.headers[TOKEN_HEADER] = flow.id
        return True

    def plan(self, flow: http.HTTPFlow) -> Plan | None:
        return self._plans.get(flow.id)

    def finish(self, flow: http.HTTPFlow, *, caller_gone: bool = False) -> Plan | None:
        """Forget the flow's plan and show the provider's URL on the flow again, for
        mitmweb and the logs. When the caller went away, its exchange stops too, so a
        provider does not go on generating for nobody."""
        plan = self._plans.pop(flow.id, None)
        if plan is None:
            return None
        if caller_gone and plan.task is not None:
            plan.task.cancel()
        target = plan.served or plan.targets[-1]
        flow.request.url = target.url
        flow.request.headers.pop(TOKEN_HEADER, None)
        return plan

    # ------------------------------------------------------------------ the server

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection from mitmproxy, kept alive across its requests."""
        try:
            while await self._serve_one(reader, writer):
                pass
        except (OSError, asyncio.IncompleteReadError, http1.ProtocolError, Abort):
            pass  # mitmproxy went away, or a stream could not be ended cleanly
        except Exception:
            log.exception("gateway: the relay failed")
        finally:
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await http1.read_request_head(reader)
        if head is None:
            return False
        body = await http1.read_request_body(reader, head)
        token = http1.field(head.fields, TOKEN_HEADER.encode())
        plan = self._plans.get(token.decode()) if token else None
        if plan is None:
            # Only the gateway's own hand-overs are served; anything else on this port is
            # refused without touching a provider.
            writer.write(_FORBIDDEN)
            await writer.drain()
            return False
        head.fields = [(k, v) for k, v in head.fields if k != TOKEN_HEADER.encode()]
        plan.task = asyncio.current_task()
        try:
            await Exchange(plan, self._pool, head, body, writer, self._silence).run()
        finally:
            plan.task = None
        return (http1.field(head.fields, b"connection") or b"").lower() != b"close"
