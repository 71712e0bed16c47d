"""Embedding concurrent queries together: one forward pass for the queries of many requests.

A server answering many searches at once would otherwise run the model once per
query. :class:`QueryBatcher` lets the first caller lead: it embeds every query
waiting at that moment (up to ``max_batch``) in one call, hands each caller its
vector, and passes the lead to the oldest caller still waiting. No thread of its
own, no timer: at low load a query is embedded at once, alone; under load the
batches grow by themselves (the queries that arrive while one batch runs form
the next).

Example:
    >>> batcher = QueryBatcher(lambda texts: np.ones((len(texts), 2), np.float32))
    >>> batcher.encode("a query").shape
    (2,)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np


class _Waiting:
    __slots__ = ("done", "error", "lead", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text, self.done, self.lead = text, threading.Event(), False
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None


class QueryBatcher:
    """Batches single-query embedding calls from concurrent threads.

    Args:
        encode: embeds a list of queries, returning one row per query.
        max_batch: the most queries embedded in one call.
    """

    def __init__(self, encode: Callable[[Sequence[str]], np.ndarray], *, max_batch: int = 64) -> None:
        self._encode, self.max_batch = encode, max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._busy = False
        self.batches = 0  # how many model calls were made (for measurements)
        self.queries = 0

    def encode(self, text: str) -> np.ndarray:
        """The vector of ``text``, embedded together with whatever other queries are waiting."""
        me = _Waiting(text)
        with self._lock:
            self._waiting.append(me)
            lead = not self._busy
            self._busy = True
        if not lead:
            me.done.wait()
            if not me.lead:
                return self._result(me)
        self._run_batch()
        return self._result(me)

    def _run_batch(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
        try:
            vectors = self._encode([w.text for w in batch])
            for w, v in zip(batch, vectors, strict=True):
                w.vector = v
        except BaseException as exc:  # every caller of the batch gets the error, raised in its own thread
            for w in batch:
                w.error = exc
        finally:
            with self._lock:
                successor = self._waiting[0] if self._waiting else None
                if successor is None:
                    self._busy = False
                else:
                    successor.lead = True
                self.batches += 1
                self.queries += len(batch)
            for w in batch:
                w.lead = False
                w.done.set()
            if successor is not None:
                successor.done.set()

    @staticmethod
    def _result(me: _Waiting) -> np.ndarray:
        if me.error is not None:
            raise me.error
        return me.vector
