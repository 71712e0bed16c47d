"""Keywords by a language model: grounding enforced in code, each mode with the real SmolLM2-135M
(run by llama.cpp, and through its OpenAI-compatible server), long documents, resuming."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request

import pytest
from typer.testing import CliRunner

from textlens.cli import app
from textlens.embed import get_encoder
from textlens.errors import InputError
from textlens.keywords import extract_keywords
from textlens.keywords.candidates import Vocabulary
from textlens.keywords.llm import _Doc, _Writer, near_duplicates
from textlens.llm import get_generator
from textlens.llm.openai_http import OpenAIGenerator

TEXT = (
    "Solar panels on school roofs. The district installed photovoltaic panels on twelve schools to cut "
    "electricity costs. The panels supply a third of the schools' power, and the electricity costs fell."
)
DOCS = [
    TEXT,
    "Wind turbines off the coast of Denmark produce cheap power. Offshore wind farms need strong foundations "
    "and long cables to the grid.",
    "The Berlin Wall fell in November 1989. Crowds crossed the border between East and West Berlin that night.",
]


@pytest.fixture(scope="module")
def smol():
    return get_generator("smollm2-135m", threads=2)


@pytest.fixture(scope="module")
def writer():
    enc = get_encoder()
    return _Writer(None, enc, Vocabulary(), (1, 3), 5, None, "drop", "score")


def _doc(writer, text):
    return _Doc(text, [], writer.enc.encode([text])[0])


def test_grounding_finds_spans_trims_stop_words_and_merges_forms(writer):
    result = writer.ground(
        _doc(writer, TEXT),
        ["the Photovoltaic  panels", "electricity cost", "solar-panels", "Electricity costs", "school roofs"],
    )
    phrases = [k.phrase for k in result.keywords]
    # stop words trimmed, spacing and case as in the text, a singular found by its stems, a hyphen as a space
    assert phrases == ["photovoltaic panels", "electricity costs", "Solar panels", "school roofs"]
    for kw in result.keywords:
        assert kw.grounded and kw.spans
        assert all(" ".join(TEXT[a:b].split()).lower() == kw.phrase.lower() for a, b in kw.spans)
    assert len(result.keywords[1].spans) == 2  # both occurrences
    assert result.note is None


def test_invented_and_foreign_keywords_are_dropped_or_marked(writer):
    doc = _doc(writer, TEXT)
    foreign = ["Sonnenkollektoren", "Stromkosten", "renewable energy policy"]  # KeyBERT #183: not in the text
    dropped = writer.ground(doc, foreign)
    assert dropped.keywords == []
    assert "3 do not occur in the document" in dropped.note
    marker = _Writer(None, writer.enc, writer.vocab, (1, 3), 5, None, "mark", "score")
    marked = marker.ground(doc, [*foreign, "solar panels"])
    assert [(k.phrase, k.grounded, k.spans) for k in marked.keywords[:3]] == [
        ("Sonnenkollektoren", False, []),
        ("Stromkosten", False, []),
        ("renewable energy policy", False, []),
    ]
    assert marked.keywords[3].grounded and marked.to_dict()["keywords"][0]["grounded"] is False


def test_length_top_n_and_stop_words_are_enforced_in_code(writer):
    doc = _doc(writer, TEXT)
    long = ["The district installed photovoltaic panels on twelve schools", "the", "and", "of the"]
    result = writer.ground(doc, long)
    assert result.keywords == []
    assert "4 are not phrases of 1-3 words" in result.note
    many = ["Solar panels", "school roofs", "district", "photovoltaic panels", "schools", "electricity costs", "power"]
    assert len(writer.ground(doc, many).keywords) == 5  # top_n, whatever the model wrote
    diverse = _Writer(None, writer.enc, writer.vocab, (1, 3), 3, 0.9, "drop", "score")
    picked = [k.phrase for k in diverse.ground(doc, many).keywords]
    assert len(picked) == 3 and not {"Solar panels", "photovoltaic panels"} <= set(picked)  # MMR keeps one of them


def _check_grounded(results, docs, top_n, most_words):
    for result, text in zip(results, docs, strict=True):
        assert len(result.keywords) <= top_n
        for kw in result.keywords:
            assert kw.grounded and kw.spans, kw
            assert 1 <= len(kw.phrase.split()) <= most_words
            assert all(" ".join(text[a:b].split()).lower() == kw.phrase.lower() for a, b in kw.spans)
        assert result.keywords or result.note  # no keywords is always explained


@pytest.mark.parametrize("mode", ["write", "choose"])
def test_each_mode_with_the_real_model_gives_only_grounded_keywords(smol, mode):
    results = extract_keywords(DOCS, llm=smol, llm_mode=mode, k=4, ngram_range=(1, 3))
    _check_grounded(results, DOCS, 4, 3)
    assert results.calls == len(DOCS)
    if mode == "choose":  # textlens's own candidates: every document gets keywords
        assert all(r.keywords for r in results)


def test_shared_mode_asks_once_for_near_duplicates(smol):
    docs = [DOCS[0], DOCS[1], DOCS[0] + " Updated on Monday.", DOCS[2], "", DOCS[1].replace("cheap", "low-cost")]
    threshold, leaders = near_duplicates(docs)
    assert 0 < threshold < 1
    assert leaders == {0: 0, 1: 1, 2: 0, 3: 3, 5: 1}
    results = extract_keywords(docs, llm=smol, llm_mode="shared", k=4)
    assert results.calls == 3 and results.threshold == threshold
    assert results[4].note == "the document is empty"
    assert "shares one model call with document 0" in (results[2].note or "")
    _check_grounded([r for i, r in enumerate(results) if i != 4], [d for i, d in enumerate(docs) if i != 4], 4, 3)
    with pytest.raises(InputError, match="threshold"):
        extract_keywords(docs, llm=smol, llm_mode="shared", threshold=1.5)


def test_long_document_is_read_in_parts(smol):
    small = get_generator("smollm2-135m", threads=2, context_size=512)
    long = " ".join([DOCS[1], DOCS[2], TEXT] * 12)
    [result] = extract_keywords([long], llm=small, llm_mode="write", k=5)
    assert result.note and "read in" in result.note and "parts" in result.note
    _check_grounded([result], [long], 5, 3)


def test_an_openai_compatible_endpoint_works_the_same(smol, monkeypatch):
    monkeypatch.setenv("TEXTLENS_TEST_LLM_KEY", smol.api_key)
    remote = OpenAIGenerator(smol.url, api_key_env="TEXTLENS_TEST_LLM_KEY", tokenizer=str(smol.path))
    results = extract_keywords(DOCS[:2], llm=remote, llm_mode="choose", k=3)
    _check_grounded(results, DOCS[:2], 3, 3)
    assert all(r.keywords for r in results)


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Stands for a remote OpenAI-compatible endpoint that stops answering after ``allowed`` calls:
    the first calls are passed to the real local llama.cpp server, later ones hang past the timeout."""

    target = ""
    key = ""
    allowed = 0
    calls = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).calls += 1
        if type(self).calls > self.allowed:
            threading.Event().wait(8)
            return
        request = urllib.request.Request(
            self.target + "/chat/completions",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            data = reply.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_cli_keeps_finished_documents_when_the_endpoint_times_out_and_resumes(smol, tmp_path):
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(DOCS)))
    out = tmp_path / "keywords.jsonl"
    _Flaky.target, _Flaky.key, _Flaky.allowed, _Flaky.calls = smol.url, smol.api_key, 2, 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"openai:http://127.0.0.1:{server.server_address[1]}/v1"
    args = ["keywords", "--file", str(corpus), "--llm", url, "--llm-mode", "choose", "--output", str(out), "--json"]
    try:
        first = CliRunner().invoke(app, [*args, "--llm-timeout", "5"])
        assert first.exit_code == 2
        assert "did not answer within 5 s" in first.output and "2 of 3 documents are done and saved" in first.output
        assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["d0", "d1"]
        _Flaky.allowed = 100  # the endpoint answers again
        second = CliRunner().invoke(app, [*args, "--llm-timeout", "30"])
        assert second.exit_code == 0, second.output
    finally:
        server.shutdown()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["d0", "d1", "d2"]  # each once: nothing asked twice
    assert _Flaky.calls == 3 + 1  # two answered, one timed out, then only the third again
    printed = [json.loads(line) for line in second.stdout.splitlines() if line.startswith("{")]
    assert [p["id"] for p in printed] == ["d0", "d1", "d2"]
    assert all(k["grounded"] for r in rows for k in r["keywords"])


def test_cli_bad_input(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["keywords", "some text here", "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and "--output goes with --llm" in result.output
    result = runner.invoke(app, ["keywords", "some text here", "--threshold", "0.9"])
    assert result.exit_code == 2 and "threshold goes with llm_mode shared" in result.output
    result = runner.invoke(app, ["keywords", "some text", "--llm", "smollm2-135m", "--max-sum"])
    assert result.exit_code == 2 and "embedding method" in result.output
    result = runner.invoke(app, ["keywords", "some text", "--llm", "smollm2-135m", "--llm-mode", "guess"])
    assert result.exit_code == 2 and "llm_mode must be one of write, choose, shared, got 'guess'" in result.output
