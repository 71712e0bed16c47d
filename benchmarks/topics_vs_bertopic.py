"""Topics on 20 Newsgroups, textlens vs BERTopic, side by side in one run: wall time, peak
memory and whether a second run gives the same topics.

Both get the same cached all-MiniLM-L6-v2 embeddings and the same steps (UMAP with 15
neighbours to 5 dimensions, min_dist 0, cosine; HDBSCAN with min_cluster_size 10; English
stop words, words in at least 2 documents), so the comparison is of the pipelines, not
of the encoder. Each fit runs in its own process (peak RSS from the kernel's VmHWM), twice:
BERTopic as its documentation shows it (UMAP unseeded, so multi-threaded), and BERTopic
with ``random_state=42`` given to UMAP (as textlens always does).

Writes ``benchmarks/results/topics_vs_bertopic.json``.
Usage: python benchmarks/topics_vs_bertopic.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import textlens
from passages import newsgroups
from provenance import write_result
from textlens.classify.model import embed
from textlens.embed import get_encoder

ROOT = Path(__file__).resolve().parents[1]


def child(which: str, data: Path, out: Path) -> None:
    """Fit one pipeline on the saved texts and embeddings; write labels, seconds and VmHWM."""
    texts = json.loads((data / "texts.json").read_text())
    emb = np.load(data / "emb.npy")
    t0 = time.perf_counter()
    if which == "textlens":
        from textlens.topics import TopicModel

        labels = TopicModel(seed=42).fit(texts, emb).labels
    else:
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import CountVectorizer
        from umap import UMAP

        seeded = which == "bertopic-seeded"
        umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                    random_state=42 if seeded else None)  # fmt: skip
        model = BERTopic(
            umap_model=umap,
            hdbscan_model=HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom",
                                  prediction_data=True),
            vectorizer_model=CountVectorizer(stop_words="english", min_df=2),
        )  # fmt: skip
        labels = np.asarray(model.fit_transform(texts, emb)[0])
    seconds = time.perf_counter() - t0
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    out.write_text(json.dumps({"seconds": seconds, "peak_rss_mb": hwm / 1024, "labels": labels.tolist()}))


def run(which: str, data: Path) -> dict:
    out = data / f"{which}.json"
    subprocess.run([sys.executable, __file__, "--child", which, "--data", str(data)], check=True)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--child", default=None)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.data / f"{args.child}.json")
        return
    docs = newsgroups()[: args.limit]
    texts = [d.text for d in docs]
    emb = embed(texts, get_encoder())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        (data / "texts.json").write_text(json.dumps(texts))
        np.save(data / "emb.npy", emb)
        for which in ("textlens", "bertopic", "bertopic-seeded"):
            first, second = run(which, data), run(which, data)
            same = first["labels"] == second["labels"]
            labels = np.asarray(first["labels"])
            row = {
                "pipeline": which,
                "seconds": [round(first["seconds"], 1), round(second["seconds"], 1)],
                "peak_rss_mb": round(max(first["peak_rss_mb"], second["peak_rss_mb"])),
                "topics": int(labels.max()) + 1,
                "outlier_share": round(float((labels == -1).mean()), 4),
                "second_run_identical": same,
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    out = {
        "textlens": textlens.__version__,
        "machine": f"{platform.machine()}, 2 cores",
        "corpus": f"20 Newsgroups, {len(texts):,} posts (headers and quotes removed)",
        "rows": rows,
    }
    path = ROOT / "benchmarks/results/topics_vs_bertopic.json"
    write_result(path, out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
