"""``textlens train reranker | encoder | image-text``: train retrieval models on your own judgements, or an image
tower on captioned pictures."""

import inspect
import json
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from textlens.cli.common import err_console, handle_errors, staged_progress

app = typer.Typer(
    help="Train a reranker or fine-tune an encoder on your own relevance judgements (qrels), or an image-text "
    "model on captioned pictures.",
    no_args_is_help=True,
)


def _options(
    source: Path = typer.Argument(None, help="A BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv."),
    output: Path = typer.Option(None, "--output", "-o", help="Model folder to write (new, or with --overwrite)."),
    base: str = typer.Option(None, "--base", help="Starting weights: an encoder alias or a local model folder."),
    collection: str = typer.Option(
        None, "--collection", "-c", help="The collection to train on (with --qrels and --queries), or to build."
    ),
    qrels: Path = typer.Option(None, "--qrels", help="Training judgements: TREC, TSV or JSONL."),
    queries: Path = typer.Option(None, "--queries", help="Training queries: JSONL (_id/id, text) or TSV."),
    split: str = typer.Option("train", "--split", help="The BEIR qrels split to train on."),
    encoder: str = typer.Option(None, "--encoder", help="Encoder of a collection built from SOURCE."),
    epochs: int = typer.Option(None, "--epochs", help="Most passes over the data (early stopping may end sooner)."),
    batch_size: int = typer.Option(None, "--batch-size", help="Examples (reranker: pairs) per step."),
    learning_rate: float = typer.Option(None, "--lr", help="Peak learning rate (AdamW, warm-up then linear)."),
    head_learning_rate: float = typer.Option(
        None, "--head-lr", help="Reranker: the new score head's learning rate (default 2e-3; not for a reranker base)."
    ),
    max_length: int = typer.Option(None, "--max-length", help="Tokens read per text (reranker: per pair)."),
    negatives: int = typer.Option(None, "--negatives", help="Negatives per positive (mined by hybrid search)."),
    random_negatives: int = typer.Option(
        None, "--random-negatives", help="How many of --negatives are random unjudged documents (reranker: 1)."
    ),
    margin: float = typer.Option(None, "--margin", help="Drop candidates within this share of the positive's cosine."),
    lora_rank: int = typer.Option(0, "--lora-rank", help="Train LoRA adapters of this rank (peft); 0: all weights."),
    lora_targets: str = typer.Option(None, "--lora-targets", help="Comma-separated linear layers for LoRA."),
    dev_fraction: float = typer.Option(None, "--dev-fraction", help="Share of queries held out for dev (0-0.5)."),
    patience: int = typer.Option(None, "--patience", help="Epochs without a dev gain before stopping."),
    seed: int = typer.Option(None, "--seed"),
    keep_worse: bool = typer.Option(False, "--keep-worse", help="Write the model even if dev nDCG got worse."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --output once the new model is written."),
    estimate: bool = typer.Option(False, "--estimate", help="Only estimate the training time, then stop."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> dict[str, Any]:
    return locals()


def _run(kind: str, args: dict[str, Any]) -> None:
    from textlens.train import train_encoder, train_image_text, train_reranker

    if args["output"] is None and not args["estimate"]:
        raise typer.BadParameter("name the model folder to write with --output (or pass --estimate)")
    as_json = args.pop("as_json")
    targets = args.pop("lora_targets", None)
    if targets:
        args["lora_targets"] = tuple(t.strip() for t in targets.split(",") if t.strip())
    args["estimate_only"] = args.pop("estimate")

    def on_event(event: dict[str, Any]) -> None:
        if not as_json:
            err_console.print(_describe(event), highlight=False)

    train = {"reranker": train_reranker, "encoder": train_encoder, "image-text": train_image_text}[kind]
    stop = threading.Event()

    def interrupt(_signum, _frame) -> None:
        stop.set()
        raise KeyboardInterrupt

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:  # SIGTERM stops like Ctrl-C: nothing half-written
        signal.signal(s, interrupt)
    try:
        with staged_progress(disable=as_json) as progress:

            def step(stage: str, done: int, total: int) -> None:
                if stop.is_set():  # a Ctrl-C that landed where Python drops exceptions (a __del__): stop here
                    raise KeyboardInterrupt
                progress(stage, done, total)

            report = train(**args, on_event=on_event, progress=step)
    except KeyboardInterrupt:
        err_console.print("[bold red]stopped:[/] training was interrupted; no model folder was written")
        raise typer.Exit(130) from None
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    else:
        _summary(report)
    if not report.saved and not args["estimate_only"] and args["output"] is not None:
        raise typer.Exit(1)


def _describe(event: dict[str, Any]) -> str:
    kind = event["event"]
    if kind == "parameters":
        return f"parameters: {event['trainable']:,} trainable of {event['total']:,}"
    if kind == "estimate":
        return f"estimate: about {_duration(event['seconds'])} for {event['steps']} steps ({event['epochs']} epochs)"
    if kind == "loss":
        return f"epoch {event['epoch']} step {event['step']}: loss {event['loss']}"
    if kind == "dev":
        label = "before training" if event["epoch"] == 0 else f"after epoch {event['epoch']}"
        return f"dev nDCG@10 {label}: {event['ndcg@10']}"
    if kind == "early stop":
        return f"stopping after epoch {event['epoch']}: no dev gain (best {event['best']})"
    return str(event)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _summary(report) -> None:
    data = report.data
    if report.kind == "image-text":
        err_console.print(
            f"data: {data['train']:,} training and {data['dev']:,} dev pictures ({data['captions']:,} different "
            f"captions); {data['left_out']} left out",
            highlight=False,
        )
        for problem in data["problems"]:
            err_console.print(f"[yellow]note:[/] {problem}", highlight=False)
    else:
        _judgements_summary(report)
    if report.note:
        err_console.print(f"[yellow]note:[/] {report.note}", highlight=False)
    if report.epochs_run:
        err_console.print(
            f"dev nDCG@10: {report.dev_before} before, {report.dev_after} after; {report.epochs_run} epoch(s), "
            f"{report.steps} steps in {_duration(report.seconds)} (estimated {_duration(report.estimate_seconds)}); "
            f"peak memory {report.peak_memory_mb:,.0f} MB",
            highlight=False,
        )
    if report.saved:
        use = f"--rerank {report.output}" if report.kind == "reranker" else f"--encoder {report.output}"
        if report.rerank_weight not in (None, 1.0):
            use += f" --rerank-weight {report.rerank_weight:g}"
        typer.echo(f"wrote {report.output} (use it with {use})")


def _judgements_summary(report) -> None:
    data = report.data
    err_console.print(
        f"data: {data['train_queries']} training and {data['dev_queries']} dev queries, {data['positives']} "
        f"positives, {data['negatives_per_query']} negatives per query "
        f"({data['dropped_as_false_negatives']} candidates dropped as likely false negatives)",
        highlight=False,
    )
    for problem, count in data["problems"].items():
        err_console.print(f"[yellow]skipped:[/] {count} {problem}", highlight=False)
    if report.config["lora_rank"]:
        size = f", adapter {report.adapter_bytes / 1e6:.1f} MB" if report.adapter_bytes else ""
        err_console.print(
            f"LoRA rank {report.config['lora_rank']}: {report.trainable_parameters:,} trainable parameters "
            f"of {report.total_parameters:,}{size}",
            highlight=False,
        )


@app.command("reranker")
@handle_errors
def reranker_cmd(**kwargs: Any) -> None:
    """Train a cross-encoder reranker: listwise loss over each positive and its mined hard negatives.

    Starts from all-MiniLM-L6-v2's weights (or --base) with a new one-score head; the result
    works with --rerank. It is written only if it beats the first stage on the dev queries.
    """
    _run("reranker", kwargs)


@app.command("encoder")
@handle_errors
def encoder_cmd(**kwargs: Any) -> None:
    """Fine-tune an embedding model: in-batch negatives plus one mined hard negative per pair.

    Starts from the collection's encoder (or --base); the result works with --encoder (build a
    new collection with it: vectors of different models never mix). Written only if the dev
    nDCG@10 improved.
    """
    _run("encoder", kwargs)


# both commands take _options's options (typer reads the signature)
for _command in (reranker_cmd, encoder_cmd):
    _command.__signature__ = inspect.signature(_options)  # type: ignore[attr-defined]


@app.command("image-text")
@handle_errors
def image_text_cmd(
    source: Path = typer.Argument(..., help="A folder of pictures (PNG, JPEG, WebP, GIF) with their captions."),
    output: Path = typer.Option(None, "--output", "-o", help="Model folder to write (new, or with --overwrite)."),
    captions: Path = typer.Option(
        None,
        "--captions",
        help="JSONL naming each picture (file_name, image, file or path) with its caption in --text-field "
        "(default: the folder's metadata.jsonl; a picture without one: its file name's words).",
    ),
    text_field: str = typer.Option("text", "--text-field", help="The captions' field that holds the caption."),
    text_encoder: str = typer.Option(
        None,
        "--text-encoder",
        help="The text side, kept as it is (default all-MiniLM-L6-v2): its space is the model's.",
    ),
    image_size: int = typer.Option(64, "--image-size", help="Pictures are resized to this many pixels a side."),
    augmentation: bool = typer.Option(
        True, "--augment/--no-augment", help="Random moves, colours, grey and blur while training."
    ),
    lora_rank: int = typer.Option(
        0, "--lora-rank", help="Tune the text encoder too, with LoRA adapters of this rank (0: it stays as it is)."
    ),
    lora_targets: str = typer.Option(None, "--lora-targets", help="Comma-separated linear layers for LoRA."),
    epochs: int = typer.Option(None, "--epochs", help="Most passes over the pictures (default 40; early stopping)."),
    batch_size: int = typer.Option(None, "--batch-size", help="Pictures per step (default 64)."),
    learning_rate: float = typer.Option(None, "--lr", help="Peak learning rate (default 2e-3)."),
    dev_fraction: float = typer.Option(None, "--dev-fraction", help="Share of pictures held out for dev (0.1)."),
    patience: int = typer.Option(None, "--patience", help="Epochs without a dev gain before stopping (6)."),
    seed: int = typer.Option(None, "--seed"),
    keep_worse: bool = typer.Option(False, "--keep-worse", help="Write the model even if dev nDCG got worse."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --output once the new model is written."),
    estimate: bool = typer.Option(False, "--estimate", help="Only estimate the training time, then stop."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Train an image tower into a text encoder's space (the text side kept as it is, or tuned with --lora-rank):
    contrastive (InfoNCE, learned temperature), on captioned pictures.

    The folder written is an encoder that reads pictures and texts: index pictures with --encoder OUTPUT and search
    them by text, by a picture (--image), or classify them (classify zero-shot --images). Written only if the dev
    text -> picture nDCG@10 improved on the untrained tower.
    """
    _run("image-text", locals())
