"""The "LLM" content view: a gateway flow's request and answer, both sides, readable.

On the request it shows what the caller sent (in the caller's protocol) and what the
gateway sent the provider; on the answer, what the provider answered and what the
caller received: the conversation, tool calls with their arguments, reasoning, and a
stream reassembled into its message (``llm_text.py``). The sides the flow itself no
longer holds come from ``flow_bodies.py``.

mitmproxy 11 and 12 register content views differently (11: a ``contentviews.View``
called with keyword metadata, returning lines; 12: a ``contentviews.Contentview`` with
``prettify(data, metadata) -> str``). ``sections`` does the work for both; each version
gets a thin adapter, chosen by what the installed mitmproxy offers.
"""

from __future__ import annotations

import logging
from typing import Any

from mitmproxy import contentviews, ctx, http

from addons import llm_text
from addons.flow_bodies import CALLER_REQUEST, PROVIDER_ANSWER, PROVIDER_STATUS, TRUNCATED
from translators import convert, ir

log = logging.getLogger("gateway")

NAME = "LLM"
PRIORITY = 3.0  # above JSON (1) and GraphQL (2): the gateway's flows open in this view


def applies(flow: object, message: object) -> bool:
    """A message of a flow the gateway handled."""
    return (
        isinstance(flow, http.HTTPFlow)
        and isinstance(message, http.Message)
        and isinstance(flow.metadata.get("gateway"), dict)
    )


def sections(data: bytes, flow: http.HTTPFlow, message: http.Message) -> str:
    """The view's text for ``message`` (``data`` is its decoded body)."""
    gw = flow.metadata["gateway"]
    client: ir.Protocol = gw["client"]
    wire: ir.Protocol = gw.get("upstream_protocol") or client
    kind = gw.get("kind")
    out = [flow.comment] if flow.comment else []
    if isinstance(message, http.Request):
        original = flow.metadata.get(CALLER_REQUEST)
        caller_model = _path_model(gw.get("route", ""))
        wire_model = gw.get("upstream_model")
        if kind == "local" or original is None:
            title = "caller sent" if kind == "local" else "caller sent = gateway sent"
            out += _request(title, client, data, caller_model)
        else:
            out += _request("caller sent", client, original, caller_model)
            out += _request("gateway sent", wire, data, wire_model)
    else:
        assert isinstance(message, http.Response)
        status = message.status_code
        if kind == "local":
            out += _answer("gateway answered", client, data, status)
        elif kind == "translated":
            original = flow.metadata.get(PROVIDER_ANSWER)
            upstream_status = flow.metadata.get(PROVIDER_STATUS, status)
            if original is None:
                out += [_title("provider answered", wire), "(not kept)", ""]
            else:
                out += _answer("provider answered", wire, original, upstream_status)
            out += _answer("caller received", client, data, status)
        else:
            out += _answer("provider answered = caller received", client, data, status)
    for key in flow.metadata.get(TRUNCATED, []):
        out.append(f"({key} was cut at the gateway_keep_bytes limit)")
    return "\n".join(out).rstrip() + "\n"


def _request(title: str, protocol: ir.Protocol, body: bytes, model: str | None) -> list[str]:
    return [_title(title, protocol), llm_text.request_text(body, protocol, model=model), ""]


def _answer(title: str, protocol: ir.Protocol, body: bytes, status: int) -> list[str]:
    if not body:
        return [_title(title, protocol), "(no body)", ""]
    return [_title(title, protocol), llm_text.answer_text(body, protocol, status), ""]


def _title(title: str, protocol: ir.Protocol) -> str:
    return f"── {title} ({convert.PROTOCOL_NAMES[protocol]}) ──"


def _path_model(route: str) -> str | None:
    """Gemini names the model in the path (``converter:/v1beta/models/M:generateContent``)."""
    _, sep, rest = route.partition("/models/")
    return rest.split(":", 1)[0] if sep else None


# --------------------------------------------------------------- the two adapters


def _safe(data: bytes, flow: Any, message: Any) -> str:
    try:
        return sections(data, flow, message)
    except Exception as e:  # a view must never take mitmweb down; show why instead
        log.exception("gateway: the LLM view failed")
        return f"The LLM view could not read this message: {e!r}\n"


if hasattr(contentviews, "Contentview"):  # mitmproxy 12

    class LLMContentview:
        """mitmproxy 12's ``Contentview`` protocol."""

        name = NAME
        syntax_highlight = "none"

        def prettify(self, data: bytes, metadata: Any) -> str:
            return _safe(data, metadata.flow, metadata.http_message)

        def render_priority(self, data: bytes, metadata: Any) -> float:
            return PRIORITY if applies(metadata.flow, metadata.http_message) else -1

        def __lt__(self, other: Any) -> bool:
            return self.name < other.name

    def make_view() -> Any:
        return LLMContentview()

else:  # mitmproxy 11
    from mitmproxy.contentviews import base

    class LLMView(base.View):
        """mitmproxy 11's ``View``: lines of (style, text)."""

        name = NAME

        def __call__(
            self,
            data: bytes,
            *,
            flow: Any = None,
            http_message: Any = None,
            **unknown_metadata: Any,
        ) -> base.TViewResult:
            text = _safe(data, flow, http_message)
            return NAME, base.format_text(text)

        def render_priority(
            self, data: bytes, *, flow: Any = None, http_message: Any = None, **unknown: Any
        ) -> float:
            return PRIORITY if applies(flow, http_message) else 0

    def make_view() -> Any:
        return LLMView()


class LLMViewAddon:
    """Registers the view while the gateway is loaded (and removes it on unload, where
    the mitmproxy version can)."""

    def __init__(self) -> None:
        self.view = make_view()

    def load(self, loader: Any) -> None:
        if not hasattr(contentviews, "Contentview"):
            # 11 refuses a second view of the same name (a reloaded script, a test run).
            stale = contentviews.get(NAME)
            if stale is not None:
                contentviews.remove(stale)
        contentviews.add(self.view)

    def running(self) -> None:
        """In mitmweb, the flow list gets the comment column (the gateway's one-line
        summary of each exchange) unless the user chose the columns."""
        if "web_columns" not in ctx.options:
            return
        columns = list(ctx.options.web_columns)
        if "comment" not in columns and columns == list(ctx.options.default("web_columns")):
            ctx.options.update(web_columns=[*columns, "comment"])

    def done(self) -> None:
        if not hasattr(contentviews, "Contentview"):  # 12 replaces a view by name instead
            contentviews.remove(self.view)
