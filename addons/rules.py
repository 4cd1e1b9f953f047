"""rules.yaml: providers, model routing and routes, parsed into immutable records.

Pure: ``parse_rules`` takes the YAML text and an environment mapping and either returns
``Rules`` or raises ``RulesError`` naming the file, the key path and the problem, so a
user can fix a bad file from one line of output. The addon that loads and reloads the
file (``rules_file.RulesFile``) turns that error into an ``OptionsError`` at start-up and into a
logged warning on reload.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from addons import keys_config
from addons.body_limit import DEFAULT_MAX_BODY_BYTES
from addons.keys_config import GatewayKey

ProviderProtocol = Literal["openai", "anthropic", "gemini"]
OpenAIApi = Literal["chat", "responses"]
CountTokens = Literal["native", "estimate"]
PROVIDER_PROTOCOLS: tuple[ProviderProtocol, ...] = ("openai", "anthropic", "gemini")

DEFAULT_CONVERTER_PREFIXES: dict[str, str] = {
    "openai": "/openai",
    "anthropic": "/anthropic",
    "gemini": "/gemini",
}

# The providers' official API hosts, and the protocol each speaks: the hosts `intercept`
# may list, served as the native routes of that protocol when seen through mitmproxy's
# proxy modes (addons/intercept.py). All three are intercepted by default.
INTERCEPT_HOSTS: dict[str, ProviderProtocol] = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "gemini",
}

DEFAULT_RETENTION_SECONDS = 30 * 86400.0  # stored responses are kept 30 days by default

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class RulesError(ValueError):
    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    protocol: ProviderProtocol
    base_url: str
    # Empty means "no key configured": the caller's own credential is forwarded.
    api_key: str = field(default="", repr=False)
    headers: tuple[tuple[str, str], ...] = ()
    # Which field carries the output budget to an OpenAI-compatible server: OpenAI's
    # reasoning models need max_completion_tokens, while DeepSeek and older servers only
    # know max_tokens. Only used for requests translated from another protocol.
    max_tokens_field: str = "max_completion_tokens"
    # An OpenAI provider whose models are served only through the Responses API
    # (``api: responses``): callers of every format reach it through that codec.
    api: OpenAIApi = "chat"
    # Token counts: "native" asks the provider's own counting endpoint, "estimate" answers
    # with the gateway's estimate; None decides by protocol (addons/token_counts.py).
    count_tokens: CountTokens | None = None


StructuredOutput = Literal["native", "tool"]


@dataclass(frozen=True, slots=True)
class ModelRule:
    match: str
    provider: str
    model: str | None = None
    max_tokens: int | None = None  # default output budget where the target requires one
    # "tool": the model has no native JSON-schema output, so a forced tool stands in.
    structured_output: StructuredOutput = "native"
    api: OpenAIApi | None = None  # overrides the provider's ``api`` for these models
    strict: bool = False  # refuse what would be dropped (DESIGN principle 8)
    # ``provider/model`` targets tried in order when this one fails before answering.
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    provider: Provider
    model: str  # the name the upstream gets
    max_tokens: int | None = None
    structured_output: StructuredOutput = "native"
    api: OpenAIApi = "chat"
    strict: bool = False
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where Responses state lives (``store:`` in rules.yaml): a SQLite file by default,
    PostgreSQL for several gateway processes; how long and how much is kept."""

    url: str | None = None
    retention_seconds: float | None = DEFAULT_RETENTION_SECONDS
    max_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Timeouts:
    """``timeouts:`` in rules.yaml, in seconds (docs/faults.md): opening a connection to a
    provider, waiting for the first byte of its answer, the longest silence inside an
    answer, and, for a model rule with fallbacks, the most the gateway waits in all on
    ``retry-after`` before it moves on."""

    connect: float = 10.0
    first_byte: float = 300.0
    idle: float = 120.0
    retry_wait: float = 10.0


@dataclass(frozen=True, slots=True)
class Routes:
    native: bool = True
    converters: tuple[tuple[str, str], ...] = tuple(DEFAULT_CONVERTER_PREFIXES.items())


@dataclass(frozen=True, slots=True)
class Rules:
    providers: Mapping[str, Provider]
    models: tuple[ModelRule, ...]
    routes: Routes = Routes()
    store: StoreConfig = StoreConfig()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # limits.max_body_bytes, after decoding
    # Gateway keys (ops): callers' credentials, and where their limits are counted.
    keys: tuple[GatewayKey, ...] = ()
    limits_store: str | None = None  # limits.store: a redis:// URL, else in the process
    intercept: tuple[str, ...] = tuple(INTERCEPT_HOSTS)  # official hosts served as routes
    timeouts: Timeouts = Timeouts()

    def resolve(self, model: str) -> Resolution | None:
        """``provider/model`` always wins; otherwise the first matching glob."""
        prefix, sep, rest = model.partition("/")
        if sep and rest and prefix in self.providers:
            provider = self.providers[prefix]
            return Resolution(provider, rest, api=provider.api)
        for rule in self.models:
            if fnmatch.fnmatchcase(model, rule.match):
                provider = self.providers[rule.provider]
                return Resolution(
                    provider,
                    rule.model or model,
                    rule.max_tokens,
                    rule.structured_output,
                    rule.api or provider.api,
                    rule.strict,
                    rule.fallbacks,
                )
        return None


def expand_env(value: str, env: Mapping[str, str]) -> str:
    """``${VAR}`` and ``${VAR:-default}``; an unset variable without default is empty."""
    return _ENV_REF.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)


def parse_rules(text: str, source: str, env: Mapping[str, str]) -> Rules:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise RulesError(source, where, f"not valid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict):
        raise RulesError(source, "(top level)", "must be a mapping with `providers` and `models`")
    unknown = set(data) - {
        "providers",
        "models",
        "routes",
        "store",
        "limits",
        "keys",
        "intercept",
        "timeouts",
    }
    if unknown:
        raise RulesError(
            source,
            sorted(unknown)[0],
            "unknown key (expected providers, models, routes, store, limits, keys, intercept, "
            "timeouts)",
        )
    providers = _parse_providers(data.get("providers"), source, env)
    models = _parse_models(data.get("models", []), source, providers)
    routes = _parse_routes(data.get("routes"), source)
    store = _parse_store(data.get("store"), source, env)
    max_body_bytes = _parse_limits(data.get("limits"), source)
    keys, limits_store = _parse_keys_and_limits_store(data, source, env)
    intercept = _parse_intercept(data.get("intercept", list(INTERCEPT_HOSTS)), source)
    timeouts = _parse_timeouts(data.get("timeouts"), source)
    return Rules(
        providers,
        models,
        routes,
        store,
        max_body_bytes,
        keys,
        limits_store,
        intercept=intercept,
        timeouts=timeouts,
    )


def _parse_keys_and_limits_store(
    data: dict, source: str, env: Mapping[str, str]
) -> tuple[tuple[GatewayKey, ...], str | None]:
    """``keys`` and ``limits.store`` (addons/keys_config.py), errors named for the file."""
    limits = data.get("limits")
    try:
        keys = keys_config.parse_keys(data.get("keys"), env, expand_env)
        raw_store = limits.get("store") if isinstance(limits, dict) else None
        return keys, keys_config.parse_limits_store(raw_store, env, expand_env)
    except keys_config.KeysConfigError as e:
        raise RulesError(source, e.key, e.problem) from None


def _parse_providers(raw: Any, source: str, env: Mapping[str, str]) -> dict[str, Provider]:
    if not isinstance(raw, dict) or not raw:
        raise RulesError(source, "providers", "must be a non-empty mapping of provider names")
    providers: dict[str, Provider] = {}
    for name, spec in raw.items():
        key = f"providers.{name}"
        if not isinstance(spec, dict):
            raise RulesError(source, key, "must be a mapping with protocol and base_url")
        unknown = set(spec) - {
            "protocol",
            "base_url",
            "api_key",
            "headers",
            "max_tokens_field",
            "api",
            "count_tokens",
        }
        if unknown:
            raise RulesError(source, f"{key}.{sorted(unknown)[0]}", "unknown key")
        count_tokens = spec.get("count_tokens")
        if count_tokens not in (None, "native", "estimate"):
            raise RulesError(
                source,
                f"{key}.count_tokens",
                f"must be native or estimate (got {count_tokens!r})",
            )
        protocol = spec.get("protocol")
        if protocol not in PROVIDER_PROTOCOLS:
            raise RulesError(
                source,
                f"{key}.protocol",
                f"must be one of openai, anthropic, gemini (got {protocol!r})",
            )
        base_url = expand_env(_string(spec.get("base_url"), source, f"{key}.base_url"), env)
        _check_base_url(base_url, source, f"{key}.base_url")
        api_key = spec.get("api_key", "")
        api_key = expand_env(_string(api_key, source, f"{key}.api_key"), env) if api_key else ""
        headers = spec.get("headers") or {}
        if not isinstance(headers, dict):
            raise RulesError(
                source, f"{key}.headers", "must be a mapping of header names to values"
            )
        default_field = "max_completion_tokens" if "api.openai.com" in base_url else "max_tokens"
        max_tokens_field = spec.get("max_tokens_field", default_field)
        if max_tokens_field not in ("max_tokens", "max_completion_tokens"):
            raise RulesError(
                source,
                f"{key}.max_tokens_field",
                f"must be max_tokens or max_completion_tokens (got {max_tokens_field!r})",
            )
        providers[str(name)] = Provider(
            name=str(name),
            protocol=protocol,
            base_url=base_url.rstrip("/"),
            api_key=api_key.strip(),
            max_tokens_field=max_tokens_field,
            api=_parse_api(spec.get("api", "chat"), protocol, source, f"{key}.api"),
            count_tokens=count_tokens,
            headers=tuple(
                (str(k).lower(), expand_env(_string(v, source, f"{key}.headers.{k}"), env))
                for k, v in headers.items()
            ),
        )
    return providers


def _parse_models(
    raw: Any, source: str, providers: Mapping[str, Provider]
) -> tuple[ModelRule, ...]:
    if not isinstance(raw, list):
        raise RulesError(source, "models", "must be a list of {match, provider, model?} entries")
    rules = []
    for i, entry in enumerate(raw):
        key = f"models[{i}]"
        if not isinstance(entry, dict):
            raise RulesError(source, key, "must be a mapping with match and provider")
        unknown = set(entry) - {
            "match",
            "provider",
            "model",
            "max_tokens",
            "structured_output",
            "api",
            "strict",
            "fallbacks",
        }
        if unknown:
            raise RulesError(source, f"{key}.{sorted(unknown)[0]}", "unknown key")
        match = _string(entry.get("match"), source, f"{key}.match")
        provider = _string(entry.get("provider"), source, f"{key}.provider")
        if provider not in providers:
            known = ", ".join(sorted(providers))
            raise RulesError(
                source, f"{key}.provider", f"no provider named {provider!r} (known: {known})"
            )
        model = entry.get("model")
        if model is not None:
            model = _string(model, source, f"{key}.model")
        max_tokens = entry.get("max_tokens")
        if max_tokens is not None and (type(max_tokens) is not int or max_tokens < 1):
            raise RulesError(source, f"{key}.max_tokens", "must be a positive integer")
        structured = entry.get("structured_output", "native")
        if structured not in ("native", "tool"):
            raise RulesError(
                source, f"{key}.structured_output", f"must be native or tool (got {structured!r})"
            )
        api = entry.get("api")
        if api is not None:
            api = _parse_api(api, providers[provider].protocol, source, f"{key}.api")
        strict = entry.get("strict", False)
        if not isinstance(strict, bool):
            raise RulesError(source, f"{key}.strict", "must be true or false")
        fallbacks = _parse_fallbacks(entry.get("fallbacks"), source, f"{key}.fallbacks", providers)
        rules.append(
            ModelRule(match, provider, model, max_tokens, structured, api, strict, fallbacks)
        )
    return tuple(rules)


def _parse_fallbacks(
    raw: Any, source: str, key: str, providers: Mapping[str, Provider]
) -> tuple[str, ...]:
    """``[provider/model, ...]``: each names a configured provider, so a typo is caught at
    start-up and not on the day the first target fails."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RulesError(source, key, "must be a list of provider/model targets")
    targets = []
    for i, target in enumerate(raw):
        target = _string(target, source, f"{key}[{i}]")
        name, sep, model = target.partition("/")
        if not sep or not model:
            raise RulesError(source, f"{key}[{i}]", f"must be provider/model (got {target!r})")
        if name not in providers:
            known = ", ".join(sorted(providers))
            raise RulesError(source, f"{key}[{i}]", f"no provider named {name!r} (known: {known})")
        targets.append(target)
    return tuple(targets)


def _parse_routes(raw: Any, source: str) -> Routes:
    if raw is None:
        return Routes()
    if not isinstance(raw, dict):
        raise RulesError(source, "routes", "must be a mapping with native and converters")
    unknown = set(raw) - {"native", "converters"}
    if unknown:
        raise RulesError(source, f"routes.{sorted(unknown)[0]}", "unknown key")
    native = raw.get("native", True)
    if not isinstance(native, bool):
        raise RulesError(source, "routes.native", "must be true or false")
    converters = raw.get("converters", DEFAULT_CONVERTER_PREFIXES)
    if not isinstance(converters, dict):
        raise RulesError(
            source, "routes.converters", "must map openai/anthropic/gemini to a path prefix"
        )
    pairs = []
    for fmt, prefix in converters.items():
        key = f"routes.converters.{fmt}"
        if fmt not in DEFAULT_CONVERTER_PREFIXES:
            raise RulesError(source, key, "must be one of openai, anthropic, gemini")
        prefix = _string(prefix, source, key)
        if not prefix.startswith("/") or prefix == "/" or prefix.endswith("/"):
            raise RulesError(source, key, f"must be a path like /openai (got {prefix!r})")
        pairs.append((fmt, prefix))
    return Routes(native=native, converters=tuple(pairs))


def _check_base_url(url: str, source: str, key: str) -> None:
    """A base URL every request can be built on: refused at start, not at each request."""
    if not url.startswith(("http://", "https://")):
        raise RulesError(source, key, f"must start with http:// or https:// (got {url!r})")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise RulesError(source, key, f"has a port out of range (got {url!r})") from None
    if not parts.hostname:
        raise RulesError(source, key, f"has no host (got {url!r})")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise RulesError(source, key, f"must not have a query or a fragment (got {url!r})")


def _parse_api(value: Any, protocol: str, source: str, key: str) -> OpenAIApi:
    if value not in ("chat", "responses"):
        raise RulesError(source, key, f"must be chat or responses (got {value!r})")
    if value == "responses" and protocol != "openai":
        raise RulesError(source, key, "only an openai provider can be served through Responses")
    return value


def _parse_store(raw: Any, source: str, env: Mapping[str, str]) -> StoreConfig:
    """``store: URL`` or ``store: {url, retention_days, max_mb}``."""
    if raw is None:
        return StoreConfig()
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict):
        raise RulesError(source, "store", "must be a URL or a mapping with url, retention_days")
    unknown = set(raw) - {"url", "retention_days", "max_mb"}
    if unknown:
        raise RulesError(source, f"store.{sorted(unknown)[0]}", "unknown key")
    url = raw.get("url")
    if url is not None:
        url = expand_env(_string(url, source, "store.url"), env) or None
    if url is not None and "://" in url and not url.startswith(_STORE_SCHEMES):
        raise RulesError(
            source, "store.url", "must be a file path, sqlite:///PATH or postgresql://..."
        )
    limits = []
    for name in ("retention_days", "max_mb"):
        value = raw.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise RulesError(source, f"store.{name}", "must be a positive number")
        if value is not None and value <= 0:
            raise RulesError(source, f"store.{name}", "must be a positive number")
        limits.append(value)
    days, megabytes = limits
    return StoreConfig(
        url=url,
        retention_seconds=days * 86400.0 if days is not None else DEFAULT_RETENTION_SECONDS,
        max_bytes=int(megabytes * 1024 * 1024) if megabytes is not None else None,
    )


_STORE_SCHEMES = ("sqlite://", "postgresql://", "postgres://")


def _parse_limits(raw: Any, source: str) -> int:
    """``limits: {max_body_bytes}``: the largest request body, measured decoded."""
    if raw is None:
        return DEFAULT_MAX_BODY_BYTES
    if not isinstance(raw, dict):
        raise RulesError(source, "limits", "must be a mapping with max_body_bytes")
    unknown = set(raw) - {"max_body_bytes", "store"}  # store: _parse_keys_and_limits_store
    if unknown:
        raise RulesError(source, f"limits.{sorted(unknown)[0]}", "unknown key")
    value = raw.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    if type(value) is not int or value < 1:
        raise RulesError(source, "limits.max_body_bytes", "must be a positive integer")
    return value


def _parse_intercept(raw: Any, source: str) -> tuple[str, ...]:
    """``intercept: [host, ...]``: only official hosts, whose protocol is known; ``[]``
    turns interception off."""
    if not isinstance(raw, list):
        raise RulesError(source, "intercept", "must be a list of host names ([] turns it off)")
    hosts = []
    for i, host in enumerate(raw):
        host = _string(host, source, f"intercept[{i}]").lower()
        if host not in INTERCEPT_HOSTS:
            known = ", ".join(INTERCEPT_HOSTS)
            raise RulesError(
                source, f"intercept[{i}]", f"{host!r} is not a provider's API host (known: {known})"
            )
        hosts.append(host)
    return tuple(hosts)


def _parse_timeouts(raw: Any, source: str) -> Timeouts:
    """``timeouts: {connect, first_byte, idle, retry_wait}``, each optional, in seconds."""
    if raw is None:
        return Timeouts()
    if not isinstance(raw, dict):
        raise RulesError(
            source, "timeouts", "must be a mapping with connect, first_byte, idle, retry_wait"
        )
    unknown = set(raw) - {"connect", "first_byte", "idle", "retry_wait"}
    if unknown:
        raise RulesError(source, f"timeouts.{sorted(unknown)[0]}", "unknown key")
    values: dict[str, float] = {}
    for name, value in raw.items():
        # retry_wait may be 0 (never wait); a zero timeout would fail every request.
        low = 0 if name == "retry_wait" else _MIN_SECONDS
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not low <= value <= _MAX_SECONDS:
            raise RulesError(
                source,
                f"timeouts.{name}",
                f"must be a number of seconds from {low} to {_MAX_SECONDS} (got {value!r})",
            )
        values[name] = float(value)
    return Timeouts(**values)


_MIN_SECONDS = 0.01
_MAX_SECONDS = 3600


def _string(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise RulesError(source, key, f"must be a non-empty string (got {value!r})")
    return value
