"""Sealed provider state (translators/sealing.py): it opens only for the provider it
was sealed for, with the key it was sealed with, unchanged; anything else is None."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators import sealing

KEY = b"gateway-secret"
STATE = {"thinking": [{"origin": "anthropic", "text": "why", "signature": "EqQBCkYIBxgC"}]}


def test_round_trip_and_determinism():
    blob = sealing.seal(KEY, "anthropic", STATE)
    assert blob.startswith(sealing.PREFIX) and sealing.is_sealed(blob)
    assert sealing.unseal(KEY, "anthropic", blob) == STATE
    assert sealing.seal(KEY, "anthropic", STATE) == blob  # no nonce: translators stay pure
    assert "why" not in blob and "EqQB" not in blob


def test_other_provider_or_key_does_not_open():
    blob = sealing.seal(KEY, "anthropic", STATE)
    assert sealing.unseal(KEY, "gemini", blob) is None
    assert sealing.unseal(b"another key", "anthropic", blob) is None
    assert sealing.unseal(b"", "anthropic", blob) is None


@pytest.mark.parametrize("position", [len(sealing.PREFIX), len(sealing.PREFIX) + 5, -1])
def test_tampered_blob_does_not_open(position):
    blob = sealing.seal(KEY, "anthropic", STATE)
    flipped = "A" if blob[position] != "A" else "B"
    tampered = blob[:position] + flipped + blob[position + 1 :]
    assert sealing.unseal(KEY, "anthropic", tampered) is None


def test_truncated_blob_does_not_open():
    blob = sealing.seal(KEY, "anthropic", STATE)
    for end in (len(sealing.PREFIX), len(sealing.PREFIX) + 10, len(blob) - 1):
        assert sealing.unseal(KEY, "anthropic", blob[:end]) is None


@pytest.mark.parametrize(
    "blob",
    [
        "",
        "gAAAAABpPDIUph8czEXzDePCV2lJ27wm7Tsb",  # OpenAI's own encrypted_content
        sealing.PREFIX,
        sealing.PREFIX + "!!!not base64!!!",
        sealing.PREFIX + "AAAA",
        "gwstate.v0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_garbage_does_not_open(blob):
    assert sealing.unseal(KEY, "anthropic", blob) is None


def test_a_sealed_non_object_is_not_state():
    blob = sealing.seal(KEY, "p", {"x": 1})
    assert sealing.unseal(KEY, "p", blob) == {"x": 1}
    with pytest.raises(ValueError):
        sealing.seal(b"", "p", {})


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=20))
def test_random_strings_never_raise(blob, provider):
    assert sealing.unseal(KEY, provider, blob) is None or sealing.is_sealed(blob)
    assert sealing.unseal(KEY, provider, sealing.PREFIX + blob) is None
