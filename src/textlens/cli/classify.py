"""``textlens classify``: train, predict, evaluate; zero-shot and few-shot."""

from __future__ import annotations

import json
import random
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from textlens.cli.common import handle_errors, load_llm, staged_progress
from textlens.config import DEFAULT_ENCODER
from textlens.errors import InputError

app = typer.Typer(help="Classify texts (and pictures, zero-shot) with embeddings.", no_args_is_help=True)
console = Console()


def read_labelled(path: Path, text_field: str, label_field: str | None, id_field: str) -> tuple[list, list, list]:
    """Ids, texts and labels (``None`` when there is no label field) of a JSONL/CSV file."""
    from textlens.corpus import FieldMap, read_documents

    fields = FieldMap(id=id_field, text=text_field, title=None, metadata=[label_field] if label_field else [])
    ids, texts, labels = [], [], []
    for doc in read_documents(path, fields=fields):
        if label_field:
            if label_field not in doc.metadata:
                raise InputError(
                    f"{path}: document {doc.id!r} has no label field {label_field!r}",
                    hint="Name the label field with --label-field.",
                )
            labels.append(str(doc.metadata[label_field]))
        ids.append(doc.id)
        texts.append(doc.text)
    if not texts:
        raise InputError(f"{path} holds no documents")
    return ids, texts, labels


def print_report(report: dict, title: str) -> None:
    console.print(
        f"[bold]{title}[/]: accuracy {report['accuracy']:.4f}, macro F1 {report['macro_f1']:.4f} "
        f"({report['examples']:,} examples)"
    )
    table = Table(title_justify="left")
    for col in ("class", "precision", "recall", "f1", "support"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for name, row in report["per_class"].items():
        table.add_row(name, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", str(row["support"]))
    console.print(table)
    cm = report["confusion_matrix"]
    matrix = Table(title="confusion (rows: gold, columns: predicted)", title_justify="left")
    matrix.add_column("")
    for label in cm["labels"]:
        matrix.add_column(label, justify="right")
    for label, row in zip(cm["labels"], cm["rows_gold_columns_predicted"], strict=True):
        matrix.add_row(label, *map(str, row))
    console.print(matrix)


TEXT = typer.Option("text", "--text-field")
LABEL = typer.Option("label", "--label-field")
ID = typer.Option("id", "--id-field")


@app.command("train")
@handle_errors
def train_cmd(
    data: Path = typer.Argument(...),
    text_field: str = TEXT,
    label_field: str = LABEL,
    id_field: str = ID,
    model_out: Path = typer.Option(Path("classifier"), "--model-out", help="Folder to save the model in."),
    encoder: str = typer.Option(DEFAULT_ENCODER, "--encoder"),
    shots: int = typer.Option(0, "--shots", help="Few-shot: N examples per class, class centroids."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Train on embeddings: logistic regression, or class centroids from a few examples (--shots)."""
    from textlens.classify import EmbeddingClassifier

    _, texts, labels = read_labelled(data, text_field, label_field, id_field)
    if shots:
        rng = random.Random(seed)
        picked = []
        for label in sorted(set(labels)):
            rows = [i for i, lab in enumerate(labels) if lab == label]
            picked += rng.sample(rows, min(shots, len(rows)))
        clf = EmbeddingClassifier.few_shot([texts[i] for i in picked], [labels[i] for i in picked], encoder=encoder)
    else:
        clf = EmbeddingClassifier.train(texts, labels, encoder=encoder, seed=seed)
    clf.save(model_out)
    console.print(
        f"saved a {clf.method} classifier over {len(clf.classes)} classes ({', '.join(clf.classes)}) to {model_out}"
    )


@app.command("predict")
@handle_errors
def predict_cmd(
    data: Path = typer.Argument(...),
    model: Path = typer.Option(..., "--model"),
    text_field: str = TEXT,
    id_field: str = ID,
) -> None:
    """Print one JSON line per document: id, label and class probabilities."""
    from textlens.classify import EmbeddingClassifier

    clf = EmbeddingClassifier.load(model)
    ids, texts, _ = read_labelled(data, text_field, None, id_field)
    labels, probs = clf.predict(texts)
    for doc_id, label, p in zip(ids, labels, probs, strict=True):
        typer.echo(
            json.dumps(
                {
                    "id": doc_id,
                    "label": label,
                    "probabilities": {c: round(float(x), 4) for c, x in zip(clf.classes, p, strict=True)},
                }
            )
        )


@app.command("eval")
@handle_errors
def eval_cmd(
    data: Path = typer.Argument(...),
    model: Path = typer.Option(..., "--model"),
    text_field: str = TEXT,
    label_field: str = LABEL,
    id_field: str = ID,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Accuracy, macro F1, per-class report and confusion matrix on labelled data."""
    from textlens.classify import EmbeddingClassifier, classification_report

    clf = EmbeddingClassifier.load(model)
    _, texts, gold = read_labelled(data, text_field, label_field, id_field)
    report = classification_report(gold, clf.predict(texts)[0], clf.classes)
    if as_json:
        typer.echo(json.dumps({"method": clf.method, **report}))
    else:
        print_report(report, f"{clf.method} on {data}")


@app.command("zero-shot")
@handle_errors
def zero_shot_cmd(
    data: Path = typer.Argument(None, help="JSONL or CSV of texts (or --images DIR)."),
    labels: str = typer.Option(..., "--labels", help='Descriptions: "a positive review,a negative review"'),
    images: Path = typer.Option(
        None, "--images", help="Classify the pictures of this folder (the encoder must read images: CLIP, SigLIP...)."
    ),
    captions: Path = typer.Option(
        None, "--captions", help="--images: a JSONL of the pictures' captions and fields (--label-field's too)."
    ),
    template: list[str] = typer.Option(
        None,
        "--template",
        help='Prompt template with {} for the label, e.g. "a picture of a {}" (repeat: their mean embedding).',
    ),
    names: str = typer.Option(None, "--names", help="Label names in the same order (default: the descriptions)."),
    text_field: str = TEXT,
    label_field: str = typer.Option(None, "--label-field", help="Evaluate against this field."),
    id_field: str = ID,
    model_out: Path = typer.Option(None, "--model-out"),
    encoder: str = typer.Option(DEFAULT_ENCODER, "--encoder"),
    as_json: bool = typer.Option(False, "--json"),
    llm: str = typer.Option(None, "--llm", help="A language model picks the label (catalog name, .gguf, openai:URL)."),
    batch_size: int = typer.Option(1, "--batch-size", help="--llm: texts per call (1 gives probabilities)."),
    instructions: str = typer.Option(None, "--instructions", help='--llm: context, e.g. "Movie reviews."'),
    output: Path = typer.Option(None, "--output", help="--llm: JSONL of predictions as they finish; resumable."),
    llm_timeout: float = typer.Option(120.0, "--llm-timeout", help="Seconds an openai: server may take per call."),
) -> None:
    """Classify texts, or pictures (--images, an image-text --encoder), by label descriptions alone (embeddings,
    through --template prompts), or texts by a language model bound to the labels (--llm); evaluate when
    --label-field is given."""
    from textlens.classify import EmbeddingClassifier, classification_report

    if llm is not None and images is not None:
        raise InputError("--llm reads texts; pictures are classified by an image-text --encoder", hint="Drop --llm.")
    if llm is not None:
        generator = load_llm(llm, threads=None, context=None, timeout=llm_timeout, tokenizer=None)
        _zero_shot_llm(data, labels, names, text_field, label_field, id_field, as_json, generator, batch_size,
                       instructions, output)  # fmt: skip
        return
    if output is not None or instructions is not None or batch_size != 1:
        raise InputError("--output, --instructions and --batch-size go with --llm", hint="Add --llm MODEL.")
    if (data is None) == (images is None):
        raise InputError("give the texts to classify (DATA) or a folder of pictures (--images DIR), one of them")
    clf = EmbeddingClassifier.zero_shot(
        labels.split(","), names=names.split(",") if names else None, encoder=encoder, templates=template or ()
    )
    if model_out:
        clf.save(model_out)
    if images is not None:
        ids, paths, gold = read_pictures(images, captions, text_field, label_field)
        predicted, probs = clf.predict_images(paths)
    else:
        ids, texts, gold = read_labelled(data, text_field, label_field, id_field)
        predicted, probs = clf.predict(texts)
    if label_field:
        report = classification_report(gold, predicted, clf.classes)
        if as_json:
            typer.echo(json.dumps({"method": "zero-shot", **report}))
        else:
            print_report(report, f"zero-shot on {images or data}")
        return
    for n, (doc_id, label) in enumerate(zip(ids, predicted, strict=True)):
        row = {"id": doc_id, "label": label}
        if images is not None:
            row["image"] = paths[n]
            row["probabilities"] = {c: round(float(x), 4) for c, x in zip(clf.classes, probs[n], strict=True)}
        typer.echo(json.dumps(row))


def read_pictures(folder: Path, captions: Path | None, text_field: str, label_field: str | None):
    """Ids, file paths and labels (``[]`` without a label field) of a folder of pictures."""
    from textlens.corpus import FieldMap, ReadReport, read_documents

    report = ReadReport()
    docs = list(read_documents(folder, format="images", captions=captions, fields=FieldMap(text=text_field),
                               report=report))  # fmt: skip
    for problem in report.problems:
        console.print(f"[yellow]note:[/] {problem}", highlight=False)
    if label_field and (missing := [d.id for d in docs if label_field not in d.metadata]):
        raise InputError(
            f"{folder}: {len(missing)} picture(s) have no field {label_field!r} ({', '.join(missing[:3])})",
            hint="Give every picture its label in the captions file (--captions), or name the field.",
        )
    labels = [str(d.metadata[label_field]) for d in docs] if label_field else []
    return [d.id for d in docs], [d.metadata["image"] for d in docs], labels


NO_LABEL = "(no label)"


def _zero_shot_llm(data, labels, names, text_field, label_field, id_field, as_json, llm, batch_size, instructions,
                   output) -> None:  # fmt: skip
    from textlens.classify import classification_report
    from textlens.classify.llm import LLMClassifier
    from textlens.llm import LLMError
    from textlens.resume import ResumableOutput

    choices = (names or labels).split(",")
    clf = LLMClassifier(choices, llm=llm, descriptions=labels.split(",") if names else None, instructions=instructions)
    ids, texts, gold = read_labelled(data, text_field, label_field, id_field)
    store = ResumableOutput(output) if output is not None else None
    rows: dict[str, dict] = dict(store.done) if store is not None else {}
    todo = [n for n, doc_id in enumerate(ids) if doc_id not in rows]
    if rows:
        Console(stderr=True).print(f"{output}: {len(ids) - len(todo):,} of {len(ids):,} texts done already")

    def keep(n: int, prediction) -> None:
        row = {"id": ids[todo[n]], **prediction.to_dict()}
        rows[row["id"]] = row
        if store is not None:
            store.write(row)
        elif not label_field:
            typer.echo(json.dumps(row, ensure_ascii=False))

    try:
        with staged_progress(disable=as_json or len(todo) < 2) as progress:
            clf.predict([texts[n] for n in todo], batch_size=batch_size, on_result=keep, progress=progress)
    except LLMError as exc:
        if store is None:
            raise
        raise type(exc)(
            f"{exc.message} ({len(rows):,} of {len(ids):,} texts are done and saved in {output})",
            hint="Run the same command again: it goes on from the first text not done.",
        ) from exc
    finally:
        if store is not None:
            store.close()
    if label_field:
        predicted = [rows[doc_id]["label"] or NO_LABEL for doc_id in ids]
        report = classification_report(gold, predicted, clf.labels)
        report["no_label"] = predicted.count(NO_LABEL)
        if as_json:
            typer.echo(json.dumps({"method": f"zero-shot LLM {clf.model.name}", **report}))
        else:
            print_report(report, f"zero-shot by {clf.model.name} on {data}")
