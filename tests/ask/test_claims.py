"""Support at the level of claims: each number an answer states is checked against the passages, so a right
answer with a wrong aside keeps the right part (the demo's "8,848.86 meters (28,251 feet) [1]")."""

from __future__ import annotations

import doctest

from textlens.ask import _read
from textlens.ask import claims as claims_module
from textlens.ask.answer import Answer, Passage
from textlens.ask.claims import quantities, same
from textlens.ask.steps import check_support, parse_citations
from textlens.llm.base import Generation

QUESTION = "How high is Mount Everest?"
PASSAGES = [
    Passage(1, "everest", "Mount Everest", "Mount Everest is Earth's highest mountain above sea level. Its "
            "elevation of 8,848.86 m was most recently established in 2020 by the Chinese and Nepali "
            "authorities. It was first climbed in 1953.", 1.0),
    Passage(2, "k2", "K2", "K2, at 8,611 metres (28,251 ft) above sea level, is the second-highest mountain on "
            "Earth, after Mount Everest.", 0.8),
]  # fmt: skip
SETTINGS = {"support_threshold": 0.5, "unsupported": "flag", "max_tokens": 64}


def answer(draft: str, **settings) -> Answer:
    """The model's text read as ask reads it: citations, claims, support, the text rebuilt."""
    out = Answer(QUESTION, "", [], PASSAGES, settings={**SETTINGS, **settings})
    _read(out, Generation(draft, "stop", "written by the test"), None, PASSAGES)
    return out


def test_the_demo_answer_keeps_the_metres_and_drops_k2s_feet():
    a = answer("8,848.86 meters (28,251 feet) [1]")
    assert not a.abstained and a.text == "8,848.86 meters" and str(a) == "8,848.86 meters [1]"
    [sentence] = a.sentences
    assert sentence.supported and [c.passage for c in sentence.citations] == [1]
    assert [(c.text, c.status, c.passage) for c in sentence.claims] == [
        ("8,848.86 meters", "supported", 1),
        ("28,251 feet", "unsupported", None),
    ]
    assert "passage [2] holds it, about something else" in sentence.claims[1].note
    assert any("dropped '(28,251 feet)'" in r for r in a.repairs)
    quote = sentence.citations[0].quote
    assert "8,848.86 m" in quote and a.passages[0].text[slice(*sentence.citations[0].span)] == quote


def test_a_conversion_the_model_made_is_kept_and_marked():
    a = answer("Mount Everest is 8,848.86 m (29,032 ft) high [1].")
    [sentence] = a.sentences
    assert sentence.supported and sentence.text == "Mount Everest is 8,848.86 m (29,032 ft) high."
    assert [c.status for c in sentence.claims] == ["supported", "converted"]
    assert "conversion of 8,848.86 m (passage [1])" in sentence.claims[1].note
    assert "(29,032 ft: converted)" in str(a)


def test_a_rounded_number_stands_and_a_wrong_one_is_marked_not_dropped():
    rounded = answer("Its elevation is about 8,849 m [1].")
    assert rounded.sentences[0].supported and rounded.sentences[0].claims[0].status == "supported"
    wrong = answer("Everest was first climbed in 1951 [1].")
    assert wrong.sentences == [] and wrong.abstained and "no sentence" in wrong.reason  # its one number is wrong
    both = answer("Everest is 8,848.86 m high [1]. It was first climbed in 1951 [1].")
    assert [s.supported for s in both.sentences] == [True, False] and not both.abstained
    assert "(1951: not in the sources)" in str(both) and "1951" in both.text  # marked where it stands
    dropped = answer("Everest is 8,848.86 m high [1]. It was first climbed in 1951 [1].", unsupported="drop")
    assert dropped.text == "Everest is 8,848.86 m high." and len(dropped.sentences) == 1


def test_a_number_from_a_passage_about_something_else_does_not_answer():
    # the question's words are not in the passage that holds the number: the sentence is not supported
    _, sentences, _, _ = parse_citations("The Matterhorn is 8,611 metres high [2].", PASSAGES)
    check_support("How high is the Matterhorn?", sentences, PASSAGES, 0.5)
    assert not sentences[0].supported and sentences[0].claims[0].status == "supported"


def test_a_sentence_about_another_passage_moves_there_whole():
    _, sentences, _, _ = parse_citations("K2 is 8,611 metres high [1].", PASSAGES)
    repairs = check_support("How high is K2?", sentences, PASSAGES, 0.5)
    assert [c.passage for c in sentences[0].citations] == [2] and sentences[0].supported
    assert sentences[0].claims[0].status == "supported" and "cited [2] instead of [1]" in repairs[0]


def test_sentences_without_numbers_are_checked_as_before():
    _, sentences, _, _ = parse_citations("Mount Everest is Earth's highest mountain above sea level [1].", PASSAGES)
    check_support(QUESTION, sentences, PASSAGES, 0.5)
    assert sentences[0].supported and sentences[0].claims == []


def test_numbers_are_read_with_their_units():
    assert [(q.value, q.unit) for q in quantities("8,611 metres (28,251 ft), 45% and 3.5 km²")] == [
        (8611.0, "m"), (28251.0, "ft"), (45.0, "%"), (3.5, "km2"),
    ]  # fmt: skip
    assert quantities("COVID-19 and v2.0 and A4") == []  # parts of names are not quantities
    metres, rounded = quantities("8,848.86 m, 8,849 m")
    assert same(rounded, metres) and not same(metres, rounded)  # 8,849 rounds the passage's 8,848.86, not back
    assert doctest.testmod(claims_module).failed == 0
