"""Train retrieval models on your own judgements: a cross-encoder reranker and a fine-tuned encoder.

``train_reranker`` and ``train_encoder`` read training queries and qrels (a BEIR folder's
``train`` split, or files over an existing collection), mine hard negatives with the
collection's own hybrid search, hold a dev split out for early stopping, estimate the time
first, and write a plain model folder only if the dev nDCG@10 improved (see
:mod:`textlens.train.core`). The folder is what ``--rerank`` / ``--encoder`` accept.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textlens.errors import InputError
from textlens.progress import Progress
from textlens.train.core import Events, TrainConfig, TrainReport, fit
from textlens.train.data import load_judgements, mine_negatives

RERANKER_BASE = "all-MiniLM-L6-v2"
RERANKER_DEFAULTS = {
    "epochs": 3,
    "batch_size": 32,
    "learning_rate": 7e-5,
    "head_learning_rate": 2e-3,
    "max_length": 192,
    "negatives": 3,
    "random_negatives": 1,
}
ENCODER_DEFAULTS = {"epochs": 3, "batch_size": 16, "learning_rate": 2e-5, "negatives": 7}
IMAGE_TEXT_DEFAULTS = {"epochs": 40, "batch_size": 64, "learning_rate": 2e-3, "dev_fraction": 0.1, "patience": 6}


def _prepare(
    source: str | Path | None,
    *,
    collection: str | None,
    qrels: str | Path | None,
    queries: str | Path | None,
    split: str,
    encoder: str | None,
    config: TrainConfig,
    progress: Progress | None,
):
    """Open (or build) the collection, read the judgements, mine negatives, fetch the texts."""
    from textlens.config import DEFAULT_ENCODER
    from textlens.errors import InputError
    from textlens.evaluate.data import beir_paths
    from textlens.evaluate.runner import open_or_build
    from textlens.index import open_collection
    from textlens.train.models import Prepared

    if source is not None:
        _, queries_path, qrels_path = beir_paths(Path(source), split)
        queries_path, qrels_path = Path(queries or queries_path), Path(qrels or qrels_path)
        col, _ = open_or_build(
            Path(source),
            collection=collection,
            need_vectors=True,
            encoder=encoder or DEFAULT_ENCODER,
            progress=progress,
        )
    elif collection and qrels and queries:
        col, queries_path, qrels_path = open_collection(collection), Path(queries), Path(qrels)
    else:
        raise InputError(
            "no training data given",
            hint="Pass a BEIR folder (its qrels/train.tsv is read), or --collection with --qrels and --queries.",
            api_hint="Pass a BEIR folder, or collection= with qrels= and queries=.",
        )
    if col.is_chunked():
        col.close()
        raise InputError(
            f"collection {col.name!r} holds chunks; training reads whole judged documents",
            hint="Train on a collection indexed without chunking (the judged documents whole).",
        )
    judgements = load_judgements(
        queries_path, qrels_path, col.document_ids(), dev_fraction=config.dev_fraction, seed=config.seed
    )
    candidates = mine_negatives(col, judgements, per_query=config.negatives, margin=config.margin, progress=progress)
    texts = {doc.id: doc.titled_text for doc in col.documents()}
    return col, Prepared(judgements, candidates, texts)


def _data_report(prepared, col) -> dict[str, Any]:
    mined = prepared.candidates.negatives
    return {
        **prepared.judgements.to_dict(),
        "collection": col.name,
        "negatives_per_query": round(sum(map(len, mined.values())) / max(1, len(mined)), 2),
        "dropped_as_false_negatives": prepared.candidates.dropped_as_false_negatives,
    }


def _train(
    kind: str,
    source: str | Path | None,
    output: str | Path | None,
    *,
    base: str | None = None,
    collection: str | None = None,
    qrels: str | Path | None = None,
    queries: str | Path | None = None,
    split: str = "train",
    encoder: str | None = None,
    overwrite: bool = False,
    estimate_only: bool = False,
    on_event: Events | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> TrainReport:
    from textlens.train.models import EncoderTask, RerankerTask

    defaults = RERANKER_DEFAULTS if kind == "reranker" else ENCODER_DEFAULTS
    config = replace(TrainConfig(**defaults), **{k: v for k, v in options.items() if v is not None})
    config.check()
    col, prepared = _prepare(
        source,
        collection=collection,
        qrels=qrels,
        queries=queries,
        split=split,
        encoder=encoder,
        config=config,
        progress=progress,
    )
    with col:
        if kind == "reranker":
            task = RerankerTask(base or RERANKER_BASE, prepared, config)
        else:
            task = EncoderTask(base or col.manifest["encoder"]["name"], prepared, config)
        return fit(
            task,
            config,
            Path(output).expanduser() if output else None,
            data=_data_report(prepared, col),
            overwrite=overwrite,
            estimate_only=estimate_only,
            on_event=on_event,
            progress=progress,
        )


def train_reranker(source: str | Path | None = None, output: str | Path | None = None, **kwargs: Any) -> TrainReport:
    """Train a cross-encoder reranker; write it to ``output`` if it beats the first stage on dev.

    Args:
        source: a BEIR folder (its ``qrels/{split}.tsv`` and queries), or None with ``collection``,
            ``qrels`` and ``queries`` (paths).
        output: the model folder to write (new, or ``overwrite=True``); None: train and report only.
        base: the starting weights (default all-MiniLM-L6-v2's; a new one-score head is added).
        split: the BEIR qrels split to train on (``train``).
        encoder: the encoder of a collection built from ``source`` (for dense negative mining).
        estimate_only: time a few steps, report the estimate, train nothing.
        on_event: called with each event (parameters, estimate, loss, dev, early stop) as a dict.
        progress: ``progress(stage, done, total)``.
        Any other keyword: a :class:`~textlens.train.core.TrainConfig` field (epochs, batch_size,
            learning_rate, head_learning_rate, max_length, negatives, random_negatives, margin,
            lora_rank, lora_alpha, lora_targets, dev_fraction, patience, seed, keep_worse).
    """
    return _train("reranker", source, output, **kwargs)


def train_encoder(source: str | Path | None = None, output: str | Path | None = None, **kwargs: Any) -> TrainReport:
    """Fine-tune a bi-encoder (default: the collection's own encoder); write it to ``output`` if dev
    nDCG@10 improved. Arguments as :func:`train_reranker`'s. A collection must be rebuilt with the
    new folder as its encoder (vectors of different models never mix)."""
    return _train("encoder", source, output, **kwargs)


def train_image_text(
    source: str | Path,
    output: str | Path | None = None,
    *,
    captions: str | Path | None = None,
    text_field: str = "text",
    text_encoder: str | None = None,
    image_size: int = 64,
    augmentation: bool = True,
    overwrite: bool = False,
    estimate_only: bool = False,
    on_event: Events | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> TrainReport:
    """Train an image tower into a text encoder's space on pictures and their captions (see
    :mod:`textlens.train.images`); write it to ``output`` if dev text → image nDCG@10 improved.

    Args:
        source: a folder of pictures (PNG, JPEG, WebP, GIF), captioned by its ``metadata.jsonl`` or ``captions``.
        output: the model folder to write (new, or ``overwrite=True``); None: train and report only. The folder
            is an encoder: ``--encoder OUTPUT`` indexes pictures and searches them by text.
        captions: a JSONL naming each picture (``file_name``, ``image``, ``file`` or ``path``) with its caption in
            ``text_field``; a picture without one is captioned by its file name's words.
        text_encoder: the text side, kept as it is (default all-MiniLM-L6-v2).
        image_size: pictures are resized to this many pixels a side.
        augmentation: random moves, colours, grey and blur while training (on by default).
        Any other keyword: a :class:`~textlens.train.core.TrainConfig` field (epochs 40, batch_size 64,
            learning_rate 2e-3, dev_fraction 0.1, patience 6, seed, keep_worse; ``lora_rank`` above 0 tunes the
            text encoder too, through LoRA adapters on ``lora_targets``, and saves it in the folder's ``text/``).
    """
    from textlens.config import DEFAULT_ENCODER
    from textlens.corpus import FieldMap, ReadReport, read_documents
    from textlens.train.images import ImageTextTask, pairs_from_documents

    config = replace(TrainConfig(**IMAGE_TEXT_DEFAULTS), **{k: v for k, v in options.items() if v is not None})
    config.check()
    if not 16 <= image_size <= 512:
        raise InputError("the image size must be between 16 and 512 pixels", hint="Pass --image-size 64, say.")
    read = ReadReport()
    docs = read_documents(source, format="images", captions=captions, fields=FieldMap(text=text_field), report=read)
    pairs = pairs_from_documents(docs)
    task = ImageTextTask(
        pairs,
        config,
        text_encoder=text_encoder or DEFAULT_ENCODER,
        image_size=image_size,
        augmentation=augmentation,
        progress=progress,
    )
    data = {**task.data, "left_out": read.skipped, "problems": read.problems}
    return fit(
        task,
        config,
        Path(output).expanduser() if output else None,
        data=data,
        overwrite=overwrite,
        estimate_only=estimate_only,
        on_event=on_event,
        progress=progress,
    )


__all__ = ["TrainConfig", "TrainReport", "train_encoder", "train_image_text", "train_reranker"]
