"""translators/anthropic/messages.py: ``system``, the turns and their blocks, both ways."""

from __future__ import annotations

import copy

import pytest

from tests.unit.anthropic import foreign, user
from translators import anthropic as codec
from translators import ir
from translators.anthropic.request import DEFAULT_MAX_TOKENS
from translators.errors import TranslationError

# ---------------------------------------------------------- from an Anthropic caller


def test_extension_fields_bring_back_other_providers_state() -> None:
    body = {
        "model": "m",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "t1", "signature": "gemini:GSIG"},
                    {"type": "thinking", "thinking": "t2", "signature": ""},
                    {
                        "type": "text",
                        "text": "ok",
                        "extra_content": {"google": {"thought_signature": "TSIG"}},
                    },
                    {
                        "type": "tool_use",
                        "id": "gem_1",
                        "name": "f",
                        "input": {},
                        "extra_content": {"google": {"thought_signature": "FSIG"}},
                    },
                ],
            },
        ],
    }
    parts = codec.parse_request(body).messages[1].parts
    assert parts[0] == ir.Thinking("t1", signature="GSIG", origin="gemini")
    assert parts[1] == ir.Thinking("t2")
    assert parts[2] == ir.Text("ok", signature="TSIG")
    assert parts[3] == ir.ToolCall("gem_1", "f", "{}", signature="FSIG")


def test_anthropic_caller_system_role_kept_in_place() -> None:
    body = {
        "model": "m",
        "max_tokens": 5,
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "system", "content": "b"},
            {"role": "user", "content": "c"},
        ],
    }
    assert codec.render_request(codec.parse_request(copy.deepcopy(body))) == body


def test_anthropic_file_document_round_trips() -> None:
    doc = {"type": "document", "source": {"type": "file", "file_id": "file_011"}}
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [doc]}]}
    assert codec.render_request(codec.parse_request(copy.deepcopy(body))) == body


@pytest.mark.parametrize(
    ("block", "param"),
    [
        ({"type": "image", "source": {"type": "file", "file_id": "f"}}, "content[0].source.type"),
        ({"type": "document", "source": {"type": "content", "content": []}}, "source.content"),
        (
            {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "x"}]},
            "content[0].type",
        ),
        ({"type": "text"}, "content[0].text"),
    ],
)
def test_blocks_ir_cannot_hold_are_refused(block: dict, param: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": [block]}]}
    with pytest.raises(TranslationError) as exc:
        codec.parse_request(body)
    assert exc.value.param is not None and exc.value.param.endswith(param)


# ----------------------------------------------------------- toward Anthropic


def test_foreign_system_developer_and_mid_conversation_system() -> None:
    req = foreign(
        ir.Message("system", [ir.Text("sys")]),
        ir.Message("developer", [ir.Text("dev", cache_control={"type": "ephemeral"})]),
        user("q1"),
        ir.Message("assistant", [ir.Text("a1")]),
        ir.Message("system", [ir.Text("now be formal")]),
        user("q2"),
    )
    body = codec.render_request(req)
    assert body["system"] == [
        {"type": "text", "text": "sys"},
        {"type": "text", "text": "dev", "cache_control": {"type": "ephemeral"}},
    ]
    assert body["messages"] == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "now be formal"}, {"type": "text", "text": "q2"}],
        },
    ]
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS


def test_non_text_system_part_is_refused() -> None:
    req = foreign(ir.Message("system", [ir.Image(url="https://x.test/i.png")]), user("q"))
    with pytest.raises(TranslationError) as exc:
        codec.render_request(req)
    assert exc.value.param == "messages[0].parts[0]"


def test_tool_messages_merge_in_call_order_and_first() -> None:
    req = foreign(
        user("weather?"),
        ir.Message(
            "assistant",
            [
                ir.Text(""),
                ir.ToolCall("c1", "f", '{"a":1}'),
                ir.ToolCall("c2", "g", ""),
            ],
        ),
        ir.Message("tool", [ir.ToolResult("c2", [ir.Text("two")], name="g")]),
        ir.Message("user", [ir.Text("and also")]),
        ir.Message("tool", [ir.ToolResult("c1", [], is_error=True)]),
    )
    messages = codec.render_request(req)["messages"]
    assert messages == [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "c1", "name": "f", "input": {"a": 1}},
                {"type": "tool_use", "id": "c2", "name": "g", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "", "is_error": True},
                {"type": "tool_result", "tool_use_id": "c2", "content": "two"},
                {"type": "text", "text": "and also"},
            ],
        },
    ]


def test_empty_text_blocks_and_empty_turns_are_dropped() -> None:
    req = foreign(
        user("  "),
        user("hi"),
        ir.Message("assistant", [ir.Text("")]),
        ir.Message("assistant", [ir.Text(" \n"), ir.Text("real")]),
    )
    assert codec.render_request(req)["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "real"},
    ]


def test_foreign_state_never_sent_to_anthropic() -> None:
    assistant = ir.Message(
        "assistant",
        [
            ir.Thinking("gem", signature="G", origin="gemini"),
            ir.Thinking("oai", origin="openai_chat"),
            ir.Thinking("unsigned", origin="anthropic"),
            ir.Thinking("signed", signature="S", origin="anthropic"),
            ir.Thinking(redacted="R", origin="anthropic"),
            ir.Text("t", signature="TS", citations=[{"type": "url_citation"}]),
            ir.ToolCall("c", "f", "{}", signature="FS"),
        ],
    )
    content = codec.render_request(foreign(user("q"), assistant))["messages"][1]["content"]
    assert content == [
        {"type": "thinking", "thinking": "signed", "signature": "S"},
        {"type": "redacted_thinking", "data": "R"},
        {"type": "text", "text": "t"},
        {"type": "tool_use", "id": "c", "name": "f", "input": {}},
    ]


def test_image_detail_is_dropped_and_filename_becomes_the_title() -> None:
    req = foreign(
        ir.Message(
            "user",
            [
                ir.Image(media_type="image/png", data="AAA", detail="high"),
                ir.Document(media_type="application/pdf", data="JVB", filename="r.pdf"),
            ],
        )
    )
    assert codec.render_request(req)["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVB"},
            "title": "r.pdf",
        },
    ]


def test_text_documents_become_text_or_content_sources() -> None:
    req = foreign(
        ir.Message(
            "user",
            [ir.Document(text="a", media_type="text/plain"), ir.Document(text="b", title="T")],
        )
    )
    assert codec.render_request(req)["messages"][0]["content"] == [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "a"}},
        {"type": "document", "source": {"type": "content", "content": "b"}, "title": "T"},
    ]


@pytest.mark.parametrize(
    ("part", "param", "text"),
    [
        (ir.Audio("audio/wav", "UklG"), "messages[0].parts[1]", "audio"),
        (ir.Image(url="gs://bucket/a.png"), "messages[0].parts[1]", "http"),
        (ir.Image(data="iVBOR"), "messages[0].parts[1]", "media type"),
        (ir.Document(file_id="file-abc"), "messages[0].parts[1]", "file id"),
        (
            ir.ToolResult("c", [ir.Audio("audio/wav", "x")]),
            "messages[0].parts[1].content[0]",
            "tool results",
        ),
    ],
)
def test_part_refusals(part: ir.Part, param: str, text: str) -> None:
    with pytest.raises(TranslationError) as exc:
        codec.render_request(foreign(ir.Message("user", [ir.Text("q"), part])))
    assert exc.value.param == param
    assert text in exc.value.message


def test_invalid_tool_arguments_refused() -> None:
    req = foreign(user("q"), ir.Message("assistant", [ir.ToolCall("c", "f", '{"a":')]))
    with pytest.raises(TranslationError) as exc:
        codec.render_request(req)
    assert exc.value.param == "messages[1].parts[0]"
    assert exc.value.status == 400
