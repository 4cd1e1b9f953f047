"""OpenAI Responses codec (``POST /v1/responses``), the caller format of the Codex CLI.

Both directions: Responses callers reaching any upstream, and callers of every format
reaching an ``api: responses`` OpenAI model. The verbs are the ``Codec`` protocol's
(translators/codec.py); what they map, drop and refuse is in each module's docstring
and in docs/conversion.md, the state carried in ``encrypted_content`` in
docs/extensions.md.

- ``wire``: stop status, usage, errors, ids, output items, sealed state;
- ``request``: request bodies, tools, token-count bodies, stored-state references;
- ``messages``: input items <-> IR messages;
- ``response``: whole responses;
- ``stream_parser`` / ``stream_renderer``: event streams.
"""

from __future__ import annotations

from translators.openai_responses.request import (
    DROPPABLE,
    parse_count_request,
    parse_request,
    parse_token_count,
    recognise,
    render_count_request,
    render_request,
    render_token_count,
)
from translators.openai_responses.response import parse_response, render_response
from translators.openai_responses.stream_parser import StreamParser
from translators.openai_responses.stream_renderer import StreamRenderer
from translators.openai_responses.wire import PROTOCOL, parse_error, render_error

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
