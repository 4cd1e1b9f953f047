"""What each fake provider answers when no reply was scripted: route, authenticate,
validate, then answer with a canned spec example.

The order follows the real services: an unknown path is a 404 whatever the request, a
missing credential is refused before the body is read, a bad body before anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

import orjson

from tests.fakes import canned, embeddings, openai_responses
from tests.fakes.openai_responses import ResponsesMemory
from tests.fakes.replies import (
    Received,
    Reply,
    anthropic_error_body,
    gemini_error_body,
    next_request_id,
    openai_error_body,
)
from tests.fakes.validate import (
    Rejected,
    check_anthropic,
    check_gemini,
    check_openai_chat,
    check_openai_responses,
)

GEMINI_JSON = "application/json; charset=UTF-8"


def respond(protocol: str, request: Received, memory: ResponsesMemory) -> Reply:
    """The default reply of ``protocol``'s fake to ``request``; ``memory`` is what the
    OpenAI fake keeps of the Responses objects it created."""
    handler = {"openai": _openai, "anthropic": _anthropic, "gemini": _gemini}[protocol]
    try:
        if protocol == "openai" and _is_responses_path(request.path):
            return _openai_responses(request, memory)
        return handler(request)
    except Rejected as err:
        return rejection(protocol, err)


def rejection(protocol: str, err: Rejected) -> Reply:
    """A refusal in the provider's error shape, with OpenAI's param and code kept."""
    if protocol == "openai":
        body = openai_error_body(err.status, err.message, err.param, err.code)
        return Reply.json(body, status=err.status)
    if protocol == "anthropic":
        rid = next_request_id("anthropic")
        body = anthropic_error_body(err.status, err.message, rid)
        return Reply.json(body, status=err.status, headers={"request-id": rid})
    body = gemini_error_body(err.status, err.message)
    return Reply.json(body, status=err.status, headers={"content-type": GEMINI_JSON})


def _json_body(request: Received, message: str) -> object:
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise Rejected(message) from None


# --- OpenAI ---------------------------------------------------------------------------

_OPENAI_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API "
    "key from https://platform.openai.com/account/api-keys."
)


def _openai(request: Received) -> Reply:
    route = _openai_route(request)
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        raise Rejected(_OPENAI_NO_KEY, status=401)
    return route()


def _openai_route(request: Received) -> Callable[[], Reply]:
    method, path = request.method, request.path
    if method == "POST" and path == "/v1/chat/completions":
        return lambda: _openai_chat(request)
    if method == "POST" and path == "/v1/embeddings":
        return lambda: embeddings.openai_embeddings(request)
    if method == "GET" and path == "/v1/models":
        return lambda: Reply.json(canned.openai_models())
    if method == "GET" and path.startswith("/v1/models/"):
        model_id = unquote(path.removeprefix("/v1/models/"))
        return lambda: Reply.json(canned.openai_model(model_id))
    raise Rejected(f"Invalid URL ({method} {path})", status=404)


def _openai_chat(request: Received) -> Reply:
    body = _json_body(
        request,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what "
        "was sent was not valid JSON.",
    )
    check_openai_chat(body)
    assert isinstance(body, dict)
    if body.get("stream") is True:
        include_usage = (body.get("stream_options") or {}).get("include_usage") is True
        return Reply.sse(canned.openai_stream(body["model"], include_usage))
    return Reply.json(canned.openai_completion(body["model"]))


# --- OpenAI Responses -----------------------------------------------------------------

_RESPONSES = "/v1/responses"
_OPENAI_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON."
)


def _is_responses_path(path: str) -> bool:
    return path == _RESPONSES or path.startswith(_RESPONSES + "/")


def _openai_responses(request: Received, memory: ResponsesMemory) -> Reply:
    """``/v1/responses`` and its sub-paths: routed and authenticated like the other OpenAI
    routes. A refusal keeps OpenAI's exact ``code``, null included (a 404 here has none),
    where the shared error bodies would fill in a default."""
    route = _responses_route(request, memory)
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        raise Rejected(_OPENAI_NO_KEY, status=401)
    try:
        return route()
    except Rejected as err:
        kind = "invalid_request_error" if err.status < 500 else "server_error"
        error = {"message": err.message, "type": kind, "param": err.param, "code": err.code}
        return Reply.json({"error": error}, status=err.status)


def _responses_route(request: Received, memory: ResponsesMemory) -> Callable[[], Reply]:
    method, path = request.method, request.path
    if method == "POST" and path == _RESPONSES:
        return lambda: _responses_create(request, memory)
    if method == "POST" and path == _RESPONSES + "/input_tokens":
        return lambda: _responses_input_tokens(request, memory)
    rid = unquote(path.removeprefix(_RESPONSES + "/"))
    if method in ("GET", "DELETE") and path.startswith(_RESPONSES + "/") and "/" not in rid:
        return lambda: _responses_stored(method, rid, memory)
    raise Rejected(f"Invalid URL ({method} {path})", status=404)


def _responses_create(request: Received, memory: ResponsesMemory) -> Reply:
    body = _json_body(request, _OPENAI_BAD_JSON)
    check_openai_responses(body, memory)
    assert isinstance(body, dict)
    return openai_responses.create(body, memory)


def _responses_input_tokens(request: Received, memory: ResponsesMemory) -> Reply:
    body = _json_body(request, _OPENAI_BAD_JSON)
    check_openai_responses(body, memory, count_tokens=True)
    assert isinstance(body, dict)
    return Reply.json(openai_responses.count_input_tokens(body, memory))


def _responses_stored(method: str, rid: str, memory: ResponsesMemory) -> Reply:
    """GET and DELETE of a response the fake created and stored; OpenAI's 404 otherwise."""
    if method == "DELETE" and memory.forget(rid):
        return Reply.json({"id": rid, "object": "response", "deleted": True})
    stored = memory.response(rid) if method == "GET" else None
    if stored is None:
        raise Rejected(f"Response with id '{rid}' not found.", status=404)
    return Reply.json(stored)


# --- Anthropic ------------------------------------------------------------------------


def _anthropic(request: Received) -> Reply:
    route = _anthropic_route(request)
    auth = request.headers.get("authorization", "")
    has_bearer = auth.startswith("Bearer ") and bool(auth[7:].strip())
    if not request.headers.get("x-api-key") and not has_bearer:
        raise Rejected("x-api-key header is required", status=401)
    return route()


def _anthropic_route(request: Received) -> Callable[[], Reply]:
    method, path = request.method, request.path
    if method == "POST" and path == "/v1/messages":
        return lambda: _anthropic_messages(request, count_tokens=False)
    if method == "POST" and path == "/v1/messages/count_tokens":
        return lambda: _anthropic_messages(request, count_tokens=True)
    if method == "GET" and path == "/v1/models":
        return lambda: _anthropic_models(request)
    if method == "GET" and path.startswith("/v1/models/"):
        model_id = unquote(path.removeprefix("/v1/models/"))
        return lambda: Reply.json(canned.anthropic_model(model_id))
    raise Rejected("Not Found", status=404)


def _anthropic_models(request: Received) -> Reply:
    """A page of the list, following the API's ``limit``, ``after_id`` and ``before_id``."""
    query = request.query
    try:
        limit = int(query.get("limit", "20"))
        if not 1 <= limit <= 1000:
            raise ValueError(limit)
        page = canned.anthropic_models(limit, query.get("after_id"), query.get("before_id"))
    except ValueError:
        raise Rejected("Invalid pagination parameters.", status=400) from None
    return Reply.json(page)


def _anthropic_messages(request: Received, count_tokens: bool) -> Reply:
    body = _json_body(request, "There was an issue with the JSON body of the request.")
    check_anthropic(body, request.headers, count_tokens)
    assert isinstance(body, dict)
    if count_tokens:
        return Reply.json(canned.anthropic_count_tokens(body))
    if body.get("stream") is True:
        return Reply.sse(canned.anthropic_stream(body["model"]))
    return Reply.json(canned.anthropic_message(body["model"]))


# --- Gemini ---------------------------------------------------------------------------


def _gemini(request: Received) -> Reply:
    route = _gemini_route(request)
    if not request.headers.get("x-goog-api-key") and not request.query.get("key"):
        body = gemini_error_body(400)
        return Reply.json(body, status=400, headers={"content-type": GEMINI_JSON})
    return route()


def _gemini_route(request: Received) -> Callable[[], Reply]:
    method, path = request.method, request.path
    for version in ("/v1beta/", "/v1/"):
        if path.startswith(version + "models"):
            rest = unquote(path.removeprefix(version + "models"))
            break
    else:
        raise Rejected(f"The requested URL {path} was not found on this server.", status=404)
    if method == "GET" and rest == "":
        return lambda: _gemini_models(request)
    model, _, verb = rest.removeprefix("/").partition(":")
    if method == "GET" and model and not verb:
        return lambda: _gemini_json(canned.gemini_model(model))
    if method == "POST" and model and verb in _GEMINI_VERBS:
        return lambda: _GEMINI_VERBS[verb](request, model)
    raise Rejected(f"The requested URL {path} was not found on this server.", status=404)


def _gemini_models(request: Received) -> Reply:
    """A page of the list, following ``pageSize`` and ``pageToken``."""
    try:
        size = int(request.query.get("pageSize") or "50")
        page = canned.gemini_models(size, request.query.get("pageToken"))
    except ValueError:
        raise Rejected("Invalid page token or page size.", status=400) from None
    return _gemini_json(page)


def _gemini_json(body: dict) -> Reply:
    return Reply.json(body, headers={"content-type": GEMINI_JSON})


def _gemini_body(request: Received, model: str, count_tokens: bool) -> dict:
    body = _json_body(request, "Invalid JSON payload received. Unexpected token.")
    check_gemini(body, model, count_tokens)
    assert isinstance(body, dict)
    return body


def _gemini_generate(request: Received, model: str) -> Reply:
    _gemini_body(request, model, count_tokens=False)
    return _gemini_json(canned.gemini_response(model))


def _gemini_stream(request: Received, model: str) -> Reply:
    _gemini_body(request, model, count_tokens=False)
    chunks = [orjson.dumps(chunk) for chunk in canned.gemini_stream_chunks(model)]
    if request.query.get("alt") == "sse":
        frames = [b"data: " + chunk + b"\r\n\r\n" for chunk in chunks]
        return Reply.sse(frames, headers={"content-disposition": "attachment"})
    # Without alt=sse Google streams one JSON array, element by element.
    writes = [b"[" + chunks[0]] + [b"\r\n," + chunk for chunk in chunks[1:]] + [b"\r\n]"]
    return Reply.sse(writes, headers={"content-type": GEMINI_JSON})


def _gemini_count(request: Received, model: str) -> Reply:
    body = _gemini_body(request, model, count_tokens=True)
    return _gemini_json(canned.gemini_count_tokens(body))


_GEMINI_VERBS: dict[str, Callable[[Received, str], Reply]] = {
    "generateContent": _gemini_generate,
    "streamGenerateContent": _gemini_stream,
    "countTokens": _gemini_count,
    "embedContent": embeddings.gemini_embed,
    "batchEmbedContents": embeddings.gemini_batch_embed,
}
