"""Every caller format against every upstream protocol on the converter routes, streamed
and not, with the official SDKs as callers and real provider payloads as answers.

Expected values are read straight from the spec examples the fake upstream replays, so
a translation that loses text, a stop reason or a token count fails here.
"""

from __future__ import annotations

import time
from pathlib import Path

import anthropic
import openai
import orjson
import pytest
from google.genai import errors as genai_errors
from google.genai import types

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes import Reply
from translators.sse import SSEDecoder

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"

CALLERS = ["openai", "anthropic", "gemini"]
UPSTREAMS = {
    "openai": (
        "gpt-4o-mini",
        "openai_chat/response_text_2026.json",
        "openai_chat/stream_text_with_usage.sse",
    ),
    "anthropic": ("claude-sonnet-4-5", "anthropic/response_text.json", "anthropic/stream_text.sse"),
    "gemini": ("gemini-2.5-flash", "gemini/response_text.json", "gemini/stream_text.sse"),
}
PAIRS = [(c, u) for c in CALLERS for u in UPSTREAMS if c != u]
SYSTEM = "Answer briefly."
QUESTION = "Where is Google's headquarters?"


def example_text_and_usage(upstream: str, stream: bool) -> tuple[str, int, int]:
    """(text, inclusive input tokens, inclusive output tokens) of the example replayed."""
    _, unary, streamed = UPSTREAMS[upstream]
    if not stream:
        payloads = [orjson.loads((SPEC / unary).read_bytes())]
    else:
        decoder = SSEDecoder()
        events = decoder.feed((SPEC / streamed).read_bytes() + b"\n\n") + decoder.finish()
        payloads = [orjson.loads(e.data) for e in events if e.data != b"[DONE]"]
    text, tokens_in, tokens_out = "", 0, 0
    for p in payloads:
        if upstream == "openai":
            for choice in p.get("choices", []):
                text += (choice.get("message") or choice.get("delta") or {}).get("content") or ""
            if p.get("usage"):
                tokens_in, tokens_out = p["usage"]["prompt_tokens"], p["usage"]["completion_tokens"]
        elif upstream == "anthropic":
            message = p.get("message", p)
            for block in message.get("content", []):
                text += block.get("text", "")
            if p.get("type") == "content_block_delta":
                text += p["delta"].get("text", "")
            usage = p.get("usage") or message.get("usage") or {}
            if "input_tokens" in usage:
                tokens_in = (
                    usage["input_tokens"]
                    + (usage.get("cache_read_input_tokens") or 0)
                    + (usage.get("cache_creation_input_tokens") or 0)
                )
            if "output_tokens" in usage:
                tokens_out = usage["output_tokens"]
        else:
            for candidate in p.get("candidates", []):
                text += "".join(part.get("text", "") for part in candidate["content"]["parts"])
            meta = p.get("usageMetadata", {})
            tokens_in = meta.get("promptTokenCount", tokens_in)
            tokens_out = meta.get("candidatesTokenCount", 0) + meta.get("thoughtsTokenCount", 0)
    return text, tokens_in, tokens_out


def call(caller: str, gateway, model: str, stream: bool) -> tuple[str, str, int, int]:
    """Make the call with the caller's SDK: (text, stop reason, input, output tokens)."""
    if caller == "openai":
        client = openai_client(gateway, "/openai")
        kwargs = dict(
            model=model,
            temperature=0,
            max_completion_tokens=300,
            stop=["END"],
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        )
        if not stream:
            r = client.chat.completions.create(**kwargs)
            return (
                r.choices[0].message.content,
                r.choices[0].finish_reason,
                r.usage.prompt_tokens,
                r.usage.completion_tokens,
            )
        chunks = list(
            client.chat.completions.create(
                **kwargs, stream=True, stream_options={"include_usage": True}
            )
        )
        assert chunks[0].choices[0].delta.role == "assistant"
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [
            c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
        ]
        assert len(finish) == 1
        assert chunks[-1].choices == [] and chunks[-1].usage is not None
        return text, finish[0], chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens
    if caller == "anthropic":
        client = anthropic_client(gateway, "/anthropic")
        kwargs = dict(
            model=model,
            max_tokens=300,
            system=SYSTEM,
            stop_sequences=["END"],
            messages=[{"role": "user", "content": QUESTION}],
            extra_body={"temperature": 0},
        )
        if stream:
            with client.messages.stream(**kwargs) as s:
                m = s.get_final_message()
        else:
            m = client.messages.create(**kwargs)
        u = m.usage
        total_in = (
            u.input_tokens + (u.cache_read_input_tokens or 0) + (u.cache_creation_input_tokens or 0)
        )
        return (
            "".join(b.text for b in m.content if b.type == "text"),
            m.stop_reason,
            total_in,
            (u.output_tokens),
        )
    client = gemini_client(gateway, "/gemini")
    config = types.GenerateContentConfig(
        system_instruction=SYSTEM, temperature=0, max_output_tokens=300, stop_sequences=["END"]
    )
    if not stream:
        r = client.models.generate_content(model=model, contents=QUESTION, config=config)
        meta = r.usage_metadata
        return (
            r.text,
            r.candidates[0].finish_reason.value,
            meta.prompt_token_count,
            (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0),
        )
    chunks = list(
        client.models.generate_content_stream(model=model, contents=QUESTION, config=config)
    )
    text = "".join(c.text or "" for c in chunks)
    finish = [
        c.candidates[0].finish_reason.value
        for c in chunks
        if c.candidates and c.candidates[0].finish_reason
    ]
    meta = chunks[-1].usage_metadata
    return (
        text,
        finish[-1],
        meta.prompt_token_count,
        (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0),
    )


NATURAL_END = {"openai": "stop", "anthropic": "end_turn", "gemini": "STOP"}


def check_upstream_request(upstream: str, got: dict, stream: bool) -> None:
    """The translated request carries the system prompt, explicit 0, budget and stops."""
    if upstream == "openai":
        assert got["messages"][0] == {"role": "system", "content": SYSTEM}
        assert got["messages"][1]["role"] == "user"
        assert got["temperature"] == 0
        assert 300 in (got.get("max_tokens"), got.get("max_completion_tokens"))
        assert got["stop"] == ["END"]
        assert got.get("stream", False) is stream
    elif upstream == "anthropic":
        assert got["system"] in (SYSTEM, [{"type": "text", "text": SYSTEM}])
        assert got["messages"][0]["role"] == "user"
        assert got["temperature"] == 0
        assert got["max_tokens"] == 300
        assert got["stop_sequences"] == ["END"]
        assert got.get("stream", False) is stream
    else:
        assert got["systemInstruction"]["parts"] == [{"text": SYSTEM}]
        assert got["contents"][0]["role"] == "user"
        config = got["generationConfig"]
        assert config["temperature"] == 0
        assert config["maxOutputTokens"] == 300
        assert config["stopSequences"] == ["END"]


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
@pytest.mark.parametrize(("caller", "upstream"), PAIRS)
def test_text_conversation(gateway, fakes, caller, upstream, stream):
    model, unary, streamed = UPSTREAMS[upstream]
    fakes[upstream].enqueue(Reply.example(streamed if stream else unary))
    text, stop, tokens_in, tokens_out = call(caller, gateway, model, stream)
    want_text, want_in, want_out = example_text_and_usage(upstream, stream)
    assert text == want_text
    assert stop == NATURAL_END[caller]
    assert (tokens_in, tokens_out) == (want_in, want_out)
    got = fakes[upstream].last
    check_upstream_request(upstream, got.json, stream)
    if upstream == "gemini":
        method = "streamGenerateContent" if stream else "generateContent"
        assert got.path == f"/v1beta/models/{model}:{method}"


ERROR_CASES = [400, 401, 403, 404, 429, 500, 503]
OPENAI_ERRORS = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    503: openai.InternalServerError,
}
ANTHROPIC_ERRORS = {
    400: anthropic.BadRequestError,
    401: anthropic.AuthenticationError,
    403: anthropic.PermissionDeniedError,
    404: anthropic.NotFoundError,
    429: anthropic.RateLimitError,
    500: anthropic.InternalServerError,
    503: getattr(anthropic, "OverloadedError", anthropic.APIStatusError),
}


@pytest.mark.parametrize("status", ERROR_CASES)
@pytest.mark.parametrize(("caller", "upstream"), PAIRS)
def test_upstream_errors_raise_the_callers_exception(gateway, fakes, caller, upstream, status):
    model = UPSTREAMS[upstream][0]
    upstream_status = 529 if (upstream == "anthropic" and status == 503) else status
    fakes[upstream].enqueue(Reply.error(upstream, upstream_status, "upstream says no"))
    if caller == "openai":
        with pytest.raises(OPENAI_ERRORS[status]) as caught:
            openai_client(gateway, "/openai").chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hi"}]
            )
        assert "upstream says no" in caught.value.message
    elif caller == "anthropic":
        with pytest.raises(ANTHROPIC_ERRORS[status]) as caught:
            anthropic_client(gateway, "/anthropic").messages.create(
                model=model, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
        assert "upstream says no" in caught.value.message
        if status == 503:
            assert caught.value.status_code == 529
    else:
        expected = genai_errors.ClientError if status < 500 else genai_errors.ServerError
        with pytest.raises(expected) as caught:
            gemini_client(gateway, "/gemini").models.generate_content(model=model, contents="hi")
        assert caught.value.code == status
        assert "upstream says no" in caught.value.message


ANTHROPIC_OVERLOADED_MID_STREAM = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
    b'"role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,'
    b'"usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hel"}}\n\n'
    b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
    b'"message":"Overloaded"}}\n\n'
)


@pytest.mark.parametrize("caller", ["openai", "gemini"])
def test_mid_stream_error_becomes_the_callers_stream_error(gateway, fakes, caller):
    fakes["anthropic"].enqueue(Reply.sse(ANTHROPIC_OVERLOADED_MID_STREAM))
    if caller == "openai":
        stream = openai_client(gateway, "/openai").chat.completions.create(
            model="claude-x", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        with pytest.raises(openai.APIError) as caught:
            list(stream)
        assert "Overloaded" in str(caught.value)
        # The line is written once mitmproxy saw the stream's end, which may be just after
        # the SDK raised on the error event.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            log = gateway.log().splitlines()
            if [x for x in log if "gateway {" in x and "Overloaded" in x]:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("a stream that failed after its 200 must say so in the log line")
    else:
        stream = gemini_client(gateway, "/gemini").models.generate_content_stream(
            model="claude-x", contents="hi"
        )
        with pytest.raises(genai_errors.APIError) as caught:
            list(stream)
        assert "Overloaded" in str(caught.value)


def test_stream_cut_short_is_an_error_not_a_silent_success(gateway, fakes):
    truncated = ANTHROPIC_OVERLOADED_MID_STREAM.rsplit(b"event: error", 1)[0]
    fakes["anthropic"].enqueue(Reply.sse(truncated))
    stream = openai_client(gateway, "/openai").chat.completions.create(
        model="claude-x", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError):
        list(stream)


def test_openai_mid_stream_error_reaches_anthropic_sdk(gateway, fakes):
    frames = (
        b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-x",'
        b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},'
        b'"finish_reason":null}]}\n\n'
        b'data: {"error":{"message":"The server had an error","type":"server_error",'
        b'"param":null,"code":null}}\n\n'
    )
    fakes["openai"].enqueue(Reply.sse(frames))
    with pytest.raises(anthropic.APIStatusError) as caught:  # noqa: SIM117
        with anthropic_client(gateway, "/anthropic").messages.stream(
            model="gpt-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        ) as s:
            s.get_final_message()
    assert "The server had an error" in str(caught.value)
