"""The passage sets the search benchmarks use (shared by the benchmark scripts).

- ``wiki_passages()``: paragraphs over 80 characters of the 10,000 English
  Wikipedia articles in ``../shared/data/wikipedia/enwiki_articles_10k.jsonl.gz``
  (about 345,000), as Documents ``"{article id}#{n}"`` titled by their article;
  ``wiki_sentences()``: their sentences (over a million).
- ``scifact()``: the BEIR SciFact corpus.
- ``newsgroups()``: the 18,846 posts of 20 Newsgroups (train and test) with their
  group as label, headers and quoting removed as scikit-learn's
  ``remove=("headers", "quotes")`` does (everything up to the first blank line;
  lines quoting another post and "... writes:" lines), so that topics come from
  the posts and not from e-mail addresses. Empty posts are left out.
- ``vital_articles()``: the 10,033 Wikipedia Vital Articles summaries, title and
  text, with their ``topic`` (12 classes) as label.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from textlens.corpus import Document, read_documents

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TEXTLENS_SHARED", ROOT.parent / "shared"))
ENWIKI = SHARED / "data/wikipedia/enwiki_articles_10k.jsonl.gz"
SCIFACT = SHARED / "data/beir/scifact"
NEWSGROUPS = SHARED / "data/topics/20newsgroups.jsonl.gz"
VITAL = SHARED / "data/wikipedia/vital_articles_en.jsonl"


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


def wiki_sentences(limit: int | None = None) -> Iterator[Document]:
    """The sentences of :func:`wiki_passages`'s paragraphs (textlens's rule-based ``split_sentences``) over 20
    characters, as Documents ``"{paragraph id}.{n}"`` titled by their article: over a million passages from the
    same text."""
    from textlens.corpus.chunkers import split_sentences

    n = 0
    for para in wiki_passages():
        for k, sentence in enumerate(s for s in split_sentences(para.text) if len(s) > 20):
            yield Document(f"{para.id}.{k}", sentence, para.title, parent=para.parent)
            n += 1
            if limit is not None and n >= limit:
                return


def scifact() -> list[Document]:
    return list(read_documents(SCIFACT))


_QUOTE = re.compile(r"(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)")


def newsgroups() -> list[Document]:
    out = []
    with gzip.open(NEWSGROUPS, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            body = "\n".join(
                line for line in row["text"].partition("\n\n")[2].split("\n") if not _QUOTE.search(line)
            ).strip()
            if body:
                out.append(Document(row["id"], body, metadata={"label": row["label"], "split": row["split"]}))
    return out


def vital_articles() -> list[Document]:
    out = []
    with VITAL.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.append(Document(row["id"], f"{row['title']}\n{row['text']}", row["title"], {"label": row["topic"]}))
    return out


def plain_sentence_transformer():
    """The default encoder as a plain ``SentenceTransformer`` (the peers' way of running it),
    whatever backend textlens itself picks."""
    from sentence_transformers import SentenceTransformer

    from textlens.config import DEFAULT_ENCODER
    from textlens.models.ref import resolve

    return SentenceTransformer(resolve(DEFAULT_ENCODER).target, device="cpu")
