"""Every code example in the docs runs here, so the examples cannot drift from the code.

- A ```python block runs as written, statement by statement, in a folder of its own with the inputs it names
  (``texts``, ``docs``, a ``notes/`` folder...). A line ``expression  # literal`` is checked: the expression must
  equal the literal (``tok.encode("hello world")  # [128000, 15339, 1917]``).
- A ```bash block's ``textlens`` commands are parsed by the real CLI (every subcommand and option must exist);
  its ``make`` targets must be in the Makefile and its ``python benchmarks/...`` scripts must exist. The commands
  themselves are what the rest of the suite runs, on small inputs.

The docs show the real models and data; the examples here run on the test suite's small ones, swapped in by the
stand-ins written out below (the LLM is the tests' SmolLM2, training runs on a SciFact slice), nothing else.
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer

from tests.conftest import TEST_LLM
from tests.shared import ROOT, SHARED, scifact_slice, shared
from tests.test_quickstart import MARKER as QUICKSTART
from tests.test_quickstart import NOTES
from textlens.cli import app

DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.glob("*.md") if p.name != "results.md")  # results.md: generated tables only
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass
class Example:
    page: str
    index: int  # among the page's python blocks
    code: str
    stand_ins: list[tuple[str, str]] = field(default_factory=list)  # (as the docs write it, what the test runs)
    lane: str | None = None
    inputs: Callable[[Path, pytest.FixtureRequest], dict] | None = None


def blocks(page: Path, language: str) -> list[str]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        if match.group(1) == language and QUICKSTART not in text[max(0, match.start() - 200) : match.start()]:
            found.append(match.group(2))  # the quickstart is run by tests/test_quickstart.py
    return found


# -- inputs the examples name --------------------------------------------------------------------------------
def newsgroups(n: int) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with gzip.open(shared("data/topics/20newsgroups.jsonl.gz"), "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["label"] in ("sci.space", "rec.sport.hockey", "comp.graphics") and len(row["text"]) > 200:
                texts.append(row["text"][:1500])
                labels.append(row["label"])
            if len(texts) == n:
                break
    return texts, labels


def notes_folder(tmp: Path, request: pytest.FixtureRequest) -> dict:
    (tmp / "notes").mkdir()
    for name, body in NOTES.items():
        (tmp / "notes" / name).write_text(body, encoding="utf-8")
    return {}


def wikipedia_vital(tmp: Path, request: pytest.FixtureRequest) -> dict:
    """The demo's collection, of 40 articles about mountains and rivers instead of 10,033."""
    from textlens import Collection, Document

    rows = [json.loads(x) for x in shared("data/wikipedia/vital_articles_en.jsonl").open(encoding="utf-8")]
    picked = [r for r in rows if re.search(r"\b(Mount|River|K2)\b", r["title"])][:40]
    assert any(r["title"] == "Mount Everest" for r in picked)
    with Collection.create("wikipedia-vital") as col:
        col.add([Document(r["id"], r["text"], r["title"]) for r in picked])
    return {}


def few_texts(tmp: Path, request: pytest.FixtureRequest) -> dict:
    return {"texts": newsgroups(3)[0]}


def corpus_for_topics(tmp: Path, request: pytest.FixtureRequest) -> dict:
    texts, labels = newsgroups(240)
    return {"texts": texts, "gold_labels": labels}


def movie_reviews(tmp: Path, request: pytest.FixtureRequest) -> dict:
    return {"texts": ["A warm, funny and moving film.", "Two hours of my life I will not get back."]}


def documents_with_years(tmp: Path, request: pytest.FixtureRequest) -> dict:
    from textlens import Document

    docs = [
        Document("d1", "Vitamin D deficiency and the risk of cancer.", "Vitamin D", {"year": 2012}),
        Document("d2", "Calcium intake in older adults.", "Calcium", {"year": 1998}),
    ]
    return {"docs": docs}


def scifact_folder(tmp: Path, request: pytest.FixtureRequest) -> dict:
    scifact_slice(tmp / "scifact")
    return {}


def postgres(tmp: Path, request: pytest.FixtureRequest) -> dict:
    return {**documents_with_years(tmp, request), "PG_URL": request.getfixturevalue("pg_url")}


def team_server(tmp: Path, request: pytest.FixtureRequest) -> dict:
    """A live ``textlens serve`` on 127.0.0.1 with the tests' LLM and an API key, for the remote example."""
    from tests.live import live_server
    from textlens.server import ServerSettings, create_app

    running = live_server(create_app(ServerSettings(api_key="team-key", llm=TEST_LLM)))
    url = running.__enter__()
    request.addfinalizer(lambda: running.__exit__(None, None, None))
    return {"URL": url}


IMAGES_FAST = "epochs=1, image_size=32, keep_worse=True"
TRAIN_FAST = "max_length=64, epochs=1, batch_size=8, negatives=3, dev_fraction=0.25"
SMALL_LLM = ("qwen2.5-coder-1.5b", TEST_LLM)
# Each python block, in page order: what it runs on here. A new block fails the test until it is listed.
SETUP: dict[tuple[str, int], dict] = {
    ("ask.md", 0): {"lane": "llm", "inputs": wikipedia_vital},
    ("images.md", 0): {
        "lane": "training",
        "stand_ins": [("../shared/data/images/emoji", str(SHARED / "data/images/emoji")), ("epochs=40", IMAGES_FAST)],
    },
    ("keywords-topics-classes.md", 0): {"inputs": few_texts},
    ("keywords-topics-classes.md", 1): {"lane": "llm", "inputs": few_texts, "stand_ins": [SMALL_LLM]},
    ("keywords-topics-classes.md", 2): {"lane": "topics", "inputs": corpus_for_topics},
    ("keywords-topics-classes.md", 3): {"lane": "llm", "inputs": movie_reviews, "stand_ins": [SMALL_LLM]},
    ("scale-out.md", 0): {"lane": "postgres", "inputs": postgres, "stand_ins": [('"postgresql://..."', "PG_URL")]},
    ("search.md", 0): {"inputs": notes_folder},
    ("server.md", 0): {
        "lane": "llm",
        "inputs": team_server,
        "stand_ins": [('"http://search.internal:8000"', "URL"), ('api_key="..."', 'api_key="team-key"')],
    },
    ("tokens.md", 0): {"inputs": few_texts},
    ("tokens.md", 1): {},  # the UDHR (TEXTLENS_DATA: ../shared/data/multilingual) with two tokenizers
    ("training.md", 0): {
        "lane": "training",
        "inputs": scifact_folder,
        "stand_ins": [('"../shared/data/beir/scifact"', '"scifact"'), ("max_length=160", TRAIN_FAST)],
    },
}


def examples() -> list[Example]:
    out = []
    for page in PAGES:
        for index, code in enumerate(blocks(page, "python")):
            out.append(Example(page.name, index, code, **SETUP.get((page.name, index), {})))
    return out


def test_every_python_example_is_listed():
    assert {(e.page, e.index) for e in examples()} == set(SETUP), "list each python block of docs/ in SETUP"


@pytest.mark.parametrize(
    "example",
    [pytest.param(e, marks=[getattr(pytest.mark, e.lane)] if e.lane else []) for e in examples()],
    ids=[f"{e.page}#{e.index}" for e in examples()],
)
def test_python_example_runs(example: Example, tmp_path, monkeypatch, request):
    code = example.code
    for written, run in example.stand_ins:
        assert written in code, f"{example.page}: the stand-in for {written} no longer matches the example"
        code = code.replace(written, run)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TEXTLENS_LLM", TEST_LLM)
    namespace: dict = example.inputs(tmp_path, request) if example.inputs else {}
    run_checked(code, f"docs/{example.page} python block {example.index}", namespace)


def run_checked(code: str, where: str, namespace: dict) -> None:
    """Run ``code`` a statement at a time; a statement ``expr  # literal`` must give the literal."""
    lines = code.splitlines()
    for statement in ast.parse(code).body:
        unit = ast.Module(body=[statement], type_ignores=[])
        if isinstance(statement, ast.Expr) and statement.end_lineno == statement.lineno:
            comment = lines[statement.lineno - 1][statement.end_col_offset :].strip()
            expected = _literal(comment.removeprefix("#").strip()) if comment.startswith("#") else _NONE
            if expected is not _NONE:
                got = eval(compile(ast.Expression(statement.value), where, "eval"), namespace)
                assert got == expected, f"{where}, line {statement.lineno}: {got!r}, the docs say {expected!r}"
                continue
        exec(compile(unit, where, "exec"), namespace)


_NONE = object()


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return _NONE


# -- shell blocks ----------------------------------------------------------------------------------------------
def commands(code: str) -> list[list[str]]:
    """The command lines of a bash block: continuations joined, comments dropped, pipelines split, the
    variable assignments before a command left out."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        for part in re.split(r"\s\|\s|&&", line):
            words = shlex.split(part, comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]
            if words and words[0] != "export":
                out.append(words)
    return out


def shell_examples() -> list[tuple[str, list[str]]]:
    return [(page.name, words) for page in PAGES for code in blocks(page, "bash") for words in commands(code)]


def test_the_docs_show_shell_commands():
    programs = {words[0] for _, words in shell_examples()}
    assert programs <= {"textlens", "make", "python", ".venv/bin/python", ".venv/bin/ruff", "cat"}, programs
    assert len([1 for _, words in shell_examples() if words[0] == "textlens"]) > 50


def test_every_textlens_command_in_the_docs_parses():
    root = typer.main.get_command(app)
    for page, words in shell_examples():
        if words[0] == "textlens":
            try:
                parse(root, words[1:])
            except Exception as exc:  # the CLI's own usage errors (NoSuchOption, BadOptionUsage...) and ours
                message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
                raise AssertionError(f"docs/{page}: `{shlex.join(words)}`: {message}") from None


def parse(command, args: list[str], parent=None) -> None:
    """Parse ``args`` as the CLI would, without running anything: an unknown command or option, an option
    without its value, or a word too many fails. Values are not converted, so a path in an example need not
    exist here."""
    ctx = CONTEXT(command, info_name=command.name, parent=parent)
    _, rest, _ = command.make_parser(ctx).parse_args(list(args))
    if hasattr(command, "commands"):  # a group: the rest starts with a subcommand
        assert rest, f"{command.name} needs a subcommand"
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"{command.name} has no command {rest[0]}"
        parse(sub, rest[1:], ctx)
    else:
        assert not rest, f"{command.name} takes no more arguments: {rest}"


CONTEXT = type(typer.main.get_command(app).make_context("textlens", ["--help"], resilient_parsing=True))


def test_make_targets_and_scripts_in_the_docs_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+(?: [\w-]+)*):", makefile, re.M))
    targets = {t for group in targets for t in group.split()}
    for page, words in shell_examples():
        if words[0] == "make":
            assert set(words[1:]) <= targets, f"docs/{page}: make {' '.join(words[1:])}: no such target"
        if words[0] == "python" and words[1].endswith(".py"):
            assert (ROOT / words[1]).is_file(), f"docs/{page}: {words[1]} does not exist"
