"""Classifier training time on SST-2 (67,349 sentences), textlens vs the book's recipe
(``SentenceTransformer.encode`` then scikit-learn's ``LogisticRegression``), side by side in
one run, same model, same test set.

textlens is timed cold (an empty embedding cache: it embeds everything) and warm (the
second training on the same corpus reads every embedding from the cache).

Writes ``benchmarks/results/classify_train.json``.
Usage: python benchmarks/classify_train.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from provenance import write_result

ROOT = Path(__file__).resolve().parents[1]
SST2 = Path(os.environ.get("TEXTLENS_SHARED", ROOT.parent / "shared")) / "data/classification/sst2"


def load(split: str, limit: int | None = None) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (SST2 / f"{split}.jsonl").open(encoding="utf-8")][:limit]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    os.environ["TEXTLENS_HOME"] = tempfile.mkdtemp(prefix="textlens-bench-")  # an empty cache
    import textlens
    from passages import plain_sentence_transformer
    from textlens.classify import EmbeddingClassifier, classification_report
    from textlens.embed import get_encoder

    train_x, train_y = load("train", args.limit)
    test_x, test_y = load("test")
    encoder = get_encoder()
    encoder.encode(train_x[:64])  # warm-up
    rows = []
    for run in ("cold", "warm"):
        t0 = time.perf_counter()
        clf = EmbeddingClassifier.train(train_x, train_y, encoder=encoder)
        seconds = time.perf_counter() - t0
        f1 = classification_report(test_y, clf.predict(test_x)[0], clf.classes)["macro_f1"]
        rows.append(
            {
                "pipeline": f"textlens classify train ({run} cache)",
                "seconds": round(seconds, 1),
                "test_macro_f1": round(f1, 4),
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    model = plain_sentence_transformer()  # the same model, run the plain way
    t0 = time.perf_counter()
    x = model.encode(train_x, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    t_embed = time.perf_counter() - t0
    lr = LogisticRegression(max_iter=2000, random_state=0).fit(x, train_y)
    seconds = time.perf_counter() - t0
    pred = lr.predict(model.encode(test_x, normalize_embeddings=True, show_progress_bar=False))
    rows.append(
        {
            "pipeline": "SentenceTransformer.encode + LogisticRegression",
            "seconds": round(seconds, 1),
            "embed_seconds": round(t_embed, 1),
            "test_macro_f1": round(f1_score(test_y, pred, average="macro"), 4),
        }
    )
    print(json.dumps(rows[-1]), flush=True)
    out = {
        "textlens": textlens.__version__,
        "machine": f"{platform.machine()}, 2 cores",
        "train_sentences": len(train_x),
        "test_sentences": len(test_x),
        "encoder": encoder.name,
        "rows": rows,
    }
    path = ROOT / "benchmarks/results/classify_train.json"
    write_result(path, out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
