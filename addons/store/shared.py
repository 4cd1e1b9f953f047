"""What both backends decide the same way outside SQL: argument checks, OpenAI's page
semantics and the ``previous_response_id`` walk, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from addons.store.base import BrokenChain, Item, Order, Page, StoredResponse, StoreError

MAX_LIMIT = 100


def dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def response_row(record: StoredResponse) -> tuple:
    """The values of one ``responses`` row, in ``RESPONSE_COLUMNS`` order then ``size``:
    the JSON payloads as text and their size, which the size cap sums."""
    response = orjson.dumps(record.response)
    items = orjson.dumps(record.input_items)
    return (
        record.id,
        record.created_at,
        response.decode(),
        items.decode(),
        record.previous_response_id,
        record.conversation_id,
        record.provider,
        record.model,
        len(response) + len(items),
    )


def item_ids(items: Sequence[Item]) -> list[str]:
    """The ids of items about to be stored; paging and lookups need every item to have
    its own, so a missing or repeated one is the caller's error, not a silent gap."""
    ids: list[str] = []
    for index, item in enumerate(items):
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str) or not item_id:
            raise ValueError(f"item {index} has no string 'id'")
        ids.append(item_id)
    if len(set(ids)) != len(ids):
        repeated = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"two items share the id {repeated!r}")
    return ids


def check_page_args(limit: int, order: Order) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, not {limit!r}")
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")


def unknown_after(after: str) -> ValueError:
    return ValueError(f"after: there is no item {after!r} in this list")


def page_of(items: list[Item], *, after: str | None, limit: int, order: Order) -> Page:
    """A page of a list held whole in memory (a response's input items)."""
    check_page_args(limit, order)
    ordered = items if order == "asc" else items[::-1]
    start = 0
    if after is not None:
        start = next((i + 1 for i, item in enumerate(ordered) if item["id"] == after), -1)
        if start < 0:
            raise unknown_after(after)
    return page_from_rows(ordered[start : start + limit + 1], limit)


def page_from_rows(rows: list[Item], limit: int) -> Page:
    """A page from up to ``limit + 1`` rows in order: the extra row only tells that more
    follow, which is how the SQL backends answer ``has_more`` without a count."""
    data = rows[:limit]
    return Page(
        data=data,
        first_id=data[0]["id"] if data else None,
        last_id=data[-1]["id"] if data else None,
        has_more=len(rows) > limit,
    )


def chain_ids(
    response_id: str, links: list[tuple[str, str | None]], max_depth: int
) -> list[str] | None:
    """Check the ``(id, previous_response_id)`` links read from ``response_id``
    backwards (at most ``max_depth + 1`` of them) and return the ids oldest first."""
    if not links:
        return None
    seen: set[str] = set()
    for link_id, _ in links:
        if link_id in seen:
            raise StoreError(f"the previous_response_id links of {response_id!r} form a cycle")
        seen.add(link_id)
    if len(links) > max_depth:
        raise StoreError(f"response {response_id!r} continues more than {max_depth} responses")
    last_id, missing = links[-1]
    if missing is not None:
        raise BrokenChain(last_id, missing)
    return [link_id for link_id, _ in reversed(links)]
