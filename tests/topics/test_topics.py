"""Topic modelling on real 20 Newsgroups posts with the real encoder, UMAP and HDBSCAN:
quality, determinism, outliers, merging, pluggable steps, outputs, bad input and the CLI."""

from __future__ import annotations

import gzip
import json
import os
from html import escape
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("umap")
pytest.importorskip("sentence_transformers")

from typer.testing import CliRunner

from tests.shared import shared
from textlens.cli import app
from textlens.errors import InputError
from textlens.topics import TopicModel, npmi_coherence, topic_quality

GROUPS = ("rec.sport.hockey", "sci.space", "talk.religion.misc")
runner = CliRunner()


@pytest.fixture(scope="module")
def posts() -> list[dict]:
    """90 posts from each of three groups (bodies only: headers end at the first blank line)."""
    out, per = [], dict.fromkeys(GROUPS, 0)
    with gzip.open(shared("data/topics/20newsgroups.jsonl.gz"), "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            body = row["text"].partition("\n\n")[2].strip()[:1500]
            if row["label"] in per and per[row["label"]] < 90 and len(body) > 200:
                per[row["label"]] += 1
                out.append({"id": row["id"], "text": body, "label": row["label"]})
    return out


@pytest.fixture(scope="module")
def fitted(posts) -> TopicModel:
    return TopicModel(min_cluster_size=8).fit([p["text"] for p in posts])


def test_topics_recover_the_newsgroups(fitted: TopicModel, posts) -> None:
    quality = topic_quality(fitted, [p["label"] for p in posts])
    assert quality["topics"] >= 2 and quality["nmi"] > 0.5 and quality["ari"] > 0.3
    assert -1 <= quality["npmi"] <= 1
    words = {w for t in fitted.topics for w, _ in t.words[:10]}
    assert {"hockey", "space"} & words
    sizes = [t.size for t in fitted.topics]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(sizes) + int((fitted.labels == -1).sum()) == len(posts)
    for t in fitted.topics:
        assert all(fitted.labels[i] == t.id for i in t.representative)
        assert len(t.words) <= 10 and all(s > 0 for _, s in t.words)


def test_same_input_and_seed_give_the_same_topics(fitted: TopicModel, posts) -> None:
    again = TopicModel(min_cluster_size=8).fit([p["text"] for p in posts])
    assert np.array_equal(again.labels, fitted.labels)
    assert [t.words for t in again.topics] == [t.words for t in fitted.topics]


def test_outlier_reduction_and_merging(posts) -> None:
    # HDBSCAN on the raw 384-d embeddings leaves many posts in no topic (about half of them)
    model = TopicModel(reducer="none", min_cluster_size=5).fit([p["text"] for p in posts])
    before = model.outlier_share
    assert before > 0.1 and len(model.topics) > 2
    moved = model.reduce_outliers(target_share=before / 2)
    assert moved > 0 and model.outlier_share <= before / 2 + 1e-9
    assert model.reduce_outliers(threshold=1.01) == 0
    model.reduce_outliers(target_share=0.0)
    assert model.outlier_share == 0.0
    n = len(model.topics)
    assert n > 2 and model.merge_topics(2) == n - 2
    assert len(model.topics) == 2 and model.topics[0].size >= model.topics[1].size
    assert model.merge_topics(5) == 0
    with pytest.raises(InputError, match="target"):
        model.reduce_outliers(target_share=1.5)


def test_pluggable_steps_and_no_silent_fallback(posts) -> None:
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.decomposition import TruncatedSVD

    texts = [p["text"] for p in posts]
    model = TopicModel(reducer=TruncatedSVD(10, random_state=0), clusterer=AgglomerativeClustering(3)).fit(texts)
    assert len(model.topics) == 3 and model.outlier_share == 0
    kmeans = TopicModel(reducer="pca", clusterer="kmeans", n_clusters=3).fit(texts)
    assert topic_quality(kmeans, [p["label"] for p in posts])["nmi"] > 0.5
    with pytest.raises(InputError, match="n-clusters"):
        TopicModel(clusterer="kmeans")
    with pytest.raises(InputError, match="reducer must be one of umap, pca, none, got 'tsne'"):
        TopicModel(reducer="tsne")
    keybert = TopicModel(min_cluster_size=8, representation="keybert").fit(texts)
    # keybert words are ranked by the cosine of their embedding with the topic's centroid
    from textlens.embed import get_encoder

    centroids = keybert.centroids()
    for t in keybert.topics:
        vecs = get_encoder().encode([w for w, _ in t.words])
        np.testing.assert_allclose([s for _, s in t.words], vecs @ centroids[t.id], atol=1e-4)
        assert [s for _, s in t.words] == sorted((s for _, s in t.words), reverse=True)


def test_ctfidf_weighs_words_by_class() -> None:
    docs = ["cats purr and cats sleep", "cats chase mice", "dogs bark at dogs", "dogs fetch sticks"]
    emb = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1]], dtype=np.float32)
    model = TopicModel(reducer="none", clusterer="kmeans", n_clusters=2, min_df=1).fit(docs, embeddings=emb)
    assert model.labels.tolist() in ([0, 0, 1, 1], [1, 1, 0, 0])
    cat_topic = model.topics[int(model.labels[0])]
    assert cat_topic.words[0][0] == "cats"
    weights = model.ctfidf()
    terms = list(model.terms)
    # by hand: cats is 3 of the cat class's 7 words ("and", "at" are stop words), 3 times in all;
    # the two classes hold 13 words, A = 6.5
    assert weights[int(model.labels[0]), terms.index("cats")] == pytest.approx(3 / 7 * np.log1p(6.5 / 3))


def test_npmi_by_hand() -> None:
    import scipy.sparse as sp

    presence = sp.csc_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=float))
    assert npmi_coherence([["a", "b"]], ["a", "b", "c"], presence) == pytest.approx(1.0)
    assert npmi_coherence([["a", "c"]], ["a", "b", "c"], presence) == pytest.approx(-1.0)
    assert npmi_coherence([["a", "b"], ["a", "c"]], ["a", "b", "c"], presence) == pytest.approx(0.0)


def test_bad_input_is_explained() -> None:
    with pytest.raises(InputError, match="too few") as info:
        TopicModel().fit(["one doc about space", "another about hockey", "a third"])
    assert "--min-cluster-size" in info.value.hint
    with pytest.raises(InputError, match="empty"):
        TopicModel(reducer="none", clusterer="kmeans", n_clusters=2).fit(["a b c", "  ", "d e f"])
    with pytest.raises(InputError, match="at least 2"):
        TopicModel(min_cluster_size=1)


def test_cli_topics_outputs(posts, tmp_path: Path) -> None:
    corpus = tmp_path / "posts.jsonl"
    corpus.write_text("".join(json.dumps(p) + "\n" for p in posts))
    page, png, assign = tmp_path / "t.html", tmp_path / "t.png", tmp_path / "a.csv"
    res = runner.invoke(
        app,
        [
            "topics",
            str(corpus),
            "--label-field",
            "label",
            "--min-cluster-size",
            "8",
            "--json",
            "--html",
            str(page),
            "--png",
            str(png),
            "--assignments",
            str(assign),
            "--reduce-outliers",
            "0",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert out["documents"] == len(posts) and out["quality"]["nmi"] > 0.5 and out["quality"]["outlier_share"] == 0
    assert out["topics"][0]["representative"][0] in {p["id"] for p in posts}
    html = page.read_text()
    assert html.count("<circle") == len(posts) and "Top words per topic" in html
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = assign.read_text().splitlines()
    assert lines[0].startswith("id,topic,topic_label,similarity") and len(lines) == len(posts) + 1
    res = runner.invoke(app, ["topics", str(corpus), "--label-field", "nope"])
    assert res.exit_code == 2 and "no field 'nope'" in res.output
    res = runner.invoke(app, ["topics", str(corpus), "--reduce-outliers", "1.5"])
    assert res.exit_code == 2 and "[0, 1)" in res.output
    res = runner.invoke(app, ["topics", str(corpus), "--min-cluster-size", "200"])
    assert res.exit_code == 2 and "too few" in res.output


def test_cli_topics_of_a_collection(posts) -> None:
    from textlens.corpus import Document
    from textlens.index import create_collection

    with create_collection("topiccol") as col:
        col.add([Document(p["id"], p["text"], metadata={"label": p["label"]}) for p in posts])
    res = runner.invoke(
        app, ["topics", "--collection", "topiccol", "--min-cluster-size", "8", "--json", "--label-field", "label"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert out["documents"] == len(posts) and out["quality"]["nmi"] > 0.5


def test_topic_labels_by_the_real_model(posts, tmp_path: Path) -> None:
    pytest.importorskip("xllamacpp")
    corpus = tmp_path / "posts.jsonl"
    corpus.write_text("".join(json.dumps(p) + "\n" for p in posts))
    assign, page = tmp_path / "a.jsonl", tmp_path / "t.html"
    args = ["topics", str(corpus), "--reducer", "none", "--clusterer", "kmeans", "--n-clusters", "3",
            "--llm", "smollm2-135m", "--json", "--assignments", str(assign), "--html", str(page)]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    names = [t["name"] for t in out["topics"]]
    assert len(names) == 3 and out["found"]["unlabelled"] == names.count(None)
    html = page.read_text()
    for name in filter(None, names):
        assert "\n" not in name and '"' not in name and 1 <= len(name.split()) <= 8
        assert f"<td>{escape(name)}</td>" in html
    rows = [json.loads(line) for line in assign.read_text().splitlines()]
    by_topic = {t["id"]: t["name"] or "" for t in out["topics"]}
    assert all(r["topic_name"] == by_topic[r["topic"]] for r in rows)


def test_label_answers_are_cleaned_and_refusals_give_none() -> None:
    from textlens.topics.labels import read_label

    assert read_label('"Ice Hockey Playoffs."') == "Ice Hockey Playoffs"
    assert read_label("Label: Space exploration\nThis topic is about...") == "Space exploration"
    assert read_label("I'm sorry, but I can't label this topic.") is None
    assert read_label("  ") is None
    assert len(read_label("one two three four five six seven eight nine ten").split()) == 8


@pytest.mark.slow
def test_a_fresh_process_with_fresh_embeddings_gives_the_same_topics(fitted: TopicModel, posts, tmp_path) -> None:
    """What a user rerunning a command sees: another process, its own embedding cache (the texts embedded again)
    and one thread for numba, not the two this process may use: the same labels and words."""
    import subprocess
    import sys

    texts = tmp_path / "texts.json"
    texts.write_text(json.dumps([p["text"] for p in posts]), encoding="utf-8")
    script = (
        "import json, sys\n"
        "from textlens.topics import TopicModel\n"
        "m = TopicModel(min_cluster_size=8).fit(json.load(open(sys.argv[1], encoding='utf-8')))\n"
        "print(json.dumps({'labels': m.labels.tolist(), 'words': [t.words for t in m.topics]}))\n"
    )
    env = {**os.environ, "TEXTLENS_HOME": str(tmp_path / "home"), "NUMBA_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script, str(texts)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    again = json.loads(done.stdout.strip().splitlines()[-1])
    assert again["labels"] == fitted.labels.tolist()
    assert again["words"] == [[[w, s] for w, s in t.words] for t in fitted.topics]
