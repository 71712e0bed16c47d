"""Candidate keyphrases: contiguous word n-grams of the text itself.

Unlike a bag-of-words vectoriser, candidates are spans of the text: a phrase never
crosses punctuation or a paragraph break, keeps its words in their order, may hold
stop words inside ("state of the art") but never starts or ends with one, and keeps
the place(s) where it occurs, so that keywords can be highlighted.

Words are found per script: Latin, Cyrillic, Greek, Hangul... by Unicode word
characters; Chinese by jieba's segmenter (rjieba: jieba-rs, the same dictionary and cuts
as the jieba package, as wheels); Japanese by splitting at script changes
(runs of kanji or katakana are words, hiragana runs are particles and break phrases).
Candidates whose words have the same stems (Snowball, per language) are one
candidate: "optimize", "optimized" and "optimizing" merge, and the form seen most
often is shown.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import regex

from textlens.errors import InputError, MissingDependency

_WORD = regex.compile(r"[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}]|[-'’](?=[\p{L}\p{N}]))*")
_HAN = regex.compile(r"\p{Han}")
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
_JA_PART = regex.compile(r"\p{Han}+|\p{Katakana}[\p{Katakana}ー]*|\p{Hiragana}+")
_ADDRESS = regex.compile(r"[^\s@]+@[^\s@]+\.\w+|(?:https?|ftp)://\S+|www\.\S+")  # e-mail addresses and URLs: no words
_NEGATED = ("ca", "wo", "ai", "sha")  # can't, won't, ain't, shan't
_BREAK = regex.compile(r"\n\s*\n|[^\s]")  # a gap with anything but spaces (or a blank line) ends a phrase
# Frequent Chinese function words (single Han characters are never phrase ends either).
ZH_STOPWORDS = frozenset(
    [
        "我们",
        "你们",
        "他们",
        "她们",
        "它们",
        "这个",
        "那个",
        "这些",
        "那些",
        "一个",
        "一些",
        "没有",
        "因为",
        "所以",
        "但是",
        "如果",
        "可以",
        "就是",
        "什么",
        "自己",
        "已经",
        "还是",
        "这样",
        "那样",
        "以及",
        "或者",
        "而且",
        "并且",
        "因此",
        "虽然",
        "然而",
        "不是",
        "我的",
        "你的",
        "他的",
        "其中",
        "之一",
        "通过",
        "进行",
        "以后",
        "之后",
        "之前",
        "之间",
        "方面",
        "时候",
    ]
)


@dataclass(slots=True)
class Token:
    text: str
    start: int
    end: int
    stop: bool  # a stop word, a number or a particle: never a phrase's first or last word
    cjk: bool = False


@dataclass
class Candidate:
    """One candidate phrase of one document: its stem key, forms and places."""

    key: tuple[str, ...]
    forms: Counter = field(default_factory=Counter)
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def phrase(self) -> str:
        """The most frequent form; on a tie, the lowercase one (not a sentence-initial capital)."""
        best = max(self.forms.values())
        tied = [f for f, c in self.forms.items() if c == best]
        lower = [f for f in tied if f == f.lower()]
        return (lower or tied)[0]


@cache
def _analyzer(language: str, kind: str):
    import tantivy

    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).filter(tantivy.Filter.lowercase())
    builder = builder.filter(tantivy.Filter.stopword(language) if kind == "stop" else tantivy.Filter.stemmer(language))
    return builder.build()


class Vocabulary:
    """Stop words and stems for one or more languages (a mixed corpus: pass several)."""

    def __init__(self, languages: Sequence[str] = ("english",), stop_words: Iterable[str] | None = None) -> None:
        from textlens.index.analysis import STEMMERS, STOPWORDS

        languages = [lang.strip().lower() for lang in languages if lang.strip()]
        for lang in languages:
            if lang != "none" and lang not in STEMMERS:
                raise InputError(
                    f"no stop words or stemmer for language {lang!r}",
                    hint="Languages: " + ", ".join(STEMMERS) + ", or none.",
                )
        self.languages = [lang for lang in languages if lang != "none"]
        self.stop_languages = [lang for lang in self.languages if lang in STOPWORDS]
        self.extra = {w.lower() for w in stop_words} if stop_words is not None else set()
        self.english = set()
        if "english" in self.languages and stop_words is None:
            from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

            self.english = set(ENGLISH_STOP_WORDS)
        self.user_list = stop_words is not None

    @lru_cache(maxsize=200_000)  # noqa: B019 - one Vocabulary per extraction call
    def is_stop(self, word: str) -> bool:
        low = word.lower().replace("’", "'")
        if "'" in low:  # a contraction is a stop word when its stem is: i'm, don't, they're, can't
            head = low.removesuffix("n't") if low.endswith("n't") else low.split("'")[0]
            if head in _NEGATED or self.is_stop(head):
                return True
        if self.user_list:
            return low in self.extra
        if low in self.english:
            return True
        return any(not _analyzer(lang, "stop").analyze(low) for lang in self.stop_languages)

    @lru_cache(maxsize=200_000)  # noqa: B019
    def stem(self, word: str) -> str:
        low = word.lower()
        if not self.languages:
            return low
        out = _analyzer(self.languages[0], "stem").analyze(low)
        return out[0] if out else low


def _jieba():
    try:
        import rjieba
    except ImportError as exc:
        raise MissingDependency(
            "Chinese text needs a word segmenter: rjieba is not installed",
            hint="pip install 'textlens[topics]' (or pip install rjieba).",
        ) from exc
    return rjieba


def _may_hold_address(text: str) -> bool:
    return "@" in text or "://" in text or "www." in text


def tokenize(text: str, vocab: Vocabulary) -> list[Token]:
    """Words of ``text`` with their character offsets and stop flags."""
    out: list[Token] = []
    skip = [m.span() for m in _ADDRESS.finditer(text)] if _may_hold_address(text) else []
    skip.append((len(text) + 1, len(text) + 1))
    nxt = 0  # the first address not yet behind us
    cjk = _CJK.search(text) is not None
    is_stop = vocab.is_stop
    for m in _WORD.finditer(text):
        word, (start, end) = m.group(), m.span()
        while skip[nxt][1] <= start:
            nxt += 1
        if skip[nxt][0] <= start:
            continue  # inside an e-mail address or URL
        if cjk and _CJK.search(word):
            out.extend(_cjk_tokens(word, start))
            continue
        out.append(Token(word, start, end, len(word) < 2 or word.isdigit() or is_stop(word)))
    return out


def _cjk_tokens(run: str, offset: int) -> list[Token]:
    out: list[Token] = []
    if _KANA.search(run):  # Japanese: script runs
        for m in _JA_PART.finditer(run):
            part = m.group()
            hiragana = regex.fullmatch(r"\p{Hiragana}+", part) is not None
            out.append(Token(part, offset + m.start(), offset + m.end(), hiragana or len(part) < 2, True))
        return out
    for word, start, end in _jieba().tokenize(run):
        stop = len(word) < 2 or word in ZH_STOPWORDS or not _HAN.search(word)
        out.append(Token(word, offset + start, offset + end, stop, True))
    return out


def _joined(text: str, left: Token, right: Token) -> bool:
    """Whether two neighbouring words belong to one phrase (only spaces between them)."""
    return _BREAK.search(text, left.end, right.start) is None


def candidates(
    text: str,
    vocab: Vocabulary,
    ngram_range: tuple[int, int] = (1, 1),
    *,
    merge: bool = True,
) -> list[Candidate]:
    """Every candidate phrase of ``text`` of ``ngram_range`` words, in order of first occurrence.

    With ``merge``, phrases whose words share stems are one candidate; without, one per
    lowercased form.
    """
    tokens = tokenize(text, vocab)
    found: dict[tuple[str, ...], Candidate] = {}
    for i, j in _phrases(text, tokens, ngram_range):
        words = tokens[i : j + 1]
        key = tuple(vocab.stem(t.text) if merge else t.text.lower() for t in words)
        cand = found.setdefault(key, Candidate(key))
        cand.forms[_form(text, words)] += 1
        cand.spans.append((words[0].start, words[-1].end))
    return list(found.values())


def terms(text: str, vocab: Vocabulary, ngram_range: tuple[int, int] = (1, 1)) -> list[str]:
    """The candidate phrases of ``text``, lowercased, once per occurrence (what topic keywords count)."""
    if ngram_range == (1, 1) and not _CJK.search(text):  # the common case, without Token objects
        if _may_hold_address(text):
            text = _ADDRESS.sub(" ", text)
        is_stop = vocab.is_stop
        return [w.lower() for w in _WORD.findall(text) if len(w) > 1 and not w.isdigit() and not is_stop(w)]
    tokens = tokenize(text, vocab)
    return [_form(text, tokens[i : j + 1]).lower() for i, j in _phrases(text, tokens, ngram_range)]


def _phrases(text: str, tokens: list[Token], ngram_range: tuple[int, int]) -> Iterator[tuple[int, int]]:
    """``(first, last)`` token indexes of each phrase: no stop word at either end, no break inside."""
    lo, hi = ngram_range
    for i, first in enumerate(tokens):
        if first.stop:
            continue
        for n in range(1, hi + 1):
            j = i + n - 1
            if j >= len(tokens):
                break
            if n > 1 and (not _joined(text, tokens[j - 1], tokens[j]) or (tokens[j].cjk and tokens[j].stop)):
                break  # CJK particles end a phrase: without spaces, "東京は日本" is no phrase
            if n >= lo and not tokens[j].stop:
                yield i, j


def _form(text: str, words: list[Token]) -> str:
    """The phrase as written, with whitespace runs made single spaces (none between CJK words)."""
    parts = [words[0].text]
    for prev, word in itertools.pairwise(words):
        parts.append(("" if prev.cjk and word.cjk else " ") + word.text)
    return "".join(parts)


def given_candidates(text: str, phrases: Sequence[str], vocab: Vocabulary) -> list[Candidate]:
    """User-given candidates that occur in ``text`` (case-insensitive, whole words)."""
    out = []
    for phrase in dict.fromkeys(p.strip() for p in phrases if p.strip()):
        pattern = regex.compile(r"(?<![\p{L}\p{N}])" + regex.escape(phrase) + r"(?![\p{L}\p{N}])", regex.IGNORECASE)
        spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
        if spans:
            key = tuple(vocab.stem(w) for w in phrase.split())
            out.append(Candidate(key, Counter({phrase: len(spans)}), spans))
    return out
