"""An embedding cache: unchanged text is never embedded twice by the same model.

One SQLite file (WAL) under ``$TEXTLENS_HOME/cache``, keyed by the encoder's
fingerprint and the sha256 of the text; vectors are stored as float32 bytes.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textlens.config import settings
from textlens.embed.base import Encoder, Progress


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors by (encoder fingerprint, text sha256)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings().home / "cache" / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (model TEXT, key BLOB, vec BLOB, PRIMARY KEY (model, key))")
        self.hits = 0
        self.misses = 0

    def get_many(self, model: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, vec FROM emb WHERE model=? AND key IN ({marks})", [model, *chunk])
            for key, vec in rows:
                found[key] = np.frombuffer(vec, dtype=np.float32)
        return found

    def put_many(self, model: str, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    def close(self) -> None:
        self._db.close()


def embed_with_cache(
    encoder: Encoder,
    texts: Sequence[Any],
    cache: EmbeddingCache | None,
    *,
    batch_size: int = 64,
    progress: Progress | None = None,
    keys: Sequence[bytes] | None = None,
    encode: Callable[..., np.ndarray] | None = None,
) -> np.ndarray:
    """Embed ``texts``, taking what the cache has and storing what it lacks.

    ``keys`` and ``encode`` embed other things than texts the same way (pictures: their files' hashes and
    ``encoder.encode_images``); by default the texts' sha256 and ``encoder.encode``."""
    encode = encode or encoder.encode
    out = np.empty((len(texts), encoder.dim), dtype=np.float32)
    if cache is None:
        out[:] = encode(texts, batch_size=batch_size, progress=progress)
        return out
    keys = list(keys) if keys is not None else [text_key(t) for t in texts]
    found = cache.get_many(encoder.fingerprint, list(dict.fromkeys(keys)))
    todo: dict[bytes, list[int]] = {}
    for n, key in enumerate(keys):
        if key in found:
            out[n] = found[key]
        else:
            todo.setdefault(key, []).append(n)
    cache.hits += len(keys) - sum(len(v) for v in todo.values())
    cache.misses += len(todo)
    if todo:
        firsts = [rows[0] for rows in todo.values()]
        vecs = encode([texts[i] for i in firsts], batch_size=batch_size, progress=progress)
        for rows, vec in zip(todo.values(), vecs, strict=True):
            out[rows] = vec
        cache.put_many(encoder.fingerprint, list(zip(todo.keys(), vecs, strict=True)))
    elif progress:
        progress("embedding", len(texts), len(texts))
    return out
