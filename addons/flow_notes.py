"""The one-line comment and the marker a gateway flow carries in mitmweb's flow list.

mitmweb shows the request as it went to the provider, so without a note a call made
with the Anthropic SDK to a GPT model looks like any OpenAI call. The comment says what
the gateway did (``anthropic → openai · gpt-4.1-mini · 200 · 812 in / 95 out · 1.4 s``)
and the marker tells translated and failed exchanges apart at a glance.

Pure: plain values in, strings out. Markers are mitmproxy's emoji short codes
(``mitmproxy.utils.emoji``, the same table in mitmproxy 11 and 12, which is what
``flow.mark`` accepts and what mitmweb and the console render).
"""

from __future__ import annotations

from typing import NamedTuple

from translators import ir

MARK_FAILED = ":x:"  # ❌ an error status, an upstream or client failure, a broken stream
MARK_TRANSLATED = ":twisted_rightwards_arrows:"  # 🔀 converted between two protocols
MARK_FORWARDED = ":arrow_right:"  # ➡ passed to a provider of the caller's protocol
MARK_LOCAL = ":leftwards_arrow_with_hook:"  # ↩ answered by the gateway itself

# The caller's format as a user names it (the route prefix), not the codec's id.
_CLIENT_NAMES: dict[str, str] = {
    "openai_chat": "openai",
    "openai_responses": "openai responses",
    "anthropic": "anthropic",
    "gemini": "gemini",
}
_MAX_ERROR = 120  # characters of an error message kept in a one-line comment


class Note(NamedTuple):
    comment: str
    marker: str


def note(
    *,
    client: str,
    provider: str,
    model: str,
    kind: str,
    status: int | str,
    seconds: float,
    usage: ir.Usage | None = None,
    dropped: tuple[str, ...] = (),
    error: str | None = None,
) -> Note:
    """The comment and marker for one finished exchange. ``kind`` is the gateway's
    ``Kind`` value; ``status`` an HTTP status or ``"error"`` when no answer came."""
    parts = [f"{_CLIENT_NAMES.get(client, client)} → {provider}", model, str(status)]
    if usage is not None:
        parts.append(f"{usage.input_tokens} in / {usage.output_tokens} out")
    parts.append(duration(seconds))
    if dropped:
        parts.append("dropped: " + ", ".join(dropped))
    if error:
        parts.append("error: " + _one_line(error))
    return Note(" · ".join(parts), marker(kind, status, error))


def marker(kind: str, status: int | str, error: str | None = None) -> str:
    """Failed first (whatever the kind), then translated, local, forwarded."""
    if error or not isinstance(status, int) or status >= 400:
        return MARK_FAILED
    if kind == "translated":
        return MARK_TRANSLATED
    if kind == "local":
        return MARK_LOCAL
    return MARK_FORWARDED


def duration(seconds: float) -> str:
    """``310 ms``, ``1.4 s``, ``12 s``: as precise as a glance needs."""
    if round(seconds * 1000) < 1000:
        return f"{seconds * 1000:.0f} ms"
    if round(seconds, 1) < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s"


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_ERROR else flat[: _MAX_ERROR - 1] + "…"
