"""A model's name is read in one place (textlens.models.resolve): every form a user writes gives one ModelRef,
and the encoders, the LLM runtime, the trainers and the inside tools take it as it is."""

from __future__ import annotations

import doctest
import json
import shutil

import pytest

import textlens.models.ref
import textlens.options
from textlens.config import DEFAULT_ENCODER
from textlens.embed import get_encoder
from textlens.errors import AssetError, InputError
from textlens.models import ModelRef, resolve


def test_the_forms_a_user_writes():
    minilm = resolve("all-MiniLM-L6-v2")
    assert (minilm.kind, minilm.name, minilm.int8, minilm.max_length) == ("encoder", DEFAULT_ENCODER, False, None)
    assert minilm.path is not None and (minilm.path / "config.json").is_file()  # the packaged folder
    assert resolve("minilm").path == minilm.path and resolve("minilm:int8").name == DEFAULT_ENCODER + ":int8"
    cut = resolve("all-MiniLM-L6-v2@32:int8")
    assert (cut.name, cut.max_length, cut.int8) == (DEFAULT_ENCODER + "@32:int8", 32, True)
    assert cut.target == str(minilm.path)
    assert resolve("org/some-model@64").target == "org/some-model"  # a Hub id, for online users
    served = resolve("openai:http://127.0.0.1:8080/v1#qwen")
    assert (served.kind, served.url, served.served, served.path) == ("openai", "http://127.0.0.1:8080/v1", "qwen", None)
    assert resolve("openai:http://host/v1").name == "openai:http://host/v1#default"
    assert resolve("hf:org/repo/file.gguf").kind == "hf"
    llm = resolve("smollm2-135m")
    assert llm.kind == "llm" and llm.entry.name == "smollm2-135m"
    nomic = resolve("nomic-embed-text-v1.5@256")
    assert (nomic.kind, nomic.name, nomic.max_length) == ("gguf-encoder", "nomic-embed-text-v1.5", 256)
    assert resolve("./weights/model.GGUF").kind == "gguf"
    assert resolve(minilm) is minilm


def test_folders_are_checked_once_where_they_are_named(tmp_path):
    folder = tmp_path / "my-encoder"
    shutil.copytree(resolve(DEFAULT_ENCODER).target, folder)
    ref = resolve(str(folder))
    assert ref.kind == "encoder" and ref.name == str(folder.resolve()) and ref.path == folder.resolve()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "modules.json").unlink()
    (folder / "config.json").write_text(json.dumps({**config, "architectures": ["BertForSequenceClassification"]}))
    with pytest.raises(AssetError, match="is a cross-encoder"):
        resolve(str(folder))
    with pytest.raises(AssetError, match="not a model folder"):
        resolve(str(tmp_path))


def test_consumers_take_the_reference_resolved():
    ref = resolve("all-MiniLM-L6-v2")
    encoder = get_encoder(ref)
    assert encoder is get_encoder("all-MiniLM-L6-v2") and encoder.name == ref.name
    with pytest.raises(InputError, match="is a language model"):
        get_encoder("openai:http://127.0.0.1:9/v1")
    missing = ModelRef("x", "llm", "x", entry=resolve("smollm2-135m").entry)
    with pytest.raises(AssetError, match="textlens models pull smollm2-135m"):
        missing.require_path()


@pytest.mark.parametrize("module", [textlens.models.ref, textlens.options])
def test_the_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
