"""Which gateway route a request path is, and what the caller speaks there.

Pure: a path in, a ``Route`` (or None for traffic the gateway does not own) out. The
same endpoints exist twice: natively at the official SDKs' own paths, and under a
converter prefix (``/anthropic/v1/messages``) where any provider may answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from addons.rules import Routes
from translators.ir import Protocol

Endpoint = Literal["generate", "count_tokens", "embeddings"]
# "intercept": a native path on a provider's own host, reached through mitmproxy's proxy
# modes; converted like a converter route, as the app that sent it cannot change route.
RouteKind = Literal["native", "converter", "intercept"]

# Native path -> (client protocol, endpoint). Gemini paths carry the model and are
# matched separately.
_FIXED_PATHS: dict[str, tuple[Protocol, Endpoint]] = {
    "/v1/chat/completions": ("openai_chat", "generate"),
    "/v1/responses": ("openai_responses", "generate"),
    "/v1/messages": ("anthropic", "generate"),
    "/v1/messages/count_tokens": ("anthropic", "count_tokens"),
    "/v1/responses/input_tokens": ("openai_responses", "count_tokens"),
    "/v1/embeddings": ("openai_chat", "embeddings"),
}
_CONVERTER_FORMAT: dict[Protocol, str] = {
    "openai_chat": "openai",
    "openai_responses": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
}
_GEMINI_METHODS: dict[str, tuple[Endpoint, bool]] = {
    "generateContent": ("generate", False),
    "streamGenerateContent": ("generate", True),
    "countTokens": ("count_tokens", False),
    "embedContent": ("embeddings", False),
    "batchEmbedContents": ("embeddings", False),
}

NATIVE_PATH: dict[Protocol, str] = {
    "openai_chat": "/v1/chat/completions",
    "openai_responses": "/v1/responses",
    "anthropic": "/v1/messages",
    "gemini": "/v1beta/models/{model}:generateContent",
}


@dataclass(frozen=True, slots=True)
class Route:
    """What a path means: who is calling (format) and what for (endpoint)."""

    kind: RouteKind
    client: Protocol
    endpoint: Endpoint
    path: str  # the path without the converter prefix or query
    model: str | None = None  # Gemini: from the path
    stream: bool | None = None  # Gemini: from the method

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.path}"


def match(path: str, routes: Routes) -> Route | None:
    """Native paths first, then the converter prefixes; None for a path that is
    not the gateway's (in reverse mode it goes on to the target). Every route takes
    POST only; the gateway answers any other method with 405."""
    path = path.split("?", 1)[0]
    if routes.native and (route := _match_protocol_path(path, "native")):
        return route
    for fmt, prefix in routes.converters:
        if path.startswith(prefix + "/"):
            route = _match_protocol_path(path[len(prefix) :], "converter")
            if route and _CONVERTER_FORMAT[route.client] == fmt:
                return route
    return None


def is_batch_embedding(route: Route) -> bool:
    """Gemini's ``batchEmbedContents`` (several inputs), as opposed to ``embedContent``."""
    return route.endpoint == "embeddings" and route.path.endswith(":batchEmbedContents")


def intercepted(path: str) -> Route | None:
    """A native path seen on an intercepted provider host (addons/intercept.py)."""
    return _match_protocol_path(path.split("?", 1)[0], "intercept")


def converter_path(client: Protocol, routes: Routes, model: str | None = None) -> str | None:
    """The converter route for a client format, for error messages that point there."""
    fmt = _CONVERTER_FORMAT[client]
    prefix = dict(routes.converters).get(fmt)
    if prefix is None:
        return None
    return prefix + NATIVE_PATH[client].replace("{model}", model or "MODEL")


def _match_protocol_path(path: str, kind: RouteKind) -> Route | None:
    if fixed := _FIXED_PATHS.get(path):
        return Route(kind, fixed[0], fixed[1], path)
    for version in ("/v1beta/models/", "/v1/models/"):
        if path.startswith(version):
            model, sep, method = path[len(version) :].rpartition(":")
            if sep and model and "/" not in model and method in _GEMINI_METHODS:
                endpoint, stream = _GEMINI_METHODS[method]
                return Route(kind, "gemini", endpoint, path, model=model, stream=stream)
    return None
