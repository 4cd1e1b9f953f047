"""The providers' own hosts, served as gateway routes to apps that use mitmproxy as a proxy.

An app, CLI or notebook left at its SDK's default base URL reaches ``api.openai.com``
(or Anthropic's, or Gemini's host) through mitmproxy's regular mode (``HTTPS_PROXY``
and mitmproxy's CA), ``local``, ``transparent``, ``wireguard`` or ``socks5`` mode. For a
host listed under ``intercept`` in rules.yaml, the gateway serves the native paths of
that host's protocol as it serves its own routes, converting like a converter route:
the app cannot change route, so the rules alone decide which provider answers.

Two halves: pure functions the gateway's request hook asks (``intercepted_host``,
``route``), and the ``Intercept`` addon, which keeps mitmproxy from connecting to an
intercepted host before the gateway has decided where its requests go. mitmproxy's
default ``connection_strategy=eager`` connects to a ``CONNECT`` target before
answering it, and to a transparent-style destination as soon as the client connects;
offline, or with a rule that moved a model away from its provider, that connection
must never be made.
"""

from __future__ import annotations

import logging
import time

from mitmproxy import connection, ctx, http, tls

from addons import routes, upstream
from addons.responses_state import StatePath
from addons.responses_state import match as match_state_path
from addons.rules import INTERCEPT_HOSTS
from addons.rules_file import RulesFile

log = logging.getLogger("gateway")

# Modes whose first layer connects to the destination when the client connects (with
# connection_strategy=eager), when only its address is known: no per-host choice is
# possible there, so interception needs connection_strategy=lazy for all of them.
_DESTINATION_FIRST_MODES = frozenset({"transparent", "wireguard", "local", "tun", "socks5"})


def intercepted_host(flow: http.HTTPFlow, hosts: tuple[str, ...]) -> str | None:
    """The listed host a request is addressed to, by its ``Host`` (a transparent-style
    mode knows the destination only as an address). Reverse mode is excluded: there
    every request is the gateway's own already."""
    if not hosts or flow.client_conn.proxy_mode.type_name == "reverse":
        return None
    host = flow.request.pretty_host.lower().rstrip(".")
    return host if host in hosts else None


def route(path: str, host: str) -> routes.Route | None:
    """The route of ``host``'s own protocol at ``path``; None for a path the gateway does
    not serve there (it goes on to the host untouched, like any proxied request)."""
    found = routes.intercepted(path)
    if found is None or upstream.family(found.client) != INTERCEPT_HOSTS[host]:
        return None
    return found


def state_path(path: str, host: str) -> StatePath | None:
    """A Responses state path on OpenAI's host, answered as on the native route."""
    return match_state_path(path, None, True) if INTERCEPT_HOSTS[host] == "openai" else None


class Intercept:
    """No upstream connection for an intercepted host before its request is routed."""

    def __init__(self, rules_file: RulesFile) -> None:
        self._rules_file = rules_file

    def _hosts(self) -> tuple[str, ...]:
        rules = self._rules_file.rules
        return rules.intercept if rules is not None else ()

    def client_connected(self, client: connection.Client) -> None:
        """A transparent-style client is connected onward before any hook can see which
        host it wants, so interception turns ``connection_strategy`` to lazy for all
        connections; checked per client, so a rules reload that turns interception on
        takes effect too. Regular mode is handled per host and keeps the default."""
        if client.proxy_mode.type_name not in _DESTINATION_FIRST_MODES or not self._hosts():
            return
        if ctx.options.connection_strategy != "lazy":
            log.info(
                "gateway: connection_strategy set to lazy: a %s-mode client names its host "
                "only after mitmproxy would have connected to it, and intercepted hosts "
                "(rules.yaml `intercept`) are connected to only where the rules send them",
                client.proxy_mode.type_name,
            )
            ctx.options.update(connection_strategy="lazy")

    def http_connect(self, flow: http.HTTPFlow) -> None:
        """Regular mode connects to a ``CONNECT`` target before answering it, unless an
        addon has answered already: for an intercepted host the gateway answers, as
        mitmproxy would (no headers, which some clients reject on a 200 to CONNECT)."""
        if flow.response or flow.request.host.lower().rstrip(".") not in self._hosts():
            return
        now = time.time()
        flow.response = http.Response(
            flow.request.data.http_version,
            200,
            b"Connection established",
            http.Headers(),
            b"",
            None,
            now,
            now,
        )

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """With an eager strategy mitmproxy also connects to the server to mirror its
        TLS before answering the client's; an intercepted host's certificate is made
        from the client's SNI alone."""
        sni = data.client_hello.sni
        if sni and sni.lower().rstrip(".") in self._hosts():
            data.establish_server_tls_first = False
