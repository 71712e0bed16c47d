"""``textlens topics``: BERTopic-style topics of a corpus file or a collection."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from textlens.cli.common import handle_errors, load_llm, staged_progress
from textlens.cli.options import with_options
from textlens.config import DEFAULT_ENCODER
from textlens.errors import InputError
from textlens.topics.options import TopicOptions

console = Console()
err = Console(stderr=True)


def _load(
    path: Path | None,
    collection: str | None,
    text_field: str,
    title_field: str | None,
    id_field: str,
    label_field: str | None,
) -> tuple[list[str], list[str], list[str], list[str] | None, str | None]:
    """Ids, texts to model, display names, gold labels and the collection's encoder."""
    if (path is None) == (collection is None):
        raise InputError(
            "give a corpus PATH or --collection NAME (one of them)",
            hint="For example: textlens topics posts.jsonl, or textlens topics --collection wiki.",
        )
    from textlens.corpus import FieldMap
    from textlens.corpus.sources import from_path
    from textlens.index.sources import from_collection

    if collection is not None:
        source = from_collection(collection)
    else:
        meta = [label_field] if label_field else []
        fields = FieldMap(id=id_field, text=text_field, title=title_field, metadata=meta)
        source = from_path(path, fields, titled=True)
    gold = None
    if label_field:
        missing = [i for i, meta in zip(source.ids, source.metadata, strict=True) if label_field not in meta]
        if missing:
            raise InputError(
                f"{len(missing)} document(s) have no field {label_field!r} (first: {missing[0]!r})",
                hint="Name the field holding the known classes with --label-field.",
            )
        gold = [str(meta[label_field]) for meta in source.metadata]
    return source.ids, source.texts, source.names, gold, source.encoder


@handle_errors
@with_options(TopicOptions)
def topics_cmd(
    path: Path = typer.Argument(None, help="A corpus: JSONL(.gz), CSV, Parquet, a text folder or BEIR folder."),
    collection: str = typer.Option(None, "--collection", help="Model the documents of this collection."),
    text_field: str = typer.Option("text", "--text-field"),
    title_field: str = typer.Option("title", "--title-field"),
    id_field: str = typer.Option("id", "--id-field"),
    label_field: str = typer.Option(None, "--label-field", help="Known classes: report NMI and ARI against them."),
    encoder: str = typer.Option(None, "--encoder", help="Default: the collection's, else all-MiniLM-L6-v2."),
    nr_topics: int = typer.Option(None, "--nr-topics", help="Merge similar topics down to N."),
    outlier_share: float = typer.Option(None, "--reduce-outliers", help="Assign outliers until this share is left."),
    outlier_threshold: float = typer.Option(None, "--outlier-threshold", help="Only outliers this similar move."),
    assignments: Path = typer.Option(None, "--assignments", help="Per-document topics: .jsonl or .csv."),
    html_out: Path = typer.Option(None, "--html", help="A page with the map and top-word charts."),
    png_out: Path = typer.Option(None, "--png", help="The map and charts as PNG."),
    as_json: bool = typer.Option(False, "--json", help="Print the topics and quality as JSON."),
    llm: str = typer.Option(None, "--llm", help="Label each topic with this language model (catalog name, .gguf...)."),
    options: TopicOptions = TopicOptions(),
) -> None:
    """Topics: embed (cached) → UMAP → HDBSCAN → c-TF-IDF keywords → representative documents (the model's
    options: textlens.topics.options.TopicOptions)."""
    from textlens.topics import TopicModel, topic_quality

    if outlier_share is not None and not 0 <= outlier_share < 1:  # checked before the fit, not after it
        raise InputError(f"--reduce-outliers takes a share in [0, 1), not {outlier_share}", hint="E.g. 0.05.")
    if nr_topics is not None and nr_topics < 1:
        raise InputError(f"--nr-topics must be at least 1 (got {nr_topics})")
    ids, texts, names, gold, col_encoder = _load(path, collection, text_field, title_field, id_field, label_field)
    model = TopicModel(encoder=encoder or col_encoder or DEFAULT_ENCODER, **options.to_dict())
    with staged_progress(disable=as_json) as progress:
        model.fit(texts, progress=progress)
    found = {"topics": len(model.topics), "outlier_share": round(model.outlier_share, 4)}
    if nr_topics is not None:
        found["merges"] = model.merge_topics(nr_topics)
    if outlier_share is not None or outlier_threshold is not None:
        found["outliers_assigned"] = model.reduce_outliers(target_share=outlier_share, threshold=outlier_threshold)
    if llm is not None:
        generator = load_llm(llm, threads=None, context=None, timeout=120.0, tokenizer=None)
        notes = [t.note for t in model.label_topics(generator) if t.note]
        found["unlabelled"] = len(notes)
        for note in notes[:3]:
            err.print(f"[yellow]{escape(note)}[/]")
    quality = topic_quality(model, gold)
    _write_outputs(model, ids, names, quality, assignments, html_out, png_out, str(path or collection))
    if as_json:
        typer.echo(json.dumps({
            "documents": len(texts),
            "found": found,
            "quality": quality,
            "topics": [{"id": t.id, "name": t.name, "size": t.size, "words": [[w, round(s, 4)] for w, s in t.words],
                        "representative": [ids[i] for i in t.representative]} for t in model.topics],
        }, ensure_ascii=False))  # fmt: skip
        return
    _print(model, names, quality, found)


def _write_outputs(model, ids, names, quality, assignments, html_out, png_out, title) -> None:
    from textlens.topics.render import assignment_rows, topics_html, topics_png, write_assignments

    if assignments is not None:
        write_assignments(assignments, assignment_rows(model, ids, names))
        err.print(f"wrote {assignments}")
    if html_out is None and png_out is None:
        return
    xy = model.map_2d()
    if html_out is not None:
        from textlens.atomic import atomic_open

        with atomic_open(html_out, "w", encoding="utf-8") as fh:
            fh.write(topics_html(model, xy, names, title=title, quality=quality))
        err.print(f"wrote {html_out}")
    if png_out is not None:
        topics_png(model, xy, png_out, title=title)
        err.print(f"wrote {png_out}")


def _short(name: str, width: int = 48) -> str:
    name = " ".join(name.split())
    return name if len(name) <= width else name[: width - 1] + "…"


def _print(model, names, quality, found) -> None:
    labelled = any(t.name for t in model.topics)
    columns = ("topic", "label", "size") if labelled else ("topic", "size")
    table = Table(*columns, "keywords", "representative documents", title_justify="left")
    for t in model.topics:
        table.add_row(
            str(t.id),
            *([escape(t.name or "–")] if labelled else []),
            f"{t.size:,}",
            escape(", ".join(w for w, _ in t.words[:8])),
            escape("\n".join(_short(names[i]) for i in t.representative[:2])),
        )
    console.print(table)
    line = f"{len(model.labels):,} documents, {len(model.topics)} topics, {model.outlier_share:.1%} in no topic"
    if "outliers_assigned" in found:
        line += f" ({found['outliers_assigned']:,} outliers assigned; {found['outlier_share']:.1%} before)"
    if found.get("merges"):
        line += f", {found['merges']} merges"
    console.print(line)
    console.print(
        ", ".join(f"{k} {v:.4f}" for k, v in quality.items() if isinstance(v, float) and k != "outlier_share")
    )
