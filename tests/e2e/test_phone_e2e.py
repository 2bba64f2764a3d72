"""The app on a phone: 390 × 844, touch only. A digit drawn with a finger is read; no page is wider
than the screen; screenshots of every page at phone width (tests/e2e/screenshots/phone-*.png)."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, open_page, screenshot, wait_until_idle, whole_page_screenshot
from tools.browser import settled
from tools.drive import PREDICTED_JS, canvas_box, clear, one, prediction, seven, train_or_read

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def phone(browser, app_server):
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.app_url = app_server.url
    yield page
    context.close()


def finger_stroke(page, box, points) -> None:
    """One stroke of a finger through canvas-relative points (0..1), as real touch events."""
    cdp = page.context.new_cdp_session(page)
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]

    def touch(kind: str, points=()):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": kind, "touchPoints": [{"x": x0 + x * w, "y": y0 + y * h} for x, y in points]})

    touch("touchStart", points[:1])
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        for t in (0.25, 0.5, 0.75, 1.0):
            touch("touchMove", [(xa + (xb - xa) * t, ya + (yb - ya) * t)])
    touch("touchEnd")
    cdp.detach()


def overflow(page) -> int:
    """How many CSS pixels the widest element of the page sticks out past the screen's right edge."""
    return page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]') || document.body;
        let widest = 0;
        for (const el of main.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (r.width && getComputedStyle(el).visibility !== 'hidden') widest = Math.max(widest, r.right);
        }
        return Math.max(0, Math.ceil(widest - window.innerWidth));
    }""")


def open_trained_draw(phone) -> None:
    """Draw with a quick Fast CNN, trained here if no earlier test did."""
    open_page(phone, "draw?limit=12000", wait_for_text="Networks")
    train_or_read(phone)


def test_a_digit_drawn_with_a_finger_is_read(phone):
    open_trained_draw(phone)
    box = canvas_box(phone)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"the canvas does not fit: {box}"
    for digit, points in (("1", one()), ("7", seven())):
        if prediction(phone) != "–":
            clear(phone)
            box = canvas_box(phone)
        finger_stroke(phone, box, points)
        phone.wait_for_function(PREDICTED_JS, timeout=30_000)
        wait_until_idle(phone)
        assert prediction(phone) == digit
        screenshot(phone, f"phone-draw-touch-{digit}")


def test_the_reading_follows_a_finger_and_sits_right_under_the_canvas(phone):
    """Issue 31 §1 with touch at phone width, and issue 30 #5: after drawing, the Prediction is on the
    first screen, right under the canvas (screenshot of the screen as the phone shows it)."""
    import numpy as np

    from tools.live import paced_stroke, readings, watch
    from tools.strokes import digit_strokes

    open_trained_draw(phone)
    if prediction(phone) != "–":
        clear(phone)
    watch(phone)
    paced_stroke(phone, canvas_box(phone), digit_strokes(2, np.random.default_rng(3))[0], seconds=2.0, touch=True)
    seen = readings(phone)
    assert seen["updates"] >= 2, seen["texts"]  # the reading changed while the finger moved
    assert seen["final_ms"] is not None
    wait_until_idle(phone)
    metric = phone.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.bounding_box()
    canvas = canvas_box_without_scrolling(phone)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "phone-draw-live-first-screen.png"))  # the screen, not the page
    assert 0 <= metric["y"] and metric["y"] + metric["height"] <= PHONE["height"], f"below the fold: {metric}"
    assert metric["y"] - (canvas["y"] + canvas["height"]) < 200, "the Prediction is not right under the canvas"
    assert prediction(phone) == "2"


def canvas_box_without_scrolling(page):
    return page.locator("canvas.dlp-digit-canvas").bounding_box()


def tap_the_map(phone, x: float, y: float) -> None:
    """Tap the clickable output map at map-relative (x, y) in 0..1."""
    plot = phone.locator(".pg-pick canvas")
    plot.wait_for(timeout=60_000)
    plot.evaluate("el => el.scrollIntoView({block: 'center'})")
    settled(phone)
    box = plot.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"the map does not fit: {box}"
    finger_stroke(phone, box, [(x, y)])  # a stroke of one point: a tap


def points_on_the_map(phone) -> str | None:
    return phone.evaluate("() => document.querySelector('[data-output-map]').parentElement.dataset.points")


def test_taps_on_the_playground_map_add_points_of_your_own(phone):
    """From no points at all: the map is there to tap on, and two taps make a data set."""
    open_page(phone, "playground?dataset=custom", wait_for_text="Your own points")
    too_few = phone.get_by_text("Add at least two points of your own")
    assert too_few.count() == 1 and phone.get_by_role("button", name="Remove all points").count() == 0
    tap_the_map(phone, 0.3, 0.3)
    phone.get_by_role("button", name="Remove all points").wait_for(timeout=30_000)
    wait_until_idle(phone)
    assert too_few.count() == 1 and points_on_the_map(phone) == "1"  # one point is not yet enough
    phone.get_by_text("blue", exact=True).first.tap()  # the second point's class
    wait_until_idle(phone)
    tap_the_map(phone, 0.7, 0.7)
    too_few.wait_for(state="detached", timeout=30_000)
    wait_until_idle(phone)
    assert points_on_the_map(phone) == "2"
    assert phone.locator('[data-testid="stException"]').count() == 0
    screenshot(phone, "phone-playground-own-points")


def test_on_a_phone_the_playgrounds_map_comes_right_under_play(phone):
    """The columns stack on a phone: the map first (so Play shows the boundary bend without
    scrolling), then the network, the data, and the hyperparameters last."""
    open_page(phone, "playground", wait_for_text="Output")
    wait_until_idle(phone)

    def top(locator) -> float:
        return locator.first.bounding_box()["y"]

    play = top(phone.get_by_role("button", name="Play"))
    map_top = top(phone.locator("[data-output-map]"))
    features = top(phone.get_by_text("Features", exact=True))
    data = top(phone.get_by_text("Which dataset do you want to use?"))
    learning_rate = top(phone.get_by_text("Learning rate", exact=True))
    assert play < map_top < features < data < learning_rate, (play, map_top, features, data, learning_rate)
    assert map_top - play < 844 / 2, "the map starts in the screen's upper half below Play"
    layers = [top(phone.get_by_text(f"Layer {n}: ", exact=False)) for n in (1, 2)]
    assert layers[0] < layers[1], "the network's own rows keep their order"


def test_the_finder_works_with_a_finger(phone, app_server):
    """A small model trained through the CLI into the server's store; the page finds it from its
    URL, reads a typed text, and two taps select a span that the finder ranks units for."""
    import os
    import subprocess
    import sys

    from tests.e2e.conftest import REPO

    settings = {"units": 32, "steps": 20, "window": 16, "batch_size": 16}
    subprocess.run([sys.executable, "-m", "core.train", "charlstm",
                    *[f"--set={k}={v}" for k, v in settings.items()]], cwd=REPO, check=True, capture_output=True,
                   env={**os.environ, "DLP_CACHE_DIR": str(app_server.cache), "DLP_BUNDLED": "0"})
    open_page(phone, "text?text_preset=Quick&" + "&".join(f"text_{k}_quick={v}" for k, v in settings.items()),
              wait_for_text="3 · Write")
    phone.get_by_text("your own text", exact=True).tap()
    wait_until_idle(phone)
    box = phone.get_by_role("textbox", name="Your text").last
    box.fill("MENENIUS: what work's, my countrymen?")
    box.press("Control+Enter")
    wait_until_idle(phone)
    chars = phone.locator('.dlp-strips:has(.dlp-strips-char) .dlp-strips-char')
    chars.first.wait_for()
    chars.nth(0).tap()  # the same character twice: a one-character span gets a sentence
    chars.nth(0).tap()
    phone.get_by_text("is too little to find a pattern").wait_for(timeout=120_000)
    wait_until_idle(phone)
    chars.nth(0).tap()  # "MENENIUS": its first character, then its last
    chars.nth(7).tap()
    phone.get_by_text("characters of the passage are inside").wait_for(timeout=120_000)
    wait_until_idle(phone)
    assert phone.get_by_text("Wherever 'MENENIUS' occurs in the passage.").count() == 1
    # Not in the held-out text: said, instead of a column of empty scores.
    assert phone.get_by_text("does not occur in the held-out text").count() == 1
    assert phone.locator('.dlp-strips:has(.dlp-marked) .dlp-strips-row').count() >= 2
    assert phone.locator('[data-testid="stException"]').count() == 0
    assert overflow(phone) <= 2, f"the Text page is wider than a phone's screen by {overflow(phone)} px"
    whole_page_screenshot(phone, "phone-text-finder")


OVERLAPS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(p => {
    const box = el => el ? el.getBoundingClientRect() : null;
    const overlap = (a, b) => !!(a && b && a.width && b.width && a.left < b.right && b.left < a.right
                                 && a.top < b.bottom && b.top < a.bottom);
    const legend = box(p.querySelector('.legend')), title = box(p.querySelector('.gtitle'));
    const area = box(p.querySelector('.nsewdrag'));
    return {title: overlap(legend, title), data: overlap(legend, area), toolbar: !!p.querySelector('.modebar')};
})"""


def test_the_sequences_charts_keep_titles_and_legends_clear_on_a_phone(phone):
    open_page(phone, "text", wait_for_text="Text to learn from")
    phone.get_by_role("tab", name="Sequences").tap()
    phone.get_by_text("Noise", exact=True).first.wait_for()
    wait_until_idle(phone)
    steps = phone.get_by_role("spinbutton", name="Training steps", exact=True)
    steps.fill("60")
    steps.press("Enter")
    wait_until_idle(phone)
    phone.get_by_role("button", name="Train", exact=True).tap()
    phone.get_by_text("Forecast error (MSE)").wait_for(timeout=120_000)
    wait_until_idle(phone)
    settled(phone)
    charts = phone.evaluate(OVERLAPS_JS)
    assert len(charts) == 2 and not any(any(chart.values()) for chart in charts), charts
    assert overflow(phone) <= 2
    whole_page_screenshot(phone, "phone-text-sequences")


@pytest.mark.parametrize("path,heading", [
    ("", "Deep Learning Playground"), ("draw", "Draw"), ("playground", "Playground"),
    ("text", "Text"), ("embeddings", "Embeddings"), ("runs", "Runs"),
])
def test_every_page_fits_a_phone(phone, path, heading):
    open_page(phone, path)
    phone.get_by_role("heading", name=heading).first.wait_for(timeout=180_000)
    wait_until_idle(phone, timeout=120)
    settled(phone)
    assert phone.locator('[data-testid="stException"]').count() == 0
    name = f"phone-{path or 'home'}"
    screenshot(phone, name)
    whole_page_screenshot(phone, name + "-whole", max_height=6000)
    assert overflow(phone) <= 2, f"{path or 'home'} is wider than a phone's screen by {overflow(phone)} px"


SENT_JS = """() => {  // note every picture the page encodes (Draw's canvas sends its pictures as PNG data URLs)
    window.__dlpSent = [];
    if (window.__dlpSentWrapped) return;
    window.__dlpSentWrapped = true;
    const encode = HTMLCanvasElement.prototype.toDataURL;
    HTMLCanvasElement.prototype.toDataURL = function (...args) {
        const url = encode.apply(this, args);
        window.__dlpSent.push({width: this.width, height: this.height, url});
        return url;
    };
}"""


def test_on_a_phone_the_canvas_fills_its_column_and_still_draws_in_its_own_coordinates(phone):
    """The canvas takes (nearly) the column's whole width on a phone instead of 280 px with an empty
    band beside it, square, with a sharp backing store; a finger stroke across it still draws in the
    canvas's 280 × 280 coordinates: the picture sent is 280 px with the stroke where the finger went
    and 22 px thick (the slider's width), and the digit is read."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    open_trained_draw(phone)
    if prediction(phone) != "–":
        clear(phone)
    box = canvas_box(phone)
    shape = phone.locator("canvas.dlp-digit-canvas").evaluate("""el => ({
        column: el.closest('[data-testid="stColumn"]').getBoundingClientRect().width,
        backing: [el.width, el.height], ratio: window.devicePixelRatio})""")
    assert box["width"] >= 0.9 * shape["column"], f"the canvas is {box['width']} px of a {shape['column']}-px column"
    assert abs(box["width"] - box["height"]) <= 1, f"the canvas is not square: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"the canvas does not fit: {box}"
    assert shape["backing"] == [round(box["width"] * shape["ratio"])] * 2, shape  # sharp, not stretched
    phone.evaluate(SENT_JS)
    finger_stroke(phone, box, one())
    phone.wait_for_function(PREDICTED_JS, timeout=30_000)
    wait_until_idle(phone)
    assert prediction(phone) == "1"
    screenshot(phone, "phone-draw-wide-canvas")
    sent = phone.evaluate("() => window.__dlpSent")
    final = [picture for picture in sent if picture["width"] == 280]
    assert final and all(picture["width"] in (140, 280) and picture["height"] == picture["width"]
                         for picture in sent), [(p["width"], p["height"]) for p in sent]
    raw = base64.b64decode(final[-1]["url"].split(",", 1)[1])
    ink = np.asarray(Image.open(io.BytesIO(raw)).convert("L")) > 127
    rows = np.flatnonzero(ink.any(axis=1))
    # one(): from (0.52, 0.2) to (0.48, 0.8) of the canvas, i.e. rows 56..224 of 280, plus the pen's round ends.
    assert abs(rows[0] - (56 - 11)) <= 4 and abs(rows[-1] - (224 + 11)) <= 4, (rows[0], rows[-1])
    thickness = ink[140].sum()
    assert 18 <= thickness <= 27, f"a 22-px pen drew a {thickness}-px line"
