"""The native-route guard's format detection, and the log line's pieces."""

from __future__ import annotations

import logging

import orjson
import pytest

from addons import observability
from translators import detect, ir

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
RESPONSES = {"model": "m", "input": "hi"}


@pytest.mark.parametrize(
    ("body", "route"),
    [
        (CHAT, "openai_chat"),
        (CHAT, "anthropic"),  # a minimal body valid in both formats passes
        (MESSAGES, "anthropic"),
        (GEMINI, "gemini"),
        (RESPONSES, "openai_responses"),
    ],
)
def test_a_body_the_route_can_take_passes(body: dict, route: ir.Protocol) -> None:
    assert detect.check(body, route) == (True, None)


@pytest.mark.parametrize(
    ("body", "route", "looks_like"),
    [
        (GEMINI, "anthropic", "gemini"),
        (GEMINI, "openai_chat", "gemini"),
        (RESPONSES, "openai_chat", "openai_responses"),
        ({**CHAT, "response_format": {"type": "json_object"}}, "anthropic", "openai_chat"),
        ({**MESSAGES, "system": [{"type": "text", "text": "s"}]}, "gemini", "anthropic"),
    ],
)
def test_a_body_clearly_in_another_format_is_named(
    body: dict, route: ir.Protocol, looks_like: ir.Protocol
) -> None:
    assert detect.check(body, route) == (False, looks_like)


def test_a_body_no_format_claims_is_refused_without_a_name() -> None:
    assert detect.check({"foo": []}, "gemini") == (False, None)


def test_request_id_honours_the_callers_printable_value_up_to_128_chars() -> None:
    assert observability.request_id("abc-1") == "abc-1"
    assert observability.request_id("x" * 300) == "x" * 128
    assert observability.request_id("bad\nid").startswith("gw-")
    assert observability.request_id(None).startswith("gw-")


def test_usage_record_is_inclusive_and_omits_zero_details() -> None:
    usage = ir.Usage(input_tokens=100, output_tokens=20, cache_read_tokens=60, reasoning_tokens=0)
    assert observability.usage_record(usage) == {"in": 100, "out": 20, "cached": 60}


def test_log_line_is_one_json_object_with_usage_and_error(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="gateway"):
        observability.log_exchange(
            request_id="r1",
            route="converter:/v1/messages",
            client="anthropic",
            provider="openai",
            upstream_model="gpt-4.1",
            status=200,
            latency_ms=12.345,
            error="cut off",
            usage=ir.Usage(input_tokens=3, output_tokens=4),
        )
    line = caplog.records[-1].getMessage()
    assert line.startswith("gateway {")
    record = orjson.loads(line.removeprefix("gateway "))
    assert record == {
        "id": "r1",
        "route": "converter:/v1/messages",
        "client": "anthropic",
        "provider": "openai",
        "model": "gpt-4.1",
        "status": 200,
        "ms": 12.3,
        "tokens": {"in": 3, "out": 4},
        "error": "cut off",
    }
