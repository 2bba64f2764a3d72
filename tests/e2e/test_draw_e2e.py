"""Draw page in a real browser: train a quick network, draw digits with real mouse strokes."""
from __future__ import annotations

import statistics
import time

import pytest

from tests.e2e.conftest import SCREENSHOTS, open_page, screenshot, wait_until_idle
from tools.drive import (CLEARED_JS, PREDICTED_JS, canvas_box, clear, one, prediction, seven, stroke,
                         train_or_read, zero)
from tools.live import paced_stroke, readings, watch

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
    train_or_read(page)
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


def a_two() -> list[tuple[float, float]]:
    """A 2 drawn in one stroke (tools/strokes.py), in canvas-relative points."""
    import numpy as np

    from tools.strokes import digit_strokes

    return digit_strokes(2, np.random.default_rng(3))[0]


def test_probabilities_change_during_one_stroke(trained_page):
    """Issue 31 §1: while the pen moves the reading updates; the whole drawing is read at pen-up."""
    page = trained_page
    if prediction(page) != "–":
        clear(page)
    watch(page)
    paced_stroke(page, canvas_box(page), a_two(), seconds=2.0)
    seen = readings(page)
    assert seen["updates"] >= 2, seen["texts"]  # new readings while the pen was down
    assert all("reading as you draw" in text for text in seen["texts"][:seen["updates"]])
    assert seen["final_ms"] is not None, "no reading of the finished drawing"
    wait_until_idle(page)
    assert prediction(page) == "2"
    # The sections below follow the reading: the whole page runs once the reading is on screen.
    page.get_by_text("Fitted into 20×20").first.wait_for(timeout=30_000)
    assert page.get_by_text("Draw something to see the preprocessing stages").count() == 0
    screenshot(page, "draw-live-after")
    print(f"\nlive: {seen['updates']} readings in a {seen['stroke_s']:.1f}-s stroke, "
          f"pen-up to final reading {seen['final_ms']:.0f} ms")


def test_a_correction_adds_the_drawing_to_the_gallery(trained_page):
    page = trained_page
    if prediction(page) == "–":
        draw_and_read(page, [seven()])
    said = prediction(page)
    page.get_by_role("button", name=f"Right, it is a {said}").click()
    page.wait_for_function(CLEARED_JS)  # a fresh canvas for the next drawing
    wait_until_idle(page)
    draw_and_read(page, [one()])
    page.get_by_role("radio", name="4", exact=True).click()  # the "No, it is" pills: 4
    page.wait_for_function(CLEARED_JS)
    wait_until_idle(page)
    show(page, "Your handwriting", "2 drawings, newest first")
    assert page.get_by_text("draw 18 more").count() == 1
    screenshot(page, "draw-teach-gallery")


def test_bad_sets_say_why_and_a_fine_tuning_shows_progress_then_the_new_network(trained_page, tmp_path):
    """Issue 31: a foreign or huge .npz gets a clear message and loses nothing; 30 drawings uploaded as
    a set fine-tune the Fast CNN with progress on screen; the new network joins the Networks list."""
    import numpy as np

    from core.digits.handwriting import DrawingSet
    from core.digits.preprocess import preprocess
    from tools.strokes import drawings

    page = trained_page
    show(page, "Your handwriting", "newest first")
    before = page.get_by_text("newest first").first.inner_text()
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="Add a set (.npz)")
    foreign, huge = tmp_path / "weights.npz", tmp_path / "huge.npz"
    np.savez(foreign, weights=np.zeros(3))
    huge.write_bytes(b"PK" + b"\0" * 21_000_000)
    for path, words in ((foreign, "That file holds weights"), (huge, "at most 20 MB")):
        uploader.locator('input[type="file"]').set_input_files(str(path))
        page.get_by_text(words).first.wait_for(timeout=60_000)
        wait_until_idle(page)
        assert page.get_by_text("newest first").first.inner_text() == before  # nothing lost
    screenshot(page, "draw-teach-bad-file")

    images, labels = drawings(3, seed=8, mirror=True)
    teach = tmp_path / "class.npz"
    teach.write_bytes(DrawingSet(np.stack([preprocess(i).digit for i in images]), labels).to_npz())
    uploader.locator('input[type="file"]').set_input_files(str(teach))
    button = page.get_by_role("button", name="Fine-tune Fast CNN on my 32 drawings")
    button.wait_for(timeout=60_000)
    button.click()
    page.locator('[data-testid="stProgress"]').first.wait_for(timeout=60_000)  # progress while it trains
    screenshot(page, "draw-teach-fine-tuning")
    page.get_by_text("held-out drawings").first.wait_for(timeout=180_000)
    wait_until_idle(page)
    screenshot(page, "draw-teach-fine-tuned")
    page.get_by_role("button", name="Read with Fast CNN + your handwriting").click()
    page.get_by_text("Fast CNN + your handwriting (32 drawings)").first.wait_for(timeout=60_000)
    wait_until_idle(page)
    clear(page)
    assert draw_and_read(page, [seven()]) == "7"
    caption = page.get_by_text("· confidence").first.inner_text()
    assert caption.startswith("Fast CNN + your handwriting (32 drawings)"), caption
    screenshot(page, "draw-teach-reading-with-it")

    # It is on Embeddings too, right after its base (a new tab: this one keeps its drawing).
    other = page.context.new_page()
    other.app_url = page.app_url
    open_page(other, "embeddings", wait_for_text="Vectors from")
    other.get_by_role("combobox", name="Vectors from").click()
    options = other.get_by_role("option").all_inner_texts()
    tuned = [i for i, text in enumerate(options) if text.startswith("Fast CNN + your handwriting")]
    assert tuned and options[tuned[0] - 1].startswith("Fast CNN"), options
    screenshot(other, "embeddings-lists-the-fine-tuned-network")
    other.close()


INK_JS = """() => { const c = document.querySelector('canvas.dlp-digit-canvas'); if (!c) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; }"""


def test_the_drawing_and_its_reading_survive_a_page_switch(trained_page):
    """Issue 30 #3: Draw → Text → Draw keeps what you were looking at, the ink included."""
    page = trained_page
    show(page, "What the network sees", "Fitted into 20×20")
    if prediction(page) == "–":
        draw_and_read(page, [seven()])
    said = prediction(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Text", exact=True).click()
    page.get_by_role("heading", name="Text").first.wait_for(timeout=60_000)
    wait_until_idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Draw", exact=True).click()
    page.get_by_text("Networks").first.wait_for(timeout=60_000)
    wait_until_idle(page)
    page.wait_for_function(f"() => ({INK_JS})() > 500", timeout=30_000)  # the drawing is back on the canvas
    assert prediction(page) == said
    assert page.get_by_text("Fitted into 20×20").count() == 1
