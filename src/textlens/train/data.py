"""Training data: judged queries, a dev split carved from them, and hard negatives mined by textlens's search.

Judgements come from a BEIR folder (``qrels/train.tsv``) or from the user's own qrels and
queries files over a collection. Ids the corpus or the queries file does not know are
counted and reported (never silently dropped); queries left with no relevant document are
skipped. A dev split (``dev_fraction`` of the queries, drawn with ``seed``) is held out for
early stopping and for the before/after comparison; training never reads it.

Hard negatives are the hybrid search's top documents (keyword and dense fused) that are not
judged for the query. A candidate the current encoder finds almost as close to the query as
its positive (cosine above ``(1 - margin)`` times the positive's) is dropped as a likely
unjudged positive: the false negatives that make fine-tuned models push relevant passages down.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textlens.errors import InputError
from textlens.evaluate.data import Qrels, load_qrels, load_queries, reconcile
from textlens.progress import Progress

DEPTH = 30  # first-stage hits searched per query for negatives and for dev reranking


@dataclass
class Judgements:
    """Training queries and their judgements, split into train and dev query ids."""

    queries: dict[str, str]
    qrels: Qrels  # qid -> {doc id: grade}, every grade kept (0 = judged not relevant)
    train: list[str]
    dev: list[str]
    problems: dict[str, int] = field(default_factory=dict)

    def positives(self, qid: str) -> list[str]:
        return sorted(d for d, g in self.qrels[qid].items() if g > 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "queries": len(self.queries),
            "train_queries": len(self.train),
            "dev_queries": len(self.dev),
            "positives": sum(len(self.positives(q)) for q in self.queries),
            "problems": self.problems,
        }


def load_judgements(
    queries_path: Path,
    qrels_path: Path,
    doc_ids: set[str],
    *,
    dev_fraction: float = 0.2,
    seed: int = 0,
) -> Judgements:
    """Read and check training judgements against the corpus's ``doc_ids``; carve the dev split.

    Raises:
        InputError: unreadable files, no positive judgement at all, none left whose query and
            document exist, or a ``dev_fraction`` outside [0, 0.5].
    """
    if not 0.0 <= dev_fraction <= 0.5:
        raise InputError(
            f"dev fraction {dev_fraction} is outside [0, 0.5]",
            hint="Hold out a fifth (0.2) of the training queries, or 0 for no dev split.",
        )
    queries, qrels = load_queries(queries_path), load_qrels(qrels_path)
    if not any(g > 0 for docs in qrels.values() for g in docs.values()):
        raise InputError(
            f"{qrels_path} has no positive judgement (every grade is 0 or less): there is nothing to learn from",
            hint="Training needs at least one (query, relevant document) pair with a grade above 0.",
        )
    try:
        data = reconcile(queries, qrels, doc_ids)
    except InputError as exc:
        raise InputError(
            f"{qrels_path}: no training pair is left: {exc.message.split(': ', 1)[-1]}",
            hint="Check that the qrels, the queries file and the corpus use the same ids.",
        ) from None
    qids = sorted(data.queries)
    random.Random(seed).shuffle(qids)
    n_dev = round(len(qids) * dev_fraction)
    if dev_fraction > 0 and n_dev == 0 and len(qids) >= 2:
        n_dev = 1
    dev, train = sorted(qids[:n_dev]), sorted(qids[n_dev:])
    return Judgements(data.queries, data.qrels, train, dev, data.problems)


@dataclass
class Candidates:
    """Each query's first-stage ranking (hybrid, top ``DEPTH``) and the mined negatives of training queries."""

    ranked: dict[str, list[str]]
    negatives: dict[str, list[str]]
    dropped_as_false_negatives: int = 0
    scores: dict[str, list[float]] = field(default_factory=dict)  # the first stage's, parallel to ``ranked``


def first_stage(col, queries: dict[str, str], qids: list[str], *, depth: int = DEPTH, progress=None):
    """``{qid: {doc id: score}}``, best first: the collection's hybrid ranking (or keyword, without
    vectors); a query's own id never counts (BEIR convention)."""
    mode = "hybrid" if col.manifest.get("encoder") else "keyword"
    out: dict[str, dict[str, float]] = {}
    for n, qid in enumerate(qids, 1):
        # fused from each retriever's top 100, as evaluation and --rerank do, then cut to ``depth``
        res = col.search(queries[qid], mode=mode, k=depth + 1, candidates=max(depth, 100), highlight=False)
        ranked: dict[str, float] = {}
        for hit in res.hits:
            if hit.document != qid and hit.document not in ranked and len(ranked) < depth:
                ranked[hit.document] = hit.score
        out[qid] = ranked
        if progress:
            progress("first-stage search", n, len(qids))
    return out


def mine_negatives(
    col,
    judgements: Judgements,
    *,
    per_query: int = 7,
    margin: float = 0.05,
    depth: int = DEPTH,
    progress: Progress | None = None,
) -> Candidates:
    """Search every training and dev query; keep up to ``per_query`` unjudged hard negatives per
    training query, dropping candidates the encoder puts within ``margin`` of the positive."""
    if not 0.0 <= margin < 1.0:
        raise InputError(f"margin {margin} is outside [0, 1)", hint="0.05 drops candidates within 5% of the positive.")
    qids = judgements.train + judgements.dev
    found_scores = first_stage(col, judgements.queries, qids, depth=depth, progress=progress)
    ranked = {q: list(scored) for q, scored in found_scores.items()}
    sims = _similarities(col, judgements, ranked) if col.manifest.get("encoder") and margin > 0 else None
    negatives, dropped = {}, 0
    for qid in judgements.train:
        judged = judgements.qrels[qid]
        found = []
        for doc in ranked[qid]:
            if doc in judged:
                continue
            if sims is not None:
                best = max(sims[qid].get(p, -1.0) for p in judgements.positives(qid))
                if sims[qid][doc] > (1.0 - margin) * best:
                    dropped += 1
                    continue
            found.append(doc)
            if len(found) == per_query:
                break
        negatives[qid] = found
    scores = {q: list(scored.values()) for q, scored in found_scores.items()}
    return Candidates(ranked, negatives, dropped, scores)


def _similarities(col, judgements: Judgements, ranked: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Cosine of each training query with its candidates and positives, by the collection's encoder
    (document vectors through the embedding cache, so the collection's own vectors are reused)."""
    from textlens.embed.cache import EmbeddingCache, embed_with_cache

    encoder = col.encoder
    wanted = sorted({d for q in judgements.train for d in ranked[q] + judgements.positives(q)})
    docs = {d: col.get(d) for d in wanted}
    docs = {d: doc for d, doc in docs.items() if doc is not None}
    cache = EmbeddingCache()
    try:
        vecs = embed_with_cache(encoder, [col.embedded_text(doc) for doc in docs.values()], cache)
    finally:
        cache.close()
    row = {d: i for i, d in enumerate(docs)}
    qvecs = encoder.encode_queries([judgements.queries[q] for q in judgements.train])
    out = {}
    for qv, qid in zip(qvecs, judgements.train, strict=True):
        ids = [d for d in ranked[qid] + judgements.positives(qid) if d in row]
        scores = vecs[[row[d] for d in ids]] @ qv if ids else np.zeros(0)
        out[qid] = dict(zip(ids, map(float, scores), strict=True))
    return out
