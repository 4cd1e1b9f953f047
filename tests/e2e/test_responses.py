"""The OpenAI Responses API on Claude and Gemini, through ``/openai/v1/responses`` and the
official ``openai`` SDK: what the caller gets (unary, and streamed through the SDK's
stream helper, every stream checked against the Responses grammar) and what the
upstream received, for text, instructions, parameters, tools and tool loops, images,
structured output, usage, errors and token counts.

State kept by the gateway (stored responses, ``previous_response_id``, conversations,
reasoning state across turns) is in test_responses_turns.py; Codex-shaped requests and
the peer bugs of RESPONSES-NOTES.md in test_responses_codex.py; other callers on an
``api: responses`` upstream in test_responses_upstream.py.
"""

from __future__ import annotations

import base64

import openai
import orjson
import pytest

from tests.e2e.responses_support import (
    BOTH,
    MODELS,
    STREAMS,
    answer,
    anthropic_reply,
    call_output,
    gemini_reply,
    history,
    outcome,
    raw_stream,
    sdk,
    sse_events,
    user,
)
from tests.fakes import Reply
from tests.responses_grammar import validate_sse

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
TIME = {
    "type": "function",
    "name": "get_time",
    "description": "Local time in a timezone",
    "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image bytes").decode()
PDF = base64.b64encode(b"%PDF-1.4 fake document").decode()


@pytest.fixture
def client(gateway):
    with sdk(gateway) as c:
        yield c


def tool_calls_reply(provider: str, calls: list[tuple[str, dict]], stream: bool) -> Reply:
    """The upstream calling ``calls`` (name, arguments) in one answer, after a line of
    text (Claude) or with a thought signature on the first call (Gemini)."""
    if provider == "anthropic":
        blocks = [{"type": "text", "text": "Checking."}] + [
            {"type": "tool_use", "id": f"toolu_0{i}", "name": name, "input": args}
            for i, (name, args) in enumerate(calls)
        ]
        return anthropic_reply(blocks, stream=stream)
    parts = [{"functionCall": {"name": name, "args": args}} for name, args in calls]
    parts[0]["thoughtSignature"] = "c2lnLW9uZQ=="
    return gemini_reply(parts, stream=stream)


def text_reply(provider: str, text: str, stream: bool) -> Reply:
    if provider == "anthropic":
        return anthropic_reply([{"type": "text", "text": text}], stream=stream)
    return gemini_reply([{"text": text}], stream=stream)


# ------------------------------------------------------------------------ text


@BOTH
@STREAMS
def test_text(client, fakes, provider, stream):
    fakes[provider].enqueue(text_reply(provider, "Bonjour.", stream))
    r = answer(client, stream, model=MODELS[provider], input="Say hello in French")
    assert r.output_text == "Bonjour."
    assert r.id.startswith("resp_") and r.status == "completed"
    assert [item.type for item in r.output] == ["message"]
    assert r.output[0].id.startswith("msg_")
    sent = fakes[provider].last
    if provider == "anthropic":
        assert sent.json["messages"] == [{"role": "user", "content": "Say hello in French"}]
        assert sent.json.get("stream", False) is stream
    else:
        assert sent.json["contents"] == [
            {"role": "user", "parts": [{"text": "Say hello in French"}]}
        ]
        assert sent.path.endswith(":streamGenerateContent" if stream else ":generateContent")
    if stream:
        (final,) = client.validated()
        assert final["id"] == r.id


@BOTH
def test_raw_stream_events_in_order(gateway, fakes, provider):
    fakes[provider].enqueue(text_reply(provider, "One two three.", True))
    got = raw_stream(gateway, {"model": MODELS[provider], "input": "count"})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/event-stream")
    final = validate_sse(got.content)
    types = [e["type"] for e in sse_events(got.content)]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert "response.output_text.delta" in types
    assert final["output"][0]["content"][0]["text"] == "One two three."


@BOTH
@STREAMS
def test_instructions_and_developer_messages_are_the_system_prompt(client, fakes, provider, stream):
    fakes[provider].enqueue(text_reply(provider, "Ok.", stream))
    answer(
        client,
        stream,
        model=MODELS[provider],
        instructions="You are terse.",
        input=[user("hi")],
    )
    sent = fakes[provider].last.json
    if provider == "anthropic":
        assert sent["system"] in ("You are terse.", [{"type": "text", "text": "You are terse."}])
        assert [m["role"] for m in sent["messages"]] == ["user"]
    else:
        assert sent["systemInstruction"]["parts"] == [{"text": "You are terse."}]
        assert [c["role"] for c in sent["contents"]] == ["user"]


@BOTH
def test_parameters_reach_the_upstream_under_its_own_names(client, fakes, provider):
    client.responses.create(
        model=MODELS[provider],
        input="hi",
        temperature=0.3,
        top_p=0.9,
        max_output_tokens=321,
    )
    sent = fakes[provider].last.json
    if provider == "anthropic":
        assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.3, 0.9, 321)
    else:
        config = sent["generationConfig"]
        assert (config["temperature"], config["topP"], config["maxOutputTokens"]) == (
            0.3,
            0.9,
            321,
        )


# ----------------------------------------------------------------------- tools


@BOTH
@STREAMS
def test_function_tool_loop(client, fakes, provider, stream):
    fakes[provider].enqueue(
        tool_calls_reply(provider, [("get_weather", {"city": "Paris"})], stream),
        text_reply(provider, "Sunny in Paris.", stream),
    )
    question = user("Weather in Paris?")
    first = answer(client, stream, model=MODELS[provider], input=[question], tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather" and orjson.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id and call.id.startswith("fc_")
    sent = fakes[provider].last.json
    if provider == "anthropic":
        assert sent["tools"][0]["name"] == "get_weather"
        assert sent["tools"][0]["input_schema"]["required"] == ["city"]
    else:
        declaration = sent["tools"][0]["functionDeclarations"][0]
        assert declaration["name"] == "get_weather"

    second = answer(
        client,
        stream,
        model=MODELS[provider],
        input=[question, *history(first), call_output(call.call_id, "22C, sunny")],
        tools=[WEATHER],
    )
    assert second.output_text == "Sunny in Paris."
    sent = fakes[provider].last.json
    if provider == "anthropic":
        assistant, result = sent["messages"][1], sent["messages"][2]
        use = next(b for b in assistant["content"] if b["type"] == "tool_use")
        assert use["input"] == {"city": "Paris"} and use["name"] == "get_weather"
        assert result["content"][0]["type"] == "tool_result"
        assert result["content"][0]["tool_use_id"] == use["id"] == call.call_id
        assert "22C, sunny" in orjson.dumps(result["content"][0]).decode()
    else:
        model_turn, results = sent["contents"][1], sent["contents"][2]
        assert model_turn["parts"][0]["functionCall"]["name"] == "get_weather"
        # Gemini's signature went out with the call and came back on it.
        assert model_turn["parts"][0]["thoughtSignature"] == "c2lnLW9uZQ=="
        response = results["parts"][0]["functionResponse"]
        assert response["name"] == "get_weather"
        assert "22C, sunny" in orjson.dumps(response).decode()


@BOTH
@STREAMS
def test_parallel_calls_and_their_results(client, fakes, provider, stream):
    pair = [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "Europe/Paris"})]
    fakes[provider].enqueue(tool_calls_reply(provider, pair, stream))
    question = user("Weather and time in Paris?")
    first = answer(client, stream, model=MODELS[provider], input=[question], tools=[WEATHER, TIME])
    calls = [item for item in first.output if item.type == "function_call"]
    assert [(c.name, orjson.loads(c.arguments)) for c in calls] == pair
    assert len({c.call_id for c in calls}) == 2
    outputs = [call_output(c.call_id, f"result {n}") for n, c in enumerate(calls)]
    client.responses.create(
        model=MODELS[provider],
        input=[question, *history(first), *outputs],
        tools=[WEATHER, TIME],
    )
    sent = fakes[provider].last.json
    if provider == "anthropic":
        uses = [b["id"] for b in sent["messages"][1]["content"] if b["type"] == "tool_use"]
        results = [b["tool_use_id"] for b in sent["messages"][2]["content"]]
        assert uses == results == [c.call_id for c in calls]
    else:
        called = [p["functionCall"]["name"] for p in sent["contents"][1]["parts"]]
        answered = [p["functionResponse"]["name"] for p in sent["contents"][2]["parts"]]
        assert called == answered == ["get_weather", "get_time"]


@BOTH
def test_tool_choice_and_a_named_tool(client, fakes, provider):
    client.responses.create(
        model=MODELS[provider],
        input="weather?",
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "name": "get_time"},
        parallel_tool_calls=False,
    )
    sent = fakes[provider].last.json
    if provider == "anthropic":
        assert sent["tool_choice"] == {
            "type": "tool",
            "name": "get_time",
            "disable_parallel_tool_use": True,
        }
    else:
        config = sent["toolConfig"]["functionCallingConfig"]
        assert config["mode"] == "ANY" and config["allowedFunctionNames"] == ["get_time"]


# ----------------------------------------------------------- images and formats


@BOTH
def test_image_and_file_input(client, fakes, provider):
    client.responses.create(
        model=MODELS[provider],
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in these?"},
                    {
                        "type": "input_image",
                        "image_url": f"data:image/png;base64,{PNG}",
                        "detail": "high",
                    },
                    {"type": "input_image", "image_url": "https://example.com/cat.jpg"},
                    {
                        "type": "input_file",
                        "filename": "a.pdf",
                        "file_data": f"data:application/pdf;base64,{PDF}",
                    },
                ],
            }
        ],
    )
    sent = fakes[provider].last.json
    if provider == "anthropic":
        blocks = sent["messages"][0]["content"]
        assert blocks[0] == {"type": "text", "text": "What is in these?"}
        assert blocks[1]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}
        assert blocks[2]["source"] == {"type": "url", "url": "https://example.com/cat.jpg"}
        assert blocks[3]["type"] == "document"
        assert blocks[3]["source"] == {
            "type": "base64",
            "media_type": "application/pdf",
            "data": PDF,
        }
    else:
        parts = sent["contents"][0]["parts"]
        assert parts[0] == {"text": "What is in these?"}
        assert parts[1]["inlineData"] == {"mimeType": "image/png", "data": PNG}
        assert parts[2]["fileData"]["fileUri"] == "https://example.com/cat.jpg"
        assert parts[3]["inlineData"] == {"mimeType": "application/pdf", "data": PDF}


SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}


@BOTH
@STREAMS
def test_structured_output(client, fakes, provider, stream):
    data = '{"city": "Paris", "population": 2100000}'
    fakes[provider].enqueue(text_reply(provider, data, stream))
    r = answer(
        client,
        stream,
        model=MODELS[provider],
        input="Biggest French city?",
        text={"format": {"type": "json_schema", "name": "city", "schema": SCHEMA, "strict": True}},
    )
    assert orjson.loads(r.output_text) == {"city": "Paris", "population": 2100000}
    sent = fakes[provider].last.json
    if provider == "anthropic":
        assert sent["output_config"]["format"] == {"type": "json_schema", "schema": SCHEMA}
    else:
        config = sent["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        assert schema["required"] == ["city", "population"]


@BOTH
@STREAMS
def test_output_limit_and_refusal_are_incomplete(client, fakes, provider, stream):
    if provider == "anthropic":
        cut = anthropic_reply(
            [{"type": "text", "text": "Once upon"}], stream=stream, stop="max_tokens"
        )
        refused = anthropic_reply(
            [{"type": "text", "text": "I can't."}], stream=stream, stop="refusal"
        )
    else:
        cut = gemini_reply([{"text": "Once upon"}], stream=stream, finish="MAX_TOKENS")
        refused = gemini_reply([{"text": "I can't."}], stream=stream, finish="SAFETY")
    fakes[provider].enqueue(cut, refused)
    r = outcome(client, stream, model=MODELS[provider], input="story", max_output_tokens=16)
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    assert r.output_text == "Once upon"
    r = outcome(client, stream, model=MODELS[provider], input="bad")
    assert r.status == "incomplete" and r.incomplete_details.reason == "content_filter"


# ------------------------------------------------------------------------ usage


@STREAMS
def test_bug15_usage_is_inclusive_of_anthropic_cache_tokens(client, fakes, stream):
    usage = {
        "input_tokens": 10,
        "cache_read_input_tokens": 100,
        "cache_creation_input_tokens": 50,
        "output_tokens": 30,
    }
    fakes["anthropic"].enqueue(
        anthropic_reply([{"type": "text", "text": "Hi"}], stream=stream, usage=usage)
    )
    r = answer(client, stream, model=MODELS["anthropic"], input="hi")
    assert r.usage.input_tokens == 160
    assert r.usage.input_tokens_details.cached_tokens == 100
    assert r.usage.output_tokens == 30 and r.usage.total_tokens == 190


@STREAMS
def test_usage_counts_gemini_thoughts_and_cache(client, fakes, stream):
    usage = {
        "promptTokenCount": 20,
        "cachedContentTokenCount": 8,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 40,
        "totalTokenCount": 65,
    }
    parts = [{"text": "Pondering", "thought": True}, {"text": "Paris."}]
    fakes["gemini"].enqueue(gemini_reply(parts, stream=stream, usage=usage))
    r = answer(client, stream, model=MODELS["gemini"], input="capital?")
    assert r.output_text == "Paris."
    assert r.usage.input_tokens == 20 and r.usage.input_tokens_details.cached_tokens == 8
    assert r.usage.output_tokens == 45
    assert r.usage.output_tokens_details.reasoning_tokens == 40
    assert r.usage.total_tokens == 65


# ----------------------------------------------------------------------- errors


@BOTH
@STREAMS
@pytest.mark.parametrize(
    ("status", "error"),
    [(429, openai.RateLimitError), (500, openai.InternalServerError)],
    ids=["429", "500"],
)
def test_upstream_errors_raise_the_sdks_classes(client, fakes, provider, stream, status, error):
    fakes[provider].enqueue(Reply.error(provider, status, "upstream trouble"))
    with pytest.raises(error) as caught:
        answer(client, stream, model=MODELS[provider], input="hi")
    assert "upstream trouble" in caught.value.message
    if status == 429:
        assert caught.value.body["code"] == "rate_limit_exceeded"


@BOTH
def test_a_refused_field_is_a_400_before_the_upstream(client, fakes, provider):
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODELS[provider], input="hi", background=True)
    assert caught.value.body["param"] == "background"
    assert fakes[provider].received == []


# ----------------------------------------------------------------- token counts


@BOTH
def test_input_tokens_count(client, fakes, provider):
    counted = client.responses.input_tokens.count(
        model=MODELS[provider],
        input="x" * 400,
        instructions="be brief",
        tools=[WEATHER],
    )
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens > 100
    # Answered by the provider's own counting endpoint (tests/e2e/test_token_counts.py).
    (sent,) = fakes[provider].received
    assert sent.path.endswith(("/v1/messages/count_tokens", ":countTokens"))


@BOTH
def test_input_tokens_count_of_a_continued_turn_counts_the_stored_state(client, fakes, provider):
    fakes[provider].enqueue(text_reply(provider, "y" * 4000, False))
    first = client.responses.create(model=MODELS[provider], input="x" * 4000)
    alone = client.responses.input_tokens.count(model=MODELS[provider], input="z" * 400)
    continued = client.responses.input_tokens.count(
        model=MODELS[provider], input="z" * 400, previous_response_id=first.id
    )
    assert continued.input_tokens >= alone.input_tokens + 2000
    conv = client.conversations.create(items=[user("w" * 4000)])
    in_conversation = client.responses.input_tokens.count(
        model=MODELS[provider], input="z" * 400, conversation=conv.id
    )
    assert in_conversation.input_tokens >= alone.input_tokens + 1000
    with pytest.raises(openai.NotFoundError):
        client.responses.input_tokens.count(
            model=MODELS[provider], input="z", previous_response_id="resp_nope"
        )
    # One create, three counts (the unknown id never leaves the gateway).
    assert len(fakes[provider].received) == 4
