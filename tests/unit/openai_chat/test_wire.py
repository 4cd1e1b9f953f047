"""wire.py: finish reasons, usage, the error object and its status, signatures."""

from __future__ import annotations

import openai
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.openai_chat import JSON, load, sdk
from translators import extensions, ir
from translators import openai_chat as oc
from translators.openai_chat import wire

# ------------------------------------------------------------------------ stop reasons


@pytest.mark.parametrize(
    ("finish_reason", "has_tool_call", "refused", "stop"),
    [
        ("stop", False, False, "end_turn"),
        ("stop", True, False, "tool_use"),
        (None, True, False, "tool_use"),
        ("length", True, False, "max_tokens"),
        ("content_filter", True, False, "content_filter"),
        ("stop", False, True, "content_filter"),
        ("function_call", False, False, "tool_use"),
        ("eos", False, False, "other"),
        (None, False, False, None),
    ],
)
def test_calls_ask_for_results_unless_cut_off_and_refusals_are_filtered(
    finish_reason: str | None, has_tool_call: bool, refused: bool, stop: str | None
) -> None:
    assert wire.parse_stop(finish_reason, has_tool_call=has_tool_call, refused=refused) == stop


@pytest.mark.parametrize(
    ("stop", "has_tool_call", "finish"),
    [
        ("end_turn", True, "tool_calls"),
        ("max_tokens", True, "length"),
        ("context_window", True, "length"),
        ("content_filter", True, "content_filter"),
    ],
)
def test_calls_say_tool_calls_unless_cut_off_or_filtered(
    stop: ir.StopReason, has_tool_call: bool, finish: str
) -> None:
    rendered = wire.render_stop(stop, "x", same_protocol=False, has_tool_call=has_tool_call)
    assert rendered == finish


def test_same_protocol_gets_its_raw_finish_reason_back() -> None:
    assert wire.render_stop("tool_use", "stop", same_protocol=True, has_tool_call=True) == "stop"


# ------------------------------------------------------------------------------- usage


def test_usage_is_inclusive_and_never_double_counted() -> None:
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 300,
        "total_tokens": 1300,
        "prompt_tokens_details": {"cached_tokens": 900, "cache_write_tokens": 50},
        "completion_tokens_details": {"reasoning_tokens": 200},
    }
    parsed = wire.parse_usage(usage)
    assert parsed == ir.Usage(
        1000, 300, cache_read_tokens=900, cache_write_tokens=50, reasoning_tokens=200
    )
    assert wire.render_usage(parsed) == usage


def test_usage_without_details_renders_no_detail_objects() -> None:
    assert wire.parse_usage({"prompt_tokens": 3, "completion_tokens": 4}) == ir.Usage(3, 4)
    assert wire.render_usage(ir.Usage(3, 4)) == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
    }


def test_deepseek_cache_hits_count_as_cached_tokens() -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 2, "prompt_cache_hit_tokens": 4}
    assert wire.parse_usage(usage) == ir.Usage(10, 2, cache_read_tokens=4)


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [
        ("error_400_unsupported_parameter.json", 400, "invalid_request"),
        ("error_429_insufficient_quota.json", 429, "billing"),
    ],
)
def test_error_examples_round_trip(name: str, status: int, kind: str) -> None:
    body = load(name)
    err = oc.parse_error(status, orjson.dumps(body))
    assert err.kind == kind
    assert err.message == body["error"]["message"]
    assert oc.render_error(err) == (status, body)


KINDS = [
    ("invalid_request", 400, openai.BadRequestError),
    ("authentication", 401, openai.AuthenticationError),
    ("billing", 429, openai.RateLimitError),
    ("permission", 403, openai.PermissionDeniedError),
    ("not_found", 404, openai.NotFoundError),
    ("request_too_large", 413, openai.APIStatusError),
    ("rate_limit", 429, openai.RateLimitError),
    ("api_error", 500, openai.InternalServerError),
    ("not_implemented", 501, openai.InternalServerError),
    ("overloaded", 503, openai.InternalServerError),
    ("timeout", 504, openai.InternalServerError),
]


@pytest.mark.parametrize(("kind", "status", "exc"), KINDS)
def test_rendered_errors_raise_the_sdk_class(kind: str, status: int, exc: type) -> None:
    err = ir.Error(kind=kind, message=f"boom {kind}", status=status, param="messages[0]", code="c1")
    rendered_status, body = oc.render_error(err)
    assert rendered_status == status
    client = sdk(status, orjson.dumps(body))
    with pytest.raises(exc) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert type(info.value) is exc
    assert info.value.body["message"] == f"boom {kind}"
    assert (info.value.param, info.value.code) == ("messages[0]", "c1")
    back = oc.parse_error(status, orjson.dumps(body))
    assert (back.kind, back.message, back.param, back.code) == (
        kind,
        err.message,
        "messages[0]",
        "c1",
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request"),
        (401, "authentication"),
        (402, "billing"),
        (403, "permission"),
        (404, "not_found"),
        (409, "invalid_request"),
        (413, "request_too_large"),
        (422, "invalid_request"),
        (429, "rate_limit"),
        (500, "api_error"),
        (501, "not_implemented"),
        (502, "api_error"),
        (503, "overloaded"),
        (504, "timeout"),
        (418, "invalid_request"),
    ],
)
def test_parse_error_status_to_kind(status: int, kind: str) -> None:
    body = {"error": {"message": "m", "type": "x", "param": None, "code": None}}
    assert oc.parse_error(status, body).kind == kind


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>", None),
        (b"", "upstream error (HTTP 502)", None),
        ({"error": "model 'x' not found"}, "model 'x' not found", None),
        (
            {"object": "error", "message": "bad", "type": "BadRequestError", "code": 400},
            "bad",
            "400",
        ),
        ({"detail": "Not Found"}, "Not Found", None),
        ([1, 2], "upstream error (HTTP 502)", None),
    ],
)
def test_parse_error_tolerates_compatible_server_shapes(body: object, message: str, code) -> None:
    err = oc.parse_error(502, body)
    assert (err.message, err.code, err.status) == (message, code, 502)


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        ({"message": "slow down", "type": "rate_limit_error"}, "rate_limit", 429),
        ({"message": "pay", "type": "x", "code": "insufficient_quota"}, "billing", 429),
        ({"message": "busy", "type": "service_unavailable_error"}, "overloaded", 503),
        ({"message": "?", "type": "something_new"}, "api_error", 500),
    ],
)
def test_in_stream_error_kind_comes_from_its_type(error: dict, kind: str, status: int) -> None:
    err = wire.parse_error(error, None)
    assert (err.kind, err.status) == (kind, status)


@settings(max_examples=200, deadline=None)
@given(status=st.integers(100, 599), body=JSON | st.binary(max_size=20))
def test_random_errors_never_raise(status: int, body: object) -> None:
    """Any status and body: a non-empty message, and the error renders."""
    err = oc.parse_error(status, body)
    assert isinstance(err.message, str) and err.message
    oc.render_error(err)


# -------------------------------------------------------------------------- signatures


@pytest.mark.parametrize(
    ("wire_form", "signature", "origin"),
    [
        ("c2ln", "c2ln", "anthropic"),
        ("gemini:Z3M=", "Z3M=", "gemini"),
        ("openai_chat:", "", "openai_chat"),
        ("unknown:abc", "unknown:abc", "anthropic"),
    ],
)
def test_signature_prefix_names_the_origin(wire_form: str, signature: str, origin: str) -> None:
    assert wire.parse_signature(wire_form) == (signature, origin)
    assert wire.render_signature(signature, origin) == wire_form


@pytest.mark.parametrize(
    "extra_content",
    [None, "x", {"google": "x"}, {"google": {"thought_signature": 5}}, {"other": {}}],
)
def test_extra_content_without_a_google_signature_is_not_ours(extra_content: object) -> None:
    assert extensions.parse_google_extra(extra_content) is None
    signature = extensions.render_google_extra("sig")
    assert extensions.parse_google_extra(signature) == "sig"
