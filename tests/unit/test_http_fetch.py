"""addons/http_fetch.py against a real local HTTP/1.1 server (a fake upstream)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from addons import http_fetch
from tests.fakes import FakeUpstream, Reply
from tests.harness import free_port

AUTH = [("authorization", "Bearer sk-test")]


@pytest.fixture(scope="module")
def oai():
    with FakeUpstream("openai") as fake:
        yield fake


def fetch(url: str, timeout: float = 5, **kwargs) -> http_fetch.Fetched:
    return asyncio.run(http_fetch.fetch("GET", url, AUTH, timeout=timeout, **kwargs))


def test_a_whole_answer_with_its_headers(oai: FakeUpstream) -> None:
    answer = fetch(oai.base_url + "/models?x=1")
    assert answer.status == 200
    assert orjson.loads(answer.body)["object"] == "list"
    assert dict(answer.headers)["content-type"] == "application/json"
    request = oai.last
    assert (request.path, request.query) == ("/v1/models", {"x": "1"})
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["host"] == f"127.0.0.1:{oai.port}"


def test_a_chunked_answer_is_joined(oai: FakeUpstream) -> None:
    oai.enqueue(Reply.sse([b"one ", b"two ", b"three"]))
    assert fetch(oai.base_url + "/models").body == b"one two three"


def test_a_post_sends_its_body(oai: FakeUpstream) -> None:
    body = b'{"model":"m","messages":[{"role":"user","content":"Hi"}]}'
    answer = asyncio.run(
        http_fetch.fetch("POST", oai.base_url + "/chat/completions", AUTH, body, timeout=5)
    )
    assert answer.status == 200 and oai.last.body == body


def test_an_answer_too_slow_is_a_timeout(oai: FakeUpstream) -> None:
    oai.enqueue(Reply.sse([b"a", b"b"], delay=2))
    with pytest.raises(http_fetch.FetchError, match=r"within 0\.3 s"):
        fetch(oai.base_url + "/models", timeout=0.3)


def test_an_answer_too_large_is_refused(oai: FakeUpstream) -> None:
    with pytest.raises(http_fetch.FetchError, match="larger than 10 bytes"):
        fetch(oai.base_url + "/models", max_bytes=10)


def test_nobody_listening_is_a_fetch_error() -> None:
    with pytest.raises(http_fetch.FetchError, match="cannot reach"):
        fetch(f"http://127.0.0.1:{free_port()}/v1/models")
