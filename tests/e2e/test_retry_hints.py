"""A provider's hint of when to retry reaches every caller in its own form: Gemini puts
it in the body (RetryInfo.retryDelay), OpenAI and Anthropic in a retry-after header."""

from __future__ import annotations

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes.replies import Reply

HI = [{"role": "user", "content": "hi"}]


def test_geminis_retry_delay_becomes_retry_after_for_openai_and_anthropic_callers(gateway, fakes):
    fakes["gemini"].enqueue(Reply.error("gemini", 429))
    with pytest.raises(openai.RateLimitError) as o:
        openai_client(gateway, "/openai").chat.completions.create(
            model="gemini-2.5-flash", messages=HI
        )
    assert o.value.response.headers["retry-after"] == "35"  # 34.4 s, rounded up
    fakes["gemini"].enqueue(Reply.error("gemini", 429))
    with pytest.raises(anthropic.RateLimitError) as a:
        anthropic_client(gateway, "/anthropic").messages.create(
            model="gemini-2.5-flash", max_tokens=5, messages=HI
        )
    assert a.value.response.headers["retry-after"] == "35"


def test_an_openai_retry_after_header_reaches_a_gemini_caller_as_retry_info(gateway, fakes):
    reply = Reply.error("openai", 429)
    reply.headers["retry-after"] = "7"
    fakes["openai"].enqueue(reply)
    with pytest.raises(genai_errors.ClientError) as g:
        gemini_client(gateway, "/gemini").models.generate_content(model="gpt-4o", contents="hi")
    details = g.value.details["error"]["details"]
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"} in details
