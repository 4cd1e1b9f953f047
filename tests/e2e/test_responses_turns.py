"""Responses state the gateway keeps for Claude and Gemini (docs/store.md), through the
official ``openai`` SDK: stored responses read back, listed and deleted, ``store:
false``, ``previous_response_id`` chains, conversations whose turns are appended, and
provider state (Claude's thinking signatures, Gemini's thought signatures) carried to
the next turns, by the store and sealed in ``encrypted_content``; a stored response
outlives the gateway process.
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
    anthropic_reply,
    call_output,
    final_of,
    gemini_reply,
    history,
    sdk,
    user,
)
from tests.fakes import Reply
from tests.harness import rules_yaml, start_gateway

LOOKUP = {
    "type": "function",
    "name": "lookup",
    "description": "Look a word up",
    "parameters": {
        "type": "object",
        "properties": {"word": {"type": "string"}},
        "required": ["word"],
    },
}
REASONING = {"effort": "medium", "summary": "auto"}
# Real Claude signatures are opaque base64; these must come back byte for byte.
SIG_1 = "EqQBCkYIBxgCKkDturn1signature+/AAAA=="
SIG_2 = "ErUBCkYIBxgCKkDturn2signature+/BBBB=="
REDACTED = "EmwKAhgBEgy3redacted+/data=="


@pytest.fixture
def client(gateway):
    with sdk(gateway) as c:
        yield c


def thinking(text: str, signature: str) -> dict:
    return {"type": "thinking", "thinking": text, "signature": signature}


def tool_use(n: int, word: str) -> dict:
    return {"type": "tool_use", "id": f"toolu_0{n}", "name": "lookup", "input": {"word": word}}


def said(provider: str, text: str, stream: bool) -> Reply:
    if provider == "anthropic":
        return anthropic_reply([{"type": "text", "text": text}], stream=stream)
    return gemini_reply([{"text": text}], stream=stream)


# ------------------------------------------------------------ stored responses


@BOTH
@STREAMS
def test_stored_response_retrieve_input_items_and_delete(client, fakes, provider, stream):
    fakes[provider].enqueue(said(provider, "Hello!", stream))
    r = answer(
        client,
        stream,
        model=MODELS[provider],
        instructions="Be kind.",
        input=[user("Hi there"), user("Anyone?")],
    )
    assert (r.store, r.instructions, r.previous_response_id) == (True, "Be kind.", None)
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and got.output_text == "Hello!" and got.status == "completed"
    assert got.store is True and got.instructions == "Be kind."
    assert [item.id for item in got.output] == [item.id for item in r.output]
    items = client.responses.input_items.list(r.id, order="asc")
    assert [item.type for item in items.data] == ["message", "message"]
    assert all(item.id for item in items.data)
    texts = [item.content[0].text for item in items.data]
    assert texts == ["Hi there", "Anyone?"]
    newest = client.responses.input_items.list(r.id, limit=1)
    assert newest.data[0].content[0].text == "Anyone?" and newest.has_more is True
    deleted = client.responses.delete(r.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(r.id)


def test_string_input_is_stored_as_an_input_text_message(client, fakes):
    r = client.responses.create(model=CLAUDE, input="plain string")
    (item,) = client.responses.input_items.list(r.id).data
    assert item.type == "message" and item.role == "user"
    assert item.content[0].type == "input_text" and item.content[0].text == "plain string"


@BOTH
@STREAMS
def test_store_false_is_not_kept(client, fakes, provider, stream):
    fakes[provider].enqueue(said(provider, "Hi", stream))
    r = answer(client, stream, model=MODELS[provider], input="hi", store=False)
    assert r.output_text == "Hi" and r.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODELS[provider], input="more", previous_response_id=r.id)


@BOTH
def test_each_answer_has_its_own_id_even_for_a_reused_request_id(client, fakes, provider):
    headers = {"x-request-id": "same-id-twice"}
    one = client.responses.create(model=MODELS[provider], input="a", extra_headers=headers)
    two = client.responses.create(model=MODELS[provider], input="b", extra_headers=headers)
    assert one.id != two.id
    assert client.responses.retrieve(one.id).id == one.id


# --------------------------------------------------- previous_response_id chains


@BOTH
@STREAMS
def test_bug05_previous_response_id_tool_loop(client, fakes, provider, stream):
    """The returned id is the stored one, and every turn is kept: the third turn carries
    the whole loop to the upstream."""
    if provider == "anthropic":
        first_reply = anthropic_reply([tool_use(1, "gateway")], stream=stream)
    else:
        first_reply = gemini_reply(
            [{"functionCall": {"name": "lookup", "args": {"word": "gateway"}}}], stream=stream
        )
    fakes[provider].enqueue(first_reply, said(provider, "A gateway is a door.", stream))
    model = MODELS[provider]
    first = answer(client, stream, model=model, input="Define gateway", tools=[LOOKUP])
    (call,) = [item for item in first.output if item.type == "function_call"]
    second = answer(
        client,
        stream,
        model=model,
        previous_response_id=first.id,
        input=[call_output(call.call_id, "a door")],
        tools=[LOOKUP],
    )
    assert second.output_text == "A gateway is a door."
    assert client.responses.retrieve(second.id).previous_response_id == first.id
    (own,) = client.responses.input_items.list(second.id).data
    assert own.type == "function_call_output" and own.call_id == call.call_id
    answer(client, stream, model=model, previous_response_id=second.id, input="Thanks!")
    sent = fakes[provider].last.json
    if provider == "anthropic":
        roles = [m["role"] for m in sent["messages"]]
        assert roles == ["user", "assistant", "user", "assistant", "user"]
        assert sent["messages"][1]["content"][0]["id"] == call.call_id
        assert sent["messages"][2]["content"][0]["tool_use_id"] == call.call_id
        assert "A gateway is a door." in orjson.dumps(sent["messages"][3]).decode()
    else:
        roles = [c["role"] for c in sent["contents"]]
        assert roles == ["user", "model", "user", "model", "user"]
        assert sent["contents"][1]["parts"][0]["functionCall"]["name"] == "lookup"
        assert sent["contents"][2]["parts"][0]["functionResponse"]["name"] == "lookup"


@BOTH
def test_bug06_unknown_or_deleted_previous_response_id_is_a_404(client, fakes, provider):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(
            model=MODELS[provider], input="hi", previous_response_id="resp_never_made"
        )
    assert "resp_never_made" in caught.value.message
    assert caught.value.body["param"] == "previous_response_id"
    r = client.responses.create(model=MODELS[provider], input="hi")
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODELS[provider], input="more", previous_response_id=r.id)
    assert len(fakes[provider].received) == 1


@BOTH
def test_bug06_store_false_with_item_ids_is_not_looked_up(client, fakes, provider):
    """Items sent back inline with their ids are the history itself, not references."""
    r = client.responses.create(model=MODELS[provider], input="hi", store=False)
    again = client.responses.create(
        model=MODELS[provider], input=[user("hi"), *history(r), user("more")], store=False
    )
    assert again.status == "completed"


@pytest.mark.xfail(
    strict=True,
    reason="the store indexes no items of stored responses: an item_reference is resolved "
    "only from the previous_response_id chain or the conversation the call names",
)
def test_item_reference_resolves_an_item_of_a_stored_response(client, fakes):
    first = client.responses.create(model=CLAUDE, input="hi")
    client.responses.create(
        model=CLAUDE,
        input=[user("hi"), {"type": "item_reference", "id": first.output[0].id}, user("and?")],
    )
    messages = fakes["anthropic"].last.json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]


def test_unknown_item_reference_is_a_404(client, fakes):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(
            model=CLAUDE, input=[{"type": "item_reference", "id": "msg_nope"}, user("x")]
        )
    assert "msg_nope" in caught.value.message
    assert fakes["anthropic"].received == []


# ---------------------------------------------------------------- conversations


@BOTH
@STREAMS
def test_conversation_turns_are_appended(client, fakes, provider, stream):
    conv = client.conversations.create(items=[user("My name is Ada.")])
    fakes[provider].enqueue(said(provider, "Nice to meet you, Ada.", stream))
    first = answer(client, stream, model=MODELS[provider], conversation=conv.id, input="Hi!")
    assert first.output_text == "Nice to meet you, Ada."
    fakes[provider].enqueue(said(provider, "Ada.", stream))
    answer(client, stream, model=MODELS[provider], conversation=conv.id, input="My name?")
    sent = orjson.dumps(fakes[provider].last.json).decode()
    for earlier in ("My name is Ada.", "Hi!", "Nice to meet you, Ada.", "My name?"):
        assert earlier in sent
    items = client.conversations.items.list(conv.id, order="asc").data
    assert [item.type for item in items] == ["message"] * 5
    assert [item.role for item in items] == ["user", "user", "assistant", "user", "assistant"]
    assert all(item.id for item in items)
    assert items[2].id == first.output[0].id


def test_conversation_given_as_an_object_and_instructions_not_carried_over(client, fakes):
    conv = client.conversations.create()
    client.responses.create(
        model=CLAUDE, conversation={"id": conv.id}, instructions="First rules.", input="one"
    )
    client.responses.create(model=CLAUDE, conversation={"id": conv.id}, input="two")
    sent = fakes["anthropic"].last.json
    assert "system" not in sent  # as at OpenAI: instructions belong to their own call
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    r = client.responses.create(model=CLAUDE, previous_response_id=None, input="three")
    assert r.previous_response_id is None


def test_unknown_conversation_is_a_404(client, fakes):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=CLAUDE, input="hi", conversation="conv_nope")
    assert caught.value.body["param"] == "conversation"
    assert fakes["anthropic"].received == []


# --------------------------------------------- reasoning state across three turns


def claude_thinking_loop(fakes, stream: bool) -> None:
    fakes["anthropic"].enqueue(
        anthropic_reply(
            [thinking("I should look it up.", SIG_1), tool_use(1, "alpha")], stream=stream
        ),
        anthropic_reply(
            [
                thinking("Now the second word.", SIG_2),
                {"type": "redacted_thinking", "data": REDACTED},
                tool_use(2, "beta"),
            ],
            stream=stream,
        ),
        anthropic_reply([{"type": "text", "text": "Both found."}], stream=stream),
    )


def assert_claude_got_its_thinking_back(fakes) -> None:
    turn_2, turn_3 = (r.json for r in fakes["anthropic"].received[-2:])
    assert turn_2["messages"][1]["content"][0] == thinking("I should look it up.", SIG_1)
    assert turn_2["thinking"]["type"] in ("enabled", "adaptive")
    messages = turn_3["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"][0] == thinking("I should look it up.", SIG_1)
    assert messages[3]["content"][:2] == [
        thinking("Now the second word.", SIG_2),
        {"type": "redacted_thinking", "data": REDACTED},
    ]
    assert messages[3]["content"][2]["id"] == "toolu_02"


@STREAMS
def test_claude_signatures_over_three_turns_by_previous_response_id(client, fakes, stream):
    claude_thinking_loop(fakes, stream)
    kwargs = dict(model=CLAUDE, tools=[LOOKUP], reasoning=REASONING, max_output_tokens=16000)
    first = answer(client, stream, input="Look up alpha then beta", **kwargs)
    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    reasoning = first.output[0]
    assert reasoning.summary[0].text == "I should look it up."
    assert reasoning.encrypted_content and SIG_1 not in reasoning.encrypted_content
    second = answer(
        client,
        stream,
        previous_response_id=first.id,
        input=[call_output("toolu_01", "alpha: first")],
        **kwargs,
    )
    assert [item.type for item in second.output] == ["reasoning", "reasoning", "function_call"]
    third = answer(
        client,
        stream,
        previous_response_id=second.id,
        input=[call_output("toolu_02", "beta: second")],
        **kwargs,
    )
    assert third.output_text == "Both found."
    assert_claude_got_its_thinking_back(fakes)


@STREAMS
def test_bug04_claude_signatures_over_three_turns_without_ids(client, fakes, stream):
    """Codex: store false, the whole history sent back each turn without item ids, the
    reasoning items with the encrypted_content the gateway gave."""
    claude_thinking_loop(fakes, stream)
    kwargs = dict(
        model=CLAUDE,
        tools=[LOOKUP],
        reasoning=REASONING,
        store=False,
        include=["reasoning.encrypted_content"],
        max_output_tokens=16000,
    )
    conversation = [user("Look up alpha then beta")]
    first = answer(client, stream, input=conversation, **kwargs)
    conversation += [*history(first, ids=False), call_output("toolu_01", "alpha: first")]
    second = answer(client, stream, input=conversation, **kwargs)
    conversation += [*history(second, ids=False), call_output("toolu_02", "beta: second")]
    assert all("id" not in item for item in conversation)
    third = answer(client, stream, input=conversation, **kwargs)
    assert third.output_text == "Both found."
    assert_claude_got_its_thinking_back(fakes)


def gemini_call(word: str, signature: str | None) -> dict:
    part: dict = {"functionCall": {"name": "lookup", "args": {"word": word}}}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


@STREAMS
@pytest.mark.parametrize("carried", ["previous_response_id", "encrypted_content"])
def test_bug08_gemini_signatures_over_three_turns(client, fakes, stream, carried):
    """Gemini 3 refuses a function call of the current turn without its signature."""
    sig_a, sig_b = "Z2VtaW5pLXNpZy1h", "Z2VtaW5pLXNpZy1i"
    fakes["gemini"].enqueue(
        gemini_reply([gemini_call("alpha", sig_a)], stream=stream, model=GEMINI_3),
        gemini_reply([gemini_call("beta", sig_b)], stream=stream, model=GEMINI_3),
        gemini_reply([{"text": "Both found."}], stream=stream, model=GEMINI_3),
    )
    kwargs: dict = dict(model=GEMINI_3, tools=[LOOKUP], reasoning=REASONING)
    conversation = [user("Look up alpha then beta")]
    previous = None
    for turn in range(3):
        if carried == "previous_response_id":
            r = answer(client, stream, previous_response_id=previous, input=conversation, **kwargs)
        else:
            r = answer(client, stream, input=conversation, store=False, **kwargs)
        if turn == 2:
            break
        (call,) = [item for item in r.output if item.type == "function_call"]
        result = call_output(call.call_id, f"result {turn}")
        if carried == "previous_response_id":
            previous, conversation = r.id, [result]
        else:
            conversation = [*conversation, *history(r, ids=False), result]
    assert r.output_text == "Both found."
    contents = fakes["gemini"].last.json["contents"]
    calls = [p for c in contents for p in c["parts"] if "functionCall" in p]
    assert [p["thoughtSignature"] for p in calls] == [sig_a, sig_b]


@STREAMS
def test_gemini_text_signature_comes_back_on_the_text(client, fakes, stream):
    """Gemini signs the text of a turn too; the sealed signature rides in a reasoning
    item after the message and goes back on that text, without ids."""
    parts = [
        {"text": "Weighing it.", "thought": True, "thoughtSignature": "dGhvdWdodC1zaWc="},
        {"text": "Paris.", "thoughtSignature": "dGV4dC1zaWc="},
    ]
    fakes["gemini"].enqueue(gemini_reply(parts, stream=stream))
    first = answer(client, stream, model=MODELS["gemini"], input="capital?", store=False)
    assert first.output_text == "Paris."
    assert [item.type for item in first.output][-2:] == ["message", "reasoning"]
    client.responses.create(
        model=MODELS["gemini"],
        input=[user("capital?"), *history(first, ids=False), user("and of Italy?")],
        store=False,
    )
    model_turn = fakes["gemini"].last.json["contents"][1]["parts"]
    assert model_turn[0] == {
        "text": "Weighing it.",
        "thought": True,
        "thoughtSignature": "dGhvdWdodC1zaWc=",
    }
    assert model_turn[-1] == {"text": "Paris.", "thoughtSignature": "dGV4dC1zaWc="}


def test_a_chain_can_move_from_claude_to_gemini(client, fakes):
    """Claude's sealed thinking does not open for Gemini: the call, its result and the
    text go on, the signature stays behind."""
    fakes["anthropic"].enqueue(
        anthropic_reply([thinking("Claude thinks.", SIG_1), tool_use(1, "alpha")], stream=True)
    )
    kwargs = dict(tools=[LOOKUP], reasoning=REASONING)
    first = answer(
        client, True, model=CLAUDE, input="Look up alpha", max_output_tokens=16000, **kwargs
    )
    fakes["gemini"].enqueue(gemini_reply([{"text": "Alpha is first."}], stream=True))
    second = answer(
        client,
        True,
        model=MODELS["gemini"],
        previous_response_id=first.id,
        input=[call_output("toolu_01", "alpha: first")],
        **kwargs,
    )
    assert second.output_text == "Alpha is first."
    sent = fakes["gemini"].last
    contents = sent.json["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    (part,) = contents[1]["parts"]
    assert (part["functionCall"]["name"], part["functionCall"]["args"]) == (
        "lookup",
        {"word": "alpha"},
    )
    assert contents[2]["parts"][0]["functionResponse"]["name"] == "lookup"
    assert SIG_1 not in sent.body.decode() and "Claude thinks" not in sent.body.decode()


def test_bug07_tampered_or_foreign_encrypted_content_is_never_forwarded(client, fakes):
    fakes["anthropic"].enqueue(
        anthropic_reply(
            [thinking("Secret plan.", SIG_1), {"type": "text", "text": "Hi"}], stream=False
        )
    )
    kwargs = dict(model=CLAUDE, reasoning=REASONING, store=False, max_output_tokens=16000)
    first = client.responses.create(input="hi", **kwargs)
    reasoning = history(first, ids=False)[0]
    blob = reasoning["encrypted_content"]
    tampered = {
        **reasoning,
        "encrypted_content": blob[:-4] + ("AAAA" if blob[-4:] != "AAAA" else "BBBB"),
    }
    foreign = {**reasoning, "encrypted_content": "gAAAAABfakeOpenAIfernetToken=="}
    for item in (tampered, foreign):
        client.responses.create(input=[user("hi"), item, user("again")], **kwargs)
        sent = fakes["anthropic"].last.body.decode()
        assert SIG_1 not in sent and "gAAAAAB" not in sent and "gwstate" not in sent
    # The same blob opens only for the provider it was sealed for.
    client.responses.create(
        model=MODELS["gemini"], input=[user("hi"), reasoning, user("again")], store=False
    )
    assert "Secret plan" not in fakes["gemini"].last.body.decode()
    # Untouched, it goes back to Claude exactly.
    client.responses.create(input=[user("hi"), reasoning, user("again")], **kwargs)
    assert fakes["anthropic"].last.json["messages"][1]["content"][0] == thinking(
        "Secret plan.", SIG_1
    )


# ------------------------------------------------------------ across a restart


def comparable(response) -> dict:
    """A response as a dict, without what the SDK's stream helper adds."""
    data = response.model_dump()
    for item in data["output"]:
        item.pop("parsed_arguments", None)
    return data


def test_stored_response_survives_a_gateway_restart(fakes, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes, store=tmp_path / "state.sqlite3"))
    fakes["anthropic"].enqueue(
        anthropic_reply([thinking("Think first.", SIG_1), tool_use(1, "alpha")], stream=True)
    )
    kwargs = dict(model=CLAUDE, tools=[LOOKUP], reasoning=REASONING, max_output_tokens=16000)
    first_gw = start_gateway(rules, tmp_path / "first.log")
    try:
        with sdk(first_gw) as client:
            first = final_of(client, input="Look up alpha", **kwargs)
    finally:
        first_gw.stop()
    second_gw = start_gateway(rules, tmp_path / "second.log")
    try:
        with sdk(second_gw) as client:
            kept = client.responses.retrieve(first.id)
            assert comparable(kept) == comparable(first)
            items = client.responses.input_items.list(first.id).data
            assert items[0].content[0].text == "Look up alpha"
            client.responses.create(
                previous_response_id=first.id,
                input=[call_output("toolu_01", "alpha: first")],
                **kwargs,
            )
            sent = fakes["anthropic"].last.json["messages"]
            assert sent[1]["content"][0] == thinking("Think first.", SIG_1)
            assert sent[2]["content"][0]["tool_use_id"] == "toolu_01"
            # The sealing key lives in the store too: the blob still opens.
            client.responses.create(
                input=[
                    user("Look up alpha"),
                    *history(first, ids=False),
                    call_output("toolu_01", "alpha: first"),
                ],
                store=False,
                **kwargs,
            )
            assert fakes["anthropic"].last.json["messages"][1]["content"][0] == thinking(
                "Think first.", SIG_1
            )
    finally:
        second_gw.stop()
