"""The conversation: ``systemInstruction``, ``contents`` and their parts, both ways."""

from __future__ import annotations

import base64
import contextlib
import copy

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.gemini import foreign, load, user
from translators import gemini, ir
from translators.errors import TranslationError

# ---------------------------------------------------------------------------- parse


def test_snake_case_system_instruction() -> None:
    body = load("request_system_instruction_multiturn.json")
    req = gemini.parse_request(body, model="gemini-2.5-flash")
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "user"]
    expected = {
        "systemInstruction": {"parts": [body["system_instruction"]["parts"]]},
        "contents": body["contents"],
    }
    assert gemini.render_request(req) == expected


def test_system_instruction_role_is_kept_for_gemini() -> None:
    body = {"systemInstruction": {"role": "user", "parts": [{"text": "be brief"}]}, "contents": []}
    req = gemini.parse_request(copy.deepcopy(body), model="m")
    assert req.messages == [ir.Message("system", [ir.Text("be brief")])]
    assert gemini.render_request(req) == body


def test_legacy_function_role_is_user() -> None:
    body = load("request_function_response_turn.json")
    req = gemini.parse_request(body, model="gemini-2.5-flash")
    assert [m.role for m in req.messages] == ["user", "assistant", "tool"]
    call = req.messages[1].parts[0]
    result = req.messages[2].parts[0]
    assert isinstance(call, ir.ToolCall) and isinstance(result, ir.ToolResult)
    assert call.id.startswith("gem_") and result.call_id == call.id
    assert result.name == "find_theaters"
    text = result.content[0]
    assert isinstance(text, ir.Text)
    response = body["contents"][2]["parts"][0]["functionResponse"]["response"]
    assert orjson.loads(text.text) == response
    expected = copy.deepcopy(body)
    expected["contents"][2]["role"] = "user"
    assert gemini.render_request(req) == expected


def test_snake_case_part_names_are_read_and_base64_made_standard() -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"mime_type": "image/png", "data": "iVBO-_"}},
                    {"file_data": {"mime_type": "application/pdf", "file_uri": "gs://b/x.pdf"}},
                ],
            }
        ]
    }
    image, doc = gemini.parse_request(body, model="m").messages[0].parts
    assert image == ir.Image(media_type="image/png", data="iVBO+/")  # URL-safe -> standard
    assert doc == ir.Document(media_type="application/pdf", url="gs://b/x.pdf")


def test_a_lone_object_is_read_as_a_one_element_list() -> None:
    body = {"contents": {"role": "user", "parts": {"text": "hi"}}}
    assert gemini.parse_request(body, model="m").messages == [user("hi")]


def test_parallel_calls_and_responses_gemini25_pair_by_name_and_order() -> None:
    req = gemini.parse_request(
        load("request_parallel_function_responses_gemini25.json"), model="gemini-2.5-flash"
    )
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "tool"]
    calls = req.messages[2].parts
    results = req.messages[3].parts
    assert all(isinstance(c, ir.ToolCall) and c.id.startswith("gem_") for c in calls)
    assert all(isinstance(r, ir.ToolResult) for r in results)
    assert len({c.id for c in calls if isinstance(c, ir.ToolCall)}) == 3
    signatures = [c.signature for c in calls if isinstance(c, ir.ToolCall)]
    assert signatures[0] and signatures[1:] == [None, None]
    ids = [c.id for c in calls if isinstance(c, ir.ToolCall)]
    assert [r.call_id for r in results if isinstance(r, ir.ToolResult)] == ids
    texts = [r.content[0] for r in results if isinstance(r, ir.ToolResult)]
    assert [orjson.loads(t.text) for t in texts if isinstance(t, ir.Text)] == [
        {"sum": 5},
        {"sum": 9},
        {"sum": 13},
    ]
    again = gemini.parse_request(
        load("request_parallel_function_responses_gemini25.json"), model="gemini-2.5-flash"
    )
    assert [c.id for c in again.messages[2].parts if isinstance(c, ir.ToolCall)] == ids  # stable


def test_parallel_calls_and_responses_gemini3_keep_ids() -> None:
    req = gemini.parse_request(
        load("request_parallel_function_responses_gemini3flash.json"), model="gemini-3-flash"
    )
    calls = [c for c in req.messages[2].parts if isinstance(c, ir.ToolCall)]
    results = [r for r in req.messages[3].parts if isinstance(r, ir.ToolResult)]
    assert [c.id for c in calls] == ["3ae8iwca", "up3kf30e", "ycroch25"]
    assert [r.call_id for r in results] == ["3ae8iwca", "up3kf30e", "ycroch25"]


def test_id_less_responses_pair_with_the_first_unanswered_call_of_that_name() -> None:
    body = {
        "contents": [
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"name": "a", "args": {"x": 1}}},
                    {"functionCall": {"name": "b", "args": {}}},
                    {"functionCall": {"name": "a", "args": {"x": 2}}},
                ],
            },
            {"role": "user", "parts": [{"functionResponse": {"name": "a", "response": {}}}]},
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "a", "response": {}}},
                    {"functionResponse": {"name": "b", "response": {}}},
                    {"functionResponse": {"name": "zzz", "response": {}}},
                ],
            },
        ]
    }
    req = gemini.parse_request(body, model="m")
    calls = [c for c in req.messages[0].parts if isinstance(c, ir.ToolCall)]
    results = [r for m in req.messages[1:] for r in m.parts if isinstance(r, ir.ToolResult)]
    assert [m.role for m in req.messages] == ["assistant", "tool", "tool"]
    assert [r.call_id for r in results[:3]] == [calls[0].id, calls[2].id, calls[1].id]
    assert results[3].call_id.startswith("gem_") and results[3].call_id not in {c.id for c in calls}


def test_function_response_content_forms() -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": "1", "name": "f", "response": {"output": "hi"}}},
                    {"functionResponse": {"id": "2", "name": "f", "response": {"error": "boom"}}},
                    {"functionResponse": {"id": "3", "name": "f", "response": {"a": [1]}}},
                    {
                        "functionResponse": {
                            "id": "4",
                            "name": "f",
                            "response": {"output": '{"a": 1}'},
                        }
                    },
                    {"functionResponse": {"id": "5", "name": "f", "response": {"error": {"c": 1}}}},
                ],
            }
        ]
    }
    req = gemini.parse_request(body, model="m")
    results = req.messages[0].parts
    assert results[0] == ir.ToolResult("1", [ir.Text("hi")], name="f")
    assert results[1] == ir.ToolResult("2", [ir.Text("boom")], name="f", is_error=True)
    assert results[2] == ir.ToolResult("3", [ir.Text('{"a":[1]}')], name="f")
    assert results[3] == ir.ToolResult("4", [ir.Text('{"output":"{\\"a\\": 1}"}')], name="f")
    assert results[4] == ir.ToolResult("5", [ir.Text('{"c":1}')], name="f", is_error=True)
    assert gemini.render_request(req) == body


def test_function_response_parts_round_trip_for_gemini_callers() -> None:
    body = {
        "contents": [
            {
                "role": "model",
                "parts": [{"functionCall": {"id": "c1", "name": "shot", "args": {}}}],
            },
            {
                "role": "user",
                "parts": [
                    {
                        "functionResponse": {
                            "id": "c1",
                            "name": "shot",
                            "response": {"ok": True},
                            "parts": [{"inlineData": {"mimeType": "image/png", "data": "AAAA"}}],
                        }
                    }
                ],
            },
        ]
    }
    req = gemini.parse_request(body, model="gemini-3-pro")
    result = req.messages[1].parts[0]
    assert isinstance(result, ir.ToolResult)
    assert result.content[1] == ir.Image(media_type="image/png", data="AAAA")
    assert gemini.render_request(req) == body


THOUGHTS = [
    {"text": "mine", "thought": True, "thoughtSignature": "CmIBvj72"},
    {
        "text": "theirs",
        "thought": True,
        "thoughtSignature": base64.b64encode(b"anthropic:EqQBCgIYAh").decode(),
    },
    {
        "text": "",
        "thought": True,
        "thoughtSignature": base64.b64encode(b"anthropic-redacted:REDACTED").decode(),
    },
    {"text": "literal", "thought": True, "thoughtSignature": "anthropic:SIG"},
    {"text": "answer", "thoughtSignature": "TXTSIG"},
]


def test_thought_signatures_give_thinking_its_origin() -> None:
    body = {"contents": [{"role": "model", "parts": THOUGHTS}]}
    parts = gemini.parse_request(body, model="gemini-2.5-pro").messages[0].parts
    assert parts == [
        ir.Thinking("mine", signature="CmIBvj72", origin="gemini"),
        ir.Thinking("theirs", signature="EqQBCgIYAh", origin="anthropic"),
        ir.Thinking("", redacted="REDACTED", origin="anthropic"),
        ir.Thinking("literal", signature="SIG", origin="anthropic"),
        ir.Text("answer", signature="TXTSIG"),
    ]


def test_foreign_thinking_never_goes_back_to_gemini() -> None:
    body = {"contents": [{"role": "model", "parts": THOUGHTS}]}
    req = gemini.parse_request(body, model="gemini-2.5-pro")
    assert gemini.render_request(req)["contents"][0]["parts"] == [THOUGHTS[0], THOUGHTS[4]]


def test_a_signature_only_part_is_empty_text() -> None:
    body = {"contents": [{"role": "model", "parts": [{"thoughtSignature": "SIG"}]}]}
    req = gemini.parse_request(body, model="m")
    assert req.messages[0].parts == [ir.Text("", signature="SIG")]
    assert gemini.render_request(req)["contents"][0]["parts"] == [
        {"text": "", "thoughtSignature": "SIG"}
    ]


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        (
            {"contents": [{"role": "system", "parts": []}]},
            "contents[0].role",
            "contents[0].role must be user, model or function, not 'system'",
        ),
        (
            {"contents": [{"parts": [{"text": 1}]}]},
            "contents[0].parts[0].text",
            "contents[0].parts[0].text must be a string",
        ),
        (
            {"contents": [{"parts": "x"}]},
            "contents[0].parts",
            "contents[0].parts must be an array",
        ),
        (
            {"contents": [{"parts": [{"executableCode": {}}]}]},
            "contents[0].parts[0]",
            "contents[0].parts[0] is a 'executableCode' part, which cannot be translated",
        ),
        (
            {"contents": [{"parts": [{"functionCall": {"name": "f"}}]}]},
            "contents[0].parts[0]",
            "contents[0].parts[0] is a functionCall or thought, which a user turn cannot hold",
        ),
        (
            {
                "contents": [
                    {
                        "role": "model",
                        "parts": [{"functionResponse": {"name": "f", "response": {}}}],
                    }
                ]
            },
            "contents[0].parts[0]",
            "contents[0].parts[0] is a functionResponse, which a model turn cannot hold",
        ),
        (
            {"contents": [{"role": "model", "parts": [{"functionCall": {"args": {}}}]}]},
            "contents[0].parts[0].functionCall.name",
            "contents[0].parts[0].functionCall.name is required",
        ),
        (
            {
                "contents": [
                    {"role": "model", "parts": [{"functionCall": {"name": "f", "args": 1}}]}
                ]
            },
            "contents[0].parts[0].functionCall.args",
            "contents[0].parts[0].functionCall.args must be an object",
        ),
        (
            {"contents": [{"parts": [{"functionResponse": {"name": "f", "response": "x"}}]}]},
            "contents[0].parts[0].functionResponse.response",
            "contents[0].parts[0].functionResponse.response must be an object",
        ),
        (
            {"contents": [{"parts": [{"inlineData": {"data": "AAAA"}}]}]},
            "contents[0].parts[0].inlineData.mimeType",
            "contents[0].parts[0].inlineData.mimeType is required",
        ),
        (
            {"systemInstruction": {"parts": [{"text": None}]}, "contents": []},
            "systemInstruction.parts[0].text",
            "systemInstruction.parts[0].text must be a string",
        ),
    ],
)
def test_bad_contents_are_refused_naming_the_field(body: dict, param: str, message: str) -> None:
    with pytest.raises(TranslationError) as exc:
        gemini.parse_request(body, model="m")
    assert (exc.value.param, exc.value.message) == (param, message)


# --------------------------------------------------------------------------- render


def test_consecutive_tool_results_become_one_user_content_in_call_order() -> None:
    """Gemini answers 400 when the responses to one turn's calls are split over several
    contents; a response carries the name of the call it answers."""
    calls = [
        ir.ToolCall("gem_aaaaaaaaaaaaaaaa", "sum", '{"a":2,"b":3}', signature="SIG"),
        ir.ToolCall("gem_bbbbbbbbbbbbbbbb", "sum", '{"a":4,"b":5}'),
        ir.ToolCall("call_3", "mul", '{"a":6,"b":7}'),
    ]
    req = foreign(
        [
            user("add"),
            ir.Message("assistant", [ir.Text(""), *calls]),
            ir.Message("tool", [ir.ToolResult("call_3", [ir.Text("42")])]),
            ir.Message("tool", [ir.ToolResult("gem_aaaaaaaaaaaaaaaa", [ir.Text('{"sum": 5}')])]),
            ir.Message("tool", [ir.ToolResult("gem_bbbbbbbbbbbbbbbb", [ir.Text("9")])]),
            user("thanks"),
        ]
    )
    out = gemini.render_request(req)
    assert out["contents"] == [
        {"role": "user", "parts": [{"text": "add"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "sum", "args": {"a": 2, "b": 3}},
                    "thoughtSignature": "SIG",
                },
                {"functionCall": {"name": "sum", "args": {"a": 4, "b": 5}}},
                {"functionCall": {"name": "mul", "args": {"a": 6, "b": 7}, "id": "call_3"}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "sum", "response": {"sum": 5}}},
                {"functionResponse": {"name": "sum", "response": {"output": "9"}}},
                {"functionResponse": {"name": "mul", "response": {"output": "42"}, "id": "call_3"}},
                {"text": "thanks"},
            ],
        },
    ]


def test_tool_results_before_the_next_model_turn_keep_call_order() -> None:
    req = foreign(
        [
            user("go"),
            ir.Message("assistant", [ir.ToolCall("a", "f", "{}"), ir.ToolCall("b", "g", "{}")]),
            ir.Message("tool", [ir.ToolResult("b", [ir.Text("B")])]),
            ir.Message("tool", [ir.ToolResult("a", [ir.Text("A")])]),
            ir.Message("assistant", [ir.Text("done")]),
        ]
    )
    contents = gemini.render_request(req)["contents"]
    assert [p["functionResponse"]["id"] for p in contents[2]["parts"]] == ["a", "b"]
    assert contents[3] == {"role": "model", "parts": [{"text": "done"}]}


def test_tool_result_errors_are_sent_as_an_error_object() -> None:
    req = foreign(
        [
            ir.Message("assistant", [ir.ToolCall("t1", "f", "{}", signature="S")]),
            ir.Message("user", [ir.ToolResult("t1", [ir.Text("bad")], is_error=True)]),
        ]
    )
    assert gemini.render_request(req)["contents"][1]["parts"] == [
        {"functionResponse": {"name": "f", "response": {"error": "bad"}, "id": "t1"}}
    ]


def test_tool_result_name_is_its_own_or_its_calls() -> None:
    req = foreign(
        [
            ir.Message("assistant", [ir.ToolCall("t1", "f", "{}", signature="S")]),
            ir.Message("user", [ir.ToolResult("t1", [ir.Text("x")])]),
            ir.Message("user", [ir.ToolResult("t2", [], name="g")]),
        ]
    )
    assert gemini.render_request(req)["contents"][1]["parts"] == [
        {"functionResponse": {"name": "f", "response": {"output": "x"}, "id": "t1"}},
        {"functionResponse": {"name": "g", "response": {"output": ""}, "id": "t2"}},
    ]


def test_tool_result_without_a_known_name_is_refused() -> None:
    req = foreign([ir.Message("tool", [ir.ToolResult("nope", [ir.Text("x")])])])
    with pytest.raises(TranslationError) as exc:
        gemini.render_request(req)
    assert exc.value.param == "messages[0].parts[0].name"


def test_images_in_tool_results_follow_the_function_responses() -> None:
    req = foreign(
        [
            ir.Message(
                "assistant",
                [ir.ToolCall("a", "shot", "", signature="S"), ir.ToolCall("b", "shot", "")],
            ),
            ir.Message(
                "tool",
                [
                    ir.ToolResult(
                        "a", [ir.Text("first"), ir.Image(media_type="image/png", data="AAAA")]
                    )
                ],
            ),
            ir.Message("tool", [ir.ToolResult("b", [ir.Text("second")])]),
        ]
    )
    parts = gemini.render_request(req)["contents"][1]["parts"]
    assert parts == [
        {"functionResponse": {"name": "shot", "response": {"output": "first"}, "id": "a"}},
        {"functionResponse": {"name": "shot", "response": {"output": "second"}, "id": "b"}},
        {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
    ]


UNSIGNED_TURN = ir.Message("assistant", [ir.ToolCall("a", "f", "{}"), ir.ToolCall("b", "f", "{}")])


def test_unsigned_gemini3_turn_gets_the_placeholder_on_its_first_call() -> None:
    parts = gemini.render_request(foreign([user("hi"), UNSIGNED_TURN]))["contents"][1]["parts"]
    assert parts[0]["thoughtSignature"] == "skip_thought_signature_validator"
    assert "thoughtSignature" not in parts[1]


def test_no_placeholder_for_models_before_gemini3() -> None:
    older = foreign([user("hi"), UNSIGNED_TURN])
    older.model = "gemini-2.5-flash"
    assert "thoughtSignature" not in gemini.render_request(older)["contents"][1]["parts"][0]


def test_no_placeholder_when_the_turn_has_a_signature() -> None:
    signed = ir.Message(
        "assistant", [ir.ToolCall("a", "f", "{}"), ir.ToolCall("b", "f", "{}", "S")]
    )
    parts = gemini.render_request(foreign([signed]))["contents"][0]["parts"]
    assert "thoughtSignature" not in parts[0] and parts[1]["thoughtSignature"] == "S"


def test_no_placeholder_for_a_gemini_callers_own_history() -> None:
    own = gemini.parse_request(load("request_function_response_turn.json"), model="gemini-3-pro")
    assert "thoughtSignature" not in gemini.render_request(own)["contents"][1]["parts"][0]


def test_leading_system_messages_form_the_system_instruction() -> None:
    req = foreign(
        [
            ir.Message("system", [ir.Text("be brief")]),
            ir.Message("developer", [ir.Text("and kind")]),
            user("hi"),
        ]
    )
    assert gemini.render_request(req) == {
        "systemInstruction": {"parts": [{"text": "be brief"}, {"text": "and kind"}]},
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    }


def test_later_system_messages_become_user_text_merged_with_the_next_turn() -> None:
    req = foreign(
        [
            user("hi"),
            ir.Message("assistant", [ir.Text("hello")]),
            ir.Message("system", [ir.Text("now in French")]),
            user("encore"),
        ]
    )
    assert gemini.render_request(req)["contents"] == [
        {"role": "user", "parts": [{"text": "hi"}]},
        {"role": "model", "parts": [{"text": "hello"}]},
        {"role": "user", "parts": [{"text": "now in French"}, {"text": "encore"}]},
    ]


def test_only_geminis_own_thinking_is_sent_to_gemini() -> None:
    turn = ir.Message(
        "assistant",
        [
            ir.Thinking("claude thought", signature="sig", origin="anthropic"),
            ir.Thinking("", redacted="xx", origin="anthropic"),
            ir.Thinking("gemini thought", signature="GSIG", origin="gemini"),
            ir.Text("hello"),
        ],
    )
    assert gemini.render_request(foreign([user("hi"), turn]))["contents"][1]["parts"] == [
        {"text": "gemini thought", "thought": True, "thoughtSignature": "GSIG"},
        {"text": "hello"},
    ]


def test_media_parts_render_as_inline_or_file_data() -> None:
    parts: list[ir.Part] = [
        ir.Image(media_type="image/jpeg", data="/9j/"),
        ir.Image(url="https://example.com/cat.PNG?x=1"),
        ir.Image(url="gs://bucket/photo", media_type="image/webp"),
        ir.Image(url="data:image/gif;base64,R0lGOD"),
        ir.Audio(media_type="audio/wav", data="UklG"),
        ir.Document(media_type="application/pdf", data="JVBE", title="t"),
        ir.Document(url="https://example.com/a.pdf"),
        ir.Document(text="plain text doc"),
        ir.Document(data="JVBE", filename="report.pdf"),
    ]
    out = gemini.render_request(foreign([ir.Message("user", parts)]))
    assert out["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}},
        {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.PNG?x=1"}},
        {"fileData": {"mimeType": "image/webp", "fileUri": "gs://bucket/photo"}},
        {"inlineData": {"mimeType": "image/gif", "data": "R0lGOD"}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklG"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "https://example.com/a.pdf"}},
        {"text": "plain text doc"},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}},
    ]


@pytest.mark.parametrize(
    "bad",
    [
        ir.Image(url="https://example.com/image"),
        ir.Image(data="AAAA"),
        ir.Image(url="data:image/png,not-base64"),
        ir.Document(file_id="file-123"),
    ],
)
def test_media_without_a_known_type_or_with_a_file_id_is_refused(bad: ir.Part) -> None:
    with pytest.raises(TranslationError) as exc:
        gemini.render_request(foreign([ir.Message("user", [ir.Text("x"), bad])]))
    assert exc.value.param == "messages[0].parts[1]"
    assert exc.value.message.startswith("messages[0].parts[1] ")


@pytest.mark.parametrize("arguments", ["{nope", "[1]"])
def test_call_arguments_that_are_not_a_json_object_are_refused(arguments: str) -> None:
    bad = foreign([ir.Message("assistant", [ir.ToolCall("a", "f", arguments)])])
    with pytest.raises(TranslationError) as exc:
        gemini.render_request(bad)
    assert exc.value.param == "messages[0].parts[0]"
    assert exc.value.message == "tool call arguments must be a JSON object"


def test_empty_call_arguments_are_an_empty_object() -> None:
    req = foreign([ir.Message("assistant", [ir.ToolCall("a", "f", "", signature="S")])])
    part = gemini.render_request(req)["contents"][0]["parts"][0]
    assert part["functionCall"] == {"name": "f", "args": {}, "id": "a"}


# ---------------------------------------------------------------- random inputs

_value = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=4) | st.just({})
_part = st.one_of(
    st.fixed_dictionaries({"text": st.text(max_size=5)}, optional={"thought": st.booleans()}),
    st.fixed_dictionaries(
        {"functionCall": st.fixed_dictionaries({"name": st.sampled_from(["a", "b"])})},
        optional={"thoughtSignature": st.sampled_from(["CmIB", "YW50aHJvcGljOng=", "x:y"])},
    ),
    st.fixed_dictionaries(
        {
            "functionResponse": st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["a", "b"]),
                    "response": st.dictionaries(st.text(max_size=6), _value, max_size=2),
                },
                optional={"id": st.sampled_from(["1", "2"])},
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "inlineData": st.fixed_dictionaries(
                {
                    "mimeType": st.sampled_from(["image/png", "audio/wav", "application/pdf"]),
                    "data": st.text(max_size=4),
                }
            )
        }
    ),
    st.dictionaries(
        st.sampled_from(["text", "thought", "functionCall", "fileData"]), _value, max_size=2
    ),
)
_content = st.fixed_dictionaries(
    {"parts": st.lists(_part, max_size=4)},
    optional={"role": st.sampled_from(["user", "model", "function", "tool", None])},
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_content, max_size=5), st.sampled_from(["gemini", "openai_chat"]))
def test_random_conversations_only_raise_translation_error(
    contents: list, source: ir.Protocol
) -> None:
    """Nothing but TranslationError escapes, and a Gemini caller's conversation that
    renders is a fixed point of parse and render."""
    with contextlib.suppress(TranslationError):
        req = gemini.parse_request({"contents": contents}, model="gemini-3-pro")
        req.source = source
        out = gemini.render_request(req)
        if source == "gemini":
            again = gemini.parse_request(out, model="gemini-3-pro")
            assert gemini.render_request(again) == out


def test_a_content_without_parts_is_refused_as_gemini_does() -> None:
    body = {"contents": [{"role": "user", "parts": []}]}
    with pytest.raises(TranslationError) as exc:
        gemini.parse_request(body, model="gemini-x")
    assert exc.value.param == "contents[0].parts"
    assert exc.value.message == "contents[0].parts must not be empty"
