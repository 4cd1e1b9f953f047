"""Which protocol a request body is written in, for the native-route guard.

A native route forwards bytes unchanged, so a body in another format would reach an
upstream that rejects it with a confusing message. The guard asks every codec how sure
it is (2: a shape only that protocol has; 1: compatible; 0: not it) and refuses only
when another protocol is clearly meant, so minimal bodies valid in several formats
still pass.
"""

from __future__ import annotations

from translators import ir
from translators.codec import CODECS


def recognise_responses(body: dict) -> int:
    """Kept for callers of the old name: the Responses codec's own ``recognise``."""
    return CODECS["openai_responses"].recognise(body)


def scores(body: dict) -> dict[ir.Protocol, int]:
    return {p: codec.recognise(body) for p, codec in CODECS.items()}


def check(body: dict, expected: ir.Protocol) -> tuple[bool, ir.Protocol | None]:
    """Whether ``expected`` may take ``body``, and if not, which protocol it looks like
    instead (``None`` when no supported protocol claims it)."""
    found = scores(body)
    mine = found.pop(expected)
    best = max(found, key=found.__getitem__)
    if mine == 2 or (mine == 1 and found[best] < 2):
        return True, None
    return False, best if found[best] else None
