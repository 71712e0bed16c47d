"""Keyword extraction with the real all-MiniLM-L6-v2: candidates, ranking, diversity, merging,
CJK, batching, bad input and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("sklearn")

from typer.testing import CliRunner

from textlens.cli import app
from textlens.errors import InputError
from textlens.keywords import extract_keywords
from textlens.keywords.candidates import Vocabulary, candidates, tokenize

TOKENIZERS = (
    "Tokenizers split text into tokens before a language model reads it. Byte-pair encoding merges the most "
    "frequent pairs of symbols; WordPiece, used by BERT, and the unigram model of SentencePiece are other "
    "tokenization algorithms. A tokenizer's vocabulary decides how many tokens a sentence costs."
)
VOLCANO = (
    "A volcano is a rupture in the crust of a planet where hot lava, volcanic ash and gases escape from a magma "
    "chamber below the surface. Eruptions of volcanoes can bury towns in ash."
)
runner = CliRunner()


def phrases(result) -> list[str]:
    return [k.phrase for k in result.keywords]


def test_ranks_the_words_the_document_is_about() -> None:
    tok, vol = extract_keywords([TOKENIZERS, VOLCANO], k=3)
    assert any("token" in p.lower() for p in phrases(tok))
    assert any("volcan" in p.lower() for p in phrases(vol))
    # the score is the cosine of the document's and the phrase's embeddings (KeyBERT's definition)
    from textlens.embed import get_encoder

    enc = get_encoder()
    doc_vec, phrase_vecs = enc.encode([TOKENIZERS])[0], enc.encode([k.phrase for k in tok.keywords])
    np.testing.assert_allclose([k.score for k in tok.keywords], phrase_vecs @ doc_vec, atol=1e-4)
    assert [k.score for k in tok.keywords] == sorted((k.score for k in tok.keywords), reverse=True)


def test_keywords_are_spans_of_the_text_with_their_case() -> None:
    (result,) = extract_keywords([TOKENIZERS], ngram_range=(1, 3), k=8)
    for kw in result.keywords:
        forms = {kw.phrase.lower(), *(v.lower() for v in kw.variants)}
        for start, end in kw.spans:
            assert " ".join(TOKENIZERS[start:end].split()).lower() in forms
    assert "BERT" in [w for k in extract_keywords([TOKENIZERS], k=30)[0].keywords for w in [k.phrase]]


def test_candidates_never_start_or_end_with_stop_words_nor_cross_punctuation() -> None:
    vocab = Vocabulary()
    found = [c.phrase for c in candidates("The state of the art works. Models, tokens and text", vocab, (1, 5))]
    assert "state of the art" in found and "state of the art works" in found
    assert not any(
        p.split()[0].lower() in {"the", "of", "and"} or p.split()[-1].lower() in {"the", "of", "and"} for p in found
    )
    assert "works Models" not in found and "Models tokens" not in found  # '.' and ',' end phrases
    assert {"tokens", "text"} <= set(found)


def test_near_duplicates_merge_by_stem_and_can_be_kept_apart() -> None:
    text = "We optimize the compiler. Optimization of compilers is hard, and the compiler optimizes loops."
    merged = extract_keywords([text], k=10)[0]
    opt = next(k for k in merged.keywords if k.phrase.lower().startswith("optimi"))
    assert {opt.phrase.lower(), *(v.lower() for v in opt.variants)} >= {"optimize", "optimization", "optimizes"}
    assert len(opt.spans) == 3
    comp = next(k for k in merged.keywords if k.phrase.startswith("compiler"))
    assert comp.phrase == "compiler" and comp.variants == ["compilers"]  # the more frequent form shows
    apart = phrases(extract_keywords([text], k=10, merge=False)[0])
    assert {"optimize", "Optimization", "optimizes"} <= set(apart)


def test_diversity_mmr_and_max_sum() -> None:
    plain = extract_keywords([TOKENIZERS], ngram_range=(1, 2), k=5)[0]
    zero = extract_keywords([TOKENIZERS], ngram_range=(1, 2), k=5, diversity=0.0)[0]
    assert phrases(plain) == phrases(zero)
    diverse = extract_keywords([TOKENIZERS], ngram_range=(1, 2), k=5, diversity=0.8)[0]
    assert phrases(diverse) != phrases(plain) and phrases(diverse)[0] == phrases(plain)[0]
    pool = extract_keywords([TOKENIZERS], ngram_range=(1, 2), k=8)[0]
    maxsum = extract_keywords([TOKENIZERS], ngram_range=(1, 2), k=3, max_sum=True, nr_candidates=8)[0]
    assert len(maxsum.keywords) == 3 and set(phrases(maxsum)) <= set(phrases(pool))
    with pytest.raises(InputError, match="combinations"):
        extract_keywords([TOKENIZERS], k=10, max_sum=True, nr_candidates=60)
    with pytest.raises(InputError, match="one way"):
        extract_keywords([TOKENIZERS], max_sum=True, diversity=0.5)


def test_seed_keywords_and_given_candidates() -> None:
    base = extract_keywords([TOKENIZERS], k=40)[0]
    seeded = extract_keywords([TOKENIZERS], k=40, seed_keywords=["vocabulary size"])[0]
    score = {k.phrase: k.score for k in base.keywords}
    seeded_score = {k.phrase: k.score for k in seeded.keywords}
    assert seeded_score["vocabulary"] - score["vocabulary"] > seeded_score["pairs"] - score["pairs"]
    given = extract_keywords([TOKENIZERS], candidates=["byte-pair encoding", "BERT", "not in the text"])[0]
    assert sorted(phrases(given)) == ["BERT", "byte-pair encoding"]
    assert given.keywords[0].spans


def test_batch_equals_one_at_a_time_and_text_order() -> None:
    both = extract_keywords([TOKENIZERS, VOLCANO], ngram_range=(1, 2))
    for text, result in zip([TOKENIZERS, VOLCANO], both, strict=True):
        alone = extract_keywords([text], ngram_range=(1, 2))[0]
        assert phrases(alone) == phrases(result)
        np.testing.assert_allclose([k.score for k in alone.keywords], [k.score for k in result.keywords], atol=1e-5)
    ordered = extract_keywords([TOKENIZERS], order="text")[0]
    firsts = [k.spans[0][0] for k in ordered.keywords]
    assert firsts == sorted(firsts)


def test_chinese_is_segmented_and_japanese_particles_break_phrases() -> None:
    pytest.importorskip("rjieba")
    vocab = Vocabulary()
    zh = [t.text for t in tokenize("自然语言处理是人工智能的一个重要方向", vocab)]
    assert "人工智能" in zh and "自然语言" in zh
    ja = [c.phrase for c in candidates("東京は日本の首都です。東京タワーが有名", vocab, (1, 2))]
    assert "東京" in ja and "首都" in ja and "東京タワー" in ja
    assert not any("は" in p or "の" in p for p in ja)
    (result,) = extract_keywords(["自然语言处理是人工智能的一个重要方向。它研究人与计算机之间的通信。"], k=3)
    assert result.keywords and all(len(k.phrase) >= 2 for k in result.keywords)
    mixed = extract_keywords(["Tokenizers split text. 分词器把文本切成词元。Les tokenizers découpent le texte."],
                             languages=["english", "french"], k=20)[0]  # fmt: skip
    found = {k.phrase.lower() for k in mixed.keywords}
    assert "tokenizers" in found and "分词器" in found and not {"le", "les", "the"} & found


def test_languages_contractions_and_addresses() -> None:
    french = [c.phrase for c in candidates("le chat et la maison", Vocabulary(["french"]), (1, 1))]
    assert french == ["chat", "maison"]
    mixed = Vocabulary(["english", "french"])
    assert mixed.is_stop("the") and mixed.is_stop("les") and not mixed.is_stop("maison")
    with pytest.raises(InputError, match="klingon"):
        Vocabulary(["klingon"])
    words = [
        t.text
        for t in tokenize("I'm sure you don't know joe@cs.cmu.edu or https://x.org/page", Vocabulary())
        if not t.stop
    ]
    assert words == ["sure", "know"]


def test_bad_input_is_explained() -> None:
    empty, short, fine = extract_keywords(["   ", "the of", VOLCANO], ngram_range=(1, 1))
    assert empty.keywords == [] and "empty" in empty.note
    assert short.keywords == [] and "lower --ngram-range" in short.note
    assert fine.keywords and fine.note is None
    (three,) = extract_keywords(["volcanic ash"], ngram_range=(3, 3))
    assert three.keywords == [] and "2 words" in three.note
    with pytest.raises(InputError, match="range"):
        extract_keywords([VOLCANO], ngram_range=(2, 1))
    with pytest.raises(InputError, match="diversity"):
        extract_keywords([VOLCANO], diversity=1.5)


def test_cli_text_json_html_and_errors(tmp_path: Path) -> None:
    page = tmp_path / "kw.html"
    res = runner.invoke(app, ["keywords", VOLCANO, "--ngram-range", "1", "2", "--top-n", "3", "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert "volcan" in res.output.lower() and page.read_text().count("<mark") >= 3
    res = runner.invoke(app, ["keywords", VOLCANO, "--json", "--diversity", "0.5"])
    row = json.loads(res.output.strip().splitlines()[-1])
    assert (
        row["id"] == "text" and len(row["keywords"]) == 5 and {"keyword", "score", "spans"} <= set(row["keywords"][0])
    )
    res = runner.invoke(app, ["keywords", VOLCANO, "--file", str(page)])
    assert res.exit_code == 2 and "exactly one" in res.output
    res = runner.invoke(app, ["keywords", "   "])
    assert res.exit_code == 2 and "empty" in res.output
    res = runner.invoke(app, ["keywords", VOLCANO, "--max-sum", "--diversity", "0.3"])
    assert res.exit_code == 2 and "one way" in res.output


def test_cli_many_documents_from_a_file_and_a_collection(tmp_path: Path) -> None:
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"id": i, "body": t}) + "\n" for i, t in [("tok", TOKENIZERS), ("vol", VOLCANO), ("nil", "")]
        )
    )
    res = runner.invoke(app, ["keywords", "--file", str(corpus), "--text-field", "body", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["id"]: r for r in map(json.loads, res.output.strip().splitlines())}
    assert rows["vol"]["keywords"] and rows["nil"]["note"] == "the document is empty"
    from textlens.corpus import Document
    from textlens.index import create_collection

    with create_collection("kwcol") as col:
        col.add([Document("v1", VOLCANO, "Volcano")])
    res = runner.invoke(app, ["keywords", "--collection", "kwcol", "--doc", "v1", "--json"])
    assert res.exit_code == 0, res.output
    assert "volcan" in json.loads(res.output.strip())["keywords"][0]["keyword"].lower()
    res = runner.invoke(app, ["keywords", "--collection", "kwcol", "--doc", "nope"])
    assert res.exit_code == 2 and "no document 'nope'" in res.output
