"""The README's Python quickstart runs as written: a folder of notes indexed, searched and asked, from `import
textlens` alone (the answering model is the tests' small SmolLM2, named by TEXTLENS_LLM; the code is unchanged)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import textlens

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- quickstart: run as written by tests/test_quickstart.py -->"
NOTES = {
    "logs.md": "# Logs\n\nThe application writes its logs to /var/log/app. Logs are rotated every night at midnight "
    "and kept for 14 days.\n\nOld logs are compressed with gzip before they are deleted.\n",
    "backups.md": "# Backups\n\nThe database is backed up every six hours to the object store. A backup is kept for "
    "30 days.\n\nRestoring a backup takes about ten minutes for the main database.\n",
}


def quickstart(page: str = "README.md") -> str:
    text = (ROOT / page).read_text(encoding="utf-8")
    assert MARKER in text, f"{page} lost its tested quickstart"
    block = re.search(r"```python\n(.*?)```", text[text.index(MARKER) :], re.S)
    assert block is not None
    return block.group(1)


def test_the_docs_show_the_same_quickstart():
    assert quickstart("docs/index.md") == quickstart()


def test_the_front_door_is_one_import():
    assert set(textlens.__all__) >= {
        "Collection", "Document", "read_documents", "compare", "ask", "evaluate", "extract_keywords", "TopicModel",
        "Classifier", "TextlensError",
    }  # fmt: skip
    assert callable(textlens.ask) and callable(textlens.evaluate)  # the functions, not their subpackages
    for name in textlens.__all__:
        assert getattr(textlens, name) is not None


@pytest.mark.llm
def test_the_readme_quickstart_runs_as_written(tmp_path, monkeypatch, capsys):
    code = quickstart()
    assert len([line for line in code.splitlines() if line.strip()]) <= 6  # the import and five lines
    for name, body in NOTES.items():
        (tmp_path / "notes").mkdir(exist_ok=True)
        (tmp_path / "notes" / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TEXTLENS_LLM", "smollm2-135m")
    namespace: dict = {}
    exec(compile(code, "README.md quickstart", "exec"), namespace)
    col = namespace["col"]
    assert isinstance(col, textlens.Collection) and len(col) == 6  # two notes, three paragraphs each
    out = capsys.readouterr().out.splitlines()
    first_hit = next(line for line in out if line.strip().startswith("1."))
    assert "logs.md#" in first_hit  # the printed results: the logs note ranks first
    assert len(out) > 6  # five hits under their heading, then the answer (or the reason it declined)
    # run again: the add resumes, nothing is added twice
    assert col.add_path("notes/", chunk="paragraph").added == 0 and len(col) == 6
    col.close()


def test_add_path_reads_globs_and_says_when_nothing_matches(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    for name, body in NOTES.items():
        (tmp_path / "notes").mkdir(exist_ok=True)
        (tmp_path / "notes" / name).write_text(body, encoding="utf-8")
    with textlens.Collection.create("globbed", encoder=None) as col:
        report = col.add_path(str(tmp_path / "notes" / "log*.md"))
        assert report.added == 1 and [d.id for d in col.documents()] == ["logs.md"]
        with pytest.raises(textlens.TextlensError, match="no file matches"):
            col.add_path(str(tmp_path / "notes" / "*.txt"))
        assert col.search("gzip", mode="keyword").ids() == ["logs.md"]
        assert "LocalCollection" in repr(col) and col.info()["documents"] == 1
