"""Persistent state for the OpenAI Responses API features: stored responses,
``previous_response_id`` chains, conversations and the gateway's secrets.

``open_store(url, retention_seconds=..., max_bytes=...)`` picks the backend; the
``Store`` class in ``base`` is the contract every backend keeps (see docs/store.md).
"""

from addons.store.base import (
    BrokenChain,
    Conversation,
    Item,
    Order,
    Page,
    Store,
    StoredResponse,
    StoreError,
    open_store,
)

__all__ = [
    "BrokenChain",
    "Conversation",
    "Item",
    "Order",
    "Page",
    "Store",
    "StoreError",
    "StoredResponse",
    "open_store",
]
