"""Corpus statistics stream, count exactly, and report bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared import shared
from textlens.errors import InputError
from textlens.tokens import corpus_stats, get_tokenizer
from textlens.tokens.stats import BLOCK_BYTES


def _corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.txt").write_text("Hello world.\n\nSecond paragraph here.\n", encoding="utf-8")
    (root / "b.md").write_text("# Title\n\n自然语言处理\n", encoding="utf-8")
    (root / "empty.txt").write_text("", encoding="utf-8")
    (root / "bad.txt").write_bytes(b"caf\xe9 au lait\nline two \xff\xfe end\n")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "blob.txt").write_bytes(b"abc\x00\x01\x02binary")
    rows = [{"text": "first record"}, {"text": "second record"}, {"title": "no text"}]
    (root / "docs.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    return root


def test_folder_counts_documents_and_reports_problems(tmp_path: Path, shared_tokenizers) -> None:
    gpt4 = get_tokenizer("gpt-4")
    result = corpus_stats(_corpus(tmp_path), [gpt4, get_tokenizer("bert-base-uncased")])
    # a.txt, b.md, empty.txt, bad.txt + 2 JSONL records
    assert result.documents == 6
    invalid = {Path(b.file).name: b for b in result.invalid_utf8}
    assert invalid["bad.txt"].count == 3
    assert invalid["bad.txt"].first[0] == {"line": 1, "byte": 3}
    assert invalid["bad.txt"].first[1]["line"] == 2
    skipped = {
        Path(k.split(":")[0]).name + (":" + k.split(":")[1] if ":" in k else ""): v for k, v in result.skipped.items()
    }
    assert "binary" in skipped["blob.txt"] and "suffix" in skipped["image.png"]
    assert skipped["docs.jsonl:3"] == "no field 'text'" and skipped["docs.jsonl:4"] == "invalid JSON"
    g = result.tokenizers[0]
    assert g.per_document["min"] == 0  # the empty file
    assert g.tokens == sum(
        len(gpt4.encode(t))
        for t in [
            "Hello world.\n\nSecond paragraph here.\n",
            "# Title\n\n自然语言处理\n",
            "",
            "caf\ufffd au lait\nline two \ufffd\ufffd end\n",
            "first record",
            "second record",
        ]
    )
    bert = result.tokenizers[1]
    assert bert.per_document["min"] == 2  # [CLS] [SEP] of the empty document
    assert "Han" in g.by_script and "Latin" in g.by_script


def test_missing_and_empty_paths(tmp_path: Path, shared_tokenizers) -> None:
    with pytest.raises(InputError, match="does not exist"):
        corpus_stats(tmp_path / "nope", [get_tokenizer("gpt-4")])
    (tmp_path / "only.bin").write_bytes(b"\x00")
    with pytest.raises(InputError, match="holds no text documents"):
        corpus_stats(tmp_path, [get_tokenizer("gpt-4")])


def _big_text(target: int) -> str:
    path = shared("data/wikipedia/vital_articles_en.jsonl")
    paras = [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    text, size = [], 0
    for p in paras:
        text.append(p + "\n\n")
        size += len(p.encode()) + 2
        if size > target:
            break
    return "".join(text)


def test_block_boundaries_do_not_change_counts(tmp_path: Path, shared_tokenizers) -> None:
    """A 3 MB file is read in 1 MB blocks; counts equal encoding the whole text."""
    text = _big_text(3 * BLOCK_BYTES)
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    toks = [get_tokenizer("gpt-4"), get_tokenizer("llama-2")]
    result = corpus_stats(path, toks, num_threads=2)
    assert result.tokenizers[0].tokens == len(toks[0].encode(text))
    whole = len(toks[1].encode(text))
    assert abs(result.tokenizers[1].tokens - whole) / whole < 1e-4


@pytest.mark.slow
def test_a_100_mb_file_streams_in_constant_memory(tmp_path: Path, shared_tokenizers) -> None:
    chunk = _big_text(1 << 20)
    path = tmp_path / "huge.txt"
    reps = (100 << 20) // len(chunk.encode()) + 1
    with path.open("w", encoding="utf-8") as fh:
        for _ in range(reps):
            fh.write(chunk)
    # VmHWM is this process's own peak RSS (ru_maxrss would include the forking parent's).
    code = (
        "import json,re,sys;from textlens.tokens import corpus_stats,get_tokenizer;"
        "r=corpus_stats(sys.argv[1],[get_tokenizer('gpt-4')],num_threads=2);"
        "hwm=int(re.search(r'VmHWM:\\s+(\\d+)',open('/proc/self/status').read()).group(1));"
        "print(json.dumps([r.tokenizers[0].tokens,hwm]))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    tokens, peak_kb = json.loads(out.stdout)
    assert tokens == reps * len(get_tokenizer("gpt-4").encode(chunk))
    assert path.stat().st_size > 100 << 20
    assert peak_kb < 400 * 1024, f"peak RSS {peak_kb / 1024:.0f} MB for a 100 MB file"
