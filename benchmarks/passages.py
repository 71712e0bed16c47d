"""The passage sets the search benchmarks use (shared by the benchmark scripts).

- ``wiki_passages()``: paragraphs over 80 characters of the 10,000 English
  Wikipedia articles in ``../shared/data/wikipedia/enwiki_articles_10k.jsonl.gz``
  (about 345,000), as Documents ``"{article id}#{n}"`` titled by their article.
- ``scifact()``: the BEIR SciFact corpus.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

from textlens.corpus import Document, read_documents

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TEXTLENS_SHARED", ROOT.parent / "shared"))
ENWIKI = SHARED / "data/wikipedia/enwiki_articles_10k.jsonl.gz"
SCIFACT = SHARED / "data/beir/scifact"


def wiki_passages(limit: int | None = None) -> Iterator[Document]:
    n = 0
    with gzip.open(ENWIKI, "rt", encoding="utf-8") as fh:
        for line in fh:
            article = json.loads(line)
            paras = [p.strip() for p in article["text"].split("\n") if len(p.strip()) > 80]
            for k, para in enumerate(paras):
                yield Document(f"{article['id']}#{k}", para, article["title"], parent=str(article["id"]))
                n += 1
                if limit is not None and n >= limit:
                    return


def scifact() -> list[Document]:
    return list(read_documents(SCIFACT))
