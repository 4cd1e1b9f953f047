"""Typed reads of JSON fields, each failure a ``TranslationError`` naming the field.

Every codec validates the caller's body with these, so a bad value gets the same
sentence whatever the protocol: ``messages[2].content[0].text must be a string``, with
``param`` set to that path. A JSON ``true`` is never a number (Python's bool is an int),
and an integer must fit in 64 bits: every provider stores them as int64, and orjson
refuses to encode anything larger.

``at`` is the dotted path of the value being read (``""`` for the body itself); ``key``
helpers build child paths the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import orjson

from translators.errors import TranslationError

T = TypeVar("T")

_INT64 = 2**63


def child(at: str, key: str | int) -> str:
    """The path of ``key`` inside the value at ``at``: ``a.b``, ``a[3]``."""
    if isinstance(key, int):
        return f"{at}[{key}]"
    return f"{at}.{key}" if at else key


def fail(at: str, problem: str) -> TranslationError:
    """The error for the value at ``at``: ``"<at> <problem>"``."""
    return TranslationError(f"{at or 'body'} {problem}", param=at or "body")


def obj(value: object, at: str) -> dict:
    if not isinstance(value, dict):
        raise fail(at, "must be an object")
    return value


def arr(value: object, at: str) -> list:
    if not isinstance(value, list):
        raise fail(at, "must be an array")
    return value


def string(value: object, at: str) -> str:
    if not isinstance(value, str):
        raise fail(at, "must be a string")
    return value


def integer(value: object, at: str) -> int:
    """A JSON integer; ``2.0`` counts (JSON has one number type), ``true`` does not."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise fail(at, "must be an integer")
    if not -_INT64 <= value < _INT64:
        raise fail(at, "is out of range (it must fit in 64 bits)")
    return value


def number(value: object, at: str) -> float | int:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise fail(at, "must be a number")
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        raise fail(at, "is out of range (it must fit in 64 bits)")
    return value


def boolean(value: object, at: str) -> bool:
    if not isinstance(value, bool):
        raise fail(at, "must be a boolean")
    return value


def get(data: dict, key: str, read: Callable[[object, str], T], at: str) -> T | None:
    """``read(data[key])`` when the key is present and not null, else None."""
    value = data.get(key)
    return None if value is None else read(value, child(at, key))


def need(data: dict, key: str, read: Callable[[object, str], T], at: str) -> T:
    """``read(data[key])``; a missing or null value is an error naming the field."""
    value = data.get(key)
    if value is None:
        raise fail(child(at, key), "is required")
    return read(value, child(at, key))


def type_of(block: dict) -> str | None:
    """A block's ``type`` when it is a string: lookups must not hash arbitrary JSON."""
    value = block.get("type")
    return value if isinstance(value, str) else None


def count(value: object) -> int | None:
    """A token count as a provider reported it, or None when it is not one: usage is
    informative, so an odd value is left out rather than failing the answer."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def json_object(text: str, at: str) -> dict:
    """Tool-call arguments, which the IR keeps as JSON text, as the object that formats
    with object arguments need; empty text is ``{}``."""
    if not text.strip():
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise TranslationError("tool call arguments must be a JSON object", param=at)
    return value


def data_url(url: str, at: str) -> tuple[str | None, str]:
    """``data:<media type>;base64,<data>`` -> (media type or None, base64 data)."""
    header, comma, data = url.partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise fail(at, "must be a base64 data URL")
    return header[5:-7] or None, data
