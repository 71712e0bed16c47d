"""Topic modelling, BERTopic's pipeline: embed (cached) → reduce (UMAP) → cluster (HDBSCAN)
→ class-based TF-IDF keywords (optionally re-ranked KeyBERT-style) → representative documents.

Every step is replaceable by any scikit-learn-style object (a reducer with
``fit_transform``, a clusterer with ``fit_predict``); a step named by string whose
package is missing is an error, never a silent substitute.

Deterministic: with the same documents and ``seed`` the topics are the same, run
after run. UMAP is seeded (which makes it single-threaded, as its authors note),
HDBSCAN is deterministic, and topic ids are numbered by size (ties: the topic whose
first document comes first), not by the order a clusterer happened to emit them.

Example:
    >>> model = TopicModel(min_cluster_size=15).fit(texts)
    >>> model.topics[0].words[:5], model.outlier_share
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from textlens.config import DEFAULT_ENCODER
from textlens.embed import EmbeddingCache, Encoder, embed_with_cache, get_encoder
from textlens.errors import InputError, MissingDependency
from textlens.keywords.candidates import Vocabulary, terms
from textlens.progress import Progress
from textlens.topics.ctfidf import ctfidf
from textlens.topics.options import TopicOptions

OUTLIER = -1


@dataclass
class Topic:
    """One topic: its id, size, keywords with c-TF-IDF (or cosine) weights and central documents."""

    id: int
    size: int
    words: list[tuple[str, float]]
    representative: list[int]  # document indexes, most central first
    name: str | None = None  # a human-readable label, from :meth:`TopicModel.label_topics`

    @property
    def label(self) -> str:
        return "_".join([str(self.id)] + [w for w, _ in self.words[:4]])


def _require(module: str, extra: str = "topics"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"this step needs {module}, which is not installed",
            hint=f"pip install 'textlens[{extra}]', or pass another step (e.g. --reducer pca).",
        ) from exc


class TopicModel:
    """Topics of a corpus.

    ``encoder`` is the embedding model (it shares the embedding cache with search and keywords). Every other
    option is a field of :class:`~textlens.topics.options.TopicOptions`, whose help says what it does (the same
    text ``textlens topics --help`` shows); the defaults here are its defaults.
    """

    def __init__(
        self,
        *,
        encoder: str | Encoder = DEFAULT_ENCODER,
        reducer: str | Any = TopicOptions.reducer,
        clusterer: str | Any = TopicOptions.clusterer,
        min_cluster_size: int = TopicOptions.min_cluster_size,
        min_samples: int | None = TopicOptions.min_samples,
        n_neighbors: int = TopicOptions.n_neighbors,
        n_components: int = TopicOptions.n_components,
        n_clusters: int | None = TopicOptions.n_clusters,
        seed: int = TopicOptions.seed,
        ngram_range: tuple[int, int] = TopicOptions.ngram_range,
        languages: Sequence[str] = TopicOptions.languages,
        stop_words: Sequence[str] | None = TopicOptions.stop_words,
        top_n_words: int = TopicOptions.top_n_words,
        representation: str = TopicOptions.representation,
        min_df: int | None = TopicOptions.min_df,
    ) -> None:
        o = TopicOptions(
            reducer=reducer,
            clusterer=clusterer,
            min_cluster_size=min_cluster_size,
            min_samples=min_samples,
            n_neighbors=n_neighbors,
            n_components=n_components,
            n_clusters=n_clusters,
            seed=seed,
            ngram_range=tuple(ngram_range),
            languages=tuple(languages),
            stop_words=tuple(stop_words) if stop_words is not None else None,
            top_n_words=top_n_words,
            representation=representation,
            min_df=min_df,
        )
        self.encoder = encoder
        self.reducer, self.clusterer = o.reducer, o.clusterer
        self.min_cluster_size, self.min_samples = o.min_cluster_size, o.min_samples
        self.n_neighbors, self.n_components, self.n_clusters = o.n_neighbors, o.n_components, o.n_clusters
        self.seed = o.seed
        self.ngram_range, self.top_n_words, self.representation = o.ngram_range, o.top_n_words, o.representation
        self.vocab = Vocabulary(o.languages, o.stop_words)
        self.min_df = o.min_df
        self.labels: np.ndarray = np.zeros(0, dtype=np.int64)
        self.topics: list[Topic] = []
        self.embeddings: np.ndarray | None = None
        self.reduced: np.ndarray | None = None
        self.docs: list[str] = []
        self._counts = None  # documents x terms (scipy sparse)
        self._terms: np.ndarray | None = None

    # -- fitting ---------------------------------------------------------------
    def fit(
        self,
        docs: Sequence[str],
        embeddings: np.ndarray | None = None,
        *,
        progress: Progress | None = None,
    ) -> TopicModel:
        """Fit on ``docs``; pass ``embeddings`` to skip embedding (one row per document).
        ``progress(stage, done, total)`` is called while embedding and at each later step."""
        docs = list(docs)
        empty = [i for i, d in enumerate(docs) if not d.strip()]
        if empty:
            raise InputError(
                f"{len(empty)} document(s) are empty (first at position {empty[0]})",
                hint="Remove empty documents before modelling topics.",
            )
        self._check_size(len(docs))
        self.docs = docs
        if embeddings is None:
            embeddings = self._embed(docs, progress)
        self.embeddings = _normalise(np.asarray(embeddings, np.float32))
        if len(self.embeddings) != len(docs):
            raise InputError(f"{len(self.embeddings)} embeddings for {len(docs)} documents")
        steps = ("reducing", "clustering", "counting words", "describing topics")

        def step(n: int) -> None:
            if progress:
                if n:
                    progress(steps[n - 1], 1, 1)
                progress(steps[n], 0, 1)

        step(0)
        self.reduced = self._reduce(self.embeddings)
        step(1)
        labels = np.asarray(self._cluster(self.reduced), dtype=np.int64)
        if (labels == OUTLIER).all():
            raise InputError(
                f"the clusterer put all {len(docs)} documents in no topic",
                hint=f"Lower --min-cluster-size (now {self.min_cluster_size}) or --min-samples, "
                "or use --clusterer kmeans --n-clusters K.",
            )
        step(2)
        self._count_terms()
        step(3)
        self._set_labels(labels)
        return self

    def fit_transform(self, docs: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        """Fit and return each document's topic (-1: outlier)."""
        return self.fit(docs, embeddings).labels

    def _check_size(self, n: int) -> None:
        needs = []
        if self.clusterer == "hdbscan" and n < 2 * self.min_cluster_size:
            needs.append(
                f"HDBSCAN with --min-cluster-size {self.min_cluster_size} needs at least "
                f"{2 * self.min_cluster_size} documents to find two topics"
            )
        if self.reducer == "umap" and n <= self.n_neighbors + 1:
            needs.append(f"UMAP with --n-neighbors {self.n_neighbors} needs more than {self.n_neighbors + 1}")
        if self.clusterer == "kmeans" and n < (self.n_clusters or 0):
            needs.append(f"k-means with {self.n_clusters} clusters needs at least that many documents")
        if n < 3:
            needs.append("topics need at least 3 documents")
        if needs:
            small = max(2, n // 4)
            raise InputError(
                f"the corpus has {n} document(s), too few for these settings: " + "; ".join(needs),
                hint=f"Try --min-cluster-size {small} --n-neighbors {max(2, min(15, n - 2))}, "
                "or --reducer none --clusterer kmeans --n-clusters K for a handful of documents.",
            )

    def _embed(self, docs: list[str], progress: Progress | None) -> np.ndarray:
        enc = get_encoder(self.encoder) if isinstance(self.encoder, str) else self.encoder
        cache = EmbeddingCache()
        try:
            return embed_with_cache(enc, docs, cache, progress=progress)
        finally:
            cache.close()

    def _reduce(self, x: np.ndarray) -> np.ndarray:
        r = self.reducer
        if r == "none":
            return x
        if r == "umap":
            umap = _require("umap")
            r = umap.UMAP(
                n_neighbors=self.n_neighbors,
                n_components=self.n_components,
                min_dist=0.0,
                metric="cosine",
                random_state=self.seed,
                n_jobs=1,  # a seed makes UMAP single-threaded anyway; saying so keeps it from warning
            )
        elif r == "pca":
            from sklearn.decomposition import PCA

            r = PCA(n_components=min(self.n_components, *x.shape), random_state=self.seed)
        return np.asarray(r.fit_transform(x), dtype=np.float32)

    def _cluster(self, x: np.ndarray) -> np.ndarray:
        c = self.clusterer
        if c == "hdbscan":
            from sklearn.cluster import HDBSCAN

            c = HDBSCAN(min_cluster_size=self.min_cluster_size, min_samples=self.min_samples, copy=True)
        elif c == "kmeans":
            from sklearn.cluster import KMeans

            c = KMeans(n_clusters=self.n_clusters, n_init=10, random_state=self.seed)
        if hasattr(c, "fit_predict"):
            return c.fit_predict(x)
        return c.fit(x).labels_

    # -- words -----------------------------------------------------------------
    def analyze(self, doc: str) -> list[str]:
        """The terms c-TF-IDF counts in ``doc``: candidate phrases, lowercased, once per occurrence."""
        return terms(doc, self.vocab, self.ngram_range)

    def _count_terms(self) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        min_df = self.min_df or (2 if len(self.docs) >= 1000 else 1)
        vec = CountVectorizer(analyzer=self.analyze, min_df=min_df)
        try:
            self._counts = vec.fit_transform(self.docs)
        except ValueError as exc:  # empty vocabulary
            raise InputError(
                f"no words left to describe topics ({exc})",
                hint="Check --language (its stop words may remove everything) or lower --min-df.",
            ) from exc
        self._terms = vec.get_feature_names_out()

    def _set_labels(self, labels: np.ndarray) -> None:
        """Number topics by size, then compute keywords and representative documents."""
        ids = [t for t in np.unique(labels) if t != OUTLIER]
        first = {t: int(np.argmax(labels == t)) for t in ids}
        order = sorted(ids, key=lambda t: (-int((labels == t).sum()), first[t]))
        remap = {old: new for new, old in enumerate(order)}
        self.labels = np.array([remap.get(int(t), OUTLIER) for t in labels], dtype=np.int64)
        self._describe()

    def _describe(self) -> None:
        weights = self.ctfidf()
        centroids = self.centroids()
        topics = []
        for t in range(len(centroids)):
            members = np.flatnonzero(self.labels == t)
            row = weights[t]
            best = np.argsort(-row, kind="stable")[: 30 if self.representation == "keybert" else self.top_n_words]
            words = [(str(self._terms[j]), float(row[j])) for j in best if row[j] > 0]
            if self.representation == "keybert" and words:
                words = self._rerank(words, centroids[t])
            sims = self.embeddings[members] @ centroids[t]
            central = members[np.argsort(-sims, kind="stable")[:3]]
            topics.append(Topic(t, len(members), words, [int(i) for i in central]))
        self.topics = topics

    def _rerank(self, words: list[tuple[str, float]], centroid: np.ndarray) -> list[tuple[str, float]]:
        enc = get_encoder(self.encoder) if isinstance(self.encoder, str) else self.encoder
        cache = EmbeddingCache()
        try:
            vecs = embed_with_cache(enc, [w for w, _ in words], cache)
        finally:
            cache.close()
        sims = vecs @ centroid
        order = np.argsort(-sims, kind="stable")[: self.top_n_words]
        return [(words[j][0], float(sims[j])) for j in order]

    def ctfidf(self) -> np.ndarray:
        """:func:`ctfidf` of the topics' word counts; outliers form a class of their own (they
        count in ``f(t)``) and are the last row."""
        import scipy.sparse as sp

        n_topics = int(self.labels.max()) + 1
        rows = np.where(self.labels == OUTLIER, n_topics, self.labels)
        onehot = sp.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n_topics + 1, len(rows)))
        return ctfidf(np.asarray((onehot @ self._counts).todense(), dtype=np.float64))

    def centroids(self) -> np.ndarray:
        """Unit-length mean embedding of each topic, ``(n_topics, dim)``."""
        n_topics = int(self.labels.max()) + 1
        out = np.stack([self.embeddings[self.labels == t].mean(axis=0) for t in range(n_topics)])
        return _normalise(out)

    # -- after fitting -----------------------------------------------------------
    @property
    def outlier_share(self) -> float:
        return float((self.labels == OUTLIER).mean()) if len(self.labels) else 0.0

    def reduce_outliers(self, *, target_share: float | None = None, threshold: float | None = None) -> int:
        """Assign outliers to their nearest topic (cosine to its centroid).

        ``threshold``: only outliers at least this similar move. ``target_share``: move the
        most similar outliers until at most this share of all documents is left in no
        topic (within ``threshold`` if both are given). Returns how many moved; topic ids
        stay, sizes, keywords and representative documents are recomputed.
        """
        if target_share is None and threshold is None:
            raise InputError("say how to reduce outliers", hint="Pass a target share (e.g. 0.05) or a threshold.")
        if target_share is not None and not 0 <= target_share < 1:
            raise InputError(f"the target outlier share must lie in [0, 1) (got {target_share})")
        out = np.flatnonzero(self.labels == OUTLIER)
        if not len(out):
            return 0
        sims = self.embeddings[out] @ self.centroids().T
        best, score = sims.argmax(axis=1), sims.max(axis=1)
        order = np.argsort(-score, kind="stable")
        allowed = order if threshold is None else order[score[order] >= threshold]
        if target_share is not None:
            keep = int(np.floor(target_share * len(self.labels)))
            allowed = allowed[: max(0, len(out) - keep)]
        self.labels[out[allowed]] = best[allowed]
        self._describe()
        return len(allowed)

    def merge_topics(self, nr_topics: int) -> int:
        """Merge down to ``nr_topics``: the smallest topic joins its most similar one (centroid
        cosine), again and again; then topics are renumbered by size. Returns merges made."""
        if nr_topics < 1:
            raise InputError(f"--nr-topics must be at least 1 (got {nr_topics})")
        labels = self.labels.copy()
        ids = [int(t) for t in np.unique(labels) if t != OUTLIER]
        sums = {t: self.embeddings[labels == t].sum(axis=0) for t in ids}  # a centroid's direction, kept up to date
        sizes = {t: int((labels == t).sum()) for t in ids}
        merges = 0
        while len(ids) > nr_topics:
            small = min(ids, key=lambda t: (sizes[t], -t))
            cents = {t: v / max(float(np.linalg.norm(v)), 1e-12) for t, v in sums.items()}
            other = max((t for t in ids if t != small), key=lambda t: (float(cents[small] @ cents[t]), -t))
            labels[labels == small] = other
            sums[other] += sums.pop(small)
            sizes[other] += sizes.pop(small)
            ids.remove(small)
            merges += 1
        if merges:
            self._set_labels(labels)
        return merges

    def label_topics(self, llm=None, **options):
        """A short label per topic by a language model (:func:`textlens.topics.labels.label_topics`),
        stored as ``Topic.name``; call it after merging topics or reducing outliers (they describe
        the topics anew)."""
        from textlens.topics.labels import label_topics

        return label_topics(self, llm, **options)

    def topic_of(self, doc_index: int) -> Topic | None:
        t = int(self.labels[doc_index])
        return None if t == OUTLIER else self.topics[t]

    def similarity_to_topic(self) -> np.ndarray:
        """Each document's cosine to its topic's centroid (outliers: to the nearest centroid)."""
        sims = self.embeddings @ self.centroids().T
        own = np.where(self.labels == OUTLIER, sims.argmax(axis=1), self.labels)
        return sims[np.arange(len(own)), own]

    def _repr_html_(self) -> str:
        """The ``topics --html`` page: map, top words and table (Jupyter shows it inline)."""
        from textlens.topics.render import topics_html

        return topics_html(self, self.map_2d(), [f"document {i}" for i in range(len(self.labels))])

    def map_2d(self) -> np.ndarray:
        """A seeded 2-D layout of the documents for plotting: with the UMAP reducer, UMAP of
        its output (the space the clusters were found in); with any other, PCA of the embeddings."""
        if self.reducer == "umap":
            umap = _require("umap")
            r = umap.UMAP(n_neighbors=self.n_neighbors, n_components=2, min_dist=0.1, random_state=self.seed, n_jobs=1)
            return np.asarray(r.fit_transform(self.reduced), dtype=np.float32)
        from sklearn.decomposition import PCA

        return np.asarray(PCA(n_components=2, random_state=self.seed).fit_transform(self.embeddings), np.float32)

    def doc_term_presence(self):
        """Documents x terms, 1 where the term occurs (for coherence)."""
        return (self._counts > 0).astype(np.float64).tocsc()

    @property
    def terms(self) -> np.ndarray:
        return self._terms


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)
