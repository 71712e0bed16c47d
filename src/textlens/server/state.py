"""Server state built in the app's lifespan: settings, open collections, background jobs, and what
the operator allows a client to load (collections, models, data folders).

A client names things; the server maps names to what its operator configured and
never treats a client's string as a path or a model id it has not been told to trust.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textlens.config import DEFAULT_ENCODER, DEFAULT_LLM
from textlens.errors import AssetError, Forbidden, InputError, NotFound, TextlensError
from textlens.index import (
    CollectionBase,
    CollectionNotFound,
    check_name,
    collection_exists,
    create_collection,
    open_collection,
)

log = logging.getLogger("textlens.server")


def _operator_allows(what: str, name: str, allowed: tuple[str, ...], more: str = "") -> str:
    """``name`` if it is in the operator's ``allowed`` list, else :class:`Forbidden` listing them."""
    if name not in allowed:
        raise Forbidden(
            f"{what} {name!r} is not allowed on this server",
            hint=f"Allowed {what}s: " + (", ".join(allowed) or "none") + "." + more,
        )
    return name


class TooBusy(TextlensError):
    """The server runs as many background jobs (or waiting questions) as it allows; try again later."""


@dataclass
class ServerSettings:
    """What ``textlens serve`` was started with.

    Attributes:
        collections: serve only these (empty: every collection under ``TEXTLENS_HOME``).
        encoders: embedding models a client may name for a new collection.
        rerankers: cross-encoder ids or folders a client may name in a search.
        data_dirs: folders whose files (BEIR sets, qrels, queries) a client may evaluate.
        host: the address bound; with ``allowed_hosts`` it decides which ``Host`` headers pass.
        allowed_hosts: more host names to accept (``"*"``: any, for a server behind a proxy that checks).
        preload: load the encoders of the served collections at start-up (``/healthz`` says when ready).
        llm: the model that answers ``ask`` (a catalog name, .gguf path or ``openai:URL``; ``None``: no answers).
            A catalog model must have been pulled: the server never downloads one.
        llm_threads: CPU threads for a local model (default: all).
        max_waiting_asks: questions that may wait for the model at once; more are refused (429).
        inside_models: models clients may look inside (``/api/inside``; a catalog LLM must be pulled).
        search_workers: processes that answer searches without a reranker (0: the server process
            answers them on its event loop, one core). See :mod:`textlens.server.workers`.
    """

    api_key: str | None = None
    collections: tuple[str, ...] = ()
    max_body_bytes: int = 10_000_000
    max_text_chars: int = 1_000_000
    cors_origins: tuple[str, ...] = ()
    encoders: tuple[str, ...] = (DEFAULT_ENCODER,)
    rerankers: tuple[str, ...] = ()
    data_dirs: tuple[Path, ...] = ()
    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    preload: bool = True
    max_open_collections: int = 32
    max_running_jobs: int = 2
    max_jobs: int = 100
    job_ttl_s: float = 3600.0
    llm: str | None = DEFAULT_LLM
    llm_threads: int | None = None
    max_waiting_asks: int = 4
    search_workers: int = 0
    inside_models: tuple[str, ...] = ("smollm2-135m", DEFAULT_ENCODER)


@dataclass
class Job:
    """A background job (an evaluation, token premiums on the UDHR) whose progress can be polled."""

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


JOB_KINDS = {"eval": ("evaluation", "POST /api/eval"), "languages": ("languages", "POST /api/tokens/languages")}
"""What each kind of job is called in an error, and how one is started."""


class AppState:
    """Collections opened once and shared by requests (LRU-bounded); jobs run in threads and expire."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._collections: OrderedDict[str, CollectionBase] = OrderedDict()
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._jobs_lock = threading.Lock()
        self._job_threads: list[threading.Thread] = []
        self.closing = threading.Event()
        self.ready = threading.Event()
        self.loading: dict[str, str] = {}  # model -> "loading" | "ready" | error text
        self._asks = threading.BoundedSemaphore(settings.max_waiting_asks)
        self._udhr: dict[bool, tuple[Any, dict]] = {}
        self._udhr_lock = threading.Lock()
        self.searchers = None
        if settings.search_workers:
            from textlens.server.workers import SearchWorkers

            self.searchers = SearchWorkers(settings.search_workers, warm=self._served())

    # -- token premiums on the UDHR ----------------------------------------------
    def udhr(self, complete_only: bool, *, read: bool = True) -> tuple[Any, dict] | None:
        """The UDHR, read once (``read``; else ``None`` until it has been), and the token counts measured on it so
        far, by tokenizer and pivot (seconds per tokenizer the first time, then reused whatever the other options)."""
        from textlens.tokens.parallel import read_parallel

        with self._udhr_lock:
            if complete_only not in self._udhr and read:
                self._udhr[complete_only] = (read_parallel(None, complete_only=complete_only), {})
            return self._udhr.get(complete_only)

    # -- collections -----------------------------------------------------------
    def allowed(self, name: str) -> str:
        """``name`` if it is a valid collection name this server serves."""
        check_name(name)
        if self.settings.collections and name not in self.settings.collections:
            raise Forbidden(
                f"collection {name!r} is not served here", hint="Served: " + ", ".join(self.settings.collections) + "."
            )
        return name

    def exists(self, name: str) -> bool:
        return collection_exists(self.allowed(name))

    def collection(self, name: str) -> CollectionBase:
        self.allowed(name)
        with self._lock:
            col = self._collections.get(name)
            if col is None:
                if not collection_exists(name):  # said by name: where collections are kept is the server's affair
                    raise CollectionNotFound(
                        f"no collection {name!r}", hint="List the collections (GET /api/collections)."
                    )
                col = self._collections[name] = open_collection(name)
                # an evicted collection is not closed: a request may still be using it; its
                # connections close when the last reference goes
                while len(self._collections) > self.settings.max_open_collections:
                    self._collections.popitem(last=False)
            self._collections.move_to_end(name)
            return col

    def create_collection(self, name: str, encoder: str | None) -> None:
        """Create collection ``name`` with an allowed ``encoder`` (``None``: keyword only)."""
        self.allowed(name)
        if encoder is not None:
            _operator_allows("encoder", encoder, self.settings.encoders, " Or null for keyword only.")
        create_collection(name, encoder=encoder, exist_ok=True).close()

    def _served(self) -> tuple[str, ...]:
        """The collections this server serves that exist now."""
        from textlens.index import list_collections

        served = self.settings.collections
        return tuple(c["name"] for c in list_collections() if not served or c["name"] in served)

    def close(self) -> None:
        """Stop the running jobs (each ends at its next progress report) and wait for them, then close what is
        open. A job left running in native code when the interpreter exits would abort the process."""
        self.closing.set()
        deadline = time.monotonic() + 120
        for thread in self._job_threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self.searchers is not None:
            self.searchers.close()
        with self._lock:
            for col in self._collections.values():
                col.close()
            self._collections.clear()

    # -- what a client may load ------------------------------------------------
    def reranker(self, name: str | None) -> str | None:
        """``name`` if the operator allowed this reranker (``None``: no reranking)."""
        return None if name is None else _operator_allows("reranker", name, self.settings.rerankers)

    def inside_model(self, name: str) -> str:
        """``name`` if the operator allowed clients to look inside it."""
        return _operator_allows("model", name, self.settings.inside_models)

    def data_path(self, given: str, what: str) -> Path:
        """A file or folder inside one of the operator's data folders (relative paths are taken from the first)."""
        if not self.settings.data_dirs:
            raise Forbidden(
                f"this server evaluates no files from clients ({what} {given!r})",
                hint="Evaluate a served collection with its qrels and queries inside a data folder the operator set.",
            )
        roots = [Path(d).resolve() for d in self.settings.data_dirs]
        try:
            candidate = Path(given)
            path = (candidate if candidate.is_absolute() else roots[0] / candidate).resolve()
        except (ValueError, OSError) as exc:  # a NUL byte, a name the file system cannot hold
            raise InputError(f"{what} {given!r} is not a usable path ({exc})", hint="Send a plain path.") from exc
        if not any(path.is_relative_to(root) for root in roots):
            raise Forbidden(
                f"{what} {given!r} is outside the server's data folders",
                hint="Name a path relative to the server's data folder.",
            )
        if not path.exists():
            raise NotFound(f"{what} {given!r} does not exist", hint="Check the path, relative to the data folder.")
        return path

    def public(self, text: str) -> str:
        """``text`` with the server's own folders (home, models, data folders) named instead of shown: a
        response never tells where the server keeps its files."""
        from textlens.config import settings

        here = settings()
        named = [(here.home, "$TEXTLENS_HOME"), (here.models, "$TEXTLENS_MODELS")]
        named += [(Path(d), "the data folder") for d in self.settings.data_dirs]
        for folder, name in sorted(named, key=lambda pair: -len(str(pair[0]))):
            for form in {str(folder), str(folder.resolve())}:
                text = text.replace(form, name)
        return text

    # -- the LLM ------------------------------------------------------------------
    def generator(self):
        """The operator's LLM, loaded once; a catalog model that was never pulled is a 503, not a download."""
        from textlens.llm import catalog, get_generator, locate, spec

        name = self.settings.llm
        if name is None:
            raise Forbidden(
                "this server answers no questions (it was started without an LLM)",
                hint="Ask the operator to start it with --llm NAME.",
            )
        if name in catalog() and locate(spec(name), verify=False) is None:
            raise AssetError(
                f"the model {name} is not on this server",
                hint=f"The operator must pull it first: textlens models pull {name}",
            )
        return get_generator(name, threads=self.settings.llm_threads)

    def wait_for_model(self) -> Callable[[], None]:
        """Take a place in the queue for the model; returns the function that gives it back.

        Raises:
            TooBusy: ``max_waiting_asks`` questions are waiting already.
        """
        if not self._asks.acquire(blocking=False):
            raise TooBusy(
                f"{self.settings.max_waiting_asks} questions are waiting for the model already",
                hint="Try again in a few seconds.",
            )
        return self._asks.release

    # -- start-up --------------------------------------------------------------
    def preload(self) -> None:
        """Load the encoders the served collections need and the tokenizers the UI compares by default
        (a first comparison would otherwise wait seconds), then set :attr:`ready`."""
        from textlens.embed import get_encoder
        from textlens.index import list_collections
        from textlens.tokens.registry import DEFAULT_COMPARE, availability, get_tokenizer

        served = self._served()
        names = {c["encoder"] for c in list_collections() if c.get("encoder") and c["name"] in served}
        work = [(f"encoder {m}", lambda m=m: get_encoder(m)) for m in sorted(names)]
        work += [(f"tokenizer {t}", lambda t=t: get_tokenizer(t)) for t in DEFAULT_COMPARE if availability(t).available]
        if self.settings.llm and self._llm_here(self.settings.llm):
            work.append((f"llm {self.settings.llm}", self.generator))
        if self.searchers is not None:
            work.append((f"{self.searchers.workers} search workers", self.searchers.start))
        for label, load in work:
            self.loading[label] = "loading"
            start = time.perf_counter()
            try:
                load()
            except Exception as exc:  # reported in /healthz and the log; requests needing it fail clearly
                self.loading[label] = f"failed: {type(exc).__name__}: {exc}"
                log.error("could not load %s: %s", label, exc)
                log.debug("traceback", exc_info=exc)
                continue
            self.loading[label] = "ready"
            log.info("%s loaded in %.1f s", label, time.perf_counter() - start)
        # what start-up made lives as long as the server: keep it out of the garbage collector's
        # full passes (each walks every tracked object while the event loop waits)
        gc.freeze()
        self.ready.set()

    @staticmethod
    def _llm_here(name: str) -> bool:
        """Whether the LLM can load without a download (a pulled catalog model, a file or a server)."""
        from textlens.llm import catalog, locate, spec

        return name not in catalog() or locate(spec(name), verify=False) is not None

    # -- jobs ------------------------------------------------------------------
    def job(self, job_id: str, kind: str = "eval") -> Job:
        with self._jobs_lock:
            self._expire()
            job = self._jobs.get(job_id)
        if job is None or job.kind != kind:
            what, start = JOB_KINDS[kind]
            raise NotFound(f"no {what} job {job_id!r}", hint=f"Start one with {start}.")
        return job

    def _expire(self) -> None:
        """Drop finished jobs older than the TTL, then the oldest finished ones past ``max_jobs``."""
        now = time.time()
        for jid in [j.id for j in self._jobs.values() if j.finished and now - j.finished > self.settings.job_ttl_s]:
            del self._jobs[jid]
        finished = [j.id for j in self._jobs.values() if j.finished]
        for jid in finished[: max(0, len(self._jobs) - self.settings.max_jobs)]:
            del self._jobs[jid]

    def start_job(self, kind: str, work: Callable[[Job], Any]) -> Job:
        with self._jobs_lock:
            self._expire()
            running = sum(1 for j in self._jobs.values() if j.finished is None)
            if running >= self.settings.max_running_jobs:
                raise TooBusy(
                    f"{running} jobs are running; this server runs at most {self.settings.max_running_jobs} at once",
                    hint="Poll the running jobs and try again when one has finished.",
                )
            job = Job(uuid.uuid4().hex[:12], kind)
            self._jobs[job.id] = job

        def run() -> None:
            job.status = "running"
            start = time.perf_counter()
            try:
                job.result = work(job)
                job.status = "done"
                log.info("job %s (%s) done in %.1f s", job.id, kind, time.perf_counter() - start)
            except Exception as exc:  # reported to the client through the job, and logged
                job.error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                job.status = "failed"
                log.warning(
                    "job %s (%s) failed: %s", job.id, kind, job.error, exc_info=not isinstance(exc, TextlensError)
                )
            job.finished = time.time()

        thread = threading.Thread(target=run, name=f"job-{job.id}", daemon=True)
        with self._jobs_lock:
            self._job_threads = [t for t in self._job_threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def progress_of(self, job: Job) -> Callable[[str, int, int], None]:
        """A progress callback for ``job``'s work: records where it is, and stops it (an error) once the server is
        shutting down."""

        def progress(stage: str, done: int, total: int) -> None:
            if self.closing.is_set():
                raise TextlensError("the server is shutting down", hint="Start the job again when it is back.")
            job.progress = {"stage": stage, "done": done, "total": total}

        return progress
