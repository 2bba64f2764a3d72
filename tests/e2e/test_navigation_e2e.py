"""The app opens in a real browser with every page in the navigation, and every page renders."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import open_page, screenshot

PAGES = ["Draw", "Playground", "Text", "Embeddings", "Runs"]


def test_home_lists_every_page(page):
    open_page(page, "", wait_for_text="Deep Learning Playground")
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title in ["Home"] + PAGES:
        assert nav.get_by_text(title, exact=True).count() == 1, title
    screenshot(page, "home")


@pytest.mark.parametrize("title", PAGES)
def test_every_page_opens_without_error(page, title):
    open_page(page, "", wait_for_text="Deep Learning Playground")
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for()
    page.wait_for_timeout(500)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"page-{title.lower()}")


def test_a_direct_link_works_on_a_freshly_started_server(browser, tmp_path):
    """A page opened by a link before app.py ever ran still goes through app.py's navigation."""
    from tests.e2e.conftest import start_app, stop_app

    server = start_app(tmp_path / "cache")
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/runs")
        page.get_by_role("heading", name="Runs").first.wait_for()
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_text("Home", exact=True).wait_for()
        assert nav.get_by_text("common", exact=True).count() == 0
        page.close()
    finally:
        stop_app(server)
