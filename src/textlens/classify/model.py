"""Classifiers on sentence embeddings: logistic regression, class centroids (few-shot) and
label descriptions (zero-shot). Saved as plain files (JSON and ``.npy``), never pickled.

All three score a text by a linear function of its embedding: ``scores = X @ W.T + b``.
Logistic regression learns ``W`` and ``b``; few-shot uses the mean embedding of each
class's examples; zero-shot uses the embedding of each label's description (cosine).

Example:
    >>> clf = EmbeddingClassifier.train(texts, labels)
    >>> clf.save("sentiment/"); EmbeddingClassifier.load("sentiment/").predict(["great film"])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from textlens.atomic import atomic_open, write_json
from textlens.config import DEFAULT_ENCODER
from textlens.embed import EmbeddingCache, Encoder, embed_with_cache, get_encoder
from textlens.errors import InputError

FORMAT_VERSION = 1


def embed(texts: Sequence[str], encoder: Encoder) -> np.ndarray:
    """Embeddings through the shared cache (a corpus embedded once serves every task)."""
    cache = EmbeddingCache()
    try:
        return embed_with_cache(encoder, list(texts), cache, batch_size=128)
    finally:
        cache.close()


def embed_images(images: Sequence[Any], encoder: Encoder) -> np.ndarray:
    """Pictures' embeddings (an image–text encoder's); files through the shared cache, keyed by their bytes."""
    from textlens.embed.images import check_reads_images, embed_pictures

    check_reads_images(encoder)
    images = list(images)
    if not all(isinstance(i, str | Path) for i in images):
        return encoder.encode_images(images)
    cache = EmbeddingCache()
    try:
        return embed_pictures(encoder, images, cache)
    finally:
        cache.close()


@dataclass
class EmbeddingClassifier:
    """A linear classifier over embeddings of one encoder."""

    classes: list[str]
    weights: np.ndarray  # (n_classes, dim); for two classes with logistic regression: (1, dim)
    bias: np.ndarray
    encoder_name: str
    method: str  # "logistic-regression", "centroids" or "zero-shot"
    descriptions: list[str] | None = None

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        encoder: str | Encoder = DEFAULT_ENCODER,
        c: float = 1.0,
        seed: int = 0,
    ) -> EmbeddingClassifier:
        """Logistic regression on embeddings (scikit-learn, L2, lbfgs)."""
        from sklearn.linear_model import LogisticRegression

        enc = _encoder(encoder)
        _check_training(texts, labels)
        x = embed(texts, enc)
        model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, list(labels))
        return cls(
            [str(k) for k in model.classes_],
            model.coef_.astype(np.float32),
            model.intercept_.astype(np.float32),
            enc.name,
            "logistic-regression",
        )

    @classmethod
    def few_shot(
        cls, texts: Sequence[str], labels: Sequence[str], *, encoder: str | Encoder = DEFAULT_ENCODER
    ) -> EmbeddingClassifier:
        """Nearest class centroid: the mean embedding of a handful of examples per class."""
        enc = _encoder(encoder)
        _check_training(texts, labels)
        x = embed(texts, enc)
        classes = sorted(set(labels))
        arr = np.asarray(labels)
        centroids = np.stack([x[arr == k].mean(axis=0) for k in classes])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        return cls(classes, centroids.astype(np.float32), np.zeros(len(classes), np.float32), enc.name, "centroids")

    @classmethod
    def zero_shot(
        cls,
        descriptions: Sequence[str],
        *,
        names: Sequence[str] | None = None,
        encoder: str | Encoder = DEFAULT_ENCODER,
        templates: Sequence[str] = (),
    ) -> EmbeddingClassifier:
        """Label embeddings: a text (or a picture, :meth:`predict_images`) gets the label whose description it is
        most similar to.

        ``templates`` (each with ``{}`` where the description goes, e.g. ``"a picture of a {}"``): a label's
        embedding is the mean of its description's in every template (CLIP's prompt ensembling)."""
        descriptions = [d.strip() for d in descriptions if d.strip()]
        if len(set(descriptions)) < 2:
            raise InputError(
                "zero-shot needs at least two different label descriptions",
                hint='For example --labels "a positive review,a negative review".',
            )
        names = list(names) if names is not None else descriptions
        if len(names) != len(descriptions):
            raise InputError(
                f"{len(names)} label names for {len(descriptions)} descriptions", hint="Give one name per description."
            )
        bad = [t for t in templates if "{}" not in t]
        if bad:
            raise InputError(f"template {bad[0]!r} has no {{}} for the label", hint='e.g. "a picture of a {}"')
        enc = _encoder(encoder)
        if templates:
            each = enc.encode_queries([t.replace("{}", d) for d in descriptions for t in templates])
            w = each.reshape(len(descriptions), len(templates), -1).mean(axis=1)
            w /= np.linalg.norm(w, axis=1, keepdims=True)
            shown = [" | ".join(t.replace("{}", d) for t in templates) for d in descriptions]
        else:
            w, shown = enc.encode_queries(descriptions), descriptions
        return cls(names, w.astype(np.float32), np.zeros(len(names), np.float32), enc.name, "zero-shot", shown)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Class scores, ``(n_texts, n_classes)``."""
        return self._scored(embed(texts, _encoder(self.encoder_name)))

    def image_scores(self, images: Sequence[Any]) -> np.ndarray:
        """Class scores of pictures (paths or PIL images), ``(n_images, n_classes)``: the encoder must read images."""
        return self._scored(embed_images(images, _encoder(self.encoder_name)))

    def _scored(self, x: np.ndarray) -> np.ndarray:
        raw = x @ self.weights.T + self.bias
        if raw.shape[1] == 1:  # binary logistic regression scores the second class against the first (0)
            raw = np.hstack([np.zeros_like(raw), raw])
        return raw

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Labels and, per text, the probability (softmax of the scores) of each class.

        For logistic regression these equal scikit-learn's ``predict_proba`` with the same weights
        (the sigmoid of the score for two classes, the softmax for more).
        """
        return self._predicted(self.scores(texts))

    def predict_images(self, images: Sequence[Any]) -> tuple[list[str], np.ndarray]:
        """Labels and probabilities of pictures, as :meth:`predict` gives them for texts."""
        return self._predicted(self.image_scores(images))

    def _predicted(self, raw: np.ndarray) -> tuple[list[str], np.ndarray]:
        if self.method != "logistic-regression":
            raw = raw * 20.0  # cosine similarities are close together: sharpen before the softmax
        raw = raw - raw.max(axis=1, keepdims=True)
        probs = np.exp(raw)
        probs /= probs.sum(axis=1, keepdims=True)
        return [self.classes[i] for i in probs.argmax(axis=1)], probs

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in (("weights.npy", self.weights), ("bias.npy", self.bias)):
            with atomic_open(folder / name) as fh:
                np.save(fh, array)
        write_json(
            folder / "classifier.json",
            {
                "format_version": FORMAT_VERSION,
                "method": self.method,
                "encoder": self.encoder_name,
                "classes": self.classes,
                "descriptions": self.descriptions,
                "dim": int(self.weights.shape[1]),
            },
        )
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> EmbeddingClassifier:
        import json

        folder = Path(folder)
        meta_path = folder / "classifier.json"
        if not meta_path.is_file():
            raise InputError(
                f"{folder} holds no classifier (classifier.json is missing)",
                hint="Train one with `textlens classify train DATA --model-out DIR`.",
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format_version", 0) > FORMAT_VERSION:
            raise InputError(
                f"{folder} was saved by a newer textlens (format {meta['format_version']})", hint="Upgrade textlens."
            )
        return cls(
            meta["classes"],
            np.load(folder / "weights.npy"),
            np.load(folder / "bias.npy"),
            meta["encoder"],
            meta["method"],
            meta.get("descriptions"),
        )


def _encoder(encoder: str | Encoder) -> Encoder:
    return get_encoder(encoder) if isinstance(encoder, str) else encoder


def _check_training(texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) != len(labels):
        raise InputError(f"{len(texts)} texts but {len(labels)} labels")
    counts = Counter(labels)
    if len(counts) < 2:
        only = next(iter(counts), "none")
        raise InputError(
            f"the training data has a single class ({only!r}, {len(labels)} examples): a classifier needs at least two",
            hint="Check --label-field, or add examples of other classes.",
        )
    empty = sum(1 for t in texts if not t.strip())
    if empty:
        raise InputError(f"{empty} training text(s) are empty", hint="Remove empty rows before training.")
