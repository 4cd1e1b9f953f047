"""``/p/{provider}/{path}``: any method, to the provider's ``base_url`` + ``/{path}``,
with the provider's credential; the answer opaque and streamed.

What the gateway does not translate (files, batches, audio, fine-tuning, whatever a
provider offers next) stays reachable through it, with the keys it holds: so
``/p/openai/files`` reaches ``https://api.openai.com/v1/files``, and
``/p/anthropic/v1/models`` reaches ``https://api.anthropic.com/v1/models``. The
body and the answer are never parsed; only the credential changes, exactly as for
any forwarded request (``upstream.prepare_headers``), and Gemini's ``?key=`` moves
into its header. An error answer is buffered so that a key it echoes can be blanked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from mitmproxy import http

from addons import observability, upstream
from addons.gateway_addon import _addressed_to_gateway
from addons.rules import Provider
from addons.rules_file import RulesFile
from translators import convert, ir

PREFIX = "/p/"


@dataclass(slots=True)
class _Passing:
    """One live passthrough, from ``request`` to ``response`` or ``error``."""

    request_id: str
    route: str
    provider: Provider | None  # None: the path named no configured provider
    started: float
    credential: str | None = field(default=None, repr=False)  # to blank it from errors


class Passthrough:
    def __init__(self, rules_file: RulesFile) -> None:
        self._rules_file = rules_file
        self._live: dict[str, _Passing] = {}

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live or not _addressed_to_gateway(flow):
            return
        rules = self._rules_file.rules
        if rules is None or not flow.request.path.startswith(PREFIX):
            return
        request = flow.request
        request_id = observability.request_id(request.headers.get("x-request-id"))
        raw_path, _, raw_query = request.path.partition("?")
        name, _, rest = raw_path[len(PREFIX) :].partition("/")
        route = f"passthrough:{PREFIX}{name[:64]}"
        provider = rules.providers.get(unquote(name))
        if provider is None:
            known = ", ".join(sorted(rules.providers))
            message = (
                f"No provider named '{unquote(name)[:64]}' is configured; {PREFIX}PROVIDER/PATH "
                f"takes one of: {known}."
            )
            err = ir.Error(kind="not_found", status=404, message=message)
            status, body = convert.render_error(_caller_protocol(request), err)
            flow.response = http.Response.make(
                status, body, {"content-type": "application/json", "x-request-id": request_id}
            )
            self._log(_Passing(request_id, route, None, time.monotonic()), status)
            return
        gemini = provider.protocol == "gemini"
        credential = upstream.caller_credential(
            request.headers, request.query.get("key") if gemini else None
        )
        if gemini:  # the key goes in Gemini's header, never in a URL
            raw_query = "&".join(p for p in raw_query.split("&") if not p.startswith("key="))
        # The caller's path is appended to the base's own, never parsed as a URL: it
        # cannot name another host, which would receive the provider's key.
        request.url = provider.base_url
        base_path = urlsplit(provider.base_url).path
        request.path = f"{base_path}/{rest}" + (f"?{raw_query}" if raw_query else "")
        passing = _Passing(request_id, route, provider, time.monotonic())
        passing.credential = upstream.prepare_headers(
            request.headers, provider, credential, translated=False, same_family=True
        )
        request.headers["x-request-id"] = request_id
        self._live[flow.id] = passing
        flow.metadata["gateway"] = {
            "request_id": request_id,
            "route": route,
            "provider": provider.name,
            "kind": "passthrough",
            "translated": False,
        }

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """A successful answer streams as it comes (a file download, an audio stream,
        server-sent events); an error is small and kept whole to be checked for keys."""
        passing = self._live.get(flow.id)
        if passing is None or flow.response is None:
            return
        flow.response.headers["x-request-id"] = passing.request_id
        flow.response.stream = 200 <= flow.response.status_code < 300

    def response(self, flow: http.HTTPFlow) -> None:
        passing = self._live.pop(flow.id, None)
        if passing is None or flow.response is None:
            return
        response = flow.response
        response.headers["x-request-id"] = passing.request_id
        if not response.stream and passing.credential:
            raw = response.get_content(strict=False) or b""
            if passing.credential.encode() in raw:
                response.content = upstream.scrub(raw, passing.credential)
        self._log(passing, response.status_code)

    def error(self, flow: http.HTTPFlow) -> None:
        passing = self._live.pop(flow.id, None)
        if passing is not None:
            self._log(passing, "error", flow.error.msg if flow.error else "unknown error")

    def _log(self, passing: _Passing, status: int | str, error: str | None = None) -> None:
        observability.log_exchange(
            request_id=passing.request_id,
            route=passing.route,
            client=passing.provider.protocol if passing.provider else "-",
            provider=passing.provider.name if passing.provider else "-",
            upstream_model="-",
            status=status,
            latency_ms=(time.monotonic() - passing.started) * 1000,
            error=error,
        )


def _caller_protocol(request: http.Request) -> ir.Protocol:
    """The error shape for a request whose provider is unknown: the SDK its headers
    betray (Anthropic's version header, Gemini's key), OpenAI's otherwise."""
    if "anthropic-version" in request.headers or "x-api-key" in request.headers:
        return "anthropic"
    if "x-goog-api-key" in request.headers or "key" in request.query:
        return "gemini"
    return "openai_chat"
