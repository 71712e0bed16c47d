"""The steps of ask on texts a model might write: citations parsed, repaired and located; passages fitted."""

from __future__ import annotations

import pytest

from textlens.ask.answer import Passage
from textlens.ask.steps import (
    abstention_probability,
    check_support,
    content_terms,
    fit_to_context,
    grammar,
    parse_citations,
    prompt,
)
from textlens.errors import InputError
from textlens.llm.base import TokenLogprobs
from textlens.search.results import Hit

PASSAGES = [
    Passage(1, "fr", "France", "France is a country in Europe. Its capital is Paris. It has 68 million people.", 1.0),
    Passage(2, "de", "Germany", "Germany borders France. Berlin is the capital of Germany.", 0.5),
]


def test_markers_after_or_before_the_full_stop_belong_to_their_sentence():
    for draft in (
        "Paris is the capital [1]. Berlin is Germany's [2].",
        "Paris is the capital. [1] Berlin is Germany's. [2]",
    ):
        text, sentences, repairs, abstained = parse_citations(draft, PASSAGES)
        assert not abstained and not repairs
        assert text == "Paris is the capital. Berlin is Germany's."
        assert [(s.text, [c.passage for c in s.citations]) for s in sentences] == [
            ("Paris is the capital.", [1]),
            ("Berlin is Germany's.", [2]),
        ]
        for s in sentences:
            assert text[s.start : s.end] == s.text  # offsets point into the answer without markers


def test_a_number_no_passage_has_is_dropped_and_reported_never_cited():
    text, sentences, repairs, _ = parse_citations("Paris is the capital [7][1]. It is big [1][1].", PASSAGES)
    assert [[c.passage for c in s.citations] for s in sentences] == [[1], [1]]
    assert repairs == ["dropped [7]: the model was given passages 1-2 only", "dropped a repeated [1] in one sentence"]
    assert "[" not in text


def test_abstention_and_empty_drafts():
    assert parse_citations("NOT IN SOURCES", PASSAGES)[3]
    assert parse_citations("  not in sources.", PASSAGES)[3]
    assert parse_citations("", PASSAGES)[3]
    _, sentences, _, abstained = parse_citations("Paris, I think.", PASSAGES)  # no citation at all
    assert not abstained and sentences[0].citations == []


def test_support_finds_the_new_words_and_where_they_are():
    _, sentences, _, _ = parse_citations("The capital of France is Paris [1]. The capital is Lyon [1].", PASSAGES)
    check_support("What is the capital of France?", sentences, PASSAGES, threshold=0.5)
    paris, lyon = sentences
    assert paris.supported and paris.citations[0].support == 1.0
    assert paris.citations[0].quote == "Its capital is Paris."
    a, b = paris.citations[0].span
    assert PASSAGES[0].text[a:b] == "Its capital is Paris."
    assert not lyon.supported and lyon.citations[0].support == 0.0  # "lyon" is in no cited passage
    _, cited_nowhere, _, _ = parse_citations("Munich is the capital [1].", PASSAGES)
    assert check_support("What is the capital of Germany?", cited_nowhere, PASSAGES, threshold=0.5) == []
    assert not cited_nowhere[0].supported and cited_nowhere[0].citations[0].passage == 1  # no passage says it


def test_a_wrong_number_is_moved_to_the_passage_that_holds_the_words_and_reported():
    _, sentences, _, _ = parse_citations("Berlin is the capital [1].", PASSAGES)
    repairs = check_support("What is the capital of Germany?", sentences, PASSAGES, threshold=0.5)
    assert repairs == [
        "cited [2] instead of [1]: passage 2 holds what 'Berlin is the capital.' says, the cited one does not"
    ]
    (citation,) = sentences[0].citations
    assert sentences[0].supported and (citation.passage, citation.doc_id, citation.support) == (2, "de", 1.0)
    assert citation.quote == "Berlin is the capital of Germany."
    _, kept, _, _ = parse_citations("Berlin is the capital [1].", PASSAGES)
    assert (
        check_support("What is the capital of Germany?", kept, PASSAGES, threshold=0.0) == []
    )  # 0: any citation stands
    assert kept[0].citations[0].passage == 1


def _step(*top: tuple[str, float]) -> list[TokenLogprobs]:
    return [TokenLogprobs(top[0][0], top[0][1], list(top))]


def test_the_probability_of_declining_sums_the_tokens_that_begin_the_abstention():
    ln = __import__("math").log
    # greedy would decline ("NOT" is the likeliest single token), yet answers hold most of the probability
    p = abstention_probability(_step(("NOT", ln(0.3)), ("1", ln(0.25)), ("3", ln(0.2)), ("Not", ln(0.05))))
    assert p == pytest.approx(0.35)
    assert abstention_probability(_step(("Napoleon", ln(0.6)), ("N", ln(0.3)))) == 0.0  # "N" alone may start a name
    assert abstention_probability(_step((" NO", ln(0.9)))) == pytest.approx(0.9)
    assert abstention_probability(None) is None and abstention_probability([]) is None


def test_content_terms_are_stemmed_without_stopwords():
    assert content_terms("The capitals of France were founded in 1066.") == ["capital", "france", "found", "1066"]


def test_grammar_names_only_given_passages():
    g = grammar(3)
    assert 'num ::= "1" | "2" | "3"' in g and '"NOT IN SOURCES"' in g
    assert "NOT IN SOURCES" not in grammar(3, abstain=False)


def _count(text: str) -> int:
    return len(text.split())


def test_fit_cuts_long_passages_and_drops_what_does_not_fit():
    hits = [
        Hit(f"d{i}", 1.0 / (i + 1), text=" ".join(f"w{i}_{j}" for j in range(200)), title=f"T{i}") for i in range(5)
    ]
    fitted = fit_to_context("q?", hits, count=_count, context_size=700, max_tokens=100, max_passage_tokens=150)
    assert [p.number for p in fitted.passages] == list(range(1, len(fitted.passages) + 1))
    assert all(p.cut for p in fitted.passages) and fitted.cut[0]["tokens"] > fitted.cut[0]["kept_tokens"]
    assert fitted.used <= fitted.budget
    assert fitted.dropped and len(fitted.passages) + len(fitted.dropped) == 5
    assert fitted.passages[0].text.startswith("w0_0 w0_1")


def test_a_question_too_long_for_the_context_is_refused():
    with pytest.raises(InputError, match="no room for passages"):
        fit_to_context("why " * 500, [], count=_count, context_size=512, max_tokens=100)


def test_prompt_numbers_the_passages_and_knows_its_styles():
    messages = prompt("Capital?", PASSAGES, "short")
    assert "[2] Germany: Germany borders France." in messages[1]["content"]
    assert "shortest phrase" in messages[0]["content"]
