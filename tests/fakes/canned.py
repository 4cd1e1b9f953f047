"""The answers a fake upstream gives when no reply was scripted.

Every answer is a real spec example with only the model field(s) set to the model the
request asked for, so a gateway under test sees genuine provider bytes and the test can
check that the model name made the round trip. Ids and timestamps stay those of the
examples: the answers are the same on every run.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from tests.fakes.replies import FIXTURES, split_events, terminate_last_event


@cache
def _raw(relpath: str) -> bytes:
    return (FIXTURES / relpath).read_bytes()


def _load(relpath: str) -> Any:
    """A fresh copy each call, since answers are edited per request."""
    return orjson.loads(_raw(relpath))


def _sse_payloads(relpath: str) -> list[tuple[bytes | None, Any]]:
    """(event name, JSON data) of every event of an example stream; [DONE] is dropped."""
    events: list[tuple[bytes | None, Any]] = []
    for frame in split_events(terminate_last_event(_raw(relpath))):
        name: bytes | None = None
        data = b""
        for line in frame.splitlines():
            if line.startswith(b"event:"):
                name = line[6:].strip()
            elif line.startswith(b"data:"):
                data = line[5:].strip()
        if data and data != b"[DONE]":
            events.append((name, orjson.loads(data)))
    return events


def estimate_tokens(*parts: Any) -> int:
    """A stable stand-in for a tokenizer: about four bytes of JSON per token."""
    size = sum(len(orjson.dumps(p)) for p in parts if p is not None)
    return max(1, size // 4)


# --- OpenAI ---------------------------------------------------------------------------


def openai_completion(model: str) -> dict:
    body = _load("openai_chat/response_text_2026.json")
    body["model"] = model
    return body


def openai_stream(model: str, include_usage: bool) -> list[bytes]:
    """The real usage-carrying capture; without include_usage its usage chunk is left out,
    as the real API does."""
    frames: list[bytes] = []
    for _, chunk in _sse_payloads("openai_chat/stream_text_with_usage.sse"):
        if not chunk["choices"] and not include_usage:
            continue
        chunk["model"] = model
        frames.append(b"data: " + orjson.dumps(chunk) + b"\n\n")
    frames.append(b"data: [DONE]\n\n")
    return frames


def openai_models() -> dict:
    return _load("openai_chat/models_list.json")


def openai_model(model_id: str) -> dict:
    body = _load("openai_chat/models_retrieve.json")
    body["id"] = model_id
    return body


# --- Anthropic ------------------------------------------------------------------------


def anthropic_message(model: str) -> dict:
    body = _load("anthropic/response_text.json")
    body["model"] = model
    return body


def anthropic_stream(model: str) -> list[bytes]:
    frames: list[bytes] = []
    for name, event in _sse_payloads("anthropic/stream_text.sse"):
        if event["type"] == "message_start":
            event["message"]["model"] = model
        frames.append(b"event: " + (name or b"") + b"\ndata: " + orjson.dumps(event) + b"\n\n")
    return frames


def anthropic_count_tokens(body: dict) -> dict:
    return {
        "input_tokens": estimate_tokens(body.get("system"), body["messages"], body.get("tools"))
    }


# No Anthropic models list example exists; these entries follow spec §9's ModelInfo.
_ANTHROPIC_MODELS = [
    {
        "type": "model",
        "id": "claude-opus-4-6",
        "display_name": "Claude Opus 4.6",
        "created_at": "2026-02-04T00:00:00Z",
    },
    {
        "type": "model",
        "id": "claude-sonnet-4-5-20250929",
        "display_name": "Claude Sonnet 4.5",
        "created_at": "2025-09-29T00:00:00Z",
    },
    {
        "type": "model",
        "id": "claude-haiku-4-5-20251001",
        "display_name": "Claude Haiku 4.5",
        "created_at": "2025-10-01T00:00:00Z",
    },
]

# The fakes page their model lists in pages this small whatever the caller asks, so a
# client's paging (the gateway's, an SDK's) is exercised by three models.
MODEL_PAGE_MAX = 2


def anthropic_models(
    limit: int = 20, after_id: str | None = None, before_id: str | None = None
) -> dict:
    """One page, with the API's ``has_more`` / ``first_id`` / ``last_id``. Raises
    ValueError (the fake's 400) for a cursor that names no model."""
    ids = [m["id"] for m in _ANTHROPIC_MODELS]
    size = min(limit, MODEL_PAGE_MAX)
    if before_id is not None:
        end = ids.index(before_id)
        start = max(0, end - size)
        has_more = start > 0
    else:
        start = ids.index(after_id) + 1 if after_id is not None else 0
        end = min(len(ids), start + size)
        has_more = end < len(ids)
    data = [dict(m) for m in _ANTHROPIC_MODELS[start:end]]
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def anthropic_model(model_id: str) -> dict:
    return {
        "type": "model",
        "id": model_id,
        "display_name": model_id,
        "created_at": "2025-09-29T00:00:00Z",
    }


# --- Gemini ---------------------------------------------------------------------------


def gemini_response(model: str) -> dict:
    body = _load("gemini/response_text.json")
    body["modelVersion"] = model
    return body


def gemini_stream_chunks(model: str) -> list[dict]:
    chunks = [chunk for _, chunk in _sse_payloads("gemini/stream_text.sse")]
    for chunk in chunks:
        chunk["modelVersion"] = model
    return chunks


def gemini_count_tokens(body: dict) -> dict:
    request = body.get("generateContentRequest") or body
    total = estimate_tokens(
        request.get("contents"), request.get("systemInstruction"), request.get("tools")
    )
    return {
        "totalTokens": total,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}],
    }


# Listed after the spec's own entry, in its shape: a chat model and an embedding model.
_GEMINI_EXTRA = (
    ("gemini-2.5-flash", "Gemini 2.5 Flash", ["generateContent", "countTokens"]),
    ("gemini-embedding-001", "Gemini Embedding 001", ["embedContent", "batchEmbedContents"]),
)


def gemini_models(page_size: int = 50, page_token: str | None = None) -> dict:
    """One page; ``nextPageToken`` is opaque, as Google's is. Raises ValueError (the
    fake's 400) for a token it did not give."""
    models = [_load("gemini/models_get.json")]
    for model_id, display, methods in _GEMINI_EXTRA:
        entry = gemini_model(model_id)
        entry.update(displayName=display, description=display, supportedGenerationMethods=methods)
        models.append(entry)
    start = 0
    if page_token is not None:
        if not page_token.startswith("fake-page-") or not page_token[10:].isdigit():
            raise ValueError(page_token)
        start = int(page_token[10:])
    end = min(len(models), start + min(page_size or 50, MODEL_PAGE_MAX))
    page: dict = {"models": models[start:end]}
    if end < len(models):
        page["nextPageToken"] = f"fake-page-{end}"
    return page


def gemini_model(model: str) -> dict:
    body = _load("gemini/models_get.json")
    body["name"] = f"models/{model}"
    return body
