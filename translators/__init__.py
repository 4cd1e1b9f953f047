"""Pure translators between LLM wire protocols: no I/O, no clocks, no mitmproxy.

Every codec (``openai_chat``, ``openai_responses``, ``anthropic_messages``, ``gemini``)
offers the same verbs, so a reader who knows one knows them all:

- ``PROTOCOL``: its ``ir.Protocol`` name.
- ``DROPPABLE``: request fields (as kept in ``Request.extra``) that may be dropped
  without error when the request goes to another protocol; anything else left in
  ``extra`` is refused with a 400 naming it.
- ``recognise(body) -> int``: 2 = shape only this protocol has, 1 = compatible, 0 = not.
- ``parse_request(body, *, model=None, stream=None) -> ir.Request``
- ``render_request(req) -> dict``
- ``parse_response(body) -> ir.Response``
- ``render_response(resp, ctx) -> dict``
- ``parse_error(status, body) -> ir.Error``
- ``render_error(err) -> tuple[int, dict]``
- ``StreamParser().feed(bytes) -> list[ir.Event]`` / ``.finish() -> list[ir.Event]``
- formats with a token-count endpoint (Responses, Anthropic, Gemini) also have
  ``parse_count_request(body, *, model=None) -> ir.Request`` and
  ``render_token_count(tokens) -> dict``
- ``StreamRenderer(ctx).render(events) -> bytes`` / ``.finish() -> bytes``

``convert`` composes them; the addon only ever calls ``convert``.
"""
