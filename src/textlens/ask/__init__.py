"""Grounded answers with citations: retrieve -> fit_to_context -> prompt -> generate
(constrained) -> parse_citations -> check_support -> :class:`Answer`.

Example:
    >>> from textlens.index import Collection
    >>> answer = Collection.open("wikipedia-vital").ask("Which planet is called the red planet?")  # doctest: +SKIP
    >>> print(answer)  # doctest: +SKIP
    Mars is called the Red Planet [1].
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from textlens.ask.answer import Answer, Citation, Passage, Sentence
from textlens.ask.steps import SYSTEM, check_support, fit_to_context, grammar, parse_citations, prompt
from textlens.errors import InputError
from textlens.llm import get_generator
from textlens.llm.base import Generator, OnText

__all__ = ["SUPPORT_THRESHOLD", "Answer", "Citation", "Passage", "Sentence", "answer_from", "ask"]

SUPPORT_THRESHOLD = 0.5
"""A citation supports a sentence when the passage holds at least this share of the sentence's
new words. Tuned on 30 SQuAD 2.0 questions kept apart from the benchmark's (benchmarks/ask_squad.py
``--tune``, benchmarks/results/ask_squad_tune.json): right decisions 60% with no check, 67% for any
threshold from 0.05 to 1; 0.5 is the middle of that plateau."""


def ask(
    collection: Any,
    question: str,
    *,
    mode: str | None = None,
    k: int = 4,
    filters: dict[str, Any] | None = None,
    rerank: str | Any | None = None,
    **options: Any,
) -> Answer:
    """Answer ``question`` from a collection's passages, citing them.

    Args:
        collection: a :class:`~textlens.index.Collection` (or its name).
        mode, k, filters, rerank: how passages are retrieved (as in ``Collection.search``; ``mode``
            defaults to hybrid, or keyword for a collection without vectors); the top ``k`` that fit the
            model's context go in the prompt, numbered from 1.
        options: those of :func:`answer_from` (``llm``, ``max_tokens``, ``seed``, ``on_text``...).

    Returns an :class:`Answer`; ``abstained`` is set, with the reason, when the model finds no answer
    in the passages or no sentence it wrote is supported by what it cites.
    """
    _check(
        question,
        options.get("unsupported", "flag"),
        options.get("support_threshold"),
        options.get("style", "sentences"),
    )
    with contextlib.ExitStack() as stack:
        if isinstance(collection, str):
            from textlens.index import Collection

            collection = stack.enter_context(Collection.open(collection))
        if len(collection) == 0:
            raise InputError(
                f"collection {collection.name!r} is empty: there is nothing to answer from",
                hint=f"Add documents first: textlens index FILE --collection {collection.name}",
                api_hint="Add documents to the collection first.",
            )
        started = time.perf_counter()
        mode = mode or ("hybrid" if collection.manifest.get("encoder") else "keyword")
        hits = collection.search(question, mode=mode, k=k, filters=filters, rerank=rerank, highlight=False).hits
        retrieval = {"mode": mode, "k": k, "rerank": rerank if isinstance(rerank, str | None) else "custom"}
        return answer_from(question, hits, retrieval=retrieval, started=started, **options)


def _check(question: Any, unsupported: str, support_threshold: float | None, style: str) -> None:
    """Refuse bad options before anything is retrieved or generated."""
    if style not in SYSTEM:
        raise InputError(f"unknown answer style {style!r}", hint="Use " + " or ".join(SYSTEM) + ".")
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty", hint="Ask a question in words.")
    if unsupported not in ("flag", "drop"):
        raise InputError(f"unsupported must be 'flag' or 'drop', got {unsupported!r}")
    if support_threshold is not None and not 0.0 <= support_threshold <= 1.0:
        raise InputError(f"support_threshold must be between 0 and 1, got {support_threshold!r}")


def answer_from(
    question: str,
    hits: list[Any],
    *,
    llm: str | Generator | None = None,
    style: str = "sentences",
    max_tokens: int = 160,
    max_passage_tokens: int = 400,
    temperature: float = 0.0,
    seed: int = 0,
    constrain: bool = True,
    support_threshold: float | None = None,
    unsupported: str = "flag",
    on_text: OnText | None = None,
    retrieval: dict[str, Any] | None = None,
    started: float | None = None,
) -> Answer:
    """Answer ``question`` from passages already retrieved (``Hit`` objects, best first).

    Args:
        llm: a :class:`Generator` or a name for :func:`~textlens.llm.get_generator` (default ``DEFAULT_LLM``).
        style: ``"sentences"`` (one or two, each citing) or ``"short"`` (the phrase that answers, cited).
        max_tokens: the longest answer, in tokens.
        max_passage_tokens: a longer passage is cut to this (the cut is reported in ``Answer.context``).
        temperature, seed: sampling; the same seed, model, passages and settings give the same answer.
        constrain: bind the model's output to a grammar (only ``[n]`` of given passages, or the abstention)
            where the backend applies grammars; citations are validated either way.
        support_threshold: see :data:`SUPPORT_THRESHOLD` (``None``: that default).
        unsupported: ``"flag"`` keeps unsupported sentences (marked); ``"drop"`` removes them.
        on_text: receives the model's text as it streams (citation markers included).
        retrieval: how the hits were found (recorded in ``Answer.settings``).
    """
    _check(question, unsupported, support_threshold, style)
    support_threshold = SUPPORT_THRESHOLD if support_threshold is None else support_threshold
    started = time.perf_counter() if started is None else started
    generator = get_generator(llm)
    settings = {
        **(retrieval or {}),
        "style": style,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "seed": seed,
        "constrained": constrain and generator.constrains,
        "support_threshold": support_threshold,
        "unsupported": unsupported,
    }
    fitted = fit_to_context(
        question,
        hits,
        count=generator.count_tokens,
        context_size=generator.context_size,
        max_tokens=max_tokens,
        max_passage_tokens=max_passage_tokens,
        style=style,
    )
    answer = Answer(question, "", [], fitted.passages, model=generator.name, settings=settings)
    answer.context = fitted.report()
    if not fitted.passages:
        answer.abstained, answer.reason = True, "no passage was retrieved"
        return answer
    generation = generator.generate(
        prompt(question, fitted.passages, style),
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        grammar=grammar(len(fitted.passages)) if settings["constrained"] else None,
        on_text=on_text,
        cache_prompt=False,  # a partly cached prompt can change the answer: same input, same answer
    )
    answer.draft = generation.text
    answer.usage = vars(generation.usage)
    text, sentences, answer.repairs, abstained = parse_citations(generation.text, fitted.passages)
    if generation.finish_reason == "length":
        answer.repairs.append(f"the answer reached max_tokens ({max_tokens}) and was cut off")
    check_support(question, sentences, fitted.passages, support_threshold)
    if abstained:
        answer.abstained, answer.reason = True, "the model found no answer in the passages"
    elif not any(s.supported for s in sentences):
        answer.abstained = True
        answer.reason = "no sentence of the answer is supported by a passage it cites" if sentences else "no answer"
    else:
        if unsupported == "drop":
            text, sentences = _without_unsupported(sentences)
        answer.text, answer.sentences = text, sentences
    answer.timings = {
        "total": time.perf_counter() - started,
        "first_token": generation.timings.first_token,
        "prompt": generation.timings.prompt,
        "generation": generation.timings.generation,
        "tokens_per_second": generation.timings.tokens_per_second(generation.usage.completion_tokens),
    }
    return answer


def _without_unsupported(sentences: list[Sentence]) -> tuple[str, list[Sentence]]:
    """The supported sentences joined again, with offsets into the new text."""
    kept, text = [], ""
    for s in (s for s in sentences if s.supported):
        text += " " if text else ""
        kept.append(Sentence(s.text, len(text), len(text) + len(s.text), s.citations, True))
        text += s.text
    return text, kept
