"""addons/responses_state.py: a Responses turn's stored history, and what is kept of it,
on a SQLite store driven from plain ``asyncio.run``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from addons import responses_state
from addons.store import open_store


def run_turn(tmp_path: Path, body: dict) -> responses_state.Turn:
    async def go() -> responses_state.Turn:
        store = open_store(str(tmp_path / "state.sqlite3"), retention_seconds=None, max_bytes=None)
        try:
            return await responses_state.begin_turn(store, body, provider_keeps_state=False)
        finally:
            await store.close()

    return asyncio.run(go())


def test_string_input_is_kept_as_an_input_text_message(tmp_path):
    (item,) = run_turn(tmp_path, {"model": "m", "input": "hi"}).input_items
    assert item["type"] == "message" and item["role"] == "user"
    assert item["content"] == [{"type": "input_text", "text": "hi"}]
    assert item["id"].startswith("msg_")


def test_message_string_contents_become_parts_and_other_items_stay(tmp_path):
    call = {"type": "function_call_output", "call_id": "c1", "output": "ok"}
    body = {
        "model": "m",
        "input": [
            {"role": "developer", "content": "rules"},
            {"type": "message", "role": "assistant", "content": "earlier answer"},
            call,
        ],
    }
    developer, assistant, output = run_turn(tmp_path, body).input_items
    assert developer["type"] == "message"
    assert developer["content"] == [{"type": "input_text", "text": "rules"}]
    assert assistant["content"] == [
        {"type": "output_text", "text": "earlier answer", "annotations": []}
    ]
    assert {k: v for k, v in output.items() if k != "id"} == call


def test_the_answer_echoes_store_the_previous_response_and_the_callers_settings():
    body = {
        "model": "m",
        "input": "hi",
        "instructions": "Be brief.",
        "temperature": 0,
        "top_p": True,  # not a number: not echoed
        "parallel_tool_calls": False,
        "metadata": {"k": "v"},
        "tools": [{"type": "function", "name": "f"}],
    }
    turn = responses_state.Turn(body, True, "resp_prev", None, [], store=True)
    assert responses_state.echoed(turn) == {
        "store": True,
        "previous_response_id": "resp_prev",
        "instructions": "Be brief.",
        "temperature": 0,
        "parallel_tool_calls": False,
        "metadata": {"k": "v"},
    }
    unstored = responses_state.Turn({"model": "m"}, False, None, None, [], store=False)
    assert responses_state.echoed(unstored) == {"store": False, "previous_response_id": None}
