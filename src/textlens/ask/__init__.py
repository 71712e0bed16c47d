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
from textlens.ask.steps import (
    ABSTAIN,
    SYSTEM,
    abstention_probability,
    check_support,
    fit_to_context,
    grammar,
    parse_citations,
    prompt,
    refusal,
)
from textlens.errors import InputError
from textlens.llm import get_generator
from textlens.llm.base import Generation, Generator, OnText

__all__ = ["ABSTAIN_THRESHOLD", "SUPPORT_THRESHOLD", "Answer", "Citation", "Passage", "Sentence", "answer_from", "ask"]

SUPPORT_THRESHOLD = 0.5
"""A citation supports a sentence when the passage holds at least this share of the sentence's
new words."""

ABSTAIN_THRESHOLD = 0.15
"""Decline when the model gives declining at least this probability at its first token (see
:func:`~textlens.ask.steps.abstention_probability`); below it the model answers under a grammar
without the abstention (it still declines if it writes ``NOT IN SOURCES`` as its answer).

Both thresholds were tuned together on 60 SQuAD 2.0 questions kept apart from the benchmark's
(``benchmarks/ask_squad.py --questions 0 --tune 60``, ``benchmarks/results/ask_squad_tune.json``,
Qwen2.5-Coder-1.5B, ``style="short"``) by a do-no-harm rule: decline as many unanswerable questions
as possible while the F1 on answerable ones stays within a point of answering everything. F1 is 55.8
from 0.15 up and falls below it (53.6 at 0.1, 44.7 at 0.05); unanswerable questions declined: 46.7% at
0.15, 26.7% from 0.3 up (the model writing the abstention as its answer). Any support threshold from
0.1 to 1 scores the same there (0 declines one fewer); it stays at 0.5."""


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
        options.get("abstain_threshold"),
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


def _check(
    question: Any, unsupported: str, support_threshold: float | None, abstain_threshold: float | None, style: str
) -> None:
    """Refuse bad options before anything is retrieved or generated."""
    if style not in SYSTEM:
        raise InputError(f"unknown answer style {style!r}", hint="Use " + " or ".join(SYSTEM) + ".")
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty", hint="Ask a question in words.")
    if unsupported not in ("flag", "drop"):
        raise InputError(f"unsupported must be 'flag' or 'drop', got {unsupported!r}")
    for name, value in (("support_threshold", support_threshold), ("abstain_threshold", abstain_threshold)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise InputError(f"{name} must be between 0 and 1, got {value!r}")


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
    abstain_threshold: float | None = None,
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
        abstain_threshold: see :data:`ABSTAIN_THRESHOLD` (``None``: that default). Needs a backend that
            gives log-probabilities and applies grammars; with one that does not, the model decides.
        unsupported: ``"flag"`` keeps unsupported sentences (marked); ``"drop"`` removes them.
        on_text: receives the model's text as it streams (citation markers included).
        retrieval: how the hits were found (recorded in ``Answer.settings``).
    """
    _check(question, unsupported, support_threshold, abstain_threshold, style)
    support_threshold = SUPPORT_THRESHOLD if support_threshold is None else support_threshold
    abstain_threshold = ABSTAIN_THRESHOLD if abstain_threshold is None else abstain_threshold
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
        "abstain_threshold": abstain_threshold,
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
    messages = prompt(question, fitted.passages, style)
    sampling = {"temperature": temperature, "seed": seed}
    n, constrained = len(fitted.passages), settings["constrained"]
    probe, p_abstain = None, None
    if constrained:
        # One token first, the prompt read afresh (a prompt read partly from an earlier call's cache
        # can change the answer; same input, same answer): how likely the model is to decline. The
        # answer then reuses exactly this read from llama.cpp's cache.
        probe = generator.generate(
            messages, max_tokens=1, grammar=grammar(n), cache_prompt=False, top_logprobs=20, **sampling
        )
        p_abstain = abstention_probability(probe.logprobs)
        answer.abstention_probability = None if p_abstain is None else round(p_abstain, 4)
        if p_abstain is not None and p_abstain >= abstain_threshold:
            answer.draft, answer.usage = ABSTAIN, dict(vars(probe.usage))
            answer.abstained = True
            answer.reason = f"the model found no answer in the passages (it declines with probability {p_abstain:.2f})"
            answer.timings = _timings(started, probe, None)
            return answer
    generation = generator.generate(
        messages,
        max_tokens=max_tokens,
        grammar=grammar(n, abstain=p_abstain is None) if constrained else None,
        on_text=on_text,
        cache_prompt=probe is not None,
        **sampling,
    )
    answer.draft = generation.text
    answer.usage = dict(vars(generation.usage))
    if probe is not None:
        answer.usage["prompt_tokens"] = probe.usage.prompt_tokens
    text, sentences, answer.repairs, abstained = parse_citations(generation.text, fitted.passages)
    if generation.finish_reason == "length":
        answer.repairs.append(f"the answer reached max_tokens ({max_tokens}) and was cut off")
    answer.repairs += check_support(question, sentences, fitted.passages, support_threshold)
    answer.reason = refusal(abstained, sentences)
    if answer.reason is not None:
        answer.abstained = True
    else:
        if unsupported == "drop":
            text, sentences = _without_unsupported(sentences)
        answer.text, answer.sentences = text, sentences
    answer.timings = _timings(started, probe, generation)
    return answer


def _timings(started: float, probe: Generation | None, generation: Generation | None) -> dict[str, float | None]:
    """Seconds: in all, to the first streamed token (the probe included), reading the prompt, writing
    the answer (``None`` where that step did not happen)."""
    first = generation.timings.first_token if generation else None
    if first is not None and probe is not None:
        first += probe.timings.total
    read = probe or generation
    return {
        "total": time.perf_counter() - started,
        "first_token": first,
        "prompt": read.timings.prompt if read else None,
        "generation": generation.timings.generation if generation else None,
        "tokens_per_second": generation.timings.tokens_per_second(generation.usage.completion_tokens)
        if generation
        else None,
    }


def _without_unsupported(sentences: list[Sentence]) -> tuple[str, list[Sentence]]:
    """The supported sentences joined again, with offsets into the new text."""
    kept, text = [], ""
    for s in (s for s in sentences if s.supported):
        text += " " if text else ""
        kept.append(Sentence(s.text, len(text), len(text) + len(s.text), s.citations, True))
        text += s.text
    return text, kept
