"""Schemathesis (a client nobody here wrote) against the live ``textlens serve`` app on 127.0.0.1.

It generates requests from the OpenAPI schema, valid and invalid, over a collection with vectors and
real metadata fields, and checks every answer: never a server error, every status code and content
type documented in the schema, bodies that match it.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("uvicorn")
pytest.importorskip("sentence_transformers")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

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
    with create_collection("sci") as col:
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


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_every_answer_is_documented_and_never_a_server_error(server) -> None:
    from hypothesis import given

    api = schemathesis.openapi.from_url(server + "/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case) -> None:
            if "name" in (case.path_parameters or {}) and len(repr(case.body)) % 2:
                case.path_parameters["name"] = "sci"  # half the requests reach the real collection
            for sent in (case.body, case.query):  # and half of those naming a model, the real model
                if isinstance(sent, dict) and "model" in sent and len(repr(sent)) % 2:
                    sent["model"] = ENCODER
            case.call_and_validate(base_url=server, headers={"X-API-Key": KEY}, checks=CHECKS)

        run()


def test_the_collection_is_intact_afterwards(server) -> None:
    import httpx

    hits = httpx.post(server + "/api/collections/sci/search", json={"query": "planet", "mode": "hybrid"}).json()
    assert hits["hits"][0]["doc_id"] == "mars"
