"""Embed a large corpus on a Ray cluster (Ray Data), and write it into a collection in batches.

``textlens index ... --ray ADDRESS`` (``auto``: ``RAY_ADDRESS`` or the cluster started on this
machine by ``ray start``): the texts the collection lacks go out as a Ray dataset; ``map_batches``
runs them through a pool of actors, each holding the collection's encoder (so every node must have
textlens and the model installed); the driver takes the vectors as they come back and adds the
documents a batch (one transaction) at a time, the vectors going through the embedding cache so the
collection embeds nothing itself.

Failures: an actor that dies is restarted by Ray and its batch is run again (its vectors were never
written); a driver that dies loses only the batches not yet committed, and the same command run
again adds just the ids the collection does not hold: nothing is written twice. Each batch is
checked to come from the collection's weights (the encoder's fingerprint) before it is written.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import time
from collections.abc import Iterable
from typing import Any

from textlens.corpus.document import Document
from textlens.errors import InputError
from textlens.index import AddReport, CollectionError
from textlens.progress import Progress


class RayError(CollectionError):
    """No Ray cluster at the address, or it cannot run the encoder."""


class _Embedder:
    """A Ray Data actor: one encoder, loaded once, embedding batch after batch."""

    def __init__(self, name: str) -> None:
        from textlens.embed import get_encoder

        self.encoder = get_encoder(name)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        vectors = self.encoder.encode(list(batch["text"]))
        return {
            "row": batch["row"],
            "vector": np.asarray(vectors, dtype=np.float32),
            "fingerprint": np.array([self.encoder.fingerprint] * len(batch["row"])),
        }


def connect(address: str) -> dict[str, Any]:
    """Join the Ray cluster at ``address``; its nodes and CPUs."""
    import ray

    if address != "auto":  # a closed port would keep ray.init waiting for minutes
        host, _, port = address.removeprefix("ray://").rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
        except (OSError, ValueError) as exc:
            raise RayError(
                f"no Ray cluster at {address!r}: {exc}",
                hint="Start one (ray start --head on the first machine, ray start --address HEAD:6379 on the "
                "others), then pass its address as HEAD:PORT, or auto with RAY_ADDRESS set.",
            ) from exc
    if ray.is_initialized():
        ray.shutdown()
    try:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR", configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayError(
            f"no Ray cluster at {address!r}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}",
            hint="Start one (ray start --head on the first machine, ray start --address HEAD:6379 on the others), "
            "then pass its address (HEAD:6379), or auto with RAY_ADDRESS set.",
        ) from exc
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {"nodes": len(nodes), "cpus": int(sum(n["Resources"].get("CPU", 0) for n in nodes))}


def index_with_ray(
    col,
    docs: Iterable[Document],
    address: str,
    *,
    embed_batch: int = 64,
    write_batch: int = 512,
    workers: int | None = None,
    progress: Progress | None = None,
) -> AddReport:
    """Add the documents of ``docs`` that ``col`` lacks, embedded on the Ray cluster at ``address``.

    Args:
        embed_batch: texts an actor embeds per call.
        write_batch: documents per transaction.
        workers: encoder actors (default: one per CPU of the cluster).
    """
    if not col.manifest.get("encoder"):
        raise InputError(
            f"collection {col.name!r} has no encoder: there is nothing for a Ray cluster to embed",
            hint="Drop --ray (keyword-only collections index without embedding).",
        )
    start = time.perf_counter()
    report = AddReport()
    have = col.stored_ids()
    todo = []
    for doc in docs:
        if not doc.text.strip():
            report.skipped_empty.append(doc.id)
        elif doc.id not in have:
            todo.append(doc)
    if not todo:
        return report
    from textlens.embed.images import reads_images

    if any("image" in d.metadata for d in todo) and reads_images(col.encoder):
        raise InputError(
            f"collection {col.name!r} embeds pictures from their files, which the Ray cluster's machines may not "
            "have; Ray embeds texts",
            hint="Index the pictures without --ray.",
        )
    import ray

    # Ray's own notices (a task retried, an actor restarted) go to stderr: stdout stays the command's
    with contextlib.redirect_stdout(sys.stderr):
        try:
            _run(col, todo, address, report, embed_batch, write_batch, workers, progress)
        finally:
            ray.shutdown()  # this driver leaves the cluster (which keeps running)
    report.seconds = time.perf_counter() - start
    return report


def _run(col, todo, address, report, embed_batch, write_batch, workers, progress) -> None:
    import numpy as np
    import ray.data

    from textlens.embed.cache import EmbeddingCache, text_key

    cluster = connect(address)
    name, fingerprint = col.manifest["encoder"]["name"], col.encoder.fingerprint
    texts = [col.embedded_text(d) for d in todo]
    ds = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
    vectors = ds.map_batches(
        _Embedder,
        fn_constructor_args=(name,),
        batch_size=embed_batch,
        concurrency=workers or max(1, cluster["cpus"]),
        num_cpus=1,  # Ray Data restarts an actor that dies and runs its batch again (its default)
    )
    cache = EmbeddingCache()
    try:
        for batch in vectors.iter_batches(batch_size=write_batch, batch_format="numpy"):
            foreign = set(batch["fingerprint"].tolist()) - {fingerprint}
            if foreign:
                raise RayError(
                    f"a Ray worker embedded with other weights of {name} (fingerprint {sorted(foreign)[0][:12]}..., "
                    f"the collection's {fingerprint[:12]}...); nothing of that batch was written",
                    hint="Install the same model version on every node of the cluster.",
                )
            rows = [int(r) for r in batch["row"]]
            cache.put_many(
                fingerprint, [(text_key(texts[r]), np.asarray(v)) for r, v in zip(rows, batch["vector"], strict=True)]
            )
            added = col.add([todo[r] for r in rows], batch_size=len(rows))
            report.added += added.added
            report.cache_hits += added.cache_hits
            report.embedded += added.embedded  # 0 unless the cache lost them: then the driver embeds
            if progress:
                progress("indexed", report.added, len(todo))
    finally:
        cache.close()
