"""Hostile input on every route (hypothesis): a body that is not valid for the caller's
format gets a 4xx in that format, and on a translating route nothing reaches a provider
(a native route passes a JSON object on untouched, for the provider to judge); odd
headers never produce a 5xx, HTML or a hang."""

from __future__ import annotations

import json

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = {
    "/openai/v1/chat/completions": (
        "openai",
        {"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]},
    ),
    "/v1/chat/completions": (
        "openai",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    ),
    "/anthropic/v1/messages": (
        "anthropic",
        {"model": "gpt-4o", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
    ),
    "/v1/messages": (
        "anthropic",
        {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
    ),
    "/gemini/v1beta/models/gpt-4o:generateContent": (
        "gemini",
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    ),
    "/openai/v1/responses": ("openai", {"model": "claude-x", "input": "hi"}),
}

# Values of the wrong JSON type for any field these bodies have.
WRONG = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_callers_error(answer: httpx.Response, family: str) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if family == "anthropic":
        assert body["type"] == "error"
    if family == "gemini":
        assert isinstance(body["error"]["status"], str)


def upstream_requests(fakes) -> int:
    return sum(len(fake.received) for fake in fakes.values())


@pytest.mark.parametrize("path", list(ROUTES))
@SETTINGS
@given(data=st.data())
def test_a_field_of_the_wrong_type_is_a_4xx_in_the_callers_format(gateway, fakes, path, data):
    family, valid = ROUTES[path]
    body = orjson.loads(orjson.dumps(valid))
    container = body["messages"][0] if "messages" in body else body
    key = data.draw(st.sampled_from(sorted(container)))
    # A message's content and a Responses input may be a string or a list; any other
    # type is wrong.
    allowed = (str, list) if key in ("content", "input") else (type(container[key]),)
    value = data.draw(WRONG.filter(lambda v: not isinstance(v, allowed) or isinstance(v, bool)))
    if isinstance(container[key], int) and type(value) is int and -(2**63) <= value < 2**63:
        return  # a right-typed number: not this test's business
    container[key] = value
    before = upstream_requests(fakes)
    raw = json.dumps(body).encode()  # orjson cannot write integers past 64 bits
    answer = httpx.post(f"{gateway.url}{path}", content=raw, timeout=10)
    assert_callers_error(answer, family)
    if not path.startswith("/v1/"):
        assert upstream_requests(fakes) == before, "an invalid body reached a provider"


@pytest.mark.parametrize("path", list(ROUTES))
@SETTINGS
@given(raw=st.binary(max_size=64) | st.from_regex(rb"\A[\[\]{}\"0-9a-z:,]{0,40}\Z"))
def test_bytes_that_are_not_a_json_object_are_a_400(gateway, fakes, path, raw):
    try:
        if isinstance(orjson.loads(raw), dict):
            return  # an object: the other test's business
    except orjson.JSONDecodeError:
        pass
    before = upstream_requests(fakes)
    answer = httpx.post(f"{gateway.url}{path}", content=raw, timeout=10)
    assert answer.status_code == 400
    assert_callers_error(answer, ROUTES[path][0])
    assert upstream_requests(fakes) == before


@SETTINGS
@given(
    request_id=st.text(max_size=300),
    encoding=st.sampled_from(["gzip", "br", "zstd", "deflate", "identity", "x-nope", "gzip, br"]),
)
def test_odd_headers_never_give_a_5xx_or_html(gateway, request_id, encoding):
    family, valid = ROUTES["/anthropic/v1/messages"]
    headers = {"content-encoding": encoding}
    # A value the HTTP client itself refuses (surrounding white space) is not sent.
    if request_id.isprintable() and request_id.isascii() and request_id.strip() == request_id:
        headers["x-request-id"] = request_id
    answer = httpx.post(
        f"{gateway.url}/anthropic/v1/messages",
        content=orjson.dumps(valid),
        headers=headers,
        timeout=10,
    )
    assert answer.status_code < 500
    assert "html" not in answer.headers.get("content-type", "")
    if answer.status_code >= 400:
        assert_callers_error(answer, family)
