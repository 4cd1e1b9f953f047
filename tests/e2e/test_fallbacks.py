"""Fallbacks and retries (rules.yaml ``fallbacks``, ``timeouts.retry_wait``): a model
rule's next target serves when the first fails before any byte reached the caller, in
every caller format and translated as that target's protocol needs; ``retry-after`` is
honoured within its bound; nothing is retried once the answer started (docs/faults.md).

``safe-gpt`` is OpenAI's gpt-4o-mini with Claude as its fallback, so an OpenAI caller's
fallback is translated, an Anthropic caller's passes through, and a Gemini caller's is
translated from a third protocol.
"""

from __future__ import annotations

import anthropic
import openai
import orjson
import pytest

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.e2e.faults_support import (
    CALLERS,
    Case,
    broken_frames,
    call,
    error_message,
    log_line,
    stream_error,
    streamed_text,
)
from tests.fakes import Hostile, Reply, canned
from tests.fakes.hostile import busy

USER_HI = [{"role": "user", "content": "Hi"}]
CLAUDE_TEXT = canned.anthropic_message("claude-sonnet-4-5")["content"][0]["text"]
CLAUDE_STREAM_TEXT = "".join(
    orjson.loads(frame.split(b"data: ", 1)[1]).get("delta", {}).get("text", "")
    for frame in canned.anthropic_stream("claude-sonnet-4-5")
)


def whole_text(case: Case, body: bytes) -> str:
    data = orjson.loads(body)
    if case.caller == "openai":
        return data["choices"][0]["message"]["content"]
    if case.caller == "anthropic":
        return "".join(block.get("text", "") for block in data["content"])
    return "".join(part.get("text", "") for part in data["candidates"][0]["content"]["parts"])


def converter(caller: str) -> Case:
    return Case(caller, "translated")


def assert_served_by_claude(gateway, fakes, case: Case, r, *, stream: bool) -> dict:
    assert r.status_code == 200, r.text
    assert r.headers["x-gateway-provider"] == "anthropic"
    if stream:
        assert streamed_text(case, r.content) == CLAUDE_STREAM_TEXT
    else:
        assert whole_text(case, r.content) == CLAUDE_TEXT
    assert len(fakes["anthropic"].received) == 1
    record = log_line(gateway, r.headers["x-request-id"])
    assert (record["provider"], record["model"], record["status"]) == (
        "anthropic",
        "claude-sonnet-4-5",
        200,
    )
    return record


# ------------------------------------------------------------ a fallback serves


# A whole Gemini answer has no array framing: gemini_array is a stream only.
SERVED = [(c, s) for c in CALLERS for s in (False, True) if s or c != "gemini_array"]


@pytest.mark.parametrize(("caller", "stream"), SERVED)
def test_a_fallback_serves_when_the_first_target_answers_5xx(fault_gateway, fakes, caller, stream):
    case = converter(caller)
    fakes["openai"].enqueue(Reply.error("openai", 503, "down for maintenance"))
    r, _ = call(case, fault_gateway.url, stream=stream, model="safe-gpt")
    record = assert_served_by_claude(fault_gateway, fakes, case, r, stream=stream)
    assert record["attempts"] == ["openai/gpt-4o-mini: HTTP 503"]
    assert len(fakes["openai"].received) == 1
    sent = fakes["anthropic"].last.json
    assert sent["model"] == "claude-sonnet-4-5" and sent.get("stream", False) is stream


def test_the_sdks_get_a_fallbacks_stream_as_their_own(fault_gateway, fakes):
    for _ in range(3):
        fakes["openai"].enqueue(Reply.error("openai", 500))
    stream = openai_client(fault_gateway, "/openai").chat.completions.create(
        model="safe-gpt", messages=USER_HI, stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == CLAUDE_STREAM_TEXT
    with anthropic_client(fault_gateway, "/anthropic").messages.stream(
        model="safe-gpt", max_tokens=50, messages=USER_HI
    ) as stream:
        assert stream.get_final_text() == CLAUDE_STREAM_TEXT
    chunks = gemini_client(fault_gateway, "/gemini").models.generate_content_stream(
        model="safe-gpt", contents="Hi"
    )
    assert "".join(c.text or "" for c in chunks) == CLAUDE_STREAM_TEXT
    assert len(fakes["anthropic"].received) == 3


@pytest.mark.parametrize(
    "failure",
    [
        Hostile.stall_before_headers(),
        Hostile.reset(),
        Hostile.garbage(),
        Hostile.close_mid_body(orjson.dumps(canned.openai_completion("gpt-4o-mini"))),
    ],
    ids=["first-byte-timeout", "reset", "garbage", "whole-answer-cut"],
)
def test_each_failure_before_the_answer_moves_on(fault_gateway, fakes, failure):
    case = converter("openai")
    fakes["openai"].enqueue(failure)
    r, elapsed = call(case, fault_gateway.url, stream=False, model="safe-gpt")
    record = assert_served_by_claude(fault_gateway, fakes, case, r, stream=False)
    assert len(record["attempts"]) == 1
    assert record["attempts"][0].startswith("openai/gpt-4o-mini: ")
    assert elapsed < 3


def test_unreachable_targets_are_skipped_in_order(fault_gateway, fakes):
    case = converter("anthropic")
    r, _ = call(case, fault_gateway.url, stream=True, model="dead-then-safe")
    record = assert_served_by_claude(fault_gateway, fakes, case, r, stream=True)
    assert record["attempts"] == [
        "down-openai/gpt-4o: could not be reached: the connection was refused",
        "down-gemini/gemini-2.5-flash: could not be reached: the connection was refused",
    ]


def test_when_every_target_fails_the_last_answer_is_the_callers(fault_gateway, fakes):
    fakes["openai"].enqueue(Reply.error("openai", 503, "openai is down"))
    fakes["anthropic"].enqueue(Reply.error("anthropic", 500, "claude is down too"))
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client(fault_gateway, "/openai").chat.completions.create(
            model="safe-gpt", messages=USER_HI
        )
    assert "claude is down too" in caught.value.message
    assert caught.value.response.headers["x-gateway-provider"] == "anthropic"


def test_a_native_route_only_falls_back_to_its_own_protocol(fault_gateway, fakes):
    # safe-native-gpt: fallbacks [anthropic/..., backup/gpt-4o]. A native route never
    # converts, so Claude is skipped and the second OpenAI-compatible provider serves.
    fakes["openai"].enqueue(Reply.error("openai", 502))
    reply = openai_client(fault_gateway).chat.completions.with_raw_response.create(
        model="safe-native-gpt", messages=USER_HI
    )
    assert reply.headers["x-gateway-provider"] == "backup"
    assert reply.parse().choices[0].message.content
    assert [r.json["model"] for r in fakes["openai"].received] == ["gpt-4o-mini", "gpt-4o"]
    assert fakes["anthropic"].received == []
    record = log_line(fault_gateway, reply.headers["x-request-id"])
    assert record["provider"] == "backup"
    assert record["attempts"] == [
        "openai/gpt-4o-mini: HTTP 502",
        "anthropic/claude-sonnet-4-5: skipped, cannot serve this request",
    ]


# ------------------------------------------------------------------ retry-after


def test_retry_after_within_the_bound_retries_the_same_target(fault_gateway, fakes):
    fakes["openai"].enqueue(busy("openai", 429, "1"))
    case = converter("openai")
    r, elapsed = call(case, fault_gateway.url, stream=False, model="safe-gpt")
    assert r.status_code == 200, r.text
    assert r.headers["x-gateway-provider"] == "openai"
    assert 1.0 <= elapsed < 3
    assert len(fakes["openai"].received) == 2 and fakes["anthropic"].received == []
    record = log_line(fault_gateway, r.headers["x-request-id"])
    assert record["attempts"] == ["openai/gpt-4o-mini: HTTP 429"]


def test_retry_after_beyond_the_bound_falls_back_at_once(fault_gateway, fakes):
    fakes["openai"].enqueue(busy("openai", 429, "30"))
    case = converter("gemini")
    r, elapsed = call(case, fault_gateway.url, stream=True, model="safe-gpt")
    assert_served_by_claude(fault_gateway, fakes, case, r, stream=True)
    assert elapsed < 1


def test_the_bound_is_on_the_total_wait(fault_gateway, fakes):
    # retry_wait is 3 s: the first retry-after of 2 s is waited, a second would pass 3 s.
    fakes["openai"].enqueue(busy("openai", 503, "2"), busy("openai", 503, "2"))
    case = converter("openai")
    r, elapsed = call(case, fault_gateway.url, stream=False, model="safe-gpt")
    assert_served_by_claude(fault_gateway, fakes, case, r, stream=False)
    assert 2.0 <= elapsed < 3.5
    assert len(fakes["openai"].received) == 2


def test_without_fallbacks_the_providers_429_reaches_the_caller(fault_gateway, fakes):
    # The caller's SDK retries on retry-after itself; the gateway does not retry under it.
    fakes["openai"].enqueue(busy("openai", 429, "1"))
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(fault_gateway).chat.completions.create(model="gpt-4o-mini", messages=USER_HI)
    assert caught.value.response.headers["retry-after"] == "1"
    assert len(fakes["openai"].received) == 1


# ------------------------------------------------------ nothing is retried midway


@pytest.mark.parametrize("caller", CALLERS)
def test_nothing_is_retried_once_the_stream_started(fault_gateway, fakes, caller):
    case = converter(caller)
    fakes["openai"].enqueue(Hostile.close_mid_stream(broken_frames("openai", "sse")))
    r, _ = call(case, fault_gateway.url, stream=True, model="safe-gpt")
    assert r.status_code == 200
    assert r.headers["x-gateway-provider"] == "openai"
    assert streamed_text(case, r.content)  # the first target's tokens reached the caller
    assert "'openai' closed the connection" in stream_error(case, r.content)
    assert fakes["anthropic"].received == []


def test_a_stalled_stream_is_not_resumed_elsewhere(fault_gateway, fakes):
    fakes["openai"].enqueue(Hostile.stall_mid_stream(broken_frames("openai", "sse")))
    with (
        anthropic_client(fault_gateway, "/anthropic").messages.stream(
            model="safe-gpt", max_tokens=50, messages=USER_HI
        ) as stream,
        pytest.raises(anthropic.APIStatusError) as caught,
    ):
        stream.get_final_text()
    assert "'openai' sent nothing for 1 s" in caught.value.message
    assert fakes["anthropic"].received == []


def test_a_fault_answer_is_in_the_callers_format_after_every_target_failed(fault_gateway, fakes):
    fakes["openai"].enqueue(Hostile.reset())
    fakes["anthropic"].enqueue(Hostile.stall_before_headers())
    case = converter("gemini")
    r, _ = call(case, fault_gateway.url, stream=False, model="safe-gpt")
    assert r.status_code == 504
    assert "'anthropic' sent no answer within 1 s" in error_message(case, r.content)
    record = log_line(fault_gateway, r.headers["x-request-id"])
    assert record["attempts"] == ["openai/gpt-4o-mini: reset the connection before answering"]
