"""A provider that cannot be reached, stays silent, breaks its connection or answers
garbage: every caller format gets its own error form, naming the provider, with the
request id, and a stream that already started ends with a properly terminated in-stream
error (docs/faults.md). The gateway is ``fault_gateway``: timeouts of one second."""

from __future__ import annotations

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.e2e.faults_support import (
    CASES,
    SDK_CASES,
    Case,
    assert_names_provider,
    broken_frames,
    call,
    error_message,
    log_line,
    stream_error,
    streamed_text,
)
from tests.fakes import Hostile

USER_HI = [{"role": "user", "content": "Hi"}]
DEAD_MODEL = {"openai": "dead-gpt", "anthropic": "dead-claude", "gemini": "dead-gemini"}


def dead_model(case: Case) -> tuple[str, str]:
    """A model whose provider nothing answers for: of the caller's own protocol on a
    native route, of another one on a converter route. Returns (model, provider)."""
    caller = case.caller.removesuffix("_array")
    other = "anthropic" if caller == "openai" else "openai"
    protocol = caller if case.route == "native" else other
    return DEAD_MODEL[protocol], f"down-{protocol}"


def sdk_error(case: Case, gateway, model: str, *, stream: bool) -> Exception:
    """The exception the caller's own SDK raises for the call."""
    prefix = case.prefix
    if case.caller == "openai":
        client = openai_client(gateway, prefix)
        with pytest.raises(openai.APIError) as caught:
            reply = client.chat.completions.create(model=model, messages=USER_HI, stream=stream)
            if stream:
                list(reply)
    elif case.caller == "anthropic":
        client = anthropic_client(gateway, prefix)
        with pytest.raises(anthropic.APIError) as caught:
            reply = client.messages.create(
                model=model, max_tokens=50, messages=USER_HI, stream=stream
            )
            if stream:
                list(reply)
    else:
        models = gemini_client(gateway, prefix).models
        with pytest.raises(genai_errors.APIError) as caught:
            if stream:
                list(models.generate_content_stream(model=model, contents="Hi"))
            else:
                models.generate_content(model=model, contents="Hi")
    return caught.value


def sdk_message(error: Exception) -> str:
    return str(getattr(error, "message", None) or error)


# ------------------------------------------------------------ unreachable providers


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_unreachable_provider_answers_502_in_the_callers_format(fault_gateway, case, stream):
    model, provider = dead_model(case)
    r, _ = call(case, fault_gateway.url, stream=stream, model=model)
    assert r.status_code == 502, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-request-id"].startswith("gw-")
    message = error_message(case, r.content)
    assert_names_provider(message, provider, fault_gateway.port)
    assert "could not be reached: the connection was refused" in message
    record = log_line(fault_gateway, r.headers["x-request-id"])
    assert record["status"] == 502 and record["provider"] == provider
    assert f"'{provider}'" in record["error"]


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
@pytest.mark.parametrize("case", SDK_CASES, ids=str)
def test_unreachable_provider_raises_the_sdks_server_error(fault_gateway, case, stream):
    model, provider = dead_model(case)
    error = sdk_error(case, fault_gateway, model, stream=stream)
    assert isinstance(
        error, openai.InternalServerError | anthropic.InternalServerError | genai_errors.ServerError
    )
    assert_names_provider(sdk_message(error), provider)
    response = error.response  # type: ignore[attr-defined]
    assert response.status_code == 502
    assert response.headers["x-request-id"].startswith("gw-")


@pytest.mark.parametrize("caller", ["openai", "anthropic", "gemini"])
def test_a_failed_tls_handshake_is_named_without_the_address(fault_gateway, fakes, caller):
    case = Case(caller, "native" if caller == "openai" else "translated")
    r, _ = call(case, fault_gateway.url, stream=False, model="tls-gpt")
    assert r.status_code == 502, r.text
    message = error_message(case, r.content)
    assert_names_provider(message, "no-tls", fakes["openai"].port)
    assert "the TLS handshake failed" in message


# ------------------------------------------------------------------ timeouts


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_provider_silent_before_its_headers_gets_504(fault_gateway, fakes, case, stream):
    fakes[case.provider].enqueue(Hostile.stall_before_headers())
    r, elapsed = call(case, fault_gateway.url, stream=stream)
    assert 0.9 < elapsed < 5, elapsed
    assert r.status_code == 504, r.text
    assert r.headers["x-request-id"]
    message = error_message(case, r.content)
    assert_names_provider(message, case.provider, fakes[case.provider].port)
    assert "sent no answer within 1 s (timeouts.first_byte)" in message
    record = log_line(fault_gateway, r.headers["x-request-id"])
    assert record["status"] == 504
    assert record["error"].startswith(f"The provider '{case.provider}' sent no answer")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_stream_silent_midway_ends_with_an_in_stream_error(fault_gateway, fakes, case):
    frames = broken_frames(case.provider, case.upstream_framing)
    fakes[case.provider].enqueue(Hostile.stall_mid_stream(frames))
    r, elapsed = call(case, fault_gateway.url, stream=True)
    assert 0.9 < elapsed < 5, elapsed
    assert r.status_code == 200
    message = stream_error(case, r.content)
    assert_names_provider(message, case.provider, fakes[case.provider].port)
    assert "sent nothing for 1 s in the middle of its stream (timeouts.idle)" in message
    assert streamed_text(case, r.content)  # what arrived before the silence got through
    record = log_line(fault_gateway, r.headers["x-request-id"])
    assert record["status"] == 200
    assert f"'{case.provider}'" in record["error"] and "timeouts.idle" in record["error"]


# ------------------------------------------------------------ broken connections


@pytest.mark.parametrize("how", ["close", "reset"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_stream_broken_midway_ends_with_an_in_stream_error(fault_gateway, fakes, case, how):
    frames = broken_frames(case.provider, case.upstream_framing)
    content_type = "application/json" if case.upstream_framing == "json_array" else None
    if how == "close":
        hostile = Hostile.close_mid_stream(frames, content_type or "text/event-stream")
    else:
        hostile = Hostile.reset(frames)
    fakes[case.provider].enqueue(hostile)
    r, _ = call(case, fault_gateway.url, stream=True)
    assert r.status_code == 200
    message = stream_error(case, r.content)
    assert_names_provider(message, case.provider, fakes[case.provider].port)
    verb = "closed" if how == "close" else "reset"
    assert f"{verb} the connection in the middle of its stream" in message
    assert streamed_text(case, r.content)


@pytest.mark.parametrize("case", SDK_CASES, ids=str)
def test_a_broken_stream_raises_the_sdks_own_error(fault_gateway, fakes, case):
    frames = broken_frames(case.provider, "sse")
    fakes[case.provider].enqueue(Hostile.close_mid_stream(frames))
    error = sdk_error(case, fault_gateway, case.model, stream=True)
    assert_names_provider(sdk_message(error), case.provider, fakes[case.provider].port)
    assert "closed the connection in the middle of its stream" in sdk_message(error)


@pytest.mark.parametrize(
    "hostile",
    [
        Hostile.reset(),
        Hostile.garbage(),
        Hostile.close_mid_body(b'{"id": "chatcmpl-1", "object": "chat.completion", "choices": []}'),
    ],
    ids=["reset", "garbage", "cut-body"],
)
@pytest.mark.parametrize("case", SDK_CASES, ids=str)
def test_a_broken_whole_answer_is_a_502_the_sdk_raises(fault_gateway, fakes, case, hostile):
    fakes[case.provider].enqueue(hostile)
    error = sdk_error(case, fault_gateway, case.model, stream=False)
    assert isinstance(
        error, openai.InternalServerError | anthropic.InternalServerError | genai_errors.ServerError
    )
    assert_names_provider(sdk_message(error), case.provider, fakes[case.provider].port)
    assert error.response.status_code == 502  # type: ignore[attr-defined]
    assert error.response.headers["x-request-id"]  # type: ignore[attr-defined]
