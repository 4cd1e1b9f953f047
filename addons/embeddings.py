"""Embeddings routes: where an embeddings call goes, and the plan for its answer.

``POST /v1/embeddings`` (OpenAI's shape) and Gemini's ``:embedContent`` /
``:batchEmbedContents`` (under ``/v1beta/models/{m}``), natively and under the converter
prefixes. A provider of the caller's protocol gets the caller's bytes (only the model
name and the credential change); an OpenAI caller for a Gemini model, or a Gemini caller
for an OpenAI model, is translated by ``translators.embeddings`` both ways. Anthropic
has no embeddings endpoint: a 400 that says so.

Usage is always in an OpenAI caller's answer; where the provider reports none (Gemini),
it is the gateway's estimate and the log line says ``"tokens_estimated": true``.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from addons import routes, upstream
from addons.answers import Answer, AnswerPlan, translate_error
from addons.rules import Resolution, Routes
from translators import convert, ir
from translators import embeddings as emb
from translators.errors import TranslationError

_OPENAI: ir.Protocol = "openai_chat"
_GEMINI: ir.Protocol = "gemini"


@dataclass(frozen=True, slots=True)
class Call:
    """An embeddings request addressed to its provider."""

    url: str
    body: bytes | None  # None: the caller's bytes go on as they came
    wire: ir.Protocol  # the protocol spoken upstream: openai_chat or gemini
    translated: bool
    plan: AnswerPlan
    dropped: tuple[str, ...] = ()


def guard(route: routes.Route, res: Resolution, model: str, config: Routes) -> str | None:
    """Why a native embeddings route cannot serve ``model`` (its provider speaks another
    protocol and a native route does not convert), or None."""
    protocol = res.provider.protocol
    if route.kind != "native" or protocol == "anthropic":
        return None  # Anthropic is refused by ``prepare``, on every route
    if protocol == upstream.family(route.client):
        return None
    here = "OpenAI" if route.client == _OPENAI else "Gemini"
    prefix = dict(config.converters).get("openai" if route.client == _OPENAI else "gemini")
    method = route.path.rpartition(":")[2]
    path = "/v1/embeddings" if route.client == _OPENAI else f"/v1beta/models/{model}:{method}"
    instead = f" Send it to {prefix}{path} to have it converted." if prefix else ""
    return (
        f"{route.path} is a native route for {here} embeddings, but model '{model}' is served "
        f"by provider '{res.provider.name}', which speaks another protocol; a native route "
        f"does not convert.{instead} See docs/routes.md."
    )


def prepare(
    route: routes.Route,
    body: dict,
    model: str,
    res: Resolution,
    query: list[tuple[str, str]],
) -> Call:
    """The upstream request for an embeddings call: passed through, or translated."""
    provider = res.provider
    batch = routes.is_batch_embedding(route)
    if provider.protocol == "anthropic":
        raise TranslationError(
            f"Model '{model}' is served by provider '{provider.name}', which speaks Anthropic "
            "Messages; Anthropic has no embeddings endpoint. Use an OpenAI or Gemini "
            "embedding model.",
            param="model",
        )
    if route.client == _OPENAI and provider.protocol == "openai":
        renamed = orjson.dumps({**body, "model": res.model}) if res.model != model else None
        url = upstream.embeddings_url(provider, res.model, False)
        return Call(url, renamed, _OPENAI, False, Passthrough(_OPENAI))
    if route.client == _GEMINI and provider.protocol == "gemini":
        url = upstream.embeddings_url(provider, res.model, batch, query)
        return Call(
            url, _renamed_gemini(body, res.model, model), _GEMINI, False, Passthrough(_GEMINI)
        )
    if route.client == _OPENAI:
        req = emb.parse_openai_request(body)
        many, out = emb.render_gemini_request(req, res.model)
        plan: AnswerPlan = GeminiForOpenAI(
            model, req.encoding, many, len(req.inputs), emb.estimate_tokens(req.inputs)
        )
        url = upstream.embeddings_url(provider, res.model, many)
        return Call(url, orjson.dumps(out), _GEMINI, True, plan, tuple(req.dropped))
    req = emb.parse_gemini_request(body, batch=batch, model=model)
    out = emb.render_openai_request(req, res.model)
    plan = OpenAIForGemini(batch, len(req.inputs), emb.estimate_tokens(req.inputs))
    url = upstream.embeddings_url(provider, res.model, False)
    return Call(url, orjson.dumps(out), _OPENAI, True, plan, tuple(req.dropped))


def _renamed_gemini(body: dict, upstream_model: str, model: str) -> bytes | None:
    """A Gemini body whose requests name the model the rules renamed: each must name
    the model of the URL. None when nothing is renamed (the bytes stay the caller's)."""
    if upstream_model == model:
        return None
    name = f"models/{upstream_model}"
    requests = body.get("requests")
    if isinstance(requests, list):
        fixed = [{**r, "model": name} if isinstance(r, dict) else r for r in requests]
        return orjson.dumps({**body, "requests": fixed})
    return orjson.dumps({**body, "model": name} if "model" in body else body)


@dataclass(frozen=True, slots=True)
class Passthrough:
    """The provider's answer as it came; OpenAI's usage read for the log line."""

    client: ir.Protocol

    def answer(self, status: int, body: bytes, retry_after: float | None) -> Answer:
        usage = None
        if self.client == _OPENAI and 200 <= status < 300:
            try:
                found = orjson.loads(body).get("usage", {}).get("prompt_tokens")
            except (orjson.JSONDecodeError, AttributeError):
                found = None
            usage = ir.Usage(input_tokens=found) if isinstance(found, int) else None
        return Answer(status, None, usage)


@dataclass(frozen=True, slots=True)
class GeminiForOpenAI:
    """A Gemini answer for an OpenAI caller: vectors in input order, in the encoding it
    asked for, with usage estimated (Gemini reports none)."""

    model: str  # the caller's name for it, as in a translated generate answer
    encoding: emb.Encoding
    batch: bool  # batchEmbedContents was called
    inputs: int
    estimate: int
    client: ir.Protocol = _OPENAI

    def answer(self, status: int, body: bytes, retry_after: float | None) -> Answer:
        if not 200 <= status < 300:
            return translate_error(status, body, _GEMINI, _OPENAI, retry_after)
        data = convert.load_json(body, "response")
        vectors = emb.parse_gemini_response(data, batch=self.batch, expected=self.inputs)
        out = emb.render_openai_response(
            vectors, model=self.model, encoding=self.encoding, prompt_tokens=self.estimate
        )
        usage = ir.Usage(input_tokens=self.estimate)
        return Answer(status, orjson.dumps(out), usage, {"tokens_estimated": True})


@dataclass(frozen=True, slots=True)
class OpenAIForGemini:
    """An OpenAI answer for a Gemini caller: ``embedding`` or ``embeddings`` as it called."""

    batch: bool  # the caller called batchEmbedContents
    inputs: int
    estimate: int
    client: ir.Protocol = _GEMINI

    def answer(self, status: int, body: bytes, retry_after: float | None) -> Answer:
        if not 200 <= status < 300:
            return translate_error(status, body, _OPENAI, _GEMINI, retry_after)
        data = convert.load_json(body, "response")
        vectors = emb.parse_openai_response(data, self.inputs)
        out = orjson.dumps(emb.render_gemini_response(vectors, batch=self.batch))
        if vectors.prompt_tokens is not None:
            return Answer(status, out, ir.Usage(input_tokens=vectors.prompt_tokens))
        return Answer(status, out, ir.Usage(input_tokens=self.estimate), {"tokens_estimated": True})
