"""``textlens.Collection``: the one object a user needs to index documents, search them and ask questions.

It is the public face over a backend (:mod:`textlens.index`: this machine's folders or PostgreSQL), chosen when
the collection is created or opened, and adds what sits above storage: reading files (:meth:`Collection.add_path`)
and grounded answers (:meth:`Collection.ask`, a thin call into :mod:`textlens.ask`). Everything a backend
offers beyond these (``info``, ``snapshot``, ``path``...) is reachable on the object as well.

Example:
    >>> import textlens
    >>> col = textlens.Collection.create("notes")                        # doctest: +SKIP
    >>> col.add_path("notes/", chunk="paragraph")                        # doctest: +SKIP
    >>> col.search("how do I rotate the logs?", mode="hybrid", k=5)      # doctest: +SKIP
    >>> col.ask("How often are the logs rotated?")                       # doctest: +SKIP
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from textlens.ask import Answer, AskOptions, answer_collection
from textlens.config import DEFAULT_ENCODER
from textlens.corpus import Chunker, Document, FieldMap, read_documents
from textlens.errors import InputError
from textlens.index import (
    BATCH_SIZE,
    AddReport,
    CollectionBase,
    collection_exists,
    create_collection,
    list_collections,
    open_collection,
)
from textlens.llm.base import OnText
from textlens.progress import Progress
from textlens.search.options import SearchOptions
from textlens.search.results import Results


class Collection:
    """Documents with a keyword index and vectors, searched by keywords, meaning or both, and asked questions.

    Make one with :meth:`create` or :meth:`open` (not the constructor). ``backend``: ``None``
    (``TEXTLENS_BACKEND``, else ``$TEXTLENS_HOME/collections``), ``"local"`` or a ``postgresql://`` URL.
    Use it as a context manager, or :meth:`close` it.
    """

    def __init__(self, backend: CollectionBase) -> None:
        self.backend = backend
        """The backend's collection (local or PostgreSQL) this object speaks for."""

    # -- making and finding collections ----------------------------------------------------------------------
    @staticmethod
    def create(
        name: str | Path,
        *,
        encoder: str | Any | None = DEFAULT_ENCODER,
        language: str = "english",
        vector_index: str = "auto",
        keyword_index: str = "auto",
        embed_title: bool = True,
        exist_ok: bool = False,
        backend: str | None = None,
    ) -> Collection:
        """Create a collection (see :func:`textlens.index.create_collection` for each option)."""
        return Collection(
            create_collection(
                name,
                encoder=encoder,
                language=language,
                vector_index=vector_index,
                keyword_index=keyword_index,
                embed_title=embed_title,
                exist_ok=exist_ok,
                backend=backend,
            )
        )

    @staticmethod
    def open(name: str | Path, *, encoder: str | Any | None = None, backend: str | None = None) -> Collection:
        """Open an existing collection; ``encoder``, if given, must be the one it was built with."""
        return Collection(open_collection(name, encoder=encoder, backend=backend))

    @staticmethod
    def exists(name: str | Path, *, backend: str | None = None) -> bool:
        """Whether a collection by that name (or at that path) exists."""
        return collection_exists(name, backend=backend)

    @staticmethod
    def list(backend: str | None = None) -> list[dict[str, Any]]:
        """Every collection in the backend: name, documents, encoder."""
        return list_collections(backend)

    # -- writing ---------------------------------------------------------------------------------------------
    def add(
        self,
        docs: Iterable[Document],
        *,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
        upsert: bool = False,
    ) -> AddReport:
        """Add documents, a transaction a batch (an id already present is an error unless ``upsert``)."""
        return self.backend.add(docs, batch_size=batch_size, progress=progress, upsert=upsert)

    def upsert(
        self, docs: Iterable[Document], *, batch_size: int = BATCH_SIZE, progress: Progress | None = None
    ) -> AddReport:
        """Add documents, replacing those whose id exists."""
        return self.backend.upsert(docs, batch_size=batch_size, progress=progress)

    def add_path(
        self,
        path: str | Path,
        *,
        chunk: str = "none",
        chunk_size: int = 0,
        overlap: int = 0,
        format: str | None = None,
        fields: FieldMap | None = None,
        captions: str | Path | None = None,
        upsert: bool = False,
        progress: Progress | None = None,
    ) -> AddReport:
        """Read documents from files and add them, cut into passages.

        Args:
            path: a file (JSONL, CSV, Parquet), a folder (text and Markdown files, or a BEIR folder), a glob
                (``"notes/**/*.md"``), ``"wikipedia"`` or ``hf:ORG/NAME``: whatever
                :func:`~textlens.corpus.read_documents` reads.
            chunk: ``none``, ``paragraph``, ``sentence`` or ``tokens`` (see :class:`~textlens.corpus.Chunker`);
                ``chunk_size`` and ``overlap`` as there.
            format: as :func:`~textlens.corpus.read_documents` takes it (default: guessed from the path).
            fields: which record fields hold id, text and title (default ``id``, ``text``, ``title``).
            captions: pictures: a JSONL of captions joined by file name (default: the folder's ``metadata.jsonl``);
                the caption is the ``fields.text`` field. A folder of pictures is read as images (see
                :func:`~textlens.corpus.images.image_documents`); an image-text encoder embeds their pixels.
            upsert: replace documents whose id exists. Otherwise the add resumes: documents (and chunks) already
                in the collection are skipped, so running it again after an interruption adds only the rest.
            progress: ``progress(stage, done, total)`` as documents are embedded and indexed.
        """
        chunker = Chunker(chunk, size=chunk_size, overlap=overlap)  # type: ignore[arg-type]
        docs: Iterable[Document] = chunker(_read(path, format=format, fields=fields, captions=captions))
        if not upsert:
            stored = self.backend.stored_ids()
            docs = (d for d in docs if d.id not in stored)
        return self.backend.add(docs, progress=progress, upsert=upsert)

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; a whole-document id also deletes its chunks. Returns the count."""
        return self.backend.delete(ids)

    def delete_collection(self) -> None:
        """Remove the collection and everything in it."""
        self.backend.delete_collection()

    # -- reading ---------------------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        mode: str = SearchOptions.mode,
        k: int = SearchOptions.k,
        filters: dict[str, Any] | None = SearchOptions.filters,
        rerank: str | Any | None = SearchOptions.rerank,
        rerank_weight: float = SearchOptions.rerank_weight,
        rerank_depth: int | None = SearchOptions.rerank_depth,
        fusion: str = SearchOptions.fusion,
        weights: tuple[float, float] = SearchOptions.weights,
        candidates: int = SearchOptions.candidates,
        group_by_document: bool = SearchOptions.group_by_document,
        bm25: tuple[float, float] | None = SearchOptions.bm25,
        title_boost: float | None = SearchOptions.title_boost,
        highlight: bool = SearchOptions.highlight,
        encoder: str | Any | None = None,
        image: str | Path | bytes | Any | None = None,
    ) -> Results:
        """Search by keywords, meaning or both; or by a picture.

        Every option but ``encoder`` and ``image`` is a field of :class:`~textlens.search.options.SearchOptions`,
        whose help says what it does; the defaults here are its defaults. ``encoder``, if given, must be the one
        the collection was built with. ``image`` (a path, bytes or a PIL image; the collection's encoder must read
        images): search by the picture's vector (``query`` may be ``""``; with words and ``mode="hybrid"``, BM25
        reads the words).
        """
        options = SearchOptions(
            mode=mode,
            k=k,
            filters=filters,
            rerank=rerank,
            rerank_weight=rerank_weight,
            rerank_depth=rerank_depth,
            fusion=fusion,
            weights=weights,
            candidates=candidates,
            group_by_document=group_by_document,
            bm25=bm25,
            title_boost=title_boost,
            highlight=highlight,
        )
        return self.backend.search(query, options, encoder=encoder, image=image)

    def ask(
        self,
        question: str,
        *,
        mode: str | None = AskOptions.mode,
        k: int = AskOptions.k,
        filters: dict[str, Any] | None = AskOptions.filters,
        rerank: str | Any | None = AskOptions.rerank,
        llm: str | Any | None = AskOptions.llm,
        style: str = AskOptions.style,
        max_tokens: int = AskOptions.max_tokens,
        max_passage_tokens: int = AskOptions.max_passage_tokens,
        temperature: float = AskOptions.temperature,
        seed: int = AskOptions.seed,
        constrain: bool = AskOptions.constrain,
        support_threshold: float | None = AskOptions.support_threshold,
        abstain_threshold: float | None = AskOptions.abstain_threshold,
        unsupported: str = AskOptions.unsupported,
        on_text: OnText | None = None,
    ) -> Answer:
        """Answer ``question`` from this collection's passages, citing them.

        Every option but ``on_text`` (which receives the model's text as it streams) is a field of
        :class:`~textlens.ask.options.AskOptions`, whose help says what it does; the defaults here are its defaults.
        """
        options = AskOptions(
            mode=mode,
            k=k,
            filters=filters,
            rerank=rerank,
            llm=llm,
            style=style,
            max_tokens=max_tokens,
            max_passage_tokens=max_passage_tokens,
            temperature=temperature,
            seed=seed,
            constrain=constrain,
            support_threshold=support_threshold,
            abstain_threshold=abstain_threshold,
            unsupported=unsupported,
        )
        return answer_collection(self.backend, question, options, on_text=on_text)

    def get(self, doc_id: str) -> Document | None:
        """The document (or chunk) with this id, if there is one."""
        return self.backend.get(doc_id)

    def documents(self) -> list[Document]:
        """Every live document (or chunk), in the order they were added."""
        return self.backend.documents()

    def info(self) -> dict[str, Any]:
        """Name, documents, encoder, language, vector index, fields and size."""
        return self.backend.info()

    @property
    def name(self) -> str:
        return self.backend.name

    def __len__(self) -> int:
        return len(self.backend)

    def __getattr__(self, attr: str) -> Any:
        """What the backend offers beyond the methods above (``snapshot``, ``manifest``, ``path``...)."""
        if attr == "backend":  # not set yet (unpickling, a subclass's __init__): no recursion
            raise AttributeError(attr)
        return getattr(self.backend, attr)

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, {len(self):,} documents, {type(self.backend).__name__})"

    # -- lifetime --------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the backend's connections and its write lock."""
        self.backend.close()

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read(
    path: str | Path, *, format: str | None, fields: FieldMap | None, captions: str | Path | None = None
) -> Iterator[Document]:
    """Documents of a path, a glob (every match in order) or a named source."""
    text = str(path)
    if glob.has_magic(text) and not Path(text).exists():
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            raise InputError(f"no file matches {text!r}", hint="Check the pattern (** matches folders too).")
        for match in matches:
            if Path(match).is_file():
                yield from read_documents(match, format=format, fields=fields)
        return
    yield from read_documents(path, format=format, fields=fields, captions=captions)
