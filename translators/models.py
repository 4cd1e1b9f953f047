"""Model records in the three list shapes: OpenAI's, Anthropic's and Gemini's.

Pure: provider listing bodies in, ``ModelRecord``s out, and back to any caller's
shape, with each shape's own paging (Anthropic's ``after_id`` / ``before_id``,
Gemini's ``pageToken``). A record keeps the provider's own entry so that a model
listed in its provider's shape goes out with every field that provider gave (Gemini's
``thinking``, Anthropic's ``capabilities``), and only a converted one is rebuilt from
the fields the shapes share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

Shape = Literal["openai", "anthropic", "gemini"]

ANTHROPIC_PAGE = (20, 1000)  # default and largest `limit`, as the Anthropic API has them
GEMINI_PAGE = (50, 1000)  # default and largest `pageSize`
# What a model from another protocol can do through a converter route, for Gemini
# callers that pick models by their supported methods.
CONVERTED_GEMINI_METHODS = ("generateContent", "countTokens")


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One model, whatever shape it was listed in."""

    id: str  # the name a caller sends (Gemini's without ``models/``)
    owner: str  # OpenAI's ``owned_by``; the provider's name where a shape has none
    created: int | None = None  # Unix seconds
    display_name: str | None = None
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    source: Shape | None = None  # the shape ``raw`` is in
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def named(self, model_id: str) -> ModelRecord:
        """The same model under another id (a ``provider/`` prefix or a rules alias)."""
        return replace(self, id=model_id)


# ------------------------------------------------------------------ provider listings


def from_openai(body: object, owner: str) -> list[ModelRecord]:
    """``{"object": "list", "data": [...]}``: OpenAI's list has no pages."""
    data = _list_field(body, "data")
    return [_openai_record(entry, owner) for entry in data]


def from_anthropic_page(body: object, owner: str) -> tuple[list[ModelRecord], str | None]:
    """One page and the ``after_id`` of the next (None on the last page)."""
    records = [_anthropic_record(entry, owner) for entry in _list_field(body, "data")]
    assert isinstance(body, dict)
    if body.get("has_more") is not True:
        return records, None
    last = body.get("last_id") or (records[-1].id if records else None)
    if not isinstance(last, str) or not last:
        raise ValueError("has_more is true but the page names no last_id")
    return records, last


def from_gemini_page(body: object, owner: str) -> tuple[list[ModelRecord], str | None]:
    """One page and the ``pageToken`` of the next (None on the last page)."""
    records = [_gemini_record(entry, owner) for entry in _list_field(body, "models", True)]
    assert isinstance(body, dict)
    token = body.get("nextPageToken")
    return records, token if isinstance(token, str) and token else None


def _openai_record(entry: object, owner: str) -> ModelRecord:
    entry = _entry(entry, "id")
    created = entry.get("created")
    owned_by = entry.get("owned_by")
    return ModelRecord(
        id=entry["id"],
        owner=owned_by if isinstance(owned_by, str) and owned_by else owner,
        created=created if type(created) is int else None,
        source="openai",
        raw=entry,
    )


def _anthropic_record(entry: object, owner: str) -> ModelRecord:
    entry = _entry(entry, "id")
    return ModelRecord(
        id=entry["id"],
        owner=owner,
        created=_unix(entry.get("created_at")),
        display_name=_str_or_none(entry.get("display_name")),
        input_token_limit=_int_or_none(entry.get("max_input_tokens")),
        output_token_limit=_int_or_none(entry.get("max_tokens")),
        source="anthropic",
        raw=entry,
    )


def _gemini_record(entry: object, owner: str) -> ModelRecord:
    entry = _entry(entry, "name")
    return ModelRecord(
        id=entry["name"].removeprefix("models/"),
        owner=owner,
        display_name=_str_or_none(entry.get("displayName")),
        input_token_limit=_int_or_none(entry.get("inputTokenLimit")),
        output_token_limit=_int_or_none(entry.get("outputTokenLimit")),
        source="gemini",
        raw=entry,
    )


# ------------------------------------------------------------------ the caller's shape


def render_model(record: ModelRecord, shape: Shape) -> dict[str, Any]:
    """One entry of ``shape``: the provider's own entry when it is already in that
    shape (with the id the caller uses), otherwise built from the shared fields."""
    if record.source == shape and record.raw is not None:
        entry = dict(record.raw)
        if shape == "gemini":
            entry["name"] = "models/" + record.id
        else:
            entry["id"] = record.id
        return entry
    if shape == "openai":
        return {
            "id": record.id,
            "object": "model",
            "created": record.created or 0,
            "owned_by": record.owner,
        }
    if shape == "anthropic":
        entry = {
            "type": "model",
            "id": record.id,
            "display_name": record.display_name or record.id,
            "created_at": _rfc3339(record.created or 0),
        }
        if record.input_token_limit is not None:
            entry["max_input_tokens"] = record.input_token_limit
        if record.output_token_limit is not None:
            entry["max_tokens"] = record.output_token_limit
        return entry
    entry = {
        "name": "models/" + record.id,
        "displayName": record.display_name or record.id,
        "supportedGenerationMethods": list(CONVERTED_GEMINI_METHODS),
    }
    if record.input_token_limit is not None:
        entry["inputTokenLimit"] = record.input_token_limit
    if record.output_token_limit is not None:
        entry["outputTokenLimit"] = record.output_token_limit
    return entry


def render_list(
    records: Sequence[ModelRecord], shape: Shape, query: Mapping[str, str]
) -> dict[str, Any]:
    """The list answer of ``shape``, one page of it where the shape pages (the caller's
    own ``limit`` / ``after_id`` / ``before_id`` or ``pageSize`` / ``pageToken``).
    Raises ValueError, naming the parameter, for a paging parameter that is wrong."""
    if shape == "openai":
        return {"object": "list", "data": [render_model(r, shape) for r in records]}
    if shape == "anthropic":
        return _anthropic_page(records, query)
    return _gemini_page(records, query)


def _anthropic_page(records: Sequence[ModelRecord], query: Mapping[str, str]) -> dict[str, Any]:
    limit = _page_size(query.get("limit"), "limit", ANTHROPIC_PAGE)
    ids = [r.id for r in records]
    after, before = query.get("after_id"), query.get("before_id")
    if after is not None and before is not None:
        raise ValueError("after_id and before_id cannot be used together")
    if before is not None:
        end = _position(ids, before, "before_id")
        start = max(0, end - limit)
        has_more = start > 0
    else:
        start = _position(ids, after, "after_id") + 1 if after is not None else 0
        end = min(len(ids), start + limit)
        has_more = end < len(ids)
    page = records[start:end]
    return {
        "data": [render_model(r, "anthropic") for r in page],
        "has_more": has_more,
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
    }


def _gemini_page(records: Sequence[ModelRecord], query: Mapping[str, str]) -> dict[str, Any]:
    """The page token is the id the next page starts with: it stays valid when the
    list behind it is refreshed, as long as that model is still listed."""
    size = _page_size(query.get("pageSize"), "pageSize", GEMINI_PAGE, zero_is_default=True)
    ids = [r.id for r in records]
    token = query.get("pageToken")
    start = _position(ids, token, "pageToken") if token else 0
    end = min(len(ids), start + size)
    answer: dict[str, Any] = {"models": [render_model(r, "gemini") for r in records[start:end]]}
    if end < len(ids):
        answer["nextPageToken"] = ids[end]
    return answer


def _page_size(
    raw: str | None, name: str, bounds: tuple[int, int], *, zero_is_default: bool = False
) -> int:
    default, largest = bounds
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer (got {raw!r})") from None
    if size == 0 and zero_is_default:
        return default
    if size < 1:
        raise ValueError(f"{name} must be at least 1 (got {size})")
    return min(size, largest)


def _position(ids: list[str], model_id: str | None, name: str) -> int:
    try:
        return ids.index(model_id or "")
    except ValueError:
        raise ValueError(f"{name} {model_id!r} names no model of this list") from None


# ------------------------------------------------------------------ small readers


def _list_field(body: object, name: str, optional: bool = False) -> list:
    if not isinstance(body, dict):
        raise ValueError("the model list is not a JSON object")
    value = body.get(name)
    if value is None and optional:
        return []  # Gemini leaves `models` out of an empty page
    if not isinstance(value, list):
        raise ValueError(f"the model list has no `{name}` array")
    return value


def _entry(entry: object, key: str) -> dict[str, Any]:
    if not isinstance(entry, dict) or not isinstance(entry.get(key), str) or not entry[key]:
        raise ValueError(f"a model entry has no `{key}` string")
    return entry


def _unix(value: object) -> int | None:
    """An RFC 3339 time (Anthropic's ``created_at``) in Unix seconds."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _rfc3339(unix: int) -> str:
    return datetime.fromtimestamp(unix, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int_or_none(value: object) -> int | None:
    return value if type(value) is int else None
