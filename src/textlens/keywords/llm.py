"""Keywords by a language model, grounded in the text (KeyLLM's idea, without its failures).

Three modes:

- ``write``: the model writes the document's keyphrases (a JSON array, bound by a schema
  where the backend applies one);
- ``choose``: the model picks and ranks among textlens's own candidate phrases (the
  ``nr_candidates`` most similar to the document); its answer is bound to exactly those
  phrases, and checked against them where the backend binds nothing;
- ``shared``: ``write`` for a large corpus, where near-duplicate documents share one call.
  Near-duplicates are documents whose embeddings are at least ``threshold`` similar; the
  threshold is chosen from the data: the lowest similarity at which every document and its
  nearest neighbour still share at least half of their best candidate phrases (so a shared
  answer stays about both). Each member's keywords are grounded in its own text.

What the code enforces, not the prompt: every keyword is found in the text (its spans; case,
spacing and word endings may differ; one that does not occur is dropped, or kept with
``grounded=False`` and no spans when ``ungrounded="mark"``); stop words at a phrase's ends are
trimmed; phrases outside ``ngram_range`` words are dropped; forms with the same stems are one
keyword; ``k`` and MMR ``diversity`` are applied after grounding. A refusal, an empty or
malformed answer gives no keywords and a note. A document longer than the model's context is
read in parts and the parts' keywords merged (the note says so).

Scores are cosine similarities to the document (the embedding method's scale); keywords are
listed in the model's order unless ``diversity`` re-orders them.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import regex

from textlens.config import DEFAULT_ENCODER
from textlens.embed import EmbeddingCache, Encoder, embed_with_cache, get_encoder
from textlens.keywords.base import Keyword, KeywordResult, mmr
from textlens.keywords.candidates import Candidate, Vocabulary, candidates, tokenize
from textlens.keywords.options import KeywordOptions
from textlens.llm import Generator, get_generator
from textlens.llm.answers import read_list
from textlens.llm.fit import room_for, split_to_fit
from textlens.progress import Progress

OVERLAP = 0.5  # near-duplicates share at least this share of their best candidate phrases
TOKENS_PER_PHRASE = 12  # completion budget per asked-for phrase (quotes, commas, words)
BLOCK = 2048  # documents compared at once when grouping near-duplicates

SYSTEM = "You are an expert indexer. You extract keyphrases from documents, copying them exactly as written."
EXAMPLE = (  # one worked example: small models copy its shape (short noun phrases, not sentences)
    "Example document:\nSolar panels on school roofs\nThe district installed photovoltaic panels on twelve "
    "schools to cut electricity costs. The panels supply a third of the schools' power.\n"
    'Example answer: ["solar panels", "photovoltaic panels", "electricity costs", "school roofs"]\n\n'
)
WRITE = (
    EXAMPLE + "List the {n} most important keyphrases of the next document, most important first. A keyphrase is a "
    "noun phrase of 1 to {hi} words copied exactly as it is written in the document. Answer with a JSON array of "
    "strings only.\n\nDocument:\n{text}"
)
CHOOSE = (
    "Choose the {n} candidate keyphrases that best describe what the document is about, most important first, "
    "each once. Answer with a JSON array of the chosen candidates, copied exactly.\n\n"
    "Candidates:\n{candidates}\n\nDocument:\n{text}"
)


class LLMKeywords(list):
    """The :class:`KeywordResult` of each document (a list), and how they were had:
    ``calls`` made to the model, ``threshold`` of the shared mode, ``seconds`` spent."""

    calls: int = 0
    threshold: float | None = None
    seconds: float = 0.0


@dataclass
class _Doc:
    text: str
    cands: list[Candidate]
    vec: np.ndarray | None = None


def llm_keywords(
    docs: Sequence[str],
    options: KeywordOptions,
    *,
    on_result: Callable[[int, KeywordResult], None] | None = None,
    progress: Progress | None = None,
) -> LLMKeywords:
    """The keywords of each document, by the language model ``options.llm`` in ``options.llm_mode`` (see the
    module docs); :func:`textlens.extract_keywords` with ``llm=`` calls this.

    Args:
        options: ``llm`` (a catalog name, ``.gguf`` path, ``openai:URL[#MODEL]`` or a loaded :class:`Generator`),
            ``llm_mode``, ``k``, ``ngram_range`` (enforced on what the model writes), ``diversity`` (MMR over the
            grounded keywords), ``ungrounded``, ``nr_candidates`` (``choose``), ``threshold`` (``shared``),
            ``order`` (``score``: the model's order; ``text``: first occurrence).
        on_result: called as ``on_result(index, result)`` as each document is done (to save
            finished work before a later document fails).
        progress: ``progress(stage, done, total)`` per document.
    """
    mode, ngram_range = options.llm_mode, options.word_range
    started = time.perf_counter()
    vocab = Vocabulary(options.languages, options.stop_words)
    enc = get_encoder(options.encoder) if isinstance(options.encoder, str) else options.encoder
    model = get_generator(options.llm) if not isinstance(options.llm, Generator) else options.llm
    cache = EmbeddingCache()
    try:
        items, live = _prepare(docs, vocab, ngram_range, enc, cache)
        if mode == "choose":  # the candidates the model sees: the most similar to the document
            phrases = list(dict.fromkeys(c.phrase for i in live for c in items[i].cands))
            vecs = dict(zip(phrases, embed_with_cache(enc, phrases, cache), strict=True))
            for i in live:
                sims = [float(vecs[c.phrase] @ items[i].vec) for c in items[i].cands]
                ranked = np.argsort(-np.asarray(sims), kind="stable")[: options.nr_candidates]
                items[i].cands = [items[i].cands[j] for j in ranked]
    finally:
        cache.close()

    out = LLMKeywords()
    out.extend(KeywordResult(d.text, [], None if d.text.strip() else "the document is empty") for d in items)
    leader = {i: i for i in live}
    if mode == "shared" and len(live) > 1:
        out.threshold, leader = _groups(items, live, options.threshold)
    if on_result is not None:
        for i in sorted(set(range(len(items))) - set(live)):
            on_result(i, out[i])
    answers: dict[int, tuple[list[str], str | None]] = {}
    worker = _Writer(model, enc, vocab, ngram_range, options.k, options.diversity, options.ungrounded, options.order)
    for done, i in enumerate(live):
        lead = leader[i]
        if lead not in answers:
            answers[lead] = worker.ask(items[lead], mode)
            out.calls += worker.calls_last
        phrases, note = answers[lead]
        result = worker.ground(items[i], phrases)
        result.note = note or result.note
        if lead != i and not result.note:
            result.note = f"shares one model call with document {lead} (near-duplicate)"
        out[i] = result
        if on_result is not None:
            on_result(i, result)
        if progress is not None:
            progress("asking the model", done + 1, len(live))
    out.seconds = time.perf_counter() - started
    return out


class _Writer:
    """Asks the model for one document's keyphrases and grounds them in a text."""

    def __init__(self, model, enc, vocab, ngram_range, top_n, diversity, ungrounded, order) -> None:
        self.model, self.enc, self.vocab = model, enc, vocab
        self.lo, self.hi = ngram_range
        self.top_n, self.diversity, self.ungrounded, self.order = top_n, diversity, ungrounded, order
        self.calls_last = 0
        # more than top_n: some may not occur in the text; MMR needs some to choose among
        self.asked = top_n + 2 if diversity is None else 2 * top_n
        self._text: tuple[str, list, list[str]] | None = None  # the last text's words and stems

    # -- asking -------------------------------------------------------------------
    def ask(self, doc: _Doc, mode: str) -> tuple[list[str], str | None]:
        """The phrases the model gives for ``doc`` (merged over parts of a long one) and a note."""
        self.calls_last = 0
        if mode == "choose":
            if not doc.cands:
                return [], "no candidate phrases to choose from (lower the ngram range or check the language)"
            return self._choose(doc)
        parts = self._parts(doc.text, WRITE.format(text="", n=self.asked, hi=self.hi))
        votes: Counter = Counter()
        first: dict[str, tuple[int, int, str]] = {}  # casefolded phrase: (best rank, part, as written)
        notes = []
        for p, part in enumerate(parts):
            prompt = WRITE.format(text=part, n=self.asked, hi=self.hi)
            phrases, note = self._call(prompt, _array(self.asked, longest=12 * self.hi + 8))
            notes += [note] if note else []
            for rank, phrase in enumerate(phrases):
                key = phrase.casefold()
                votes[key] += 1
                first[key] = min(first.get(key, (rank, p, phrase)), (rank, p, phrase))
        phrases = [first[k][2] for k in sorted(first, key=lambda k: (-votes[k], first[k]))]
        note = None
        if len(parts) > 1:
            note = f"read in {len(parts)} parts (longer than the model's context); keywords merged"
        if not phrases and notes:
            note = "; ".join(filter(None, (note, notes[0])))
        return phrases, note

    def _choose(self, doc: _Doc) -> tuple[list[str], str | None]:
        options = [c.phrase for c in doc.cands]
        listing = "\n".join(f"- {o}" for o in options)
        n = min(self.asked, len(options))
        schema = _array(n, enum=options)
        prompt = CHOOSE.format(text="", candidates=listing, n=n)
        parts = self._parts(doc.text, prompt)
        phrases, note = self._call(CHOOSE.format(text=parts[0], candidates=listing, n=n), schema)
        allowed = {o.casefold(): o for o in options}
        chosen = list(dict.fromkeys(allowed[p.casefold()] for p in phrases if p.casefold() in allowed))
        if phrases and not chosen:
            return [], "the model chose none of the candidates"
        notes = [note] if note else []
        if len(parts) > 1:
            notes.append("only the first part was shown to the model (longer than its context)")
        if chosen and len(chosen) < n:  # repeats or a short answer: the rest by similarity to the document
            notes.append(f"the model chose {len(chosen)} different candidate(s); the rest follow by similarity")
            chosen += [o for o in options if o not in chosen]
        return chosen, "; ".join(notes) or None

    def _call(self, prompt: str, schema: dict) -> tuple[list[str], str | None]:
        self.calls_last += 1
        generation = self.model.generate(
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
            max_tokens=TOKENS_PER_PHRASE * schema["maxItems"] + 8,
            json_schema=schema,
        )
        phrases, note = read_list(generation.text)
        if generation.finish_reason == "length" and not phrases:
            note = "the model's answer was cut off before any keyword"
        return phrases, note

    def _parts(self, text: str, template: str) -> list[str]:
        """``text`` whole, or in parts that fit the model's context beside ``template`` and the answer."""
        reserve = TOKENS_PER_PHRASE * (self.asked + 2) + 64
        hint = "Load the model with a larger context, or ask for fewer keywords (--top-n)."
        return split_to_fit(self.model, text, room_for(self.model, template, reserve, hint))

    # -- grounding ----------------------------------------------------------------
    def ground(self, doc: _Doc, phrases: list[str]) -> KeywordResult:
        """``phrases`` located in ``doc``'s text, trimmed, checked, deduplicated, cut to ``top_n``."""
        found: dict[tuple[str, ...], Keyword] = {}
        outside = absent = 0
        for phrase in phrases:
            kw = self._locate(doc.text, phrase)
            if kw is None:
                outside += 1
                continue
            absent += not kw.spans
            key = tuple(self.vocab.stem(w) for w in kw.phrase.split())
            if key in found:
                continue
            if not kw.spans and self.ungrounded == "drop":
                continue
            found[key] = kw
        kws = list(found.values())
        if kws:
            vecs = self.enc.encode([k.phrase for k in kws])
            sims = vecs @ doc.vec
            for k, s in zip(kws, sims, strict=True):
                k.score = float(s)
            if self.diversity:
                kws = [kws[j] for j in mmr(np.asarray(sims), vecs, self.top_n, self.diversity)]
        kws = kws[: self.top_n]
        if self.order == "text":
            kws.sort(key=lambda k: k.spans[0][0] if k.spans else len(doc.text))
        note = None
        if phrases and not kws:
            why = []
            if absent:
                why.append(f"{absent} do not occur in the document (another language, or invented)")
            if outside:
                why.append(f"{outside} are not phrases of {self.lo}-{self.hi} words once stop words are trimmed")
            note = f"none of the model's {len(phrases)} keyword(s) was kept: " + "; ".join(why)
        return KeywordResult(doc.text, kws, note)

    def _locate(self, text: str, phrase: str) -> Keyword | None:
        """``phrase`` as it occurs in ``text`` (stop words at its ends trimmed), or ungrounded, or
        ``None`` when nothing of it is left or its length is outside the ngram range."""
        words = tokenize(phrase, self.vocab)
        while words and words[0].stop:
            words.pop(0)
        while words and words[-1].stop:
            words.pop()
        if not words or not self.lo <= len(words) <= self.hi:
            return None
        core = phrase[words[0].start : words[-1].end]
        gap = r"[\s\-‐‑–/]+"
        pattern = gap.join(regex.escape(w) for w in regex.split(gap, core) if w)
        whole = rf"(?<![\p{{L}}\p{{N}}]){pattern}(?![\p{{L}}\p{{N}}])"
        spans = [m.span() for m in regex.finditer(whole, text, regex.I)]
        if not spans:  # other word endings: the same stems, word for word
            key = tuple(self.vocab.stem(w.text) for w in words)
            if self._text is None or self._text[0] is not text:
                toks = tokenize(text, self.vocab)
                self._text = (text, toks, [self.vocab.stem(t.text) for t in toks])
            _, toks, stems = self._text
            n = len(key)
            spans = [
                (toks[i].start, toks[i + n - 1].end) for i in range(len(toks) - n + 1) if tuple(stems[i : i + n]) == key
            ]
        if not spans:
            return Keyword(" ".join(core.split()), 0.0, [], grounded=False)
        forms = Counter(" ".join(text[a:b].split()) for a, b in spans)
        best = max(forms.values())
        tied = [f for f, c in forms.items() if c == best]
        form = ([f for f in tied if f == f.lower()] or tied)[0]
        variants = [f for f in forms if f.lower() != form.lower()]
        return Keyword(form, 0.0, spans, variants)


def _array(n: int, *, enum: list[str] | None = None, longest: int = 80) -> dict:
    item: dict = {"type": "string", "maxLength": longest} if enum is None else {"enum": enum}
    return {"type": "array", "items": item, "minItems": 1, "maxItems": n}


def near_duplicates(
    docs: Sequence[str],
    *,
    threshold: float | None = None,
    encoder: str | Encoder = DEFAULT_ENCODER,
    ngram_range: tuple[int, int] = (1, 3),
    languages: Sequence[str] = ("english",),
) -> tuple[float, dict[int, int]]:
    """How the ``shared`` mode would group ``docs``, without a model: the threshold (given, or
    chosen from the data) and each non-empty document's leader (its own index when it leads)."""
    vocab = Vocabulary(languages)
    enc = get_encoder(encoder) if isinstance(encoder, str) else encoder
    cache = EmbeddingCache()
    try:
        items, live = _prepare(docs, vocab, ngram_range, enc, cache)
    finally:
        cache.close()
    return _groups(items, live, threshold)


def _prepare(docs, vocab, ngram_range, enc, cache) -> tuple[list[_Doc], list[int]]:
    """Each document with its candidate phrases and (if not empty) its embedding; the non-empty ones' indexes."""
    items = [_Doc(t, candidates(t, vocab, ngram_range) if t.strip() else []) for t in docs]
    live = [i for i, d in enumerate(items) if d.text.strip()]
    for i, vec in zip(live, embed_with_cache(enc, [items[i].text for i in live], cache), strict=True):
        items[i].vec = vec
    return items, live


def _groups(items: list[_Doc], live: list[int], threshold: float | None) -> tuple[float, dict[int, int]]:
    if len(live) < 2:
        return threshold or 1.0, {i: i for i in live}
    threshold = threshold if threshold is not None else choose_threshold(items, live)
    return threshold, share_calls([items[i].vec for i in live], threshold, live)


def choose_threshold(items: list[_Doc], live: list[int], best: int = 10) -> float:
    """The lowest cosine at which every document and its nearest neighbour (from there up) share
    at least ``OVERLAP`` of the first document's ``best`` candidate phrases; 1.0 when even the
    most similar pair does not (no document shares a call)."""
    nearest, top = _nearest(np.stack([items[i].vec for i in live]))
    keys = [{c.key for c in items[i].cands} for i in live]
    threshold = 1.0
    for a in np.argsort(-top, kind="stable"):
        mine = [c.key for c in _best_candidates(items[live[a]], best)]
        if not mine:
            continue
        shared = sum(k in keys[nearest[a]] for k in mine) / len(mine)
        if shared < OVERLAP:
            break
        threshold = float(top[a])
    return math.floor(threshold * 10_000) / 10_000  # rounded down: the pair that set it still counts


def _best_candidates(doc: _Doc, best: int) -> list[Candidate]:
    """The document's most frequent candidates (ties: first seen)."""
    return sorted(doc.cands, key=lambda c: -len(c.spans))[:best]


def _nearest(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's most similar other row and that cosine (a block of rows at a time: no n x n matrix)."""
    nearest, top = np.zeros(len(matrix), dtype=np.int64), np.zeros(len(matrix), dtype=np.float32)
    for a in range(0, len(matrix), BLOCK):
        sims = matrix[a : a + BLOCK] @ matrix.T
        sims[np.arange(len(sims)), np.arange(a, a + len(sims))] = -np.inf
        nearest[a : a + BLOCK], top[a : a + BLOCK] = sims.argmax(axis=1), sims.max(axis=1)
    return nearest, top


def share_calls(vecs: list[np.ndarray], threshold: float, ids: list[int]) -> dict[int, int]:
    """Each document's leader: the earlier group leader most similar to it, if at least ``threshold``,
    else itself (one pass in order; groups never chain beyond their leader)."""
    matrix = np.stack(vecs)
    leads = np.zeros(len(matrix), dtype=bool)
    leader = np.arange(len(matrix))
    for a in range(0, len(matrix), BLOCK):
        sims = matrix[a : a + BLOCK] @ matrix[: a + BLOCK].T
        for r, row in enumerate(sims):
            i = a + r
            near = np.flatnonzero((row[:i] >= threshold) & leads[:i])
            if len(near):
                leader[i] = near[np.argmax(row[near])]
            else:
                leads[i] = True
    return {doc_id: ids[leader[n]] for n, doc_id in enumerate(ids)}
