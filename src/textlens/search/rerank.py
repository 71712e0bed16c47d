"""Rerankers: re-score the top hits with a model that reads query and passage together."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from textlens.corpus.document import titled
from textlens.errors import AssetError, InputError
from textlens.loaded import Loaded
from textlens.search.fusion import convex
from textlens.search.results import Hit, renumber


@runtime_checkable
class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    name: str

    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder``: any Hub id (online) or local folder.

    Example ids for online users: ``cross-encoder/ms-marco-MiniLM-L-6-v2``, ``BAAI/bge-reranker-base``.
    """

    def __init__(self, model: str, *, batch_size: int = 32, device: str | None = None) -> None:
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise ImportError("reranking needs sentence-transformers: pip install 'textlens[search]'") from exc
        path = Path(model).expanduser()
        if path.is_dir():
            _check_folder(path)
        self.name = str(path.resolve()) if path.is_dir() else model
        try:
            self.model = CrossEncoder(self.name, device=device)
        except OSError as exc:
            raise AssetError(
                f"could not load the reranker {model!r}: {str(exc).splitlines()[0]}",
                hint="Pass a local cross-encoder folder, or a Hub id while online.",
            ) from exc
        self.batch_size = batch_size

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        pairs = [(query, p) for p in passages]
        return [float(s) for s in self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)]


def _check_folder(path: Path) -> None:
    """A reranker folder must hold a sequence-classification model (a sentence embedding model would
    load with a random, untrained score head and rank by chance)."""
    from textlens.models.ref import architectures

    found = architectures(path)
    if not any(a.endswith("ForSequenceClassification") for a in found):
        what = "an embedding model (sentence-transformers)" if (path / "modules.json").is_file() else "not one"
        raise AssetError(
            f"{path} is not a cross-encoder: its config.json names {', '.join(found) or 'no architecture'}, "
            f"so it is {what}",
            hint="Pass a folder written by textlens train reranker (or another cross-encoder); "
            "an embedding model goes to --encoder.",
        )


_LOADED: Loaded[Reranker] = Loaded(max_items=4)


def get_reranker(model: str | Reranker) -> Reranker:
    """A reranker by model id or folder (loaded once per process), or the given one."""
    if not isinstance(model, str):
        return model
    if not model.strip():
        raise InputError("the reranker name is empty", hint="Name a cross-encoder folder or Hub id.")
    return _LOADED.get(model, lambda: CrossEncoderReranker(model))


def interpolate(first: Sequence[float], reranked: Sequence[float], weight: float) -> list[float]:
    """Position by position, ``weight`` times the min-max normalised ``reranked`` scores plus ``1 - weight``
    times the normalised ``first``-stage ones (:func:`~textlens.search.fusion.convex`); weight 1: ``reranked``."""
    if weight >= 1.0:
        return list(reranked)
    keys = [str(i) for i in range(len(first))]
    runs = [dict(zip(keys, first, strict=True)), dict(zip(keys, reranked, strict=True))]
    fused = dict(convex(runs, (1.0 - weight, weight)))
    return [fused[key] for key in keys]


def rerank(reranker: Reranker, query: str, hits: list[Hit], k: int, weight: float = 1.0) -> list[Hit]:
    """Re-order ``hits`` by the reranker's scores; keep the first-stage score in ``scores``.

    With ``weight`` below 1 the order is score interpolation: ``weight`` times the reranker's
    scores plus ``1 - weight`` times the first stage's, each min-max normalised over these hits
    (:func:`~textlens.search.fusion.convex`); 0 keeps the first stage's order.
    """
    scores = reranker.score(query, [titled(h.title, h.text) for h in hits])
    final = interpolate([h.score for h in hits], scores, weight)
    for hit, s, f in zip(hits, scores, final, strict=True):
        hit.scores = {**hit.scores, "first_stage": hit.score, "rerank": s}
        hit.score = f
    ordered = sorted(hits, key=lambda h: (-h.score, h.doc_id))[:k]
    return renumber(ordered)
