"""Objects loaded once per process by name (tokenizers, encoders, rerankers): bounded and thread-safe.

Two threads asking for the same name load it once; a slow load (a download, a
model read from disk) holds only that name's lock, never the whole cache, so
other names stay available meanwhile. The least recently used entry is dropped
past ``max_items``.

Example:
    >>> models = Loaded(max_items=4)
    >>> models.get("a", lambda: object()) is models.get("a", lambda: object())
    True
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Loaded(Generic[T]):
    """A bounded LRU of loaded objects, keyed by name."""

    def __init__(self, max_items: int) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.max_items = max_items
        self._items: OrderedDict[str, T] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _cached(self, key: str) -> T | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def get(self, key: str, load: Callable[[], T]) -> T:
        """The object under ``key``, calling ``load()`` once if it is not there."""
        with self._guard:
            if (value := self._cached(key)) is not None:
                return value
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if (value := self._cached(key)) is not None:
                    return value
            try:
                value = load()
            finally:
                with self._guard:
                    self._loading.pop(key, None)
            with self._guard:
                self._items[key] = value
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
            return value

    def __contains__(self, key: str) -> bool:
        with self._guard:
            return key in self._items

    def clear(self) -> None:
        with self._guard:
            self._items.clear()
