"""Class-based TF-IDF: the words that set one class of documents apart from the others."""

from __future__ import annotations

import numpy as np


def ctfidf(per_class: np.ndarray) -> np.ndarray:
    """Class-based TF-IDF (Grootendorst, "BERTopic: Neural topic modeling with a class-based
    TF-IDF procedure", arXiv:2203.05794): for word counts ``classes x terms``,
    ``tf(t, c) * log(1 + A / f(t))`` with ``tf`` the share of class ``c``'s words that are ``t``,
    ``A`` the average number of words per (non-empty) class and ``f(t)`` the count of ``t``
    over all classes."""
    freq = per_class.sum(axis=0)
    avg = per_class.sum() / max(1, (per_class.sum(axis=1) > 0).sum())
    idf = np.log1p(avg / np.maximum(freq, 1))
    tf = per_class / np.maximum(per_class.sum(axis=1, keepdims=True), 1)
    return tf * idf
