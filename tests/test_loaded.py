"""The bounded model cache: one load per name under concurrency, LRU eviction, no global lock while loading."""

from __future__ import annotations

import threading
import time

import pytest

from textlens.loaded import Loaded


def test_concurrent_callers_load_a_name_once() -> None:
    cache: Loaded[object] = Loaded(max_items=4)
    loads = []
    barrier = threading.Barrier(8)

    def load() -> object:
        loads.append(1)
        time.sleep(0.2)
        return object()

    got = []

    def ask() -> None:
        barrier.wait()
        got.append(cache.get("model", load))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len({id(g) for g in got}) == 1


def test_a_slow_load_does_not_block_other_names() -> None:
    cache: Loaded[str] = Loaded(max_items=4)
    started = threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(1.0)
        return "slow"

    thread = threading.Thread(target=cache.get, args=("slow", slow))
    thread.start()
    started.wait()
    t0 = time.perf_counter()
    assert cache.get("fast", lambda: "fast") == "fast"
    assert time.perf_counter() - t0 < 0.5  # not behind the slow load
    thread.join()


def test_least_recently_used_goes_first_and_failures_are_not_cached() -> None:
    cache: Loaded[str] = Loaded(max_items=2)
    cache.get("a", lambda: "a")
    cache.get("b", lambda: "b")
    cache.get("a", lambda: "never")  # a is now the most recent
    cache.get("c", lambda: "c")
    assert "a" in cache and "c" in cache and "b" not in cache
    with pytest.raises(RuntimeError):
        cache.get("d", lambda: (_ for _ in ()).throw(RuntimeError("no such model")))
    assert cache.get("d", lambda: "d") == "d"
