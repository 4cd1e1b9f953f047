"""Tests of the Gemini codec, one module per source file of ``translators/gemini/``.

The helpers here are shared by those modules: the spec fixtures, render contexts, and
requests as another format's caller would send them.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from hypothesis import strategies as st

from translators import ir

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "spec" / "gemini"


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def ctx(**kw: object) -> ir.RenderContext:
    base: dict = {"model": "", "created": 1700000000, "request_id": "req_1"}
    base.update(kw)
    return ir.RenderContext(**base)


def user(text: str) -> ir.Message:
    return ir.Message("user", [ir.Text(text)])


def foreign(messages: list[ir.Message], **kw: object) -> ir.Request:
    """A request from an OpenAI caller to a Gemini 3 model."""
    return ir.Request(model="gemini-3-flash-preview", messages=messages, source="openai_chat", **kw)


# Random JSON over the names the codec reads, for the "only TranslationError" properties.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "contents",
                    "role",
                    "parts",
                    "text",
                    "thought",
                    "thoughtSignature",
                    "functionCall",
                    "functionResponse",
                    "inlineData",
                    "fileData",
                    "name",
                    "args",
                    "id",
                    "response",
                    "mimeType",
                    "data",
                    "fileUri",
                    "systemInstruction",
                    "system_instruction",
                    "generationConfig",
                    "thinkingConfig",
                    "thinkingBudget",
                    "tools",
                    "functionDeclarations",
                    "parameters",
                    "toolConfig",
                    "functionCallingConfig",
                    "mode",
                    "allowedFunctionNames",
                    "candidates",
                    "content",
                    "finishReason",
                    "usageMetadata",
                    "promptTokenCount",
                    "index",
                    "responseMimeType",
                    "responseSchema",
                    "stopSequences",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)
