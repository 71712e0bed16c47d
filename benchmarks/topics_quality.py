"""Topic quality, side by side in one run: textlens (UMAP → HDBSCAN → c-TF-IDF) vs k-means on
the same embeddings vs scikit-learn's LDA on word counts, on 20 Newsgroups and on the
Wikipedia Vital Articles.

Every method is scored by the same functions (``textlens.topics.quality``): NMI and ARI
against the known labels (the 20 groups; the 12 Vital Articles topics), the share of
documents left in no topic, and NPMI coherence of each topic's top 10 words (document
co-occurrence in the corpus itself). k-means and LDA get the true number of classes K;
textlens is shown as it comes (HDBSCAN picks the number of topics), merged to K topics
(``--nr-topics K``), and merged with its outliers assigned (``--reduce-outliers 0``).

Embeddings: all-MiniLM-L6-v2 through the embedding cache (the first run embeds).
Writes ``benchmarks/results/topics_quality.json``.
Usage: python benchmarks/topics_quality.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import textlens
from passages import newsgroups, vital_articles
from provenance import write_result
from textlens.classify.model import embed
from textlens.embed import get_encoder
from textlens.topics import TopicModel, npmi_coherence, topic_quality
from textlens.topics.quality import label_agreement

ROOT = Path(__file__).resolve().parents[1]


def row(method: str, quality: dict, seconds: float) -> dict:
    out = {"method": method, **{k: round(v, 4) if isinstance(v, float) else v for k, v in quality.items()}}
    out["seconds"] = round(seconds, 1)
    print(json.dumps(out), flush=True)
    return out


def corpus(name: str, docs, seed: int) -> dict:
    texts = [d.text for d in docs]
    gold = [d.metadata["label"] for d in docs]
    k = len(set(gold))
    t0 = time.perf_counter()
    emb = embed(texts, get_encoder())
    t_embed = time.perf_counter() - t0
    rows = []

    t0 = time.perf_counter()
    model = TopicModel(seed=seed).fit(texts, emb)
    rows.append(row("textlens (UMAP + HDBSCAN, min_cluster_size 10)", topic_quality(model, gold),
                    time.perf_counter() - t0))  # fmt: skip
    t0 = time.perf_counter()
    model.merge_topics(k)
    rows.append(row(f"textlens, --nr-topics {k}", topic_quality(model, gold), time.perf_counter() - t0))
    t0 = time.perf_counter()
    model.reduce_outliers(target_share=0.0)
    rows.append(row(f"textlens, --nr-topics {k} --reduce-outliers 0", topic_quality(model, gold),
                    time.perf_counter() - t0))  # fmt: skip

    t0 = time.perf_counter()
    kmeans = TopicModel(reducer="none", clusterer="kmeans", n_clusters=k, seed=seed).fit(texts, emb)
    rows.append(row(f"k-means (K={k}) on the same embeddings", topic_quality(kmeans, gold),
                    time.perf_counter() - t0))  # fmt: skip

    from sklearn.decomposition import LatentDirichletAllocation
    from sklearn.feature_extraction.text import CountVectorizer

    t0 = time.perf_counter()
    vec = CountVectorizer(analyzer=model.analyze, min_df=5, max_df=0.5)
    counts = vec.fit_transform(texts)
    lda = LatentDirichletAllocation(n_components=k, learning_method="online", random_state=seed, n_jobs=1)
    doc_topic = lda.fit_transform(counts)
    terms = vec.get_feature_names_out()
    words = [[str(terms[j]) for j in np.argsort(-comp)[:10]] for comp in lda.components_]
    quality = {
        "topics": k,
        "outlier_share": 0.0,
        "npmi": npmi_coherence(words, model.terms, model.doc_term_presence()),
        **label_agreement(doc_topic.argmax(axis=1), gold),
    }
    rows.append(row(f"scikit-learn LDA (K={k}, online, 10 passes)", quality, time.perf_counter() - t0))
    return {"corpus": name, "documents": len(texts), "classes": k, "embed_seconds": round(t_embed, 1), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="Use the first N documents of each corpus.")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    results = []
    for name, load in (("20 Newsgroups", newsgroups), ("Wikipedia Vital Articles", vital_articles)):
        docs = load()[: args.limit]
        print(f"== {name}: {len(docs):,} documents", flush=True)
        results.append(corpus(name, docs, args.seed))
    out = {
        "textlens": textlens.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, 2 cores",
        "encoder": "sentence-transformers/all-MiniLM-L6-v2",
        "results": results,
    }
    path = ROOT / "benchmarks/results/topics_quality.json"
    write_result(path, out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
