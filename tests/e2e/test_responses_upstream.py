"""Callers of every other format (OpenAI Chat, Anthropic Messages, Gemini) on a model served
only through the Responses API (``codex-*`` on the ``responses_only`` provider of
tests/harness.py, ``api: responses``), answered by the OpenAI fake's Responses API, which
refuses what the live API refuses: the gateway must send a valid Responses body (checked
on the fake's side) and give the caller its own format back, whole and streamed. A
Responses caller there is passed through, OpenAI keeping the state.
"""

from __future__ import annotations

import anthropic
import pytest
from google.genai import types

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.e2e.responses_support import STREAMS, sdk
from tests.fakes import Reply
from tests.fakes.openai_responses import _MESSAGE_TEXT, _SUMMARY_TEXT


def responses_sent(fakes) -> dict:
    sent = fakes["openai"].last
    assert sent.path == "/v1/responses"
    return sent.json


@STREAMS
def test_chat_caller_on_a_responses_only_model(gateway, fakes, stream):
    chat = openai_client(gateway, "/openai")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
    ]
    if stream:
        chunks = list(
            chat.chat.completions.create(model="codex-mini", messages=messages, stream=True)
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].object == "chat.completion.chunk"
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    else:
        r = chat.chat.completions.create(model="codex-mini", messages=messages)
        text = r.choices[0].message.content
        assert r.object == "chat.completion" and r.choices[0].finish_reason == "stop"
        assert r.usage.prompt_tokens > 0
    assert text == _MESSAGE_TEXT
    body = responses_sent(fakes)
    assert body["instructions"] == "Be brief." and body["store"] is False
    assert body.get("stream", False) is stream
    assert "messages" not in body


def test_chat_caller_tool_loop_with_reasoning_on_a_responses_only_model(gateway, fakes):
    chat = openai_client(gateway, "/openai")
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    messages: list[dict] = [{"role": "user", "content": "Weather in Paris?"}]
    first = chat.chat.completions.create(
        model="codex-mini", messages=messages, tools=tools, reasoning_effort="medium"
    )
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = message.tool_calls
    assert call.function.name == "get_weather"
    body = responses_sent(fakes)
    assert body["reasoning"]["effort"] == "medium"
    assert body["include"] == ["reasoning.encrypted_content"]
    messages += [
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny"},
    ]
    second = chat.chat.completions.create(
        model="codex-mini", messages=messages, tools=tools, reasoning_effort="medium"
    )
    assert second.choices[0].message.content == _MESSAGE_TEXT
    # OpenAI's own encrypted reasoning went back, and the fake (which refuses foreign or
    # rebound blobs and unpaired calls) took it.
    items = responses_sent(fakes)["input"]
    kinds = [item["type"] for item in items if "type" in item]
    assert "reasoning" in kinds and "function_call" in kinds and "function_call_output" in kinds
    reasoning = next(item for item in items if item.get("type") == "reasoning")
    assert reasoning["encrypted_content"].startswith("gAAAA")


@STREAMS
def test_messages_caller_on_a_responses_only_model(gateway, fakes, stream):
    claude = anthropic_client(gateway, "/anthropic")
    kwargs = dict(
        model="codex-mini",
        max_tokens=2000,
        system="Be brief.",
        messages=[{"role": "user", "content": "hello"}],
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    if stream:
        with claude.messages.stream(**kwargs) as events:
            message = events.get_final_message()
    else:
        message = claude.messages.create(**kwargs)
    assert message.type == "message" and message.stop_reason == "end_turn"
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == _SUMMARY_TEXT
    assert message.content[0].signature.startswith("openai_responses:gAAAA")
    assert message.content[1].text == _MESSAGE_TEXT
    body = responses_sent(fakes)
    assert body["instructions"] == "Be brief." and body["max_output_tokens"] == 2000
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    # The signed thinking goes back to OpenAI as its own reasoning item.
    history = [
        {"role": "user", "content": "hello"},
        {
            "role": "assistant",
            "content": [b.model_dump(exclude_none=True) for b in message.content],
        },
        {"role": "user", "content": "and?"},
    ]
    claude.messages.create(**{**kwargs, "messages": history})
    items = responses_sent(fakes)["input"]
    reasoning = next(item for item in items if item.get("type") == "reasoning")
    assert reasoning["encrypted_content"] == message.content[0].signature.removeprefix(
        "openai_responses:"
    )


def test_messages_caller_error_from_a_responses_only_model(gateway, fakes):
    fakes["openai"].enqueue(Reply.error("openai", 429, "Slow down."))
    with pytest.raises(anthropic.RateLimitError):
        anthropic_client(gateway, "/anthropic").messages.create(
            model="codex-mini", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )


@STREAMS
def test_gemini_caller_on_a_responses_only_model(gateway, fakes, stream):
    kwargs = dict(
        model="codex-mini",
        contents="hello",
        config=types.GenerateContentConfig(system_instruction="Be brief.", max_output_tokens=99),
    )
    models = gemini_client(gateway, "/gemini").models
    if stream:
        chunks = list(models.generate_content_stream(**kwargs))
        text = "".join(c.text or "" for c in chunks)
        assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    else:
        text = models.generate_content(**kwargs).text
    assert text == _MESSAGE_TEXT
    body = responses_sent(fakes)
    assert body["instructions"] == "Be brief." and body["max_output_tokens"] == 99
    assert body.get("stream", False) is stream


@STREAMS
def test_messages_caller_tool_loop_on_a_responses_only_model(gateway, fakes, stream):
    claude = anthropic_client(gateway, "/anthropic")
    tools = [
        {
            "name": "get_weather",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
    messages: list[dict] = [{"role": "user", "content": "Weather in Paris?"}]
    kwargs = dict(model="codex-mini", max_tokens=500, tools=tools)
    if stream:
        with claude.messages.stream(messages=messages, **kwargs) as events:
            first = events.get_final_message()
    else:
        first = claude.messages.create(messages=messages, **kwargs)
    assert first.stop_reason == "tool_use"
    (use,) = [block for block in first.content if block.type == "tool_use"]
    assert use.name == "get_weather" and use.input == {"city": "fake"}
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "Sunny"}],
        },
    ]
    second = claude.messages.create(messages=messages, **kwargs)
    assert second.content[-1].text == _MESSAGE_TEXT
    items = responses_sent(fakes)["input"]
    call = next(item for item in items if item.get("type") == "function_call")
    output = next(item for item in items if item.get("type") == "function_call_output")
    assert call["call_id"] == output["call_id"] == use.id


def test_responses_caller_on_a_responses_only_model_passes_through(gateway, fakes):
    with sdk(gateway) as client:
        r = client.responses.create(model="codex-mini", input="hi", metadata={"k": "v"})
        assert r.output_text == _MESSAGE_TEXT
        # OpenAI keeps that state itself: the gateway's store does not answer for it.
        assert responses_sent(fakes)["metadata"] == {"k": "v"}
        again = client.responses.create(model="codex-mini", input="more", previous_response_id=r.id)
        assert again.output_text == _MESSAGE_TEXT
        assert responses_sent(fakes)["previous_response_id"] == r.id
