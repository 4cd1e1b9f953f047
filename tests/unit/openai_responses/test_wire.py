"""The shared vocabulary: stop status, usage, errors (and the codes Codex classifies),
ids and output items."""

from __future__ import annotations

import openai
import pytest
from openai.types.responses import ResponseUsage

from tests.unit.openai_responses import load
from translators import ir
from translators.openai_responses import wire


@pytest.mark.parametrize(
    ("status", "reason", "called", "stop"),
    [
        ("completed", None, False, "end_turn"),
        ("completed", None, True, "tool_use"),
        (None, None, False, "end_turn"),
        ("incomplete", "max_output_tokens", True, "max_tokens"),
        ("incomplete", "content_filter", False, "content_filter"),
        ("incomplete", "something_new", False, "other"),
        ("cancelled", None, False, "other"),
    ],
)
def test_parse_stop(status, reason, called, stop):
    assert wire.parse_stop(status, reason, called=called) == stop


@pytest.mark.parametrize(
    ("stop", "status", "details"),
    [
        ("end_turn", "completed", None),
        ("tool_use", "completed", None),
        ("stop_sequence", "completed", None),
        ("pause_turn", "completed", None),
        (None, "completed", None),
        ("max_tokens", "incomplete", {"reason": "max_output_tokens"}),
        ("context_window", "incomplete", {"reason": "max_output_tokens"}),
        ("content_filter", "incomplete", {"reason": "content_filter"}),
    ],
)
def test_render_stop(stop, status, details):
    assert wire.render_stop(stop) == (status, details)


def test_usage_is_inclusive_and_complete():
    usage = ir.Usage(130, 40, cache_read_tokens=100, cache_write_tokens=20, reasoning_tokens=25)
    out = wire.render_usage(usage)
    ResponseUsage.model_validate(out)
    assert out["total_tokens"] == 170 and out["input_tokens_details"]["cached_tokens"] == 100
    assert wire.parse_usage(out) == usage
    lenient = wire.parse_usage(load("response_function_call.json")["usage"])
    assert lenient == ir.Usage(291, 23, reasoning_tokens=0)
    ResponseUsage.model_validate(wire.render_usage(ir.Usage()))


def test_parse_error_example_and_raw_bodies():
    err = wire.parse_error(400, load("error_400_unsupported_temperature.json"))
    assert (err.kind, err.param, err.status) == ("invalid_request", "temperature", 400)
    assert wire.parse_error(502, b"<html>Bad gateway</html>").message == "<html>Bad gateway</html>"
    assert (
        wire.parse_error(429, {"error": {"code": "insufficient_quota", "message": "m"}}).kind
        == "billing"
    )
    assert wire.parse_error(500, [1]).kind == "api_error"


@pytest.mark.parametrize(
    ("err", "code"),
    [
        (ir.Error("billing", "Your credit balance is too low", 402), "insufficient_quota"),
        (ir.Error("rate_limit", "Slow down", 429), "rate_limit_exceeded"),
        (
            ir.Error("invalid_request", "prompt is too long: 210000 tokens > 200000 maximum", 400),
            "context_length_exceeded",
        ),
        (
            ir.Error("invalid_request", "The input token count (1200000) exceeds the maximum", 400),
            "context_length_exceeded",
        ),
        (ir.Error("invalid_request", "bad image", 400), "invalid_prompt"),
        (ir.Error("overloaded", "Overloaded", 529), "server_is_overloaded"),
        (ir.Error("api_error", "boom", 500), "server_error"),
        (ir.Error("api_error", "x", 500, code="rate_limit_exceeded"), "rate_limit_exceeded"),
    ],
)
def test_failed_error_codes_codex_classifies(err, code):
    assert wire.failed_error(err)["code"] == code


def test_retry_hint_in_the_message():
    err = ir.Error("rate_limit", "Rate limited.", 429, retry_after=20)
    assert wire.failed_error(err)["message"] == "Rate limited. Please try again in 20s."
    again = ir.Error("rate_limit", "Please try again in 3s.", 429, retry_after=20)
    assert wire.failed_error(again)["message"] == "Please try again in 3s."
    status, body = wire.render_error(err)
    assert status == 429 and body["error"]["code"] == "rate_limit_exceeded"
    assert "try again in 20s" in body["error"]["message"]


@pytest.mark.parametrize(
    ("kind", "status", "exception"),
    [
        ("invalid_request", 400, openai.BadRequestError),
        ("authentication", 401, openai.AuthenticationError),
        ("permission", 403, openai.PermissionDeniedError),
        ("not_found", 404, openai.NotFoundError),
        ("rate_limit", 429, openai.RateLimitError),
        ("billing", 429, openai.RateLimitError),
        ("api_error", 500, openai.InternalServerError),
        ("overloaded", 503, openai.InternalServerError),
    ],
)
def test_render_error_status_for_the_sdk(kind, status, exception):
    got, body = wire.render_error(ir.Error(kind, "m", 0))
    assert got == status and body["error"]["message"] == "m"
    assert issubclass(exception, openai.APIStatusError)


def test_ids_are_deterministic_and_distinct():
    assert wire.response_id("r").startswith("resp_")
    assert wire.item_id("msg", "r", 0) == wire.item_id("msg", "r", 0)
    assert wire.item_id("msg", "r", 0) != wire.item_id("msg", "r", 1) != wire.item_id("msg", "s", 1)


def test_call_items_by_kind():
    call = ir.ToolCall("c", "p", "", namespace="ns", kind="custom")
    assert wire.call_item("ctc_1", call, "raw", "completed") == {
        "id": "ctc_1",
        "type": "custom_tool_call",
        "status": "completed",
        "call_id": "c",
        "name": "p",
        "input": "raw",
        "namespace": "ns",
    }
    assert wire.call_prefix(call) == "ctc" and wire.call_prefix(ir.ToolCall("c", "f", "")) == "fc"


@pytest.mark.parametrize(
    ("err", "code"),
    [
        (
            ir.Error("rate_limit", "Quota exceeded", 429, code="RESOURCE_EXHAUSTED"),
            "rate_limit_exceeded",
        ),
        (ir.Error("overloaded", "busy", 503, code="UNAVAILABLE"), "server_is_overloaded"),
        (
            ir.Error("invalid_request", "input token count exceeds", 400, code="INVALID_ARGUMENT"),
            "context_length_exceeded",
        ),
        (
            ir.Error("invalid_request", "bad image", 400, code="INVALID_ARGUMENT"),
            "INVALID_ARGUMENT",
        ),
        (ir.Error("rate_limit", "m", 429, code="insufficient_quota"), "insufficient_quota"),
        (ir.Error("not_found", "m", 404, code="NOT_FOUND"), "NOT_FOUND"),
    ],
)
def test_render_error_code_is_one_codex_classifies_over_a_foreign_code(err, code):
    assert wire.render_error(err)[1]["error"]["code"] == code
