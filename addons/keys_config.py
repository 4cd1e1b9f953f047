"""Gateway keys and the limits store in rules.yaml (``keys:``, ``limits.store``), parsed
into immutable records, and the checks that only need those records.

Pure: no I/O, so ``rules.parse_rules`` can call it and the checks are unit-tested
without mitmproxy. Parse errors are ``KeysConfigError`` with the key path; ``rules``
turns them into its own ``RulesError`` naming the file.
"""

from __future__ import annotations

import fnmatch
import hmac
import importlib.util
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from translators.errors import TranslationError

# flow.metadata key under which the gateway keys addon leaves the caller's key *name*
# for the gateway addon (saved flows keep metadata, so never the key itself).
KEY_METADATA = "gateway_key"
REDIS_EXTRA_HINT = "pip install 'llm-gateway[redis]'"

# rules.expand_env, passed in: rules imports this module, not the other way round.
Expand = Callable[[str, Mapping[str, str]], str]


class KeysConfigError(ValueError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True, slots=True)
class GatewayKey:
    """One caller credential the gateway accepts; ``name`` is what logs and metrics
    show, ``key`` never leaves this record (``repr`` hides it)."""

    name: str
    key: str = field(repr=False)
    models: tuple[str, ...] = ()  # globs; empty means every model
    rpm: int | None = None
    tpm: int | None = None


def parse_keys(raw: Any, env: Mapping[str, str], expand: Expand) -> tuple[GatewayKey, ...]:
    """``keys: [{name, key, models?, rpm?, tpm?}]``; ``expand`` is rules' ``${VAR}``
    expansion, so a key comes from the environment as provider keys do."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise KeysConfigError("keys", "must be a list of {name, key, models?, rpm?, tpm?}")
    keys: list[GatewayKey] = []
    for i, entry in enumerate(raw):
        where = f"keys[{i}]"
        if not isinstance(entry, dict):
            raise KeysConfigError(where, "must be a mapping with name and key")
        unknown = set(entry) - {"name", "key", "models", "rpm", "tpm"}
        if unknown:
            raise KeysConfigError(f"{where}.{sorted(unknown)[0]}", "unknown key")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise KeysConfigError(f"{where}.name", "must be a non-empty string")
        secret = entry.get("key")
        if not isinstance(secret, str) or not secret:
            raise KeysConfigError(f"{where}.key", "must be a string such as ${GATEWAY_KEY_X}")
        # The value is never quoted back: an error names the variable, not the key.
        value = expand(secret, env).strip()
        if not value:
            raise KeysConfigError(
                f"{where}.key", f"is empty (is the environment variable in {secret} set?)"
            )
        models = entry.get("models", [])
        if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
            raise KeysConfigError(f"{where}.models", "must be a list of model globs")
        limits = [_positive_int(entry.get(n), f"{where}.{n}") for n in ("rpm", "tpm")]
        if any(k.name == name for k in keys):
            raise KeysConfigError(f"{where}.name", f"duplicates the name {name!r}")
        if any(hmac.compare_digest(k.key.encode(), value.encode()) for k in keys):
            raise KeysConfigError(f"{where}.key", "is the same key as an earlier entry")
        keys.append(GatewayKey(name, value, tuple(models), limits[0], limits[1]))
    return tuple(keys)


def parse_limits_store(raw: Any, env: Mapping[str, str], expand: Expand) -> str | None:
    """``limits.store``: a ``redis://`` (or ``rediss://``) URL, or absent for counts
    kept in the process. The redis package is an optional extra: a URL without it is a
    configuration error now, not a failure on the first request."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise KeysConfigError("limits.store", "must be a redis://host:port/db URL")
    url = expand(raw, env).strip()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise KeysConfigError("limits.store", "must be a redis://host:port/db URL")
    if importlib.util.find_spec("redis") is None:
        raise KeysConfigError(
            "limits.store",
            f"a Redis limits store needs the redis package: {REDIS_EXTRA_HINT}",
        )
    return url


def authenticate(keys: Iterable[GatewayKey], candidates: Iterable[str]) -> GatewayKey | None:
    """The configured key matching one of the caller's credentials. Every candidate is
    compared with every key, each in constant time, so the answer's timing says nothing
    about how much of a guess was right."""
    found: GatewayKey | None = None
    offered = [c.encode() for c in candidates if c]
    for key in keys:
        secret = key.key.encode()
        for candidate in offered:
            if hmac.compare_digest(secret, candidate) and found is None:
                found = key
    return found


def model_allowed(key: GatewayKey, model: str, resolved: str) -> bool:
    """A key's globs match the model as the caller wrote it, or the ``provider/model``
    the rules resolved it to (so ``anthropic/*`` allows whatever Anthropic serves)."""
    if not key.models:
        return True
    return any(
        fnmatch.fnmatchcase(model, glob) or fnmatch.fnmatchcase(resolved, glob)
        for glob in key.models
    )


def check_model(keys: Iterable[GatewayKey], name: str | None, model: str, resolved: str) -> None:
    """The 403 for a model outside the caller's key; a no-op without gateway keys."""
    key = next((k for k in keys if k.name == name), None) if name is not None else None
    if key is None or model_allowed(key, model, resolved):
        return
    raise TranslationError(
        f"The gateway key '{key.name}' may not use model '{model}'.",
        param="model",
        kind="permission",
        status=403,
    )


def _positive_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int or value < 1:
        raise KeysConfigError(where, "must be a positive integer")
    return value
