"""Token counts for a model of another protocol: which counting endpoint answers, and
the plan that turns its answer into the caller's count shape.

A count request (``count_tokens``, ``:countTokens``, ``/v1/responses/input_tokens``) is
re-addressed to the provider like a translated generate call, to the provider's own
counting endpoint: OpenAI's ``/responses/input_tokens``, Anthropic's
``/v1/messages/count_tokens``, Gemini's ``:countTokens``. A provider without one (most
OpenAI-compatible servers) gets no request: the gateway answers with its estimate, and
the log line says ``"tokens_estimated": true``.

Which providers count natively (``count_mode``), unless the provider sets
``count_tokens: native | estimate`` in rules.yaml: Anthropic and Gemini providers do;
an OpenAI provider does when it is api.openai.com or is served through the Responses API
(``api: responses``); any other OpenAI-compatible server is estimated.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from addons.answers import Answer, translate_error
from addons.rules import CountTokens, Resolution
from translators import convert, ir


def count_mode(res: Resolution) -> CountTokens:
    """``native``: the provider's counting endpoint answers; ``estimate``: the gateway."""
    provider = res.provider
    if provider.count_tokens is not None:
        return provider.count_tokens
    if provider.protocol != "openai":
        return "native"
    official = urlsplit(provider.base_url).hostname == "api.openai.com"
    return "native" if official or res.api == "responses" else "estimate"


def count_wire(res: Resolution) -> ir.Protocol:
    """The protocol of the provider's counting endpoint: an OpenAI provider counts
    through the Responses API whichever API it generates with."""
    protocol = res.provider.protocol
    return "openai_responses" if protocol == "openai" else protocol


@dataclass(frozen=True, slots=True)
class CountPlan:
    """The provider's count (or error) in the caller's count shape."""

    upstream: ir.Protocol
    client: ir.Protocol

    def answer(self, status: int, body: bytes, retry_after: float | None) -> Answer:
        if not 200 <= status < 300:
            return translate_error(status, body, self.upstream, self.client, retry_after)
        out, tokens = convert.translate_token_count(body, self.upstream, self.client)
        return Answer(status, out, notes={"counted": tokens})


def estimate(body: dict, client: ir.Protocol, model: str | None) -> Answer:
    """The gateway's own count, for a provider without a counting endpoint."""
    out, tokens = convert.estimate_token_count(body, client, model=model)
    return Answer(200, out, notes={"counted": tokens, "tokens_estimated": True})
