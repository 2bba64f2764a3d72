"""The app on a phone: 390 × 844, touch only. A digit drawn with a finger is read; no page is wider
than the screen; screenshots of every page at phone width (tests/e2e/screenshots/phone-*.png)."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, open_page, screenshot, wait_until_idle
from tools.browser import settled
from tools.drive import PREDICTED_JS, canvas_box, clear, one, prediction, seven

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


def whole_page_screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its own container, which a full-page screenshot
    does not unroll, so the viewport is made as tall as the content for one picture."""
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return main ? main.scrollHeight : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": PHONE["width"], "height": min(max(height, PHONE["height"]), 6000)})
    settled(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(PHONE)


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


def test_a_digit_drawn_with_a_finger_is_read(phone):
    open_page(phone, "draw?limit=12000", wait_for_text="Networks")
    train = phone.get_by_role("button", name="Train Fast CNN")
    if train.count():
        train.click()
    phone.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for(timeout=180_000)
    wait_until_idle(phone)
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
    whole_page_screenshot(phone, name + "-whole")
    assert overflow(phone) <= 2, f"{path or 'home'} is wider than a phone's screen by {overflow(phone)} px"
