"""Embeddings: OpenAI's ``POST /v1/embeddings`` <-> Gemini's ``:embedContent`` (one
input) and ``:batchEmbedContents`` (several), both directions.

Small records of their own rather than the generate IR: an embeddings call is a list of
texts in and a list of vectors out, in the same order. What maps:

- OpenAI ``input`` (a string or a list of strings) <-> Gemini ``content.parts[].text``,
  one content per input. Token arrays (lists of integers) have no Gemini form: refused.
- ``dimensions`` <-> ``outputDimensionality``.
- ``encoding_format``: ``float`` lists, or ``base64`` of little-endian float32 (what the
  ``openai`` SDK asks for by default and decodes); a Gemini provider always answers
  floats, so the gateway encodes.
- Usage: OpenAI's ``usage`` is always written; Gemini reports none, so the count is the
  gateway's estimate (``estimate_tokens``) and the addon says so.
- Dropped, for the caller's ``x-gateway-dropped``: OpenAI's ``user``, Gemini's
  ``taskType`` and ``title``, which the other side has no field for.

Pure: dicts in, dicts out; the errors are ``TranslationError`` naming the field.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from typing import Literal

from translators import fields
from translators.errors import TranslationError
from translators.fields import child

Encoding = Literal["float", "base64"]

_OPENAI_FIELDS = frozenset({"input", "model", "dimensions", "encoding_format", "user"})
# Gemini accepts the proto snake_case names as well as camelCase.
_GEMINI_NAMES = {
    "model": "model",
    "content": "content",
    "taskType": "taskType",
    "task_type": "taskType",
    "title": "title",
    "outputDimensionality": "outputDimensionality",
    "output_dimensionality": "outputDimensionality",
}


@dataclass(slots=True)
class EmbedRequest:
    """The texts to embed, in order, and how."""

    inputs: list[str]
    dimensions: int | None = None
    encoding: Encoding = "float"  # how an OpenAI caller wants the vectors
    dropped: list[str] = field(default_factory=list)  # fields the target has no place for


@dataclass(slots=True)
class Embeddings:
    """The vectors, in input order, and the input tokens the provider reported."""

    vectors: list[list[float]]
    prompt_tokens: int | None = None


def estimate_tokens(inputs: list[str]) -> int:
    """The gateway's count where the provider reports none: four characters a token, at
    least one per input (the estimate ``convert.estimate_input_tokens`` uses)."""
    return sum(max(1, len(text) // 4) for text in inputs)


# ---------------------------------------------------------------- OpenAI


def parse_openai_request(body: object) -> EmbedRequest:
    """An OpenAI embeddings body, for a provider that takes text."""
    data = fields.obj(body, "")
    for name in data:
        if name not in _OPENAI_FIELDS:
            raise TranslationError(f"Unrecognized request argument supplied: {name}", param=name)
    fields.need(data, "model", fields.string, "")
    raw = data.get("input")
    if isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        inputs = list(raw)
    elif isinstance(raw, list) and raw and all(isinstance(x, int | list) for x in raw):
        raise TranslationError(
            "input is given as token arrays, which only OpenAI's own tokenizer can read; "
            "this model's provider embeds text, so send the text instead.",
            param="input",
        )
    else:
        raise TranslationError(
            "input must be a string or a non-empty array of strings", param="input"
        )
    req = EmbedRequest(inputs, dimensions=_dimensions(data.get("dimensions"), "dimensions"))
    encoding = data.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise TranslationError(
            f"encoding_format must be float or base64 (got {encoding!r})", param="encoding_format"
        )
    req.encoding = encoding
    if data.get("user") is not None:
        req.dropped.append("user")
    return req


def render_openai_request(req: EmbedRequest, model: str) -> dict:
    """Floats are asked for: the gateway reads the vectors before re-encoding them."""
    body: dict = {"model": model, "input": req.inputs, "encoding_format": "float"}
    if req.dimensions is not None:
        body["dimensions"] = req.dimensions
    return body


def parse_openai_response(body: object, expected: int) -> Embeddings:
    """``data[]`` put back in input order by ``index``; a base64 vector is decoded."""
    data = fields.obj(body, "")
    items = fields.need(data, "data", fields.arr, "")
    by_index: dict[int, list[float]] = {}
    for i, raw in enumerate(items):
        at = child("data", i)
        item = fields.obj(raw, at)
        index = fields.get(item, "index", fields.integer, at)
        vector = item.get("embedding")
        if isinstance(vector, str):
            by_index[i if index is None else index] = _decode_base64(vector, child(at, "embedding"))
        else:
            by_index[i if index is None else index] = _floats(vector, child(at, "embedding"))
    if sorted(by_index) != list(range(expected)):
        raise TranslationError(
            f"the answer has embeddings for indexes {sorted(by_index)}, "
            f"not one for each of the {expected} inputs",
            param="data",
        )
    usage = data.get("usage")
    tokens = fields.count(usage.get("prompt_tokens")) if isinstance(usage, dict) else None
    return Embeddings([by_index[i] for i in range(expected)], tokens)


def render_openai_response(
    emb: Embeddings, *, model: str, encoding: Encoding, prompt_tokens: int
) -> dict:
    data = [
        {"object": "embedding", "index": i, "embedding": _encode(vector, encoding)}
        for i, vector in enumerate(emb.vectors)
    ]
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


# ---------------------------------------------------------------- Gemini


def parse_gemini_request(body: object, *, batch: bool, model: str) -> EmbedRequest:
    """``embedContent`` (one ``content``) or ``batchEmbedContents`` (``requests[]``, each
    naming ``models/<model>`` like the URL). OpenAI takes one ``dimensions`` for the
    whole call, so the requests of a batch must agree on ``outputDimensionality``."""
    data = fields.obj(body, "")
    if not batch:
        one = _gemini_one(data, "", model)
        return EmbedRequest([one.text], dimensions=one.dimensions, dropped=one.dropped)
    for name in data:
        if name != "requests":
            raise _unknown_name(name, "")
    requests = fields.need(data, "requests", fields.arr, "")
    if not requests:
        raise TranslationError("requests must not be empty", param="requests")
    items = [
        _gemini_one(fields.obj(r, child("requests", i)), child("requests", i), model)
        for i, r in enumerate(requests)
    ]
    sizes = {item.dimensions for item in items}
    if len(sizes) > 1:
        raise TranslationError(
            "the requests ask for different outputDimensionality values; this model's "
            "provider takes one size for the whole batch",
            param="requests",
        )
    dropped = sorted({name for item in items for name in item.dropped})
    return EmbedRequest([item.text for item in items], dimensions=sizes.pop(), dropped=dropped)


def render_gemini_request(req: EmbedRequest, model: str) -> tuple[bool, dict]:
    """``embedContent`` for one input, ``batchEmbedContents`` for several; returns
    whether it is the batch, and the body."""
    requests = []
    for text in req.inputs:
        one: dict = {"model": f"models/{model}", "content": {"parts": [{"text": text}]}}
        if req.dimensions is not None:
            one["outputDimensionality"] = req.dimensions
        requests.append(one)
    if len(requests) == 1:
        return False, requests[0]
    return True, {"requests": requests}


def parse_gemini_response(body: object, *, batch: bool, expected: int) -> Embeddings:
    data = fields.obj(body, "")
    if batch:
        items = fields.need(data, "embeddings", fields.arr, "")
        at = "embeddings"
    else:
        items = [fields.need(data, "embedding", fields.obj, "")]
        at = ""
    if len(items) != expected:
        raise TranslationError(
            f"the answer has {len(items)} embeddings for {expected} inputs", param="embeddings"
        )
    vectors = []
    for i, raw in enumerate(items):
        where = child(at, i) if batch else "embedding"
        item = fields.obj(raw, where)
        vectors.append(_floats(item.get("values"), child(where, "values")))
    return Embeddings(vectors)


def render_gemini_response(emb: Embeddings, *, batch: bool) -> dict:
    if batch:
        return {"embeddings": [{"values": vector} for vector in emb.vectors]}
    return {"embedding": {"values": emb.vectors[0]}}


# ---------------------------------------------------------------- helpers


@dataclass(slots=True)
class _GeminiOne:
    text: str
    dimensions: int | None
    dropped: list[str]


def _gemini_one(data: dict, at: str, model: str) -> _GeminiOne:
    """One ``EmbedContentRequest``: its text parts joined, as Gemini embeds the content."""
    values: dict[str, object] = {}
    for name, value in data.items():
        if name not in _GEMINI_NAMES:
            raise _unknown_name(name, at)
        values[_GEMINI_NAMES[name]] = value
    named = values.get("model")
    if named is not None and named not in (f"models/{model}", model):
        raise TranslationError(
            f"{child(at, 'model')} names {named!r}, not the model of the URL (models/{model})",
            param=child(at, "model"),
        )
    content = fields.obj(values.get("content"), child(at, "content"))
    parts = fields.need(content, "parts", fields.arr, child(at, "content"))
    texts = []
    for i, raw in enumerate(parts):
        where = child(child(child(at, "content"), "parts"), i)
        part = fields.obj(raw, where)
        if not isinstance(part.get("text"), str):
            raise TranslationError(
                f"{where} is not text; this model's provider embeds text only", param=where
            )
        texts.append(part["text"])
    if not texts:
        raise TranslationError(
            f"{child(at, 'content')}.parts must not be empty", param=child(at, "content")
        )
    where = child(at, "outputDimensionality")
    dimensions = _dimensions(values.get("outputDimensionality"), where)
    dropped = [name for name in ("taskType", "title") if values.get(name) is not None]
    return _GeminiOne("\n".join(texts), dimensions, dropped)


def _unknown_name(name: str, at: str) -> TranslationError:
    where = f" at '{at}'" if at else ""
    return TranslationError(
        f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.',
        param=child(at, name),
    )


def _dimensions(value: object, at: str) -> int | None:
    if value is None:
        return None
    size = fields.integer(value, at)
    if size < 1:
        raise TranslationError(f"{at} must be at least 1", param=at)
    return size


def _floats(value: object, at: str) -> list[float]:
    vector = fields.arr(value, at)
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in vector):
        raise TranslationError(f"{at} must be an array of numbers", param=at)
    return [float(x) for x in vector]


def _encode(vector: list[float], encoding: Encoding) -> list[float] | str:
    if encoding == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def _decode_base64(text: str, at: str) -> list[float]:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise TranslationError(f"{at} is not base64", param=at) from None
    if len(raw) % 4:
        raise TranslationError(f"{at} is not a list of float32 values", param=at)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))
