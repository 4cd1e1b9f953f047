"""The relay: owns each exchange with a provider, from the gateway's request hook
(docs/faults.md).

Why: when mitmproxy itself talks to a provider, a failure reaches the addon only through
the ``error`` hook, after which mitmproxy writes its own HTML 502 page; a silent provider
holds the caller until mitmproxy's 600 s inactivity limit; and a request cannot be sent
again to another provider. So the gateway's (async) request hook hands each forwarded
request to the relay, which talks to the providers itself: timeouts, retries and
fallbacks happen there, before mitmproxy has sent the caller anything. A whole answer, or
the gateway's own error in the caller's format, becomes ``flow.response`` there, and
mitmproxy never connects anywhere. A 2xx stream must reach the caller chunk by chunk,
which a response set in a hook cannot do, so mitmproxy fetches it from the relay's own
small HTTP/1.1 server on 127.0.0.1, which passes it on as it arrives and ends it with
an in-stream error if the provider breaks off. Only public mitmproxy API is involved
(hooks, ``flow.response``, the request URL), so it works the same on mitmproxy 11 and 12.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

from mitmproxy import ctx, http

from addons import faults, http1
from addons.faults import Fault
from addons.relay_exchange import Abort, Exchange, answer_fields
from addons.relay_plan import Plan
from addons.upstream_pool import STREAM_LIMIT, Pool, tls_context
from translators import convert, ir

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
    """A mitmproxy addon: listens from ``running`` to ``done``; the gateway's request hook
    awaits ``exchange`` for each request it forwards and reads the outcome back
    (``plan``, ``finish``)."""

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}  # by flow id, until the gateway's last hook for it
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
        # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so,
        # and without it Nagle holds a stream's first event until mitmproxy's delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(socket.SOMAXCONN)
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

    async def exchange(self, flow: http.HTTPFlow, plan: Plan) -> None:
        """Send ``flow``'s request to its targets until one answers for good. Nothing
        happens when the relay is not serving (hooks driven without a running proxy), or
        when mitmproxy must reach providers through an upstream proxy (``--mode
        upstream:``), which the relay does not speak: mitmproxy forwards as it always did."""
        if self._address is None or flow.server_conn.via is not None:
            return
        self._plans[flow.id] = plan  # a random uuid: no other client can guess it
        try:
            result = await Exchange(plan, self._pool, self._silence).run()
        except Exception:
            # A bug must not leave the request to mitmproxy's own path and its HTML page.
            log.exception("gateway %s: the exchange with the provider failed", plan.request_id)
            plan.error = f"The gateway failed to handle this request (request {plan.request_id})."
            err = ir.Error(kind="api_error", status=500, message=plan.error)
            status, body = convert.render_error(plan.client, err)
            flow.response = http.Response.make(status, body, {"content-type": "application/json"})
            return
        if isinstance(result, Fault):
            status, body = faults.answer(plan.client, result, plan.request_id)
            flow.response = http.Response.make(status, body, {"content-type": "application/json"})
        elif result.content is not None:
            fields = answer_fields(result)
            fields.append((b"content-length", b"%d" % len(result.content)))
            now = time.time()
            head = result.head
            flow.response = http.Response(
                b"HTTP/1.1",
                head.status,
                head.reason,
                http.Headers(fields),
                result.content,
                None,
                now,
                now,
            )
        else:
            plan.live = result
            flow.request.url = f"http://{self._address}{flow.request.path}"
            flow.request.headers[TOKEN_HEADER] = flow.id

    def plan(self, flow: http.HTTPFlow) -> Plan | None:
        return self._plans.get(flow.id)

    def finish(self, flow: http.HTTPFlow, *, caller_gone: bool = False) -> Plan | None:
        """Forget the flow's plan and show the provider that served on the flow (for
        mitmweb and the logs). When the caller went away, a stream still running stops
        too, so a provider does not go on generating for nobody."""
        plan = self._plans.pop(flow.id, None)
        if plan is None:
            return None
        if caller_gone and plan.task is not None:
            plan.task.cancel()
        if plan.live is not None:  # mitmproxy never came for the stream
            plan.live.conn.close()
        target = plan.served or plan.targets[-1]
        if target is not plan.targets[0] or TOKEN_HEADER in flow.request.headers:
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
        await http1.read_request_body(reader, head)  # it went to the provider already
        token = http1.field(head.fields, TOKEN_HEADER.encode())
        plan = self._plans.get(token.decode()) if token else None
        answer = plan.live if plan is not None else None
        if plan is None or answer is None:
            # Only the gateway's own streams are served; anything else on this port is
            # refused without touching a provider.
            writer.write(_FORBIDDEN)
            await writer.drain()
            return False
        plan.live = None
        plan.task = asyncio.current_task()
        try:
            await Exchange(plan, self._pool, self._silence).stream(answer, writer)
        finally:
            plan.task = None
        return (http1.field(head.fields, b"connection") or b"").lower() != b"close"
