"""Readers and chunkers on real files, including malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.shared import shared
from textlens.corpus import Chunker, FieldMap, ReadReport, read_documents, split_sentences
from textlens.corpus.document import Document
from textlens.errors import InputError


def test_jsonl_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": 1, "text": "one"}\n{"id": 2, "text": \n{"id": 3, "body": "x"}\n{"id": 4, "text": "four"}\n')
    with pytest.raises(InputError) as err:
        list(read_documents(path))
    assert f"{path}:2" in err.value.message and "--on-error skip" in err.value.hint
    report = ReadReport()
    docs = list(read_documents(path, on_error="skip", report=report))
    assert [d.id for d in docs] == ["1", "4"]
    assert report.skipped == 2 and report.problems[1].startswith(f"{path}:3: no text field 'text'")


def test_field_mapping_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"uid": "a", "body": "hello", "name": "T", "year": 2001, "lang": "en"}) + "\n")
    (doc,) = read_documents(path, fields=FieldMap(id="uid", text="body", title="name", metadata=["year"]))
    assert (doc.id, doc.text, doc.title, doc.metadata) == ("a", "hello", "T", {"year": 2001})
    (doc,) = read_documents(path, fields=FieldMap(id="uid", text="body", title="name"))
    assert doc.metadata == {"year": 2001, "lang": "en"}


def test_csv_and_tsv(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text('id,text,topic\n1,"hello, world",a\n2,second,b\n3,too,many,cells\n')
    with pytest.raises(InputError, match=r"docs.csv:4"):
        list(read_documents(path))
    docs = list(read_documents(path, on_error="skip"))
    assert [(d.id, d.text, d.metadata) for d in docs] == [
        ("1", "hello, world", {"topic": "a"}),
        ("2", "second", {"topic": "b"}),
    ]


def test_gzipped_jsonl_and_tsv(tmp_path: Path) -> None:
    import gzip

    with gzip.open(tmp_path / "docs.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write('{"id": "a", "text": "one"}\n{"id": "b", "text": "två"}\n')
    assert [d.text for d in read_documents(tmp_path / "docs.jsonl.gz")] == ["one", "två"]
    with gzip.open(tmp_path / "docs.tsv.gz", "wt", encoding="utf-8") as fh:
        fh.write("id\ttext\nx\ta, b\n")
    assert [(d.id, d.text) for d in read_documents(tmp_path / "docs.tsv.gz")] == [("x", "a, b")]
    (tmp_path / "broken.jsonl.gz").write_bytes(gzip.compress(b'{"id": 1, "text": "ok"}\n{"id": 2\n'))
    with pytest.raises(InputError, match=r"broken.jsonl.gz:2"):
        list(read_documents(tmp_path / "broken.jsonl.gz"))


def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"id": ["x", "y"], "text": ["alpha", "beta"], "n": [1, 2]}), path)
    assert [(d.id, d.metadata) for d in read_documents(path)] == [("x", {"n": 1}), ("y", {"n": 2})]


def test_folder_skips_binary_and_reports_bad_utf8(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title A\n\nBody.")
    (tmp_path / "b.txt").write_bytes(b"ok\n\xff bad")
    (tmp_path / "c.txt").write_bytes(b"\x00\x01binary")
    (tmp_path / "d.png").write_bytes(b"\x89PNG")
    report = ReadReport()
    docs = list(read_documents(tmp_path, on_error="skip", report=report))
    assert [(d.id, d.title) for d in docs] == [("a.md", "Title A")]
    assert any("b.txt:2" in p for p in report.problems)
    assert any("c.txt: skipped: binary" in p for p in report.problems)
    assert any("d.png" in p for p in report.problems)


def test_beir_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"corpus\.jsonl is missing"):
        list(read_documents(tmp_path, format="beir"))
    scifact = shared("data/beir/scifact")
    docs = list(read_documents(scifact))
    assert len(docs) == 5183 and docs[0].id == "4983" and docs[0].title.startswith("Microstructural")


def test_wikipedia_from_data_dir(monkeypatch) -> None:
    shared("data/wikipedia/vital_articles_en.jsonl")
    monkeypatch.setenv("TEXTLENS_DATA", str(shared("data/wikipedia")))
    docs = list(read_documents("wikipedia"))
    assert len(docs) == 10033
    assert set(docs[0].metadata) == {"description", "topic"}


def test_missing_path_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_documents(tmp_path / "nope.jsonl")
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(InputError, match="--format"):
        read_documents(tmp_path / "x.bin")


TEXT = (
    "Dr. Smith arrived at 9 a.m. in the U.S. He was late! Was he tired? Yes.\n\n"
    "Second paragraph here. It has two sentences.\n\n自然语言处理很有趣。它很重要。"
)


def test_sentences_and_paragraphs() -> None:
    sents = split_sentences(TEXT)
    assert sents[0] == "Dr. Smith arrived at 9 a.m. in the U.S. He was late!"
    assert "Was he tired?" in sents and "自然语言处理很有趣。" in sents
    chunks = Chunker("paragraph").chunk(Document("d", TEXT, "Title"))
    assert [c.id for c in chunks] == ["d#0", "d#1", "d#2"] and all(c.parent == "d" for c in chunks)
    merged = Chunker("sentence", size=60).chunk(Document("d", TEXT))
    assert all(len(c.text) <= 60 or " " not in c.text for c in merged)


def test_token_windows_overlap_and_title_prefix(shared_tokenizers) -> None:
    text = " ".join(f"word{i}" for i in range(300))
    chunker = Chunker("tokens", size=50, overlap=10, tokenizer="gpt-4", title_prefix=True)
    chunks = chunker.chunk(Document("doc", text, "My Title", {"k": 1}))
    assert len(chunks) > 5
    assert all(c.text.startswith("My Title\n") and c.metadata == {"k": 1} for c in chunks)
    bodies = [c.text.split("\n", 1)[1] for c in chunks]
    assert all(b in text for b in bodies)  # windows are slices of the original
    assert bodies[0].split()[-1] in bodies[1]  # consecutive windows overlap
    assert bodies[-1].endswith("word299")


def test_bad_chunker_settings() -> None:
    with pytest.raises(InputError):
        Chunker("tokens", size=10, overlap=10)
    with pytest.raises(InputError):
        Chunker("words")  # type: ignore[arg-type]
