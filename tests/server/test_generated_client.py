"""A client nobody here wrote: openapi-python-client generates one from the live server's OpenAPI document, and
that client adds, searches, inspects and deletes with typed results and typed errors.

openapi-python-client pins typer and httpx below the versions textlens uses, so it runs in a tool environment of
its own (``uv tool run``, fetched from PyPI on first use, as a user would run it); the generated code runs here.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from tests.live import live_server  # noqa: E402
from textlens.server import ServerSettings, create_app  # noqa: E402

pytestmark = pytest.mark.slow
GENERATOR = "openapi-python-client==0.29.1"
KEY = "generated-client-key"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """(the server's URL, the generated package ``textlens_client``)."""
    import os

    home = tmp_path_factory.mktemp("generated-home")
    old = os.environ.get("TEXTLENS_HOME")
    os.environ["TEXTLENS_HOME"] = str(home)
    out = tmp_path_factory.mktemp("generated")
    with live_server(create_app(ServerSettings(api_key=KEY, llm=None))) as base:
        (out / "openapi.json").write_text(json.dumps(httpx.get(base + "/openapi.json").json()))
        cmd = [sys.executable, "-m", "uv", "tool", "run", "--from", GENERATOR, "openapi-python-client", "generate"]
        cmd += ["--path", str(out / "openapi.json"), "--output-path", str(out / "client")]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        # every schema made it into the client: the generator drops what it cannot type, and says so
        assert "Unable to process schema" not in done.stdout + done.stderr, done.stdout[-3000:]
        sys.path.insert(0, str(out / "client"))
        try:
            yield base, importlib.import_module("textlens_client")
        finally:
            sys.path.remove(str(out / "client"))
            for name in [m for m in sys.modules if m.split(".")[0] == "textlens_client"]:
                del sys.modules[name]
    if old is None:
        os.environ.pop("TEXTLENS_HOME", None)
    else:
        os.environ["TEXTLENS_HOME"] = old


def test_the_generated_client_adds_searches_and_deletes_with_typed_results(generated) -> None:
    base, client_package = generated
    from textlens_client import AuthenticatedClient, Client
    from textlens_client.api.collections import add_documents, delete_document, get_collection, search
    from textlens_client.models import (
        AddReport,
        CollectionInfo,
        DeleteReport,
        DocumentIn,
        DocumentInMetadata,
        DocumentsRequest,
        ErrorBody,
        Results,
        SearchRequest,
        SearchRequestMode,
    )

    assert Path(client_package.__file__).parent.name == "textlens_client"
    writer = AuthenticatedClient(base_url=base, token=KEY, prefix="", auth_header_name="X-API-Key")
    docs = [
        DocumentIn(id="mars", text="Mars is the fourth planet from the Sun.", title="Mars"),
        DocumentIn(id="tiger", text="The tiger is the largest living cat.", title="Tiger"),
    ]
    docs[0].metadata = DocumentInMetadata.from_dict({"topic": "space", "year": 1965})
    added = add_documents.sync("notes", client=writer, body=DocumentsRequest(documents=docs, encoder=None))
    assert isinstance(added, AddReport) and added.added == 2

    reader = Client(base_url=base)
    found = search.sync("notes", client=reader, body=SearchRequest(query="planet", mode=SearchRequestMode.KEYWORD))
    assert isinstance(found, Results)
    assert [h.doc_id for h in found.hits] == ["mars"] and found.hits[0].metadata.to_dict()["topic"] == "space"

    info = get_collection.sync("notes", client=reader)
    assert isinstance(info, CollectionInfo) and info.documents == 2 and "topic" in info.fields

    gone = delete_document.sync("notes", "tiger", client=writer)
    assert isinstance(gone, DeleteReport) and (gone.deleted, gone.documents) == (1, 1)

    # errors come typed too, in the one error shape: what, how to fix it, which field
    missing = get_collection.sync("nope", client=reader)
    assert isinstance(missing, ErrorBody) and missing.error == "no collection 'nope'" and missing.hint
    unkeyed = add_documents.sync_detailed("notes", client=reader, body=DocumentsRequest(documents=docs))
    assert unkeyed.status_code == 401 and isinstance(unkeyed.parsed, ErrorBody)
    blank = DocumentsRequest(documents=[DocumentIn(id="b", text=" ")])
    refused = add_documents.sync_detailed("notes", client=writer, body=blank)
    assert refused.status_code == 422 and refused.parsed.field == "body.documents.0.text"
