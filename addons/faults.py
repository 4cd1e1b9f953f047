"""What can go wrong between the gateway and a provider, said in words a caller can act on.

A fault always names the provider by its rules.yaml name and never by its address: the
caller should learn *which* provider failed and how, not where the gateway's upstreams
live. The operating system's own messages are not used for that reason (asyncio's
"Connect call failed ('10.0.0.7', 443)" carries the address).

Pure: the relay (``addons/relay_exchange.py``) raises and renders these; nothing here does
I/O.
"""

from __future__ import annotations

import email.utils
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Literal

import orjson

from translators import convert, ir

Phase = Literal["connect", "first_byte", "body", "stream"]
Framing = Literal["sse", "json_array"]


@dataclass(slots=True)
class Fault(Exception):
    """A provider that failed before or while answering. ``timeout`` faults answer 504,
    the others 502 (the status every SDK maps to its server-error exception)."""

    provider: str
    what: str  # a sentence fragment: "could not be reached: the connection was refused"
    timeout: bool = False

    def __str__(self) -> str:
        return f"The provider '{self.provider}' {self.what}."

    @property
    def status(self) -> int:
        return 504 if self.timeout else 502

    def to_ir(self, request_id: str) -> ir.Error:
        kind: ir.ErrorKind = "timeout" if self.timeout else "api_error"
        message = f"The provider '{self.provider}' {self.what} (request {request_id})."
        return ir.Error(kind=kind, status=self.status, message=message)


def timed_out(provider: str, phase: Phase, seconds: float) -> Fault:
    """The provider was silent past a ``timeouts`` setting."""
    limit = f"{round(seconds, 1):g} s"
    what = {
        "connect": f"did not accept a connection within {limit} (timeouts.connect)",
        "first_byte": f"sent no answer within {limit} (timeouts.first_byte)",
        "body": f"stopped sending its answer for {limit} (timeouts.idle)",
        "stream": f"sent nothing for {limit} in the middle of its stream (timeouts.idle)",
    }[phase]
    return Fault(provider, what, timeout=True)


def broken(provider: str, phase: Phase, exc: BaseException) -> Fault:
    """A connection that failed or broke: why, in words that carry no address."""
    if phase == "connect":
        return Fault(provider, f"could not be reached: {_connect_reason(exc)}")
    if isinstance(exc, ConnectionResetError):
        how = "reset the connection"
    elif isinstance(exc, ssl.SSLError):
        how = "broke the TLS connection"
    else:
        how = "closed the connection"
    when = {
        "first_byte": "before answering",
        "body": "in the middle of its answer",
        "stream": "in the middle of its stream",
    }[phase]
    return Fault(provider, f"{how} {when}")


def invalid(provider: str) -> Fault:
    return Fault(provider, "sent a response that is not valid HTTP/1.1")


def _connect_reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "its host name could not be resolved"
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None)
        return f"the TLS handshake failed ({reason})" if reason else "the TLS handshake failed"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return "the connection failed"


def answer(client: ir.Protocol, fault: Fault, request_id: str) -> tuple[int, bytes]:
    """The gateway's own answer to a fault, in the caller's format. The status is the
    fault's (502 or 504), not the codec's default for the error kind, which for some
    formats is a plain 500."""
    _, body = convert.render_error(client, fault.to_ir(request_id))
    return fault.status, body


def stream_tail(
    wire: ir.Protocol,
    framing: Framing,
    fault: Fault,
    request_id: str,
    *,
    array_open: bool = False,
    sent: int = 0,
) -> bytes:
    """The in-stream error form of ``wire``, properly terminated, to end a relayed stream
    that broke. It is written in the *upstream's* protocol: on a native route that is the
    caller's own, and on a converter route the stream translator turns it into the
    caller's like any error the provider itself sent.

    ``sent`` counts the events (or array elements) already relayed; ``array_open`` says
    whether a JSON-array stream's ``[`` went out.
    """
    err = fault.to_ir(request_id)
    if wire == "openai_responses":
        # Responses streams number their events; the error event continues the count.
        event = {
            "type": "error",
            "code": "timeout" if fault.timeout else "upstream_error",
            "message": err.message,
            "param": None,
            "sequence_number": sent,
        }
        return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"
    _, body = convert.render_error(wire, err)
    if framing == "json_array":
        return (b"" if array_open else b"[") + (b"," if sent else b"") + body + b"]"
    if wire == "anthropic":
        return b"event: error\ndata: " + body + b"\n\n"
    if wire == "openai_chat":
        return b"data: " + body + b"\n\ndata: [DONE]\n\n"
    return b"data: " + body + b"\r\n\r\n"  # Gemini's SSE line ending


DONE = b"data: [DONE]\n\n"


def close_failed_stream(client: ir.Protocol, out: bytes, failed: bool) -> bytes:
    """An OpenAI Chat stream ends with ``data: [DONE]``, after an error chunk too, so a
    client that reads to the end is not left waiting; the other formats' error events
    are their own last word."""
    if failed and client == "openai_chat" and not out.endswith(DONE):
        return out + DONE
    return out


RETRYABLE_STATUSES = frozenset({429}) | frozenset(range(500, 600))


def retry_after(value: bytes | None, value_ms: bytes | None = None) -> float | None:
    """Seconds a provider asked the caller to wait (``retry-after`` in seconds or as an
    HTTP date, or OpenAI's ``retry-after-ms``); None when it asked nothing usable."""
    if value_ms:
        try:
            return max(float(value_ms) / 1000, 0.0)
        except ValueError:
            pass
    if not value:
        return None
    text = value.decode("latin-1").strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
