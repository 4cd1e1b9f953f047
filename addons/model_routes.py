"""Which model-list path a request is, and in which shape it is answered.

Pure, like ``routes.py``: a path and the caller's headers in, a ``ModelsPath`` (or None)
out. ``/v1/models`` is shared by OpenAI and Anthropic: the Anthropic SDK always sends
``anthropic-version``, and a Gemini SDK set to ``api_version="v1"`` sends its own key
header, so the headers tell the three apart. A Gemini method call on a model
(``/v1beta/models/m:generateContent``) is not a model path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from addons.rules import Routes
from translators.models import Shape

_GEMINI_VERBS = frozenset(
    {
        "generateContent",
        "streamGenerateContent",
        "countTokens",
        "embedContent",
        "batchEmbedContents",
        "batchGenerateContent",
        "predict",
        "predictLongRunning",
    }
)


@dataclass(frozen=True, slots=True)
class ModelsPath:
    shape: Shape
    native: bool  # a native path lists only what it can call without converting
    model: str | None  # None: the list; else one model (unquoted, may hold "/")
    path: str  # without the converter prefix, for the log line

    @property
    def name(self) -> str:
        return f"{'native' if self.native else 'converter'}:{self.path}"


def match(path: str, headers: Mapping[str, str], routes: Routes) -> ModelsPath | None:
    path, _, query = path.partition("?")
    if routes.native:
        gemini_v1 = "x-goog-api-key" in headers or any(
            p.startswith("key=") for p in query.split("&")
        )
        shared: Shape = (
            "gemini" if gemini_v1 else "anthropic" if "anthropic-version" in headers else "openai"
        )
        native: tuple[tuple[str, Shape], ...] = (
            ("/v1beta/models", "gemini"),
            ("/v1/models", shared),
        )
        for version, shape in native:
            if (model := _model_part(path, version)) is not None:
                return ModelsPath(shape, True, model or None, path)
    for fmt, prefix in routes.converters:
        if not path.startswith(prefix + "/") or fmt not in _SHAPES:
            continue
        rest = path[len(prefix) :]
        versions = ("/v1beta/models", "/v1/models") if fmt == "gemini" else ("/v1/models",)
        for version in versions:
            if (model := _model_part(rest, version)) is not None:
                return ModelsPath(_SHAPES[fmt], False, model or None, rest)
    return None


_SHAPES: dict[str, Shape] = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini"}


def _model_part(path: str, base: str) -> str | None:
    """ "" for the list itself, the model's id for one model, None for another path."""
    if path in (base, base + "/"):
        return ""
    if not path.startswith(base + "/"):
        return None
    model = unquote(path[len(base) + 1 :])
    _, sep, verb = model.rpartition(":")
    if sep and verb in _GEMINI_VERBS:
        return None
    return model
