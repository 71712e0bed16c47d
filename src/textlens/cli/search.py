"""``textlens index``, ``textlens search`` and ``textlens collections``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from textlens.cli.common import backend_option, handle_errors, progress_bar, use_backend
from textlens.cli.options import with_options
from textlens.config import DEFAULT_ENCODER
from textlens.errors import InputError
from textlens.search.options import SearchOptions

console = Console()
collections_app = typer.Typer(help="List, inspect and delete collections.", no_args_is_help=True)


def snippet(text: str, spans: list[tuple[int, int]], width: int = 240) -> Text:
    """A window of ``text`` around the first highlight, matches in bold."""
    start = max(0, (spans[0][0] if spans else 0) - width // 3)
    end = min(len(text), start + width)
    out = Text("…" if start else "")
    pos = start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        out.append(text[pos:a].replace("\n", " "))
        out.append(text[a:b], style="bold yellow")
        pos = b
    out.append(text[pos:end].replace("\n", " ") + ("…" if end < len(text) else ""))
    return out


def index_cmd(
    path: str = typer.Argument(..., help="File or folder to index; 'wikipedia' for the Vital Articles; hf:ORG/NAME."),
    collection: str = typer.Option(..., "--collection", "-c", help="Collection name (or a path)."),
    format: str = typer.Option(
        None,
        "--format",
        help="jsonl, csv, parquet, folder, text, images, beir, wikipedia or hf (a folder of pictures: images).",
    ),
    captions: Path = typer.Option(
        None,
        "--captions",
        help="Pictures: a JSONL naming each picture (file_name, image, file or path) with its caption in "
        "--text-field (default: the folder's metadata.jsonl).",
    ),
    id_field: str = typer.Option("id", "--id-field"),
    text_field: str = typer.Option("text", "--text-field"),
    title_field: str = typer.Option("title", "--title-field"),
    metadata_fields: str = typer.Option(None, "--metadata-fields", help="Comma-separated; default: all other fields."),
    chunk: str = typer.Option("none", "--chunk", help="none, paragraph, sentence or tokens."),
    chunk_size: int = typer.Option(0, "--chunk-size", help="Tokens per window (tokens) or max characters."),
    overlap: int = typer.Option(0, "--overlap", help="Tokens shared by consecutive windows."),
    chunk_tokenizer: str = typer.Option("bert-base-uncased", "--chunk-tokenizer", help="Any textlens tokenizer."),
    title_prefix: bool = typer.Option(False, "--title-prefix", help="Prefix each chunk with its title."),
    encoder: str = typer.Option(
        None,
        "--encoder",
        help="Embedding model id or folder (new collections: default all-MiniLM-L6-v2; existing: must match).",
    ),
    no_encoder: bool = typer.Option(False, "--no-encoder", help="Keyword search only (no vectors)."),
    language: str = typer.Option("english", "--language", help="Stemming and stop words."),
    vector_index: str = typer.Option(
        "auto", "--vector-index", help="auto, exact, hnsw, int8 or binary (PostgreSQL: hnsw, diskann or exact)."
    ),
    keyword_index: str = typer.Option(
        "auto",
        "--keyword-index",
        help="PostgreSQL: pg_textsearch (BM25 index; auto where the server has it) or sql (BM25 in SQL).",
    ),
    embed_title: bool = typer.Option(
        True, "--embed-title/--no-embed-title", help="Embed title and text together (new collections)."
    ),
    upsert: bool = typer.Option(False, "--upsert", help="Replace documents whose id exists."),
    on_error: str = typer.Option("fail", "--on-error", help="fail or skip malformed rows."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    backend: str = backend_option(),
    ray: str = typer.Option(
        None,
        "--ray",
        help="Embed on this Ray cluster (HEAD:PORT, or auto) and add the documents the collection lacks; "
        "run again after a failure to finish.",
    ),
) -> None:
    """Read documents, chunk them, and add them to a collection (created if missing)."""
    from textlens.corpus import Chunker, FieldMap, ReadReport, read_documents

    use_backend(backend)
    if on_error not in ("fail", "skip"):
        raise InputError(f"--on-error must be fail or skip, not {on_error!r}")
    if ray and upsert:
        raise InputError(
            "--ray adds the documents a collection lacks; it does not replace documents (--upsert)",
            hint="Index the changed documents with --upsert without --ray.",
        )
    fields = FieldMap(
        id=id_field,
        text=text_field,
        title=title_field or None,
        metadata=[f.strip() for f in metadata_fields.split(",")] if metadata_fields else None,
    )
    chunker = Chunker(chunk, size=chunk_size, overlap=overlap, tokenizer=chunk_tokenizer, title_prefix=title_prefix)  # type: ignore[arg-type]
    read = ReadReport()
    docs = chunker(
        read_documents(path, format=format, fields=fields, on_error=on_error, report=read, captions=captions)
    )  # type: ignore[arg-type]
    col = _open_or_create(
        collection,
        encoder,
        encoder=None if no_encoder else (encoder or DEFAULT_ENCODER),
        language=language,
        vector_index=vector_index,
        keyword_index=keyword_index,
        embed_title=embed_title,
    )
    report, info = _add(col, docs, upsert=upsert, ray=ray, quiet=as_json)
    _print_index_report(read, report, info, as_json, pictures=_pictures_note(col, info))


def _pictures_note(col, info: dict) -> str | None:
    """Whether the collection's pictures were embedded from their pixels or, the encoder reading text only,
    from their captions."""
    from textlens.embed.images import reads_images

    if not info.get("fields") or "image" not in info["fields"] or col.encoder is None:
        return None
    if reads_images(col.encoder):
        return f"pictures embedded from their pixels by {col.encoder.name}"
    return (
        f"{col.encoder.name} reads text only: the pictures were embedded by their captions (or file names); "
        "use an image-text --encoder (a CLIP folder, or one from textlens train image-text) to search their pixels"
    )


def _open_or_create(collection: str, given: str | None, **new):
    """The collection, opened (with its own encoder; an explicitly ``given`` other one is refused) or made with
    the options ``new``."""
    from textlens.index import collection_exists, create_collection, open_collection

    if collection_exists(collection):
        return open_collection(collection, encoder=given)
    return create_collection(collection, **new)


def _add(col, docs, *, upsert: bool, ray: str | None, quiet: bool):
    """Add ``docs`` (here, or embedded on a Ray cluster) with a progress bar; the add report and the collection's
    info after it."""
    with col, progress_bar(disable=quiet) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, _total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=None)
            bar.update(tasks[stage], completed=done)

        if ray:
            from textlens.index.ray_embed import index_with_ray

            report = index_with_ray(col, docs, ray, progress=progress)
        else:
            report = col.add(docs, upsert=upsert, progress=progress)
        return report, col.info()


def _print_index_report(read, report, info: dict, as_json: bool, pictures: str | None = None) -> None:
    """What was read, added, replaced, embedded and skipped: a JSON object, or lines for a person."""
    data = {
        "collection": info["name"],
        "path": info["path"],
        "read": read.read,
        "skipped_rows": read.skipped,
        "problems": read.problems,
        "added": report.added,
        "replaced": report.replaced,
        "skipped_empty": len(report.skipped_empty),
        "embedded": report.embedded,
        "cache_hits": report.cache_hits,
        "seconds": round(report.seconds, 2),
        "documents": info["documents"],
    }
    if pictures:
        data["pictures"] = pictures
    if as_json:
        typer.echo(json.dumps(data))
        return
    console.print(
        f"[bold]{data['collection']}[/]: added {data['added']:,}, replaced {data['replaced']:,} "
        f"({data['documents']:,} in total) in {data['seconds']}s; embedded {data['embedded']:,}, "
        f"from cache {data['cache_hits']:,}"
    )
    if report.skipped_empty:
        console.print(
            f"[yellow]skipped {len(report.skipped_empty)} empty document(s)[/]: " + ", ".join(report.skipped_empty[:5])
        )
    if pictures:
        console.print(("" if "pixels" in pictures else "[yellow]note:[/] ") + pictures, highlight=False)
    if read.skipped or read.problems:
        console.print(f"[yellow]skipped {read.skipped} row(s)[/]:" if read.skipped else "[yellow]notes[/]:")
        for problem in read.problems:
            console.print(f"  {problem}", highlight=False)


def thumbnail_cells(uri: str, side: int = 8) -> Text:
    """A picture's thumbnail drawn in ``side`` x ``side`` pixels with half blocks (two pixels a cell)."""
    import base64
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB").resize((side, side))
    out = Text()
    for y in range(0, side, 2):
        for x in range(side):
            top, bottom = img.getpixel((x, y)), img.getpixel((x, y + 1))
            out.append("▀", style=f"rgb({top[0]},{top[1]},{top[2]}) on rgb({bottom[0]},{bottom[1]},{bottom[2]})")
        out.append("\n" if y + 2 < side else "")
    return out


@with_options(SearchOptions)
def search_cmd(
    query: str = typer.Argument("", help="The query (may be left out with --image)."),
    collection: str = typer.Option(..., "--collection", "-c"),
    image: Path = typer.Option(
        None, "--image", help="Search by this picture (PNG, JPEG, WebP, GIF): the collection's encoder reads images."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    backend: str = backend_option(),
    options: SearchOptions = SearchOptions(),
) -> None:
    """Search a collection by keywords, by meaning, or both (the options: textlens.search.options.SearchOptions)."""
    from textlens.index import open_collection

    use_backend(backend)
    if not query.strip() and image is None:
        raise InputError("no query: give words to search for, or --image FILE")
    with open_collection(collection) as col:
        results = col.search(query, options, image=image)
    if as_json:
        typer.echo(json.dumps(results.to_dict(), ensure_ascii=False))
        return
    asked = " + ".join(x for x in (repr(query) if query.strip() else "", f"picture {image}" if image else "") if x)
    table = Table(title=f"{results.mode}: {asked} ({results.took_ms:.0f} ms)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("id", no_wrap=True)
    table.add_column("title / snippet")
    for hit in results:
        body = Text(hit.title + "\n", style="bold") if hit.title else Text()
        body.append(snippet(hit.text, hit.highlights))
        if isinstance(hit.metadata.get("thumbnail"), str):  # a picture: a few coloured cells and where it is
            body = Text.assemble(
                thumbnail_cells(hit.metadata["thumbnail"]), "\n", body, "\n", str(hit.metadata.get("image", ""))
            )
        table.add_row(str(hit.rank), f"{hit.score:.3f}", hit.doc_id, body)
    console.print(table)
    if not results.hits:
        console.print("[yellow]no hits[/]")


@collections_app.command("list")
@handle_errors
def collections_list(as_json: bool = typer.Option(False, "--json"), backend: str = backend_option()) -> None:
    """Collections under $TEXTLENS_HOME/collections (or in the --backend database)."""
    from textlens.index import list_collections

    use_backend(backend)
    rows = list_collections()
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title="Collections", title_justify="left")
    for col in ("name", "documents", "encoder", "path"):
        table.add_column(col, justify="right" if col == "documents" else "left")
    for r in rows:
        table.add_row(r["name"], f"{r.get('documents', 0):,}", r.get("encoder") or r.get("error", "-"), r["path"])
    console.print(table)


@collections_app.command("info")
@handle_errors
def collections_info(
    name: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json"), backend: str = backend_option()
) -> None:
    """Size, encoder, fields, keyword and vector index (PostgreSQL: extensions, replicas) of a collection."""
    from textlens.index import open_collection

    use_backend(backend)
    with open_collection(name) as col:
        info = col.info()
    if as_json:
        typer.echo(json.dumps(info))
        return
    for key, value in info.items():
        console.print(f"[bold]{key}[/]: {value}", highlight=False)


@collections_app.command("delete")
@handle_errors
def collections_delete(
    name: str = typer.Argument(...), yes: bool = typer.Option(False, "--yes", "-y"), backend: str = backend_option()
) -> None:
    """Delete a collection and its files (or its tables)."""
    from textlens.index import open_collection

    use_backend(backend)
    col = open_collection(name)
    if not yes and not typer.confirm(f"Delete {col.path} ({len(col):,} documents)?"):
        col.close()
        raise typer.Exit(1)
    path = col.path
    col.delete_collection()
    console.print(f"deleted {path}")


@collections_app.command("export")
@handle_errors
def collections_export(
    name: str = typer.Argument(..., help="The collection."),
    file: Path = typer.Argument(..., help="JSONL file to write (an unfinished one is continued)."),
    vectors: bool = typer.Option(True, "--vectors/--no-vectors", help="Write each document's vector too."),
    as_json: bool = typer.Option(False, "--json"),
    backend: str = backend_option(),
) -> None:
    """Write a collection to a JSONL file: documents, metadata and vectors (to move it to another backend)."""
    from textlens.index.transfer import export_collection

    use_backend(backend)
    with progress_bar(disable=as_json) as bar:
        task = bar.add_task("export", total=None)
        report = export_collection(
            name, file, vectors=vectors, progress=lambda _s, d, t: bar.update(task, completed=d, total=t)
        )
    _report(
        report, as_json, f"{report['written']:,} documents written to {file} ({report['already_there']:,} were there)"
    )


@collections_app.command("import")
@handle_errors
def collections_import(
    file: Path = typer.Argument(..., help="A file written by textlens collections export."),
    name: str = typer.Argument(None, help="Collection to build or complete (default: the exported one's name)."),
    vector_index: str = typer.Option(
        "auto", "--vector-index", help="For a new collection (PostgreSQL: hnsw, diskann or exact)."
    ),
    reembed: bool = typer.Option(False, "--reembed", help="Embed the texts again instead of using the file's vectors."),
    as_json: bool = typer.Option(False, "--json"),
    backend: str = backend_option(),
) -> None:
    """Build a collection from an export file, or add what it lacks (a stopped import goes on from there)."""
    from textlens.index.transfer import import_collection

    use_backend(backend)
    with progress_bar(disable=as_json) as bar:
        task = bar.add_task("import", total=None)
        report = import_collection(
            file,
            name,
            vector_index=vector_index,
            reembed=reembed,
            progress=lambda _s, d, _t: bar.update(task, completed=d),
        )
    _report(
        report,
        as_json,
        f"{report['collection']} ({report['backend']}): added {report['added']:,}, "
        f"{report['already_there']:,} were there, {report['documents']:,} in total",
    )


def _report(report: dict, as_json: bool, line: str) -> None:
    if as_json:
        typer.echo(json.dumps(report))
    else:
        console.print(f"{line} in {report['seconds']}s", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the search commands to the main app."""
    app.command("index")(handle_errors(index_cmd))
    app.command("search")(handle_errors(search_cmd))
    app.add_typer(collections_app, name="collections")
