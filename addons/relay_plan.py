"""What the gateway hands the relay for one request, and what the relay reports back.

The gateway renders the request for each target (the first one eagerly, fallbacks only
when the relay asks for them); the relay sends, waits, retries and falls back, and
records which target served the answer and what failed on the way, for the gateway's
hooks and its log line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from addons.faults import Fault, Framing
from addons.http1 import Fields
from addons.rules import Timeouts
from addons.upstream_pool import Origin, host_header
from translators import ir


@dataclass(slots=True, eq=False)
class Target:
    """One provider and model the request may go to, with the request rendered for it."""

    provider: str  # its rules.yaml name: the only way a caller or a log line names it
    model: str
    wire: ir.Protocol
    origin: Origin  # where to connect: scheme, host, port
    path: str  # the request target: path and query
    method: bytes
    fields: Fields  # header names in lower case
    body: bytes
    context: object = None  # the gateway's own record of this target; the relay never reads it

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def url(self) -> str:
        return f"{self.origin[0]}://{host_header(self.origin).decode()}{self.path}"

    @property
    def framing(self) -> Framing:
        """How a stream of this target is framed: Gemini streams a JSON array unless
        asked for SSE with ``alt=sse``."""
        if self.wire != "gemini":
            return "sse"
        query = parse_qsl(self.path.partition("?")[2])
        return "sse" if ("alt", "sse") in query else "json_array"


@dataclass(slots=True, eq=False)
class Plan:
    request_id: str
    client: ir.Protocol  # the caller's protocol, for the gateway's own fault answers
    stream: bool
    timeouts: Timeouts
    targets: list[Target]
    fallbacks: list[str] = field(default_factory=list)  # provider/model names not tried yet
    # How long the relay may wait in all on retry-after before moving on. Zero for a model
    # rule without fallbacks: its caller gets the provider's 429 or 503 and its SDK
    # retries as it always did, rather than the gateway retrying under it.
    retry_wait: float = 0.0
    # Renders the request for a fallback; None when that target cannot serve it (a native
    # route does not convert; a field the target's protocol cannot express).
    prepare: Callable[[str], Target | None] | None = None
    # What happened:
    served: Target | None = None  # whose answer was relayed (success or the provider's error)
    fault: Fault | None = None  # no provider answered: the gateway answered this fault itself
    error: str | None = None  # a relayed stream broke off (its in-stream error says this)
    attempts: list[str] = field(default_factory=list)  # what failed before the answer
    # A 2xx stream waiting for mitmproxy to fetch it from the relay (a relay_exchange
    # Answer), and the relay task passing it on.
    live: Any = None
    task: asyncio.Task | None = None

    def next_target(self) -> Target | None:
        """The next fallback that can serve this request, rendered; None when none is left."""
        while self.fallbacks:
            name = self.fallbacks.pop(0)
            target = self.prepare(name) if self.prepare is not None else None
            if target is not None:
                self.targets.append(target)
                return target
            self.attempts.append(f"{name}: skipped, cannot serve this request")
        return None
