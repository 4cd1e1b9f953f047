"""Embeddings through the official SDKs: an OpenAI caller for a Gemini model and a
Gemini caller for an OpenAI model (translated both ways), and native passthrough. The
fakes' vectors are a function of their text, so each check proves order too."""

from __future__ import annotations

import base64
import struct
import time

import httpx
import openai
import orjson
import pytest
from google.genai import errors as genai_errors
from google.genai import types

from tests.e2e.clients import gemini_client, openai_client
from tests.fakes import Reply
from tests.fakes.embeddings import GEMINI_DIMENSIONS, OPENAI_DIMENSIONS, vector

TEXTS = ["The first text.", "A second, longer text about embeddings.", "Third."]
GEMINI_MODEL = "gemini-embedding-001"
OPENAI_MODEL = "text-embedding-3-small"


def log_line(gateway, request_id: str) -> dict:
    deadline = time.monotonic() + 3
    while True:
        for line in gateway.log().splitlines():
            if f'"id":"{request_id}"' in line:
                return orjson.loads(line[line.index("{") :])
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line for {request_id}")
        time.sleep(0.05)


# --------------------------------------------------- OpenAI caller, Gemini model


@pytest.mark.parametrize("encoding", ["float", None])  # None: the SDK's default, base64
def test_openai_sdk_embeds_several_texts_with_a_gemini_model(gateway, fakes, encoding):
    extra = {"encoding_format": encoding} if encoding else {}
    raw = openai_client(gateway, "/openai").embeddings.with_raw_response.create(
        model=GEMINI_MODEL, input=TEXTS, **extra
    )
    wire = raw.http_response.json()["data"]  # base64 strings unless floats were asked for
    assert all(isinstance(d["embedding"], list if encoding else str) for d in wire)
    answer = raw.parse()
    assert [d.index for d in answer.data] == [0, 1, 2]
    for text, item in zip(TEXTS, answer.data, strict=True):
        assert item.embedding == vector(text, GEMINI_DIMENSIONS)  # exact in float32
    assert answer.model == GEMINI_MODEL
    assert answer.usage.prompt_tokens == answer.usage.total_tokens > 0
    sent = fakes["gemini"].last
    assert sent.path == f"/v1beta/models/{GEMINI_MODEL}:batchEmbedContents"
    assert [r["content"]["parts"][0]["text"] for r in sent.json["requests"]] == TEXTS
    line = log_line(gateway, raw.headers["x-request-id"])
    assert line["tokens_estimated"] is True and line["tokens"]["in"] > 0


@pytest.mark.parametrize("encoding", ["float", None])
def test_openai_sdk_embeds_one_text_with_dimensions(gateway, fakes, encoding):
    extra = {"encoding_format": encoding} if encoding else {}
    answer = openai_client(gateway, "/openai").embeddings.create(
        model=GEMINI_MODEL, input="Only one.", dimensions=8, **extra
    )
    (item,) = answer.data
    assert item.embedding == vector("Only one.", 8)
    assert answer.usage.prompt_tokens > 0
    sent = fakes["gemini"].last
    assert sent.path == f"/v1beta/models/{GEMINI_MODEL}:embedContent"
    assert sent.json == {
        "model": f"models/{GEMINI_MODEL}",
        "content": {"parts": [{"text": "Only one."}]},
        "outputDimensionality": 8,
    }


def test_base64_is_little_endian_float32(gateway, fakes):
    r = httpx.post(
        f"{gateway.url}/openai/v1/embeddings",
        json={"model": GEMINI_MODEL, "input": "bytes", "encoding_format": "base64"},
        headers={"authorization": "Bearer caller"},
    )
    encoded = r.json()["data"][0]["embedding"]
    values = vector("bytes", GEMINI_DIMENSIONS)
    assert base64.b64decode(encoded) == struct.pack(f"<{len(values)}f", *values)


def test_user_is_dropped_and_reported(gateway, fakes):
    raw = openai_client(gateway, "/openai").embeddings.with_raw_response.create(
        model=GEMINI_MODEL, input="hi", user="user-42", encoding_format="float"
    )
    assert raw.headers["x-gateway-dropped"] == "user"
    assert "user" not in orjson.dumps(fakes["gemini"].last.json).decode()


def test_token_arrays_are_refused_toward_gemini(gateway, fakes):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(gateway, "/openai").embeddings.create(model=GEMINI_MODEL, input=[[1, 2, 3]])
    assert caught.value.body["param"] == "input"
    assert "token arrays" in caught.value.body["message"]
    assert fakes["gemini"].received == []


def test_a_gemini_error_is_the_openai_callers_error(gateway, fakes):
    fakes["gemini"].enqueue(Reply.error("gemini", 429))
    with pytest.raises(openai.RateLimitError):
        openai_client(gateway, "/openai").embeddings.create(model=GEMINI_MODEL, input="hi")


# --------------------------------------------------- Gemini caller, OpenAI model


def test_genai_embeds_several_contents_with_an_openai_model(gateway, fakes):
    answer = gemini_client(gateway, "/gemini").models.embed_content(
        model=OPENAI_MODEL,
        contents=TEXTS,
        config=types.EmbedContentConfig(
            output_dimensionality=6, task_type="RETRIEVAL_DOCUMENT", title="Notes"
        ),
    )
    assert [e.values for e in answer.embeddings] == [vector(t, 6) for t in TEXTS]
    sent = fakes["openai"].last
    assert sent.path == "/v1/embeddings"
    assert sent.json == {
        "model": OPENAI_MODEL,
        "input": TEXTS,
        "encoding_format": "float",
        "dimensions": 6,
    }


def test_genai_embeds_one_content(gateway, fakes):
    client = gemini_client(gateway, "/gemini")
    answer = client.models.embed_content(
        model=OPENAI_MODEL,
        contents="Just this.",
        config=types.EmbedContentConfig(task_type="RETRIEVAL_QUERY"),
    )
    (only,) = answer.embeddings
    assert only.values == vector("Just this.", OPENAI_DIMENSIONS)
    assert fakes["openai"].last.json["input"] == ["Just this."]


def test_gemini_embed_content_for_an_openai_model_over_http(gateway, fakes):
    """``embedContent`` (the SDK always batches): one ``embedding`` back, and the drop
    of ``taskType`` named in the header."""
    r = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/{OPENAI_MODEL}:embedContent",
        json={
            "content": {"parts": [{"text": "One"}]},
            "taskType": "SEMANTIC_SIMILARITY",
            "outputDimensionality": 4,
        },
        headers={"x-goog-api-key": "caller"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"embedding": {"values": vector("One", 4)}}
    assert r.headers["x-gateway-dropped"] == "taskType"
    assert fakes["openai"].last.json["input"] == ["One"]


def test_an_openai_error_is_the_gemini_callers_error(gateway, fakes):
    fakes["openai"].enqueue(Reply.error("openai", 400, "bad input for embeddings"))
    with pytest.raises(genai_errors.ClientError) as caught:
        gemini_client(gateway, "/gemini").models.embed_content(model=OPENAI_MODEL, contents="x")
    assert caught.value.code == 400 and "bad input for embeddings" in str(caught.value)


# ------------------------------------------------------------------ native routes


def test_native_embeddings_pass_through(gateway, fakes):
    answer = openai_client(gateway).embeddings.create(model=OPENAI_MODEL, input=TEXTS)
    assert [d.embedding for d in answer.data] == [vector(t, OPENAI_DIMENSIONS) for t in TEXTS]
    assert fakes["openai"].last.json["encoding_format"] == "base64"  # the caller's bytes
    native = gemini_client(gateway).models.embed_content(model=GEMINI_MODEL, contents=TEXTS)
    assert [e.values for e in native.embeddings] == [vector(t, GEMINI_DIMENSIONS) for t in TEXTS]


def test_a_native_route_does_not_convert(gateway, fakes):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(gateway).embeddings.create(model=GEMINI_MODEL, input="hi")
    assert "/openai/v1/embeddings" in caught.value.body["message"]
    assert fakes["gemini"].received == []


def test_anthropic_has_no_embeddings(gateway, fakes):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(gateway, "/openai").embeddings.create(model="claude-sonnet-4-5", input="x")
    assert "no embeddings endpoint" in caught.value.body["message"]
    assert fakes["anthropic"].received == []
