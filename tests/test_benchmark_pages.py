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
    topics = pages.TOPICS_PAGE.read_text(encoding="utf-8")
    assert topics == pages.with_block(topics, pages.TOPICS, pages.topics_quality()), "run: python benchmarks/pages.py"
