"""Segments, statistics, round-trip losses and the category table."""

from __future__ import annotations

from textlens.tokens import compare, get_tokenizer
from textlens.tokens.analysis import analyze, category_cell, count_words, segments
from textlens.tokens.probe import PROBE, probe_text


def test_counts_and_rates_on_a_known_text(shared_tokenizers) -> None:
    report = analyze(get_tokenizer("gpt-4"), "hello world")
    s = report.stats
    assert (s.count, s.content_tokens, s.chars, s.bytes, s.words) == (2, 2, 11, 11, 2)
    assert (s.chars_per_token, s.bytes_per_token, s.fertility) == (5.5, 5.5, 1.0)
    assert report.tokens == ["hello", " world"]
    assert report.roundtrip.lossless


def test_split_characters_show_as_one_segment(shared_tokenizers) -> None:
    tok = get_tokenizer("gpt-4")
    ids = tok.encode("👨‍👩‍👧")
    segs = segments(tok, ids)
    assert sum(len(s.ids) for s in segs) == len(ids) > len(segs)
    assert "".join(s.text for s in segs) == "👨‍👩‍👧"
    assert any(len(s.ids) > 1 for s in segs)


def test_byte_fallback_is_counted(shared_tokenizers) -> None:
    s = analyze(get_tokenizer("llama-2"), "👍").stats
    # "▁" then the four bytes of the emoji
    assert s.byte_fallback_count == 4 and s.partial_utf8_count == 4 and s.byte_token_rate == 0.8
    assert s.special_added == ["<s>"]


def test_bert_losses_are_named(shared_tokenizers) -> None:
    report = analyze(get_tokenizer("bert-base-uncased"), "Crème  BRÛLÉE 🚀")
    assert report.stats.unk_count == 1 and report.stats.unk_rate > 0
    losses = report.roundtrip.losses
    assert not report.roundtrip.lossless
    assert {"case", "accents", "whitespace", "unknown"} <= set(losses)


def test_newlines_lost_are_reported(shared_tokenizers) -> None:
    rt = analyze(get_tokenizer("bert-base-uncased"), "one\ntwo").roundtrip
    assert rt.losses == {"newlines": 1}


def test_words_count_han_characters_one_each() -> None:
    assert count_words("hello world") == 2
    assert count_words("自然语言") == 4
    assert count_words("GPT-4 reads 中文 text") == 6


def test_category_flags(shared_tokenizers) -> None:
    bert = get_tokenizer("bert-base-uncased")
    assert "UNK" in category_cell(bert, PROBE["emoji"]).flags
    assert "WS" in category_cell(bert, PROBE["whitespace"]).flags
    assert "CASE" in category_cell(bert, PROBE["capitals"]).flags
    assert category_cell(get_tokenizer("gpt-4o"), PROBE["english"]).flags == []
    assert "BYTE" in category_cell(get_tokenizer("llama-2"), PROBE["emoji"]).flags


def test_compare_probe_has_every_category(shared_tokenizers) -> None:
    result = compare(None, ["gpt-4", "llama-3", "bert-base-uncased"])
    assert result.text == probe_text()
    assert set(result.categories) == set(PROBE)
    data = result.to_dict()
    assert [t["name"] for t in data["tokenizers"]] == ["gpt-4", "llama-3", "bert-base-uncased"]
    first = data["tokenizers"][0]
    assert first["count"] == len(first["ids"]) == len(first["tokens"])
    assert {"stats", "roundtrip"} <= set(first)
    # the category counts add up to about the whole (separators excluded)
    total = sum(row["gpt-4"].tokens for row in result.categories.values())
    assert abs(total - first["count"]) < len(PROBE) * 2


def test_probe_covers_the_required_categories() -> None:
    required = {"english", "capitals", "code", "whitespace", "numbers", "emoji", "chinese", "korean", "url_json"}
    assert required <= set(PROBE)
    assert {"arabic", "hindi"} & set(PROBE)
