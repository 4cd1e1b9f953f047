"""Provider state sealed into an opaque string a caller carries back unchanged.

Codex (and any OpenAI Responses caller with ``store: false``) sends its history back
without item ids; the one field it returns verbatim is a reasoning item's
``encrypted_content``. The gateway therefore carries the state another provider needs on
the next turn (Claude's thinking signatures and redacted thinking, Gemini's thought
signatures on text and function calls) in that field, sealed:

- authenticated: a tampered, truncated or made-up blob does not open, so nothing the
  caller wrote reaches a provider as if the provider had made it (RESPONSES-NOTES bug 7);
- bound to the provider: the associated data names the provider the state came from, so
  a blob made for one provider does not open for another;
- versioned: the blob starts with ``PREFIX``, which also tells it apart from OpenAI's own
  ``encrypted_content`` (Fernet tokens, ``gAAAA…``);
- deterministic: AES-SIV (RFC 5297) needs no nonce, so sealing the same state gives the
  same blob and translators stay pure (no randomness). The only thing that leaks is
  whether two blobs hold the same state.

Blob: ``PREFIX`` + unpadded URL-safe base64 of ``AES-SIV(key', JSON(state), AD)`` where
``key'`` is SHA-512 of a domain label and the gateway's key (any length in, the 64 bytes
AES-256-SIV needs out) and ``AD`` is ``[b"llm-gateway state", b"v1", provider]``.
docs/extensions.md describes the state inside.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

VERSION = "v1"
PREFIX = "gwstate.v1."
_LABEL = b"llm-gateway state"
_KEY_LABEL = b"llm-gateway state key\x00"


@functools.lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESSIV:
    return AESSIV(hashlib.sha512(_KEY_LABEL + key).digest())


def _associated(provider: str) -> list[bytes]:
    return [_LABEL, VERSION.encode(), provider.encode("utf-8", "surrogatepass")]


def is_sealed(blob: object) -> bool:
    """Whether ``blob`` claims to be the gateway's (it may still fail to open)."""
    return isinstance(blob, str) and blob.startswith(PREFIX)


def seal(key: bytes, provider: str, state: dict) -> str:
    """``state`` (JSON-serialisable) sealed for ``provider``; ValueError on an empty key."""
    if not key:
        raise ValueError("the state key must not be empty")
    plaintext = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
    sealed = _cipher(bytes(key)).encrypt(plaintext, _associated(provider))
    return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def unseal(key: bytes, provider: str, blob: str) -> dict | None:
    """The state sealed in ``blob`` for ``provider``, or None for anything else: another
    provider's blob, a tampered or truncated one, garbage, or a blob that is not the
    gateway's. Never raises."""
    if not key or not is_sealed(blob):
        return None
    body = blob[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        plaintext = _cipher(bytes(key)).decrypt(raw, _associated(provider))
        state = orjson.loads(plaintext)
    except (ValueError, binascii.Error, InvalidTag, orjson.JSONDecodeError, UnicodeError):
        return None
    return state if isinstance(state, dict) else None
