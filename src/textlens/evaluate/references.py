"""Published reference scores shown beside ours, each with its source (nDCG@10, test split)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    system: str
    compares_with: str  # our mode it should be read against
    ndcg10: float
    source: str


REFERENCES: dict[str, list[Reference]] = {
    "scifact": [
        Reference("BM25, Pyserini flat", "keyword", 0.679, "Kamalloo et al. 2023, Resources for Brewing BEIR"),
        Reference("BM25, Pyserini multifield", "keyword", 0.665, "Thakur et al. 2021, BEIR (NeurIPS)"),
        Reference("bm25s, k1=0.9 b=0.4", "keyword", 0.676, "bm25s (Lù 2024) benchmark table"),
        Reference("all-MiniLM-L6-v2", "dense", 0.645, "MTEB leaderboard (0.6451)"),
        Reference("bge-small-en-v1.5", "dense", 0.713, "MTEB leaderboard"),
        Reference("BM25 top-100 + ms-marco-MiniLM-L-6-v2", "rerank", 0.682, "BEIR repository"),
    ]
}


def references_for(dataset: str) -> list[Reference]:
    return REFERENCES.get(dataset.lower(), [])
