"""``DocumentCache``: documents a source read from files and built into tools,
kept by whoever owns their lifetime — an ``Engine`` (its runs and the
editor's palette share one: a large OpenAPI document takes a second to
build), never the process: two engines, or a cache and none, never share a
document, and the editor's Refresh empties its engine's (``clear``).

Keys are the source's (the ``openapi`` type: real path, size, modification
time); at most ``size`` documents, the least recently used dropped first.
Thread-safe: the editor reads documents on worker threads.
May import: stdlib.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

#: documents a cache keeps by default (each may hold megabytes)
DEFAULT_SIZE = 4


class DocumentCache:
    """Built documents by key, least recently used dropped past ``size``."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The document kept under ``key``, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, document: Any) -> None:
        with self._lock:
            self._items[key] = document
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every document (the editor's Refresh: read them again)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
