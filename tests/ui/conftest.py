"""A real server on 127.0.0.1 and Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.live import live_server

pytest.importorskip("playwright")
pytest.importorskip("uvicorn")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; `make test` does it as root)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """textlens serve on 127.0.0.1 with a small collection; stopped after the session."""
    import os

    from textlens.corpus import Document
    from textlens.index import create_collection
    from textlens.server import ServerSettings, create_app

    home = tmp_path_factory.mktemp("ui-home")
    os.environ["TEXTLENS_HOME"] = str(home)
    with create_collection("demo") as col:
        col.add(
            [
                Document(
                    "mars",
                    "Mars is the fourth planet from the Sun, often called the Red Planet.",
                    "Mars",
                    {"topic": "space"},
                ),
                Document(
                    "tiger",
                    "The tiger is the largest living cat species, with dark stripes.",
                    "Tiger",
                    {"topic": "animals"},
                ),
                Document(
                    "photo",
                    "Photosynthesis lets plants turn light into chemical energy.",
                    "Photosynthesis",
                    {"topic": "biology"},
                ),
            ]
        )
    # the evaluation page names BEIR folders the tests write under pytest's temporary folder
    settings = ServerSettings(data_dirs=(tmp_path_factory.getbasetemp(),), llm="smollm2-135m")
    with live_server(create_app(settings)) as base:
        yield base


@pytest.fixture
def shot(page, request):
    """Save a screenshot of the page as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)

    return take


@pytest.fixture
def page(page):
    """pytest-playwright's page, with room for a cold Chromium's first page load on a busy 2-core machine (one
    fresh-clone CI run timed out at the default 30 s on the first page of the session)."""
    page.set_default_navigation_timeout(90_000)
    return page
