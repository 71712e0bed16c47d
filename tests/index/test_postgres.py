"""Collections in PostgreSQL with pgvector: a real server (pgserver's PostgreSQL 16 + pgvector, started
here on a local socket), compared with the local engine on the same documents."""

from __future__ import annotations

import json
import threading
import uuid

import psycopg
import pytest

from tests.shared import shared
from textlens.corpus.document import Document
from textlens.errors import InputError
from textlens.index import (
    CollectionConflict,
    CollectionError,
    CollectionNotFound,
    collection_exists,
    create_collection,
    open_collection,
)
from textlens.index.postgres import BackendError, PgCollection
from textlens.index.postgres.snapshot import fieldnorm

SCIFACT = shared("data/beir/scifact")


def _name() -> str:
    return "t-" + uuid.uuid4().hex[:10]


def _scifact(n: int) -> list[Document]:
    docs = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            year = 1990 + len(docs) % 30
            docs.append(Document(row["_id"], row["text"], row["title"], {"year": year, "odd": len(docs) % 2 == 1}))
            if len(docs) == n:
                return docs
    return docs


QUERIES = [
    "0-dimensional biomaterials show inductive properties.",
    "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors.",
    "Vitamin D deficiency and cardiovascular disease risk",
    "photosynthesis in green plants",
    "the of and",  # stop words only: no keyword hits anywhere
]


@pytest.fixture(scope="module")
def pair(pg_url, tmp_path_factory):
    """The same 300 SciFact abstracts, locally and in PostgreSQL."""
    docs = _scifact(300)
    local = create_collection(tmp_path_factory.mktemp("local") / "scifact")
    local.add(docs)
    # exact vectors, as the local engine uses for 300 (HNSW's approximation is measured in the benchmark)
    pg = create_collection(_name(), backend=pg_url, vector_index="exact")
    pg.add(docs, batch_size=128)
    yield local, pg
    local.close()
    pg.delete_collection()


def _scores(results):
    return [(h.doc_id, h.score) for h in results.hits]


@pytest.mark.parametrize("options", [{}, {"title_boost": 0}, {"title_boost": 1.5}, {"bm25": (0.9, 0.4)}])
def test_keyword_scores_equal_the_local_engine(pair, options):
    local, pg = pair
    assert isinstance(pg, PgCollection)
    for query in QUERIES:
        a = _scores(local.search(query, mode="keyword", k=20, **options))
        b = _scores(pg.search(query, mode="keyword", k=20, **options))
        assert [d for d, _ in a] == [d for d, _ in b], query
        for (_, x), (_, y) in zip(a, b, strict=True):
            assert y == pytest.approx(x, rel=1e-5)


def test_a_repeated_query_term_counts_twice_in_title_and_body(pair):
    local, pg = pair
    word = max(local.documents()[0].title.split(), key=len)
    query = f"{word} or rather {word}"
    a, b = _scores(local.search(query, mode="keyword")), _scores(pg.search(query, mode="keyword"))
    assert a and [d for d, _ in a] == [d for d, _ in b]
    assert [s for _, s in b] == pytest.approx([s for _, s in a], rel=1e-5)


def test_dense_and_hybrid_equal_the_local_engine(pair):
    local, pg = pair
    for query in QUERIES:
        for mode in ("dense", "hybrid"):
            a, b = local.search(query, mode=mode, k=10), pg.search(query, mode=mode, k=10)
            assert a.ids() == b.ids(), (query, mode)
            assert [h.score for h in b.hits] == pytest.approx([h.score for h in a.hits], abs=1e-5)
        hit = pg.search(query, mode="hybrid", k=1).hits
        assert hit and hit[0].text == local.get(hit[0].doc_id).text


def test_hnsw_finds_what_exact_search_finds(pair, pg_url):
    local, _ = pair
    hnsw = create_collection(_name(), backend=pg_url)
    hnsw.add(local.documents())
    assert hnsw.info()["vector_index"] == "hnsw"
    found = [len(set(hnsw.search(q, mode="dense").ids()) & set(local.search(q, mode="dense").ids())) for q in QUERIES]
    assert sum(found) >= 0.9 * 10 * len(QUERIES)
    hnsw.delete_collection()


def test_filters_are_sql_parameters(pair):
    local, pg = pair
    cases = [
        {"year": {"gte": 2000, "lt": 2005}},
        {"year": [1991, 1995]},
        {"odd": True},
        {"year": {"ne": 1990}, "odd": False},
    ]
    for filters in cases:
        for mode in ("keyword", "dense", "hybrid"):
            a = local.search(QUERIES[2], mode=mode, k=15, filters=filters)
            b = pg.search(QUERIES[2], mode=mode, k=15, filters=filters)
            assert a.ids() == b.ids(), (filters, mode)
            assert all(_passes(h.metadata, filters) for h in b.hits)
    # a value that looks like SQL is a value
    assert pg.search("cancer", mode="keyword", filters={"year": "1990'; DROP TABLE x; --"}).hits == []
    assert len(pg) == 300
    with pytest.raises(InputError, match=r"(?s)unknown filter field .nope.*odd, year"):
        pg.search("cancer", filters={"nope": 1})


def _passes(meta: dict, filters: dict) -> bool:
    for field, cond in filters.items():
        value = meta[field]
        if isinstance(cond, list):
            cond = {"in": cond}
        elif not isinstance(cond, dict):
            cond = {"eq": cond}
        for op, x in cond.items():
            ok = {
                "in": lambda v, x: v in x,
                "eq": lambda v, x: v == x,
                "ne": lambda v, x: v != x,
                "gte": lambda v, x: v >= x,
                "lt": lambda v, x: v < x,
            }[op](value, x)
            if not ok:
                return False
    return True


def test_upsert_and_delete_keep_scores_equal_to_a_fresh_build(pg_url, tmp_path):
    docs = _scifact(60)
    pg = create_collection(_name(), backend=pg_url, encoder=None)
    pg.add(docs[:50])
    changed = [Document(d.id, d.text + " Extra sentence about vitamin D.", d.title, d.metadata) for d in docs[10:20]]
    report = pg.upsert(changed + docs[50:])
    assert (report.added, report.replaced) == (10, 10)
    assert pg.delete([docs[0].id, docs[1].id, "not-there"]) == 2
    final = docs[2:10] + changed + docs[20:]
    fresh = create_collection(tmp_path / "fresh", encoder=None)
    fresh.add(final)
    assert len(pg) == len(final) == len(fresh)
    assert pg.get(docs[0].id) is None and pg.get(docs[12].id).text.endswith("vitamin D.")
    a = _scores(fresh.search("vitamin D deficiency", mode="keyword", k=20))
    b = _scores(pg.search("vitamin D deficiency", mode="keyword", k=20))
    assert [d for d, _ in a] == [d for d, _ in b]
    assert [s for _, s in b] == pytest.approx([s for _, s in a], rel=1e-5)
    assert {d.id for d in pg.documents()} == {d.id for d in final}
    pg.delete_collection()
    assert not collection_exists(pg.name, backend=pg_url)


def test_a_snapshot_sees_one_state_while_a_writer_commits(pg_url):
    docs = _scifact(40)
    name = _name()
    with create_collection(name, backend=pg_url, encoder=None) as first:
        first.add(docs[:20])
    pg, writer = open_collection(name, backend=pg_url), open_collection(name, backend=pg_url)
    with pg.snapshot() as snap:
        before = snap.retriever("keyword").search("cancer", 100, None)
        done = threading.Event()
        threading.Thread(target=lambda: (writer.add(docs[20:]), writer.delete([docs[0].id]), done.set())).start()
        assert done.wait(60)
        assert snap.retriever("keyword").search("cancer", 100, None) == before
        assert len(snap.ids(range(1, 100))) == 20
    with pg.snapshot() as snap:
        assert len(snap.ids(range(1, 100))) == 39
    assert len(pg) == 39
    writer.close()
    pg.delete_collection()


def test_one_writer_at_a_time_and_readers_meanwhile(pg_url):
    name = _name()
    first = create_collection(name, backend=pg_url, encoder=None)
    first.add(_scifact(5))
    second = open_collection(name, backend=pg_url)
    with pytest.raises(CollectionConflict, match="another process is writing"):
        second.add(_scifact(6)[5:])
    assert len(second.search("cells", mode="keyword").hits) > 0
    first.close()  # the lock goes with the connection
    second.add(_scifact(6)[5:])
    assert len(second) == 6
    second.delete_collection()


def test_a_lost_connection_rolls_the_batch_back_and_keeps_the_rest(pg_url):
    docs = _scifact(30)
    name = _name()
    col = create_collection(name, backend=pg_url, encoder=None)
    killer = psycopg.connect(pg_url, autocommit=True)

    def stream():
        for i, doc in enumerate(docs):
            if i == 20:  # the writer has committed two batches of 10; end its connection now
                pid = col._writer_conn.info.backend_pid
                killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
            yield doc

    with pytest.raises(BackendError, match=r"lost while writing documents 21-30.*the 20 before it are committed"):
        col.add(stream(), batch_size=10)
    killer.close()
    again = open_collection(name, backend=pg_url)
    assert len(again) == 20 and {d.id for d in again.documents()} == {d.id for d in docs[:20]}
    report = again.upsert(docs, batch_size=10)  # the hint: the same command with --upsert
    assert (report.added, report.replaced, len(again)) == (10, 20, 30)
    again.delete_collection()


def test_the_encoder_rule_holds(pg_url):
    name = _name()
    col = create_collection(name, backend=pg_url)
    col.add(_scifact(3))
    with pytest.raises(CollectionError, match="built with encoder"):
        open_collection(name, backend=pg_url, encoder="BAAI/bge-small-en-v1.5")
    keyword_only = create_collection(_name(), backend=pg_url, encoder=None)
    with pytest.raises(InputError, match="has no vectors"):
        keyword_only.search("cells", mode="dense")
    keyword_only.delete_collection()
    col.delete_collection()


def test_bad_input_is_refused_before_anything_is_written(pg_url):
    col = create_collection(_name(), backend=pg_url, encoder=None)
    col.add([Document("a", "first")])
    with pytest.raises(InputError, match="NUL character"):
        col.add([Document("b", "fine"), Document("c", "bad\x00text")])
    with pytest.raises(CollectionConflict, match="already in collection"):
        col.add([Document("a", "again")])
    with pytest.raises(InputError, match="duplicate ids within one batch"):
        col.add([Document("d", "x"), Document("d", "y")])
    assert [d.id for d in col.documents()] == ["a"]
    with pytest.raises(InputError, match="invalid collection name"):
        create_collection("no spaces; or quotes'", backend=pg_url)
    with pytest.raises(CollectionConflict, match="already exists"):
        create_collection(col.name, backend=pg_url)
    with pytest.raises(CollectionNotFound, match="no collection 'missing'"):
        open_collection("missing", backend=pg_url)
    with pytest.raises(InputError, match="not one PostgreSQL offers"):
        create_collection(_name(), backend=pg_url, vector_index="int8")
    with pytest.raises(InputError, match=r"unknown backend .mysql://\.\.\.."):
        open_collection("x", backend="mysql://host/db")
    col.delete_collection()


def test_unreachable_server_and_missing_rights_are_clear(pg_server, pg_url, tmp_path):
    with pytest.raises(BackendError, match="cannot connect to PostgreSQL at postgresql://postgres@") as err:
        open_collection("x", backend=f"postgresql://postgres:secret@/postgres?host={tmp_path}")
    assert "secret" not in str(err.value) and "check the host, port" in err.value.hint
    # a database whose owner may not enable pgvector (not a trusted extension)
    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute("CREATE ROLE plain LOGIN")
    admin.execute("CREATE DATABASE plaindb OWNER plain")
    admin.close()
    plain = pg_url.replace("postgresql://postgres:@/postgres", "postgresql://plain@/plaindb")
    with pytest.raises(BackendError, match=r"pgvector is installed .* but not enabled") as err:
        create_collection("x", backend=plain)
    assert "CREATE EXTENSION vector" in err.value.hint


def test_tables_of_another_version_are_refused(pg_url):
    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute("CREATE DATABASE otherdb")
    admin.close()
    other = pg_url.replace("/postgres?", "/otherdb?")
    with psycopg.connect(other, autocommit=True) as conn:
        conn.execute("CREATE TABLE textlens_collections (name text, data bytea)")
    with pytest.raises(BackendError, match=r"was not made by this textlens.*data, name"):
        create_collection("x", backend=other)
    name = _name()
    create_collection(name, backend=pg_url, encoder=None).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE textlens_collections SET format_version = 99 WHERE name = %s", (name,))
    with pytest.raises(BackendError, match="format version 99; this textlens reads up to 1"):
        open_collection(name, backend=pg_url)


def test_fieldnorm_is_tantivys_one_byte_length():
    assert [fieldnorm(n) for n in (0, 1, 23, 24, 31, 32, 40, 41, 55, 56, 100, 1000)] == [
        0, 1, 23, 24, 31, 32, 40, 40, 54, 56, 96, 984
    ]  # fmt: skip
    values = sorted({fieldnorm(n) for n in range(100_000)})
    assert len(values) < 256 and all(fieldnorm(v) == v for v in values)


def test_the_cli_and_the_rest_api_work_on_postgresql(pg_url, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from textlens.cli import app
    from textlens.server import ServerSettings, create_app

    monkeypatch.setenv("TEXTLENS_BACKEND", "local")  # unset again after: --backend sets it for the process
    corpus = tmp_path / "docs.jsonl"
    rows = [
        {"id": "a", "text": "Solar panels convert sunlight into electricity.", "title": "Solar", "year": 2001},
        {"id": "b", "text": "Wind turbines spin in strong wind.", "title": "Wind", "year": 2010},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    name = _name()
    run = CliRunner().invoke
    done = run(app, ["index", str(corpus), "-c", name, "--no-encoder", "--backend", pg_url, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["documents"] == 2
    assert not (tmp_path / "home" / "collections" / name).exists()
    found = run(app, ["search", "wind power", "-c", name, "-m", "keyword", "--backend", pg_url, "--json"])
    assert [h["doc_id"] for h in json.loads(found.stdout)["hits"]] == ["b"]
    listed = json.loads(run(app, ["collections", "list", "--backend", pg_url, "--json"]).stdout)
    assert {"name": name, "documents": 2} in [{k: c[k] for k in ("name", "documents")} for c in listed]
    info = json.loads(run(app, ["collections", "info", name, "--backend", pg_url, "--json"]).stdout)
    assert info["backend"].startswith("postgresql://postgres@") and info["fields"] == ["year"]

    monkeypatch.setenv("TEXTLENS_BACKEND", pg_url)  # the server's configuration (textlens serve --backend URL)
    settings = ServerSettings(api_key="k", preload=False, search_workers=0)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        body = {"documents": [{"id": "c", "text": "Hydroelectric dams store water.", "title": "Hydro"}]}
        added = client.post(f"/api/collections/{name}/documents", json=body, headers={"X-API-Key": "k"})
        assert added.status_code == 200, added.text
        hits = client.post(f"/api/collections/{name}/search", json={"query": "water dams", "mode": "keyword"})
        assert [h["doc_id"] for h in hits.json()["hits"]] == ["c"]
        assert name in [c["name"] for c in client.get("/api/collections").json()]
    dump = tmp_path / "dump.jsonl"
    out = run(app, ["collections", "export", name, str(dump), "--backend", pg_url, "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["written"] == 3, out.output
    back = run(app, ["collections", "import", str(dump), str(tmp_path / "here"), "--backend", "local", "--json"])
    assert back.exit_code == 0 and json.loads(back.stdout)["documents"] == 3, back.output
    assert open_collection(tmp_path / "here").search("water dams", mode="keyword").ids() == ["c"]
    gone = run(app, ["collections", "delete", name, "--yes", "--backend", pg_url])
    assert gone.exit_code == 0 and not collection_exists(name, backend=pg_url)


def test_export_and_import_move_a_collection_to_postgresql_and_back(pair, pg_url, tmp_path):
    from textlens.index.transfer import export_collection, import_collection

    local, _ = pair
    dump = tmp_path / "scifact.jsonl"
    report = export_collection(local.path, dump)
    assert (report["written"], report["vectors"]) == (300, True)
    lines = dump.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["encoder"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"

    # an export killed in the middle of a line: the cut line is dropped, the rest written once
    dump.write_text("\n".join(lines[:101]) + "\n" + lines[101][:40], encoding="utf-8")
    again = export_collection(local.path, dump)
    assert (again["already_there"], again["written"]) == (100, 200)
    ids = [json.loads(line)["id"] for line in dump.read_text(encoding="utf-8").splitlines()[1:]]
    assert sorted(ids) == sorted(d.id for d in local.documents())

    # an import stopped after 120 documents goes on from there; vectors come from the file
    name = _name()
    part = tmp_path / "part.jsonl"
    part.write_text("\n".join(dump.read_text(encoding="utf-8").splitlines()[:121]) + "\n", encoding="utf-8")
    first = import_collection(part, name, backend=pg_url)
    assert (first["added"], first["documents"], first["embedded"]) == (120, 120, 0)
    rest = import_collection(dump, name, backend=pg_url)
    assert (rest["added"], rest["already_there"], rest["documents"], rest["embedded"]) == (180, 120, 300, 0)
    moved = open_collection(name, backend=pg_url)
    for query in QUERIES[:3]:
        for mode in ("keyword", "dense", "hybrid"):
            assert moved.search(query, mode=mode).ids() == local.search(query, mode=mode).ids()

    # and back to this machine's folders
    back = tmp_path / "back.jsonl"
    export_collection(name, back, backend=pg_url)
    home = import_collection(back, tmp_path / "local-again")
    assert (home["documents"], home["embedded"], home["backend"]) == (300, 0, "local")
    moved.delete_collection()


def test_bad_export_files_are_named_by_line(pair, pg_url, tmp_path):
    from textlens.index.transfer import export_collection, import_collection

    local, _ = pair
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"id": "1", "text": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"plain.jsonl, line 1: not a textlens export"):
        import_collection(plain, _name(), backend=pg_url)
    with pytest.raises(InputError, match="holds something else than an export of collection"):
        export_collection(local.path, plain)
    dump = tmp_path / "dump.jsonl"
    export_collection(local.path, dump)
    lines = dump.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[5])
    broken = [*lines[:5], json.dumps({**row, "vector": row["vector"][:32]}), *lines[6:]]
    dump.write_text("\n".join(broken) + "\n", encoding="utf-8")
    name = _name()
    with pytest.raises(InputError, match=r"dump.jsonl, line 6: a vector of 6 numbers; the header's encoder has 384"):
        import_collection(dump, name, backend=pg_url, batch_size=2)
    partial = open_collection(name, backend=pg_url)
    assert len(partial) == 4  # the batches before line 6, whole
    dump.write_text("\n".join([*lines[:5], "{not json", *lines[6:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dump.jsonl, line 6: not a JSON line"):
        import_collection(dump, name, backend=pg_url)
    partial.delete_collection()
