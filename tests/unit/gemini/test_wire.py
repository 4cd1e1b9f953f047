"""The shared vocabulary: field forms, finish reasons, usage, errors, thought signatures,
``gem_`` call ids."""

from __future__ import annotations

import base64

import orjson
import pytest
from google.genai import errors as genai_errors

from tests.unit.gemini import ctx, load
from translators import gemini, ir
from translators.errors import TranslationError
from translators.gemini import wire

# ------------------------------------------------------------------ field forms


@pytest.mark.parametrize(
    ("name", "camel"),
    [
        ("function_declarations", "functionDeclarations"),
        ("max_output_tokens", "maxOutputTokens"),
        ("functionDeclarations", "functionDeclarations"),
        ("_private", "_private"),
        ("HARM_CATEGORY", "HARM_CATEGORY"),
    ],
)
def test_snake_case_names_read_as_camel_case(name: str, camel: str) -> None:
    assert wire.camel(name) == camel


def test_camel_view_leaves_the_callers_object_alone() -> None:
    raw = {"mime_type": "image/png", "data": "x"}
    assert wire.camel_obj(raw, "p") == {"mimeType": "image/png", "data": "x"}
    assert raw == {"mime_type": "image/png", "data": "x"}


def test_a_lone_object_is_a_one_element_list_anything_else_must_be_an_array() -> None:
    assert wire.listed({"a": 1}, "x") == [{"a": 1}]
    assert wire.listed([1], "x") == [1]
    with pytest.raises(TranslationError) as exc:
        wire.listed("s", "x.parts")
    assert (exc.value.param, exc.value.message) == ("x.parts", "x.parts must be an array")


@pytest.mark.parametrize(
    ("model", "before"),
    [
        ("gemini-2.5-flash", True),
        ("models/gemini-1.5-pro", True),
        ("gemma-3-27b-it", True),
        ("gemini-3-pro-preview", False),
        ("gemini-flash-latest", False),
    ],
)
def test_models_before_gemini3(model: str, before: bool) -> None:
    assert wire.before_gemini3(model) is before


# ------------------------------------------------------------------ finish reasons


@pytest.mark.parametrize(
    ("raw", "stop"),
    [
        ("STOP", "end_turn"),
        ("MAX_TOKENS", "max_tokens"),
        ("CONTINUATION", "max_tokens"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("IMAGE_PROHIBITED_CONTENT", "content_filter"),
        ("IMAGE_RECITATION", "content_filter"),
        ("IMAGE_OTHER", "content_filter"),
        ("LANGUAGE", "other"),
        ("OTHER", "other"),
        ("FINISH_REASON_UNSPECIFIED", "other"),
        ("SOMETHING_NEW", "other"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("UNEXPECTED_TOOL_CALL", "error"),
        ("TOO_MANY_TOOL_CALLS", "error"),
    ],
)
def test_finish_reasons_map_to_ir_stop_reasons(raw: str, stop: str) -> None:
    body = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": raw}]}
    choice = gemini.parse_response(body).choices[0]
    assert (choice.stop_reason, choice.raw_stop_reason) == (stop, raw)


@pytest.mark.parametrize(("raw", "stop"), [("STOP", "tool_use"), (None, "tool_use")])
def test_calls_with_stop_or_no_reason_ask_for_tool_results(raw: str | None, stop: str) -> None:
    assert wire.parse_stop(raw, has_call=True) == stop
    assert wire.parse_stop("MAX_TOKENS", has_call=True) == "max_tokens"


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "STOP"),
        ("stop_sequence", "STOP"),
        ("tool_use", "STOP"),
        ("max_tokens", "MAX_TOKENS"),
        ("context_window", "MAX_TOKENS"),
        ("content_filter", "SAFETY"),
        ("pause_turn", "OTHER"),
        ("error", "OTHER"),
        ("other", "OTHER"),
    ],
)
def test_ir_stop_reasons_map_to_finish_reasons(stop: ir.StopReason, finish: str) -> None:
    resp = ir.Response(
        id="x",
        model="m",
        source="openai_chat",
        choices=[ir.Choice([ir.Text("hi")], stop, raw_stop_reason="length")],
    )
    assert gemini.render_response(resp, ctx())["candidates"][0]["finishReason"] == finish


def test_geminis_own_finish_reason_goes_back_unchanged() -> None:
    assert wire.render_stop("other", "LANGUAGE", same_protocol=True) == "LANGUAGE"
    assert wire.render_stop("other", "LANGUAGE", same_protocol=False) == "OTHER"


# --------------------------------------------------------------------------- usage


def test_usage_is_inclusive_and_round_trips_without_double_counting() -> None:
    meta = {
        "promptTokenCount": 100,
        "cachedContentTokenCount": 60,
        "toolUsePromptTokenCount": 7,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "totalTokenCount": 157,
    }
    resp = gemini.parse_response({"candidates": [], "usageMetadata": meta})
    assert resp.usage == ir.Usage(
        input_tokens=107, output_tokens=50, cache_read_tokens=60, reasoning_tokens=30
    )
    assert gemini.render_response(resp, ctx())["usageMetadata"] == meta
    resp.source = "anthropic"
    assert gemini.render_response(resp, ctx())["usageMetadata"] == {
        "promptTokenCount": 107,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "cachedContentTokenCount": 60,
        "totalTokenCount": 157,
    }


def test_cache_writes_stay_inside_the_prompt_count() -> None:
    usage = ir.Usage(input_tokens=100, output_tokens=5, cache_write_tokens=40)
    assert wire.render_usage(usage) == {
        "promptTokenCount": 100,
        "candidatesTokenCount": 5,
        "totalTokenCount": 105,
    }


# -------------------------------------------------------------------------- errors


def test_invalid_api_key_is_authentication() -> None:
    err = gemini.parse_error(400, load("error_400_api_key_invalid.json"))
    assert (err.kind, err.status, err.code) == ("authentication", 401, "API_KEY_INVALID")
    assert err.message == "API key not valid. Please pass a valid API key."


@pytest.mark.parametrize(
    ("status", "name", "kind"),
    [
        (404, "error_404_model_not_found.json", "not_found"),
        (429, "error_429_resource_exhausted.json", "rate_limit"),
    ],
)
def test_spec_error_bodies_give_the_kind_and_status_name(status: int, name: str, kind: str) -> None:
    err = gemini.parse_error(status, load(name))
    assert (err.kind, err.status, err.code) == (kind, status, load(name)["error"]["status"])


def test_an_error_body_that_is_not_json_is_decided_by_the_status() -> None:
    err = gemini.parse_error(502, b"<html>bad gateway</html>")
    assert (err.kind, err.status, err.message) == ("api_error", 500, "Gemini error 502")


def test_an_error_wrapped_in_an_array_is_read() -> None:
    err = gemini.parse_error(429, orjson.dumps([load("error_429_resource_exhausted.json")]))
    assert err.kind == "rate_limit"


@pytest.mark.parametrize(
    ("status_name", "kind", "http"),
    [
        ("INVALID_ARGUMENT", "invalid_request", 400),
        ("FAILED_PRECONDITION", "invalid_request", 400),
        ("UNAUTHENTICATED", "authentication", 401),
        ("PERMISSION_DENIED", "permission", 403),
        ("NOT_FOUND", "not_found", 404),
        ("RESOURCE_EXHAUSTED", "rate_limit", 429),
        ("INTERNAL", "api_error", 500),
        ("UNIMPLEMENTED", "not_implemented", 501),
        ("UNAVAILABLE", "overloaded", 503),
        ("DEADLINE_EXCEEDED", "timeout", 504),
    ],
)
def test_status_names(status_name: str, kind: str, http: int) -> None:
    body = {"error": {"code": http, "message": "m", "status": status_name}}
    err = gemini.parse_error(http, body)
    assert (err.kind, err.status) == (kind, http)
    assert gemini.render_error(err) == (http, body)


@pytest.mark.parametrize(
    ("kind", "http", "status_name"),
    [
        ("invalid_request", 400, "INVALID_ARGUMENT"),
        ("authentication", 401, "UNAUTHENTICATED"),
        ("billing", 400, "FAILED_PRECONDITION"),
        ("permission", 403, "PERMISSION_DENIED"),
        ("not_found", 404, "NOT_FOUND"),
        ("request_too_large", 400, "INVALID_ARGUMENT"),
        ("rate_limit", 429, "RESOURCE_EXHAUSTED"),
        ("api_error", 500, "INTERNAL"),
        ("not_implemented", 501, "UNIMPLEMENTED"),
        ("overloaded", 503, "UNAVAILABLE"),
        ("timeout", 504, "DEADLINE_EXCEEDED"),
    ],
)
def test_render_error_per_kind(kind: ir.ErrorKind, http: int, status_name: str) -> None:
    status, body = gemini.render_error(ir.Error(kind=kind, message="nope", status=0))
    assert status == http
    assert body == {"error": {"code": http, "message": "nope", "status": status_name}}
    exc_class = genai_errors.ClientError if http < 500 else genai_errors.ServerError
    with pytest.raises(exc_class) as exc:
        genai_errors.APIError.raise_error(status, body, None)
    assert exc.value.status == status_name and exc.value.message == "nope"


def test_only_billing_and_request_too_large_differ_from_the_shared_status_table() -> None:
    for kind, status in ir.STATUS_BY_KIND.items():
        expected = wire.STATUS_OVERRIDES.get(kind, status)
        assert gemini.render_error(ir.Error(kind, "m", 0))[0] == expected
    assert set(wire.STATUS_OVERRIDES) == {"billing", "request_too_large"}


def test_error_param_goes_into_the_message_and_a_field_violation() -> None:
    err = ir.Error("invalid_request", "bad value", 400, param="messages[1].content")
    status, body = gemini.render_error(err)
    assert status == 400
    assert body["error"]["message"] == "bad value (param: messages[1].content)"
    back = gemini.parse_error(status, body)
    assert (back.kind, back.param) == ("invalid_request", "messages[1].content")


def test_api_key_reason_round_trips_as_a_400_invalid_argument() -> None:
    key = gemini.parse_error(400, load("error_400_api_key_invalid.json"))
    status, body = gemini.render_error(key)
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    assert gemini.parse_error(status, body).kind == "authentication"


# ---------------------------------------------------------------------- signatures


@pytest.mark.parametrize(
    ("sig", "parsed"),
    [
        ("CmIBvj72", ("gemini", "CmIBvj72", None)),
        ("anthropic:SIG", ("anthropic", "SIG", None)),
        ("openai_chat:", ("openai_chat", None, None)),
        (base64.b64encode(b"anthropic:EqQB==").decode(), ("anthropic", "EqQB==", None)),
        (base64.b64encode(b"anthropic-redacted:RR").decode(), ("anthropic", None, "RR")),
        (base64.urlsafe_b64encode(b"anthropic:Eq?>Q").decode(), ("anthropic", "Eq?>Q", None)),
        ("x:y", ("gemini", "x:y", None)),
    ],
)
def test_thought_signatures_name_their_origin(
    sig: str, parsed: tuple[str, str | None, str | None]
) -> None:
    assert wire.parse_signature(sig) == parsed


@pytest.mark.parametrize(
    ("thinking", "sig"),
    [
        (ir.Thinking("t", signature="G", origin="gemini"), "G"),
        (ir.Thinking("t", signature="", origin="gemini"), None),
        (ir.Thinking("t", signature="S", origin="anthropic"), "anthropic:S"),
        (ir.Thinking("t", origin="openai_chat"), "openai_chat:"),
        (ir.Thinking("", redacted="R", origin="anthropic"), "anthropic-redacted:R"),
    ],
)
def test_foreign_signatures_are_base64_of_origin_and_signature(
    thinking: ir.Thinking, sig: str | None
) -> None:
    rendered = wire.render_signature(thinking)
    if sig is None or thinking.origin == "gemini":
        assert rendered == sig
    else:
        assert rendered is not None and base64.b64decode(rendered).decode() == sig


def test_urlsafe_foreign_signature_from_the_sdk_is_read_in_requests() -> None:
    """The google-genai SDK re-encodes signatures URL-safe when it sends history back."""
    urlsafe = base64.urlsafe_b64encode(b"anthropic:EqQBCgIYAh==").decode()
    part = {"text": "t", "thought": True, "thoughtSignature": urlsafe}
    req = gemini.parse_request({"contents": [{"role": "model", "parts": [part]}]}, model="m")
    assert req.messages[0].parts[0] == ir.Thinking(
        "t", signature="EqQBCgIYAh==", origin="anthropic"
    )


# ------------------------------------------------------------------------ call ids


def test_synthesized_call_ids_are_stable_and_marked() -> None:
    first = wire.synth_call_id("r", 0, 1, "f", "{}")
    assert first == wire.synth_call_id("r", 0, 1, "f", "{}")
    assert first != wire.synth_call_id("r", 0, 2, "f", "{}")
    assert first.startswith("gem_") and len(first) == 20 and wire.is_synth_id(first)
    assert not wire.is_synth_id("call_1")


def test_retry_info_delay_becomes_the_errors_retry_hint_and_goes_back_as_retry_info() -> None:
    err = gemini.parse_error(429, load("error_429_resource_exhausted.json"))
    assert err.kind == "rate_limit" and err.retry_after == 34.4
    _, rendered = gemini.render_error(err)
    retry = [d for d in rendered["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"}]
