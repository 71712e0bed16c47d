"""Question answering metrics with SQuAD's official normalisation (the v2.0 evaluation script's).

An answer and each gold answer are lower-cased, stripped of punctuation, of the
articles a/an/the and of extra whitespace; exact match is 1 when they are equal, F1
is the harmonic mean of token precision and recall; the best gold answer counts. A
question with no gold answer (SQuAD 2.0's unanswerable) is right only when the
prediction is empty.

Example:
    >>> exact_match("The Normans.", ["Normans"]), round(f1("in 10th century", ["10th century"]), 2)
    (1.0, 0.8)
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's ``normalize_answer``)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split() if text else []


def _f1_one(prediction: str, gold: str) -> float:
    pred, ref = _tokens(prediction), _tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals a normalised gold answer (or both are empty)."""
    golds = [g for g in golds if normalize_answer(g)] or [""]
    return max(float(normalize_answer(prediction) == normalize_answer(g)) for g in golds)


def f1(prediction: str, golds: Sequence[str]) -> float:
    """Token F1 against the best gold answer (an empty gold list means: no answer is right)."""
    golds = [g for g in golds if normalize_answer(g)] or [""]
    return max(_f1_one(prediction, g) for g in golds)
