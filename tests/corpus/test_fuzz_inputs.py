"""Arbitrary bytes into every reader and every tokenizer format: a documented error or a result, never a crash.

"Documented" means a :class:`~textlens.errors.TextlensError` (what, where, how to fix it); anything
else escaping (``UnicodeDecodeError``, ``KeyError``, a parser's own exception...) fails the test.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textlens.corpus import read_documents
from textlens.errors import TextlensError
from textlens.evaluate.data import beir_paths, load_qrels, load_queries

pytestmark = pytest.mark.slow

# bytes, and text that looks like the formats (JSON lines, tab- and comma-separated rows) with junk inside
json_lines = st.lists(
    st.one_of(
        st.dictionaries(
            st.sampled_from(["id", "_id", "text", "title", "query-id", "corpus-id", "score", "x"]),
            st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=2)),
            max_size=5,
        ),
        st.lists(st.integers(), max_size=3),
        st.text(max_size=20),
    ),
    max_size=6,
).map(lambda rows: "\n".join(json.dumps(r) for r in rows).encode())
cells = st.text(st.characters(exclude_characters="\t\n\r", exclude_categories=["Cs"]), max_size=8)
tsv = st.lists(st.lists(cells, max_size=4), max_size=6).map(lambda rows: "\n".join("\t".join(r) for r in rows).encode())
payloads = st.one_of(st.binary(max_size=3000), json_lines, tsv, tsv.map(lambda b: b.replace(b"\t", b",")))
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _consume(read) -> None:
    try:
        result = read()
        if hasattr(result, "__next__"):
            for _ in result:
                pass
    except TextlensError as exc:
        assert exc.message  # says what happened


@pytest.mark.parametrize("name", ["docs.jsonl", "docs.csv", "docs.tsv", "docs.jsonl.gz", "docs.parquet"])
@SETTINGS
@given(data=payloads)
def test_file_readers(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        for on_error in ("fail", "skip"):
            _consume(lambda on_error=on_error: read_documents(path, on_error=on_error))


@SETTINGS
@given(files=st.lists(st.tuples(st.sampled_from(["a.txt", "b.md", "c.rst", "d.bin"]), payloads), max_size=3))
def test_folder_reader(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files:
            (Path(tmp) / name).write_bytes(data)
        _consume(lambda: read_documents(tmp, format="folder"))


@SETTINGS
@given(corpus=payloads, queries=payloads, qrels=payloads)
def test_beir_folder_queries_and_qrels(corpus: bytes, queries: bytes, qrels: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "qrels").mkdir()
        (root / "corpus.jsonl").write_bytes(corpus)
        (root / "queries.jsonl").write_bytes(queries)
        (root / "qrels" / "test.tsv").write_bytes(qrels)
        _consume(lambda: read_documents(root, format="beir"))
        _consume(lambda: beir_paths(root, "test"))
        _consume(lambda: load_queries(root / "queries.jsonl"))
        for suffix in (".tsv", ".trec", ".jsonl", ".txt"):
            other = root / f"qrels{suffix}"
            other.write_bytes(qrels)
            _consume(lambda other=other: load_qrels(other))


@pytest.mark.parametrize("name", ["x.tiktoken", "tokenizer.json", "x.model", "vocab.txt", "x.gguf"])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.one_of(st.binary(max_size=2000), st.just(b"GGUF").map(lambda h: h + b"\x03\x00\x00\x00" + b"\x00" * 40)))
def test_tokenizer_formats(name: str, data: bytes) -> None:
    from textlens.tokens.registry import _load_path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)

        def load_and_use():
            tok = _load_path(path)
            tok.encode("hello wörld 👋")

        _consume(load_and_use)
