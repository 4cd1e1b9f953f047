"""What the gateway writes into a caller's format to carry another provider's state
(docs/extensions.md), in one place for every codec.

A thought or call signature only means something to the provider that made it, so when
it travels through a format that has no field for it, it is marked with its origin:
``<protocol>:<signature>`` (an empty rest means "that provider gave none"). Each codec
decides which origin its own unmarked signatures have and how the marked text is
carried (Gemini base64-encodes it); the marking itself is here.
"""

from __future__ import annotations

from typing import get_args

from translators import ir

_ORIGINS: dict[str, ir.Protocol] = {name: name for name in get_args(ir.Protocol)}


def split_origin(signature: str) -> tuple[ir.Protocol, str] | None:
    """``(origin, rest)`` of a signature marked ``<protocol>:``; None when unmarked."""
    prefix, colon, rest = signature.partition(":")
    origin = _ORIGINS.get(prefix) if colon else None
    return None if origin is None else (origin, rest)


def mark_origin(origin: ir.Protocol, signature: str | None) -> str:
    """The signature of ``origin``'s thought marked for carrying through another format."""
    return f"{origin}:{signature or ''}"


def parse_google_extra(extra_content: object) -> str | None:
    """Google's OpenAI-compatibility field for a Gemini thought signature,
    ``extra_content.google.thought_signature``; anything else there is not ours."""
    if not isinstance(extra_content, dict):
        return None
    google = extra_content.get("google")
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    return signature if isinstance(signature, str) else None


def render_google_extra(signature: str) -> dict:
    return {"google": {"thought_signature": signature}}
