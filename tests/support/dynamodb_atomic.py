"""DynamoDB evaluates a write's ConditionExpression and applies the write atomically per item;
moto checks and then writes without a lock, so two threads can both pass the same condition.
Tests that run our conditional writes from threads wrap their moto client in AtomicWrites: it
serialises the write calls (what DynamoDB guarantees) and nothing else, so reads still
interleave with writes and our read-decide-write code is exercised as on AWS."""
from __future__ import annotations

import threading
from typing import Any

_WRITES = frozenset({"put_item", "update_item", "delete_item", "transact_write_items"})
_LOCK = threading.Lock()


class AtomicWrites:
    def __init__(self, client: Any):
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in _WRITES:
            return attr

        def serialised(*args: Any, **kwargs: Any) -> Any:
            with _LOCK:
                return attr(*args, **kwargs)

        return serialised
