"""Collections: add, upsert, delete, filters, CJK, bad input, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from textlens.corpus import Document
from textlens.errors import ConflictingInput, InputError, TextlensError
from textlens.index import CollectionBase, CollectionConflict, CollectionError, create_collection, open_collection

DOCS = [
    Document("1", "The quick brown fox jumps over the lazy dog.", "Fox", {"year": 1990, "topic": "animals"}),
    Document("2", "Running shoes help runners run faster.", "Shoes", {"year": 2005, "topic": "sport"}),
    Document("3", "A dog is a loyal companion.", "Dogs", {"year": 2010, "topic": "animals"}),
    Document("4", "自然语言处理是人工智能的一个分支。", "中文", {"year": 2020, "topic": "ai"}),
    Document("5", "日本語の自然言語処理はとても面白いです。", "日本語", {"year": 2021, "topic": "ai"}),
    Document("6", "자연어 처리는 인공지능의 한 분야입니다.", "한국어", {"year": 2022, "topic": "ai"}),
]


@pytest.fixture
def col(tmp_path: Path) -> CollectionBase:
    c = create_collection(tmp_path / "col", encoder=None)
    c.add(DOCS)
    yield c
    c.close()


def test_keyword_search_stems_and_explains(col: CollectionBase) -> None:
    res = col.search("runs", mode="keyword")
    assert res.ids() == ["2"]
    hit = res.hits[0]
    assert hit.matched_terms == ["run"]
    assert [hit.text[a:b] for a, b in hit.highlights] == ["Running", "run"]  # "runners" stems to "runner"
    assert col.search("the", mode="keyword").ids() == []  # stop word


@pytest.mark.parametrize(("query", "expected"), [("语言处理", "4"), ("自然言語", "5"), ("자연어", "6")])
def test_cjk_queries_find_hits(col: CollectionBase, query: str, expected: str) -> None:
    assert col.search(query, mode="keyword").ids()[0] == expected


def test_filters_equality_ranges_sets(col: CollectionBase) -> None:
    assert col.search("dog", mode="keyword", filters={"topic": "animals"}).ids() == ["3", "1"]
    assert col.search("dog", mode="keyword", filters={"year": {"gte": 2000}}).ids() == ["3"]
    assert col.search("dog", mode="keyword", filters={"year": {"in": [1990]}}).ids() == ["1"]
    with pytest.raises(InputError) as err:
        col.search("dog", mode="keyword", filters={"colour": "red"})
    assert "unknown filter field 'colour'" in err.value.message and "topic, year" in err.value.hint


def test_upsert_replaces_and_delete_removes(col: CollectionBase) -> None:
    with pytest.raises(CollectionConflict, match="already in collection"):
        col.add([Document("1", "again")])
    report = col.upsert([Document("1", "A cat sleeps all day.", "Cat")])
    assert (report.added, report.replaced) == (0, 1)
    assert col.search("fox", mode="keyword").ids() == []
    assert col.search("cat", mode="keyword").ids() == ["1"]
    assert len(col) == 6
    assert col.delete(["1", "missing"]) == 1
    assert len(col) == 5 and col.search("cat", mode="keyword").ids() == []
    # deleted keys stay in the keyword index (searches drop them) until the next write purges them
    assert col.store.tombstones() == [7]
    col.add([Document("z", "A zebra.")])
    assert col.store.tombstones() == []
    assert col.keyword.num_docs() == len(col)  # replaced and deleted keys really left the keyword index


def test_deleting_a_parent_removes_its_chunks(tmp_path: Path) -> None:
    with create_collection(tmp_path / "c", encoder=None) as c:
        c.add(
            [
                Document("a#0", "first part", parent="a"),
                Document("a#1", "second part", parent="a"),
                Document("b", "other part"),
            ]
        )
        assert c.delete(["a"]) == 2
        assert c.search("part", mode="keyword").ids() == ["b"]


def test_group_by_document(tmp_path: Path) -> None:
    with create_collection(tmp_path / "c", encoder=None) as c:
        c.add(
            [
                Document("a#0", "apple pie", parent="a"),
                Document("a#1", "apple tart apple", parent="a"),
                Document("b", "apple"),
            ]
        )
        flat = c.search("apple", mode="keyword")
        res = c.search("apple", mode="keyword", group_by_document=True)
        assert len(flat) == 3
        best_a = next(h.doc_id for h in flat if h.document == "a")
        assert sorted(h.document for h in res) == ["a", "b"] and [h.rank for h in res] == [1, 2]
        assert best_a in res.ids()


def test_bad_batches(tmp_path: Path) -> None:
    with create_collection(tmp_path / "c", encoder=None) as c:
        with pytest.raises(ConflictingInput, match="duplicate ids within one batch: x"):  # a 409 over REST
            c.add([Document("x", "one"), Document("x", "two")])
        assert len(c) == 0
        # an upsert is its documents written in turn: the later copy wins, the earlier one counts as replaced
        report = c.upsert([Document("x", "one"), Document("y", "why"), Document("x", "two")])
        assert (report.added, report.replaced) == (2, 1) and c.get("x").text == "two"
        c.delete(["x", "y"])
        report = c.add([Document("e1", ""), Document("e2", "  \n\t"), Document("ok", "fine")])
        assert report.skipped_empty == ["e1", "e2"] and report.added == 1
        assert len(c) == 1


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"n": 2**64}, r"metadata\.n is an integer outside the signed 64-bit range"),
        ({"a": {"b": [1, float("nan")]}}, r"metadata\.a\.b\[1\] is nan"),
        ({"when": object()}, r"metadata\.when is a object"),
    ],
)
def test_metadata_json_cannot_hold_is_refused_before_anything_is_written(tmp_path, metadata, message) -> None:
    """Found by schemathesis: an integer past 64 bits was stored, then every search that returned it failed."""
    with create_collection(tmp_path / "c", encoder=None) as c:
        c.add([Document("kept", "already here", metadata={"n": 2**63 - 1})])
        with pytest.raises(InputError, match="document 'bad': " + message):
            c.add([Document("fine", "new text"), Document("bad", "bad text", metadata=metadata)])
        assert len(c) == 1 and c.search("here", mode="keyword").hits[0].metadata == {"n": 2**63 - 1}


@pytest.mark.slow
def test_a_50_mb_document(tmp_path: Path) -> None:
    words = " ".join(f"token{i % 50000}" for i in range(6_000_000))
    assert len(words) > 50_000_000
    with create_collection(tmp_path / "c", encoder=None) as c:
        c.add([Document("big", words + " needle"), Document("small", "haystack")])
        assert c.search("needle", mode="keyword").ids() == ["big"]


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="no collection"):
        open_collection(tmp_path / "missing")
    path = tmp_path / "c"
    create_collection(path, encoder=None).close()
    manifest = json.loads((path / "collection.json").read_text())
    (path / "collection.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(CollectionError, match="format version 99"):
        open_collection(path)
    (path / "collection.json").write_text("{not json")
    with pytest.raises(CollectionError, match="corrupt"):
        open_collection(path)
    (path / "collection.json").write_text(json.dumps(manifest))
    (path / "docs.sqlite").write_bytes(b"this is not a database" * 100)
    for extra in ("docs.sqlite-wal", "docs.sqlite-shm"):
        (path / extra).unlink(missing_ok=True)
    with pytest.raises(CollectionError, match="corrupt"):
        open_collection(path)
    with pytest.raises(CollectionError, match="already exists"):
        create_collection(path, encoder=None)
    with pytest.raises(InputError, match="invalid collection name"):
        create_collection("bad name!", encoder=None)


def test_collection_names_live_under_home(tmp_path: Path, monkeypatch) -> None:
    from textlens.index import list_collections

    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with create_collection("notes", encoder=None) as c:
        c.add(DOCS[:2])
    assert (tmp_path / "collections/notes/collection.json").is_file()
    assert [(x["name"], x["documents"]) for x in list_collections()] == [("notes", 2)]


WRITER = """
import sys
from textlens.corpus import Document
from textlens.index import open_collection
col = open_collection(sys.argv[1])
n = 0
while True:
    col.add([Document(f"d{n + i}", f"passage number {n + i} about topic {i % 7}") for i in range(50)])
    n += 50
    print(n, flush=True)
"""


def test_sigkill_leaves_the_last_committed_state(tmp_path: Path) -> None:
    path = tmp_path / "c"
    create_collection(path, encoder=None).close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    seen = []
    reader = open_collection(path)
    deadline = time.time() + 60
    while time.time() < deadline and (not seen or int(seen[-1]) < 400):
        seen.append(proc.stdout.readline().strip())
        count = len(reader)
        assert count % 50 == 0  # a reader never sees half a batch
        hits = reader.search("passage", mode="keyword", k=20)
        assert all(h.text.startswith("passage number") for h in hits)
    time.sleep(0.05 * (os.getpid() % 5))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.close()
    with open_collection(path) as col:
        count = len(col)
        assert count % 50 == 0 and count >= int(seen[-1])
        col.add([Document("after", "written after the crash")])
        assert col.search("crash", mode="keyword").ids() == ["after"]
        assert col.keyword.num_docs() == count + 1  # nothing half-written left in the keyword index


def test_threads_search_while_one_writes(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with create_collection(tmp_path / "c", encoder=None) as col:
        col.add(DOCS)

        def write() -> None:
            for n in range(20):
                col.add([Document(f"w{n}-{i}", f"written passage {n}") for i in range(10)])

        def read(_: int) -> list[int]:
            # each search sees whole batches: the count of written passages is a multiple of 10
            return [len(col.search("written", mode="keyword", k=500)) for _ in range(30)]

        with ThreadPoolExecutor(4) as pool:
            writer = pool.submit(write)
            readers = list(pool.map(read, range(3)))
            writer.result()
        assert len(col) == len(DOCS) + 200
        for counts in readers:  # whole batches only, and a reader never sees a batch disappear
            assert all(c % 10 == 0 for c in counts) and counts == sorted(counts)
        assert len(col.search("written", mode="keyword", k=500)) == 200


def test_closing_in_one_thread_leaves_other_threads_connections_alone(tmp_path: Path) -> None:
    import threading

    col = create_collection(tmp_path / "c", encoder=None)
    col.add(DOCS)
    inside, closed, results = threading.Event(), threading.Event(), []

    def reader() -> None:
        with col.store.snapshot() as db:  # this thread's connection, mid-transaction
            inside.set()
            closed.wait(10)
            results.append(db.execute("SELECT count(*) FROM docs").fetchone()[0])

    thread = threading.Thread(target=reader)
    thread.start()
    inside.wait(10)
    col.close()  # from the main thread
    closed.set()
    thread.join(10)
    assert results == [len(DOCS)]
    with pytest.raises(TextlensError, match="closed"):
        len(col)


def test_a_reader_process_sees_another_process_writes(tmp_path: Path) -> None:
    """Found by benchmarks/reliability.py: a reader that is not the writer must reload the keyword index."""
    path = tmp_path / "c"
    with create_collection(path, encoder=None) as col:
        col.add([Document("a", "first version of the note")])
    reader = open_collection(path)
    assert reader.search("version", mode="keyword").ids() == ["a"]
    code = (
        "import sys; from textlens.index import open_collection; from textlens.corpus import Document\n"
        "with open_collection(sys.argv[1]) as c:\n"
        "    c.upsert([Document('a', 'second version')])\n"
        "    c.add([Document('b', 'version b')])\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    hits = reader.search("version", mode="keyword").hits
    assert sorted(h.doc_id for h in hits) == ["a", "b"] and {h.text for h in hits} == {"second version", "version b"}
    reader.close()
