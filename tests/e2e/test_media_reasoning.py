"""Images, documents, audio, structured output, reasoning and prompt caching across
protocols, checked on both sides: what the SDK returns and what the upstream received."""

from __future__ import annotations

import base64

import openai
import orjson
import pytest
from google.genai import types

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes import Reply

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image bytes").decode()
PDF = base64.b64encode(b"%PDF-1.4 fake document").decode()
WAV = base64.b64encode(b"RIFF fake wav").decode()
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def user_parts_openai() -> list[dict]:
    return [
        {"type": "text", "text": "Describe these."},
        {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "high"},
        },
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        {
            "type": "file",
            "file": {"filename": "a.pdf", "file_data": f"data:application/pdf;base64,{PDF}"},
        },
    ]


# ------------------------------------------------------------------ media


def test_openai_images_and_pdf_to_anthropic(gateway, fakes):
    openai_client(gateway, "/openai").chat.completions.create(
        model="claude-x", messages=[{"role": "user", "content": user_parts_openai()}]
    )
    blocks = fakes["anthropic"].last.json["messages"][0]["content"]
    assert blocks[0] == {"type": "text", "text": "Describe these."}
    assert blocks[1]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}
    assert blocks[2]["source"] == {"type": "url", "url": "https://example.com/cat.jpg"}
    assert blocks[3]["type"] == "document"
    assert blocks[3]["source"] == {"type": "base64", "media_type": "application/pdf", "data": PDF}


def test_openai_images_pdf_and_audio_to_gemini(gateway, fakes):
    parts = [
        *user_parts_openai(),
        {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}},
    ]
    openai_client(gateway, "/openai").chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": parts}]
    )
    got = fakes["gemini"].last.json["contents"][0]["parts"]
    assert got[0] == {"text": "Describe these."}
    assert got[1]["inlineData"] == {"mimeType": "image/png", "data": PNG}
    assert got[2]["fileData"] == {
        "mimeType": "image/jpeg",
        "fileUri": "https://example.com/cat.jpg",
    }
    assert got[3]["inlineData"] == {"mimeType": "application/pdf", "data": PDF}
    assert got[4]["inlineData"]["mimeType"] in ("audio/wav", "audio/x-wav")
    assert got[4]["inlineData"]["data"] == WAV


def test_audio_to_anthropic_is_a_clear_400(gateway, fakes):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(gateway, "/openai").chat.completions.create(
            model="claude-x",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}}
                    ],
                }
            ],
        )
    assert "audio" in caught.value.message.lower()
    assert fakes["anthropic"].received == []


def test_anthropic_image_and_document_to_openai(gateway, fakes):
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
        },
        {"type": "text", "text": "What is this?"},
    ]
    anthropic_client(gateway, "/anthropic").messages.create(
        model="gpt-4o", max_tokens=50, messages=[{"role": "user", "content": content}]
    )
    parts = fakes["openai"].last.json["messages"][0]["content"]
    assert parts[0]["image_url"]["url"] == f"data:image/png;base64,{PNG}"
    assert parts[1]["type"] == "file"
    assert parts[1]["file"]["file_data"] == f"data:application/pdf;base64,{PDF}"
    assert parts[2] == {"type": "text", "text": "What is this?"}


def test_gemini_inline_image_to_anthropic(gateway, fakes):
    client = gemini_client(gateway, "/gemini")
    client.models.generate_content(
        model="claude-x",
        contents=[
            types.Content(
                role="user",
                parts=[
                    types.Part(
                        inline_data=types.Blob(mime_type="image/png", data=base64.b64decode(PNG))
                    ),
                    types.Part(text="What is it?"),
                ],
            )
        ],
    )
    blocks = fakes["anthropic"].last.json["messages"][0]["content"]
    assert blocks[0]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}
    assert blocks[1] == {"type": "text", "text": "What is it?"}


def test_image_inside_a_tool_result_is_not_dropped(gateway, fakes):
    messages = [
        {"role": "user", "content": "Take a screenshot"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "screenshot", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [
                        {"type": "text", "text": "Here it is"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                        },
                    ],
                }
            ],
        },
    ]
    tools = [{"name": "screenshot", "input_schema": {"type": "object"}}]
    anthropic_client(gateway, "/anthropic").messages.create(
        model="gpt-4o", max_tokens=50, messages=messages, tools=tools
    )
    sent = orjson.dumps(fakes["openai"].last.json).decode()
    assert PNG in sent and "Here it is" in sent
    anthropic_client(gateway, "/anthropic").messages.create(
        model="gemini-2.5-flash", max_tokens=50, messages=messages, tools=tools
    )
    sent = orjson.dumps(fakes["gemini"].last.json).decode()
    assert PNG in sent and "Here it is" in sent


# ------------------------------------------------------------ structured output


def test_json_schema_response_format_to_gemini_and_anthropic(gateway, fakes):
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
    }
    client = openai_client(gateway, "/openai")
    client.chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "hi"}],
        response_format=response_format,
    )
    config = fakes["gemini"].last.json["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert (config.get("responseJsonSchema") or config.get("responseSchema"))["required"] == [
        "answer"
    ]
    client.chat.completions.create(
        model="claude-x",
        messages=[{"role": "user", "content": "hi"}],
        response_format=response_format,
    )
    got = fakes["anthropic"].last.json
    assert got["output_config"]["format"] == {"type": "json_schema", "schema": SCHEMA}
    assert "tools" not in got  # native structured output, no forced tool


def test_gemini_response_schema_to_openai(gateway, fakes):
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_json_schema=SCHEMA
    )
    gemini_client(gateway, "/gemini").models.generate_content(
        model="gpt-4o", contents="hi", config=config
    )
    fmt = fakes["openai"].last.json["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["required"] == ["answer"]


# -------------------------------------------------------------------- reasoning


def test_reasoning_effort_maps_to_thinking_budgets(gateway, fakes):
    client = openai_client(gateway, "/openai")
    client.chat.completions.create(
        model="claude-x",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="high",
        max_tokens=32000,
    )
    thinking = fakes["anthropic"].last.json["thinking"]
    assert thinking["type"] == "enabled" and 1024 <= thinking["budget_tokens"] < 32000
    client.chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="low",
    )
    # Gemini 2.5 takes a token budget; thinkingLevel is a Gemini 3 field.
    assert fakes["gemini"].last.json["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 2048
    }


def test_anthropic_thinking_budget_to_gemini(gateway, fakes):
    anthropic_client(gateway, "/anthropic").messages.create(
        model="gemini-2.5-flash",
        max_tokens=4096,
        messages=[{"role": "user", "content": "hi"}],
        thinking={"type": "enabled", "budget_tokens": 2048},
    )
    config = fakes["gemini"].last.json["generationConfig"]["thinkingConfig"]
    assert config["thinkingBudget"] == 2048
    assert config["includeThoughts"] is True


ANTHROPIC_THINKING = {
    "id": "msg_th",
    "type": "message",
    "role": "assistant",
    "model": "claude-x",
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "content": [
        {"type": "thinking", "thinking": "Let me think.", "signature": "EqQBCkYIARgCIkB+sig=="},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3redacted"},
        {"type": "text", "text": "42"},
    ],
    "usage": {
        "input_tokens": 10,
        "cache_read_input_tokens": 100,
        "cache_creation_input_tokens": 50,
        "output_tokens": 30,
    },
}


def test_anthropic_thinking_reaches_openai_caller_and_goes_back_byte_exact(gateway, fakes):
    fakes["anthropic"].enqueue(Reply.json(ANTHROPIC_THINKING))
    client = openai_client(gateway, "/openai")
    r = client.chat.completions.create(
        model="claude-x", messages=[{"role": "user", "content": "q"}]
    )
    message = r.choices[0].message
    assert message.content == "42"
    extra = message.model_extra
    assert extra["reasoning_content"] == "Let me think."
    assert [b["type"] for b in extra["thinking_blocks"]] == ["thinking", "redacted_thinking"]
    # Cached tokens are inside prompt_tokens for OpenAI, outside input_tokens for Anthropic.
    assert r.usage.prompt_tokens == 160
    assert r.usage.prompt_tokens_details.cached_tokens == 100

    history = [
        {"role": "user", "content": "q"},
        message.model_dump(exclude_none=True),
        {"role": "user", "content": "and?"},
    ]
    client.chat.completions.create(model="claude-x", messages=history, max_tokens=3000)
    sent = fakes["anthropic"].last.json["messages"][1]["content"]
    assert sent[0] == ANTHROPIC_THINKING["content"][0]
    assert sent[1] == ANTHROPIC_THINKING["content"][1]
    assert sent[2] == {"type": "text", "text": "42"}

    # The same history sent to another provider carries no Anthropic state.
    client.chat.completions.create(model="gemini-2.5-flash", messages=history)
    sent = orjson.dumps(fakes["gemini"].last.json).decode()
    assert "EqQBCkYIARgCIkB" not in sent and "redacted" not in sent


def test_anthropic_thinking_stream_to_openai_reasoning_deltas(gateway, fakes):
    fakes["anthropic"].enqueue(Reply.example("anthropic/stream_docs_extended_thinking.sse"))
    chunks = list(
        openai_client(gateway, "/openai").chat.completions.create(
            model="claude-x", messages=[{"role": "user", "content": "q"}], stream=True
        )
    )
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
        for c in chunks
        if c.choices
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning and text


GEMINI_THOUGHTS = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {
                        "text": "Thinking about it",
                        "thought": True,
                        "thoughtSignature": "dGhvdWdodC1zaWc=",
                    },
                    {"text": "Paris."},
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 20,
        "cachedContentTokenCount": 8,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 40,
        "totalTokenCount": 65,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "r-th",
}


def test_gemini_thoughts_reach_anthropic_caller_and_go_back(gateway, fakes):
    fakes["gemini"].enqueue(Reply.json(GEMINI_THOUGHTS))
    client = anthropic_client(gateway, "/anthropic")
    m = client.messages.create(
        model="gemini-2.5-flash", max_tokens=100, messages=[{"role": "user", "content": "q"}]
    )
    assert [b.type for b in m.content] == ["thinking", "text"]
    assert m.content[0].thinking == "Thinking about it"
    assert m.content[1].text == "Paris."
    assert m.usage.output_tokens == 45  # thoughts count as output for Anthropic
    assert m.usage.input_tokens + m.usage.cache_read_input_tokens == 20
    assert m.usage.cache_read_input_tokens == 8

    history = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
        {"role": "user", "content": "and?"},
    ]
    client.messages.create(model="gemini-2.5-flash", max_tokens=100, messages=history)
    model_turn = fakes["gemini"].last.json["contents"][1]
    assert model_turn["parts"][0]["thought"] is True
    assert model_turn["parts"][0]["thoughtSignature"] == "dGhvdWdodC1zaWc="
    assert model_turn["parts"][-1]["text"] == "Paris."

    # Sent to Claude instead, the Gemini thought is not presented as a Claude signature.
    client.messages.create(model="claude-x", max_tokens=100, messages=history)
    sent = fakes["anthropic"].last.json["messages"][1]["content"]
    if isinstance(sent, str):
        sent = [{"type": "text", "text": sent}]
    assert [b["type"] for b in sent] == ["text"]
    assert sent[0]["text"] == "Paris."


def test_gemini_reasoning_tokens_in_openai_usage(gateway, fakes):
    fakes["gemini"].enqueue(Reply.json(GEMINI_THOUGHTS))
    r = openai_client(gateway, "/openai").chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "q"}]
    )
    assert r.usage.prompt_tokens == 20
    assert r.usage.completion_tokens == 45
    assert r.usage.completion_tokens_details.reasoning_tokens == 40
    assert r.usage.prompt_tokens_details.cached_tokens == 8
    assert r.usage.total_tokens == 65


def test_deepseek_reasoning_content_to_anthropic_caller(gateway, fakes):
    fakes["openai"].enqueue(
        Reply.json(
            {
                "id": "c1",
                "object": "chat.completion",
                "created": 1,
                "model": "deepseek-reasoner",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": "4",
                            "reasoning_content": "2+2 is 4",
                        },
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
            }
        )
    )
    m = anthropic_client(gateway, "/anthropic").messages.create(
        model="compat/deepseek-reasoner",
        max_tokens=50,
        messages=[{"role": "user", "content": "2+2?"}],
    )
    assert [b.type for b in m.content] == ["thinking", "text"]
    assert m.content[0].thinking == "2+2 is 4"
    # DeepSeek wants its reasoning back on the next turn; the origin rode in the signature.
    history = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
        {"role": "user", "content": "and 3+3?"},
    ]
    anthropic_client(gateway, "/anthropic").messages.create(
        model="compat/deepseek-reasoner", max_tokens=50, messages=history
    )
    assistant = fakes["openai"].last.json["messages"][1]
    assert assistant["reasoning_content"] == "2+2 is 4" and assistant["content"] == "4"


# ---------------------------------------------------------------- prompt caching


def test_cache_markers_dropped_for_other_providers(gateway, fakes):
    system = [
        {
            "type": "text",
            "text": "Long stable prefix",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
    for model, fake in (("gpt-4o", "openai"), ("gemini-2.5-flash", "gemini")):
        m = anthropic_client(gateway, "/anthropic").messages.create(
            model=model, max_tokens=50, system=system, messages=[{"role": "user", "content": "hi"}]
        )
        assert m.content[0].text
        sent = orjson.dumps(fakes[fake].last.json).decode()
        assert (
            "Long stable prefix" in sent and "cache_control" not in sent and "ephemeral" not in sent
        )


def test_cache_markers_kept_for_anthropic(gateway, fakes):
    system = [
        {
            "type": "text",
            "text": "Long stable prefix",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
    client = anthropic_client(gateway, "/anthropic")
    client.messages.create(
        model="claude-x", max_tokens=50, system=system, messages=[{"role": "user", "content": "hi"}]
    )
    assert fakes["anthropic"].last.json["system"] == system


def test_refusal_and_max_tokens_stop_reasons(gateway, fakes):
    refusal = dict(ANTHROPIC_THINKING, content=[], stop_reason="refusal")
    fakes["anthropic"].enqueue(Reply.json(refusal))
    r = openai_client(gateway, "/openai").chat.completions.create(
        model="claude-x", messages=[{"role": "user", "content": "q"}]
    )
    assert r.choices[0].finish_reason == "content_filter"
    truncated = dict(GEMINI_THOUGHTS)
    truncated["candidates"] = [dict(GEMINI_THOUGHTS["candidates"][0], finishReason="MAX_TOKENS")]
    fakes["gemini"].enqueue(Reply.json(truncated))
    m = anthropic_client(gateway, "/anthropic").messages.create(
        model="gemini-2.5-flash", max_tokens=10, messages=[{"role": "user", "content": "q"}]
    )
    assert m.stop_reason == "max_tokens"


# ------------------------------------------- structured output through a forced tool

JSON_TOOL_ANSWER = {
    "id": "msg_json",
    "type": "message",
    "role": "assistant",
    "model": "claude-3-haiku",
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "content": [
        {"type": "tool_use", "id": "toolu_j", "name": "json_response", "input": {"answer": "42"}}
    ],
    "usage": {"input_tokens": 10, "output_tokens": 5},
}


def json_tool_stream() -> bytes:
    events = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {**JSON_TOOL_ANSWER, "content": [], "stop_reason": None},
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_j",
                    "name": "json_response",
                    "input": {},
                },
            },
        ),
        *[
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": p},
                },
            )
            for p in ['{"ans', 'wer": ', '"42"}']
        ],
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 5},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return b"".join(
        b"event: " + n.encode() + b"\ndata: " + orjson.dumps(d) + b"\n\n" for n, d in events
    )


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_structured_output_through_a_forced_tool(gateway, fakes, stream):
    response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}}
    fakes["anthropic"].enqueue(
        Reply.sse(json_tool_stream()) if stream else Reply.json(JSON_TOOL_ANSWER)
    )
    client = openai_client(gateway, "/openai")
    kwargs = dict(
        model="claude-3-haiku",
        messages=[{"role": "user", "content": "q"}],
        response_format=response_format,
    )
    if stream:
        chunks = list(client.chat.completions.create(**kwargs, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [
            c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
        ]
        assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
    else:
        r = client.chat.completions.create(**kwargs)
        text, finish = r.choices[0].message.content, [r.choices[0].finish_reason]
        assert r.choices[0].message.tool_calls is None
    assert orjson.loads(text) == {"answer": "42"}
    assert finish == ["stop"]
    got = fakes["anthropic"].last.json
    assert "output_config" not in got
    assert got["tools"] == [
        {
            "name": "json_response",
            "description": "Give the final answer as this JSON object.",
            "input_schema": SCHEMA,
        }
    ]
    assert got["tool_choice"]["type"] == "tool" and got["tool_choice"]["name"] == "json_response"


def test_forced_json_tool_never_collides_with_callers_tools(gateway, fakes):
    openai_client(gateway, "/openai").chat.completions.create(
        model="claude-3-haiku",
        messages=[{"role": "user", "content": "q"}],
        tools=[{"type": "function", "function": {"name": "json_response"}}],
        response_format={"type": "json_object"},
    )
    got = fakes["anthropic"].last.json
    assert [t["name"] for t in got["tools"]] == ["json_response", "json_response_"]
    assert got["tool_choice"]["type"] == "any"  # the caller's tool stays callable


def test_anthropic_thinking_through_a_gemini_caller_and_back(gateway, fakes):
    fakes["anthropic"].enqueue(Reply.json(ANTHROPIC_THINKING))
    client = gemini_client(gateway, "/gemini")
    r = client.models.generate_content(model="claude-x", contents="q")
    parts = r.candidates[0].content.parts
    assert [bool(p.thought) for p in parts] == [True, True, False]
    assert parts[0].text == "Let me think." and parts[2].text == "42"

    history = [
        types.Content(role="user", parts=[types.Part(text="q")]),
        r.candidates[0].content,
        types.Content(role="user", parts=[types.Part(text="and?")]),
    ]
    client.models.generate_content(model="claude-x", contents=history)
    sent = fakes["anthropic"].last.json["messages"][1]["content"]
    assert sent[:2] == ANTHROPIC_THINKING["content"][:2]  # signature and redacted data exact
    assert sent[2] == {"type": "text", "text": "42"}


def test_gemini_thoughts_through_an_openai_caller_and_back(gateway, fakes):
    fakes["gemini"].enqueue(Reply.json(GEMINI_THOUGHTS))
    client = openai_client(gateway, "/openai")
    r = client.chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "q"}]
    )
    message = r.choices[0].message
    assert message.content == "Paris."
    assert message.model_extra["reasoning_content"] == "Thinking about it"
    history = [
        {"role": "user", "content": "q"},
        message.model_dump(exclude_none=True),
        {"role": "user", "content": "and?"},
    ]
    client.chat.completions.create(model="gemini-2.5-flash", messages=history)
    model_turn = fakes["gemini"].last.json["contents"][1]
    assert model_turn["parts"][0] == {
        "text": "Thinking about it",
        "thought": True,
        "thoughtSignature": "dGhvdWdodC1zaWc=",
    }
    assert model_turn["parts"][-1]["text"] == "Paris."


def test_deepseek_reasoning_goes_back_to_deepseek(gateway, fakes):
    history = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4", "reasoning_content": "2+2 is 4"},
        {"role": "user", "content": "and 3+3?"},
    ]
    openai_client(gateway, "/openai").chat.completions.create(
        model="compat/deepseek-reasoner", messages=history
    )
    assert fakes["openai"].last.json["messages"][1]["reasoning_content"] == "2+2 is 4"


def test_openai_callers_part_cache_markers_reach_claude(gateway, fakes):
    marker = {"type": "ephemeral", "ttl": "1h"}
    openai_client(gateway, "/openai").chat.completions.create(
        model="claude-x",
        messages=[
            {
                "role": "system",
                "content": [
                    {"type": "text", "text": "Long stable prefix", "cache_control": marker}
                ],
            },
            {
                "role": "user",
                "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}],
            },
        ],
    )
    got = fakes["anthropic"].last.json
    assert got["system"] == [
        {"type": "text", "text": "Long stable prefix", "cache_control": marker}
    ]
    assert got["messages"][0]["content"] == [
        {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}
    ]


def test_forced_tool_choice_wins_over_thinking_for_claude(gateway, fakes):
    openai_client(gateway, "/openai").chat.completions.create(
        model="claude-x",
        messages=[{"role": "user", "content": "q"}],
        reasoning_effort="high",
        max_tokens=32000,
        tool_choice="required",
        temperature=0.2,
        tools=[{"type": "function", "function": {"name": "get_time"}}],
    )
    got = fakes["anthropic"].last.json
    assert got["tool_choice"]["type"] == "any"
    assert "thinking" not in got and got["temperature"] == 0.2
