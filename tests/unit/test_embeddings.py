"""The pure embeddings translation (translators/embeddings.py) and the answer plans of
addons/embeddings.py, on the spec's example bodies."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import orjson
import pytest

from addons import embeddings as plans
from addons import routes
from addons.rules import Resolution, parse_rules
from translators import embeddings as emb
from translators.errors import TranslationError

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec" / "openai_chat"


def spec(name: str) -> dict:
    return orjson.loads((SPEC / name).read_bytes())


# ---------------------------------------------------------------- OpenAI requests


def test_the_spec_request_parses():
    req = emb.parse_openai_request(spec("embeddings_request.json"))
    assert req.inputs == ["The food was delicious and the waiter..."]
    assert req.encoding == "float" and req.dimensions is None and req.dropped == []


def test_a_list_dimensions_base64_and_user():
    req = emb.parse_openai_request(
        {
            "model": "m",
            "input": ["a", "b"],
            "dimensions": 8,
            "encoding_format": "base64",
            "user": "u",
        }
    )
    assert req.inputs == ["a", "b"] and req.dimensions == 8
    assert req.encoding == "base64" and req.dropped == ["user"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "input": [1, 2]}, "input"),
        ({"model": "m", "input": [[1], [2]]}, "input"),
        ({"model": "m", "input": []}, "input"),
        ({"model": "m", "input": 3}, "input"),
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "shape": 1}, "shape"),
        ({"input": "x"}, "model"),
    ],
)
def test_what_gemini_cannot_take_is_refused_naming_the_field(body, param):
    with pytest.raises(TranslationError) as caught:
        emb.parse_openai_request(body)
    assert caught.value.param == param


def test_one_input_is_embed_content_and_several_a_batch():
    one = emb.EmbedRequest(["a"], dimensions=4)
    assert emb.render_gemini_request(one, "gemini-embedding-001") == (
        False,
        {
            "model": "models/gemini-embedding-001",
            "content": {"parts": [{"text": "a"}]},
            "outputDimensionality": 4,
        },
    )
    batch, body = emb.render_gemini_request(emb.EmbedRequest(["a", "b"]), "g")
    assert batch and [r["content"]["parts"][0]["text"] for r in body["requests"]] == ["a", "b"]
    assert all(r["model"] == "models/g" for r in body["requests"])


# ---------------------------------------------------------------- OpenAI answers


def test_the_spec_answer_reads_in_index_order():
    body = spec("embeddings_response.json")
    body["data"].reverse()
    out = emb.parse_openai_response(body, 2)
    assert out.vectors[0][0] == pytest.approx(0.0057293195)
    assert out.vectors[1][0] == pytest.approx(-0.037104916)
    assert out.prompt_tokens == 12


def test_a_base64_answer_is_decoded_and_a_missing_index_refused():
    encoded = base64.b64encode(struct.pack("<2f", 0.5, -0.25)).decode()
    body = {"data": [{"index": 0, "embedding": encoded}]}
    assert emb.parse_openai_response(body, 1).vectors == [[0.5, -0.25]]
    with pytest.raises(TranslationError):
        emb.parse_openai_response(body, 2)


def test_base64_is_little_endian_float32():
    out = emb.render_openai_response(
        emb.Embeddings([[0.5, -2.0]]), model="m", encoding="base64", prompt_tokens=3
    )
    assert base64.b64decode(out["data"][0]["embedding"]) == struct.pack("<2f", 0.5, -2.0)
    assert out["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert out["object"] == "list" and out["model"] == "m"


# ---------------------------------------------------------------- Gemini requests


def test_a_gemini_batch_keeps_order_and_drops_task_type_and_title():
    body = {
        "requests": [
            {
                "model": "models/g",
                "content": {"parts": [{"text": "a"}, {"text": "b"}]},
                "task_type": "RETRIEVAL_DOCUMENT",
                "title": "T",
                "outputDimensionality": 6,
            },
            {
                "model": "models/g",
                "content": {"parts": [{"text": "c"}]},
                "output_dimensionality": 6,
            },
        ]
    }
    req = emb.parse_gemini_request(body, batch=True, model="g")
    assert req.inputs == ["a\nb", "c"] and req.dimensions == 6
    assert req.dropped == ["taskType", "title"]
    assert emb.render_openai_request(req, "text-embedding-3-small") == {
        "model": "text-embedding-3-small",
        "input": ["a\nb", "c"],
        "encoding_format": "float",
        "dimensions": 6,
    }


@pytest.mark.parametrize(
    ("body", "batch"),
    [
        ({"requests": []}, True),
        ({"requests": [{"model": "models/other", "content": {"parts": [{"text": "a"}]}}]}, True),
        (
            {
                "requests": [
                    {"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 2},
                    {"content": {"parts": [{"text": "b"}]}, "outputDimensionality": 3},
                ]
            },
            True,
        ),
        ({"content": {"parts": [{"inlineData": {"data": "AA=="}}]}}, False),
        ({"content": {"parts": []}}, False),
        ({"content": {"parts": [{"text": "a"}]}, "autoTruncate": True}, False),
    ],
)
def test_what_openai_cannot_take_is_refused(body, batch):
    with pytest.raises(TranslationError):
        emb.parse_gemini_request(body, batch=batch, model="g")


def test_gemini_answers_both_shapes():
    single = emb.parse_gemini_response({"embedding": {"values": [1, 2]}}, batch=False, expected=1)
    assert single.vectors == [[1.0, 2.0]] and single.prompt_tokens is None
    many = emb.parse_gemini_response(
        {"embeddings": [{"values": [1]}, {"values": [2]}]}, batch=True, expected=2
    )
    assert emb.render_gemini_response(many, batch=True) == {
        "embeddings": [{"values": [1.0]}, {"values": [2.0]}]
    }
    assert emb.render_gemini_response(single, batch=False) == {"embedding": {"values": [1.0, 2.0]}}
    with pytest.raises(TranslationError):
        emb.parse_gemini_response({"embeddings": [{"values": [1]}]}, batch=True, expected=2)


def test_the_estimate_counts_every_input():
    assert emb.estimate_tokens(["", "x" * 40]) == 11


# ---------------------------------------------------------------- routes and plans

RULES = parse_rules(
    """
providers:
  openai: {protocol: openai, base_url: "http://o/v1"}
  gemini: {protocol: gemini, base_url: "http://g"}
  anthropic: {protocol: anthropic, base_url: "http://a"}
models:
  - {match: "text-embedding-*", provider: openai}
  - {match: "gemini-*", provider: gemini}
  - {match: "claude-*", provider: anthropic}
  - {match: "alias", provider: gemini, model: gemini-embedding-001}
""",
    "rules.yaml",
    {},
)


def resolve(model: str) -> Resolution:
    res = RULES.resolve(model)
    assert res is not None
    return res


def test_the_routes():
    native = routes.match("/v1/embeddings", RULES.routes)
    assert native is not None and native.endpoint == "embeddings" and native.client == "openai_chat"
    batch = routes.match("/gemini/v1beta/models/g:batchEmbedContents", RULES.routes)
    assert batch is not None and routes.is_batch_embedding(batch) and batch.model == "g"
    single = routes.match("/v1beta/models/g:embedContent", RULES.routes)
    assert single is not None and not routes.is_batch_embedding(single)


def test_an_openai_caller_for_gemini_and_its_answer():
    route = routes.match("/openai/v1/embeddings", RULES.routes)
    assert route is not None
    body = {"model": "gemini-embedding-001", "input": ["a", "b"], "encoding_format": "base64"}
    call = plans.prepare(route, body, "gemini-embedding-001", resolve("gemini-embedding-001"), [])
    assert call.translated and call.wire == "gemini"
    assert call.url == "http://g/v1beta/models/gemini-embedding-001:batchEmbedContents"
    answer = call.plan.answer(200, b'{"embeddings":[{"values":[0.5]},{"values":[1]}]}', None)
    out = orjson.loads(answer.body or b"")
    assert [d["index"] for d in out["data"]] == [0, 1]
    assert isinstance(out["data"][0]["embedding"], str)
    assert out["usage"]["prompt_tokens"] == 2 and answer.notes == {"tokens_estimated": True}
    error = call.plan.answer(
        404, b'{"error":{"code":404,"message":"no","status":"NOT_FOUND"}}', None
    )
    assert error.status == 404 and orjson.loads(error.body or b"")["error"]["message"] == "no"


def test_a_gemini_caller_for_openai_and_its_answer():
    route = routes.match("/gemini/v1beta/models/text-embedding-3-small:embedContent", RULES.routes)
    assert route is not None
    body = {"content": {"parts": [{"text": "a"}]}, "title": "T"}
    call = plans.prepare(
        route, body, "text-embedding-3-small", resolve("text-embedding-3-small"), []
    )
    assert call.url == "http://o/v1/embeddings" and call.dropped == ("title",)
    reply = orjson.dumps(
        {"data": [{"index": 0, "embedding": [0.25]}], "usage": {"prompt_tokens": 7}}
    )
    answer = call.plan.answer(200, reply, None)
    assert orjson.loads(answer.body or b"") == {"embedding": {"values": [0.25]}}
    assert answer.usage is not None and answer.usage.input_tokens == 7 and not answer.notes


def test_a_renamed_gemini_model_is_renamed_in_every_request():
    route = routes.match("/gemini/v1beta/models/alias:batchEmbedContents", RULES.routes)
    assert route is not None
    body = {"requests": [{"model": "models/alias", "content": {"parts": [{"text": "a"}]}}]}
    call = plans.prepare(route, body, "alias", resolve("alias"), [("key", "k"), ("x", "1")])
    assert not call.translated and call.wire == "gemini"
    assert call.url == "http://g/v1beta/models/gemini-embedding-001:batchEmbedContents?x=1"
    assert orjson.loads(call.body or b"")["requests"][0]["model"] == "models/gemini-embedding-001"


def test_native_guard_and_anthropic():
    native = routes.match("/v1/embeddings", RULES.routes)
    assert native is not None
    why = plans.guard(native, resolve("gemini-x"), "gemini-x", RULES.routes)
    assert why is not None and "/openai/v1/embeddings" in why
    assert plans.guard(native, resolve("text-embedding-3-small"), "t", RULES.routes) is None
    with pytest.raises(TranslationError, match="no embeddings endpoint"):
        plans.prepare(
            native, {"model": "claude-x", "input": "a"}, "claude-x", resolve("claude-x"), []
        )
