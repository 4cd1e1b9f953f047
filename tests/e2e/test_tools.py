"""Tool calling across every caller/upstream pair: definitions and tool_choice going up,
parallel calls coming back (unary and streamed, arguments fragmented or whole), and the
second turn that sends the results back, which the fake upstreams validate (ids paired,
Gemini results in one turn, signatures echoed)."""

from __future__ import annotations

import json

import orjson
import pytest
from google.genai import types

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes import Reply

CALLERS = ["openai", "anthropic", "gemini"]
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.5-flash"}
PAIRS = [(c, u) for c in CALLERS for u in MODELS if c != u]

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
    "additionalProperties": False,
}
CALLS = [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "Europe/Paris", "n": 0})]
SIGNATURE = "c2lnbmF0dXJlLW9uZQ=="  # a Gemini thoughtSignature (base64)
QUESTION = "Weather and time in Paris?"


# ------------------------------------------------------------- upstream replies


def upstream_reply(upstream: str, stream: bool) -> Reply:
    model = MODELS[upstream]
    if upstream == "openai":
        if not stream:
            return Reply.json(
                {
                    "id": "chatcmpl-t1",
                    "object": "chat.completion",
                    "created": 1700000000,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "tool_calls",
                            "message": {
                                "role": "assistant",
                                "content": None,
                                "refusal": None,
                                "tool_calls": [
                                    {
                                        "id": f"call_{i}",
                                        "type": "function",
                                        "function": {"name": name, "arguments": json.dumps(args)},
                                    }
                                    for i, (name, args) in enumerate(CALLS)
                                ],
                            },
                        }
                    ],
                    "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
                }
            )
        chunk = {
            "id": "chatcmpl-t1",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": model,
        }
        deltas = [{"role": "assistant", "content": None}]
        for i, (name, args) in enumerate(CALLS):
            text = json.dumps(args)
            # The opening chunk already carries the first argument fragment, which a
            # translator that only reads later deltas loses.
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": f"call_{i}",
                            "type": "function",
                            "function": {"name": name, "arguments": text[:5]},
                        }
                    ]
                }
            )
            deltas += [
                {"tool_calls": [{"index": i, "function": {"arguments": text[j : j + 4]}}]}
                for j in range(5, len(text), 4)
            ]
        frames = [
            {**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
        ]
        frames.append(
            {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
        )
        frames.append(
            {
                **chunk,
                "choices": [],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
            }
        )
        body = b"".join(b"data: " + orjson.dumps(f) + b"\n\n" for f in frames)
        return Reply.sse(body + b"data: [DONE]\n\n")
    if upstream == "anthropic":
        content = [{"type": "text", "text": "Let me check."}] + [
            {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
            for i, (name, args) in enumerate(CALLS)
        ]
        message = {
            "id": "msg_t1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 50, "output_tokens": 20},
        }
        if not stream:
            return Reply.json(message)
        events = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        **message,
                        "content": [],
                        "stop_reason": None,
                        "usage": {"input_tokens": 50, "output_tokens": 1},
                    },
                },
            )
        ]
        for i, block in enumerate(content):
            start = dict(block, input={}) if block["type"] == "tool_use" else dict(block, text="")
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": i, "content_block": start},
                )
            )
            if block["type"] == "text":
                delta = {"type": "text_delta", "text": block["text"]}
                events.append(
                    (
                        "content_block_delta",
                        {"type": "content_block_delta", "index": i, "delta": delta},
                    )
                )
            else:
                text = json.dumps(block["input"])
                for j in range(0, len(text), 6):
                    delta = {"type": "input_json_delta", "partial_json": text[j : j + 6]}
                    events.append(
                        (
                            "content_block_delta",
                            {"type": "content_block_delta", "index": i, "delta": delta},
                        )
                    )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                    "usage": {"output_tokens": 20},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        return Reply.sse(
            b"".join(
                b"event: " + n.encode() + b"\ndata: " + orjson.dumps(d) + b"\n\n" for n, d in events
            )
        )
    # Gemini 2.5 style: no call ids, the signature only on the first call.
    parts = [{"functionCall": {"name": name, "args": args}} for name, args in CALLS]
    parts[0]["thoughtSignature"] = SIGNATURE
    usage = {"promptTokenCount": 50, "candidatesTokenCount": 20, "totalTokenCount": 70}
    body = {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": "resp-t1",
    }
    if not stream:
        return Reply.json(body)
    return Reply.sse(b"data: " + orjson.dumps(body) + b"\r\n\r\n")


# ---------------------------------------------------------------- caller side


def first_turn(caller: str, gateway, model: str, stream: bool):
    """Ask with two tools, the caller's way. Returns (calls, stop reason, raw result)."""
    if caller == "openai":
        client = openai_client(gateway, "/openai")
        tools = [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather",
                    "parameters": WEATHER_SCHEMA,
                },
            },
            {"type": "function", "function": {"name": "get_time"}},
        ]
        kwargs = dict(
            model=model,
            tools=tools,
            tool_choice="required",
            messages=[{"role": "user", "content": QUESTION}],
        )
        if not stream:
            r = client.chat.completions.create(**kwargs)
            message = r.choices[0].message
            calls = [
                (c.id, c.function.name, json.loads(c.function.arguments))
                for c in message.tool_calls
            ]
            return calls, r.choices[0].finish_reason, message.model_dump(exclude_none=True)
        acc: dict[int, dict] = {}
        finish = None
        for chunk in client.chat.completions.create(**kwargs, stream=True):
            if not chunk.choices:
                continue
            for tc in chunk.choices[0].delta.tool_calls or []:
                entry = acc.setdefault(
                    tc.index, {"id": None, "name": None, "args": "", "extra": None}
                )
                once = "a call's id must come once, in its first chunk"
                assert entry["id"] is None or tc.id is None, once
                entry["id"] = entry["id"] or tc.id
                entry["name"] = entry["name"] or (tc.function and tc.function.name)
                entry["args"] += (tc.function and tc.function.arguments) or ""
                entry["extra"] = entry["extra"] or (tc.model_extra or {}).get("extra_content")
            finish = chunk.choices[0].finish_reason or finish
        calls = [(e["id"], e["name"], json.loads(e["args"])) for _, e in sorted(acc.items())]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": e["id"],
                    "type": "function",
                    "function": {"name": e["name"], "arguments": e["args"]},
                    **({"extra_content": e["extra"]} if e["extra"] else {}),
                }
                for _, e in sorted(acc.items())
            ],
        }
        return calls, finish, message
    if caller == "anthropic":
        client = anthropic_client(gateway, "/anthropic")
        tools = [
            {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA},
            {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
        ]
        kwargs = dict(
            model=model,
            max_tokens=200,
            tools=tools,
            tool_choice={"type": "any"},
            messages=[{"role": "user", "content": QUESTION}],
        )
        if stream:
            with client.messages.stream(**kwargs) as s:
                m = s.get_final_message()
        else:
            m = client.messages.create(**kwargs)
        calls = [(b.id, b.name, b.input) for b in m.content if b.type == "tool_use"]
        return calls, m.stop_reason, [b.model_dump(exclude_none=True) for b in m.content]
    client = gemini_client(gateway, "/gemini")
    config = types.GenerateContentConfig(
        tools=[
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name="get_weather",
                        description="Weather",
                        parameters_json_schema=WEATHER_SCHEMA,
                    ),
                    types.FunctionDeclaration(name="get_time"),
                ]
            )
        ],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode="ANY")
        ),
    )
    if stream:
        chunks = list(
            client.models.generate_content_stream(model=model, contents=QUESTION, config=config)
        )
        parts = [p for c in chunks if c.candidates for p in c.candidates[0].content.parts or []]
        finish = [
            c.candidates[0].finish_reason
            for c in chunks
            if c.candidates and c.candidates[0].finish_reason
        ][-1]
    else:
        r = client.models.generate_content(model=model, contents=QUESTION, config=config)
        parts, finish = r.candidates[0].content.parts, r.candidates[0].finish_reason
    calls = [
        (p.function_call.id, p.function_call.name, p.function_call.args)
        for p in parts
        if p.function_call
    ]
    return calls, finish.value, [p for p in parts if p.function_call]


def second_turn(caller: str, gateway, model: str, calls, raw) -> str:
    """Send the results back, referencing the ids the caller was given."""
    results = {
        name: {"temp_c": 18} if name == "get_weather" else {"time": "12:00"} for _, name, _ in calls
    }
    if caller == "openai":
        messages = [{"role": "user", "content": QUESTION}, raw] + [
            {"role": "tool", "tool_call_id": cid, "content": json.dumps(results[name])}
            for cid, name, _ in calls
        ]
        r = openai_client(gateway, "/openai").chat.completions.create(
            model=model, messages=messages
        )
        return r.choices[0].message.content
    if caller == "anthropic":
        messages = [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": raw},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": cid,
                        "content": json.dumps(results[name]),
                    }
                    for cid, name, _ in calls
                ],
            },
        ]
        m = anthropic_client(gateway, "/anthropic").messages.create(
            model=model, max_tokens=200, messages=messages
        )
        return m.content[0].text
    contents = [
        types.Content(role="user", parts=[types.Part(text=QUESTION)]),
        types.Content(role="model", parts=raw),
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        id=cid, name=name, response=results[name]
                    )
                )
                for cid, name, _ in calls
            ],
        ),
    ]
    r = gemini_client(gateway, "/gemini").models.generate_content(model=model, contents=contents)
    return r.text


# ------------------------------------------------------------------ checks


def check_definitions(upstream: str, got: dict) -> None:
    if upstream == "openai":
        assert [t["function"]["name"] for t in got["tools"]] == ["get_weather", "get_time"]
        assert got["tools"][0]["function"]["parameters"]["required"] == ["city"]
        assert got["tool_choice"] == "required"
    elif upstream == "anthropic":
        assert [t["name"] for t in got["tools"]] == ["get_weather", "get_time"]
        assert got["tools"][0]["input_schema"]["properties"]["city"]["type"] == "string"
        assert got["tools"][1]["input_schema"]["type"] == "object"
        assert got["tool_choice"]["type"] == "any"
    else:
        declarations = got["tools"][0]["functionDeclarations"]
        assert [d["name"] for d in declarations] == ["get_weather", "get_time"]
        schema = declarations[0].get("parameters") or declarations[0].get("parametersJsonSchema")
        assert schema["required"] == ["city"]
        if "parameters" in declarations[0]:
            assert "additionalProperties" not in json.dumps(declarations[0]["parameters"])
        assert got["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"


def check_results_turn(upstream: str, got: dict, calls) -> None:
    """The second request pairs every result with its call, the upstream's way."""
    ids = [cid for cid, _, _ in calls]
    if upstream == "openai":
        assistant = next(m for m in got["messages"] if m["role"] == "assistant")
        assert [c["id"] for c in assistant["tool_calls"]] == ids
        tools = [m for m in got["messages"] if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in tools] == ids
    elif upstream == "anthropic":
        assistant = next(m for m in got["messages"] if m["role"] == "assistant")
        uses = [b for b in assistant["content"] if b["type"] == "tool_use"]
        assert [b["id"] for b in uses] == ids
        assert [b["input"] for b in uses] == [args for _, _, args in calls]
        results = [
            b
            for m in got["messages"]
            if m["role"] == "user" and isinstance(m["content"], list)
            for b in m["content"]
            if b["type"] == "tool_result"
        ]
        assert [b["tool_use_id"] for b in results] == ids
    else:
        model_turn = next(c for c in got["contents"] if c["role"] == "model")
        fcalls = [p for p in model_turn["parts"] if "functionCall" in p]
        assert [p["functionCall"]["name"] for p in fcalls] == [n for _, n, _ in calls]
        assert [p["functionCall"]["args"] for p in fcalls] == [a for _, _, a in calls]
        # The signature Gemini gave travels through the caller's format and comes back.
        assert fcalls[0].get("thoughtSignature") == SIGNATURE
        answer = got["contents"][-1]
        assert answer["role"] == "user"
        responses = [p["functionResponse"] for p in answer["parts"]]
        assert [r["name"] for r in responses] == [n for _, n, _ in calls]
        for r in responses:
            assert "id" not in r or not r["id"].startswith("gem_")


TOOL_STOP = {"openai": "tool_calls", "anthropic": "tool_use", "gemini": "STOP"}


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
@pytest.mark.parametrize(("caller", "upstream"), PAIRS)
def test_parallel_tool_calls_and_results_round_trip(gateway, fakes, caller, upstream, stream):
    model = MODELS[upstream]
    fakes[upstream].enqueue(upstream_reply(upstream, stream))
    calls, stop, raw = first_turn(caller, gateway, model, stream)
    assert [(name, args) for _, name, args in calls] == CALLS
    ids = [cid for cid, _, _ in calls]
    assert all(ids) and len(set(ids)) == len(ids)
    assert stop == TOOL_STOP[caller]
    check_definitions(upstream, fakes[upstream].last.json)

    answer = second_turn(caller, gateway, model, calls, raw)
    assert answer
    check_results_turn(upstream, fakes[upstream].last.json, calls)


@pytest.mark.parametrize("upstream", ["anthropic", "gemini"])
def test_tool_choice_none_stays_none(gateway, fakes, upstream):
    openai_client(gateway, "/openai").chat.completions.create(
        model=MODELS[upstream],
        messages=[{"role": "user", "content": "hi"}],
        tool_choice="none",
        tools=[{"type": "function", "function": {"name": "get_time"}}],
    )
    got = fakes[upstream].last.json
    if upstream == "anthropic":
        assert got["tool_choice"] == {"type": "none"}
    else:
        assert got["toolConfig"]["functionCallingConfig"]["mode"] == "NONE"


def test_named_tool_and_no_parallel_calls(gateway, fakes):
    openai_client(gateway, "/openai").chat.completions.create(
        model="claude-x",
        messages=[{"role": "user", "content": "hi"}],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        parallel_tool_calls=False,
        tools=[{"type": "function", "function": {"name": "get_time"}}],
    )
    assert fakes["anthropic"].last.json["tool_choice"] == {
        "type": "tool",
        "name": "get_time",
        "disable_parallel_tool_use": True,
    }
    anthropic_client(gateway, "/anthropic").messages.create(
        model="gemini-2.5-flash",
        max_tokens=10,
        messages=[{"role": "user", "content": "hi"}],
        tool_choice={"type": "tool", "name": "get_time"},
        tools=[{"name": "get_time", "input_schema": {"type": "object"}}],
    )
    config = fakes["gemini"].last.json["toolConfig"]["functionCallingConfig"]
    assert config == {"mode": "ANY", "allowedFunctionNames": ["get_time"]}
