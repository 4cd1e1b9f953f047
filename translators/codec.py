"""The verbs every protocol package offers, stated once, and the table of packages.

A reader who knows one codec knows them all: each package under ``translators/``
(``openai_chat``, ``openai_responses``, ``anthropic``, ``gemini``) exposes exactly
these names from its ``__init__.py``, and the type checker holds each one to this
``Codec`` protocol through ``CODECS``. A new protocol is a new package with the same
files, added to ``CODECS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol as TypingProtocol

from translators import anthropic, gemini, ir, openai_chat, openai_responses


class StreamParser(TypingProtocol):
    """Upstream bytes in any split -> IR events (h11's shape: feed, then finish)."""

    def feed(self, chunk: bytes) -> list[ir.Event]: ...

    def finish(self) -> list[ir.Event]: ...


class StreamRenderer(TypingProtocol):
    """IR events -> the caller's stream bytes; ``finish`` flushes what is held back."""

    def render(self, events: list[ir.Event]) -> bytes: ...

    def finish(self) -> bytes: ...


class Codec(TypingProtocol):
    """One wire protocol, both directions, whole bodies and streams."""

    @property
    def PROTOCOL(self) -> ir.Protocol: ...

    @property
    def DROPPABLE(self) -> frozenset[str]: ...

    @property
    def StreamParser(self) -> Callable[[], StreamParser]: ...

    @property
    def StreamRenderer(self) -> Callable[[ir.RenderContext], StreamRenderer]: ...

    def recognise(self, body: object) -> int:
        """2: a shape only this protocol has; 1: compatible; 0: not this protocol."""
        ...

    def parse_request(
        self, body: object, *, model: str | None = None, stream: bool | None = None
    ) -> ir.Request: ...

    def render_request(self, req: ir.Request) -> dict: ...

    def parse_response(self, body: object) -> ir.Response: ...

    def render_response(self, resp: ir.Response, ctx: ir.RenderContext) -> dict: ...

    def parse_error(self, status: int, body: object) -> ir.Error: ...

    def render_error(self, err: ir.Error) -> tuple[int, dict]: ...


class TokenCounter(TypingProtocol):
    """The token-count endpoint of a protocol that has one, both directions: a caller's
    count request and answer, and the count request sent to a provider and its answer."""

    def parse_count_request(self, body: object, *, model: str | None = None) -> ir.Request: ...

    def render_token_count(self, tokens: int) -> dict: ...

    def render_count_request(self, req: ir.Request) -> dict: ...

    def parse_token_count(self, body: object) -> int: ...


CODECS: dict[ir.Protocol, Codec] = {
    "openai_chat": openai_chat,
    "openai_responses": openai_responses,
    "anthropic": anthropic,
    "gemini": gemini,
}

COUNTERS: dict[ir.Protocol, TokenCounter] = {
    "openai_responses": openai_responses,
    "anthropic": anthropic,
    "gemini": gemini,
}
