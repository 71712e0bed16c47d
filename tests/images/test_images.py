"""Pictures as documents: reading a folder safely, CLIP models (a tiny one built here, in the Hugging Face and the
sentence-transformers layouts), collections searched by text and by picture, zero-shot labels, and the CLI."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.shared import tiny_clip, tiny_siglip
from textlens.classify import EmbeddingClassifier
from textlens.cli import app
from textlens.collection import Collection
from textlens.corpus import ReadReport, read_documents
from textlens.corpus.images import ImageError, open_image
from textlens.corpus.readers import detect_format
from textlens.embed import get_encoder
from textlens.embed.images import reads_images
from textlens.errors import InputError

runner = CliRunner()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels in its header and holds one empty row of data: a
    decompression bomb's shape, in a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> Path:
    """Four good pictures (transparent PNG, rotated JPEG, WebP, animated GIF), captions for two, five bad files."""
    folder = tmp_path_factory.mktemp("pictures")
    red = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    red.paste((220, 20, 20, 255), (8, 8, 32, 32))
    red.save(folder / "red_square.png")
    sky = Image.new("RGB", (60, 30), (40, 90, 230))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show
    sky.save(folder / "blue_sky.jpg", exif=exif)
    Image.new("RGB", (30, 30), (20, 180, 40)).save(folder / "green.webp")
    frames = [Image.new("RGB", (24, 24), c) for c in ((250, 200, 0), (0, 0, 0))]
    frames[0].save(folder / "sun.gif", save_all=True, append_images=frames[1:], duration=100)
    (folder / "empty.png").write_bytes(b"")
    good = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(good, format="PNG")
    (folder / "cut.png").write_bytes(good.getvalue()[:60])
    (folder / "notes.png").write_text("these are my notes, not a picture\n", encoding="utf-8")
    (folder / "bomb.png").write_bytes(png_header(20_000, 20_000))
    Image.new("RGB", (8, 8)).save(folder / "scan.png", format="TIFF")
    captions = [
        {"file_name": "red_square.png", "text": "a red square", "colour": "red"},
        {"file_name": "blue_sky.jpg", "text": "the blue sky", "colour": "blue"},
        {"file_name": "missing.png", "text": "gone"},
    ]
    (folder / "metadata.jsonl").write_text("".join(json.dumps(c) + "\n" for c in captions), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


def test_a_folder_of_pictures_is_read_with_its_captions_and_each_bad_file_named(pictures):
    assert detect_format(pictures) == "images"
    report = ReadReport()
    docs = {d.id: d for d in read_documents(pictures, report=report)}
    assert sorted(docs) == ["blue_sky.jpg", "green.webp", "red_square.png", "sun.gif"]
    assert docs["red_square.png"].text == "a red square" and docs["red_square.png"].metadata["colour"] == "red"
    assert docs["green.webp"].text == "green"  # no caption: the file name's words
    sky = docs["blue_sky.jpg"].metadata
    assert (sky["width"], sky["height"], sky["format"]) == (30, 60, "jpeg")  # EXIF orientation applied
    assert sky["image"] == str((pictures / "blue_sky.jpg").resolve()) and sky["path"] == "blue_sky.jpg"
    assert sky["thumbnail"].startswith("data:image/jpeg;base64,")
    assert docs["sun.gif"].metadata["frames"] == 2
    assert report.read == 4 and report.skipped == 5
    problems = "\n".join(report.problems)
    for expected in (
        "empty.png: empty file (0 bytes)",
        "cut.png: truncated or damaged image",
        "notes.png: not an image: it holds text ('these are my notes, not '...)",
        "bomb.png: 400,000,000 pixels is over the limit of 50,000,000 (a guard against decompression bombs)",
        "scan.png: TIFF images are not read",
        "sun.gif: animated (2 frames): the first frame is used",
        "metadata.jsonl: 1 row names a picture not in",
    ):
        assert expected in problems


def test_transparency_is_laid_on_white_and_a_bomb_is_refused_before_decoding(pictures):
    picture = open_image(pictures / "red_square.png")
    assert picture.image.mode == "RGB" and picture.image.getpixel((0, 0)) == (255, 255, 255)
    assert picture.image.getpixel((20, 20)) == (220, 20, 20)
    with pytest.raises(ImageError, match="decompression bombs") as err:
        open_image(png_header(20_000, 20_000), name="upload.png")
    assert err.value.message.startswith("upload.png: ")
    with pytest.raises(ImageError, match="8,000 x 8,000 pixels is over the limit of 50,000,000"):
        open_image(png_header(8_000, 8_000))  # under Pillow's own limit, over textlens's


def test_a_mixed_folder_reads_its_text_and_names_the_pictures_it_leaves(tmp_path, pictures):
    (tmp_path / "readme.md").write_text("# Read me\nhello", encoding="utf-8")
    (tmp_path / "red.png").write_bytes((pictures / "red_square.png").read_bytes())
    report = ReadReport()
    assert [d.id for d in read_documents(tmp_path, report=report)] == ["readme.md"]
    assert "--format images reads a folder's pictures" in report.problems[0]
    assert [d.id for d in read_documents(tmp_path, format="images")] == ["red.png"]
    with pytest.raises(InputError, match="captions are read with a folder of images only"):
        read_documents(tmp_path, format="folder", captions=tmp_path / "readme.md")
    broken = tmp_path / "captions.jsonl"
    broken.write_text('{"file_name": "red.png", "text": "red"}\n{"file_name": "x.png", "text": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"captions.jsonl, line 2: not a JSON line"):
        list(read_documents(tmp_path, format="images", captions=broken))
    broken.write_text('{"caption": "no file named"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 1: no field naming the image \(file_name, image, file, path\)"):
        list(read_documents(tmp_path, format="images", captions=broken))


@pytest.mark.parametrize("layout", ["clip", "clip in sentence-transformers' layout", "siglip"])
def test_clip_and_siglip_folders_embed_pictures_and_texts_into_one_space(tmp_path, layout):
    if layout == "siglip":
        folder, dim, length = tiny_siglip(tmp_path / "siglip"), 32, 16
    else:
        folder, dim, length = tiny_clip(tmp_path / "clip", sentence_transformers_layout=layout != "clip"), 16, 77
    enc = get_encoder(str(folder))
    assert enc.reads_images and enc.dim == dim and enc.max_length == length
    images = enc.encode_images([Image.new("RGB", (50, 20), (200, 0, 0)), Image.new("RGB", (20, 20), (0, 0, 200))])
    texts = enc.encode(["a red picture", "a blue one"])
    assert images.shape == texts.shape == (2, dim)
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-5)
    assert not reads_images(get_encoder("all-MiniLM-L6-v2"))


def test_a_collection_of_pictures_is_searched_by_words_and_by_picture(tmp_path, monkeypatch, pictures, clip):
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with Collection.create("pics", encoder=str(clip)) as col:
        report = col.add_path(pictures)
        assert report.added == 4 and report.embedded == 4
        words = col.search("red square", mode="keyword", k=2)
        assert words.hits[0].doc_id == "red_square.png" and words.hits[0].metadata["colour"] == "red"
        by_picture = col.search("", image=pictures / "green.webp", k=4)
        assert by_picture.mode == "dense" and by_picture.hits[0].doc_id == "green.webp"
        assert by_picture.hits[0].score == pytest.approx(1.0, abs=1e-5)
        both = col.search("blue sky", image=pictures / "green.webp", mode="hybrid", k=4)
        assert {"blue_sky.jpg", "green.webp"} <= {h.doc_id for h in both.hits}
        with pytest.raises(InputError, match="a picture is searched by its vector"):
            col.search("sky", image=pictures / "green.webp", mode="keyword")
        with pytest.raises(InputError, match="a reranker reads the query's text"):
            col.search("", image=pictures / "green.webp", rerank="bm25")
        again = col.add_path(pictures, upsert=True)
        assert again.cache_hits == 4 and again.embedded == 0  # pictures cached by their bytes
    with Collection.create("words", encoder="all-MiniLM-L6-v2") as col:
        col.add_path(pictures)
        with pytest.raises(InputError, match="which embeds text only: a picture cannot be searched"):
            col.search("", image=pictures / "green.webp")


def test_zero_shot_labels_pictures_through_prompt_templates(pictures, clip):
    clf = EmbeddingClassifier.zero_shot(
        ["red", "blue", "green"], encoder=str(clip), templates=["a picture of {}", "{} colour"]
    )
    assert clf.descriptions[0] == "a picture of red | red colour"
    labels, probs = clf.predict_images([pictures / "red_square.png", pictures / "green.webp"])
    assert len(labels) == 2 and set(labels) <= {"red", "blue", "green"}
    assert np.allclose(probs.sum(axis=1), 1)
    with pytest.raises(InputError, match=r"has no \{\} for the label"):
        EmbeddingClassifier.zero_shot(["a", "b"], encoder=str(clip), templates=["a picture"])
    words = EmbeddingClassifier.zero_shot(["red", "blue"], encoder="all-MiniLM-L6-v2")
    with pytest.raises(InputError, match="embeds text only"):
        words.predict_images([pictures / "green.webp"])


def test_the_cli_indexes_searches_and_labels_pictures(tmp_path, monkeypatch, pictures, clip):
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    out = runner.invoke(app, ["index", str(pictures), "-c", "pics", "--encoder", str(clip), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output.strip().splitlines()[-1])
    assert data["added"] == 4 and data["skipped_rows"] == 5 and "pixels" in data["pictures"]
    found = runner.invoke(app, ["search", "-c", "pics", "--image", str(pictures / "sun.gif"), "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["hits"][0]["doc_id"] == "sun.gif"
    table = runner.invoke(app, ["search", "red", "-c", "pics", "--mode", "keyword"])
    assert table.exit_code == 0 and "▀" in table.output and "red_square.png" in table.output
    assert runner.invoke(app, ["search", "-c", "pics"]).exit_code == 2
    labelled = runner.invoke(
        app,
        ["classify", "zero-shot", "--images", str(pictures), "--labels", "red,blue", "--encoder", str(clip),
         "--template", "a {} picture"],
    )  # fmt: skip
    assert labelled.exit_code == 0, labelled.output
    rows = [json.loads(line) for line in labelled.output.splitlines() if line.startswith("{")]
    assert len(rows) == 4 and set(rows[0]["probabilities"]) == {"red", "blue"}
    graded = runner.invoke(
        app,
        ["classify", "zero-shot", "--images", str(pictures), "--labels", "red,blue", "--encoder", str(clip),
         "--label-field", "colour", "--json"],
    )  # fmt: skip
    assert graded.exit_code == 2 and "have no field 'colour'" in graded.output
    text_only = runner.invoke(app, ["index", str(pictures), "-c", "by-words"])
    assert text_only.exit_code == 0 and "reads text only" in text_only.output


def test_rest_searches_by_an_uploaded_picture_and_says_what_is_wrong_with_a_bad_one(
    tmp_path, monkeypatch, pictures, clip
):
    import base64

    from fastapi.testclient import TestClient

    from textlens.server import ServerSettings, create_app

    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with Collection.create("pics", encoder=str(clip)) as col:
        col.add_path(pictures)
    with Collection.create("words", encoder=None) as col:
        col.add_path(pictures)
    url = "/api/collections/pics/search/image"
    green = base64.b64encode((pictures / "green.webp").read_bytes()).decode()
    with TestClient(create_app(ServerSettings()), base_url="http://127.0.0.1") as client:
        found = client.post(url, json={"image": "data:image/webp;base64," + green, "k": 2})
        assert found.status_code == 200, found.text
        assert found.json()["mode"] == "dense" and found.json()["hits"][0]["doc_id"] == "green.webp"
        both = client.post(url, json={"image": green, "query": "red square", "mode": "hybrid", "k": 4}).json()
        assert both["mode"] == "hybrid" and "red_square.png" in [h["doc_id"] for h in both["hits"]]
        text = base64.b64encode(b"not a picture at all").decode()
        bad = client.post(url, json={"image": text})
        assert bad.status_code == 400 and "not an image: it holds text" in bad.json()["error"]
        assert client.post(url, json={"image": "%%%"}).status_code == 400
        big = base64.b64encode(b"\0" * 5_000_001).decode()
        assert client.post(url, json={"image": big}).status_code in (413, 422)
        bomb = base64.b64encode(png_header(20_000, 20_000)).decode()
        refused = client.post(url, json={"image": bomb})
        assert refused.status_code == 400 and "decompression bombs" in refused.json()["error"]
        keyword_only = client.post("/api/collections/words/search/image", json={"image": green})
        assert keyword_only.status_code == 409 and "no vectors" in keyword_only.json()["error"]


def test_results_of_pictures_show_their_thumbnails_in_jupyter(tmp_path, monkeypatch, pictures):
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with Collection.create("pics", encoder=None) as col:
        col.add_path(pictures)
        html = col.search("red square", mode="keyword")._repr_html_()
    assert "<img src='data:image/jpeg;base64," in html and "alt='a red square'" in html


def test_rest_never_reads_a_server_file_a_client_names(tmp_path, monkeypatch, pictures, clip):
    from fastapi.testclient import TestClient

    from textlens.server import ServerSettings, create_app

    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with Collection.create("pics", encoder=str(clip)) as col:
        col.add_path(pictures)
    doc = {"id": "x", "text": "secret", "metadata": {"image": str(pictures / "notes.png")}}
    with TestClient(create_app(ServerSettings()), base_url="http://127.0.0.1") as client:
        refused = client.post("/api/collections/pics/documents", json={"documents": [doc]})
        assert refused.status_code == 409 and "metadata field 'image'" in refused.json()["error"]
        assert "these are my notes" not in refused.text
        assert client.get("/api/collections/pics").json()["documents"] == 4  # nothing added
