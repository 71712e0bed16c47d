"""Grounded answers with citations: retrieve -> fit_to_context -> prompt -> generate
(constrained) -> parse_citations -> check_support -> :class:`Answer`.

Example:
    >>> import textlens
    >>> col = textlens.Collection.open("wikipedia-vital")                      # doctest: +SKIP
    >>> answer = col.ask("Which planet is called the red planet?")             # doctest: +SKIP
    >>> print(answer)  # doctest: +SKIP
    Mars is called the Red Planet [1].
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from textlens.ask.answer import Answer, Citation, Passage, Sentence
from textlens.ask.options import AskOptions
from textlens.ask.steps import (
    ABSTAIN,
    abstention_probability,
    check_support,
    fit_to_context,
    grammar,
    parse_citations,
    passage_budget,
    prompt,
    refusal,
)
from textlens.errors import ConflictingInput, InputError
from textlens.llm import get_generator
from textlens.llm.base import Generation, Generator, OnText

__all__ = [
    "ABSTAIN_THRESHOLD",
    "SUPPORT_THRESHOLD",
    "Answer",
    "AskOptions",
    "Citation",
    "Passage",
    "Sentence",
    "answer_collection",
    "answer_from",
    "ask",
    "require_documents",
    "require_room",
]

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
    mode: str | None = AskOptions.mode,
    k: int = AskOptions.k,
    filters: dict[str, Any] | None = AskOptions.filters,
    rerank: str | Any | None = AskOptions.rerank,
    llm: str | Generator | None = AskOptions.llm,
    style: str = AskOptions.style,
    max_tokens: int = AskOptions.max_tokens,
    max_passage_tokens: int = AskOptions.max_passage_tokens,
    temperature: float = AskOptions.temperature,
    seed: int = AskOptions.seed,
    constrain: bool = AskOptions.constrain,
    support_threshold: float | None = AskOptions.support_threshold,
    abstain_threshold: float | None = AskOptions.abstain_threshold,
    unsupported: str = AskOptions.unsupported,
    on_text: OnText | None = None,
) -> Answer:
    """Answer ``question`` from a collection's passages, citing them.

    ``collection`` is a collection (``textlens.Collection`` or a backend's) or its name; ``on_text`` receives the
    model's text as it streams (citation markers included). Every other option is a field of
    :class:`~textlens.ask.options.AskOptions`, whose help says what it does; the defaults here are its defaults.

    Returns an :class:`Answer`; ``abstained`` is set, with the reason, when the model finds no answer
    in the passages or no sentence it wrote is supported by what it cites.
    """
    options = AskOptions(
        mode=mode,
        k=k,
        filters=filters,
        rerank=rerank,
        llm=llm,
        style=style,
        max_tokens=max_tokens,
        max_passage_tokens=max_passage_tokens,
        temperature=temperature,
        seed=seed,
        constrain=constrain,
        support_threshold=support_threshold,
        abstain_threshold=abstain_threshold,
        unsupported=unsupported,
    )
    return answer_collection(collection, question, options, on_text=on_text)


def answer_collection(collection: Any, question: str, options: AskOptions, *, on_text: OnText | None = None) -> Answer:
    """:func:`ask` with its options made: retrieve from ``collection`` (or the collection of that name), then
    :func:`answer_from`. The CLI and the REST API call this with the options they parsed."""
    _check_question(question)
    with contextlib.ExitStack() as stack:
        if isinstance(collection, str):
            from textlens.index import open_collection

            collection = stack.enter_context(open_collection(collection))
        require_documents(collection)
        started = time.perf_counter()
        mode = options.mode or ("hybrid" if collection.manifest.get("encoder") else "keyword")
        hits = collection.search(question, mode=mode, highlight=False, **options.retrieval()).hits
        rerank = options.rerank
        retrieval = {"mode": mode, "k": options.k, "rerank": rerank if isinstance(rerank, str | None) else "custom"}
        return answer_from(question, hits, options, on_text=on_text, retrieval=retrieval, started=started)


def require_documents(collection: Any) -> None:
    """:class:`~textlens.errors.ConflictingInput` (a 409 over REST) when ``collection`` holds nothing to answer
    from; the server checks this before an answer stream begins, while the status line can still say so."""
    if len(collection) == 0:
        raise ConflictingInput(
            f"collection {collection.name!r} is empty: there is nothing to answer from",
            hint=f"Add documents first: textlens index FILE --collection {collection.name}",
            api_hint="Add documents to the collection first.",
        )


def require_room(question: str, options: AskOptions) -> None:
    """:class:`~textlens.errors.TooLarge` (a 413 over REST) when the question and the answer leave no room for
    passages in the model's context. The context fitting of :func:`answer_from` makes the same check; the server
    makes it first, before an answer stream begins, while the status line can still say so."""
    generator = get_generator(options.llm)
    count, context = generator.count_tokens, generator.context_size
    passage_budget(question, count=count, context_size=context, max_tokens=options.max_tokens, style=options.style)


def _check_question(question: Any) -> None:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty", hint="Ask a question in words.")


def answer_from(
    question: str,
    hits: list[Any],
    options: AskOptions | None = None,
    *,
    on_text: OnText | None = None,
    retrieval: dict[str, Any] | None = None,
    started: float | None = None,
    **changes: Any,
) -> Answer:
    """Answer ``question`` from passages already retrieved (``Hit`` objects, best first).

    Args:
        options: the :class:`~textlens.ask.options.AskOptions` of the answer (its retrieval fields are not used
            here); ``changes`` override fields by name (``answer_from(q, hits, llm=model, style="short")``).
        on_text: receives the model's text as it streams (citation markers included).
        retrieval: how the hits were found (recorded in ``Answer.settings``).
        started: when the question was asked (``time.perf_counter()``), for the timings.
    """
    o = AskOptions.merged(options, **changes)
    _check_question(question)
    started = time.perf_counter() if started is None else started
    generator = get_generator(o.llm)
    settings = {
        **(retrieval or {}),
        "style": o.style,
        "max_tokens": o.max_tokens,
        "temperature": o.temperature,
        "seed": o.seed,
        "constrained": o.constrain and generator.constrains,
        "support_threshold": SUPPORT_THRESHOLD if o.support_threshold is None else o.support_threshold,
        "abstain_threshold": ABSTAIN_THRESHOLD if o.abstain_threshold is None else o.abstain_threshold,
        "unsupported": o.unsupported,
    }
    fitted = fit_to_context(
        question,
        hits,
        count=generator.count_tokens,
        context_size=generator.context_size,
        max_tokens=o.max_tokens,
        max_passage_tokens=o.max_passage_tokens,
        style=o.style,
    )
    answer = Answer(question, "", [], fitted.passages, model=generator.name, settings=settings)
    answer.context = fitted.report()
    if not fitted.passages:
        answer.abstained, answer.reason = True, "no passage was retrieved"
        return answer
    messages = prompt(question, fitted.passages, o.style)
    sampling = {"temperature": o.temperature, "seed": o.seed}
    n = len(fitted.passages)
    probe = _probe(answer, generator, messages, n, sampling) if settings["constrained"] else None
    if answer.abstained:
        answer.timings = _timings(started, probe, None)
        return answer
    generation = generator.generate(
        messages,
        max_tokens=o.max_tokens,
        grammar=grammar(n, abstain=answer.abstention_probability is None) if settings["constrained"] else None,
        on_text=on_text,
        cache_prompt=probe is not None,
        **sampling,
    )
    _read(answer, generation, probe, fitted.passages)
    answer.timings = _timings(started, probe, generation)
    return answer


def _probe(answer: Answer, generator: Generator, messages: Any, n: int, sampling: dict[str, Any]) -> Generation:
    """One token first, the prompt read afresh (a prompt read partly from an earlier call's cache can change the
    answer; same input, same answer): how likely the model is to decline. The answer then reuses exactly this read
    from llama.cpp's cache. Declines (``answer.abstained``) when that probability reaches the threshold."""
    probe = generator.generate(
        messages, max_tokens=1, grammar=grammar(n), cache_prompt=False, top_logprobs=20, **sampling
    )
    p_abstain = abstention_probability(probe.logprobs)
    answer.abstention_probability = None if p_abstain is None else round(p_abstain, 4)
    if p_abstain is not None and p_abstain >= answer.settings["abstain_threshold"]:
        answer.draft, answer.usage = ABSTAIN, dict(vars(probe.usage))
        answer.abstained = True
        answer.reason = f"the model found no answer in the passages (it declines with probability {p_abstain:.2f})"
    return probe


def _read(answer: Answer, generation: Generation, probe: Generation | None, passages: list[Passage]) -> None:
    """The model's text into ``answer``: citations parsed and repaired, support checked, unsupported sentences
    flagged or dropped, or the refusal and its reason."""
    settings = answer.settings
    answer.draft = generation.text
    answer.usage = dict(vars(generation.usage))
    if probe is not None:
        answer.usage["prompt_tokens"] = probe.usage.prompt_tokens
    text, sentences, answer.repairs, abstained = parse_citations(generation.text, passages)
    if generation.finish_reason == "length":
        answer.repairs.append(f"the answer reached max_tokens ({settings['max_tokens']}) and was cut off")
    answer.repairs += check_support(answer.question, sentences, passages, settings["support_threshold"])
    answer.reason = refusal(abstained, sentences)
    if answer.reason is not None:
        answer.abstained = True
    else:
        if settings["unsupported"] == "drop":
            text, sentences = _joined([s for s in sentences if s.supported])
        elif any(s.text != text[s.start : s.end].strip() for s in sentences):  # an aside was dropped from a sentence
            text, sentences = _joined(sentences)
        answer.text, answer.sentences = text, sentences


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


def _joined(sentences: list[Sentence]) -> tuple[str, list[Sentence]]:
    """The sentences joined again into one text, each with its offsets into it."""
    text = ""
    for s in sentences:
        text += " " if text else ""
        s.start, s.end = len(text), len(text) + len(s.text)
        text += s.text
    return text, sentences
