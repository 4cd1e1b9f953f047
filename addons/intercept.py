"""The providers' own hosts, served as gateway routes to apps that use mitmproxy as a proxy.

An app, CLI or notebook left at its SDK's default base URL reaches ``api.openai.com``
(or Anthropic's, or Gemini's host) through mitmproxy's regular mode (``HTTPS_PROXY``
and mitmproxy's CA), ``local``, ``transparent``, ``wireguard`` or ``socks5`` mode. For a
host listed under ``intercept`` in rules.yaml, the gateway serves the native paths of
that host's protocol as it serves its own routes, converting like a converter route:
the app cannot change route, so the rules alone decide which provider answers.

Two halves: pure functions the gateway's request hook asks (``intercepted_host``,
``route``, ``state_path``), and the ``InterceptHosts`` addon (not ``Intercept``:
mitmweb has an addon of that name), which keeps mitmproxy from connecting to an
intercepted host before the gateway has decided where its requests go: offline, or with
a rule that moved a model away from its provider, that connection must never be made.
"""

from __future__ import annotations

import logging

from mitmproxy import connection, ctx, http

from addons import routes, upstream
from addons.responses_state import StatePath
from addons.responses_state import match as match_state_path
from addons.rules import INTERCEPT_HOSTS
from addons.rules_file import RulesFile

log = logging.getLogger("gateway")


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


class InterceptHosts:
    """Keeps ``connection_strategy`` lazy while any host is intercepted.

    mitmproxy's default (eager) connects to a ``CONNECT`` target before answering it,
    and in transparent, WireGuard, local, TUN and SOCKS5 modes to the destination as
    soon as the client connects, when only its address is known. A per-host exception
    cannot be made in every mode: the transparent-style modes connect before any hook
    knows the host, and in regular mode the TLS layer's own eager connect is decided by
    mitmproxy's ``tlsconfig`` addon after every script's ``tls_clienthello`` hook has
    run. So the strategy is lazy for all connections, which mitmproxy supports in every
    mode (hosts not intercepted then connect on their first request instead).
    """

    def __init__(self, rules_file: RulesFile) -> None:
        self._rules_file = rules_file

    def configure(self, updated: set[str]) -> None:
        if "rules" in updated or "connection_strategy" in updated:
            self._ensure_lazy()

    def client_connected(self, client: connection.Client) -> None:
        """Before any layer of a new connection runs: a rules reload may have turned
        interception on since start-up."""
        self._ensure_lazy()

    def _ensure_lazy(self) -> None:
        rules = self._rules_file.rules
        if rules is None or not rules.intercept or ctx.options.connection_strategy == "lazy":
            return
        log.info(
            "gateway: connection_strategy set to lazy, so that no intercepted host "
            "(rules.yaml `intercept`) is connected to before its request is routed; "
            "`intercept: []` keeps mitmproxy's eager default"
        )
        ctx.options.update(connection_strategy="lazy")
