"""translators/anthropic/wire.py: stop reasons, usage, errors and signatures."""

from __future__ import annotations

import copy

import anthropic
import pytest

from tests.unit.anthropic import CTX, httpx, load, sdk_client
from translators import anthropic as codec
from translators import ir
from translators.anthropic import wire
from translators.errors import TranslationError

# ------------------------------------------------------------------ stop reasons


@pytest.mark.parametrize(
    ("native", "stop"),
    [
        ("end_turn", "end_turn"),
        ("max_tokens", "max_tokens"),
        ("stop_sequence", "stop_sequence"),
        ("tool_use", "tool_use"),
        ("pause_turn", "pause_turn"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "context_window"),
        ("brand_new_reason", "other"),
    ],
)
def test_stop_reasons_both_ways(native: str, stop: str) -> None:
    body = {"id": "m", "model": "c", "content": [], "stop_reason": native}
    resp = codec.parse_response(body)
    assert resp.choices[0].stop_reason == stop
    assert resp.choices[0].raw_stop_reason == native
    assert codec.render_response(resp, CTX)["stop_reason"] == native
    resp.source = "openai_chat"
    resp.choices[0].raw_stop_reason = "whatever"
    expected = "end_turn" if stop == "other" else native
    assert codec.render_response(resp, CTX)["stop_reason"] == expected


@pytest.mark.parametrize("stop", [None, "end_turn", "other"])
def test_foreign_end_with_a_tool_call_is_tool_use(stop: ir.StopReason | None) -> None:
    assert wire.render_stop(stop, "STOP", False, True) == "tool_use"


def test_foreign_error_stop_is_end_turn() -> None:
    assert wire.render_stop("error", "MALFORMED_FUNCTION_CALL", False, False) == "end_turn"


# ------------------------------------------------------------------------ usage


def test_usage_anthropic_to_ir_is_inclusive() -> None:
    body = {
        "id": "m",
        "model": "c",
        "content": [],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 100,
            "cache_read_input_tokens": 50,
            "cache_creation_input_tokens": 25,
            "output_tokens": 10,
            "output_tokens_details": {"thinking_tokens": 4},
        },
    }
    resp = codec.parse_response(copy.deepcopy(body))
    assert resp.usage == ir.Usage(175, 10, 50, 25, 4)
    assert resp.extra == {}
    assert codec.render_response(resp, CTX)["usage"] == body["usage"]


def test_usage_ir_to_anthropic_never_negative() -> None:
    resp = ir.Response(
        id="r",
        model="g",
        source="gemini",
        choices=[],
        usage=ir.Usage(input_tokens=10, output_tokens=1, cache_read_tokens=20),
    )
    assert codec.render_response(resp, CTX)["usage"]["input_tokens"] == 0


def test_usage_counts_that_are_not_integers_are_ignored() -> None:
    usage = {"input_tokens": "5", "output_tokens": True, "cache_read_input_tokens": 2}
    assert wire.parse_usage(usage) == ir.Usage(2, 0, cache_read_tokens=2)


# ----------------------------------------------------------------------- errors

ERROR_TABLE = [
    (400, "invalid_request_error", "invalid_request", anthropic.BadRequestError),
    (401, "authentication_error", "authentication", anthropic.AuthenticationError),
    (402, "billing_error", "billing", anthropic.APIStatusError),
    (403, "permission_error", "permission", anthropic.PermissionDeniedError),
    (404, "not_found_error", "not_found", anthropic.NotFoundError),
    (413, "request_too_large", "request_too_large", anthropic.RequestTooLargeError),
    (429, "rate_limit_error", "rate_limit", anthropic.RateLimitError),
    (500, "api_error", "api_error", anthropic.InternalServerError),
    (504, "timeout_error", "timeout", anthropic.InternalServerError),
    (529, "overloaded_error", "overloaded", anthropic.OverloadedError),
]


@pytest.mark.parametrize(("status", "etype", "kind", "exc_class"), ERROR_TABLE)
def test_error_mapping(status: int, etype: str, kind: str, exc_class: type) -> None:
    body = {"type": "error", "error": {"type": etype, "message": "boom"}, "request_id": "req_1"}
    err = codec.parse_error(status, body)
    assert (err.kind, err.message, err.status) == (kind, "boom", status)
    out_status, out_body = codec.render_error(err)
    assert out_status == status
    assert out_body == {"type": "error", "error": {"type": etype, "message": "boom"}}
    client = sdk_client(lambda request: httpx.Response(out_status, json=out_body))
    with pytest.raises(exc_class) as exc:
        client.messages.create(model="m", max_tokens=10, messages=[])
    assert exc.value.status_code == status
    assert "boom" in str(exc.value)


def test_spec_error_example() -> None:
    err = codec.parse_error(529, load("error_529_overloaded.json"))
    assert err == ir.Error("overloaded", "Overloaded", 529)


@pytest.mark.parametrize(
    ("err", "status", "etype", "message"),
    [
        (ir.Error("overloaded", "busy", 503), 529, "overloaded_error", "busy"),
        (ir.Error("not_implemented", "no", 501), 501, "api_error", "no"),
        (ir.Error("invalid_request", "bad", 422, param="messages[0]"), 422, None, None),
        (ir.Error("api_error", "gw", 502), 502, "api_error", "gw"),
        (ir.Error("api_error", "odd", 404), 500, "api_error", "odd"),
    ],
)
def test_render_error_status(err: ir.Error, status: int, etype: str | None, message: str) -> None:
    out_status, body = codec.render_error(err)
    assert out_status == status
    if etype is not None:
        assert body["error"] == {"type": etype, "message": message}
    else:
        assert body["error"] == {"type": "invalid_request_error", "message": "messages[0]: bad"}


def test_translation_error_renders_with_param() -> None:
    exc = TranslationError("Anthropic has no audio input", param="messages[0].content[1]")
    assert codec.render_error(exc.to_ir()) == (
        400,
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "messages[0].content[1]: Anthropic has no audio input",
            },
        },
    )


@pytest.mark.parametrize(
    ("message", "param", "rendered"),
    [
        ("messages must be an array", "messages", "messages must be an array"),
        ("tool_choice.name must be a string", "name", "name: tool_choice.name must be a string"),
        ("n must be 1", "n", "n must be 1"),
        ("none given", "n", "n: none given"),
        ("messages[0].role is bad", "messages[0]", "messages[0].role is bad"),
    ],
)
def test_param_prefixes_the_message_unless_the_message_names_it(
    message: str, param: str, rendered: str
) -> None:
    _, body = codec.render_error(ir.Error("invalid_request", message, 400, param=param))
    assert body["error"]["message"] == rendered


def test_field_error_of_a_caller_reaches_it_once_named() -> None:
    with pytest.raises(TranslationError) as exc:
        codec.parse_request({"model": "m", "messages": {}})
    _, body = codec.render_error(exc.value.to_ir())
    assert body["error"]["message"] == "messages must be an array"


def test_non_json_error_body_is_the_message() -> None:
    err = codec.parse_error(413, b"<html>Request Entity Too Large</html>")
    assert (err.kind, err.status) == ("request_too_large", 413)
    assert "Too Large" in err.message


def test_unknown_error_type_is_kept_as_code_and_the_status_decides() -> None:
    err = codec.parse_error(
        409, b'{"type":"error","error":{"type":"conflict_error","message":"c"}}'
    )
    assert (err.kind, err.message, err.code) == ("invalid_request", "c", "conflict_error")


def test_error_without_body_is_kind_of_its_status() -> None:
    err = codec.parse_error(503, None)
    assert (err.kind, err.message, err.status) == ("overloaded", "HTTP 503", 503)


def test_in_stream_error_gets_the_status_of_its_kind() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert wire.parse_error(None, body) == ir.Error("overloaded", "Overloaded", 529)


# ------------------------------------------------------------------- signatures


@pytest.mark.parametrize(
    ("signature", "parsed"),
    [
        ("EqQBsig", ("EqQBsig", "anthropic")),
        ("gemini:GSIG", ("GSIG", "gemini")),
        ("openai_chat:", (None, "openai_chat")),
        ("", (None, None)),
        ("unknown:abc", ("unknown:abc", "anthropic")),
    ],
)
def test_signature_prefix_names_the_origin(signature: str, parsed: tuple) -> None:
    assert wire.parse_signature(signature) == parsed


@pytest.mark.parametrize(
    ("signature", "origin", "rendered"),
    [
        ("S", "anthropic", "S"),
        (None, None, ""),
        ("GS", "gemini", "gemini:GS"),
        (None, "openai_chat", "openai_chat:"),
    ],
)
def test_foreign_signature_gets_its_origin_prefix(
    signature: str | None, origin: ir.Protocol | None, rendered: str
) -> None:
    assert wire.render_signature(signature, origin) == rendered
    assert wire.parse_signature(rendered) == (signature, origin)


def test_google_signature_rides_in_extra_content() -> None:
    block = wire.render_google_signature({"type": "text", "text": "x"}, "TS")
    assert block["extra_content"] == {"google": {"thought_signature": "TS"}}
    assert wire.parse_google_signature(block) == "TS"
    assert wire.render_google_signature({"type": "text"}, None) == {"type": "text"}
    assert (
        wire.parse_google_signature({"extra_content": {"google": {"thought_signature": 1}}}) is None
    )
