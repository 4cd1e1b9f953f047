"""Responses API state the gateway keeps itself (docs/store.md), through the official
``openai`` SDK: conversations and their items, and stored-response lookups. Turns that
create and continue stored responses are in test_responses.py."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.e2e.clients import openai_client


def test_conversation_lifecycle_with_items(gateway):
    client = openai_client(gateway, "/openai")
    conv = client.conversations.create(
        metadata={"topic": "demo"},
        items=[{"type": "message", "role": "user", "content": "hello"}],
    )
    assert conv.id.startswith("conv_") and conv.metadata == {"topic": "demo"}
    assert client.conversations.retrieve(conv.id).id == conv.id
    added = client.conversations.items.create(
        conv.id,
        items=[
            {"type": "message", "role": "assistant", "content": "hi there"},
            {"type": "message", "role": "user", "content": "bye"},
        ],
    )
    assert len(added.data) == 2 and all(item.id for item in added.data)
    listed = client.conversations.items.list(conv.id, order="asc")
    contents = [item.content for item in listed.data]
    assert contents == ["hello", "hi there", "bye"]
    newest = client.conversations.items.list(conv.id, limit=1)
    assert newest.data[0].content == "bye" and newest.has_more is True
    first = listed.data[0].id
    assert client.conversations.items.retrieve(first, conversation_id=conv.id).id == first
    client.conversations.items.delete(first, conversation_id=conv.id)
    assert len(client.conversations.items.list(conv.id).data) == 2
    updated = client.conversations.update(conv.id, metadata={"topic": "other"})
    assert updated.metadata == {"topic": "other"}
    deleted = client.conversations.delete(conv.id)
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError, match="not found"):
        client.conversations.retrieve(conv.id)


def test_unknown_stored_response_is_openais_404(gateway):
    client = openai_client(gateway, "/openai")
    with pytest.raises(openai.NotFoundError) as e:
        client.responses.retrieve("resp_unknown")
    assert "resp_unknown" in e.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.delete("resp_unknown")
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list("resp_unknown")


def test_bad_paging_argument_is_a_400(gateway):
    client = openai_client(gateway, "/openai")
    conv = client.conversations.create()
    with pytest.raises(openai.BadRequestError, match="order"):
        client.conversations.items.list(conv.id, extra_query={"order": "sideways"})


def test_wrong_method_on_a_state_path_is_405_with_allow(gateway):
    answer = httpx.put(f"{gateway.url}/openai/v1/responses/resp_1", timeout=10)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, DELETE"
    assert answer.headers["x-request-id"]
    assert "PUT" in answer.json()["error"]["message"]


def test_native_lookup_of_an_id_the_gateway_does_not_hold_goes_to_openai(gateway, fakes):
    client = openai_client(gateway)
    with pytest.raises(openai.APIStatusError):
        client.responses.retrieve("resp_kept_by_openai")
    assert fakes["openai"].last.path == "/v1/responses/resp_kept_by_openai"
