"""The web UI in a real browser: type, click, and check what is rendered."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect

from textlens.html import DARK, LIGHT


def test_tokenizer_page_compares_the_probe_text(page, server, shot, shared_tokenizers) -> None:
    page.goto(server + "/#tokens")
    expect(page.locator("#tok-stats")).to_contain_text("gpt-4", timeout=30_000)
    assert "The committee postponed" in page.locator("#tok-text").input_value()
    expect(page.locator("#tok-categories")).to_contain_text("korean")
    assert page.locator(".tokview").count() >= 3
    first = page.locator(".tokens span").first
    assert "ids" in first.get_attribute("title") and "bytes" in first.get_attribute("title")
    assert first.get_attribute("style") == f"background:{DARK[0]}"  # the palette every textlens page uses
    page.locator("#tok-text").fill("naïve café 👋")
    page.locator("#tok-run").click()
    expect(page.locator(".tokview").first).to_contain_text("naïve")
    assert "naïve" in page.locator("#tok-link").get_attribute("href") or "na%C3%AFve" in page.locator(
        "#tok-link"
    ).get_attribute("href")
    shot("compare")


def test_languages_table_measures_the_udhr_and_sorts(page, server, shot, shared_tokenizers) -> None:
    """The tokenizer page's languages part: a job on the server the first time, then a heatmap table of 527
    languages that sorts by a tokenizer's premium when its header is clicked (twice: most expensive first)."""
    page.goto(server + "/#tokens?t=gpt-4,gpt-4o")
    expect(page.locator("#tok-stats")).to_contain_text("gpt-4o", timeout=30_000)
    assert not page.locator("#lang-run").is_visible()  # the compare tab is shown first
    page.locator("#tab-languages").click()
    assert not page.locator("#tok-text").is_visible()
    page.locator("#lang-run").click()
    # "527 languages of": the result (while counting, the status says "counting N tokenizers on 527 languages")
    expect(page.locator("#lang-status")).to_contain_text("527 languages of", timeout=180_000)
    expect(page.locator("#lang-summary")).to_contain_text("median premium")
    assert page.locator("#lang-table tbody tr").count() == 527
    header = page.locator("#lang-table th", has_text="gpt-4o")
    header.click()
    header.click()
    first = page.locator("#lang-table tbody tr").first
    assert float(first.locator("td").nth(3).inner_text()) > 10  # the dearest language first
    assert "hsl(0," in first.locator("td").nth(3).get_attribute("style")  # red: over 8x
    shot("languages")


def test_search_page_shows_three_modes_and_the_document(page, server, shot) -> None:
    page.goto(server + "/#search")
    expect(page.locator("#search-collection option")).to_have_text("demo", timeout=30_000)
    page.keyboard.press("/")
    page.keyboard.type("the red planet")
    page.keyboard.press("Enter")
    for mode in ("keyword", "dense", "hybrid"):
        expect(page.locator("#search-columns")).to_contain_text(mode, timeout=60_000)
    expect(page.locator(".hit").first).to_contain_text("Mars", timeout=60_000)
    expect(page.locator(".hit mark").first).to_be_visible()
    page.locator(".hit").first.click()
    expect(page.locator("#doc-dialog")).to_contain_text("fourth planet")
    shot("search")
    page.keyboard.press("Escape")
    page.locator("#search-filters").fill("topic=animals")
    page.locator("#search-form button").click()
    expect(page.locator("#col-1 .hit").first).to_contain_text("Tiger", timeout=60_000)  # dense: only animals
    expect(page.locator("#col-0")).to_contain_text("no hits")  # keyword: no animal mentions a red planet


def test_ask_page_streams_the_answer_and_points_at_the_cited_passage(page, server, shot) -> None:
    page.goto(server + "/#ask")
    expect(page.locator("#ask-collection option")).to_have_text("demo", timeout=30_000)
    page.locator("#ask-question").fill("Which planet is called the Red Planet?")
    page.locator("#ask-style").select_option("short")
    page.locator("#ask-form button").click()
    expect(page.locator("#ask-passages li").first).to_contain_text("Mars", timeout=120_000)
    expect(page.locator("#ask-meta")).to_contain_text("smollm2-135m")
    answer = page.locator("#ask-answer")
    if page.locator(".cite").count():  # SmolLM2 may also decline; either way nothing cites a passage not shown
        cite = page.locator(".cite").first
        number = cite.get_attribute("data-passage")
        cite.click()
        expect(page.locator(f"#ask-p-{number}")).to_have_class("active")
        assert page.locator(f"#ask-p-{number}").count() == 1
    else:
        expect(answer).to_contain_text("Not in the sources")
    shot("ask")
    page.locator("#ask-question").fill("Anything at all?")
    page.locator("#ask-collection").evaluate("s => { s.innerHTML = '<option>nowhere</option>'; }")
    page.locator("#ask-form button").click()
    expect(page.locator("#ask-error")).to_contain_text("nowhere", timeout=30_000)


def test_collections_page_lists_and_uploads(page, server, shot, tmp_path) -> None:
    page.goto(server + "/#collections")
    expect(page.locator("#col-table")).to_contain_text("demo", timeout=30_000)
    data = tmp_path / "notes.jsonl"
    data.write_text('{"id": "n1", "text": "first note about rivers"}\n{"id": "n2", "text": "second note"}\n')
    page.locator("#upload-name").fill("notes")
    page.locator("#upload-file").set_input_files(str(data))
    page.locator("#upload-keyword-only").check()
    page.locator("#upload-form button").click()
    expect(page.locator("#upload-status")).to_contain_text("added 2 documents", timeout=30_000)
    expect(page.locator("#col-table")).to_contain_text("notes")
    shot("collections")


def test_evaluation_page_runs_a_job_and_shows_the_report(page, server, shot, tmp_path) -> None:
    import json

    pytest.importorskip("ranx")
    root = tmp_path / "mini"
    (root / "qrels").mkdir(parents=True)
    docs = [("d1", "Mars", "The red planet."), ("d2", "Tiger", "A large striped cat."), ("d3", "Moon", "Earth's moon.")]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in docs))
    (root / "queries.jsonl").write_text('{"_id": "q1", "text": "red planet"}\n{"_id": "q2", "text": "striped cat"}\n')
    (root / "qrels/test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    page.goto(server + "/#eval")
    page.locator("#eval-beir").fill(str(root))
    page.locator("#eval-form input[value=dense]").uncheck()
    page.locator("#eval-form input[value=hybrid]").uncheck()
    page.locator("#eval-form button").click()
    expect(page.locator("#eval-report")).to_contain_text("ndcg@10", timeout=120_000)
    expect(page.locator("#eval-status")).to_contain_text("mini (test, 2 queries)")
    expect(page.locator("#eval-queries-table")).to_contain_text("red planet")
    shot("eval")


def test_keywords_page_marks_the_keywords_in_the_text(page, server, shot) -> None:
    text = "A volcano erupts: lava and volcanic ash bury the town. The volcano sleeps again for a century."
    page.goto(server + "/#keywords")
    page.locator("#kw-text").fill(text)
    page.locator("#kw-top").fill("3")
    page.locator("#kw-form button").click()
    expect(page.locator("#kw-list li")).to_have_count(3, timeout=60_000)
    expect(page.locator("#kw-list")).to_contain_text("volcano")
    expect(page.locator("#kw-doc mark").first).to_be_visible()
    styles = {m.get_attribute("style") for m in page.locator("#kw-doc mark").all()}  # the shared palette
    assert f"background:{LIGHT[0]}" in styles and styles <= {f"background:{c}" for c in LIGHT}
    assert page.locator("#kw-doc").inner_text() == text  # marks wrap the text, nothing is lost
    shot("keywords")
    page.locator("#kw-method").select_option("choose")  # the server's LLM picks among textlens's candidates
    page.locator("#kw-form button").click()
    expect(page.locator("#kw-list li")).to_have_count(3, timeout=120_000)
    assert page.locator("#kw-doc").inner_text() == text
    marked = {m.inner_text().lower() for m in page.locator("#kw-doc mark").all()}
    listed = {li.locator("mark").inner_text().lower() for li in page.locator("#kw-list li").all()}
    assert marked and marked <= listed  # every mark is one of the model's keywords, found in the text
    page.locator("#kw-method").select_option("")
    page.locator("#kw-min").fill("3")
    page.locator("#kw-max").fill("1")
    page.locator("#kw-form button").click()
    expect(page.locator("#kw-error")).to_contain_text("range")


def test_inside_page_draws_attention_and_checks_it(page, server, shot) -> None:
    page.goto(server + "/#inside")
    model = page.locator("#in-model")
    expect(model.locator("option")).to_have_count(2, timeout=60_000)
    model.select_option("sentence-transformers/all-MiniLM-L6-v2")
    page.locator("#in-text").fill("The bank of the river was muddy.")
    page.locator("#in-layer").fill("2")
    page.locator("#in-form button").click()
    expect(page.locator("#in-check")).to_contain_text("differ from the model's by at most", timeout=120_000)
    expect(page.locator("#in-facts")).to_contain_text("6 layers × 12 heads")
    expect(page.locator("#in-heads figure")).to_have_count(12)
    expect(page.locator("#in-heatmap h2")).to_contain_text("Layer 2, head 0")
    page.locator("#in-heads figure").nth(3).click()
    expect(page.locator("#in-heatmap h2")).to_contain_text("head 3")
    expect(page.locator("#in-steps")).to_contain_text("output projection")
    # a painted heatmap: some cell is not white
    painted = page.evaluate(
        "() => { const c = document.querySelector('#in-heatmap canvas'); const d = c.getContext('2d')"
        ".getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4)"
        " if (d[i] < 250 && d[i + 2] > 250) return true; return false; }"
    )
    assert painted
    shot("inside")
    page.locator("#in-layer").fill("99")
    page.locator("#in-form button").click()
    expect(page.locator("#in-error")).to_contain_text("layer 99 does not exist")


def test_a_click_before_the_lists_arrive_sends_nothing(page, server, shot) -> None:
    """The model list and the collection list are held back: their controls say "loading…", their buttons are
    disabled, and submitting the form sends nothing (no model '' reaches the server); once a list arrives, the
    page works."""
    held = []
    for path in ("**/api/inside/models", "**/api/collections"):
        page.route(path, lambda route: held.append(route))
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/api/inside/attention" in r.url else None)
    page.goto(server + "/#inside")
    expect(page.locator("#in-model")).to_have_text("loading…")
    expect(page.locator("#in-model")).to_be_disabled()
    expect(page.locator("#in-form button")).to_be_disabled()
    page.locator("#in-layer").press("Enter")  # the form's submit, by keyboard
    page.locator("#in-form button").dispatch_event("click")
    shot("inside-loading")
    page.goto(server + "/#search")
    expect(page.locator("#search-form button")).to_be_disabled()
    expect(page.locator("#search-collection")).to_have_text("loading…")
    assert not sent and page.locator("#in-error").text_content() == ""
    for route in held:
        route.continue_()
    page.unroute("**/api/inside/models")
    page.unroute("**/api/collections")
    expect(page.locator("#search-collection")).to_contain_text("demo", timeout=30_000)
    expect(page.locator("#search-form button")).to_be_enabled()
    page.goto(server + "/#inside")
    expect(page.locator("#in-model option")).to_have_count(2, timeout=60_000)
    expect(page.locator("#in-form button")).to_be_enabled()


def test_search_page_shows_pictures_in_a_grid_and_searches_by_an_uploaded_one(page, server, shot, tmp_path) -> None:
    """A collection of pictures (a tiny CLIP built here): words find pictures by their captions, shown as a
    grid of thumbnails; a picture chosen in the upload box finds itself first (dense, by its vector)."""
    from PIL import Image

    from tests.shared import tiny_clip
    from textlens.collection import Collection

    folder = tmp_path / "pictures"
    folder.mkdir()
    colours = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (30, 60, 220), "yellow": (240, 210, 20)}
    for name, rgb in colours.items():
        Image.new("RGB", (48, 48), rgb).save(folder / f"{name}_square.png")
    Image.new("RGB", (48, 48), (250, 250, 250)).save(tmp_path / "query.png")
    with Collection.create("pictures", encoder=str(tiny_clip(tmp_path / "clip"))) as col:
        col.add_path(folder)
    try:
        page.goto(server + "/#search")
        expect(page.locator("#search-collection option", has_text="pictures")).to_have_count(1, timeout=30_000)
        page.locator("#search-collection").select_option("pictures")
        page.locator("#search-query").fill("yellow square")
        page.locator("#search-form button").click()
        expect(page.locator("#col-0 .pics figure").first).to_contain_text("yellow square", timeout=60_000)
        assert page.locator("#col-0 .pics img").first.get_attribute("src").startswith("data:image/jpeg;base64,")
        page.locator("#search-query").fill("")
        page.locator("#search-image").set_input_files(str(folder / "green_square.png"))
        page.locator("#search-form button").click()
        expect(page.locator("#col-0 h2")).to_contain_text("green_square.png", timeout=60_000)
        expect(page.locator("#col-0 figure").first).to_contain_text("green square")
        assert page.locator("#search-columns .col").count() == 1  # a picture alone: dense only
        page.locator("#col-0 figure").first.click()
        expect(page.locator("#doc-image")).to_be_visible()
        shot("search-pictures")
        page.keyboard.press("Escape")
        page.locator("#search-image").set_input_files(str(tmp_path / "query.png"))
        page.locator("#search-query").fill("blue")
        page.locator("#search-form button").click()
        expect(page.locator("#col-1 h2")).to_contain_text("hybrid", timeout=60_000)
    finally:
        Collection.open("pictures").delete_collection()
