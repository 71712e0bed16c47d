"""Searches in worker processes, so that a server uses more than one core.

Python runs one thread at a time per process: a server answering keyword searches on its
event loop is bound to one core, however many the machine has. :class:`SearchWorkers`
hands each search (without a reranker) to one of ``N`` worker processes that open the
collections read-only, embed the query themselves and return the finished JSON; the
server process only parses requests and sends answers. Writes, rerankers, evaluations
and the LLM stay in the server process: a collection has one writer, and a search in a
worker sees every write committed before it started (each search reads a snapshot).

A worker that dies (killed, out of memory) fails only the searches it held: they are
answered in the server process, and a new set of workers is started for the next ones.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import threading
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import orjson

log = logging.getLogger("textlens.server")
MAX_OPEN = 32  # collections a worker keeps open (least recently used closed first)

_open: OrderedDict[str, Any] = OrderedDict()  # in a worker process: name -> Collection


def _collection(name: str):
    from textlens.index import open_collection

    col = _open.get(name)
    if col is None:
        col = _open[name] = open_collection(name)
        while len(_open) > MAX_OPEN:
            _open.popitem(last=False)[1].close()
    _open.move_to_end(name)
    return col


def _warm(names: tuple[str, ...]) -> None:
    """A worker's start: open the served collections and load their encoders, then keep what it
    loaded out of the garbage collector's full passes."""
    from textlens.errors import TextlensError

    for name in names:
        try:
            col = _collection(name)
            if col.manifest.get("encoder"):
                col.encoder.encode_queries(["warm up"])
        except TextlensError as exc:  # answered again, clearly, when a search names it
            log.warning("search worker could not open %s: %s", name, exc.message)
    gc.freeze()


def _search(name: str, query: str, options: dict[str, Any]) -> bytes:
    return orjson.dumps(_collection(name).search(query, **options).to_dict())


def _pid() -> int:
    return os.getpid()


class SearchWorkers:
    """A pool of ``workers`` search processes (started with ``spawn``: no threads copied).

    Args:
        workers: how many processes (one per core is the usual choice).
        warm: collections each worker opens (and whose encoder it loads) when it starts.
    """

    def __init__(self, workers: int, warm: tuple[str, ...] = ()) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers, self._warm = workers, warm
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_warm, initargs=(self._warm,))

    def start(self) -> list[int]:
        """Start every worker and wait until each has warmed up; their process ids."""
        # the pool starts a process for each task submitted while none is idle
        futures = [self._pool.submit(_pid) for _ in range(self.workers)]
        return [f.result() for f in futures]

    async def search(self, name: str, query: str, options: dict[str, Any]) -> bytes | None:
        """The search's JSON (``Results.to_dict``), or ``None`` when the worker died meanwhile
        (the caller answers it itself; the next searches go to new workers)."""
        pool = self._pool
        try:
            return await asyncio.wrap_future(pool.submit(_search, name, query, options))
        except BrokenProcessPool:
            self._replace(pool)
            return None

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not broken:  # another request replaced it already
                return
            log.error("a search worker stopped; starting %d new ones", self.workers)
            self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
