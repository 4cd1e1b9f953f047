"""Per-key request and token counts for gateway keys' ``rpm`` and ``tpm`` limits.

Counts are kept per key name and per fixed one-minute window (the window a limit
resets in, so ``retry-after`` is exact): in the process by default, or in Redis
(``limits.store: redis://…``) so that several gateway processes share them. Redis is
an optional extra, imported only when a ``redis://`` URL is configured; every Redis
call has a timeout, and a Redis that fails lets requests through (logged): the limits
guard cost, and an outage of their store must not take the gateway down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from addons.keys_config import REDIS_EXTRA_HINT, GatewayKey

WINDOW_SECONDS = 60
REDIS_TIMEOUT = 2.0
_PREFIX = "gateway:limits:"


class LimitsError(Exception):
    """The limits store did not answer (in time)."""


class Counts(Protocol):
    """Where the counts live; both stores hold the same two numbers per key and window."""

    async def hit(self, name: str, window: int) -> tuple[int, int]:
        """Count one request; returns the window's requests (this one included) and
        the tokens recorded in it so far."""
        ...

    async def add_tokens(self, name: str, window: int, tokens: int) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is over its key's limit, and when the window resets."""

    limit: str  # "rpm" or "tpm"
    retry_after: int  # whole seconds

    def message(self, key: GatewayKey) -> str:
        what = "requests" if self.limit == "rpm" else "tokens"
        allowed = key.rpm if self.limit == "rpm" else key.tpm
        return (
            f"The gateway key '{key.name}' is over its limit of {allowed} {what} per minute; "
            f"retry in {self.retry_after} s."
        )


def window_of(now: float) -> int:
    return int(now // WINDOW_SECONDS)


async def admit(counts: Counts, key: GatewayKey, now: float | None = None) -> Refusal | None:
    """Count a request against ``key``; a ``Refusal`` when it is over ``rpm`` or the
    tokens already used this minute reach ``tpm``. Tokens are known only once an
    answer is in, so the request that crosses ``tpm`` is served and the next refused."""
    if key.rpm is None and key.tpm is None:
        return None
    now = time.time() if now is None else now
    window = window_of(now)
    requests, tokens = await counts.hit(key.name, window)
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    if key.rpm is not None and requests > key.rpm:
        return Refusal("rpm", retry_after)
    if key.tpm is not None and tokens >= key.tpm:
        return Refusal("tpm", retry_after)
    return None


class MemoryCounts:
    """Counts in this process: the current window of each key."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int, int]] = {}  # name -> (window, requests, tokens)

    def _current(self, name: str, window: int) -> tuple[int, int]:
        seen, requests, tokens = self._windows.get(name, (window, 0, 0))
        return (requests, tokens) if seen == window else (0, 0)

    async def hit(self, name: str, window: int) -> tuple[int, int]:
        requests, tokens = self._current(name, window)
        self._windows[name] = (window, requests + 1, tokens)
        return requests + 1, tokens

    async def add_tokens(self, name: str, window: int, tokens: int) -> None:
        requests, used = self._current(name, window)
        self._windows[name] = (window, requests, used + tokens)

    async def close(self) -> None:
        self._windows.clear()


class RedisCounts:
    """Counts in Redis, one hash per key and window (``requests``, ``tokens``) that
    expires after two windows; created on first use, on mitmproxy's event loop."""

    def __init__(self, url: str, timeout: float = REDIS_TIMEOUT) -> None:
        try:
            import redis.asyncio as aioredis  # the optional extra, only when configured
        except ImportError:
            raise LimitsError(f"limits.store needs the redis package: {REDIS_EXTRA_HINT}") from None
        self._timeout = timeout
        self._client: Any = aioredis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    async def _run(self, what: str, pipeline: Any) -> list[Any]:
        try:
            return await asyncio.wait_for(pipeline.execute(), self._timeout)
        except Exception as e:  # a timeout, a refused connection, a Redis error reply
            # redis-py's errors carry host and port, never the URL's password.
            raise LimitsError(f"{what}: {type(e).__name__}: {e}") from None

    async def hit(self, name: str, window: int) -> tuple[int, int]:
        key = f"{_PREFIX}{name}:{window}"
        pipe = self._client.pipeline(transaction=True)
        pipe.hincrby(key, "requests", 1).hget(key, "tokens").expire(key, 2 * WINDOW_SECONDS)
        requests, tokens, _ = await self._run("counting a request", pipe)
        return int(requests), int(tokens or 0)

    async def add_tokens(self, name: str, window: int, tokens: int) -> None:
        key = f"{_PREFIX}{name}:{window}"
        pipe = self._client.pipeline(transaction=True)
        pipe.hincrby(key, "tokens", tokens).expire(key, 2 * WINDOW_SECONDS)
        await self._run("counting tokens", pipe)

    async def close(self) -> None:
        # A client whose server is gone has nothing left to release.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._client.aclose(), self._timeout)


def open_counts(url: str | None) -> Counts:
    """The store ``limits.store`` names: None for this process's memory."""
    return MemoryCounts() if url is None else RedisCounts(url)
