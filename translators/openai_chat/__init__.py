"""OpenAI Chat Completions (``POST /v1/chat/completions``), both directions.

One codec serves OpenAI callers and every OpenAI-shaped upstream: OpenAI itself and the
compatible servers (Ollama, vLLM, Groq, DeepSeek, OpenRouter, Cerebras). It reads the
dialect fields those servers add (``reasoning_content``/``reasoning``, DeepSeek cache
counters, Groq's ``x_groq.usage``, flat or plain-text error bodies) and writes only what
OpenAI defines, plus ``reasoning_content`` in assistant history for thinking such a
server produced (DeepSeek requires it back on tool turns) and, toward callers, the
extension fields of docs/extensions.md.

- ``request``: recognise a body; request-level fields (sampling, tools, tool_choice,
  response format, reasoning effort); ``DROPPABLE``.
- ``messages``: the conversation and its parts.
- ``response``: whole answers and error bodies.
- ``stream``: ``StreamParser`` and ``StreamRenderer``.
- ``wire``: what both halves share: finish reasons, usage, the error object, signatures.

The rules, field by field, are in docs/conversion.md.
"""

from translators.openai_chat.request import DROPPABLE, parse_request, recognise, render_request
from translators.openai_chat.response import (
    parse_error,
    parse_response,
    render_error,
    render_response,
)
from translators.openai_chat.stream import StreamParser, StreamRenderer
from translators.openai_chat.wire import PROTOCOL

__all__ = [
    "DROPPABLE",
    "PROTOCOL",
    "StreamParser",
    "StreamRenderer",
    "parse_error",
    "parse_request",
    "parse_response",
    "recognise",
    "render_error",
    "render_request",
    "render_response",
]
