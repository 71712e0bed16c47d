"""Schemathesis (a client nobody here wrote) against the live ``textlens serve`` app on 127.0.0.1.

It generates requests from the OpenAPI schema, valid and invalid, over collections with vectors and
real metadata fields, in every phase and with every check: never a server error, every status code and content
type documented in the schema, bodies that match it, schema-valid requests accepted and invalid ones refused.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("uvicorn")
pytest.importorskip("sentence_transformers")

from tests.live import live_server  # noqa: E402
from textlens.corpus import Document  # noqa: E402
from textlens.index import create_collection  # noqa: E402
from textlens.server import ServerSettings, create_app  # noqa: E402

pytestmark = pytest.mark.slow
KEY = "schemathesis-key"
ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
DOCS = [
    Document("mars", "Mars is the fourth planet from the Sun.", "Mars", {"topic": "space", "year": 1965}),
    Document("tiger", "The tiger is the largest living cat species.", "Tiger", {"topic": "animals", "year": 1758}),
    Document("cell", "Cells divide by mitosis.", "Cell", {"topic": "biology", "year": 1855}),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("schemathesis-home")
    old = os.environ.get("TEXTLENS_HOME")
    os.environ["TEXTLENS_HOME"] = str(home)
    for name in ("sci", "wikipedia"):  # wikipedia: the name in the schema's examples
        with create_collection(name) as col:
            col.add(DOCS)
    data = tmp_path_factory.mktemp("schemathesis-data")
    # no LLM: ask is fuzzed for its input checks (403 past them); answering is tests/server/test_ask_api.py.
    # Searches go to two worker processes, as with textlens serve on a machine of several cores.
    # /api/inside looks inside the small encoder only (fast enough to fuzz)
    settings = ServerSettings(
        api_key=KEY, data_dirs=(data,), max_jobs=20, llm=None, search_workers=2, inside_models=(ENCODER,)
    )
    with live_server(create_app(settings)) as base:
        yield base
    if old is None:
        os.environ.pop("TEXTLENS_HOME", None)
    else:
        os.environ["TEXTLENS_HOME"] = old


def failures(report: str) -> list[tuple[str, str]]:
    """(check, the server's error) for each failure in schemathesis's report."""
    found, check = [], None
    for line in report.splitlines():
        line = line.strip()
        if line.startswith("- ST"):
            check = line[2:7]
        elif check and line.startswith("`{"):
            found.append((check, line))
            check = None
        elif check and line.startswith(("Reproduce", "curl")):  # a failure without a body
            found.append((check, ""))
            check = None
    return found


def test_every_check_of_every_phase_passes(server) -> None:
    """What a user runs against a textlens server: the schemathesis CLI, every check (schema-valid requests
    accepted, invalid ones refused, responses as documented, 405s with Allow...) in every phase (the documented
    examples, coverage of each schema's edges, fuzzing, and stateful runs that follow the links: add documents,
    then search, inspect and delete them). Every operation answers within 10 s (no LLM is served here)."""
    config = Path(__file__).with_name("schemathesis.toml")  # a picture's bytes: what the schema cannot say
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", server + "/openapi.json"]
    cmd += ["--checks", "all"]
    cmd += ["--phases", "examples,coverage,fuzzing,stateful", "-n", "12", "--seed", "2026", "--workers", "1"]
    cmd += ["--max-response-time", "10", "-H", f"X-API-Key: {KEY}", "--no-color", "--generation-database", "none"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    report = done.stdout
    assert "Test cases:" in report, report[-3000:] + done.stderr[-2000:]
    # rules between fields are in the schema (oneOf, not); what depends on the data is a 404 or 409
    # (a filter on a field no document has, an id twice, an empty collection), which schemathesis expects
    assert not failures(report), report[-8000:]
    assert "errored" not in report.split("Test cases:")[1], report[-3000:]


def test_the_collection_is_intact_afterwards(server) -> None:
    import httpx

    # schemathesis writes behind the key (adds, upserts, deletes): the collection still opens and searches
    res = httpx.post(server + "/api/collections/sci/search", json={"query": "planet", "mode": "hybrid"})
    assert res.status_code == 200 and res.json()["hits"]
    assert httpx.get(server + "/api/collections/sci").json()["documents"] >= 1
