"""Keyphrase extraction on Inspec and SemEval-2010: textlens (embeddings and the LLM in each mode)
next to KeyBERT, KeyBERT's KeyLLM and YAKE, in one run.

Protocol (the usual one): predictions and gold are lowercased, split on whitespace, stripped of
punctuation at word ends and Porter-stemmed word by word (PyStemmer's ``porter``); a prediction
matches a gold phrase when the stemmed forms are equal; repeated predictions count once.
P@k = matches among the first k / k (a method that gives fewer than k is not rewarded for it),
R@k = matches / all gold phrases, **absent gold included** (phrases that do not occur in the text
count in the denominator: no extractive method can reach R = 1); F1@k from P@k and R@k per
document, then averaged over documents (macro). Inspec gold: the uncontrolled ``keyphrases``.
SemEval-2010 gold: the official combined list, already Porter-stemmed; ``a+b`` alternatives count
as one gold phrase, matched by any alternative.

Rows: textlens embeddings and KeyBERT (same encoder object, 1-3 words, English stop words), YAKE
(n=3) on every document; the LLM rows (textlens write, choose, shared, and KeyLLM with the same GGUF
model through llama.cpp's OpenAI-compatible server) on the first ``--llm-docs`` Inspec abstracts.
Also: share of keywords not found in the document, seconds per document.

KeyLLM is given ``max_tokens=160`` (it sets no limit of its own; a small model then writes until its
context is full). Writes ``benchmarks/results/keyphrases_DATASET.json`` after every row.
Usage: python benchmarks/keyphrases.py [--llm qwen2.5-coder-1.5b] [--llm-docs 200] [--dataset semeval2010]
       [--skip shared,keyllm,keybert]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import regex
import Stemmer

import textlens
from provenance import write_result
from textlens.embed import get_encoder
from textlens.keywords import extract_keywords
from textlens.keywords.llm import near_duplicates

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "keyphrases"
RESULTS = ROOT / "benchmarks" / "results"
KS = (5, 10, 15)
_porter = Stemmer.Stemmer("porter")
_EDGE = regex.compile(r"^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$")


def stem(phrase: str) -> str:
    words = [_EDGE.sub("", w) for w in phrase.lower().split()]
    return " ".join(_porter.stemWord(w) for w in words if w)


def gold_sets(doc: dict, dataset: str) -> list[set[str]]:
    """Each gold phrase as the set of its accepted stemmed forms."""
    if dataset == "semeval":
        return [{" ".join(a.split()) for a in g.split("+")} for g in doc["keyphrases"]]
    return [{stem(g)} for g in dict.fromkeys(doc["keyphrases"])]


def scores(predicted: list[str], gold: list[set[str]]) -> dict[str, float]:
    seen, ranked = set(), []
    for p in predicted:
        s = stem(p)
        if s and s not in seen:
            seen.add(s)
            ranked.append(s)
    out = {}
    for k in KS:
        top = set(ranked[:k])
        hits = sum(1 for g in gold if g & top)
        p, r = hits / k, hits / len(gold) if gold else 0.0
        out[f"p@{k}"], out[f"r@{k}"], out[f"f1@{k}"] = p, r, 2 * p * r / (p + r) if p + r else 0.0
    return out


def absent_share(predicted: list[list[str]], texts: list[str]) -> float:
    """Share of keywords whose words (stemmed) do not occur in that order in the document."""
    total = missing = 0
    for kws, text in zip(predicted, texts, strict=True):
        body = " " + stem(" ".join(text.split())) + " "
        for kw in kws:
            total += 1
            missing += f" {stem(kw)} " not in body
    return round(missing / total, 4) if total else 0.0


def row(name: str, dataset: str, docs: list[dict], predicted: list[list[str]], seconds: float, **extra) -> dict:
    per = [scores(p, gold_sets(d, dataset)) for p, d in zip(predicted, docs, strict=True)]
    mean = {k: round(100 * sum(s[k] for s in per) / len(per), 2) for k in per[0]}
    out = {
        "method": name,
        "dataset": dataset,
        "documents": len(docs),
        **mean,
        "keywords_per_doc": round(sum(map(len, predicted)) / len(predicted), 2),
        "not_in_document": absent_share(predicted, [d["text"] for d in docs]),
        "seconds_per_doc": round(seconds / len(docs), 3),
        **extra,
    }
    print(json.dumps(out), flush=True)
    return out


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).open(encoding="utf-8")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", default="qwen2.5-coder-1.5b")
    parser.add_argument("--llm-docs", type=int, default=200)
    parser.add_argument(
        "--dataset",
        choices=("inspec", "semeval2010"),
        default="inspec",
        help="semeval2010: the 100 papers, embedding and classical rows only (long for a CPU LLM).",
    )
    parser.add_argument("--docs", type=int, default=None, help="Only the first N documents (a quick check).")
    parser.add_argument("--skip", default="", help="Comma-separated methods to leave out (e.g. keyllm).")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    import yake
    from keybert import KeyBERT

    from passages import plain_sentence_transformer

    encoder = get_encoder()
    kb = KeyBERT(model=plain_sentence_transformer())
    report = {
        "textlens": textlens.__version__,
        "machine": f"{platform.machine()}, 2 cores",
        "encoder": encoder.name,
        "llm": args.llm,
        "llm_docs": args.llm_docs,
        "protocol": __doc__.split("Protocol (the usual one): ")[1].split("\n\nRows:")[0].replace("\n", " "),
        "rows": [],
    }

    def save(r: dict) -> None:
        report["rows"].append(r)
        out = RESULTS / f"keyphrases_{args.dataset}{f'_{args.docs}' if args.docs else ''}.json"
        write_result(out, report)

    def embedding_rows(dataset: str, docs: list[dict]) -> None:
        texts = [d["text"] for d in docs]
        t0 = time.perf_counter()
        ours = extract_keywords(texts, encoder=encoder, ngram_range=(1, 3), k=15, cache=False)
        save(row("textlens (embeddings)", dataset, docs, [[k.phrase for k in r.keywords] for r in ours],
                 time.perf_counter() - t0))  # fmt: skip
        if "keybert" not in skip:
            t0 = time.perf_counter()
            theirs = kb.extract_keywords(texts, keyphrase_ngram_range=(1, 3), stop_words="english", top_n=15)
            save(row("KeyBERT (same encoder)", dataset, docs, [[k for k, _ in t] for t in theirs],
                     time.perf_counter() - t0))  # fmt: skip
        t0 = time.perf_counter()
        yk = yake.KeywordExtractor(lan="en", n=3, top=15)
        save(row("YAKE (n=3)", dataset, docs, [[k for k, _ in yk.extract_keywords(t)] for t in texts],
                 time.perf_counter() - t0))  # fmt: skip

    if args.dataset == "semeval2010":
        embedding_rows("semeval2010", load("semeval2010_test.jsonl")[: args.docs])
        return
    inspec = load("inspec_test.jsonl")[: args.docs]
    embedding_rows("inspec", inspec)

    from textlens.llm import get_generator

    few = inspec[: args.llm_docs]
    if {"write", "choose", "shared", "keyllm"} <= skip:
        return
    llm = get_generator(args.llm)
    texts = [d["text"] for d in few]
    for mode in ("write", "choose", "shared"):
        if mode in skip:
            continue
        t0 = time.perf_counter()
        results = extract_keywords(texts, llm=llm, llm_mode=mode, k=10, encoder=encoder, ungrounded="mark")
        seconds = time.perf_counter() - t0
        kws = [[k.phrase for k in r.keywords] for r in results]
        notes = sum(1 for r in results if r.note)
        ungrounded = sum(not k.grounded for r in results for k in r.keywords)
        save(row(f"textlens LLM {mode}", "inspec", few, kws, seconds, model=args.llm, calls=results.calls,
                 threshold=results.threshold, documents_with_note=notes, ungrounded_marked=ungrounded))  # fmt: skip
        grounded = [[k.phrase for k in r.keywords if k.grounded] for r in results]
        save(row(f"textlens LLM {mode}, ungrounded dropped", "inspec", few, grounded, seconds, model=args.llm))
    t0 = time.perf_counter()
    threshold, leaders = near_duplicates(texts, encoder=encoder)
    report["shared_grouping"] = {
        "documents": len(texts), "threshold_from_data": threshold, "calls": len(set(leaders.values())),
        "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
    print(json.dumps(report["shared_grouping"]), flush=True)
    if "keyllm" not in skip:
        from keybert import KeyLLM
        from keybert.llm import OpenAI
        from openai import OpenAI as Client

        client = Client(base_url=llm.url, api_key=llm.api_key)
        limits = {"temperature": 0, "max_tokens": 160}
        keyllm = KeyLLM(OpenAI(client, model=args.llm, chat=True, generator_kwargs=limits))
        t0 = time.perf_counter()
        theirs = keyllm.extract_keywords(texts)
        save(row("KeyBERT KeyLLM (same GGUF, OpenAI-compatible server)", "inspec", few,
                 [list(t) for t in theirs], time.perf_counter() - t0, model=args.llm))  # fmt: skip


if __name__ == "__main__":
    main()
