"""messages.py: the conversation and its parts, both directions."""

from __future__ import annotations

import pytest

from tests.unit.openai_chat import foreign_request, user
from translators import ir
from translators import openai_chat as oc
from translators.errors import TranslationError

# ------------------------------------------------------------------------------- parse


def test_system_and_developer_stay_in_place() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {"role": "developer", "content": "d"},
                {"role": "user", "content": "u", "name": "ann"},
                {"role": "system", "content": [{"type": "text", "text": "s"}]},
            ],
        }
    )
    assert [(m.role, m.parts, m.name) for m in req.messages] == [
        ("developer", [ir.Text("d")], None),
        ("user", [ir.Text("u")], "ann"),
        ("system", [ir.Text("s")], None),
    ]


def test_user_media_parts_read_data_urls_as_inline_data() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {
                            "type": "image_url",
                            "image_url": {"url": "data:image/png;base64,iVBO", "detail": "low"},
                        },
                        {"type": "image_url", "image_url": {"url": "https://x/y.jpg"}},
                        {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                        {
                            "type": "file",
                            "file": {
                                "filename": "a.pdf",
                                "file_data": "data:application/pdf;base64,JVBE",
                            },
                        },
                        {"type": "file", "file": {"file_data": "JVBE"}},
                        {"type": "file", "file": {"file_id": "file-1"}},
                    ],
                }
            ],
        }
    )
    assert req.messages[0].parts == [
        ir.Text("look"),
        ir.Image(media_type="image/png", data="iVBO", detail="low"),
        ir.Image(url="https://x/y.jpg"),
        ir.Audio(media_type="audio/wav", data="UklG"),
        ir.Document(media_type="application/pdf", data="JVBE", filename="a.pdf"),
        ir.Document(data="JVBE"),
        ir.Document(file_id="file-1"),
    ]


def test_assistant_history_is_thinking_then_text_then_calls() -> None:
    """Message-level and call-level Google signatures are kept; arguments verbatim."""
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {
                    "role": "assistant",
                    "content": "checking",
                    "reasoning_content": "they want weather",
                    "extra_content": {"google": {"thought_signature": "textsig"}},
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get", "arguments": '{"a": 1 }'},
                            "extra_content": {"google": {"thought_signature": "callsig"}},
                        }
                    ],
                    "refusal": None,
                    "annotations": [],
                },
            ],
        }
    )
    assert req.messages[0].parts == [
        ir.Thinking(text="they want weather", origin="openai_chat"),
        ir.Text("checking", signature="textsig"),
        ir.ToolCall("call_1", "get", '{"a": 1 }', signature="callsig"),
    ]


def test_tool_result_name_is_looked_up_from_its_call() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get", "arguments": "{}"}}
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
                {"role": "tool", "tool_call_id": "call_1", "content": "x", "name": "own"},
            ],
        }
    )
    assert req.messages[1].role == "tool"
    assert req.messages[1].parts == [ir.ToolResult("call_1", [ir.Text("sunny")], name="get")]
    assert req.messages[2].parts == [ir.ToolResult("call_1", [ir.Text("x")], name="own")]


def test_thinking_blocks_attributed_by_prefix() -> None:
    req = oc.parse_request(
        {
            "model": "m",
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": "ignored: the blocks hold it",
                    "thinking_blocks": [
                        {"type": "thinking", "thinking": "a", "signature": "c2ln"},
                        {"type": "redacted_thinking", "data": "ZGF0"},
                        {"type": "thinking", "thinking": "g", "signature": "gemini:Z3NpZw=="},
                        {"type": "thinking", "thinking": "plain"},
                    ],
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}
                    ],
                }
            ],
        }
    )
    assert req.messages[0].parts[:4] == [
        ir.Thinking(text="a", signature="c2ln", origin="anthropic"),
        ir.Thinking(redacted="ZGF0", origin="anthropic"),
        ir.Thinking(text="g", signature="Z3NpZw==", origin="gemini"),
        ir.Thinking(text="plain", origin="openai_chat"),
    ]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "messages": [{"role": "function", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": ["user"], "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]"),
        ({"model": "m", "messages": [{"role": "user"}]}, "messages[0].content"),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "image", "x": 1}]}]},
            "messages[0].content[0].type",
        ),
        (
            {"model": "m", "messages": [{"role": "system", "content": [{"type": "image_url"}]}]},
            "messages[0].content[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png,xx"}}
                        ],
                    }
                ],
            },
            "messages[0].content[0].image_url.url",
        ),
        (
            {"model": "m", "messages": [{"role": "tool", "content": "x"}]},
            "messages[0].tool_call_id",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "c", "type": "custom", "custom": {"name": "x", "input": ""}}
                        ],
                    }
                ],
            },
            "messages[0].tool_calls[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "c",
                                "type": "function",
                                "function": {"name": "x", "arguments": {}},
                            }
                        ],
                    }
                ],
            },
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            {"model": "m", "messages": [{"role": "assistant", "audio": {"id": "a"}}]},
            "messages[0].audio",
        ),
    ],
)
def test_bad_message_fields_name_the_field(body: dict, param: str) -> None:
    with pytest.raises(TranslationError) as info:
        oc.parse_request(body)
    assert info.value.param == param


def test_a_bad_part_says_what_it_must_be() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}
    with pytest.raises(TranslationError) as info:
        oc.parse_request(body)
    assert info.value.message == "messages[0].content[0].text is required"
    body["messages"][0]["content"][0]["text"] = 5
    with pytest.raises(TranslationError) as info:
        oc.parse_request(body)
    assert info.value.message == "messages[0].content[0].text must be a string"


# ------------------------------------------------------------------------------ render


def foreign_conversation() -> list[dict]:
    """A conversation from another protocol, rendered toward an OpenAI-shaped upstream."""
    req = foreign_request(
        ir.Message("system", [ir.Text("be brief", cache_control={"type": "ephemeral"})]),
        user(ir.Text("hi", cache_control={"type": "ephemeral", "ttl": "1h"})),
        ir.Message(
            "assistant",
            [
                ir.Thinking(text="think", signature="sig", origin="anthropic"),
                ir.Thinking(redacted="xx", origin="anthropic"),
                ir.Thinking(text="deepseek's own", origin="openai_chat"),
                ir.Text(""),
                ir.ToolCall("toolu_1", "shot", '{"x":1}', signature="gsig"),
            ],
        ),
        user(
            ir.ToolResult(
                "toolu_1",
                [ir.Text("here"), ir.Image(media_type="image/png", data="iVBO")],
                is_error=True,
            ),
            ir.Text("what do you see?"),
        ),
    )
    return oc.render_request(req)["messages"]


def test_cache_markers_are_dropped_toward_openai() -> None:
    assert foreign_conversation()[:2] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]


def test_only_openai_compatible_reasoning_is_sent_back() -> None:
    """Another provider's thinking (signed or redacted) is dropped; thinking an
    OpenAI-compatible server made goes back as ``reasoning_content``."""
    assistant = foreign_conversation()[2]
    assert assistant["reasoning_content"] == "deepseek's own"
    assert "thinking_blocks" not in assistant


def test_tool_only_assistant_turn_has_null_content() -> None:
    assert foreign_conversation()[2] == {
        "role": "assistant",
        "content": None,
        "reasoning_content": "deepseek's own",
        "tool_calls": [
            {
                "id": "toolu_1",
                "type": "function",
                "function": {"name": "shot", "arguments": '{"x":1}'},
            }
        ],
    }


def test_tool_result_media_follow_in_a_user_message() -> None:
    """Tool messages hold text only: the image follows, ahead of the user's own text;
    ``is_error`` is dropped."""
    assert foreign_conversation()[3:] == [
        {"role": "tool", "tool_call_id": "toolu_1", "content": "here"},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                {"type": "text", "text": "what do you see?"},
            ],
        },
    ]


def test_foreign_media_parts_render_as_chat_parts() -> None:
    req = foreign_request(
        user(
            ir.Audio(media_type="audio/mpeg", data="SUQz"),
            ir.Document(media_type="application/pdf", data="JVBE", title="t"),
            ir.Document(text="plain doc"),
            ir.Image(url="https://x/y.png"),
        )
    )
    assert oc.render_request(req)["messages"][0]["content"] == [
        {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE"}},
        {"type": "text", "text": "plain doc"},
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
    ]


def test_several_texts_render_as_a_part_list() -> None:
    req = foreign_request(ir.Message("developer", [ir.Text("a"), ir.Text("b")]))
    assert oc.render_request(req)["messages"] == [
        {
            "role": "developer",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
        },
    ]


def test_each_tool_result_becomes_its_own_tool_message() -> None:
    req = foreign_request(
        ir.Message("tool", [ir.ToolResult("c1", [ir.Text("r1")]), ir.ToolResult("c2", [])]),
    )
    assert oc.render_request(req)["messages"] == [
        {"role": "tool", "tool_call_id": "c1", "content": "r1"},
        {"role": "tool", "tool_call_id": "c2", "content": ""},
    ]


def test_signatures_are_not_sent_to_an_openai_shaped_upstream() -> None:
    req = foreign_request(
        ir.Message("assistant", [ir.Text("t", signature="s"), ir.ToolCall("c", "f", "{}", "s2")]),
    )
    assert oc.render_request(req)["messages"] == [
        {
            "role": "assistant",
            "content": "t",
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        }
    ]


@pytest.mark.parametrize(
    ("message", "param"),
    [
        (user(ir.Image(url="gs://b/x.png")), "messages[0].parts[0]"),
        (user(ir.Image(data="xx")), "messages[0].parts[0]"),
        (user(ir.Document(url="https://x/a.pdf")), "messages[0].parts[0]"),
        (
            user(ir.Document(data="x", media_type="application/pdf", citations={"enabled": True})),
            "messages[0].parts[0]",
        ),
        (user(ir.Audio(media_type="image/png", data="x")), "messages[0].parts[0]"),
        (user(ir.ToolCall("c", "f", "{}")), "messages[0].parts[0]"),
        (ir.Message("system", [ir.Image(url="https://x")]), "messages[0].parts[0]"),
        (ir.Message("assistant", [ir.Image(url="https://x")]), "messages[0].parts[0]"),
    ],
)
def test_inexpressible_parts_are_refused(message: ir.Message, param: str) -> None:
    with pytest.raises(TranslationError) as info:
        oc.render_request(foreign_request(message))
    assert info.value.param == param
