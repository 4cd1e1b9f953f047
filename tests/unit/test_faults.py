"""Fault messages, the gateway's fault answers and in-stream error tails, and
retry-after (addons/faults.py)."""

from __future__ import annotations

import email.utils
import socket
import ssl
import time

import orjson
import pytest

from addons import faults
from addons.faults import Fault
from translators import convert, ir

CALLERS: list[ir.Protocol] = ["openai_chat", "anthropic", "gemini"]


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (ConnectionRefusedError(111, "Connect call failed ('10.1.2.3', 443)"), "was refused"),
        (socket.gaierror(-2, "Name or service not known"), "host name could not be resolved"),
        (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] 10.1.2.3"), "TLS"),
        (OSError(101, "Network is unreachable"), "network is unreachable"),
    ],
)
def test_connect_faults_name_the_provider_and_never_the_address(exc, words):
    fault = faults.broken("eu-openai", "connect", exc)
    assert words in str(fault)
    assert str(fault).startswith("The provider 'eu-openai' could not be reached: ")
    assert "10.1.2.3" not in str(fault) and "443" not in str(fault)
    assert fault.status == 502


def test_timeouts_name_the_setting_and_answer_504():
    fault = faults.timed_out("slow", "first_byte", 1.5)
    assert str(fault) == "The provider 'slow' sent no answer within 1.5 s (timeouts.first_byte)."
    assert fault.status == 504
    assert "timeouts.idle" in str(faults.timed_out("slow", "stream", 2))


@pytest.mark.parametrize("client", CALLERS)
def test_the_gateways_fault_answer_keeps_its_status_in_every_format(client):
    status, body = faults.answer(client, faults.invalid("p"), "req-1")
    assert status == 502
    # Each codec reads its own error back: the message survives, with the request id.
    err = convert.CODECS[client].parse_error(status, body)
    assert "The provider 'p' sent a response that is not valid HTTP/1.1" in err.message
    assert "req-1" in err.message


FAULT = Fault("anthropic", "closed the connection in the middle of its stream")


@pytest.mark.parametrize("client", CALLERS)
@pytest.mark.parametrize(
    ("wire", "framing"),
    [("openai_chat", "sse"), ("anthropic", "sse"), ("gemini", "sse")],
)
def test_a_tail_in_the_upstreams_protocol_reaches_every_caller_as_its_error(client, wire, framing):
    ctx = ir.RenderContext(model="m", created=1, request_id="r")
    translator = convert.StreamTranslator(wire, client, ctx)
    out = translator.feed(faults.stream_tail(wire, framing, FAULT, "req-7")) + translator.finish()
    assert translator.error is not None and "'anthropic' closed the connection" in translator.error
    assert b"closed the connection" in out


def test_a_json_array_tail_opens_and_separates_as_needed():
    tail = faults.stream_tail("gemini", "json_array", FAULT, "r")
    assert orjson.loads(tail)[0]["error"]["code"] >= 500
    after_two = b'[{"a":1},{"b":2}' + faults.stream_tail(
        "gemini", "json_array", FAULT, "r", array_open=True, sent=2
    )
    assert [list(e) for e in orjson.loads(after_two)] == [["a"], ["b"], ["error"]]
    opened = b"[" + faults.stream_tail("gemini", "json_array", FAULT, "r", array_open=True)
    assert len(orjson.loads(opened)) == 1


def test_an_openai_tail_ends_with_done_and_a_responses_tail_continues_the_count():
    assert faults.stream_tail("openai_chat", "sse", FAULT, "r").endswith(b"data: [DONE]\n\n")
    tail = faults.stream_tail("openai_responses", "sse", FAULT, "r", sent=12)
    event = orjson.loads(tail.split(b"data: ", 1)[1])
    assert event["type"] == "error" and event["sequence_number"] == 12


def test_an_openai_stream_that_failed_gets_its_done_once():
    error_chunk = b'data: {"error":{}}\n\n'
    assert faults.close_failed_stream("openai_chat", error_chunk, True).endswith(faults.DONE)
    done = error_chunk + faults.DONE
    assert faults.close_failed_stream("openai_chat", done, True) == done
    assert faults.close_failed_stream("openai_chat", b"", False) == b""
    assert faults.close_failed_stream("anthropic", b"x", True) == b"x"


def test_retry_after_in_seconds_as_a_date_or_in_milliseconds():
    assert faults.retry_after(b"2") == 2.0
    assert faults.retry_after(b"1", b"250") == 0.25
    soon = email.utils.formatdate(time.time() + 30, usegmt=True).encode()
    assert 28 < (faults.retry_after(soon) or 0) <= 30
    assert faults.retry_after(b"soon") is None
    assert faults.retry_after(None) is None
    assert faults.retry_after(b"-5") == 0.0
