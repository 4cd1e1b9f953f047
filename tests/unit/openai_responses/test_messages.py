"""Input items <-> IR messages: grouping, content parts, reasoning (sealed or OpenAI's),
calls and results, and rendering back."""

from __future__ import annotations

import pytest

from translators import ir, sealing
from translators.errors import TranslationError
from translators.openai_responses import messages


def parse(items: object) -> list[ir.Message]:
    return messages.parse_input(items).messages


def test_string_input_is_one_user_message():
    assert parse("hi") == [ir.Message("user", [ir.Text("hi")])]


def test_assistant_items_join_one_turn_and_results_one_tool_message():
    out = parse(
        [
            {"role": "user", "content": "q"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "r"}]},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "a"}],
            },
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {
                "type": "function_call",
                "call_id": "c2",
                "name": "g",
                "arguments": "{}",
                "namespace": "ns",
            },
            {"type": "function_call_output", "call_id": "c1", "output": "1"},
            {"type": "function_call_output", "call_id": "c2", "output": "2"},
            {"type": "message", "role": "assistant", "content": "b"},
            {"type": "message", "role": "assistant", "content": "c"},
        ]
    )
    assert [m.role for m in out] == ["user", "assistant", "tool", "assistant", "assistant"]
    assert out[1].parts == [
        ir.Thinking("r", origin="openai_responses"),
        ir.Text("a"),
        ir.ToolCall("c1", "f", "{}"),
        ir.ToolCall("c2", "g", "{}", namespace="ns"),
    ]
    assert [p.name for p in out[2].parts] == ["f", "g"]  # type: ignore[union-attr]


def test_user_parts():
    out = parse(
        [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "t"},
                    {
                        "type": "input_image",
                        "image_url": "data:image/png;base64,AAA",
                        "detail": "high",
                    },
                    {"type": "input_image", "image_url": "https://x/i.jpg"},
                    {"type": "input_image", "file_id": "file-1"},
                    {
                        "type": "input_file",
                        "file_data": "data:application/pdf;base64,JVB",
                        "filename": "a.pdf",
                    },
                    {"type": "input_file", "file_data": "JVB", "filename": "b.pdf"},
                    {"type": "input_file", "file_url": "https://x/c.pdf"},
                    {"type": "input_file", "file_id": "file-2"},
                ],
            }
        ]
    )
    assert out[0].parts == [
        ir.Text("t"),
        ir.Image(media_type="image/png", data="AAA", detail="high"),
        ir.Image(url="https://x/i.jpg"),
        ir.Image(file_id="file-1"),
        ir.Document(media_type="application/pdf", data="JVB", filename="a.pdf"),
        ir.Document(data="JVB", filename="b.pdf"),
        ir.Document(url="https://x/c.pdf"),
        ir.Document(file_id="file-2"),
    ]


def test_reasoning_items_sealed_by_the_gateway_stay_closed():
    blob = sealing.seal(b"k", "p", {"thinking": []})
    out = parse(
        [
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "s"}],
                "encrypted_content": blob,
            },
            {
                "type": "reasoning",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "raw"}],
            },
        ]
    )
    assert out[0].parts == [
        ir.Thinking("s", sealed=blob),
        ir.Thinking("raw", origin="openai_responses"),
    ]


def test_custom_calls_and_outputs_with_parts():
    out = parse(
        [
            {
                "type": "custom_tool_call",
                "call_id": "c",
                "name": "apply_patch",
                "input": "*** Begin",
            },
            {
                "type": "custom_tool_call_output",
                "call_id": "c",
                "output": [
                    {"type": "input_text", "text": "ok"},
                    {"type": "input_image", "image_url": "https://x/y.png"},
                ],
            },
        ]
    )
    assert out[0].parts == [ir.ToolCall("c", "apply_patch", "*** Begin", kind="custom")]
    assert out[1].parts == [
        ir.ToolResult("c", [ir.Text("ok"), ir.Image(url="https://x/y.png")], name="apply_patch")
    ]


def test_render_input_round_trips_calls_and_outputs_by_kind():
    conversation = parse(
        [
            {"type": "custom_tool_call", "call_id": "c", "name": "p", "input": "x"},
            {"type": "custom_tool_call_output", "call_id": "c", "output": "done"},
            {"type": "function_call", "call_id": "d", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "d", "output": ""},
        ]
    )
    assert messages.render_input(conversation, same_protocol=False) == [
        {"type": "custom_tool_call", "call_id": "c", "name": "p", "input": "x"},
        {"type": "custom_tool_call_output", "call_id": "c", "output": "done"},
        {"type": "function_call", "call_id": "d", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "d", "output": ""},
    ]


def test_render_drops_foreign_and_sealed_thinking_and_empty_text():
    conversation = [
        ir.Message(
            "assistant",
            [
                ir.Thinking("x", "SIG", origin="anthropic"),
                ir.Thinking("y", sealed="gwstate.v1.AAAA"),
                ir.Thinking("z", origin="openai_responses"),
                ir.Text(""),
                ir.Text("answer"),
            ],
        )
    ]
    assert messages.render_input(conversation, same_protocol=False) == [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "answer", "annotations": []}],
        }
    ]
    same = messages.render_input(conversation, same_protocol=True)
    assert same[0] == {"type": "reasoning", "summary": [{"type": "summary_text", "text": "z"}]}


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (ir.Audio("audio/wav", "AAA"), "Audio"),
        (ir.Image(url="gs://bucket/x.png"), "http(s)"),
        (ir.Image(data="AAA"), "media type"),
        (ir.Document(url="ftp://x"), "http(s)"),
    ],
)
def test_inexpressible_parts_are_refused(part, message):
    with pytest.raises(TranslationError) as err:
        messages.render_input([ir.Message("user", [part])], same_protocol=False)
    assert message in err.value.message and err.value.param == "messages[0].parts[0]"


def test_documents_render_as_input_files_or_text():
    parts = [
        ir.Document(text="plain"),
        ir.Document(media_type="application/pdf", data="JVB", title="Report"),
        ir.Document(url="https://x/a.pdf", filename="a.pdf"),
        ir.Document(file_id="file-1"),
    ]
    assert messages.render_input([ir.Message("user", parts)], same_protocol=False)[0][
        "content"
    ] == [
        {"type": "input_text", "text": "plain"},
        {
            "type": "input_file",
            "file_data": "data:application/pdf;base64,JVB",
            "filename": "Report",
        },
        {"type": "input_file", "file_url": "https://x/a.pdf", "filename": "a.pdf"},
        {"type": "input_file", "file_id": "file-1"},
    ]
