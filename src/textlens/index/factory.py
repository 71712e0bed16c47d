"""Where a collection lives, chosen once: this machine's folders or PostgreSQL.

``backend``: ``None`` (``TEXTLENS_BACKEND``, else ``$TEXTLENS_HOME/collections``), ``"local"``, or a
``postgresql://`` URL. A bare name lives in the backend; a ``Path``, or text with a slash or a leading ``.``,
is a local folder (the CLI's and Python's convenience; the server passes names only). Every function returns
(or lists) a :class:`~textlens.index.base.CollectionBase` of the chosen backend; ``textlens.Collection`` is the
public face over them.

Example:
    >>> from textlens.corpus import Document
    >>> col = create_collection("notes", encoder=None)
    >>> col.add([Document("1", "The cat sat on the mat.")])
    >>> col.search("cats", mode="keyword").ids()
    ['1']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textlens.config import DEFAULT_ENCODER, settings
from textlens.errors import InputError, TextlensError
from textlens.index.base import CollectionBase, check_name
from textlens.index.local import LocalCollection


def collections_root() -> Path:
    """The folder of the local backend's named collections: ``$TEXTLENS_HOME/collections``."""
    return settings().home / "collections"


def _is_path(name: str | Path) -> bool:
    text = str(name)
    return isinstance(name, Path) or "/" in text or "\\" in text or text.startswith(".")


def backend_url(name: str | Path, backend: str | None) -> str | None:
    """The PostgreSQL URL a collection lives at, or ``None`` for this machine's folders: ``backend``,
    else ``TEXTLENS_BACKEND``; a path (a ``Path``, or text with a slash or a leading ``.``) is local."""
    text = str(name)
    if _is_path(name):
        if backend not in (None, "local"):
            raise InputError(
                f"{text!r} is a folder; a collection in {backend.split('://')[0]} has a name, not a path",
                hint="Name the collection (letters, digits, '.', '_', '-'), or drop the backend for a local folder.",
            )
        return None
    backend = settings().backend if backend is None else backend
    if backend in (None, "", "local"):
        return None
    from textlens.index.postgres import is_postgres

    if not is_postgres(backend):
        raise InputError(
            f"unknown backend {backend.split('://')[0] + '://...' if '://' in backend else backend!r}",
            hint="Use local, or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL (TEXTLENS_BACKEND or --backend).",
        )
    return backend


def collection_path(name: str | Path) -> Path:
    """The folder of a local collection: a bare name under :func:`collections_root`, a path as it is."""
    if _is_path(name):
        return Path(str(name)).expanduser()
    return collections_root() / check_name(str(name))


def create_collection(
    name: str | Path,
    *,
    encoder: str | Any | None = DEFAULT_ENCODER,
    language: str = "english",
    vector_index: str = "auto",
    keyword_index: str = "auto",
    embed_title: bool = True,
    exist_ok: bool = False,
    backend: str | None = None,
) -> CollectionBase:
    """Create a collection.

    Args:
        name: a collection name, or (local backend) a folder path.
        encoder: embedding model id, folder or :class:`~textlens.embed.Encoder`; ``None`` for keyword search only.
        language: stemming and stop words of the keyword index.
        vector_index: ``auto``, ``exact``, ``hnsw``, ``int8`` or ``binary`` (PostgreSQL: ``hnsw``, ``diskann``,
            ``exact``).
        keyword_index: ``auto``; PostgreSQL: ``pg_textsearch`` (BM25 index; ``auto`` where the server has it) or
            ``sql`` (BM25 computed in SQL; any PostgreSQL with pgvector). Local collections use tantivy.
        embed_title: embed title and text together (as BEIR evaluations do), not the text alone.
        exist_ok: open the collection if it exists (with the same encoder) instead of failing.
        backend: ``None`` (``TEXTLENS_BACKEND``, else local), ``"local"`` or a ``postgresql://`` URL.
    """
    options = {"encoder": encoder, "language": language, "vector_index": vector_index, "embed_title": embed_title}
    url = backend_url(name, backend)
    if url is not None:
        from textlens.index.postgres import PgCollection

        return PgCollection.create(str(name), url, exist_ok=exist_ok, keyword_index=keyword_index, **options)
    if keyword_index not in ("auto", "tantivy"):
        raise InputError(
            f"keyword index {keyword_index!r} is PostgreSQL's; a local collection keeps its keywords in tantivy",
            hint="Drop --keyword-index, or name a postgresql:// backend.",
        )
    return LocalCollection.create(collection_path(name), exist_ok=exist_ok, **options)


def open_collection(
    name: str | Path, *, encoder: str | Any | None = None, backend: str | None = None
) -> CollectionBase:
    """Open an existing collection; ``encoder``, if given, must be the one it was built with."""
    url = backend_url(name, backend)
    if url is not None:
        from textlens.index.postgres import PgCollection

        return PgCollection.open(str(name), url, encoder=encoder)
    return LocalCollection.open(collection_path(name), encoder=encoder)


def collection_exists(name: str | Path, *, backend: str | None = None) -> bool:
    """Whether a collection by that name (or at that path) exists."""
    url = backend_url(name, backend)
    if url is not None:
        from textlens.index.postgres import exists

        return exists(str(name), url)
    return (collection_path(name) / "collection.json").is_file()


def list_collections(backend: str | None = None) -> list[dict[str, Any]]:
    """Every collection in ``backend`` (default: ``TEXTLENS_BACKEND``, else ``$TEXTLENS_HOME/collections``)."""
    url = backend_url("", backend)
    if url is not None:
        from textlens.index.postgres import list_pg_collections

        return list_pg_collections(url)
    root = collections_root()
    out = []
    for mf in sorted(root.glob("*/collection.json")) if root.is_dir() else []:
        try:
            with LocalCollection.open(mf.parent) as col:
                out.append(
                    {
                        "name": col.name,
                        "documents": len(col),
                        "encoder": (col.manifest.get("encoder") or {}).get("name"),
                        "path": str(mf.parent),
                    }
                )
        except TextlensError as exc:
            out.append({"name": mf.parent.name, "error": exc.message, "path": str(mf.parent)})
    return out
