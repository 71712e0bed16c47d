"""How topics are found: :class:`TopicOptions`, the one definition that ``TopicModel`` and ``textlens topics``
take their defaults, ranges and help texts from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textlens.errors import InputError
from textlens.keywords.options import KeywordOptions
from textlens.options import Options, option, same_as

REDUCERS = ("umap", "pca", "none")
CLUSTERERS = ("hdbscan", "kmeans")


@dataclass(frozen=True, kw_only=True)
class TopicOptions(Options):
    """Options of a topic model: the reducer, the clusterer and the words that describe each topic."""

    reducer: Any = option(
        "umap", choices=REDUCERS, objects=True,
        help="umap, pca or none (in Python also any object with fit_transform).",
    )  # fmt: skip
    clusterer: Any = option(
        "hdbscan", choices=CLUSTERERS, objects=True,
        help="hdbscan, or kmeans with n_clusters (in Python also any object with fit_predict; -1 is an outlier).",
    )  # fmt: skip
    min_cluster_size: int = option(10, ge=2, help="HDBSCAN's smallest topic (10, as BERTopic).")
    min_samples: int | None = option(None, ge=1, help="HDBSCAN's density smoothing (default: min_cluster_size).")
    n_neighbors: int = option(15, ge=2, help="UMAP's neighbourhood.")
    n_components: int = option(5, ge=1, help="UMAP's output dimensions.")
    n_clusters: int | None = option(None, ge=1, help="k-means: the number of topics.")
    seed: int = option(42, ge=0, help="Makes UMAP, PCA and k-means reproducible.")
    ngram_range: tuple[int, int] = option((1, 1), help="Fewest and most words per topic keyword.")
    languages: tuple[str, ...] = same_as(KeywordOptions, "languages")
    stop_words: tuple[str, ...] | None = option(
        None, cli=False, help="Your own stop words, instead of the languages' lists."
    )
    top_n_words: int = option(10, ge=1, le=100, flags=("--top-n-words", "--top-words"), help="Keywords kept per topic.")
    representation: str = option(
        "c-tf-idf", choices=("c-tf-idf", "keybert"),
        help="c-tf-idf, or keybert (the 30 best c-TF-IDF words re-ranked by cosine to the topic's mean embedding).",
    )  # fmt: skip
    min_df: int | None = option(
        None, ge=1, help="A word must occur in this many documents (default 2 from 1,000 documents, else 1)."
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.clusterer == "kmeans" and not self.n_clusters:
            raise InputError("the kmeans clusterer needs a number of clusters", hint="Pass --n-clusters K.")
