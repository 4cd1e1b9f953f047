"""The official SDKs, pointed at the gateway the way a user would point them."""

from __future__ import annotations

import anthropic
import openai
from google import genai
from google.genai import types

from tests.harness import CALLER_KEY, Gateway


def openai_client(gateway: Gateway, prefix: str = "", **kwargs) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{gateway.url}{prefix}/v1", api_key=CALLER_KEY, max_retries=0, **kwargs
    )


def anthropic_client(gateway: Gateway, prefix: str = "", **kwargs) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=f"{gateway.url}{prefix}", api_key=CALLER_KEY, max_retries=0, **kwargs
    )


# google-genai closes its HTTP client when the Client object is garbage-collected, which
# breaks the one-line `gemini_client(gw).models.generate_content(...)` style mid-call.
_KEEP_ALIVE: list[genai.Client] = []


def gemini_client(gateway: Gateway, prefix: str = "") -> genai.Client:
    client = genai.Client(
        api_key=CALLER_KEY,
        http_options=types.HttpOptions(base_url=f"{gateway.url}{prefix}/"),
    )
    _KEEP_ALIVE.append(client)
    return client
