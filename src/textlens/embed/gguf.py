"""GGUF embedding models run by llama.cpp (the ``xllamacpp`` wheel), e.g. nomic-embed-text-v1.5.

The model's own pooling (read from the GGUF) gives one vector per text; textlens normalises
it. Models trained with task prefixes get them here: ``search_query: `` before a query and
``search_document: `` before a passage for nomic-embed (from the encoder catalog). A text
longer than the context is cut at ``max_length`` tokens of the model's own vocabulary.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence

import numpy as np

from textlens.embed.base import Progress, encode_by_length
from textlens.errors import AssetError, MissingDependency
from textlens.models.ref import ModelRef, resolve


class GGUFEncoder:
    """An :class:`~textlens.embed.base.Encoder` over a GGUF embedding model (catalog name or ``.gguf`` path).

    A ``@N`` suffix cuts texts at N tokens (default: the catalog's ``max_length``, else 512).
    """

    def __init__(self, model: str | ModelRef, *, threads: int | None = None) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise MissingDependency(
                "GGUF encoders run in llama.cpp (xllamacpp), which is not installed", hint="pip install 'textlens[llm]'"
            ) from exc
        from textlens.models.encoders import locate_encoder

        ref = resolve(model)
        if ref.kind == "gguf-encoder":
            entry = ref.entry
            path = locate_encoder(entry)  # checked against its pinned sha256 (remembered once hashed)
            if path is None:
                raise AssetError(
                    f"the encoder {entry.name} is not pulled yet",
                    hint=f"Run: textlens models pull {entry.name}",
                    api_hint=f"Pull it first: textlens.models.encoders.pull_encoder({entry.name!r}).",
                )
            self.query_prefix, self.document_prefix = entry.query_prefix, entry.document_prefix
            self.dim, limit, self.name = entry.dim, entry.max_length, entry.name
        elif ref.kind == "gguf":
            path = ref.require_path().resolve()
            if not path.is_file():
                raise AssetError(f"no GGUF file at {path}", hint="Give the path of a .gguf embedding model.")
            self.query_prefix = self.document_prefix = ""
            self.dim, limit, self.name = 0, 512, str(path)
        else:
            raise AssetError(f"{ref.text!r} is not a GGUF embedding model", hint="Give a .gguf file or a catalog name.")
        cut = ref.max_length
        self.path = path
        self.max_length = cut or limit
        self.name += f"@{cut}" if cut else ""
        stat = path.stat()
        self.fingerprint = hashlib.sha256(f"{self.name}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.embedding = True
        params.n_ctx = params.n_batch = params.n_ubatch = self.max_length + 16  # one text fits one batch
        params.n_parallel = 1
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads or os.cpu_count() or 1
        params.verbosity = -1
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # llama.cpp reports a bad file as a bare RuntimeError
            raise AssetError(
                f"llama.cpp could not load the embedding model {path}: {exc}", hint="Pull it again or check the file."
            ) from exc
        self._lock = threading.Lock()
        self._tokenizer = None
        if not self.dim:
            self.dim = len(self._embed(["dimension probe"])[0])

    def _cut(self, text: str) -> str:
        """``text`` cut to ``max_length`` tokens of the model's vocabulary (most texts are left whole)."""
        if len(text) <= self.max_length * 2:  # no tokenizer needed: a token spans at least half a character
            return text
        if self._tokenizer is None:
            from textlens.tokens import get_tokenizer

            self._tokenizer = get_tokenizer(str(self.path))
        ids = self._tokenizer.encode(text)
        room = self.max_length - 12  # the prefix and the BOS/EOS tokens llama.cpp adds
        return text if len(ids) <= room else self._tokenizer.decode(ids[:room])

    def _embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            reply = self._server.handle_embeddings({"input": texts, "encoding_format": "float"})
        if not isinstance(reply, dict) or "data" not in reply:
            message = reply.get("error", reply) if isinstance(reply, dict) else reply
            raise AssetError(f"llama.cpp could not embed with {self.name}: {message}", hint="See the message above.")
        rows = sorted(reply["data"], key=lambda item: item["index"])
        vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, progress: Progress | None = None) -> np.ndarray:
        def run(batch: list[str]) -> np.ndarray:
            return self._embed([self.document_prefix + self._cut(t) for t in batch])

        return encode_by_length(texts, self.dim, run, batch_size, progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self.query_prefix + self._cut(t) for t in texts])
