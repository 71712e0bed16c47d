"""Embedding classifiers (real all-MiniLM-L6-v2): train, save, load, predict, evaluate, zero- and few-shot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("sentence_transformers")

from typer.testing import CliRunner

from tests.shared import shared
from textlens.classify import EmbeddingClassifier, classification_report
from textlens.cli import app
from textlens.errors import InputError


def rows(split: str, n: int) -> list[dict]:
    out, per = [], {"positive": 0, "negative": 0}
    for line in shared(f"data/classification/sst2/{split}.jsonl").open():
        row = json.loads(line)
        if per[row["label"]] < n // 2 and len(row["text"].split()) > 4:
            per[row["label"]] += 1
            out.append(row)
        if len(out) == n:
            break
    return out


def test_train_save_load_predict_and_report(tmp_path: Path) -> None:
    train, test = rows("train", 120), rows("test", 60)
    clf = EmbeddingClassifier.train([r["text"] for r in train], [r["label"] for r in train])
    assert clf.classes == ["negative", "positive"] and clf.weights.shape == (1, 384)
    loaded = EmbeddingClassifier.load(clf.save(tmp_path / "m"))
    texts = [r["text"] for r in test]
    labels, probs = loaded.predict(texts)
    assert labels == clf.predict(texts)[0]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # the probabilities are scikit-learn's for the same model (not the overconfident sigmoid(2z))
    from sklearn.linear_model import LogisticRegression

    from textlens.classify.model import _encoder, embed

    enc = _encoder(clf.encoder_name)
    reference = LogisticRegression(max_iter=2000, random_state=0).fit(
        embed([r["text"] for r in train], enc), [r["label"] for r in train]
    )
    np.testing.assert_allclose(probs, reference.predict_proba(embed(texts, enc)), atol=1e-4)
    report = classification_report([r["label"] for r in test], labels, loaded.classes)
    assert report["accuracy"] > 0.6  # 120 training sentences already beat chance clearly
    assert set(report["per_class"]) == {"negative", "positive"}
    assert sum(map(sum, report["confusion_matrix"]["rows_gold_columns_predicted"])) == len(test)
    assert not list((tmp_path / "m").glob("*.pkl"))


def test_zero_shot_and_few_shot() -> None:
    test = rows("test", 60)
    texts, gold = [r["text"] for r in test], [r["label"] for r in test]
    zero = EmbeddingClassifier.zero_shot(["a positive review", "a negative review"], names=["positive", "negative"])
    assert classification_report(gold, zero.predict(texts)[0], zero.classes)["accuracy"] > 0.6
    few = rows("train", 16)
    clf = EmbeddingClassifier.few_shot([r["text"] for r in few], [r["label"] for r in few])
    assert clf.method == "centroids" and clf.weights.shape == (2, 384)
    assert classification_report(gold, clf.predict(texts)[0], clf.classes)["accuracy"] > 0.55


def test_bad_input() -> None:
    with pytest.raises(InputError, match="single class"):
        EmbeddingClassifier.train(["good", "great"], ["positive", "positive"])
    with pytest.raises(InputError, match="at least two"):
        EmbeddingClassifier.zero_shot(["only one"])
    with pytest.raises(InputError, match="does not know") as err:
        classification_report(
            ["positive", "neutral", "neutral"], ["positive", "positive", "positive"], ["negative", "positive"]
        )
    assert "'neutral': 2" in err.value.message
    with pytest.raises(InputError, match="empty"):
        EmbeddingClassifier.train(["good", ""], ["positive", "negative"])


def test_cli_train_eval_predict_zero_shot(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows("train", 60)) + "\n")
    test = tmp_path / "test.jsonl"
    test.write_text("\n".join(json.dumps(r) for r in rows("test", 20)) + "\n")
    runner = CliRunner()
    trained = runner.invoke(app, ["classify", "train", str(data), "--model-out", str(tmp_path / "m")])
    assert trained.exit_code == 0, trained.output
    report = json.loads(
        runner.invoke(app, ["classify", "eval", str(test), "--model", str(tmp_path / "m"), "--json"]).stdout
    )
    assert report["examples"] == 20 and "macro_f1" in report
    lines = runner.invoke(app, ["classify", "predict", str(test), "--model", str(tmp_path / "m")]).stdout.splitlines()
    assert len(lines) == 20 and set(json.loads(lines[0])) == {"id", "label", "probabilities"}
    zero = runner.invoke(
        app,
        [
            "classify",
            "zero-shot",
            str(test),
            "--labels",
            "a positive review,a negative review",
            "--names",
            "positive,negative",
            "--label-field",
            "label",
            "--json",
        ],
    )
    assert zero.exit_code == 0 and json.loads(zero.stdout)["examples"] == 20
    missing = runner.invoke(app, ["classify", "eval", str(test), "--model", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "classifier.json is missing" in missing.stderr
    one = tmp_path / "one.jsonl"
    one.write_text(
        '{"id": 1, "text": "fine film", "label": "positive"}\n{"id": 2, "text": "good", "label": "positive"}\n'
    )
    single = runner.invoke(app, ["classify", "train", str(one), "--model-out", str(tmp_path / "x")])
    assert single.exit_code == 2 and "single class" in single.stderr
