"""Tune the knobs that matter on a development split, then report the chosen setting on test.

Knobs, tuned one after another (coordinate ascent), each by nDCG@10 on the
development split, each keeping the best value of the knobs before it:

1. ``bm25``: k1 in {0.6, 0.9, 1.2, 1.5, 2.0} x b in {0.3, 0.5, 0.75, 0.9}, keyword mode
   (see :mod:`textlens.index.bm25`; tantivy's own 1.2/0.75 is the first setting);
2. ``fusion``: reciprocal rank fusion with (keyword, dense) weights 1:1, 1:2, 2:1, 1:3,
   3:1, and convex combination with the keyword weight from 0.2 to 0.8, hybrid mode;
3. ``chunking``: whole documents, 256-token windows (32 overlap) and 128-token windows
   (32 overlap), hybrid mode; each chunking is its own collection (built once, then reused),
   and a document scores as its best chunk.

Ties keep the earlier setting (the default comes first). The test split never chooses
anything: it is evaluated once at the end, for the default and the tuned configuration
(hybrid, and keyword with the default and the tuned BM25), so the gain is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from textlens.config import DEFAULT_ENCODER
from textlens.corpus import Chunker
from textlens.errors import InputError
from textlens.evaluate.data import beir_paths, load_qrels, load_queries, reconcile
from textlens.evaluate.runner import ModeSpec, open_or_build, score_runs
from textlens.progress import Progress

KNOBS = ("bm25", "fusion", "chunking")
BM25_GRID = [(1.2, 0.75)] + [
    (k1, b) for k1 in (0.6, 0.9, 1.2, 1.5, 2.0) for b in (0.3, 0.5, 0.75, 0.9) if (k1, b) != (1.2, 0.75)
]
FUSION_GRID = [("rrf", w) for w in ((1.0, 1.0), (1.0, 2.0), (2.0, 1.0), (1.0, 3.0), (3.0, 1.0))] + [
    ("convex", (a, round(1 - a, 2))) for a in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
]
CHUNK_GRID = {
    "whole documents": None,
    "256-token windows, 32 overlap": Chunker("tokens", size=256, overlap=32),
    "128-token windows, 32 overlap": Chunker("tokens", size=128, overlap=32),
}


@dataclass
class SweepResult:
    dev_split: str
    test_split: str
    dev: dict[str, dict[str, float]] = field(default_factory=dict)  # knob -> setting label -> nDCG@10
    best: dict[str, str] = field(default_factory=dict)  # knob -> best setting label
    test: dict[str, dict[str, float]] = field(default_factory=dict)  # configuration -> metrics on test

    def to_dict(self) -> dict:
        return {
            "dev_split": self.dev_split,
            "test_split": self.test_split,
            "dev_ndcg@10": self.dev,
            "best": self.best,
            "test": self.test,
        }


def sweep(
    folder: str | Path,
    *,
    knobs: Sequence[str] = ("bm25", "fusion"),
    dev_split: str = "dev",
    test_split: str = "test",
    collection: str | None = None,
    encoder: str = DEFAULT_ENCODER,
    progress: Progress | None = None,
) -> SweepResult:
    """Tune ``knobs`` on ``dev_split`` of a BEIR folder; evaluate default and tuned on ``test_split``."""
    unknown = [k for k in knobs if k not in KNOBS]
    if unknown or not knobs:
        raise InputError(f"unknown knob(s) {', '.join(unknown) or '(none)'}", hint="Knobs: " + ", ".join(KNOBS) + ".")
    if dev_split == test_split:
        raise InputError(
            f"the development split and the test split are both {test_split!r}",
            hint="Tune on another split (--dev-split train, or dev), never on the one you report.",
        )
    run = _Run.of(Path(folder), dev_split, test_split, collection, encoder, progress)
    result = SweepResult(dev_split, test_split)
    tuned = ModeSpec("hybrid")
    with run.collection(run.base) as col:
        if "bm25" in knobs:
            tuned = _tune_bm25(run, col, result, tuned)
        if "fusion" in knobs:
            tuned = _tune_fusion(run, col, result, tuned)
    chunking = _tune_chunking(run, result, tuned) if "chunking" in knobs else "whole documents"
    _report_on_test(run, result, tuned, CHUNK_GRID[chunking], tuned_bm25="bm25" in knobs)
    return result


@dataclass
class _Run:
    """What every step of a sweep reads: the folder, its queries and both splits' judgements."""

    folder: Path
    queries: dict[str, str]
    dev_qrels: dict
    test_qrels: dict
    dev_split: str
    test_split: str
    base: str
    encoder: str
    progress: Progress | None

    @classmethod
    def of(cls, folder: Path, dev_split: str, test_split: str, collection: str | None, encoder: str, progress):
        _, queries_path, dev_path = beir_paths(folder, dev_split)
        test_path = beir_paths(folder, test_split)[2]
        base = collection or f"beir-{folder.resolve().name}"
        qrels = load_qrels(dev_path), load_qrels(test_path)
        return cls(folder, load_queries(queries_path), *qrels, dev_split, test_split, base, encoder, progress)

    def collection(self, name: str, chunker: Chunker | None = None):
        col, _ = open_or_build(
            self.folder, collection=name, need_vectors=True, encoder=self.encoder, chunker=chunker,
            progress=self.progress,
        )  # fmt: skip
        return col

    def scores(self, col, specs: list[ModeSpec], *, test: bool = False) -> dict[str, dict[str, float]]:
        """Each spec's metrics on the dev split (or the test split), by its label."""
        qrels, split = (self.test_qrels, self.test_split) if test else (self.dev_qrels, self.dev_split)
        data = reconcile(self.queries, qrels, col.document_ids())
        found = score_runs(col, data, specs, dataset=self.folder.name, split=split, progress=self.progress)
        return found.results

    def dev_ndcg(self, col, specs: list[ModeSpec]) -> dict[str, float]:
        return {label: r["ndcg@10"] for label, r in self.scores(col, specs).items()}


def _tune_bm25(run: _Run, col, result: SweepResult, tuned: ModeSpec) -> ModeSpec:
    """The BM25 (k1, b) of the grid best on dev, scored by the body's BM25 alone (the re-scorer has no title boost)."""
    specs = [ModeSpec("keyword", bm25=p, title_boost=0.0) for p in BM25_GRID]
    scores = run.dev_ndcg(col, specs)
    best = _best(specs, scores)
    result.dev["bm25"] = {f"k1={s.bm25[0]:g} b={s.bm25[1]:g}": scores[s.label] for s in specs}
    result.best["bm25"] = f"k1={best.bm25[0]:g} b={best.bm25[1]:g}"
    return replace(tuned, bm25=best.bm25)


def _tune_fusion(run: _Run, col, result: SweepResult, tuned: ModeSpec) -> ModeSpec:
    """The fusion and weights of the grid best on dev, over the tuned BM25."""
    specs = [replace(tuned, fusion=f, weights=w) for f, w in FUSION_GRID]
    scores = run.dev_ndcg(col, specs)
    best = _best(specs, scores)
    result.dev["fusion"] = {_fusion_label(s): scores[s.label] for s in specs}
    result.best["fusion"] = _fusion_label(best)
    return best


def _tune_chunking(run: _Run, result: SweepResult, tuned: ModeSpec) -> str:
    """The chunking best on dev for the tuned hybrid (a collection built for each; ties go to the first)."""
    scores = {}
    for label, chunker in CHUNK_GRID.items():
        with run.collection(_chunked_name(run.base, chunker), chunker) as col:
            scores[label] = run.dev_ndcg(col, [tuned])[tuned.label]
    chunking = max(CHUNK_GRID, key=lambda lab: (scores[lab], -list(CHUNK_GRID).index(lab)))
    result.dev["chunking"] = scores
    result.best["chunking"] = chunking
    return chunking


def _report_on_test(run: _Run, result: SweepResult, tuned: ModeSpec, chunker, *, tuned_bm25: bool) -> None:
    """The defaults and the tuned configuration on the test split, each collection opened once."""
    tuned_name = _chunked_name(run.base, chunker)
    configs = [("keyword (default)", run.base, ModeSpec("keyword")), ("hybrid (default)", run.base, ModeSpec("hybrid"))]
    if tuned_bm25:
        configs.append(("keyword (tuned BM25)", run.base, ModeSpec("keyword", bm25=tuned.bm25)))
    configs.append(("hybrid (tuned)", tuned_name, tuned))
    for name in dict.fromkeys(c[1] for c in configs):
        specs = {spec.label: spec for _, n, spec in configs if n == name}
        with run.collection(name, chunker if name == tuned_name else None) as col:
            found = run.scores(col, list(specs.values()), test=True)
        for label, n, spec in configs:
            if n == name:
                result.test[label] = found[spec.label]


def _chunked_name(base: str, chunker: Chunker | None) -> str:
    return base if chunker is None else f"{base}-{chunker.strategy}{chunker.size}-{chunker.overlap}"


def _best(specs: list[ModeSpec], scores: dict[str, float]) -> ModeSpec:
    return max(specs, key=lambda s: (scores[s.label], -specs.index(s)))


def _fusion_label(spec: ModeSpec) -> str:
    return f"{spec.fusion} {spec.weights[0]:g}/{spec.weights[1]:g}"
