"""Server state built in the app's lifespan: settings, open collections, background jobs."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textlens.errors import InputError
from textlens.index import Collection


@dataclass
class ServerSettings:
    """What ``textlens serve`` was started with."""

    api_key: str | None = None
    collections: tuple[str, ...] = ()  # empty: every collection under TEXTLENS_HOME
    max_body_bytes: int = 10_000_000
    max_text_chars: int = 1_000_000
    cors_origins: tuple[str, ...] = ()


@dataclass
class Job:
    """A background job (an evaluation) whose progress can be polled."""

    id: str
    kind: str
    status: str = "queued"  # queued, running, done, failed
    progress: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": self.progress,
            "result": self.result,
            "error": self.error,
            "started": self.started,
            "finished": self.finished,
        }


class AppState:
    """Collections opened once and shared by requests; jobs run in threads."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()
        self.jobs: dict[str, Job] = {}

    def allowed(self, name: str) -> None:
        if self.settings.collections and name not in self.settings.collections:
            raise InputError(
                f"collection {name!r} is not served here", hint="Served: " + ", ".join(self.settings.collections) + "."
            )

    def collection(self, name: str) -> Collection:
        self.allowed(name)
        with self._lock:
            if name not in self._collections:
                self._collections[name] = Collection.open(name)
            return self._collections[name]

    def forget(self, name: str) -> None:
        with self._lock:
            col = self._collections.pop(name, None)
        if col is not None:
            col.close()

    def close(self) -> None:
        with self._lock:
            for col in self._collections.values():
                col.close()
            self._collections.clear()

    def start_job(self, kind: str, work: Callable[[Job], Any]) -> Job:
        job = Job(uuid.uuid4().hex[:12], kind)
        self.jobs[job.id] = job

        def run() -> None:
            job.status = "running"
            try:
                job.result = work(job)
                job.status = "done"
            except Exception as exc:  # reported to the client through the job
                job.error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                job.status = "failed"
            job.finished = time.time()

        threading.Thread(target=run, name=f"job-{job.id}", daemon=True).start()
        return job
