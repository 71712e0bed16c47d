"""The pages of benchmark results (benchmarks/pages.py) are generated, never edited by hand."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_page_of_benchmark_results_is_current():
    """docs/results.md and the README's headline table come from the JSON files: a new or changed result without
    `python benchmarks/pages.py` fails here."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import pages
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert pages.PAGE.read_text(encoding="utf-8") == pages.render(), "run: python benchmarks/pages.py"
    readme = pages.README.read_text(encoding="utf-8")
    assert readme == pages.readme_with_headline(readme), "run: python benchmarks/pages.py"
    pages_with_tables = pages.table_pages()
    assert len(pages_with_tables) >= 6
    for page in pages_with_tables:
        text = page.read_text(encoding="utf-8")
        assert text == pages.with_tables(text), f"{page.name}: run python benchmarks/pages.py"


def test_no_table_of_figures_in_the_docs_is_typed_by_hand():
    """A Markdown table whose cells hold decimal figures stands between ``<!-- table -->`` markers; the tables
    left by hand hold names, options or counts (the tokenizer registry, the extras)."""
    import re

    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name == "results.md":
            continue
        generated = False
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            generated = (generated or line.startswith("<!-- table ")) and not line.startswith("<!-- /table")
            allowed = HAND_OK.get(page.name)
            if line.startswith("|") and not generated and not (allowed is not None and allowed in line):
                assert not re.search(r"\|\s*\**\d+\.\d+", line), f"docs/{page.name}:{number}: a figure typed by hand"


# Tables left by hand on purpose: their figures come from no benchmark file (the token counts of the probe text
# are the CLI's output, shown as an example; the classifier rows are commands a reader runs).
HAND_OK = {"tokens.md": "", "keywords-topics-classes.md": "`classify "}
