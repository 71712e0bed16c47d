"""Token embeddings: the model's own input embedding matrix, and how a word's vector changes as it
goes up the layers.

- :func:`neighbours`: a token's nearest tokens by cosine in the full embedding space (a word
  that is several tokens is split first, and the split is shown).
- :func:`contextual`: one word's hidden state at every layer in two sentences, and how
  similar the two are layer by layer ("bank" of a river and a bank account start equal).
- :func:`undertrained`: tokens whose input embeddings look untrained (a norm far below the
  rest, huddled near the mean), which models may never have seen in training.

Example:
    >>> [t for t, _ in neighbours("king", "smollm2-135m").neighbours[:3]]   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from textlens.errors import InputError
from textlens.inside.models import DEFAULT_MODEL, LoadedModel, load


def _matrix(lm: LoadedModel) -> np.ndarray:
    return lm.model.get_input_embeddings().weight.detach().float().numpy()


def _ids(lm: LoadedModel, word: str) -> list[int]:
    """The ids ``word`` becomes (without special tokens)."""
    if not word.strip():
        raise InputError("the word is empty", hint="Give a word, e.g. king.")
    return list(lm.tokenizer(word, add_special_tokens=False)["input_ids"])


@dataclass
class Neighbours:
    model: str
    word: str
    pieces: list[str]  # the tokens the word became
    token: str  # the one looked up (the first piece)
    neighbours: list[tuple[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "word": self.word, "pieces": self.pieces, "token": self.token,
                "neighbours": [{"token": t, "cosine": c} for t, c in self.neighbours]}  # fmt: skip


def neighbours(word: str, model: str = DEFAULT_MODEL, *, top: int = 10) -> Neighbours:
    """The ``top`` nearest tokens to ``word``'s (first) token in the input embedding matrix, by cosine
    over all dimensions. Leading-space variants are tried first, as a word inside a sentence is."""
    lm = load(model)
    ids = _ids(lm, " " + word.strip()) if lm.causal else _ids(lm, word.strip())
    if len(ids) > 1 and lm.causal:  # no single token with the space: try without
        bare = _ids(lm, word.strip())
        ids = bare if len(bare) < len(ids) else ids
    matrix = _matrix(lm)
    unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit[ids[0]]
    sims[ids[0]] = -np.inf
    order = np.argsort(-sims, kind="stable")[:top]
    decode = lambda i: lm.tokenizer.decode([int(i)])  # noqa: E731
    return Neighbours(lm.facts.name, word, [decode(i) for i in ids], decode(ids[0]),
                      [(decode(i), float(sims[i])) for i in order])  # fmt: skip


@dataclass
class Contextual:
    """A word's vector per layer in two sentences (layer 0: the input embedding plus position)."""

    model: str
    word: str
    sentences: tuple[str, str]
    cosine_per_layer: list[float]
    norm_per_layer: list[tuple[float, float]]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "word": self.word, "sentences": list(self.sentences),
                "cosine_per_layer": self.cosine_per_layer, "norm_per_layer": self.norm_per_layer}  # fmt: skip


def _word_positions(lm: LoadedModel, sentence: str, word: str) -> tuple[Any, list[int]]:
    """The sentence's ids and the positions of ``word``'s tokens in it (found by character offsets)."""
    start = sentence.find(word)
    if start < 0:
        raise InputError(f"{word!r} does not occur in {sentence!r}", hint="Use the word as it is written there.")
    enc = lm.tokenizer(sentence, return_offsets_mapping=True, return_tensors="pt")
    spans = enc["offset_mapping"][0].tolist()
    positions = [i for i, (a, b) in enumerate(spans) if b > a and a < start + len(word) and b > start]
    return enc["input_ids"], positions


def contextual(word: str, sentences: tuple[str, str], model: str = DEFAULT_MODEL) -> Contextual:
    """Cosine between ``word``'s hidden states in the two sentences at every layer (mean over its tokens)."""

    lm = load(model)
    vectors = []
    for sentence in sentences:
        ids, positions = _word_positions(lm, sentence, word)
        lm.encode(sentence)  # the context check
        out = lm.forward(ids, output_hidden_states=True)
        vectors.append(np.stack([h[0, positions].mean(0).double().numpy() for h in out.hidden_states]))
    a, b = vectors
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    na, nb = np.linalg.norm(a, axis=1).round(3).tolist(), np.linalg.norm(b, axis=1).round(3).tolist()
    norms = list(zip(na, nb, strict=True))
    return Contextual(lm.facts.name, word, sentences, cos.round(4).tolist(), norms)


@dataclass
class Undertrained:
    model: str
    vocab_size: int
    median_norm: float
    threshold: float
    tokens: list[tuple[int, str, float]]  # the lowest norms: id, text, norm
    flagged: int  # tokens below the threshold

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "vocab_size": self.vocab_size, "median_norm": self.median_norm,
                "threshold": self.threshold, "flagged": self.flagged,
                "tokens": [{"id": i, "token": t, "norm": n} for i, t, n in self.tokens]}  # fmt: skip


def undertrained(model: str = DEFAULT_MODEL, *, show: int = 20, mads: float = 4.0) -> Undertrained:
    """The ``show`` tokens of lowest embedding norm after removing the mean embedding (the direction
    every row shares), and how many lie more than ``mads`` median absolute deviations below the
    median: the rows that training barely moved from where they started."""
    if mads <= 0:
        raise InputError(f"mads must be above 0, got {mads}")
    lm = load(model)
    matrix = _matrix(lm)
    centred = matrix - matrix.mean(0)
    norms = np.linalg.norm(centred, axis=1)
    median = float(np.median(norms))
    mad = float(np.median(np.abs(norms - median)))
    threshold = median - mads * mad
    lowest = np.argsort(norms, kind="stable")[:show]
    decode = lambda i: lm.tokenizer.decode([int(i)])  # noqa: E731
    shown = [(int(i), decode(i), round(float(norms[i]), 4)) for i in lowest]
    flagged = int((norms < threshold).sum())
    return Undertrained(lm.facts.name, matrix.shape[0], round(median, 4), round(threshold, 4), shown, flagged)
