"""Codex-shaped Responses calls on Claude and Gemini (namespace tools, the ``apply_patch``
custom tool with its lark grammar, ``web_search``, ``store: false``, encrypted reasoning,
history without ids) and the peer bugs of RESPONSES-NOTES.md that show on the wire.
Callers of the other formats on a Responses-only model are in test_responses_upstream.py.
"""

from __future__ import annotations

import openai
import orjson
import pytest

from tests.e2e.responses_support import (
    BOTH,
    CLAUDE,
    GEMINI_3,
    MODELS,
    STREAMS,
    answer,
    anthropic_frames,
    anthropic_reply,
    call_output,
    final_of,
    gemini_reply,
    history,
    raw_stream,
    sdk,
    sse_events,
    user,
)
from tests.fakes import Reply
from tests.responses_grammar import validate_sse

LARK = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\n'
PATCH = "*** Begin Patch\n*** Update File: a.py\n@@\n-x = 1\n+x = 2\n*** End Patch\n"
CODEX_TOOLS = [
    {
        "type": "function",
        "name": "shell",
        "description": "Runs a shell command and returns its output.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "array", "items": {"type": "string"}}},
            "required": ["command"],
            "additionalProperties": False,
        },
    },
    {
        "type": "namespace",
        "name": "mcp__github",
        "description": "Tools of the GitHub MCP server",
        "tools": [
            {
                "type": "function",
                "name": "get_issue",
                "description": "Read an issue",
                "strict": False,
                "parameters": {
                    "type": "object",
                    "properties": {"number": {"type": "integer"}},
                    "required": ["number"],
                },
            }
        ],
    },
    {
        "type": "custom",
        "name": "apply_patch",
        "description": "Use the `apply_patch` tool to edit files.",
        "format": {"type": "grammar", "syntax": "lark", "definition": LARK},
    },
    {"type": "web_search"},
]
CLAUDE_SIGS = ("EqQBCkYIBxgCKkDcodexturn1+/A==", "ErUBCkYIBxgCKkDcodexturn2+/B==")
GEMINI_SIGS = ("Y29kZXgtZ2VtaW5pLTE=", "Y29kZXgtZ2VtaW5pLTI=")


@pytest.fixture
def client(gateway):
    with sdk(gateway) as c:
        yield c


def codex_body(model: str, conversation: list[dict]) -> dict:
    """What Codex sends each turn, its whole history without ids."""
    return {
        "model": model,
        "instructions": "You are Codex, a coding agent.",
        "input": conversation,
        "tools": CODEX_TOOLS,
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0199a1b2-conversation",
        "text": {"verbosity": "low"},
        "extra_body": {"client_metadata": {"originator": "codex_cli_rs"}},
        "extra_headers": {"session_id": "0199a1b2-conversation", "originator": "codex_cli_rs"},
    }


def upstream_calls(provider: str, stream: bool) -> list[Reply]:
    """Turn 1: the apply_patch stand-in; turn 2: the namespaced MCP tool; turn 3: text.
    Claude thinks before each call; Gemini signs each call."""
    patch, issue = {"input": PATCH}, {"number": 7}
    if provider == "anthropic":
        return [
            anthropic_reply(
                [
                    {"type": "thinking", "thinking": "Patch a.py.", "signature": CLAUDE_SIGS[0]},
                    {"type": "tool_use", "id": "toolu_p", "name": "apply_patch", "input": patch},
                ],
                stream=stream,
            ),
            anthropic_reply(
                [
                    {
                        "type": "thinking",
                        "thinking": "Read the issue.",
                        "signature": CLAUDE_SIGS[1],
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_i",
                        "name": "mcp__github__get_issue",
                        "input": issue,
                    },
                ],
                stream=stream,
            ),
            anthropic_reply([{"type": "text", "text": "Done: a.py patched."}], stream=stream),
        ]
    return [
        gemini_reply(
            [
                {"text": "Patch a.py.", "thought": True},
                {
                    "functionCall": {"name": "apply_patch", "args": patch},
                    "thoughtSignature": GEMINI_SIGS[0],
                },
            ],
            stream=stream,
            model=GEMINI_3,
        ),
        gemini_reply(
            [
                {
                    "functionCall": {"name": "mcp__github__get_issue", "args": issue},
                    "thoughtSignature": GEMINI_SIGS[1],
                }
            ],
            stream=stream,
            model=GEMINI_3,
        ),
        gemini_reply([{"text": "Done: a.py patched."}], stream=stream, model=GEMINI_3),
    ]


CODEX_MODELS = {"anthropic": CLAUDE, "gemini": GEMINI_3}


@BOTH
@STREAMS
def test_codex_three_turn_tool_loop(client, fakes, provider, stream):
    fakes[provider].enqueue(*upstream_calls(provider, stream))
    model = CODEX_MODELS[provider]
    conversation = [user("Fix a.py, then read issue 7.")]

    first = answer(client, stream, **codex_body(model, conversation))
    (patch_call,) = [item for item in first.output if item.type == "custom_tool_call"]
    assert patch_call.name == "apply_patch" and patch_call.input == PATCH
    assert not [item for item in first.output if item.type == "function_call"]
    reasoning = [item for item in first.output if item.type == "reasoning"]
    assert reasoning and all(item.encrypted_content for item in reasoning)
    sent = fakes[provider].last
    tool_names = (
        [t["name"] for t in sent.json["tools"]]
        if provider == "anthropic"
        else [d["name"] for d in sent.json["tools"][0]["functionDeclarations"]]
    )
    # Claude runs Codex's web_search as its own server tool; Gemini 2.x cannot search
    # beside function tools, so there it is dropped and reported.
    searched = ["web_search"] if provider == "anthropic" else []
    assert tool_names == ["shell", "mcp__github__get_issue", "apply_patch", *searched]
    body = sent.body.decode()
    for leaked in (
        "client_metadata",
        "prompt_cache_key",
        "codex_cli_rs",
        "verbosity",
        *([] if searched else ["web_search"]),
    ):
        assert leaked not in body
    assert LARK.splitlines()[0] in body  # the grammar rides in the description
    if stream:
        dropped = client.recorder.streams[-1].headers["x-gateway-dropped"].split(",")
        assert ("tools.web_search" in dropped) is not bool(searched)
        assert "client_metadata" in dropped

    conversation += [
        *history(first, ids=False),
        call_output(patch_call.call_id, "Done!", "custom_tool_call_output"),
    ]
    second = answer(client, stream, **codex_body(model, conversation))
    (issue_call,) = [item for item in second.output if item.type == "function_call"]
    assert (issue_call.namespace, issue_call.name) == ("mcp__github", "get_issue")
    assert orjson.loads(issue_call.arguments) == {"number": 7}

    conversation += [*history(second, ids=False), call_output(issue_call.call_id, "Issue 7: x=2")]
    assert all("id" not in item for item in conversation)
    third = answer(client, stream, **codex_body(model, conversation))
    assert third.output_text == "Done: a.py patched."

    sent = fakes[provider].last.json
    if provider == "anthropic":
        assert sent["thinking"]["type"] in ("enabled", "adaptive")
        turns = sent["messages"]
        assert [m["role"] for m in turns] == ["user", "assistant", "user", "assistant", "user"]
        assert turns[1]["content"] == [
            {"type": "thinking", "thinking": "Patch a.py.", "signature": CLAUDE_SIGS[0]},
            {"type": "tool_use", "id": "toolu_p", "name": "apply_patch", "input": {"input": PATCH}},
        ]
        assert turns[2]["content"][0]["tool_use_id"] == "toolu_p"
        assert turns[3]["content"][0]["signature"] == CLAUDE_SIGS[1]
        assert turns[3]["content"][1]["name"] == "mcp__github__get_issue"
        assert turns[4]["content"][0]["tool_use_id"] == "toolu_i"
    else:
        contents = sent["contents"]
        calls = [p for c in contents for p in c["parts"] if "functionCall" in p]
        assert [(p["functionCall"]["name"], p["thoughtSignature"]) for p in calls] == [
            ("apply_patch", GEMINI_SIGS[0]),
            ("mcp__github__get_issue", GEMINI_SIGS[1]),
        ]
        assert calls[0]["functionCall"]["args"] == {"input": PATCH}
        answers = [
            p["functionResponse"] for c in contents for p in c["parts"] if "functionResponse" in p
        ]
        assert [a["name"] for a in answers] == ["apply_patch", "mcp__github__get_issue"]


@pytest.mark.parametrize("effort", ["medium", "high"])
def test_codex_effort_on_claude_leaves_room_for_the_answer(client, fakes, effort):
    client.responses.create(
        model=CLAUDE, input="hi", reasoning={"effort": effort, "summary": "auto"}, store=False
    )
    sent = fakes["anthropic"].last.json
    assert sent["max_tokens"] - sent["thinking"]["budget_tokens"] >= 1024


@BOTH
def test_codex_web_search_reaches_the_providers_own_search(client, fakes, provider):
    client.responses.create(
        model=MODELS[provider], input="news?", tools=[{"type": "web_search"}], store=False
    )
    tools = fakes[provider].last.json.get("tools") or []
    if provider == "anthropic":
        assert [t.get("type") for t in tools] == ["web_search_20250305"]
    else:
        assert tools == [{"googleSearch": {}}]


# ------------------------------------------------------------------- peer bugs


def test_bug01_reasoning_then_text_announces_the_message(gateway, fakes):
    fakes["anthropic"].enqueue(
        anthropic_reply(
            [
                {"type": "thinking", "thinking": "Hmm.", "signature": CLAUDE_SIGS[0]},
                {"type": "text", "text": "Answer."},
            ],
            stream=True,
        )
    )
    got = raw_stream(
        gateway, {"model": CLAUDE, "input": "q", "reasoning": {"effort": "low", "summary": "auto"}}
    )
    final = validate_sse(got.content)
    events = sse_events(got.content)
    added = [e["item"]["type"] for e in events if e["type"] == "response.output_item.added"]
    assert added == ["reasoning", "message"]
    first_text = next(i for i, e in enumerate(events) if e["type"] == "response.output_text.delta")
    message_added = next(
        i
        for i, e in enumerate(events)
        if e["type"] == "response.output_item.added" and e["item"]["type"] == "message"
    )
    assert message_added < first_text
    assert [item["type"] for item in final["output"]] == ["reasoning", "message"]


@BOTH
@STREAMS
def test_bug09_namespaced_call_comes_back_with_its_namespace(client, fakes, provider, stream):
    call = {"name": "mcp__github__get_issue", "input": {"number": 3}}
    if provider == "anthropic":
        reply = anthropic_reply([{"type": "tool_use", "id": "toolu_n", **call}], stream=stream)
    else:
        reply = gemini_reply(
            [{"functionCall": {"name": call["name"], "args": call["input"]}}], stream=stream
        )
    fakes[provider].enqueue(reply)
    r = answer(client, stream, model=MODELS[provider], input="issue 3?", tools=CODEX_TOOLS[:2])
    (item,) = r.output
    assert item.type == "function_call"
    assert (item.namespace, item.name, orjson.loads(item.arguments)) == (
        "mcp__github",
        "get_issue",
        {"number": 3},
    )


@BOTH
@STREAMS
def test_bug10_custom_tool_call_has_raw_input(client, fakes, provider, stream):
    if provider == "anthropic":
        block = {
            "type": "tool_use",
            "id": "toolu_c",
            "name": "apply_patch",
            "input": {"input": PATCH},
        }
        reply = anthropic_reply([block], stream=stream)
    else:
        reply = gemini_reply(
            [{"functionCall": {"name": "apply_patch", "args": {"input": PATCH}}}], stream=stream
        )
    fakes[provider].enqueue(reply)
    r = answer(client, stream, model=MODELS[provider], input="patch it", tools=CODEX_TOOLS[2:3])
    (item,) = r.output
    assert item.type == "custom_tool_call" and item.name == "apply_patch"
    assert item.input == PATCH
    if stream:
        events = sse_events(client.recorder.streams[-1].raw)
        deltas = [
            e["delta"] for e in events if e["type"] == "response.custom_tool_call_input.delta"
        ]
        assert "".join(deltas) == PATCH
        assert not [e for e in events if e["type"].startswith("response.function_call")]


@BOTH
@pytest.mark.parametrize("status", [400, 529], ids=["400", "overloaded"])
def test_bug11_non_2xx_answer_to_a_stream_is_an_sdk_error(client, gateway, fakes, provider, status):
    """Not an empty 200 body: the upstream's error, with the status the SDK raises on."""
    if status != 400 and provider == "gemini":
        status = 503  # Gemini's overloaded
    error = openai.BadRequestError if status == 400 else openai.InternalServerError
    fakes[provider].enqueue(Reply.error(provider, status, "nope, not now"))
    with pytest.raises(error) as caught:
        final_of(client, model=MODELS[provider], input="hi")
    assert "nope, not now" in caught.value.message
    fakes[provider].enqueue(Reply.error(provider, status, "nope, not now"))
    with pytest.raises(error):
        list(client.responses.create(model=MODELS[provider], input="hi", stream=True))
    fakes[provider].enqueue(Reply.error(provider, status, "nope, not now"))
    got = raw_stream(gateway, {"model": MODELS[provider], "input": "hi"})
    assert got.status_code == (400 if status == 400 else 503)
    assert got.headers["content-type"] == "application/json"
    error_body = got.json()["error"]
    assert error_body["message"] == "nope, not now"
    if status != 400:
        assert error_body["code"] == "server_is_overloaded"


def cut_stream(provider: str, *, drop: bool) -> Reply:
    """The upstream's body ends in the middle of a tool call's arguments (Claude) or of
    the text (Gemini): a clean end of the body, or the connection dropped."""
    if provider == "anthropic":
        full = anthropic_reply(
            [
                {
                    "type": "tool_use",
                    "id": "toolu_x",
                    "name": "get_issue",
                    "input": {"number": 12345},
                }
            ],
            stream=True,
        )
        frames = list(full.frames or ())[:4]  # start, block start, two argument fragments
    else:
        full = gemini_reply([{"text": "Partial answer, then"}, {"text": " more"}], stream=True)
        frames = [full.frames[0], full.frames[1][:30]] if full.frames else []
    return Reply.sse(frames, break_after=sum(map(len, frames)) if drop else None)


ISSUE_TOOL = [{**CODEX_TOOLS[1]["tools"][0], "type": "function"}]


@BOTH
def test_bug12_a_stream_cut_mid_item_ends_in_response_failed(client, gateway, fakes, provider):
    fakes[provider].enqueue(cut_stream(provider, drop=False))
    got = raw_stream(gateway, {"model": MODELS[provider], "input": "hi", "tools": ISSUE_TOOL})
    assert got.status_code == 200
    final = validate_sse(got.content)
    assert final["status"] == "failed" and final["error"]["code"] == "server_error"
    assert sse_events(got.content)[-1]["type"] == "response.failed"
    fakes[provider].enqueue(cut_stream(provider, drop=False))
    events = client.responses.create(
        model=MODELS[provider], input="hi", stream=True, tools=ISSUE_TOOL
    )
    assert [e.type for e in events][-1] == "response.failed"
    fakes[provider].enqueue(cut_stream(provider, drop=False))
    with pytest.raises(RuntimeError, match=r"response\.completed"):
        final_of(client, model=MODELS[provider], input="hi", tools=ISSUE_TOOL)


@BOTH
def test_bug12_an_upstream_connection_dropped_mid_item_is_an_error(client, fakes, provider):
    """The relay sees the upstream's connection drop and ends the caller's stream with
    its in-stream error form: ``response.failed``, never a silent end."""
    fakes[provider].enqueue(cut_stream(provider, drop=True))
    seen = [
        event.type
        for event in client.responses.create(
            model=MODELS[provider], input="hi", stream=True, tools=ISSUE_TOOL
        )
    ]
    assert seen[0] == "response.created" and seen[-1] == "response.failed"
    assert "response.completed" not in seen


def test_bug12_an_upstream_error_event_mid_item_is_response_failed(client, fakes):
    full = anthropic_reply([{"type": "text", "text": "Halfway there and"}], stream=True)
    frames = [*list(full.frames or ())[:3]]
    frames += anthropic_frames(
        [{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]
    )
    fakes["anthropic"].enqueue(Reply.sse(frames))
    events = list(client.responses.create(model=CLAUDE, input="hi", stream=True))
    assert events[-1].type == "response.failed"
    assert events[-1].response.error.code == "server_is_overloaded"
    assert "Halfway there and" in "".join(
        e.delta for e in events if e.type == "response.output_text.delta"
    )


@STREAMS
def test_bug13_arguments_that_arrive_whole_or_not_at_all(client, fakes, stream):
    fakes["gemini"].enqueue(
        gemini_reply(
            [{"functionCall": {"name": "shell", "args": {"command": ["ls", "-la"]}}}], stream=stream
        )
    )
    r = answer(client, stream, model=MODELS["gemini"], input="list", tools=CODEX_TOOLS[:1])
    assert orjson.loads(r.output[0].arguments) == {"command": ["ls", "-la"]}
    fakes["anthropic"].enqueue(
        anthropic_reply(
            [{"type": "tool_use", "id": "toolu_e", "name": "shell", "input": {}}], stream=stream
        )
    )
    r = answer(client, stream, model=CLAUDE, input="list", tools=CODEX_TOOLS[:1])
    assert r.output[0].type == "function_call" and orjson.loads(r.output[0].arguments) == {}


@BOTH
@STREAMS
def test_bug16_metadata_and_client_metadata_never_reach_the_upstream(
    client, fakes, provider, stream
):
    r = answer(
        client,
        stream,
        model=MODELS[provider],
        input="hi",
        metadata={"trace": "abc123"},
        extra_body={"client_metadata": {"originator": "codex_cli_rs"}},
    )
    assert r.status == "completed"
    sent = fakes[provider].last.body.decode()
    assert "abc123" not in sent and "codex_cli_rs" not in sent and "metadata" not in sent
