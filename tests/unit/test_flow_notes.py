"""The one-line comment and the marker of a gateway flow (addons/flow_notes.py)."""

from __future__ import annotations

import pytest
from mitmproxy.utils import emoji

from addons import flow_notes
from translators import ir


def test_a_translated_call_reads_as_the_issue_shows_it():
    note = flow_notes.note(
        client="anthropic",
        provider="openai",
        model="gpt-4.1-mini",
        kind="translated",
        status=200,
        seconds=1.42,
        usage=ir.Usage(input_tokens=812, output_tokens=95),
    )
    assert note.comment == "anthropic → openai · gpt-4.1-mini · 200 · 812 in / 95 out · 1.4 s"
    assert note.marker == flow_notes.MARK_TRANSLATED


def test_dropped_fields_and_errors_are_named_and_a_failure_is_marked_failed():
    note = flow_notes.note(
        client="openai_chat",
        provider="anthropic",
        model="claude-sonnet-4-5",
        kind="translated",
        status=200,
        seconds=0.31,
        dropped=("top_k", "seed"),
        error="the upstream stream ended\nbefore its stop reason",
    )
    assert note.comment == (
        "openai → anthropic · claude-sonnet-4-5 · 200 · 310 ms · dropped: top_k, seed"
        " · error: the upstream stream ended before its stop reason"
    )
    assert note.marker == flow_notes.MARK_FAILED


@pytest.mark.parametrize(
    ("kind", "status", "error", "expected"),
    [
        ("translated", 200, None, flow_notes.MARK_TRANSLATED),
        ("passthrough", 200, None, flow_notes.MARK_FORWARDED),
        ("rewritten", 201, None, flow_notes.MARK_FORWARDED),
        ("local", 200, None, flow_notes.MARK_LOCAL),
        ("local", 400, None, flow_notes.MARK_FAILED),
        ("translated", 429, None, flow_notes.MARK_FAILED),
        ("passthrough", "error", "connection refused", flow_notes.MARK_FAILED),
    ],
)
def test_markers_tell_translated_forwarded_local_and_failed_apart(kind, status, error, expected):
    assert flow_notes.marker(kind, status, error) == expected


def test_every_marker_is_one_mitmproxy_accepts_and_renders():
    """``flow.mark`` (and mitmweb's emoji column) take the short codes of this table,
    the same in mitmproxy 11 and 12; anything else would show as a plain red dot."""
    markers = {
        flow_notes.MARK_FAILED,
        flow_notes.MARK_TRANSLATED,
        flow_notes.MARK_FORWARDED,
        flow_notes.MARK_LOCAL,
    }
    assert all(m in emoji.emoji for m in markers)
    assert len({emoji.emoji[m] for m in markers}) == 4


def test_durations_are_as_precise_as_a_glance_needs():
    assert [flow_notes.duration(s) for s in (0.0123, 0.999, 1.44, 9.96, 12.4)] == [
        "12 ms",
        "999 ms",
        "1.4 s",
        "10 s",
        "12 s",
    ]


def test_a_long_error_is_cut_to_keep_the_comment_one_line():
    note = flow_notes.note(
        client="gemini",
        provider="openai",
        model="m",
        kind="passthrough",
        status="error",
        seconds=2,
        error="x" * 500,
    )
    assert len(note.comment) < 200 and note.comment.endswith("…")
