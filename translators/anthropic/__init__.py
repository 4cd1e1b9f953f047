"""Anthropic Messages (``POST /v1/messages`` and ``/v1/messages/count_tokens``).

The codec for Anthropic callers and for Anthropic upstreams (the Anthropic API itself;
any server speaking the Messages protocol is one). Every rule is in the table of
docs/conversion.md; the state carried for other providers is in docs/extensions.md.

- ``request``: ``recognise``, request-level fields (sampling, tools, thinking, output
  config), ``DROPPABLE``.
- ``messages``: ``system``, the turns and their content blocks.
- ``response``: whole answers and the token-count answer.
- ``stream``: ``StreamParser`` and ``StreamRenderer``.
- ``wire``: what both halves share: stop reasons, usage, errors, signatures.
"""

from translators.anthropic.request import (
    DROPPABLE,
    parse_count_request,
    parse_request,
    recognise,
    render_count_request,
    render_request,
)
from translators.anthropic.response import (
    parse_response,
    parse_token_count,
    render_response,
    render_token_count,
)
from translators.anthropic.stream import StreamParser, StreamRenderer
from translators.anthropic.wire import PROTOCOL, parse_error, render_error

__all__ = [
    "DROPPABLE",
    "PROTOCOL",
    "StreamParser",
    "StreamRenderer",
    "parse_count_request",
    "parse_error",
    "parse_request",
    "parse_response",
    "parse_token_count",
    "recognise",
    "render_count_request",
    "render_error",
    "render_request",
    "render_response",
    "render_token_count",
]
