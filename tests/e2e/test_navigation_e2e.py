"""The app opens in a real browser with every page in the navigation, and every page renders; what a
user chose on a page survives a switch to another page and a reload."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import open_page, screenshot, wait_until_idle

PAGES = ["Draw", "Playground", "Text", "Embeddings", "Runs"]


def test_home_lists_every_page(page):
    open_page(page, "", wait_for_text="Deep Learning Playground")
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title in ["Home"] + PAGES:
        assert nav.get_by_text(title, exact=True).count() == 1, title
    screenshot(page, "home")


@pytest.mark.parametrize("title", PAGES)
def test_a_home_cards_picture_opens_its_page_within_the_app(page, title):
    """The picture is covered by the card's page link: a click on it is a click on the link, which
    navigates inside the app (no reload: the session and the page's JavaScript state stay)."""
    open_page(page, "", wait_for_text="Deep Learning Playground")
    picture = page.locator(f".st-key-home_card_{title.lower()} img").first
    picture.scroll_into_view_if_needed()
    box = picture.bounding_box()
    page.evaluate("() => { window.dlpNoReload = true; }")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(f"**/{title.lower()}")
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=120_000)
    assert page.evaluate("() => window.dlpNoReload === true"), "the click reloaded the app"


@pytest.mark.parametrize("title", PAGES)
def test_every_page_opens_without_error(page, title):
    open_page(page, "", wait_for_text="Deep Learning Playground")
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.wait_for_url(f"**/{title.lower()}")
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=120_000)
    wait_until_idle(page)
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


def chosen_networks(page) -> list[str]:
    """The chips of Draw's Networks picker, in order."""
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Networks")
    return [chip.get_attribute("aria-label") for chip in picker.locator("[data-tag]").all()]


def test_draw_keeps_its_networks_across_a_page_switch_and_a_reload(page):
    """Issue 30 #3: Draw → Text → Draw used to reset the chosen networks (and hid one in training)."""
    open_page(page, "draw", wait_for_text="Networks")
    assert chosen_networks(page) == ["Fast CNN"]
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Networks")
    picker.locator("input").click()
    page.get_by_role("option", name="2019 dense net").click()
    page.keyboard.press("Escape")
    wait_until_idle(page)
    assert chosen_networks(page) == ["Fast CNN", "2019 dense net"]
    assert "draw_networks=" in page.url  # a link reproduces it

    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Text", exact=True).click()
    page.get_by_role("heading", name="Text").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    nav.get_by_text("Draw", exact=True).click()
    page.get_by_text("Networks").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    assert chosen_networks(page) == ["Fast CNN", "2019 dense net"], "after a page switch"
    page.reload()
    page.get_by_text("Networks").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    assert chosen_networks(page) == ["Fast CNN", "2019 dense net"], "after a reload"
    screenshot(page, "navigation-draw-kept")


def test_a_training_started_on_draw_shows_on_text_and_its_link_leads_back(page):
    """Issue 30 #3: a page shows the trainings still running for you, with a link to the page that
    started them — with that page's URL settings (here Draw's ?limit), so it shows the same training."""
    open_page(page, "draw?limit=5000", wait_for_text="Networks")
    page.get_by_role("button", name="Train Fast CNN").click()
    page.get_by_role("button", name="Cancel training").wait_for(timeout=60_000)  # it runs: go elsewhere
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Text", exact=True).click()
    page.get_by_role("heading", name="Text").first.wait_for(timeout=120_000)
    panel = page.locator(".st-key-trainings_panel")
    panel.get_by_text("Fast CNN (1 epoch, 5000 images)").wait_for(timeout=60_000)
    wait_until_idle(page)
    screenshot(page, "navigation-trainings-panel")
    panel.get_by_role("link", name="Open Draw").click()
    page.wait_for_url("**/draw?*limit=5000*")
    # The trained network reads on Draw: the training the panel pointed to, not the default's.
    page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for(timeout=300_000)
