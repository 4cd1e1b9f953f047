"""Scripted replies and recorded requests of the fake upstreams.

A ``Reply`` is plain data: a status, explicit headers and either a unary body or the
list of writes of a streamed body. The server decides everything a real provider
would add on its own (request ids, the provider's default content type), so a test
only scripts what it cares about.

The framing here is written independently of ``translators/sse.py`` on purpose: the
fakes are the oracle the gateway is checked against and must not share its code.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "spec"

# Spelling accepted for each provider family; "openai" is what tests write.
PROTOCOL_ALIASES = {
    "openai": "openai",
    "openai_chat": "openai",
    "openai_responses": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
}

_EVENT_END = re.compile(rb"\r\n\r\n|\n\n")
_request_ids = itertools.count(1)


def provider(protocol: str) -> str:
    """Normalise a protocol name so callers may use the fixture folder names too."""
    try:
        return PROTOCOL_ALIASES[protocol]
    except KeyError:
        raise ValueError(f"unknown protocol {protocol!r}") from None


def next_request_id(protocol: str) -> str:
    """A unique, recognisably fake id in the provider's own format."""
    n = next(_request_ids)
    return f"req_011Fake{n:016d}" if protocol == "anthropic" else f"req_fake{n:024x}"


@dataclass
class Received:
    """One request as the fake saw it, for assertions on what the gateway sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed; raises on a body that is not JSON, as a test should."""
        return orjson.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """What the fake answers to one request.

    ``frames`` is None for a unary reply (sent with Content-Length) and the list of
    writes for a streamed one (sent chunked, one flushed chunk per write).
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    frames: tuple[bytes, ...] | None = None
    delay: float = 0.0
    break_after: int | None = None

    @property
    def streamed(self) -> bool:
        return self.frames is not None

    @classmethod
    def json(
        cls, body: dict | list | bytes, status: int = 200, headers: dict | None = None
    ) -> Reply:
        """A unary reply; bytes are sent untouched so a test can serve malformed JSON."""
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return cls(status=status, headers=_lower(headers), body=raw)

    @classmethod
    def sse(
        cls,
        frames: bytes | list[bytes],
        status: int = 200,
        headers: dict | None = None,
        chunk_size: int | None = None,
        delay: float = 0.0,
        break_after: int | None = None,
    ) -> Reply:
        """A streamed body written as given: no framing is added or repaired.

        Raw bytes are split at event boundaries so that, by default, every event is
        its own write like a real server's. ``break_after`` cuts the body after that
        many bytes and drops the connection without the terminating chunk; it takes
        effect even when the body is shorter, so the stream never ends cleanly.
        """
        writes = split_events(frames) if isinstance(frames, bytes) else list(frames)
        if chunk_size is not None:
            if chunk_size < 1:
                raise ValueError("chunk_size must be at least 1")
            joined = b"".join(writes)
            writes = [joined[i : i + chunk_size] for i in range(0, len(joined), chunk_size)]
        hdrs = {"content-type": "text/event-stream"} | _lower(headers)
        return cls(
            status=status,
            headers=hdrs,
            frames=tuple(writes),
            delay=delay,
            break_after=break_after,
        )

    @classmethod
    def example(cls, relpath: str, status: int | None = None, **sse_kwargs: Any) -> Reply:
        """A spec example from tests/fixtures/spec, served the way its provider sends it.

        Without ``status``, files named ``error_<status>_…`` are served with that
        status and everything else with 200. A ``.sse`` file whose last event lacks
        its terminating blank line (the recorders often trimmed it) gets it back, so
        the last event is not lost by SSE parsers.
        """
        path = FIXTURES / relpath
        raw = path.read_bytes()
        code = status if status is not None else _status_from_name(path.stem)
        if path.suffix == ".json":
            return cls.json(raw, status=code, headers=sse_kwargs.get("headers"))
        if path.suffix == ".sse":
            return cls.sse(terminate_last_event(raw), status=code, **sse_kwargs)
        if path.suffix == ".jsonl":
            folder = Path(relpath).parts[0]
            return cls.sse(frame_jsonl(folder, raw), status=code, **sse_kwargs)
        raise ValueError(f"cannot serve {relpath}: expected .json, .sse or .jsonl")

    @classmethod
    def error(cls, protocol: str, status: int, message: str | None = None) -> Reply:
        """The provider's exact error body, status and headers for ``status``.

        Without ``message`` the real example of that status is used where the spec
        has one (OpenAI 429 insufficient_quota, Anthropic 529, Gemini 400 / 404 /
        429); with one, the provider's generic body for the status carries it.
        """
        name = provider(protocol)
        headers: dict[str, str] = {}
        if status == 429:
            headers["retry-after"] = "1"
        if name == "openai":
            body = openai_error_body(status, message)
        elif name == "anthropic":
            rid = next_request_id("anthropic")
            headers["request-id"] = rid
            body = anthropic_error_body(status, message, rid)
        else:
            headers["content-type"] = "application/json; charset=UTF-8"
            body = gemini_error_body(status, message)
        return cls.json(body, status=status, headers=headers)


def split_events(data: bytes) -> list[bytes]:
    """Cut a raw SSE body after each blank line, keeping every byte."""
    writes: list[bytes] = []
    start = 0
    for match in _EVENT_END.finditer(data):
        writes.append(data[start : match.end()])
        start = match.end()
    if start < len(data):
        writes.append(data[start:])
    return writes


def terminate_last_event(data: bytes) -> bytes:
    """Complete a trimmed final event with the file's own line ending."""
    if not data or data.endswith((b"\n\n", b"\r\n\r\n")):
        return data
    eol = b"\r\n" if b"\r\n" in data else b"\n"
    return data + eol if data.endswith(eol) else data + eol + eol


def frame_jsonl(folder: str, raw: bytes) -> list[bytes]:
    """Put back the SSE framing a recorder stripped, as each provider writes it."""
    lines = [line for line in raw.splitlines() if line.strip()]
    if folder == "openai_chat":
        return [b"data: " + line + b"\n\n" for line in lines] + [b"data: [DONE]\n\n"]
    if folder == "gemini":
        return [b"data: " + line + b"\r\n\r\n" for line in lines]
    if folder in ("anthropic", "openai_responses"):
        return [
            b"event: " + orjson.loads(line)["type"].encode() + b"\ndata: " + line + b"\n\n"
            for line in lines
        ]
    raise ValueError(f"no SSE framing known for {folder!r}")


def _status_from_name(stem: str) -> int:
    parts = stem.split("_")
    if len(parts) > 1 and parts[0] == "error" and parts[1].isdigit():
        return int(parts[1])
    return 200


def _lower(headers: dict | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _example(relpath: str) -> dict:
    return orjson.loads((FIXTURES / relpath).read_bytes())


# --- OpenAI ---------------------------------------------------------------------------

_OPENAI_DEFAULTS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model does not exist or you do not have access to it.",
    ),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again in 1s.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def openai_error_body(
    status: int,
    message: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> dict:
    if status == 429 and message is None:
        return _example("openai_chat/error_429_insufficient_quota.json")
    fallback = "invalid_request_error" if status < 500 else "server_error"
    kind, default_code, default_message = _OPENAI_DEFAULTS.get(
        status, (fallback, None, f"HTTP {status}")
    )
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": kind,
            "param": param,
            "code": code if code is not None else default_code,
        }
    }


# --- Anthropic ------------------------------------------------------------------------

_ANTHROPIC_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}


def anthropic_error_body(status: int, message: str | None, request_id: str) -> dict:
    if status == 529 and message is None:
        body = _example("anthropic/error_529_overloaded.json")
    else:
        fallback = "invalid_request_error" if status < 500 else "api_error"
        kind, default_message = _ANTHROPIC_TYPES.get(status, (fallback, f"HTTP {status}"))
        text = message if message is not None else default_message
        body = {"type": "error", "error": {"type": kind, "message": text}}
    body["request_id"] = request_id
    return body


# --- Gemini ---------------------------------------------------------------------------

GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_GEMINI_EXAMPLES = {
    400: "gemini/error_400_api_key_invalid.json",
    404: "gemini/error_404_model_not_found.json",
    429: "gemini/error_429_resource_exhausted.json",
}
_GEMINI_MESSAGES = {
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
}


def gemini_error_body(status: int, message: str | None = None) -> dict:
    if message is None and status in _GEMINI_EXAMPLES:
        return _example(_GEMINI_EXAMPLES[status])
    text = message if message is not None else _GEMINI_MESSAGES.get(status, f"HTTP {status}")
    return {
        "error": {"code": status, "message": text, "status": GEMINI_STATUS.get(status, "UNKNOWN")}
    }
