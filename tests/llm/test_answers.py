"""Reading what a model wrote: lists, refusals, tags, labels."""

from __future__ import annotations

import pytest

from textlens.errors import InputError
from textlens.llm.answers import clean_item, distinct_labels, match_label, read_list, refusal


@pytest.mark.parametrize(
    ("answer", "items"),
    [
        ('["solar panels", "electricity costs"]', ["solar panels", "electricity costs"]),
        ('```json\n["a b", "c"]\n```', ["a b", "c"]),
        ('{"keywords": ["x ray", "crystal"]}', ["x ray", "crystal"]),
        ('Here they are: ["alpha", "beta"] hope it helps', ["alpha", "beta"]),
        ("1. alpha\n2) beta\n- gamma\n* delta", ["alpha", "beta", "gamma", "delta"]),
        ("alpha, beta, gamma.", ["alpha", "beta", "gamma"]),
        ("<keywords>alpha, beta</keywords>", ["alpha", "beta"]),  # KeyBERT #258: tags leaking
        ("[KEYWORDS] alpha, beta [/KEYWORDS]", ["alpha", "beta"]),
        ('[{"keyword": "alpha"}, {"keyword": "beta"}]', ["alpha", "beta"]),
        ("Keywords: alpha; beta", ["alpha", "beta"]),
    ],
)
def test_lists_in_the_shapes_models_write_them(answer, items):
    assert read_list(answer) == (items, None)


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        ("I'm sorry, but I cannot extract keywords from this text.", "refused"),  # KeyBERT #197
        ("As an AI language model, I can't do that.", "refused"),
        ('["I am sorry, I cannot help with that"]', "refused"),
        ("", "empty"),
        ("   \n ", "empty"),
        ('[",", "  ", "..."]', "held no list"),
    ],
)
def test_refusals_and_empty_answers_give_no_items_and_a_note(answer, note):
    items, why = read_list(answer)
    assert items == []
    assert note in why


def test_refusal_and_cleaning():
    assert refusal("Sorry, I can't.") and refusal("<s>I cannot do this")
    assert clean_item('  "**Solar panels**." ') == "Solar panels"
    assert clean_item("3. wind turbines") == "wind turbines"


def test_labels_are_distinct_after_normalisation_and_matched_loosely():
    assert distinct_labels([" positive", "negative "]) == ["positive", "negative"]
    with pytest.raises(InputError, match="'Sci-Fi' and 'sci fi' are the same label"):
        distinct_labels(["Sci-Fi", "sci fi", "drama"])
    with pytest.raises(InputError, match="at least two"):
        distinct_labels(["only"])
    with pytest.raises(InputError, match="empty"):
        distinct_labels(["a", "!!"])
    labels = ["positive", "negative"]
    assert match_label("Positive.", labels) == "positive"
    assert match_label('"negative"', labels) == "negative"
    assert match_label("negative sentiment", labels) == "negative"
    assert match_label("neutral", labels) is None
