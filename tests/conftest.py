"""Shared test setup: tokenizer files come from ../shared/tokenizers (never copied here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.shared import SHARED, shared
from textlens.config import settings

SHARED_TOKENIZERS = SHARED / "tokenizers"


def _import_anyio_now() -> None:
    """Import all of anyio in the main thread, before any test starts a server in a thread.

    anyio imports its parts on first use, and under pytest every module of a package that ships a pytest plugin
    is compiled by pytest's assertion rewriter. A served file's first ``anyio.open_file`` then parsed Python in
    the server's thread while another thread parsed too, and CPython 3.11.7's parser is not safe for that
    ("SystemError: AST constructor recursion depth mismatch"): the page never loaded (CI, a browser test).
    """
    import anyio

    for name in dir(anyio):
        getattr(anyio, name)


_import_anyio_now()


TEST_LLM = "smollm2-135m"


@pytest.fixture(scope="session", autouse=True)
def _environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point textlens at the shared tokenizer files and a throw-away home, offline.

    Pulled models live apart from the home (``TEXTLENS_MODELS``), in a folder of this run that holds the tests'
    small LLM alone: linked from the user's models folder, where ``make test`` pulls it
    (``textlens models pull smollm2-135m``); if it is not there, the first test that needs it pulls it.
    """
    from textlens.models.llms import catalog

    users_model = settings().models / catalog()[TEST_LLM].file
    # PostgreSQL's programs (`textlens postgres install`, run by `make test`) are shared with the user's home
    os.environ.setdefault("TEXTLENS_POSTGRES", str(settings().home / "postgres"))
    os.environ.setdefault("TEXTLENS_ASSETS", str(SHARED_TOKENIZERS))
    data = [p for p in os.environ.get("TEXTLENS_DATA", "").split(os.pathsep) if p]
    data += [str(SHARED / "data" / d) for d in ("wikipedia", "multilingual") if str(SHARED / "data" / d) not in data]
    os.environ["TEXTLENS_DATA"] = os.pathsep.join(data)  # the shared data sets, whatever else the caller names
    os.environ["TEXTLENS_HOME"] = str(tmp_path_factory.mktemp("textlens-home"))
    os.environ["TEXTLENS_OFFLINE"] = "1"
    models = tmp_path_factory.mktemp("models")
    os.environ["TEXTLENS_MODELS"] = str(models)
    if users_model.is_file():
        (models / users_model.name).symlink_to(users_model)


@pytest.fixture(autouse=True)
def _backend_restored():
    """``--backend`` sets ``TEXTLENS_BACKEND`` for the rest of the process (the CLI's way); a test that runs the
    CLI in this process must not leave it set for the tests after it."""
    before = os.environ.get("TEXTLENS_BACKEND")
    yield
    if before is None:
        os.environ.pop("TEXTLENS_BACKEND", None)
    else:
        os.environ["TEXTLENS_BACKEND"] = before


@pytest.fixture(scope="session")
def shared_tokenizers() -> Path:
    return shared("tokenizers/manifest.json").parent


# Test lanes: a marker per heavy dependency, given by where a test lives (or by its own mark). `make test` runs
# every lane; `make test-fast` leaves out these and `slow`.
LANES = {
    "llm": ("tests/llm/", "tests/ask/", "tests/keywords/test_llm_keywords.py", "tests/classify/test_llm_classify.py",
            "tests/server/test_ask_api.py", "tests/server/test_keywords_llm_api.py"),
    "inside": ("tests/inside/", "tests/server/test_inside_api.py"),
    "training": ("tests/train/",),
    "topics": ("tests/topics/",),  # UMAP and numba: compiling and fitting take a minute
    "postgres": ("tests/index/test_postgres.py", "tests/index/test_pg_textsearch.py"),
    "ray": ("tests/index/test_ray.py",),
    "browser": ("tests/ui/",),
    "notebook": ("tests/test_notebook.py",),
}  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    for lane in LANES:
        config.addinivalue_line("markers", f"{lane}: needs {lane} (a heavy dependency; left out by make test-fast)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).resolve().parents[1]
    for item in items:
        where = Path(item.fspath).resolve().relative_to(root).as_posix()
        for lane, places in LANES.items():
            if where.startswith(places):
                item.add_marker(getattr(pytest.mark, lane))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI every test must run: a skip there (a missing package, browser or shared file) fails the run."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; CI runs every test (see the skip reasons above)")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def manifest(shared_tokenizers: Path) -> dict:
    return json.loads((shared_tokenizers / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory):
    """A real PostgreSQL 16 with pgvector (from the pgserver package) on a local socket, for this run."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def pg_url(pg_server) -> str:
    return pg_server.get_uri()


@pytest.fixture(scope="session")
def pg17(tmp_path_factory: pytest.TempPathFactory):
    """A PostgreSQL 17 with pg_textsearch, pgvector and pgvectorscale, started by textlens on 127.0.0.1."""
    from textlens.index.postgres.server import PgServer

    server = PgServer(tmp_path_factory.mktemp("pg17") / "primary")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg17_url(pg17) -> str:
    return pg17.url()
