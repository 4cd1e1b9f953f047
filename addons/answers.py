"""How the provider's whole answer reaches the caller when the gateway translates it: a
generate call's answer or error, a token count, embeddings. One small interface, so the
gateway's ``response`` hook has a single branch for all of them.

A plan is made when the request is addressed (``token_counts``, ``embeddings``) and
kept on the exchange; ``apply`` runs it on the answer. Plans are plain objects with no
mitmproxy import, so they are tested without flows.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import NamedTuple, Protocol

from mitmproxy import http

from translators import convert, ir
from translators.errors import TranslationError

log = logging.getLogger("gateway")


class Answer(NamedTuple):
    """What goes back to the caller. ``body`` None leaves the provider's answer as it
    came (a passthrough whose usage was only read); ``notes`` go into the log line and
    the flow's ``gateway`` metadata (``tokens_estimated``, ``counted``)."""

    status: int
    body: bytes | None
    usage: ir.Usage | None = None
    notes: Mapping[str, object] = {}
    retry_after: float | None = None


class AnswerPlan(Protocol):
    """Turns the provider's answer (any status) into the caller's."""

    @property
    def client(self) -> ir.Protocol:
        """The caller's protocol: the one an answer that cannot be translated is in."""
        ...

    def answer(self, status: int, body: bytes, retry_after: float | None) -> Answer: ...


def translate_error(
    status: int, body: bytes, upstream: ir.Protocol, client: ir.Protocol, retry_after: float | None
) -> Answer:
    """A provider's error in the caller's format, as a generate call's error would be."""
    err = convert.translate_error(status, body, upstream, client, retry_after=retry_after)
    return Answer(err.status, err.body, retry_after=err.retry_after)


class GeneratePlan(NamedTuple):
    """A translated generate call's whole answer or error (a 2xx stream is translated
    chunk by chunk instead, by ``convert.StreamTranslator``)."""

    upstream: ir.Protocol
    client: ir.Protocol
    ctx: ir.RenderContext

    def answer(self, status: int, body: bytes, retry_after: float | None) -> Answer:
        if 200 <= status < 300:
            out, usage = convert.translate_response(body, self.upstream, self.client, self.ctx)
            return Answer(status, out, usage)
        return translate_error(status, body, self.upstream, self.client, retry_after)


def apply(response: http.Response, plan: AnswerPlan, request_id: str) -> Answer:
    """Run ``plan`` on ``response`` in place. An answer that cannot be translated is a
    server error in the caller's format (the status its codec gives ``api_error``, as
    for a generate answer), never a traceback."""
    body = response.get_content(strict=False) or b""
    hint = retry_after_seconds(response.headers.get("retry-after"))
    try:
        out = plan.answer(response.status_code, body, hint)
    except Exception as e:
        if not isinstance(e, TranslationError):
            log.exception("gateway %s: answer translation failed", request_id)
        detail = e.message if isinstance(e, TranslationError) else f"request {request_id}"
        message = f"The upstream answer could not be translated ({detail})."
        err = ir.Error(kind="api_error", status=502, message=message)
        out = Answer(*convert.render_error(plan.client, err))
    if out.body is None:
        return out
    response.status_code = out.status
    response.headers.pop("content-encoding", None)
    response.headers["content-type"] = "application/json"
    response.content = out.body
    if out.retry_after is not None:
        response.headers["retry-after"] = str(math.ceil(out.retry_after))
    return out


def retry_after_seconds(retry_after: str | None) -> float | None:
    """A ``retry-after`` header in seconds (an HTTP date is left to the caller's SDK)."""
    try:
        return float(retry_after) if retry_after else None
    except ValueError:
        return None
