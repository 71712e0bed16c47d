"""How good are the topics: agreement with known labels (NMI, ARI), the outlier share, and
coherence of their keywords (NPMI).

NPMI is computed over document co-occurrence in the modelled corpus itself: for two
words of a topic, ``log(p(a, b) / (p(a) p(b))) / -log(p(a, b))`` with ``p`` the share
of documents holding the word(s); a pair that never co-occurs scores -1. A topic's
coherence is the mean over pairs of its top words; the model's is the mean over topics.
The same function scores any method's topics (ours, k-means', LDA's) so that they compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np


def npmi_coherence(topic_words: Sequence[Sequence[str]], terms: Sequence[str], presence, top_n: int = 10) -> float:
    """Mean NPMI of each topic's ``top_n`` words; ``presence`` is documents x terms (0/1, sparse)."""
    index = {t: n for n, t in enumerate(terms)}
    n_docs = presence.shape[0]
    scores = []
    for words in topic_words:
        cols = [index[w] for w in list(words)[:top_n] if w in index]
        if len(cols) < 2:
            continue
        sub = presence[:, cols]
        co = np.asarray((sub.T @ sub).todense(), dtype=np.float64) / n_docs
        p = np.diag(co)
        pair = []
        for a, b in combinations(range(len(cols)), 2):
            joint = co[a, b]
            if joint <= 0:
                pair.append(-1.0)
            elif joint >= 1:
                pair.append(1.0)
            else:
                pair.append(float(np.log(joint / (p[a] * p[b])) / -np.log(joint)))
        scores.append(float(np.mean(pair)))
    return float(np.mean(scores)) if scores else float("nan")


def label_agreement(predicted: Sequence[int], gold: Sequence[str]) -> dict[str, float]:
    """NMI and ARI against gold labels; outliers (-1) count as one more cluster."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "nmi": float(normalized_mutual_info_score(gold, predicted)),
        "ari": float(adjusted_rand_score(gold, predicted)),
    }


def topic_quality(model, gold: Sequence[str] | None = None, top_n: int = 10) -> dict[str, float]:
    """Topics, outlier share, NPMI and (with ``gold`` labels) NMI and ARI of a fitted TopicModel."""
    out = {
        "topics": len(model.topics),
        "outlier_share": model.outlier_share,
        "npmi": npmi_coherence(
            [[w for w, _ in t.words] for t in model.topics], model.terms, model.doc_term_presence(), top_n
        ),
    }
    if gold is not None:
        if len(gold) != len(model.labels):
            from textlens.errors import InputError

            raise InputError(f"{len(gold)} gold labels for {len(model.labels)} documents")
        out.update(label_agreement(model.labels, gold))
    return out
