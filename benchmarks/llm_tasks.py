"""The LLM in classification and topic labelling, side by side with the embedding methods, one run each.

- ``--part classify``: SST-2 test sentences, zero-shot. Rows: textlens's embedding zero-shot
  classifier (label descriptions, all-MiniLM-L6-v2) and ``LLMClassifier`` with each model (one text
  per call, probabilities from the first answer token; and 8 texts per call). The LLM rows run on
  the first ``--texts`` sentences (the same ones for every row); the trained logistic regression of
  ``classify_train.json`` is quoted beside them. Accuracy, macro F1, seconds per text.
- ``--part topics``: 20 Newsgroups (bodies, quotes removed), textlens topics (UMAP + HDBSCAN, seed
  42) merged to 20, each labelled by the LLM; beside each label: the topic's majority newsgroup and
  its share, and the c-TF-IDF words. Also how ``keywords --llm-mode shared`` would group this corpus
  (threshold from the data, calls needed), which needs no model.

Writes ``benchmarks/results/llm_classify.json`` or ``benchmarks/results/llm_topic_labels.json``.
Usage: python benchmarks/llm_tasks.py --part classify [--models qwen2.5-coder-1.5b,smollm2-135m] [--texts 500]
       python benchmarks/llm_tasks.py --part topics [--model qwen2.5-coder-1.5b] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections import Counter
from pathlib import Path

import textlens
from provenance import write_result
from textlens.classify import EmbeddingClassifier, classification_report
from textlens.classify.llm import LLMClassifier
from textlens.llm import get_generator

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "classification" / "sst2" / "test.jsonl"
RESULTS = ROOT / "benchmarks" / "results"
LABELS = ["positive", "negative"]
DESCRIPTIONS = ["a positive movie review", "a negative movie review"]


def classify(models: list[str], n: int) -> dict:
    rows = [json.loads(line) for line in SST2.open(encoding="utf-8")][:n]
    texts, gold = [r["text"] for r in rows], [r["label"] for r in rows]
    out = []

    def add(name: str, predicted: list[str], seconds: float, **extra) -> None:
        report = classification_report(gold, predicted, LABELS)
        row = {"method": name, "texts": len(texts), "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
               "seconds_per_text": round(seconds / len(texts), 4), **extra}  # fmt: skip
        print(json.dumps(row), flush=True)
        out.append(row)

    t0 = time.perf_counter()
    clf = EmbeddingClassifier.zero_shot(DESCRIPTIONS, names=LABELS)
    add("textlens zero-shot (embeddings of label descriptions)", clf.predict(texts)[0], time.perf_counter() - t0)
    for model in models:
        llm = get_generator(model)
        llm_clf = LLMClassifier(LABELS, llm=llm, instructions="Sentences from movie reviews.")
        for batch in (1, 8):
            t0 = time.perf_counter()
            preds = llm_clf.predict(texts, batch_size=batch)
            seconds = time.perf_counter() - t0
            labels = [p.label or "(no label)" for p in preds]
            with_probs = sum(p.probabilities is not None for p in preds)
            add(f"textlens LLM zero-shot, {batch} text(s) per call", labels, seconds, model=model,
                no_label=labels.count("(no label)"), with_probabilities=with_probs)  # fmt: skip
    trained = json.loads((RESULTS / "classify_train.json").read_text())["rows"][0]
    quoted = "textlens classify train: logistic regression on 67,349 embedded sentences, all 1,821 test sentences"
    return {
        "sentences": len(texts),
        "of": "SST-2 test (first N, the same for every row)",
        "rows": out,
        "quoted": {"method": quoted, "source": "classify_train.json", "macro_f1": trained["test_macro_f1"]},
    }


def topics(model: str, limit: int | None) -> dict:
    from passages import newsgroups
    from textlens.classify.model import embed
    from textlens.embed import get_encoder
    from textlens.keywords.llm import near_duplicates
    from textlens.topics import TopicModel

    docs = newsgroups()[:limit]
    texts, gold = [d.text for d in docs], [d.metadata["label"] for d in docs]
    emb = embed(texts, get_encoder())
    t0 = time.perf_counter()
    threshold, leaders = near_duplicates(texts)  # what --llm-mode shared would ask: no model needed
    shared = {"threshold_from_data": threshold, "calls": len(set(leaders.values())), "documents": len(leaders),
              "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
    print(json.dumps({"keywords --llm-mode shared on this corpus": shared}), flush=True)
    t0 = time.perf_counter()
    tm = TopicModel(seed=42).fit(texts, emb)
    tm.merge_topics(20)
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels = tm.label_topics(get_generator(model))
    label_seconds = time.perf_counter() - t0
    rows = []
    for topic, label in zip(tm.topics, labels, strict=True):
        members = [gold[i] for i in range(len(texts)) if tm.labels[i] == topic.id]
        group, count = Counter(members).most_common(1)[0]
        row = {"topic": topic.id, "size": topic.size, "llm_label": label.label, "note": label.note,
               "majority_newsgroup": group, "majority_share": round(count / len(members), 3),
               "words": [w for w, _ in topic.words[:6]]}  # fmt: skip
        print(json.dumps(row), flush=True)
        rows.append(row)
    return {"documents": len(texts), "topics": len(tm.topics), "outlier_share": round(tm.outlier_share, 4),
            "fit_seconds": round(fit_seconds, 1), "label_seconds": round(label_seconds, 1),
            "seconds_per_label": round(label_seconds / len(rows), 2), "model": model, "rows": rows,
            "keywords_shared_mode": shared}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("classify", "topics"), required=True)
    parser.add_argument("--models", default="qwen2.5-coder-1.5b,smollm2-135m")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--limit", type=int, default=None, help="topics: the first N posts only.")
    args = parser.parse_args()
    head = {"textlens": textlens.__version__, "machine": f"{platform.machine()}, 2 cores"}
    if args.part == "classify":
        out, name = {**head, **classify(args.models.split(","), args.texts)}, "llm_classify.json"
    else:
        out, name = {**head, **topics(args.model, args.limit)}, "llm_topic_labels.json"
    write_result((RESULTS / name), out)
    print(f"wrote {RESULTS / name}")


if __name__ == "__main__":
    main()
