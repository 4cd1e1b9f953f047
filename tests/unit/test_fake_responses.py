"""The OpenAI fake speaks the Responses API the way the real one does.

The official SDK talks to the fake directly (no gateway). Each refusal rule is shown
refusing what a bad translation produces, with OpenAI's status, ``param`` and ``code``;
every answer, unary or streamed, is one the SDK reads and that passes the strict stream
grammar of tests/responses_grammar.py, so end-to-end tests that put the gateway in
between test the gateway and not the fake.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
import typing_extensions
from openai.types.responses import (
    Response,
    input_token_count_params,
    response_create_params,
    response_includable,
    response_input_item_param,
    tool_param,
)

from tests.fakes import FakeUpstream, Reply
from tests.fakes.openai_responses import build_response, stream_frames
from tests.fakes.validate import (
    OPENAI_INPUT_TOKENS_FIELDS,
    OPENAI_RESPONSES_FIELDS,
    PREVIOUS_RESPONSE_NOT_FOUND_STATUS,
    RESPONSES_INCLUDE,
    RESPONSES_ITEM_TYPES,
    RESPONSES_TOOL_TYPES,
)
from tests.responses_grammar import GrammarError, parse_sse, replay_with_sdk, validate_sse
from tests.unit.test_fakes import OPENAI_AUTH, post, request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "spec" / "openai_responses"
WEATHER = orjson.loads((FIXTURES / "request_function_call.json").read_bytes())["tools"]
STORY = orjson.loads((FIXTURES / "response_text.json").read_bytes())["output"][0]["content"][0][
    "text"
]
# A real reasoning token from the recording: the API's own, so foreign to the fake.
REAL_TOKEN = next(
    orjson.loads(line)["item"]["encrypted_content"]
    for line in (FIXTURES / "stream_reasoning_summary_then_function_call.jsonl")
    .read_bytes()
    .splitlines()
    if b'"response.output_item.added"' in line and b'"reasoning"' in line
)
USER = {"role": "user", "content": "What is the weather like in Boston today?"}
REASONING = {"effort": "high", "summary": "detailed"}
SEALED = ["reasoning.encrypted_content"]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeUpstream]:
    with FakeUpstream("openai") as fake:
        yield fake


@pytest.fixture
def oai(server: FakeUpstream) -> FakeUpstream:
    server.clear()
    return server


def client(fake: FakeUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)


def create(fake: FakeUpstream, **body: Any) -> dict:
    """POST /v1/responses and return the answer, which must be a 200."""
    answer = post(fake, "/v1/responses", {"model": "gpt-test", **body}, OPENAI_AUTH)
    assert answer.status_code == 200, answer.text
    return answer.json()


def refusal(fake: FakeUpstream, body: Any, path: str = "/v1/responses") -> tuple[int, dict]:
    answer = post(fake, path, body, OPENAI_AUTH)
    assert answer.status_code >= 400, answer.text
    return answer.status_code, answer.json()["error"]


def _literals(alias: Any) -> set[str]:
    """The string values of a Literal, or of the ``type`` field of every TypedDict in a
    union (at any depth): the item or tool types the SDK's union admits."""
    if typing.get_origin(alias) is typing.Literal:
        return {value for value in typing.get_args(alias) if isinstance(value, str)}
    if typing_extensions.is_typeddict(alias):  # the SDK's TypedDicts are typing_extensions'
        hints = typing.get_type_hints(alias)
        return _literals(hints["type"]) if "type" in hints else set()
    return set().union(*(_literals(member) for member in typing.get_args(alias)))


# --- the fake's lists are the SDK's ---------------------------------------------------


def test_field_and_type_lists_match_the_installed_sdk() -> None:
    create_fields = set(typing.get_type_hints(response_create_params.ResponseCreateParamsStreaming))
    # Every field the installed SDK can send (2.x or 3.x, which adds a few) is admitted.
    assert create_fields <= OPENAI_RESPONSES_FIELDS
    count_fields = set(typing.get_type_hints(input_token_count_params.InputTokenCountParams))
    assert count_fields == OPENAI_INPUT_TOKENS_FIELDS
    assert _literals(response_input_item_param.ResponseInputItemParam) <= RESPONSES_ITEM_TYPES
    assert _literals(tool_param.ToolParam) <= RESPONSES_TOOL_TYPES
    assert set(typing.get_args(response_includable.ResponseIncludable)) <= set(RESPONSES_INCLUDE)


# --- unary answers --------------------------------------------------------------------


def test_sdk_reads_a_text_answer_echoing_the_request(oai: FakeUpstream) -> None:
    answer = client(oai).responses.create(
        model="gpt-test",
        instructions="Be brief.",
        input="Tell me a story.",
        metadata={"run": "1"},
        temperature=0.5,
    )
    assert answer.output_text == STORY
    assert answer.model == "gpt-test"
    assert answer.id.startswith("resp_") and len(answer.id) == 55
    assert (answer.status, answer.instructions, answer.temperature) == (
        "completed",
        "Be brief.",
        0.5,
    )
    assert answer.metadata == {"run": "1"}
    assert answer.output[0].type == "message" and answer.output[0].id.startswith("msg_")
    usage = answer.usage
    assert usage is not None
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0
    assert oai.last.path == "/v1/responses"
    assert oai.last.headers["authorization"] == "Bearer k"
    second = client(oai).responses.create(model="gpt-test", input="again")
    assert second.id != answer.id


def test_unary_answers_validate_against_the_sdk_model(oai: FakeUpstream) -> None:
    bodies = [
        {"input": "hi"},
        {"input": [USER], "tools": WEATHER},
        {"input": "hi", "tools": WEATHER, "reasoning": REASONING, "include": SEALED},
    ]
    for body in bodies:
        Response.model_validate(create(oai, **body))


def test_function_tools_are_called_with_arguments_valid_for_their_schema(
    oai: FakeUpstream,
) -> None:
    example = orjson.loads((FIXTURES / "request_function_call.json").read_bytes())
    answer = client(oai).responses.create(**example)
    call = answer.output[0]
    assert call.type == "function_call"
    assert call.name == "get_current_weather"
    assert call.id is not None and call.id.startswith("fc_")
    assert call.call_id.startswith("call_") and len(call.call_id) == 29
    assert orjson.loads(call.arguments) == {"location": "fake", "unit": "celsius"}
    assert answer.tools[0].type == "function" and answer.tools[0].strict is True
    named = {"type": "function", "name": "second", "parameters": None}
    forced = create(
        oai, input="hi", tools=[*WEATHER, named], tool_choice={**named, "name": "second"}
    )
    assert forced["output"][0]["name"] == "second"
    assert forced["output"][0]["arguments"] == "{}"
    unforced = create(oai, input="hi", tools=WEATHER, tool_choice="none")
    assert unforced["output"][0]["type"] == "message"


def test_a_tool_loop_ends_with_text_in_one_input_or_by_previous_response_id(
    oai: FakeUpstream,
) -> None:
    first = create(oai, input=[USER], tools=WEATHER)
    call = first["output"][0]
    result = {"type": "function_call_output", "call_id": call["call_id"], "output": "21C"}
    replayed = create(oai, input=[USER, call, result], tools=WEATHER)
    assert replayed["output"][0]["content"][0]["text"] == STORY
    continued = create(oai, previous_response_id=first["id"], input=[result], tools=WEATHER)
    assert continued["output"][0]["type"] == "message"
    assert continued["previous_response_id"] == first["id"]
    cached = continued["usage"]["input_tokens_details"]["cached_tokens"]
    assert cached == first["usage"]["total_tokens"] <= continued["usage"]["input_tokens"]


def test_reasoning_items_come_first_with_summary_and_sealed_content_on_request(
    oai: FakeUpstream,
) -> None:
    answer = create(oai, input="hi", reasoning=REASONING, include=SEALED)
    reasoning, message = answer["output"]
    assert reasoning["type"] == "reasoning" and reasoning["id"].startswith("rs_")
    assert reasoning["summary"][0]["type"] == "summary_text"
    assert reasoning["summary"][0]["text"].startswith("**Calculating step-by-step")
    assert reasoning["encrypted_content"].startswith("gAAAA")
    assert message["type"] == "message"
    usage = answer["usage"]
    assert 0 < usage["output_tokens_details"]["reasoning_tokens"] < usage["output_tokens"]
    assert answer["reasoning"] == REASONING
    quiet = create(oai, input="hi", reasoning={"effort": "low"})["output"][0]
    assert quiet["summary"] == [] and "encrypted_content" not in quiet
    assert len(create(oai, input="hi", reasoning={"effort": "none"})["output"]) == 1


def test_encrypted_content_is_taken_back_only_as_minted(oai: FakeUpstream) -> None:
    reasoning = create(oai, input="hi", reasoning=REASONING, include=SEALED, store=False)["output"][
        0
    ]
    codex_style = {k: v for k, v in reasoning.items() if k != "id"}
    assert create(oai, input=[USER, codex_style, USER], store=False)["status"] == "completed"
    assert create(oai, input=[USER, reasoning, USER], store=False)["status"] == "completed"
    token = reasoning["encrypted_content"]
    tampered = {**codex_style, "encrypted_content": token[:-6] + "AAAAAA"}
    for item in (tampered, {**codex_style, "encrypted_content": REAL_TOKEN}):
        status, error = refusal(oai, {"model": "m", "input": [USER, item]})
        assert (status, error["code"], error["param"]) == (400, "invalid_encrypted_content", None)
        assert error["message"].endswith("could not be verified.")
    moved = {**reasoning, "id": "rs_other"}
    _, error = refusal(oai, {"model": "m", "input": [USER, moved]})
    assert error["message"] == (
        "The encrypted content for item rs_other could not be verified. Reason: Encrypted "
        "content item_id did not match the target item id."
    )
    with FakeUpstream("openai") as other:
        _, error = refusal(other, {"model": "m", "input": [USER, codex_style]})
        assert error["code"] == "invalid_encrypted_content"


# --- streams --------------------------------------------------------------------------

STREAMED = {
    "text": {"input": "Tell me a story."},
    "function_call": {"input": [USER], "tools": WEATHER},
    "reasoning": {"input": [USER], "tools": WEATHER, "reasoning": REASONING, "include": SEALED},
}


@pytest.mark.parametrize("kind", STREAMED)
def test_streams_pass_the_grammar_and_the_sdk_replay(oai: FakeUpstream, kind: str) -> None:
    body = {"model": "gpt-test", "stream": True, **STREAMED[kind]}
    answer = post(oai, "/v1/responses", body, OPENAI_AUTH)
    assert answer.headers["content-type"] == "text/event-stream"
    assert answer.headers["transfer-encoding"] == "chunked"
    final = validate_sse(answer.content)
    replayed = replay_with_sdk(answer.content, input_tools=body.get("tools"))
    assert replayed.id == final["id"] and final["model"] == "gpt-test"
    assert b"[DONE]" not in answer.content
    events = [payload for _, payload in parse_sse(answer.content)]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    types = [e["type"] for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    deltas = [e for e in events if e["type"].endswith(".delta")]
    assert len(deltas) > 3 and all(e["obfuscation"] for e in deltas)
    expected = {
        "text": ["message"],
        "function_call": ["function_call"],
        "reasoning": ["reasoning", "function_call"],
    }[kind]
    assert [item["type"] for item in final["output"]] == expected


def test_sdk_stream_helper_builds_the_final_response(oai: FakeUpstream) -> None:
    sdk = client(oai)
    with sdk.responses.stream(model="gpt-test", input="Tell me a story.") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == final.output_text == STORY
    with sdk.responses.stream(
        model="gpt-test", input=[USER], tools=WEATHER, reasoning=REASONING, include=SEALED
    ) as stream:
        final = stream.get_final_response()
    reasoning, call = final.output
    assert reasoning.type == "reasoning" and reasoning.summary[0].text
    assert call.type == "function_call" and call.name == "get_current_weather"
    assert orjson.loads(call.arguments)["unit"] == "celsius"
    assert oai.last.json["stream"] is True


def test_streams_follow_the_recorded_event_shapes(oai: FakeUpstream) -> None:
    body = {"model": "m", "stream": True, "stream_options": {"include_obfuscation": False}}
    raw = post(oai, "/v1/responses", {**body, "input": [USER], "tools": WEATHER}, OPENAI_AUTH)
    events = {payload["type"]: payload for _, payload in parse_sse(raw.content)}
    added = events["response.output_item.added"]["item"]
    assert list(added) == ["id", "type", "status", "arguments", "call_id", "name"]
    assert added["arguments"] == "" and added["status"] == "in_progress"
    assert set(events["response.function_call_arguments.done"]) == {
        "type",
        "sequence_number",
        "item_id",
        "output_index",
        "arguments",
    }
    assert "obfuscation" not in events["response.function_call_arguments.delta"]
    created = events["response.created"]["response"]
    assert (created["status"], created["output"], created["usage"]) == ("in_progress", [], None)
    text = post(oai, "/v1/responses", {**body, "input": "hi"}, OPENAI_AUTH)
    pieces = [p["delta"] for _, p in parse_sse(text.content) if p["type"].endswith("text.delta")]
    assert pieces[:4] == ["In", " a", " peaceful", " grove"]
    assert text.content.startswith(b'event: response.created\ndata: {"type":"response.created",')


# --- input_tokens, retrieve, delete ---------------------------------------------------


def test_input_tokens_answers_like_the_spec_example_and_matches_usage(oai: FakeUpstream) -> None:
    example = (FIXTURES / "input_tokens_request.json").read_bytes()
    answer = post(oai, "/v1/responses/input_tokens", example, OPENAI_AUTH)
    assert answer.status_code == 200, answer.text
    shape = orjson.loads((FIXTURES / "input_tokens_response.json").read_bytes())
    assert set(answer.json()) == set(shape) and answer.json()["object"] == shape["object"]
    body = {"instructions": "Be brief.", "input": [USER], "tools": WEATHER}
    count = client(oai).responses.input_tokens.count(model="gpt-test", **body)
    assert count.input_tokens == create(oai, **body)["usage"]["input_tokens"] > 1
    counted = {"model": "m", "input": "hi", "stream": True}
    _, error = refusal(oai, counted, "/v1/responses/input_tokens")
    assert (error["code"], error["param"]) == ("unknown_parameter", "stream")


def test_stored_responses_are_retrieved_and_deleted(oai: FakeUpstream) -> None:
    sdk = client(oai)
    stored = sdk.responses.create(model="gpt-test", input="hi")
    assert sdk.responses.retrieve(stored.id).output_text == STORY
    sdk.responses.delete(stored.id)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.retrieve(stored.id)
    assert caught.value.body == {
        "message": f"Response with id '{stored.id}' not found.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete(stored.id)
    status, error = refusal(oai, {"model": "m", "input": "x", "previous_response_id": stored.id})
    assert (status, error["code"]) == (
        PREVIOUS_RESPONSE_NOT_FOUND_STATUS,
        "previous_response_not_found",
    )
    unstored = sdk.responses.create(model="gpt-test", input="hi", store=False)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(unstored.id)
    assert request(oai.url + "/v1/responses/a/b", headers=OPENAI_AUTH).status_code == 404


def test_item_references_name_stored_items_only(oai: FakeUpstream) -> None:
    stored = create(oai, input="hi")["output"][0]["id"]
    assert create(oai, input=[USER, {"type": "item_reference", "id": stored}, USER])
    status, error = refusal(
        oai, {"model": "m", "input": [{"type": "item_reference", "id": "msg_x"}]}
    )
    assert status == 404 and error["param"] == "input" and error["code"] is None
    assert error["message"].startswith("Item with id 'msg_x' not found. Items are not persisted")


def test_previous_response_ids_are_known_per_fake_instance(oai: FakeUpstream) -> None:
    first = create(oai, input="hi")
    assert create(oai, previous_response_id=first["id"], input="more")["status"] == "completed"
    with FakeUpstream("openai") as other:
        status, error = refusal(
            other, {"model": "m", "input": "x", "previous_response_id": first["id"]}
        )
    assert status == PREVIOUS_RESPONSE_NOT_FOUND_STATUS
    assert error == {
        "message": f"Previous response with id '{first['id']}' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }


# --- refusals -------------------------------------------------------------------------

CALL = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
RESULT = {"type": "function_call_output", "call_id": "call_1", "output": "ok"}


def _with(**fields: Any) -> dict:
    return {"model": "m", "input": "hi", **fields}


def _items(*items: Any) -> dict:
    return {"model": "m", "input": list(items)}


# (body, status, param, code, message start)
REFUSALS: dict[str, tuple[Any, int, str | None, str | None, str]] = {
    "missing model": ({"input": "hi"}, 400, "model", "missing_required_parameter", "Missing"),
    "unknown field": (_with(client_metadata={}), 400, "client_metadata", "unknown_parameter", ""),
    "chat max_tokens": (_with(max_tokens=20), 400, "max_tokens", "unknown_parameter", ""),
    "chat messages": (_with(messages=[USER]), 400, None, "unsupported_parameter", "Unsupported"),
    "model type": (_with(model=7), 400, "model", "invalid_type", "Invalid type for 'model'"),
    "input type": (_with(input={"a": 1}), 400, "input", "invalid_type", "Invalid type"),
    "stream type": (_with(stream="yes"), 400, "stream", "invalid_type", "Invalid type"),
    "empty input": (_with(input=[]), 400, None, "missing_required_parameter", 'One of "input"'),
    "item type": (_items({"type": "tool_result"}), 400, "input[0]", "invalid_value", ""),
    "item not an object": (_items("hi"), 400, "input[0]", "invalid_type", ""),
    "role": (
        _items({"role": "tool", "content": "x"}),
        400,
        "input[0]",
        "invalid_value",
        "Invalid value: 'tool'. Supported values are: 'assistant', 'system', 'developer', "
        "and 'user'.",
    ),
    "unknown item member": (
        _items({**USER, "tool_call_id": "x"}),
        400,
        "input[0].tool_call_id",
        "unknown_parameter",
        "",
    ),
    "part type": (
        _items({"role": "user", "content": [{"type": "text", "text": "x"}]}),
        400,
        "input[0].content[0].type",
        "invalid_value",
        "Invalid value: 'text'.",
    ),
    "output_text from a user": (
        _items({"role": "user", "content": [{"type": "output_text", "text": "x"}]}),
        400,
        "input[0].content[0]",
        "invalid_value",
        "Invalid value: 'output_text'. Supported values are: 'input_text', 'input_image', "
        "'input_file', and 'input_audio'.",
    ),
    "input_text from the assistant": (
        _items(USER, {"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}),
        400,
        "input[1].content[0]",
        "invalid_value",
        "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
    ),
    "call without call_id": (
        _items(USER, {k: v for k, v in CALL.items() if k != "call_id"}, RESULT),
        400,
        "input[1].call_id",
        "missing_required_parameter",
        "",
    ),
    "call without name": (
        _items(USER, {k: v for k, v in CALL.items() if k != "name"}, RESULT),
        400,
        "input[1].name",
        "missing_required_parameter",
        "",
    ),
    "call arguments as an object": (
        _items(USER, {**CALL, "arguments": {}}, RESULT),
        400,
        "input[1].arguments",
        "invalid_type",
        "Invalid type for 'input[1].arguments': expected a string, but got an object",
    ),
    "output without its call": (
        _items(USER, RESULT),
        400,
        "input",
        None,
        "No tool call found for function call output with call_id call_1.",
    ),
    "output before its call": (
        _items(USER, RESULT, CALL),
        400,
        "input",
        None,
        "No tool call found",
    ),
    "call without its output": (
        _items(USER, CALL, USER),
        400,
        "input",
        None,
        "No tool output found for function call call_1.",
    ),
    "reasoning without summary": (
        _items(USER, {"type": "reasoning", "encrypted_content": "gAAAA"}),
        400,
        "input[1].summary",
        "missing_required_parameter",
        "",
    ),
    "foreign encrypted content": (
        _items(USER, {"type": "reasoning", "summary": [], "encrypted_content": REAL_TOKEN}),
        400,
        None,
        "invalid_encrypted_content",
        "The encrypted content gAAA",
    ),
    "id-only reasoning": (
        _items(USER, {"type": "reasoning", "id": "rs_1", "summary": []}, USER),
        404,
        "input",
        None,
        "Item with id 'rs_1' not found.",
    ),
    "max_output_tokens": (
        _with(max_output_tokens=15),
        400,
        "max_output_tokens",
        "integer_below_min_value",
        "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, "
        "but got 15 instead.",
    ),
    "temperature high": (_with(temperature=2.5), 400, "temperature", "decimal_above_max_value", ""),
    "temperature low": (_with(temperature=-1), 400, "temperature", "decimal_below_min_value", ""),
    "tool type": (_with(tools=[{"type": "retrieval"}]), 400, "tools[0].type", "invalid_value", ""),
    "tool without name": (
        _with(tools=[{"type": "function"}]),
        400,
        "tools[0].name",
        "missing_required_parameter",
        "",
    ),
    "chat-shaped tool": (
        _with(tools=[{"type": "function", "function": {"name": "f"}}]),
        400,
        "tools[0].name",
        "missing_required_parameter",
        "",
    ),
    "chat-shaped tool_choice": (
        _with(tools=WEATHER, tool_choice={"type": "function", "function": {"name": "f"}}),
        400,
        "tool_choice.name",
        "missing_required_parameter",
        "",
    ),
    "json_schema without name": (
        _with(text={"format": {"type": "json_schema", "schema": {"type": "object"}}}),
        400,
        "text.format.name",
        "missing_required_parameter",
        "",
    ),
    "json_schema without schema": (
        _with(text={"format": {"type": "json_schema", "name": "x"}}),
        400,
        "text.format.schema",
        "missing_required_parameter",
        "",
    ),
    "metadata value": (_with(metadata={"n": 1}), 400, "metadata.n", "invalid_type", ""),
    "metadata size": (
        _with(metadata={f"k{i}": "v" for i in range(17)}),
        400,
        "metadata",
        "object_above_max_properties",
        "Invalid 'metadata': too many properties.",
    ),
    "include value": (_with(include=["usage"]), 400, "include[0]", "invalid_value", ""),
    "reasoning effort": (
        _with(reasoning={"effort": "huge"}),
        400,
        "reasoning.effort",
        "invalid_value",
        "",
    ),
    "chat stream_options": (
        _with(stream=True, stream_options={"include_usage": True}),
        400,
        "stream_options.include_usage",
        "unknown_parameter",
        "",
    ),
    "unknown previous response": (
        _with(previous_response_id="resp_nope"),
        PREVIOUS_RESPONSE_NOT_FOUND_STATUS,
        "previous_response_id",
        "previous_response_not_found",
        "Previous response with id 'resp_nope' not found.",
    ),
    "unknown conversation": (_with(conversation="conv_x"), 404, None, None, "Conversation with id"),
    "unknown item reference": (
        _items({"type": "item_reference", "id": "msg_1"}),
        404,
        "input",
        None,
        "Item with id 'msg_1' not found.",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_bad_requests_are_refused_like_the_real_api(oai: FakeUpstream, case: str) -> None:
    body, status, param, code, message = REFUSALS[case]
    got_status, error = refusal(oai, body)
    assert (got_status, error["param"], error["code"]) == (status, param, code), error
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(message)


def test_sdk_raises_the_matching_error_classes(oai: FakeUpstream) -> None:
    sdk = client(oai)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(model="m", input="hi", max_output_tokens=8)
    assert caught.value.code == "integer_below_min_value"
    assert caught.value.param == "max_output_tokens"
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(model="m", input="hi", stream=True, extra_body={"seed": 1})


def test_credentials_json_and_paths_are_checked_like_the_other_openai_routes(
    oai: FakeUpstream,
) -> None:
    no_key = post(oai, "/v1/responses", {"model": "m", "input": "hi"}, {})
    assert no_key.status_code == 401
    assert no_key.json()["error"]["message"].startswith("You didn't provide an API key.")
    bad_json = post(oai, "/v1/responses", b"{", OPENAI_AUTH)
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["message"].startswith("We could not parse the JSON body")
    wrong = request(oai.url + "/v1/responses", headers=OPENAI_AUTH)
    assert (wrong.status_code, wrong.json()["error"]["message"]) == (
        404,
        "Invalid URL (GET /v1/responses)",
    )


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("request_*.json")), ids=lambda p: p.name.removesuffix(".json")
)
def test_the_spec_example_requests_are_accepted(oai: FakeUpstream, path: Path) -> None:
    answer = post(oai, "/v1/responses", path.read_bytes(), OPENAI_AUTH)
    assert answer.status_code == 200, answer.text
    if orjson.loads(path.read_bytes()).get("stream"):
        validate_sse(answer.content)
    else:
        Response.model_validate(answer.json())


def test_a_codex_request_with_reasoning_history_is_accepted(oai: FakeUpstream) -> None:
    """The shape RESPONSES-NOTES.md gives for Codex: no item ids, reasoning echoed back with
    its encrypted content, store false, function call and output replayed."""
    tools = [{"type": "function", "name": "shell", "parameters": {"type": "object"}}]
    base = {
        "instructions": "You are Codex.",
        "tools": tools,
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": SEALED,
        "prompt_cache_key": "conv-1",
        "text": {"verbosity": "medium"},
    }
    first = validate_sse(
        post(oai, "/v1/responses", {"model": "m", "input": [USER], **base}, OPENAI_AUTH).content
    )
    reasoning, call = ({k: v for k, v in item.items() if k != "id"} for item in first["output"])
    result = {"type": "function_call_output", "call_id": call["call_id"], "output": "done"}
    body = {"model": "m", "input": [USER, reasoning, call, result], **base}
    second = validate_sse(post(oai, "/v1/responses", body, OPENAI_AUTH).content)
    assert [item["type"] for item in second["output"]] == ["reasoning", "message"]


# --- scripted replies -----------------------------------------------------------------


def test_scripted_errors_reach_the_sdk(oai: FakeUpstream) -> None:
    sdk = client(oai)
    oai.enqueue(
        Reply.error("openai", 429, "Rate limit reached for requests"), Reply.error("openai", 500)
    )
    with pytest.raises(openai.RateLimitError):
        sdk.responses.create(model="m", input="hi")
    with pytest.raises(openai.InternalServerError):
        sdk.responses.create(model="m", input="hi")
    oai.enqueue(Reply.example("openai_responses/stream_error_then_failed.jsonl"))
    with pytest.raises(openai.APIError, match="exceeded your current quota"):
        list(sdk.responses.create(model="m", input="hi", stream=True))
    assert oai.pending == 0


def test_a_scripted_stream_cut_mid_item_breaks_the_sdk_and_the_grammar(
    oai: FakeUpstream,
) -> None:
    frames = stream_frames(build_response({"model": "m", "input": "hi"}, oai.responses))
    cut = frames[:6]  # created, in_progress, item added, part added, two deltas
    oai.enqueue(Reply.sse(cut, break_after=sum(map(len, cut))))
    # openai 2.x raises httpx's error as it is; 3.x (on httpx2) wraps it.
    with pytest.raises((httpx.RemoteProtocolError, openai.APIConnectionError)):
        list(client(oai).responses.create(model="m", input="hi", stream=True))
    with pytest.raises(GrammarError, match=r"without response\.completed"):
        validate_sse(b"".join(cut))
