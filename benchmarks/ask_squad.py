"""Grounded answers on SQuAD 2.0 (24 dev articles), side by side, with the same model and passages:

- closed-book: the question alone;
- plain RAG: "answer using the context" with the retrieved passages;
- LangChain RetrievalQA ("stuff" chain, its default prompt): the book's recipe, the same GGUF
  model reached through llama.cpp's OpenAI-compatible server (langchain-openai's ChatOpenAI);
- textlens ask: numbered passages, grammar-bound citations, support check, abstention.

The paragraphs are indexed as one collection (hybrid retrieval, k passages); a seeded sample of
questions, half unanswerable, is asked of every row. A separate seeded tuning sample (no question
shared) sets textlens's abstention and support thresholds first (``--tune``), the way a user would
tune them; ``--questions 0 --tune N`` tunes only.

Usage: python benchmarks/ask_squad.py [--model qwen2.5-coder-1.5b] [--questions 100] [--tune 60] [--rows ROWS]
Writes ``benchmarks/results/ask_squad_{model}.json`` (and ``ask_squad_tune.json`` when tuning).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import time
from pathlib import Path
from typing import Any

from provenance import provenance, write_result
from textlens.ask import answer_from
from textlens.ask.steps import check_support, parse_citations, refusal
from textlens.corpus import Document
from textlens.evaluate.qa import exact_match, f1
from textlens.index import CollectionBase, CollectionError, create_collection, open_collection
from textlens.llm import get_generator

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared" / "data" / "qa" / "squad_v2_dev_24_articles.json"
COLLECTION = "squad-dev24"
MAX_TOKENS = 64
# what a baseline says when it declines (the same test for every row that has no structured abstention)
DECLINES = re.compile(
    r"not in (the )?(sources|context)|(don't|do not|doesn't|does not) (know|contain|provide|mention|say)|"
    r"cannot (be )?(answer|determin|find)|can't (answer|determin|find)|no (information|answer|mention)|"
    r"not (mentioned|provided|specified|stated|given)|unable to (answer|determin|find)|i'm sorry",
    re.IGNORECASE,
)
PLAIN = "Answer the question using the context.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:"
CLOSED = "Answer the question.\n\nQuestion: {question}\nAnswer:"


def load() -> tuple[list[Document], list[dict[str, Any]]]:
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    docs, questions = [], []
    for ai, article in enumerate(data):
        for pi, para in enumerate(article["paragraphs"]):
            doc_id = f"{ai}-{pi}"
            docs.append(Document(doc_id, para["context"], article["title"].replace("_", " ")))
            for qa in para["qas"]:
                golds = [a["text"] for a in qa["answers"]]
                questions.append({"id": qa["id"], "question": qa["question"].strip(), "doc": doc_id, "golds": golds})
    return docs, questions


def samples(questions: list[dict[str, Any]], n: int, n_tune: int) -> tuple[list[dict], list[dict]]:
    """Seeded, disjoint: the benchmark sample (from the front of the shuffled questions) and the
    tuning sample (from the back, so it is the same whatever the benchmark's size); each half unanswerable."""
    rng = random.Random(2026)
    answerable = [q for q in questions if q["golds"]]
    unanswerable = [q for q in questions if not q["golds"]]
    rng.shuffle(answerable)
    rng.shuffle(unanswerable)
    half, tune_half = n // 2, n_tune // 2
    # interleaved, so that any prefix of the sample is half unanswerable too
    test = [q for pair in zip(answerable[:half], unanswerable[:half], strict=True) for q in pair]
    if half + tune_half > min(len(answerable), len(unanswerable)):
        raise SystemExit(f"{n} + {n_tune} questions overlap: there are {len(unanswerable)} unanswerable ones")
    tune = answerable[len(answerable) - tune_half :] + unanswerable[len(unanswerable) - tune_half :]
    return test, tune


def collection(docs: list[Document]) -> CollectionBase:
    try:
        col = open_collection(COLLECTION)
        if len(col) == len(docs):
            return col
        col.delete_collection()
    except CollectionError:
        pass
    col = create_collection(COLLECTION)
    col.add(docs)
    return col


def ask_textlens(llm, q, hits, thresholds: dict[str, float], style="short") -> dict[str, Any]:
    first: list[float] = []
    t0 = time.perf_counter()
    answer = answer_from(
        q["question"],
        hits,
        llm=llm,
        max_tokens=MAX_TOKENS,
        style=style,
        on_text=lambda _t: first or first.append(time.perf_counter() - t0),
        **thresholds,
    )
    drafted = [int(n) for n in re.findall(r"\[(\d+)\]", answer.draft)]
    given = {p.number: p for p in answer.passages}
    cited = [c for s in answer.sentences for c in s.citations]
    return {
        "prediction": answer.text,
        "abstained": answer.abstained,
        "seconds": time.perf_counter() - t0,
        "first_token": first[0] if first else None,
        "completion_tokens": answer.usage.get("completion_tokens", 0),
        "generation_s": answer.timings.get("generation"),
        "markers_drafted": len(drafted),
        "markers_valid": sum(n in given for n in drafted),
        "citations": len(cited),
        "citations_valid": sum(c.passage in given for c in cited),
        "citations_holding_answer": sum(
            any(g.lower() in given[c.passage].text.lower() for g in q["golds"]) for c in cited
        ),
        "sentences": len(answer.sentences),
        "unsupported": len(answer.unsupported),
        "repaired_citations": sum(r.startswith("cited [") for r in answer.repairs),
        "claims": len(claims := [c for s in answer.sentences for c in s.claims]),
        "claims_converted": sum(c.status == "converted" for c in claims),
        "claims_unsupported": sum(c.status == "unsupported" for c in claims),
        "claims_dropped": sum(r.startswith("dropped '(") for r in answer.repairs),
        "abstention_probability": answer.abstention_probability,
        "draft": answer.draft,
        "answer": answer,
    }


def ask_plain(llm, q, hits, template: str) -> dict[str, Any]:
    first: list[float] = []
    t0 = time.perf_counter()
    context = "\n\n".join(f"{h.title}: {h.text}" for h in hits)
    generation = llm.generate(
        [{"role": "user", "content": template.format(context=context, question=q["question"])}],
        max_tokens=MAX_TOKENS,
        on_text=lambda _t: first or first.append(time.perf_counter() - t0),
    )
    text = generation.text.strip()
    return {
        "prediction": "" if DECLINES.search(text) else text,
        "abstained": bool(DECLINES.search(text)) or not text,
        "seconds": time.perf_counter() - t0,
        "first_token": first[0] if first else None,
        "completion_tokens": generation.usage.completion_tokens,
        "generation_s": generation.timings.generation,
        "draft": text,
    }


def langchain_chain(llm):
    """RetrievalQA ("stuff") over a retriever that returns the hits textlens retrieved for the question."""
    from langchain_classic.chains import RetrievalQA
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document as LCDocument
    from langchain_core.retrievers import BaseRetriever
    from langchain_openai import ChatOpenAI

    class Fixed(BaseRetriever):
        hits: dict = {}  # noqa: RUF012 - a pydantic field: each instance gets its own copy

        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun):
            return [LCDocument(page_content=f"{h.title}: {h.text}") for h in self.hits[query]]

    retriever = Fixed()
    chat = ChatOpenAI(
        base_url=llm.url, api_key=llm.api_key, model=llm.name, temperature=0, max_tokens=MAX_TOKENS, seed=0
    )
    return RetrievalQA.from_chain_type(llm=chat, chain_type="stuff", retriever=retriever), retriever


def ask_langchain(chain, retriever, q, hits) -> dict[str, Any]:
    retriever.hits = {q["question"]: hits}
    t0 = time.perf_counter()
    text = chain.invoke({"query": q["question"]})["result"].strip()
    return {
        "prediction": "" if DECLINES.search(text) else text,
        "abstained": bool(DECLINES.search(text)) or not text,
        "seconds": time.perf_counter() - t0,
        "first_token": None,
        "completion_tokens": None,
        "generation_s": None,
        "draft": text,
    }


def summarise(rows: list[dict[str, Any]], questions: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [(r, q) for r, q in zip(rows, questions, strict=True) if q["golds"]]
    una = [(r, q) for r, q in zip(rows, questions, strict=True) if not q["golds"]]
    abstained = [r for r in rows if r["abstained"]]
    right_abstentions = sum(r["abstained"] for r, _ in una)
    f1_sum = sum(f1(r["prediction"], q["golds"]) for r, q in ans)
    out = {
        # SQuAD 2.0's overall score: F1 on answerable questions, 1 for declining an unanswerable one
        "squad2_f1": round(100 * (f1_sum + right_abstentions) / len(rows), 1),
        "exact_match": round(100 * sum(exact_match(r["prediction"], q["golds"]) for r, q in ans) / max(1, len(ans)), 1),
        "f1": round(100 * f1_sum / max(1, len(ans)), 1),
        "answered_answerable": round(100 * sum(not r["abstained"] for r, _ in ans) / max(1, len(ans)), 1),
        "abstention_precision": round(100 * right_abstentions / len(abstained), 1) if abstained else None,
        "abstention_recall": round(100 * right_abstentions / len(una), 1) if una else None,
        "seconds_per_question": round(sum(r["seconds"] for r in rows) / len(rows), 2),
    }
    firsts = [r["first_token"] for r in rows if r.get("first_token") is not None]
    out["first_token_s"] = round(sum(firsts) / len(firsts), 2) if firsts else None
    gen = [(r["completion_tokens"], r["generation_s"]) for r in rows if r.get("generation_s")]
    out["tokens_per_second"] = round(sum(t for t, _ in gen) / sum(s for _, s in gen), 1) if gen else None
    if "citations" in rows[0]:
        drafted = sum(r["markers_drafted"] for r in rows)
        cited = sum(r["citations"] for r in rows)
        answered = [r for r, q in ans if not r["abstained"]]
        out["citation_validity"] = round(100 * sum(r["citations_valid"] for r in rows) / cited, 1) if cited else None
        # citations that the support check moved to the passage holding the words (Answer.repairs)
        out["citations_moved"] = round(100 * sum(r["repaired_citations"] for r in rows) / cited, 1) if cited else None
        out["draft_marker_validity"] = (
            round(100 * sum(r["markers_valid"] for r in rows) / drafted, 1) if drafted else None
        )
        held = sum(r["citations_holding_answer"] for r in answered)
        total = sum(r["citations"] for r in answered)
        out["citation_precision"] = round(100 * held / total, 1) if total else None
        claims = sum(r["claims"] for r in rows)
        out["claims"] = claims  # numbers the answers state, each checked against the passages
        out["claims_converted"] = sum(r["claims_converted"] for r in rows)
        out["claims_unsupported"] = sum(r["claims_unsupported"] for r in rows)
        out["claims_dropped"] = sum(r["claims_dropped"] for r in rows)  # asides dropped from an answer kept
        out["answers_partly_kept"] = sum(bool(r["claims_dropped"]) and not r["abstained"] for r in rows)
        sentences = sum(r["sentences"] for r in rows)
        out["unsupported_sentences"] = (
            round(100 * sum(r["unsupported"] for r in rows) / sentences, 1) if sentences else 0
        )
    return out


def tune(llm, tune_set, hits) -> dict[str, Any]:
    """textlens's abstention and support thresholds, chosen on the tuning sample by a do-no-harm rule:
    decline as many unanswerable questions as possible while the F1 on answerable ones stays within
    one point of answering everything (declining must not cost real answers).

    Each question is asked once, never declined by probability (abstention threshold 1); every pair of
    thresholds is then applied to those answers (the support check needs no model). Ties: the support
    threshold nearest 0.5, then the better F1. The SQuAD 2.0 score (F1 on an answerable question, 1 for
    declining an unanswerable one) is reported for every pair too."""
    runs = [ask_textlens(llm, q, hits[q["id"]], {"abstain_threshold": 1.0})["answer"] for q in tune_set]
    abstain_grid = [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0]
    support_grid = [round(0.1 * i, 1) for i in range(11)]
    n_ans = sum(bool(q["golds"]) for q in tune_set)
    grid: dict[str, dict[str, float]] = {}
    for t in support_grid:
        checked = []  # per question: the answer text, and whether it is declined before the probability rule
        for answer, q in zip(runs, tune_set, strict=True):
            text, sentences, _, abstained = parse_citations(answer.draft, answer.passages)
            check_support(q["question"], sentences, answer.passages, t)
            checked.append((text, refusal(abstained, sentences) is not None))  # answer_from's rule
        for a in abstain_grid:
            f1_sum, declined_una = 0.0, 0
            for answer, q, (text, refused) in zip(runs, tune_set, checked, strict=True):
                p = answer.abstention_probability
                declined = refused or (p is not None and p >= a)
                if q["golds"]:
                    f1_sum += 0.0 if declined else f1(text, q["golds"])
                else:
                    declined_una += declined
            grid[f"{a}/{t}"] = {
                "f1": round(100 * f1_sum / n_ans, 1),
                "abstention_recall": round(100 * declined_una / (len(tune_set) - n_ans), 1),
                "squad2_f1": round(100 * (f1_sum + declined_una) / len(tune_set), 1),
            }
    best_f1 = max(g["f1"] for g in grid.values())
    allowed = [key for key, g in grid.items() if g["f1"] >= best_f1 - 1.0]
    best = max(
        allowed,
        key=lambda key: (grid[key]["abstention_recall"], -abs(float(key.split("/")[1]) - 0.5), grid[key]["f1"]),
    )
    a, t = (float(x) for x in best.split("/"))
    return {
        "abstain_threshold": a,
        "support_threshold": t,
        "rule": "most abstention recall with F1 (answerable) within 1 point of the best",
        "chosen": grid[best],
        "grid (abstain/support)": grid,
        "questions": len(tune_set),
        "asked": [
            {
                "question": q["question"],
                "golds": q["golds"][:1],
                "abstention_probability": r.abstention_probability,
                "draft": r.draft,
            }
            for q, r in zip(tune_set, runs, strict=True)
        ],
    }


ROWS = ("closed-book", "plain RAG", "LangChain RetrievalQA", "textlens ask")


def _kept_rows(path: Path, wanted: list[str], questions: int) -> tuple[dict[str, Any], dict[str, list]]:
    """The rows not run this time and their answers, from the last result file (which must have asked the same
    questions)."""
    if set(wanted) == set(ROWS):
        return {}, {}
    last = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if last.get("questions") != questions or set(last.get("rows", {})) < set(ROWS) - set(wanted):
        raise SystemExit(f"{path} has no rows of the same {questions} questions to keep: run every row")
    commit = (last.get("provenance") or {}).get("commit")
    kept = [name for name in ROWS if name not in wanted]
    answers = last.get("answers", {})
    return {name: {"measured_at": commit, **last["rows"][name]} for name in kept}, {
        name: answers[name] for name in kept if name in answers
    }


def _answer_record(q: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """One question's outcome in a row, kept in the result file so that two runs can be compared question by
    question (which answer changed, which decline flipped)."""
    record = {"id": q["id"], "answerable": bool(q["golds"]), "abstained": run["abstained"]}
    record["prediction"] = run["prediction"]
    if "abstention_probability" in run:
        record["abstention_probability"] = run["abstention_probability"]
        record["draft"] = run["draft"]
    return record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--tune", type=int, default=0, help="tune the thresholds on this many questions")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--rows",
        default=",".join(ROWS),
        help="the rows to run (comma-separated); the others are kept from the last result file, with the commit "
        "that measured them",
    )
    args = parser.parse_args()
    wanted = [r.strip() for r in args.rows.split(",") if r.strip()]
    if not set(wanted) <= set(ROWS):
        parser.error(f"--rows takes {', '.join(ROWS)}")

    from textlens.ask import ABSTAIN_THRESHOLD, SUPPORT_THRESHOLD

    docs, questions = load()
    test, tune_set = samples(questions, args.questions, args.tune)
    col = collection(docs)
    hits = {}
    for q in test + tune_set:
        hits[q["id"]] = col.search(q["question"], mode="hybrid", k=args.k, highlight=False).hits
    llm = get_generator(args.model, threads=args.threads)
    llm.generate([{"role": "user", "content": "Hello"}], max_tokens=4)  # load and warm up
    thresholds = {"abstain_threshold": ABSTAIN_THRESHOLD, "support_threshold": SUPPORT_THRESHOLD}
    out: dict[str, Any] = {
        "model": args.model,
        "questions": len(test),
        "answerable": sum(bool(q["golds"]) for q in test),
        "k": args.k,
        "max_tokens": MAX_TOKENS,
        "retrieval": "hybrid",
        "machine": f"{platform.machine()}, {llm.threads} threads",
    }
    if args.tune:
        tuned = tune(llm, tune_set, hits)
        thresholds = {k: tuned[k] for k in thresholds}
        (ROOT / "benchmarks/results/ask_squad_tune.json").write_text(
            json.dumps({"model": args.model, **tuned}, indent=2)
        )
        print("tuned:", thresholds, tuned["chosen"], flush=True)
    if not test:
        return
    recall = sum(any(h.doc_id == q["doc"] for h in hits[q["id"]]) for q in test if q["golds"])
    out["recall_at_k"] = round(100 * recall / out["answerable"], 1)
    out.update(thresholds)
    path = ROOT / f"benchmarks/results/ask_squad_{args.model}.json"
    kept, kept_answers = _kept_rows(path, wanted, len(test))
    chain, retriever = langchain_chain(llm) if "LangChain RetrievalQA" in wanted else (None, None)
    ask = {
        "closed-book": lambda q, h: ask_plain(llm, q, [], CLOSED),
        "plain RAG": lambda q, h: ask_plain(llm, q, h, PLAIN),
        "LangChain RetrievalQA": lambda q, h: ask_langchain(chain, retriever, q, h),
        "textlens ask": lambda q, h: ask_textlens(llm, q, h, thresholds),
    }
    runs: dict[str, list] = {name: [] for name in wanted}
    measured_at = provenance()["commit"]
    for i, q in enumerate(test):
        for name in wanted:
            runs[name].append(ask[name](q, hits[q["id"]]))
        if (i + 1) % 10 == 0 or i + 1 == len(test):
            done = test[: i + 1]
            out["asked"] = len(done)
            fresh = {name: {**summarise(rows, done), "measured_at": measured_at} for name, rows in runs.items()}
            out["rows"] = {name: fresh.get(name) or kept[name] for name in ROWS}
            out["answers"] = {
                **kept_answers,
                **{
                    name: [_answer_record(q, r) for q, r in zip(done, rows, strict=True)] for name, rows in runs.items()
                },
            }
            out["examples"] = [
                {"question": q["question"], "golds": q["golds"][:1], **{n: runs[n][j]["draft"] for n in runs}}
                for j, q in enumerate(done[:6])
            ]
            write_result(path, out)  # written as it goes: a long run keeps what it measured
            print(f"{i + 1}/{len(test)}", {n: r["f1"] for n, r in out["rows"].items()}, flush=True)
    print(json.dumps(out["rows"], indent=2))


if __name__ == "__main__":
    main()
