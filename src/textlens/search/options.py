"""How a search runs: :class:`SearchOptions`, the one definition that ``Collection.search``, ``textlens search``
and ``POST /api/collections/{name}/search`` take their defaults, ranges and help texts from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textlens.errors import InputError
from textlens.options import Options, option, pair
from textlens.search.filters import SCHEMA as FILTERS
from textlens.search.filters import parse_cli_filters

MODES = ("keyword", "dense", "hybrid")
FUSIONS = ("rrf", "convex")


def _filters(items: list[str] | None) -> dict[str, Any] | None:
    """The CLI's ``--filter`` conditions (``field=value``, ``field>=n``, ``field in a,b``) as filters."""
    return parse_cli_filters(items or []) or None


@dataclass(frozen=True, kw_only=True)
class SearchOptions(Options):
    """Options of a search. Names are the same in Python, on the CLI (``--group-by-document``) and in REST."""

    mode: str = option(
        "hybrid", choices=MODES, flags=("--mode", "-m"),
        help="keyword (BM25), dense (embeddings) or hybrid (both, fused).",
    )  # fmt: skip
    k: int = option(10, ge=1, le=1000, flags=("--k", "-k"), help="How many hits to return.")
    filters: dict[str, Any] | None = option(
        None, flags=("--filter", "-f"), cli_type=list[str], parse=_filters, schema=FILTERS,
        help="Metadata conditions: {field: value | {op: value}}, op eq, ne, gt, gte, lt, lte or in; on the CLI "
        "field=value, field>=n, 'field in a,b', once per condition.",
    )  # fmt: skip
    rerank: Any = option(
        None, help="A cross-encoder (id or folder, or a Reranker object) that re-scores the top candidates."
    )
    rerank_weight: float = option(
        1.0, ge=0.0, le=1.0,
        help="The reranker's share of the final score, interpolated with the first stage's (1: its order alone).",
    )  # fmt: skip
    rerank_depth: int | None = option(
        None, ge=1, le=1000, help="Rerank only the first this many candidates (default: all of them)."
    )
    fusion: str = option("rrf", choices=FUSIONS, help="rrf (reciprocal rank fusion, k=60) or convex (min-max scores).")
    weights: tuple[float, float] = option(
        (1.0, 1.0), ge=0, cli_type=str, parse=lambda text: pair(text, "weights"),
        help="keyword,dense weights for hybrid fusion.",
    )  # fmt: skip
    candidates: int = option(100, ge=1, le=1000, help="Hits each retriever passes on to fusion or reranking.")
    group_by_document: bool = option(
        False, flags=("--group-by-document", "--group-by-doc"), help="Keep the best chunk of each document."
    )
    bm25: tuple[float, float] | None = option(
        None, ge=0, le=(10, 1), cli_type=str, parse=lambda text: pair(text, "bm25"),
        help="BM25 k1,b (default tantivy's 1.2,0.75), scored exactly over tantivy's candidates; e.g. 0.9,0.4.",
    )  # fmt: skip
    title_boost: float | None = option(
        None, ge=0.0, le=100.0,
        help="Weight of a title match added to the body's BM25 (default 0.25, tuned on SciFact train; 0: off).",
    )  # fmt: skip
    highlight: bool = option(True, cli=False, help="Find the matched query terms and their spans in each hit.")

    def __post_init__(self) -> None:
        super().__post_init__()
        w = self.weights
        if len(w) != 2:  # each a finite number >= 0: checked by the field's range
            raise InputError(f"weights must be two numbers (keyword, dense), got {list(w)!r}")
        if sum(w) <= 0:
            raise InputError("fusion weights sum to 0: no retriever would count", hint="Give one a positive weight.")
