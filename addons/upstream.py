"""Where a request goes upstream and with which credential.

Each provider follows its official SDK's ``base_url`` convention (OpenAI's includes
``/v1``; Anthropic's and Gemini's are the host root), so users can copy base URLs from
their SDK set-up. Credentials: a configured key replaces whatever the caller sent; with
no key configured, the caller's own credential is forwarded in the provider's header
style. The key never goes into a URL, a log line or a flow annotation.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from urllib.parse import quote, urlencode

from addons.routes import Endpoint
from addons.rules import OpenAIApi, Provider, ProviderProtocol
from translators.ir import Protocol

ANTHROPIC_VERSION = "2023-06-01"

_CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key")
# The headers each provider family reads a credential from, preferred first.
_OWN_CREDENTIAL: dict[ProviderProtocol, tuple[str, ...]] = {
    "openai": ("authorization",),
    "anthropic": ("x-api-key", "authorization"),
    "gemini": ("x-goog-api-key",),
}

# Headers that only mean something to one protocol family; sent to another family they
# are at best noise and at worst rejected (an OpenAI upstream has no anthropic-beta).
_FAMILY_HEADER_PREFIXES: dict[ProviderProtocol, tuple[str, ...]] = {
    "openai": ("openai-",),
    "anthropic": ("anthropic-",),
    "gemini": ("x-goog-",),
}

_GEMINI_METHOD: dict[tuple[Endpoint, bool], str] = {
    ("generate", False): "generateContent",
    ("generate", True): "streamGenerateContent",
    ("count_tokens", False): "countTokens",
}


def wire_protocol(
    provider: ProviderProtocol, client: Protocol, api: OpenAIApi = "chat"
) -> Protocol:
    """The protocol spoken to the upstream: the caller's own when the provider speaks it.
    An OpenAI model served only through Responses (``api: responses``) gets Responses."""
    if provider == "openai":
        if api == "responses":
            return "openai_responses"
        return client if client in ("openai_chat", "openai_responses") else "openai_chat"
    return provider


def family(protocol: Protocol) -> ProviderProtocol:
    """The provider protocol family a client format belongs to (both OpenAI APIs)."""
    return "openai" if protocol in ("openai_chat", "openai_responses") else protocol  # type: ignore[return-value]


def upstream_url(
    provider: Provider,
    wire: Protocol,
    endpoint: Endpoint,
    model: str,
    stream: bool,
    query: list[tuple[str, str]] | None = None,
) -> str:
    """The full upstream URL. ``query`` is the caller's query to keep (Gemini passthrough)."""
    base = provider.base_url
    if wire == "openai_chat":
        return base + "/chat/completions"
    if wire == "openai_responses":
        return base + ("/responses/input_tokens" if endpoint == "count_tokens" else "/responses")
    if wire == "anthropic":
        return base + (
            "/v1/messages/count_tokens" if endpoint == "count_tokens" else "/v1/messages"
        )
    method = _GEMINI_METHOD[(endpoint, stream)]
    if query is None:
        params = [("alt", "sse")] if stream else []
    else:
        params = [(k, v) for k, v in query if k != "key"]
    # The model name comes from the caller: quoted, it cannot reach another path or query
    # of the upstream with the gateway's key.
    url = f"{base}/v1beta/models/{quote(model, safe='')}:{method}"
    return f"{url}?{urlencode(params)}" if params else url


def embeddings_url(
    provider: Provider, model: str, batch: bool, query: list[tuple[str, str]] | None = None
) -> str:
    """An embeddings URL: OpenAI's ``/embeddings`` (one endpoint for one input or many),
    Gemini's ``:embedContent`` or ``:batchEmbedContents``. ``query`` is the caller's, kept
    for a Gemini passthrough (its ``key`` never: the credential goes in a header)."""
    if provider.protocol == "openai":
        return provider.base_url + "/embeddings"
    method = "batchEmbedContents" if batch else "embedContent"
    url = f"{provider.base_url}/v1beta/models/{quote(model, safe='')}:{method}"
    params = [(k, v) for k, v in query or [] if k != "key"]
    return f"{url}?{urlencode(params)}" if params else url


def caller_credential(headers: MutableMapping[str, str], query_key: str | None) -> str | None:
    """The caller's API key, whichever SDK style it came in."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    return headers.get("x-api-key") or headers.get("x-goog-api-key") or query_key or None


def prepare_headers(
    headers: MutableMapping[str, str],
    provider: Provider,
    credential: str | None,
    *,
    translated: bool,
    same_family: bool,
) -> str | None:
    """Rewrite the caller's headers in place for ``provider``; returns the credential
    that leaves the gateway (to scrub it from an upstream error that echoes it).

    Exactly one credential leaves, in the provider's own header: with no key configured,
    a caller of the provider's own family keeps its header as it is (Anthropic OAuth
    tokens only work as ``Authorization``); every other credential header is removed.
    """
    own = next((name for name in _OWN_CREDENTIAL[provider.protocol] if name in headers), None)
    keep_callers = same_family and not provider.api_key and own is not None
    kept = headers.get(own) if keep_callers and own else None
    for name in _CREDENTIAL_HEADERS:
        if name in headers and not (keep_callers and name == own):
            del headers[name]
    for fam, prefixes in _FAMILY_HEADER_PREFIXES.items():
        if fam == provider.protocol:
            continue
        for name in [n for n in headers if n.lower().startswith(prefixes)]:
            del headers[name]
    key = provider.api_key or credential
    if kept is not None:
        key = kept.removeprefix("Bearer ").removeprefix("bearer ").strip()
    elif key:
        if provider.protocol == "openai":
            headers["authorization"] = f"Bearer {key}"
        elif provider.protocol == "anthropic":
            headers["x-api-key"] = key
        else:
            headers["x-goog-api-key"] = key
    if provider.protocol == "anthropic" and "anthropic-version" not in headers:
        headers["anthropic-version"] = ANTHROPIC_VERSION
    if translated:
        # The stream callable parses bytes: it must never see a compressed body.
        headers["accept-encoding"] = "identity"
        headers["content-type"] = "application/json"
    for name, value in provider.headers:
        headers[name] = value
    return key or None


def scrub(body: bytes, credential: str | None) -> bytes:
    """An upstream answer with the credential it received blanked out: some servers
    echo a rejected key in their error message, and the caller must never see a key
    the gateway holds."""
    if not credential or len(credential) < 8:
        return body
    return body.replace(credential.encode(), b"[redacted]")
