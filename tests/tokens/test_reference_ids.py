"""Every named tokenizer gives exactly the ids its model uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_TOKENIZERS
from textlens.tokens import get_tokenizer
from textlens.tokens.gguf_vocab import load_gguf
from textlens.tokens.registry import names, spec

# manifest names that differ from textlens registry names
MANIFEST_NAMES = {"mistral-7b-v0.1": "mistral-v0.1"}
SEPARATOR = "\n__ggml_vocab_test__\n"


def test_manifest_check_ids(manifest: dict) -> None:
    checked = 0
    for entry in manifest["tokenizers"]:
        if "check" not in entry:
            continue
        name = MANIFEST_NAMES.get(entry["name"], entry["name"])
        assert get_tokenizer(name).encode(entry["check"]["text"]) == entry["check"]["ids"], name
        checked += 1
    assert checked >= 11


@pytest.mark.parametrize("inp", sorted(SHARED_TOKENIZERS.glob("gguf/*.gguf.inp")), ids=lambda p: p.name)
def test_llama_cpp_vectors(inp: Path, shared_tokenizers: Path) -> None:
    """llama.cpp's test-tokenizer-0 vectors, reproduced 100% (no special tokens added)."""
    gguf = inp.with_suffix("")
    tok = load_gguf(gguf, name=gguf.name, source="test")
    texts = inp.read_text(encoding="utf-8").split(SEPARATOR)
    expected = gguf.with_name(gguf.name + ".out").read_text(encoding="utf-8").split("\n")
    assert len(expected) >= len(texts) > 40
    failures = [
        (text, want, got)
        for text, line in zip(texts, expected, strict=False)
        if (got := tok.encode(text, add_special_tokens=False)) != (want := [int(x) for x in line.split()])
    ]
    assert failures == []


def test_vectors_were_found(shared_tokenizers: Path) -> None:
    assert len(list(shared_tokenizers.glob("gguf/*.gguf.inp"))) >= 10


@pytest.mark.parametrize("name", names())
def test_every_name_loads_with_its_vocab_size(name: str, shared_tokenizers: Path) -> None:
    tok = get_tokenizer(name)
    assert tok.vocab_size == spec(name).vocab_size
    assert len(tok.token_bytes) >= tok.vocab_size


SPECIALS = {
    "llama-2": ["<s>"],
    "llama-3": ["<|begin_of_text|>"],
    "mistral-v0.1": ["<s>"],
    "mistral-v0.3": ["<s>"],
    "phi-3": ["<s>"],
    "gemma-3": ["<bos>"],
    "deepseek-coder": ["<｜begin▁of▁sentence｜>"],
    "bert-base-uncased": ["[CLS]", "[SEP]"],
    "gpt2": [],
    "gpt-4": [],
    "gpt-4o": [],
    "qwen3": [],
    "starcoder2": [],
    "claude-legacy": [],
    "falcon": [],
}


@pytest.mark.parametrize(("name", "added"), SPECIALS.items())
def test_special_tokens_added_like_hugging_face(name: str, added: list[str], shared_tokenizers: Path) -> None:
    tok = get_tokenizer(name)
    with_specials = tok.encode("hello world")
    without = tok.encode("hello world", add_special_tokens=False)
    extra = [tok.token_bytes[i].decode() for i in with_specials if i not in without]
    assert extra == added
    assert all(i in tok.special_ids for i in with_specials if i not in without)


@pytest.mark.parametrize("name", ["gpt-4", "llama-2", "phi-3", "bert-base-uncased", "qwen3"])
def test_special_token_text_is_parsed_as_special(name: str, shared_tokenizers: Path) -> None:
    tok = get_tokenizer(name)
    marker = {
        "gpt-4": "<|endoftext|>",
        "llama-2": "</s>",
        "phi-3": "<|end|>",
        "bert-base-uncased": "[SEP]",
        "qwen3": "<|im_end|>",
    }[name]
    ids = tok.encode(f"a{marker}b", add_special_tokens=False)
    assert any(i in tok.special_ids and tok.token_bytes[i].decode() == marker for i in ids)
