"""The steps of ``ask``, each a small function: fit_to_context -> prompt -> grammar ->
parse_citations -> check_support.

Citations hold by construction twice over: the grammar lets the model write only
``[n]`` for a passage it was given (where the backend applies grammars), and
:func:`parse_citations` drops any other marker and says so (for backends that do not).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textlens.ask.answer import Citation, Claim, Passage, Sentence
from textlens.ask.claims import UNIT_WORDS, Quantity, converted, quantities, same
from textlens.errors import TooLarge

ABSTAIN = "NOT IN SOURCES"
_CLOSING = " Only if no source answers the question, reply: " + ABSTAIN
SYSTEM = {
    "sentences": "Answer the question in one or two short sentences, using the words of the numbered sources "
    "below. End each sentence with the number of the source that supports it in square brackets, like [1]." + _CLOSING,
    "short": "Answer the question with the shortest phrase of the numbered sources below that answers it, "
    "followed by the number of that source in square brackets." + _CLOSING,
}
"""The instructions for each answer ``style``: ``sentences`` reads like a reply, ``short`` gives the phrase
that answers (extractive QA, as SQuAD scores it)."""
MIN_PASSAGE_TOKENS = 48  # a passage cut shorter than this is dropped instead
_MARKER = re.compile(r"\s*\[(\d+)\]")
_WORD = re.compile(r"[^\W_]+")
# a sentence ends at . ! or ? followed by a space and a capital, digit or quote, or at the end
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9]|\s*$)")
_STOPWORD_TEXT = (
    "a an the and or but of in on at to for from by with as is are was were be been being it its this that "
    "these those there their they them he she his her him we our you your i me my not no do does did done "
    "has have had what which who whom whose when where why how than then so such can could would should "
    "may might will shall also into about over under after before between during while if "
    # what a model says about answering, not about the subject
    "answer answers question questions source sources passage passages according text"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> list[str]:
    """Lower-cased, lightly stemmed words of ``text`` without stopwords (numbers kept)."""
    return [_stem(w) for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in _STOPWORDS]


@dataclass
class Fitted:
    """The passages that fit the model's context, and what was cut to make them fit."""

    passages: list[Passage]
    budget: int  # tokens left for passages
    used: int  # tokens the passages take
    cut: list[dict[str, Any]] = field(default_factory=list)  # {"doc_id", "tokens", "kept_tokens"}
    dropped: list[str] = field(default_factory=list)  # doc ids that did not fit at all

    def report(self) -> dict[str, Any]:
        return {"budget": self.budget, "used": self.used, "cut": self.cut, "dropped": self.dropped}


def passage_block(p: Passage) -> str:
    return f"[{p.number}] {p.title}: {p.text}" if p.title else f"[{p.number}] {p.text}"


def prompt(question: str, passages: Sequence[Passage], style: str = "sentences") -> list[dict[str, str]]:
    """Chat messages: the instructions for ``style``, then the numbered passages and the question."""
    sources = "\n\n".join(passage_block(p) for p in passages)
    return [
        {"role": "system", "content": SYSTEM[style]},
        {"role": "user", "content": f"Sources:\n\n{sources}\n\nQuestion: {question}"},
    ]


def _shorten(text: str, tokens: int, count) -> str:
    """The longest prefix of ``text`` (cut at a word) that counts at most ``tokens``."""
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on characters; counting is the model's own tokenizer
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) <= tokens:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    return cut[: cut.rfind(" ")] if " " in cut and lo < len(text) else cut


def passage_budget(question: str, *, count, context_size: int, max_tokens: int, style: str = "sentences") -> int:
    """The tokens of the model's context left for passages after the instructions, the question and the answer.

    Raises:
        TooLarge: the question and the answer leave no room for a passage.
    """
    overhead = sum(count(m["content"]) for m in prompt(question, [], style)) + 32
    budget = context_size - max_tokens - overhead
    if budget < MIN_PASSAGE_TOKENS:
        raise TooLarge(
            f"the question and the answer leave no room for passages: the question takes {count(question)} "
            f"tokens, the answer up to {max_tokens}, and the model's context holds {context_size}",
            hint="Ask a shorter question, lower --max-tokens, or raise --context.",
            api_hint="Ask a shorter question, lower max_tokens, or use a model with a larger context.",
        )
    return budget


def fit_to_context(
    question: str,
    hits: Sequence[Any],
    *,
    count,
    context_size: int,
    max_tokens: int,
    max_passage_tokens: int = 400,
    style: str = "sentences",
) -> Fitted:
    """Number the hits and keep what fits: each passage at most ``max_passage_tokens``, all of
    them within the context left after the instructions, the question and the answer.

    Raises:
        TooLarge: the question alone leaves no room for a passage.
    """
    budget = passage_budget(question, count=count, context_size=context_size, max_tokens=max_tokens, style=style)
    fitted = Fitted([], budget, 0)
    for hit in hits:
        number = len(fitted.passages) + 1
        passage = Passage(number, hit.doc_id, hit.title, hit.text, hit.score)
        tokens = count(passage_block(passage)) + 2
        room = min(max_passage_tokens, budget - fitted.used)
        if tokens > room:
            if room < MIN_PASSAGE_TOKENS:
                fitted.dropped.append(hit.doc_id)
                continue
            head = count(passage_block(Passage(number, hit.doc_id, hit.title, "", 0.0))) + 2
            passage.text = _shorten(hit.text, room - head, count)
            passage.cut = True
            kept = count(passage_block(passage)) + 2
            fitted.cut.append({"doc_id": hit.doc_id, "tokens": tokens, "kept_tokens": kept})
            tokens = kept
        fitted.passages.append(passage)
        fitted.used += tokens
    return fitted


def grammar(n_passages: int, max_sentences: int = 3, *, abstain: bool = True) -> str:
    """GBNF: the abstention (unless ``abstain=False``), or up to ``max_sentences`` sentences, each
    closed by ``[n]`` naming a given passage (a full stop may still sit inside a number, as in 1.5)."""
    numbers = " | ".join(f'"{i}"' for i in range(1, n_passages + 1))
    answer = f'sentence (" " sentence){{0,{max_sentences - 1}}}'
    return "\n".join(
        [
            f'root ::= "{ABSTAIN}" | {answer}' if abstain else f"root ::= {answer}",
            'sentence ::= text [.!?]? " [" num "]" ("[" num "]")? [.!?]?',
            'text ::= ([^\\[\\]\\n.!?] | "." [0-9])+',
            f"num ::= {numbers}",
        ]
    )


def abstention_probability(logprobs: Sequence[Any] | None) -> float | None:
    """The probability the model gives to declining, read at its first token: the summed
    probability of the likeliest first tokens that begin the abstention (``NOT``, ``Not``, ``NO``...,
    two letters at least, so that ``N`` of a name does not count). ``None`` when the backend gave
    no log-probabilities.

    A greedy model declines whenever ``NOT`` is its single likeliest first token, even when more
    of its probability goes to answers spread over many first tokens; this reads the total instead.
    """
    if not logprobs:
        return None
    first = logprobs[0].top or [(logprobs[0].token, logprobs[0].logprob)]
    declining = [lp for t, lp in first if len(t.strip()) >= 2 and ABSTAIN.startswith(t.strip().upper())]
    return min(1.0, sum(math.exp(lp) for lp in declining))


def parse_citations(draft: str, passages: Sequence[Passage]) -> tuple[str, list[Sentence], list[str], bool]:
    """Split the model's text into sentences with the passages each cites.

    Returns ``(text, sentences, repairs, abstained)``: ``text`` without markers; each
    sentence with offsets into it; ``repairs`` lists every marker dropped (a number no
    passage has, a repeat) so nothing is cited that the model was not given.
    """
    stripped = draft.strip()
    if not stripped or stripped.upper().startswith(ABSTAIN):
        return "", [], [], True
    by_number = {p.number: p for p in passages}
    repairs: list[str] = []
    text = ""
    anchors: list[tuple[int, int]] = []  # (offset in the clean text a marker closes, passage number)
    pos = 0
    for m in _MARKER.finditer(stripped):  # the marker takes the spaces before it with it
        text += stripped[pos : m.start()]
        pos = m.end()
        number = int(m.group(1))
        if number in by_number:
            anchors.append((len(text.rstrip()), number))
        else:
            repairs.append(f"dropped [{number}]: the model was given passages 1-{len(passages)} only")
    text += stripped[pos:]
    sentences: list[Sentence] = []
    start = 0
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not ends or ends[-1] < len(text):
        ends.append(len(text))
    for end in ends:
        chunk = text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        if chunk.strip():
            sentences.append(Sentence(chunk.strip(), start + lead, end))
        start = end
    for at, number in anchors:
        # a marker belongs to the sentence it closes (or sits in)
        owner = next((s for s in sentences if s.start < at <= s.end + 1), sentences[-1] if sentences else None)
        if owner is None:
            continue
        if any(c.passage == number for c in owner.citations):
            repairs.append(f"dropped a repeated [{number}] in one sentence")
            continue
        p = by_number[number]
        owner.citations.append(Citation(number, p.doc_id, p.title, 0.0, None, ""))
    return text, sentences, repairs, False


def _best_span(passage: str, wanted: set[str]) -> tuple[tuple[int, int] | None, int]:
    """The passage sentence holding the most of ``wanted`` terms, and how many it holds."""
    best, hits, start = None, 0, 0
    ends = [m.end() for m in _SENTENCE_END.finditer(passage)] + [len(passage)]
    for end in ends:
        if end <= start:
            continue
        found = len(wanted & set(content_terms(passage[start:end])))
        if found > hits:
            lead = len(passage[start:end]) - len(passage[start:end].lstrip())
            best, hits = (start + lead, end), found
        start = end
    return best, hits


def refusal(abstained: bool, sentences: Sequence[Sentence]) -> str | None:
    """Why a read answer is declined (the model declined, or no sentence is supported by a passage
    it cites), or ``None`` when it stands. Call after :func:`check_support`."""
    if abstained:
        return "the model found no answer in the passages"
    if not any(s.supported for s in sentences):
        return "no sentence of the answer is supported by a passage it cites" if sentences else "no answer"
    return None


def check_support(
    question: str, sentences: Sequence[Sentence], passages: Sequence[Passage], threshold: float
) -> list[str]:
    """Check each sentence against the passages it cites, claim by claim, and repair what can be repaired.

    A sentence makes two kinds of claims: its new words (those not in the question), of which a cited passage must
    hold ``threshold``'s share, and its numbers (:mod:`textlens.ask.claims`), each of which a cited passage must
    hold. A sentence is supported when a citation holds its words and at least one of its numbers stands (in a
    cited passage, or as the model's conversion of one); a sentence with no citation is not.

    Repairs, each said in the returned lines (for :attr:`Answer.repairs`): a sentence none of whose citations
    backs it, while another given passage does, cites that passage instead (small models often copy the right
    words and write the wrong number); an unsupported number written as an aside in parentheses
    ("8,848.86 meters (28,251 feet)") is dropped from the sentence; any other unsupported number stays, marked,
    in :attr:`Sentence.claims`.
    """
    asked = set(content_terms(question))
    asked_numbers = quantities(question)
    terms_of = {p.number: set(content_terms(p.text)) for p in passages}
    numbers_of = {p.number: quantities(p.text) for p in passages}
    by_number = {p.number: p for p in passages}
    repairs: list[str] = []

    def share(new: set[str], number: int) -> float:
        return round(len(new & terms_of[number]) / len(new), 4) if new else 0.0

    def held(claim: Quantity, number: int) -> bool:
        return any(same(claim, found) for found in numbers_of[number])

    for sentence in sentences:
        found = quantities(sentence.text)
        claims = [q for q in found if not any(same(q, a) or same(a, q) for a in asked_numbers)]
        words = set(content_terms(_blanked(sentence.text, found))) - UNIT_WORDS
        # the words the sentence adds to the question; one that only restates the question is held to all its
        # words (a number must come from a passage about what was asked)
        new = (words - asked) or words

        def backs(number: int, new: set[str] = new, claims: list[Quantity] = claims) -> bool:
            words_ok = not new or share(new, number) >= threshold
            return bool(new or claims) and words_ok and (not claims or any(held(q, number) for q in claims))

        if sentence.citations and not any(backs(c.passage) for c in sentence.citations):
            best = max(passages, key=lambda p: (backs(p.number), share(new, p.number)))
            if backs(best.number):
                was = ", ".join(f"[{c.passage}]" for c in sentence.citations)
                repairs.append(
                    f"cited [{best.number}] instead of {was}: passage {best.number} holds what "
                    f"{sentence.text!r} says, the cited one does not"
                )
                sentence.citations = [Citation(best.number, best.doc_id, best.title, 0.0, None, "")]
        repairs += _check_claims(sentence, claims, numbers_of, held)
        items = len(new) + len(claims)
        for citation in sentence.citations:
            text = by_number[citation.passage].text
            numbers = [q for q in claims if held(q, citation.passage)]
            hits = len(new & terms_of[citation.passage]) + len(numbers)
            citation.support = round(hits / items, 4) if items else 0.0
            wanted = (new & terms_of[citation.passage]) | {w for q in numbers for w in content_terms(q.text)}
            span, _ = _best_span(text, wanted or words)
            citation.span = span
            citation.quote = text[span[0] : span[1]] if span else ""
        supported = any(share(new, c.passage) >= threshold for c in sentence.citations)
        if claims:  # a number must stand too (never without a citation); a sentence of numbers alone needs no words
            supported = (not new or supported) and any(c.status != "unsupported" for c in sentence.claims)
        sentence.supported = supported
    return repairs


def _check_claims(sentence: Sentence, claims: list[Quantity], numbers_of: dict, held) -> list[str]:
    """Each number of ``sentence`` against its (final) citations: supported, the model's conversion of a number
    the cited passages hold, or unsupported; an unsupported aside in parentheses is dropped from the text."""
    cited = [c.passage for c in sentence.citations]
    known = [(number, q) for number in cited for q in numbers_of[number]]
    repairs, asides = [], []
    sentence.claims = []
    for q in claims:
        holder = next((number for number in cited if held(q, number)), None)
        if holder is not None:
            sentence.claims.append(Claim(q.text, "supported", holder))
            continue
        source = converted(q, [k for _, k in known])
        if source is not None:
            number = next(n for n, k in known if k is source)
            note = f"the model's conversion of {source.text} (passage [{number}])"
            sentence.claims.append(Claim(q.text, "converted", number, note))
            continue
        where = ", ".join(f"[{n}]" for n in cited) or "no passage"
        elsewhere = [n for n in numbers_of if n not in cited and held(q, n)]
        note = f"{q.text} is not in {where}" + (
            f"; passage [{elsewhere[0]}] holds it, about something else" if elsewhere else ""
        )
        aside = _aside(sentence.text, q)
        if aside is not None and (sentence.text[: aside[0]] + sentence.text[aside[1] :]).strip(" .,;:"):
            asides.append(aside)
            repairs.append(f"dropped {sentence.text[aside[0] : aside[1]].strip()!r} from {sentence.text!r}: {note}")
            note += "; dropped from the answer"
        sentence.claims.append(Claim(q.text, "unsupported", None, note))
    for start, end in sorted(set(asides), reverse=True):
        sentence.text = (sentence.text[:start] + sentence.text[end:]).strip()
    return repairs


def _aside(text: str, q: Quantity) -> tuple[int, int] | None:
    """The span of the parenthesis around ``q`` (with the space before it) when it says nothing but ``q``."""
    opening, closing = text.rfind("(", 0, q.start), text.find(")", q.end)
    if opening < 0 or closing < 0 or ")" in text[opening : q.start] or "(" in text[q.end : closing]:
        return None
    rest = text[opening + 1 : q.start] + text[q.end : closing]
    if set(content_terms(rest)) - UNIT_WORDS - {"about", "around", "approximately", "roughly", "or", "some"}:
        return None
    start = opening - 1 if opening > 0 and text[opening - 1] == " " else opening
    return start, closing + 1


def _blanked(text: str, found: Sequence[Quantity]) -> str:
    """``text`` with its numbers (and their units) blanked out: the words of the sentence."""
    for q in sorted(found, key=lambda q: q.start, reverse=True):
        text = text[: q.start] + " " * (q.end - q.start) + text[q.end :]
    return text
