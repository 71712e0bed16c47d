"""Zero-shot classification by the real SmolLM2-135M: answers bound to the labels, probabilities
from the model's own first-token distribution, batches, long texts, resuming from a file."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from textlens.classify.llm import LLMClassifier
from textlens.cli import app
from textlens.errors import InputError
from textlens.llm import get_generator
from textlens.resume import ResumableOutput

TEXTS = [
    "a gorgeous, witty and moving film",
    "dull, lifeless and far too long",
    "the best thing I have seen all year",
    "a waste of two hours",
    "I loved every minute of it",
]


@pytest.fixture(scope="module")
def smol():
    return get_generator("smollm2-135m", threads=2)


def test_labels_are_always_one_of_the_given_with_probabilities(smol):
    clf = LLMClassifier(["positive", "negative"], llm=smol, instructions="Movie reviews.")
    preds = clf.predict(TEXTS)
    assert [p.label in ("positive", "negative") for p in preds] == [True] * len(TEXTS)
    for p in preds:
        assert set(p.probabilities) == {"positive", "negative"}
        assert math.isclose(sum(p.probabilities.values()), 1.0, abs_tol=1e-6)
        # the bound answer is the likelier label where the model's own distribution is clear
        if abs(p.probabilities["positive"] - 0.5) > 0.05:
            assert p.label == max(p.probabilities, key=p.probabilities.get)


def test_labels_sharing_a_start_get_no_probabilities(smol):
    clf = LLMClassifier(["art", "article"], llm=smol)
    [pred] = clf.predict(["A long piece in a newspaper about a museum."])
    assert pred.label in ("art", "article") and pred.probabilities is None


def test_batches_give_one_bound_label_per_text(smol):
    clf = LLMClassifier(["positive", "negative"], llm=smol, descriptions=["a good review", "a bad review"])
    preds = clf.predict(TEXTS, batch_size=3)
    assert len(preds) == len(TEXTS)
    for p in preds:
        assert p.label in ("positive", "negative") or (p.label is None and p.note)
        assert p.probabilities is None


def test_long_text_is_cut_to_the_context_with_a_note():
    small = get_generator("smollm2-135m", threads=2, context_size=256)
    clf = LLMClassifier(["sports", "politics"], llm=small)
    [pred] = clf.predict(["The match went to extra time and the home side won. " * 80])
    assert pred.label in ("sports", "politics")
    assert "cut to its first" in pred.note


def test_bad_labels(smol):
    with pytest.raises(InputError, match="same label"):
        LLMClassifier(["Positive", "positive!"], llm=smol)
    with pytest.raises(InputError, match="2 descriptions for 3 labels"):
        LLMClassifier(["a", "b", "c"], llm=smol, descriptions=["x", "y"])
    with pytest.raises(InputError, match="batch-size"):
        LLMClassifier(["a", "b"], llm=smol).predict(["x"], batch_size=0)


def test_cli_evaluates_and_resumes_from_its_output(smol, tmp_path):
    data = tmp_path / "reviews.jsonl"
    gold = ["positive", "negative", "positive", "negative", "positive"]
    data.write_text("".join(json.dumps({"id": f"r{i}", "text": t, "label": g}) + "\n"
                            for i, (t, g) in enumerate(zip(TEXTS, gold, strict=True))))  # fmt: skip
    out = tmp_path / "predictions.jsonl"
    # a run killed while writing its third line: two whole lines and half of one
    out.write_text(
        json.dumps({"id": "r0", "label": "positive", "probabilities": None, "note": None}) + "\n"
        + json.dumps({"id": "r1", "label": "negative", "probabilities": None, "note": None}) + "\n"
        + '{"id": "r2", "lab'
    )  # fmt: skip
    args = ["classify", "zero-shot", str(data), "--labels", "positive,negative", "--llm", "smollm2-135m",
            "--label-field", "label", "--output", str(out), "--json"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 of 5 texts done already" in result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["examples"] == 5 and report["method"] == "zero-shot LLM smollm2-135m"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["r0", "r1", "r2", "r3", "r4"]  # the cut line gone, none twice
    assert all(r["label"] in ("positive", "negative") for r in rows)


def test_results_file_that_is_not_ours_is_an_error_naming_the_line(tmp_path):
    out = tmp_path / "other.jsonl"
    out.write_text('{"id": "a"}\nnot json at all\n')
    with pytest.raises(InputError, match=r"other.jsonl, line 2: not a JSON line"):
        ResumableOutput(out)
    assert out.read_text() == '{"id": "a"}\nnot json at all\n'  # left as it was
    out.write_text('{"name": "a"}\n')
    with pytest.raises(InputError, match="line 1: a row without the field 'id'"):
        ResumableOutput(out)
