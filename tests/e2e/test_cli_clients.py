"""Requests shaped like the command-line clients people point at a gateway (SDK-NOTES.md):
Claude Code (large streamed Messages requests: dozens of tools, system blocks with cache
markers, thinking, context_management, metadata) and gemini-cli (streamGenerateContent
with systemInstruction, tools and generationConfig), sent through converter routes to
providers of other protocols."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.fakes import canned
from tests.harness import CALLER_KEY
from translators.sse import SSEDecoder


def claude_code_tool(i: int) -> dict:
    return {
        "name": f"mcp__server{i % 4}__tool_{i}",
        "description": f"Tool number {i}. " + "Detailed usage notes. " * 20,
        "input_schema": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Absolute path"},
                "mode": {"type": ["string", "null"], "enum": ["read", "write", None]},
                "options": {"$ref": "#/$defs/options"},
                "items": {"type": "array", "items": {"$ref": "#/$defs/options"}},
            },
            "required": ["path"],
            "additionalProperties": False,
            "$defs": {
                "options": {
                    "type": "object",
                    "properties": {"recursive": {"type": "boolean"}, "depth": {"type": "integer"}},
                    "additionalProperties": False,
                }
            },
        },
    }


def claude_code_request(model: str) -> dict:
    return {
        "model": model,
        "max_tokens": 32000,
        "stream": True,
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
            {
                "type": "text",
                "text": "Project instructions. " * 500,
                "cache_control": {"type": "ephemeral"},
            },
        ],
        "tools": [claude_code_tool(i) for i in range(40)],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "List the files in /tmp"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "I'll list them."},
                    {
                        "type": "tool_use",
                        "id": "toolu_01",
                        "name": "mcp__server1__tool_1",
                        "input": {"path": "/tmp", "options": {"recursive": False}},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01", "content": "a.txt\nb.txt"},
                    {
                        "type": "text",
                        "text": "Now read a.txt",
                        "cache_control": {"type": "ephemeral"},
                    },
                ],
            },
        ],
        "thinking": {"type": "enabled", "budget_tokens": 8000},
        "metadata": {"user_id": "user_abc_account_def_session_123"},
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
    }


def read_sse(response: httpx.Response) -> list[tuple[str | None, dict]]:
    decoder = SSEDecoder()
    events = [e for chunk in response.iter_bytes() for e in decoder.feed(chunk)]
    return [(e.event, orjson.loads(e.data)) for e in events + decoder.finish()]


@pytest.mark.parametrize(("model", "fake"), [("gpt-4o", "openai"), ("gemini-2.5-flash", "gemini")])
def test_claude_code_request_to_other_providers(gateway, fakes, model, fake):
    body = claude_code_request(model)
    assert len(orjson.dumps(body)) > 50_000
    headers = {
        "x-api-key": CALLER_KEY,
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "interleaved-thinking-2025-05-14,context-management-2025-06-27",
    }
    with httpx.stream(
        "POST", f"{gateway.url}/anthropic/v1/messages", json=body, headers=headers, timeout=30
    ) as r:
        assert r.status_code == 200, r.read()
        events = read_sse(r)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert "error" not in names
    assert events[0][1]["message"]["usage"]["input_tokens"] > 0  # Claude Code's context meter

    sent = fakes[fake].last
    assert not any(h.startswith("anthropic-") for h in sent.headers)
    text = sent.body.decode()
    assert "cache_control" not in text and "context_management" not in text
    if fake == "openai":
        tools = sent.json["tools"]
        assert len(tools) == 40
        assert all(len(t["function"]["name"]) <= 64 for t in tools)
        roles = [m["role"] for m in sent.json["messages"]]
        assert roles == ["system", "user", "assistant", "tool", "user"]
        assert sent.json["messages"][3]["tool_call_id"] == "toolu_01"
        assert sent.json["stream"] is True
    else:
        declarations = sent.json["tools"][0]["functionDeclarations"]
        assert len(declarations) == 40
        flat = orjson.dumps(declarations).decode()
        for rejected in ("$ref", "$defs", "$schema", "additionalProperties"):
            assert rejected not in flat
        assert sent.json["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 8000
        assert sent.path.endswith(":streamGenerateContent") and sent.query["alt"] == "sse"


def gemini_cli_request() -> dict:
    return {
        "contents": [{"role": "user", "parts": [{"text": "Summarise README.md"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "You are an interactive CLI."}]},
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "read_file",
                        "description": "Read a file",
                        "parametersJsonSchema": {
                            "type": "object",
                            "properties": {"absolute_path": {"type": "string"}},
                            "required": ["absolute_path"],
                        },
                    },
                    {
                        "name": "glob",
                        "description": "Find files",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {"pattern": {"type": "STRING"}},
                        },
                    },
                ]
            }
        ],
        "generationConfig": {
            "temperature": 0,
            "topP": 1,
            "thinkingConfig": {"includeThoughts": True, "thinkingBudget": -1},
        },
    }


@pytest.mark.parametrize(
    ("model", "fake"), [("claude-sonnet-4-5", "anthropic"), ("gpt-4o", "openai")]
)
def test_gemini_cli_request_to_other_providers(gateway, fakes, model, fake):
    url = f"{gateway.url}/gemini/v1beta/models/{model}:streamGenerateContent?alt=sse"
    with httpx.stream(
        "POST", url, json=gemini_cli_request(), headers={"x-goog-api-key": CALLER_KEY}, timeout=30
    ) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        chunks = [data for _, data in read_sse(r)]
    assert all("error" not in c for c in chunks)
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert "".join(
        p.get("text", "") for c in chunks for p in c["candidates"][0]["content"]["parts"]
    )
    sent = fakes[fake].last.json
    if fake == "anthropic":
        assert sent["system"] in (
            "You are an interactive CLI.",
            [{"type": "text", "text": "You are an interactive CLI."}],
        )
        assert [t["name"] for t in sent["tools"]] == ["read_file", "glob"]
        assert sent["tools"][1]["input_schema"]["properties"]["pattern"]["type"] == "string"
        # Claude's thinking only runs with default sampling: the override is dropped
        # rather than the request refused (the fake rejects the combination as Claude does).
        assert sent["thinking"]["type"] == "adaptive"
        assert "temperature" not in sent
    else:
        assert sent["messages"][0] == {"role": "system", "content": "You are an interactive CLI."}
        assert sent["temperature"] == 0 and sent["top_p"] == 1


def test_gemini_json_array_stream_without_alt_sse(gateway, fakes):
    url = f"{gateway.url}/gemini/v1beta/models/claude-sonnet-4-5:streamGenerateContent"
    r = httpx.post(
        url,
        json={"contents": [{"parts": [{"text": "hi"}]}]},
        headers={"x-goog-api-key": CALLER_KEY},
        timeout=30,
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    chunks = orjson.loads(r.content)  # one JSON array, as Gemini sends without alt=sse
    assert isinstance(chunks, list) and len(chunks) >= 2
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert fakes["anthropic"].last.json["stream"] is True


def test_count_tokens_for_a_model_of_another_protocol(gateway, fakes):
    # Claude Code sizes its context with count_tokens: a GPT model's count comes from
    # OpenAI's own input_tokens endpoint, a server without one gets the gateway's estimate.
    body = claude_code_request("gpt-4o")
    del body["max_tokens"], body["stream"], body["metadata"]
    r = httpx.post(
        f"{gateway.url}/anthropic/v1/messages/count_tokens",
        json=body,
        headers={"x-api-key": CALLER_KEY},
    )
    assert r.status_code == 200, r.text
    tokens = r.json()["input_tokens"]
    assert 5_000 < tokens < 60_000  # about a quarter of the 60 KB of text and schemas
    (sent,) = fakes["openai"].received
    assert sent.path == "/v1/responses/input_tokens"
    r = httpx.post(
        f"{gateway.url}/anthropic/v1/messages/count_tokens",
        json={**body, "model": "local-llama"},
        headers={"x-api-key": CALLER_KEY},
    )
    assert r.status_code == 200, r.text
    assert 5_000 < r.json()["input_tokens"] < 60_000
    assert len(fakes["openai"].received) == 1  # estimated: nothing went upstream
    r = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/claude-x:countTokens",
        json={"contents": [{"role": "user", "parts": [{"text": "x" * 400}]}]},
        headers={"x-goog-api-key": CALLER_KEY},
    )
    assert r.status_code == 200, r.text
    (sent,) = fakes["anthropic"].received
    assert sent.path == "/v1/messages/count_tokens"
    assert r.json()["totalTokens"] == canned.anthropic_count_tokens(sent.json)["input_tokens"]
