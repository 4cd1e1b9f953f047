"""Tests of the OpenAI Chat codec, one module per source file; shared helpers here."""

from __future__ import annotations

from pathlib import Path

import openai
import openai._base_client as _sdk_http
import orjson
from hypothesis import strategies as st

from translators import ir

# openai 2.x is built on httpx, openai 3.x on httpx2 (same API): mock with the one the
# installed SDK uses, so these tests run under both Python legs of CI.
httpx = getattr(_sdk_http, "httpx2", None) or _sdk_http.httpx

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "spec" / "openai_chat"
CTX = ir.RenderContext(model="gpt-test", created=1700000000, request_id="req42")
USAGE_CTX = ir.RenderContext(
    model="gpt-test", created=1700000000, request_id="req42", include_usage=True
)
SAME_CTX = ir.RenderContext(
    model="gpt-test",
    created=1700000000,
    request_id="req42",
    include_usage=True,
    source="openai_chat",
)


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def sdk(status: int, content: bytes, content_type: str = "application/json") -> openai.OpenAI:
    """A real openai client whose transport answers with our bytes."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return openai.OpenAI(
        api_key="k", base_url="http://gateway.test/v1", http_client=http, max_retries=0
    )


def user(*parts: ir.Part) -> ir.Message:
    return ir.Message(role="user", parts=list(parts))


def foreign_request(*messages: ir.Message, **fields) -> ir.Request:
    return ir.Request(model="m", messages=list(messages), source="anthropic", **fields)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "text",
                    "image_url",
                    "url",
                    "detail",
                    "input_audio",
                    "data",
                    "format",
                    "file",
                    "file_data",
                    "file_id",
                    "function",
                    "name",
                    "arguments",
                    "id",
                    "tool_call_id",
                    "thinking",
                    "signature",
                    "google",
                    "thought_signature",
                    "json_schema",
                    "schema",
                    "allowed_tools",
                    "mode",
                    "tools",
                    "include_usage",
                    "message",
                    "content",
                    "refusal",
                    "tool_calls",
                    "index",
                    "finish_reason",
                    "prompt_tokens",
                    "completion_tokens",
                    "prompt_tokens_details",
                    "cached_tokens",
                    "error",
                    "delta",
                    "choices",
                    "usage",
                    "reasoning_content",
                    "reasoning",
                ]
            )
            | st.text(max_size=3),
            inner,
            max_size=4,
        )
    ),
    max_leaves=16,
)
