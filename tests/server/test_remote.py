"""textlens.remote against a live ``textlens serve`` app on 127.0.0.1: the local API's calls, types and errors."""

from __future__ import annotations

import pytest

pytest.importorskip("uvicorn")

from tests.live import live_server
from textlens.corpus import Document
from textlens.errors import Forbidden, InputError
from textlens.index import AddReport, CollectionConflict, CollectionNotFound
from textlens.remote import ServerError, connect
from textlens.search.results import Hit, Results
from textlens.server import ServerSettings, create_app

KEY = "remote-key"
DOCS = [
    Document("sun", "Solar panels turn sunlight into electricity.", "Solar", {"year": 1954}),
    Document("wind", "Wind turbines spin in the wind and make electricity.", "Wind", {"year": 1887}),
    Document("empty", "", "Nothing"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import os

    old = os.environ.get("TEXTLENS_HOME")
    os.environ["TEXTLENS_HOME"] = str(tmp_path_factory.mktemp("remote-home"))
    with live_server(create_app(ServerSettings(api_key=KEY, llm=None))) as url:
        yield url
    if old is None:
        os.environ.pop("TEXTLENS_HOME", None)
    else:
        os.environ["TEXTLENS_HOME"] = old


def test_add_search_and_delete_as_locally(server) -> None:
    with connect(server, api_key=KEY) as remote:
        energy = remote.collection("energy")
        report = energy.add(DOCS, encoder=None, batch_size=2)  # two requests
        assert isinstance(report, AddReport)
        assert (report.added, report.skipped_empty) == (2, ["empty"])
        assert len(energy) == 2 and energy.info()["fields"] == ["year"]
        assert [c["name"] for c in remote.collections()] == ["energy"]

        results = energy.search("electricity from sunlight", mode="keyword", k=5, filters={"year": {"gte": 1900}})
        assert isinstance(results, Results) and isinstance(results.hits[0], Hit)
        assert [h.doc_id for h in results] == ["sun"]
        start, end = results.hits[0].highlights[0]
        assert results.hits[0].text[start:end].lower() in {"sunlight", "electricity"}

        upserted = energy.add([Document("sun", "Solar cells make electricity.", "Solar")], upsert=True, encoder=None)
        assert upserted.replaced == 1
        assert energy.delete(["sun", "not-there"]) == 1 and len(energy) == 1


def test_errors_are_the_local_types(server) -> None:
    with connect(server, api_key=KEY) as remote:
        remote.collection("errs").add(DOCS[:1], encoder=None)
        with pytest.raises(CollectionNotFound, match="no collection 'missing'"):
            remote.collection("missing").search("x", mode="keyword")
        with pytest.raises(CollectionConflict, match="already in collection") as conflict:
            remote.collection("errs").add(DOCS[:1], encoder=None)
        assert "upsert" in conflict.value.hint
        # as locally, a filter on a field no document has is an InputError (a 409: it may fit later)
        with pytest.raises(InputError, match="unknown filter field 'colour'"):
            remote.collection("errs").search("x", mode="keyword", filters={"colour": "red"})
        with pytest.raises(InputError, match="k must be between"):  # checked here, before any request
            remote.collection("errs").search("x", k=0)
        with pytest.raises(InputError, match=r"path\.name"):  # checked by the server's schema
            remote.collection("bad name!").search("x", mode="keyword")
        with pytest.raises(InputError, match="llm is the server's to choose"):
            remote.collection("errs").ask("x", llm="smollm2-135m")
        with pytest.raises(Forbidden):  # ask needs the server's LLM, and this one serves none
            remote.collection("errs").ask("What makes electricity?")
    with connect(server, api_key="wrong") as stranger, pytest.raises(Forbidden, match="401"):
        stranger.collection("errs").add(DOCS[:1], encoder=None)
    with connect("http://127.0.0.1:9") as nowhere, pytest.raises(ServerError, match="no answer from"):
        nowhere.collections()
