"""The fakes' embeddings endpoints: OpenAI ``POST /v1/embeddings`` and Gemini
``:embedContent`` / ``:batchEmbedContents``, validated the way the real services
validate and answered in their exact shapes (OpenAI's spec example; Gemini's
``{"embedding": {"values": [...]}}`` and ``{"embeddings": [{"values": [...]}, ...]}``).

A vector is a function of its text (a hash), so a test can tell which input a vector
belongs to and check the order. Every value is a multiple of 1/128, exact in float32,
so a base64 (float32) vector decodes to exactly the floats a float answer has.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import Any

import orjson

from tests.fakes.canned import estimate_tokens
from tests.fakes.replies import Received, Reply
from tests.fakes.validate import Rejected

OPENAI_DIMENSIONS = 12  # the fakes' default sizes differ, so a test can tell who answered
GEMINI_DIMENSIONS = 16
GEMINI_JSON = "application/json; charset=UTF-8"

_OPENAI_FIELDS = frozenset({"input", "model", "dimensions", "encoding_format", "user"})
_GEMINI_FIELDS = frozenset(
    {
        "model",
        "content",
        "taskType",
        "task_type",
        "title",
        "outputDimensionality",
        "output_dimensionality",
    }
)
_TASK_TYPES = frozenset(
    {
        "TASK_TYPE_UNSPECIFIED",
        "RETRIEVAL_QUERY",
        "RETRIEVAL_DOCUMENT",
        "SEMANTIC_SIMILARITY",
        "CLASSIFICATION",
        "CLUSTERING",
        "QUESTION_ANSWERING",
        "FACT_VERIFICATION",
        "CODE_RETRIEVAL_QUERY",
    }
)


def vector(text: str, size: int) -> list[float]:
    """The fakes' embedding of ``text``: deterministic, exact in float32."""
    digest = b""
    while len(digest) < size:
        digest += hashlib.sha256(digest + text.encode()).digest()
    return [(byte - 128) / 128 for byte in digest[:size]]


# --- OpenAI ---------------------------------------------------------------------------


def openai_embeddings(request: Received) -> Reply:
    body = _json(request)
    for name in body:
        if name not in _OPENAI_FIELDS:
            raise Rejected(f"Unrecognized request argument supplied: {name}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise Rejected("you must provide a model parameter", param="model")
    texts = _openai_inputs(body.get("input"))
    size = body.get("dimensions")
    if size is not None:
        if not model.startswith("text-embedding-3"):
            raise Rejected("This model does not support specifying dimensions.", param="dimensions")
        if type(size) is not int or size < 1:
            raise Rejected(f"Invalid value for 'dimensions': {size!r}.", param="dimensions")
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise Rejected(
            f"Invalid value for 'encoding_format': {encoding!r}. Supported values are: "
            "'float' and 'base64'.",
            param="encoding_format",
        )
    data = []
    for i, text in enumerate(texts):
        values = vector(text, size or OPENAI_DIMENSIONS)
        embedding: Any = values
        if encoding == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
        data.append({"object": "embedding", "index": i, "embedding": embedding})
    tokens = sum(estimate_tokens(text) for text in texts)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return Reply.json({"object": "list", "data": data, "model": model, "usage": usage})


def _openai_inputs(value: object) -> list[str]:
    """Strings, or token arrays (embedded as their text, which the fake does not need)."""
    invalid = Rejected(
        "'$.input' is invalid. Please check the API reference: "
        "https://platform.openai.com/docs/api-reference.",
        param="input",
    )
    if isinstance(value, str):
        if not value:
            raise invalid
        return [value]
    if not isinstance(value, list) or not value:
        raise invalid
    if all(isinstance(x, str) and x for x in value):
        return list(value)
    if all(type(x) is int for x in value):
        return [" ".join(map(str, value))]
    if all(isinstance(x, list) and x and all(type(t) is int for t in x) for x in value):
        return [" ".join(map(str, x)) for x in value]
    raise invalid


# --- Gemini ---------------------------------------------------------------------------


def gemini_embed(request: Received, model: str) -> Reply:
    body = _json(request)
    values = _gemini_one(body, model, "", batch=False)
    return Reply.json({"embedding": {"values": values}}, headers={"content-type": GEMINI_JSON})


def gemini_batch_embed(request: Received, model: str) -> Reply:
    body = _json(request)
    for name in body:
        if name != "requests":
            raise _unknown(name, "")
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise Rejected("* BatchEmbedContentsRequest.requests: requests is not specified\n")
    embeddings = []
    for i, one in enumerate(requests):
        if not isinstance(one, dict):
            raise Rejected(f"Invalid JSON payload received. Expected an object at requests[{i}].")
        embeddings.append({"values": _gemini_one(one, model, f"requests[{i}]", batch=True)})
    return Reply.json({"embeddings": embeddings}, headers={"content-type": GEMINI_JSON})


def _gemini_one(body: dict, model: str, at: str, *, batch: bool) -> list[float]:
    """One ``EmbedContentRequest``; in a batch each must name the model of the URL."""
    for name in body:
        if name not in _GEMINI_FIELDS:
            raise _unknown(name, at)
    named = body.get("model")
    if batch and named is None:
        raise Rejected(f"* BatchEmbedContentsRequest.{at}.model: model is not specified\n")
    if named is not None and named != f"models/{model}":
        raise Rejected(
            f"* BatchEmbedContentsRequest.{at}.model: the model of each request must be the "
            f"model of the batch (models/{model}), got {named!r}\n"
        )
    content = body.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list) or not parts:
        raise Rejected("* EmbedContentRequest.content: contents is not specified\n")
    texts = []
    for part in parts:
        if not isinstance(part, dict) or not isinstance(part.get("text"), str):
            raise Rejected("* EmbedContentRequest.content.parts: only text can be embedded\n")
        texts.append(part["text"])
    task = body.get("taskType", body.get("task_type"))
    if task is not None and (not isinstance(task, str) or task.upper() not in _TASK_TYPES):
        raise Rejected(f"Invalid value at 'task_type', \"{task}\"")
    size = body.get("outputDimensionality", body.get("output_dimensionality"))
    if size is not None and (type(size) is not int or size < 1):
        raise Rejected("* EmbedContentRequest.output_dimensionality: must be positive\n")
    return vector("\n".join(texts), size or GEMINI_DIMENSIONS)


def _unknown(name: str, at: str) -> Rejected:
    where = f" at '{at}'" if at else ""
    return Rejected(
        f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
    )


def _json(request: Received) -> dict:
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise Rejected("Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise Rejected("Invalid JSON payload received. Expected an object.")
    return body
