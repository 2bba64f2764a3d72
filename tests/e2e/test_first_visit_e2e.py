"""The first visit on a fresh install: a fresh server on an empty DLP_CACHE_DIR with the ready-made
models of assets/defaults/ on. Every page does its main thing with no Train click: Draw reads a
drawn digit, Text writes on from a typed seed, Embeddings opens on a map. A damaged bundled file is
reported and its page offers training. (How fast: benchmarks/bench_first_visit.py.)"""
from __future__ import annotations

import shutil

import pytest

from tools.browser import start_app, stop_app
from core.training.bundled import DEFAULTS_DIR
from tests.e2e.conftest import open_page, screenshot, wait_until_idle
from tools.drive import MAP_POINTS_JS, PREDICTED_JS, canvas_box, clear, one, prediction, stroke, zero

SEED = "ROMEO:"


@pytest.fixture(scope="module")
def app_server(chromium, tmp_path_factory):
    """This module's own fresh server (the suite's shared one has bundling off), for ``page``."""
    server = start_app(tmp_path_factory.mktemp("first-visit-cache"), extra_env={"DLP_BUNDLED": "1"})
    yield server
    stop_app(server)


def draw(page, points) -> str:
    stroke(page, canvas_box(page), points)
    page.wait_for_function(PREDICTED_JS, timeout=30_000)
    wait_until_idle(page)
    return prediction(page)


def test_draw_reads_a_digit_with_no_training(page, app_server):
    assert not (app_server.cache / "models").exists() or not any((app_server.cache / "models").iterdir())
    open_page(page, "draw", wait_for_text="Prediction")
    assert page.get_by_text("not trained yet").count() == 0
    assert page.get_by_role("button", name="Train Fast CNN").count() == 0
    page.get_by_text("Bundled model (test accuracy 99").first.wait_for()
    assert draw(page, one()) == "1"
    screenshot(page, "first-visit-draw-one")
    clear(page)
    assert draw(page, zero()) == "0"
    screenshot(page, "first-visit-draw-zero")


def test_text_writes_from_a_typed_seed_with_no_training(page):
    open_page(page, "text", wait_for_text="3 · Write")
    assert page.get_by_role("button", name="Train", exact=True).count() == 0
    bundled_note = page.get_by_text("Bundled model — train it yourself").first
    bundled_note.scroll_into_view_if_needed()
    screenshot(page, "first-visit-text-bundled")
    seed = page.get_by_role("textbox", name="Seed text")
    seed.fill(SEED)
    seed.press("Control+Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("A look inside").wait_for(timeout=60_000)
    wait_until_idle(page)
    sample = page.locator(".dlp-sample").last
    assert sample.locator(".dlp-seed").inner_text() == SEED  # the seed, then the new text, marked
    text = sample.inner_text().strip()
    assert text.startswith(SEED) and len(sample.locator(".dlp-generated").inner_text()) == 300, text
    assert len(set(text.split())) > 20  # words, not one character over and over
    screenshot(page, "first-visit-text")


def test_embeddings_opens_on_a_map_of_the_default_network(page):
    open_page(page, "embeddings", wait_for_text="Vectors from")
    page.wait_for_function(f"() => ({MAP_POINTS_JS})() > 0", timeout=60_000)
    wait_until_idle(page)
    assert page.evaluate(MAP_POINTS_JS) == 2000  # the page's default: 2,000 test digits, no Run click
    assert page.get_by_role("combobox", name="Vectors from").input_value().startswith("Fast CNN")
    assert page.get_by_text("The components shown explain").count() == 1
    screenshot(page, "first-visit-embeddings")


def test_a_damaged_bundled_model_is_reported_and_draw_offers_training(browser, chromium, tmp_path):
    damaged = tmp_path / "defaults"
    shutil.copytree(DEFAULTS_DIR, damaged)
    model_file = damaged / "fast_cnn" / "model.keras"
    data = bytearray(model_file.read_bytes())
    for offset in range(1000, len(data), len(data) // 7):  # flip a few bytes through the file
        data[offset] ^= 0xFF
    model_file.write_bytes(bytes(data))
    server = start_app(tmp_path / "cache", extra_env={"DLP_BUNDLED": "1", "DLP_DEFAULTS_DIR": str(damaged)})
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.app_url = server.url
    try:
        open_page(page, "draw", wait_for_text="Train Fast CNN")
        page.get_by_text("The bundled Fast CNN (1 epoch) is damaged").first.wait_for()
        assert page.get_by_role("button", name="Train Fast CNN").is_visible()
        screenshot(page, "first-visit-draw-damaged-bundle")
        open_page(page, "text", wait_for_text="3 · Write")  # the intact text model still came in
    finally:
        page.context.close()
        stop_app(server)
