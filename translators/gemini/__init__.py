"""Gemini ``generateContent`` / ``streamGenerateContent``: the codec's public verbs.

Covers Google's Gemini API (generativelanguage.googleapis.com) as written by the
google-genai SDK and gemini-cli, camelCase or proto snake_case, with streams as SSE
(``?alt=sse``) or one JSON array. The model and the stream flag are in the URL, so
``parse_request`` takes them as arguments.

- ``request.py``: ``recognise``, request-level fields (tools, tool config, generation
  config, thinking) and the token-count verbs.
- ``messages.py``: ``systemInstruction``, ``contents`` and their parts.
- ``response.py``: whole responses.
- ``stream.py``: ``StreamParser`` and ``StreamRenderer``.
- ``wire.py``: what both halves share: finish reasons, usage, errors, thought
  signatures, ``gem_`` call ids.
- ``schema.py``: JSON Schema <-> Gemini's ``Schema`` for tool parameters.

The rules, field by field, are in docs/conversion.md; the extension fields in
docs/extensions.md.
"""

from translators.gemini.request import (
    DROPPABLE,
    parse_count_request,
    parse_request,
    parse_token_count,
    recognise,
    render_count_request,
    render_request,
    render_token_count,
)
from translators.gemini.response import parse_response, render_response
from translators.gemini.stream import StreamParser, StreamRenderer
from translators.gemini.wire import PROTOCOL, parse_error, render_error

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
