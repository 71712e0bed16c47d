"""Training an image tower into all-MiniLM-L6-v2's space on real emoji (80 of them, two epochs at 32 pixels): the
folder it writes is an encoder that indexes, searches and labels pictures. Quality is measured in
benchmarks/images_emoji.py, not here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.shared import shared
from textlens.classify import EmbeddingClassifier
from textlens.cli import app
from textlens.collection import Collection
from textlens.corpus import FieldMap
from textlens.embed import get_encoder
from textlens.embed.images import CONFIG, ImageTowerEncoder
from textlens.errors import AssetError, Conflict, InputError
from textlens.train import train_image_text

runner = CliRunner()
FAST = {"epochs": 2, "image_size": 32, "batch_size": 16, "dev_fraction": 0.25}


@pytest.fixture(scope="module")
def emoji(tmp_path_factory) -> dict[str, Path]:
    """80 emoji in both styles, each folder with its metadata.jsonl (name as text, category, subcategory)."""
    source = shared("data/images/emoji")
    rows = [json.loads(line) for line in (source / "emoji.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = rows[::24][:80]
    out = {}
    for style in ("google", "twitter"):
        folder = tmp_path_factory.mktemp(style)
        for row in rows:
            shutil.copy(source / style / row["image"], folder / row["image"])
        lines = [json.dumps({"file_name": r["image"], "text": r["name"], "category": r["category"]}) for r in rows]
        (folder / "metadata.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        out[style] = folder
    return out


@pytest.fixture(scope="module")
def model(emoji, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "emoji-tower"
    report = train_image_text(emoji["google"], out, keep_worse=True, **FAST)
    assert report.saved and report.kind == "image-text" and report.epochs_run == 2
    assert report.data == {"pairs": 80, "train": 60, "dev": 20, "captions": 80, "left_out": 0, "problems": []}
    assert report.dev_before is not None and report.dev_after is not None
    return out


def test_the_trained_folder_is_an_encoder_of_pictures_and_texts(model, emoji):
    enc = get_encoder(str(model))
    assert isinstance(enc, ImageTowerEncoder) and enc.reads_images
    text = get_encoder("all-MiniLM-L6-v2")
    assert enc.dim == text.dim == 384
    assert (enc.encode(["grinning face"]) == text.encode(["grinning face"])).all()  # the text side is unchanged
    vectors = enc.encode_images(sorted(emoji["twitter"].glob("*.png"))[:3])
    assert vectors.shape == (3, 384)
    config = json.loads((model / CONFIG).read_text())
    assert config["text_encoder"] == text.name and config["image_size"] == 32 and 0 < config["temperature"] < 1


def test_a_collection_of_the_other_style_is_searched_and_labelled_with_it(model, emoji, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with Collection.create("twemoji", encoder=str(model)) as col:
        assert col.add_path(emoji["twitter"]).added == 80
        hits = col.search("red heart", mode="dense", k=5).hits
        assert len(hits) == 5 and all(h.metadata["image"].startswith(str(emoji["twitter"])) for h in hits)
    categories = sorted({json.loads(line)["category"] for line in (emoji["twitter"] / "metadata.jsonl").open()})
    clf = EmbeddingClassifier.zero_shot(categories, encoder=str(model), templates=["an emoji of {}"])
    labels, _ = clf.predict_images(sorted(emoji["twitter"].glob("*.png")))
    assert len(labels) == 80 and set(labels) <= set(categories)
    out = runner.invoke(
        app,
        ["classify", "zero-shot", "--images", str(emoji["twitter"]), "--labels", ",".join(categories),
         "--encoder", str(model), "--template", "an emoji of {}", "--label-field", "category", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    report = json.loads(out.output.strip().splitlines()[-1])
    assert report["method"] == "zero-shot" and report["examples"] == 80 and 0 <= report["accuracy"] <= 1


def test_the_cli_trains_estimates_and_refuses_to_overwrite(model, emoji, tmp_path):
    estimate = runner.invoke(app, ["train", "image-text", str(emoji["google"]), "--estimate", "--image-size", "32",
                                   "--epochs", "1", "--json"])  # fmt: skip
    assert estimate.exit_code == 0, estimate.output
    assert json.loads(estimate.output.strip().splitlines()[-1])["estimate_seconds"] > 0
    with pytest.raises(Conflict, match="already exists"):
        train_image_text(emoji["google"], model, **FAST)
    bad = runner.invoke(app, ["train", "image-text", str(emoji["google"]), "-o", str(tmp_path / "m"),
                              "--image-size", "8"])  # fmt: skip
    assert bad.exit_code == 2 and "between 16 and 512 pixels" in bad.output


def test_a_tower_whose_size_differs_from_its_text_encoder_is_refused(model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(model, broken)
    config = json.loads((broken / CONFIG).read_text())
    (broken / CONFIG).write_text(json.dumps({**config, "dim": 512}))
    with pytest.raises(AssetError, match="512-dim vectors, its text encoder"):
        ImageTowerEncoder(broken)


def test_captions_name_the_text_field_and_a_caption_file(model, emoji, tmp_path):
    captions = tmp_path / "names.jsonl"
    rows = [json.loads(line) for line in (emoji["google"] / "metadata.jsonl").open()]
    captions.write_text("".join(json.dumps({"image": r["file_name"], "name": r["text"]}) + "\n" for r in rows))
    from textlens.corpus import read_documents

    docs = list(read_documents(emoji["google"], captions=captions, fields=FieldMap(text="name")))
    assert [d.text for d in docs[:2]] == [r["text"] for r in sorted(rows, key=lambda r: r["file_name"])[:2]]


def test_lora_tunes_the_text_encoder_too_and_the_folder_keeps_it(emoji, tmp_path):
    out = tmp_path / "tuned"
    report = train_image_text(emoji["google"], out, keep_worse=True, lora_rank=4, lora_targets=("query", "value"),
                              **FAST)  # fmt: skip
    assert report.saved and report.adapter_bytes > 0
    config = json.loads((out / CONFIG).read_text())
    assert config["text_encoder"] == "text" and (out / "text" / "lora").is_dir()
    enc = get_encoder(str(out))
    base = get_encoder("all-MiniLM-L6-v2")
    assert enc.text.name == str(out / "text") and enc.dim == 384
    assert not (enc.encode(["grinning face"]) == base.encode(["grinning face"])).all()  # the text side moved
    with pytest.raises(InputError, match="not found in the model"):
        train_image_text(emoji["google"], tmp_path / "x", lora_rank=4, lora_targets=("nope",), **FAST)
