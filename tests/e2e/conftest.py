"""End-to-end fixtures: the real app under ``streamlit run``, driven by Playwright in
Debian's Chromium. Every test module shares one server; screenshots go to
``tests/e2e/screenshots/``.

The browser itself (``chromium``, ``browser``) is tests/conftest.py's: one Playwright per pytest
process, shared with the browser tests outside this folder.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.browser import (  # noqa: F401  (re-exported for the test modules)
    CHROMIUM_ARGS, REPO, AppServer, chromium_path, free_port, start_app, stop_app, wait_until_idle,
)
from tools.browser import settled

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def app_server(chromium, tmp_path_factory):
    # An empty store, as the tests expect ("not trained yet"); test_first_visit_e2e.py starts its
    # own servers with the ready-made models of assets/defaults/ on.
    server = start_app(tmp_path_factory.mktemp("e2e-cache"), extra_env={"DLP_BUNDLED": "0"})
    yield server
    stop_app(server)


@pytest.fixture
def page(browser, app_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.app_url = app_server.url  # type: ignore[attr-defined]
    yield page
    context.close()


FIRST_RUN_TIMEOUT_MS = 120_000


def open_page(page, path: str = "", wait_for_text: str | None = None):
    """Go to a page of the app (``""`` for home, else e.g. ``"draw"``) and wait until it has run."""
    page.goto(f"{page.app_url}/{path}")
    if wait_for_text:
        # The first visit to a page on a fresh server imports TensorFlow: ~8 s here, several times
        # that in the machine's slow spells, past the 30-s default timeout.
        page.get_by_text(wait_for_text, exact=False).first.wait_for(timeout=FIRST_RUN_TIMEOUT_MS)
    wait_until_idle(page)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def whole_page_screenshot(page, name: str, max_height: int = 8000) -> Path:
    """The whole page at the viewport's width: Streamlit scrolls inside its own container, which a
    full-page screenshot does not unroll, so the viewport is made as tall as the content for one
    picture, then put back."""
    size = page.viewport_size
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return main ? main.scrollHeight : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), max_height)})
    settled(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
