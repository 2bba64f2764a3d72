"""Draw page in a real browser: train a quick network, draw digits with real mouse strokes."""
from __future__ import annotations

import statistics
import time

import pytest

from tests.e2e.conftest import SCREENSHOTS, open_page, screenshot, wait_until_idle
from tools.drive import PREDICTED_JS, canvas_box, clear, one, prediction, seven, stroke, zero

LATENCIES: list[float] = []


def draw_and_read(page, points_list) -> str:
    """Draw on an empty canvas; time mouse-up of the last stroke to the Prediction appearing."""
    box = canvas_box(page)
    for points in points_list[:-1]:
        stroke(page, box, points)
    released = stroke(page, box, points_list[-1])
    try:
        page.wait_for_function(PREDICTED_JS, timeout=20_000)
    except Exception:
        screenshot(page, "draw-failed")
        raise
    LATENCIES.append(time.perf_counter() - released)
    wait_until_idle(page)
    return prediction(page)


@pytest.fixture(scope="module")
def trained_page(browser, app_server):
    # Tall enough that screenshots show the details under the canvas too.
    context = browser.new_context(viewport={"width": 1400, "height": 2000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.app_url = app_server.url
    open_page(page, "draw?limit=12000", wait_for_text="Networks")
    train = page.get_by_role("button", name="Train Fast CNN")
    if train.count():  # the phone tests, run first, may have trained it
        train.click()
    page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for(timeout=180_000)
    wait_until_idle(page)
    yield page
    if LATENCIES:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        report = (f"mouse-up to updated Prediction, {len(LATENCIES)} strokes: median "
                  f"{statistics.median(LATENCIES) * 1000:.0f} ms, max {max(LATENCIES) * 1000:.0f} ms\n")
        (SCREENSHOTS / "draw-latency.txt").write_text(report)
        print("\n" + report)
    context.close()


@pytest.mark.parametrize("name,points,expected", [
    ("zero", [zero()], "0"),
    ("one", [one()], "1"),
    ("seven", [seven()], "7"),
    ("seven-small-corner", [seven(0.18, 0.2, 0.1)], "7"),
    ("one-small-corner", [one(0.85, 0.82, 0.1)], "1"),
    ("zero-small-corner", [zero(0.8, 0.22, 0.1)], "0"),
])
def test_drawn_digits_are_read(trained_page, name, points, expected):
    page = trained_page
    if prediction(page) != "–":
        clear(page)
    assert draw_and_read(page, points) == expected
    screenshot(page, f"draw-{name}")


def show(page, section: str, expect: str) -> None:
    """Pick a details section under the canvas and wait for its content."""
    page.get_by_text(section, exact=True).last.click()
    try:
        page.get_by_text(expect).first.wait_for(timeout=60_000)
    except Exception:
        screenshot(page, "draw-details-failed")
        raise
    wait_until_idle(page)
    # Still there once the rerun has settled: clicking the segment already chosen must not
    # deselect it and empty the section.
    assert page.get_by_text(expect).first.is_visible(), f"{section} shows nothing"


def test_look_inside_and_training_views_explain_the_network(trained_page):
    page = trained_page
    if prediction(page) == "–":
        draw_and_read(page, [seven()])
    show(page, "What the network sees", "Fitted into 20×20")
    wait_until_idle(page)
    screenshot(page, "draw-what-the-network-sees")
    show(page, "A look inside", "Feature maps of")
    for words in ("Saliency", "First-layer filters", "Dense activations after ReLU"):
        page.get_by_text(words).first.wait_for(timeout=30_000)  # fails the test if it never shows
    screenshot(page, "draw-look-inside")
    show(page, "Training", "Misclassified test images")
    assert page.get_by_text("Misclassified test images").count() == 1
    screenshot(page, "draw-training")
    show(page, "What the network sees", "Fitted into 20×20")


def test_clear_really_clears_and_shows_a_prompt(trained_page):
    page = trained_page
    if prediction(page) == "–":
        draw_and_read(page, [one()])
    clear(page)
    assert prediction(page) == "–"
    assert page.get_by_text("Draw a digit on the black canvas").count() >= 1
