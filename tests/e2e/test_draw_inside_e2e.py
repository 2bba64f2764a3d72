"""Draw part B in a real browser, with a mouse at desktop width and a finger at phone width: a
click (or tap) on a feature-map cell shows that cell computed to the value the map holds, and
"Make it say 1" on a drawn 7 flips the Fast CNN and shows the change."""
from __future__ import annotations

import re

from tests.e2e.conftest import open_page, screenshot, wait_until_idle
from tests.e2e.test_draw_e2e import canvas_box, clear, prediction, seven, show, stroke, trained_page  # noqa: F401
from tests.e2e.test_phone_e2e import finger_stroke, phone, whole_page_screenshot  # noqa: F401

NUMBER = r"−?\d+\.\d{4}"


def cell_values(page) -> tuple[str, float, float, float]:
    """The detail view's heading, its value, the hand-computed value and Keras' value."""
    heading = page.locator("h5").filter(has_text=re.compile(r"map \d+, row \d+, column \d+")).first.inner_text()
    closing = page.get_by_text("Computed by hand").first.inner_text()
    by_hand, by_keras = (float(v.replace("−", "-")) for v in re.findall(NUMBER, closing))
    shown = float(re.findall(NUMBER, heading)[-1].replace("−", "-"))
    return heading, shown, by_hand, by_keras


def press(page, locator, touch: bool) -> None:
    locator.scroll_into_view_if_needed()
    locator.tap() if touch else locator.click()


def pick(page, locator, u: float, v: float, touch: bool) -> None:
    """Click or tap at (u, v) inside an element (fractions of its width and height)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + u * box["width"], box["y"] + v * box["height"]
    page.touchscreen.tap(x, y) if touch else page.mouse.click(x, y)


def a_cell_computed(page, touch: bool) -> None:
    show(page, "A look inside", "Click or tap a cell")
    page.locator(".dlp-map-tile").first.wait_for()
    conv2 = page.locator(".dlp-map-picker").nth(1).locator(".dlp-map-tile").nth(3)
    pick(page, conv2, 0.6, 0.4, touch)
    page.get_by_text("Computed by hand").first.wait_for(timeout=60_000)
    wait_until_idle(page)
    heading, shown, by_hand, by_keras = cell_values(page)
    assert "conv2, map 3" in heading, heading
    assert shown == by_hand == by_keras, (heading, by_hand, by_keras)
    # Another cell, picked on the enlarged map.
    enlarged = page.locator(".dlp-map-tile img[alt$='enlarged: map 0']").locator("..")
    pick(page, enlarged, 0.05, 0.95, touch)
    page.locator("h5").filter(has_text="row 5, column 0").first.wait_for(timeout=60_000)
    wait_until_idle(page)
    heading, shown, by_hand, by_keras = cell_values(page)
    assert "conv2, map 3, row 5, column 0" in heading, heading
    assert shown == by_hand == by_keras, (heading, by_hand, by_keras)


def make_it_say_one(page, touch: bool) -> str:
    show(page, "Make it fail", "Make it say …")
    pills = page.locator('[data-testid="stButtonGroup"]').filter(has_text="anything else")
    press(page, pills.get_by_role("radio", name="1", exact=True), touch)
    wait_until_idle(page)
    press(page, page.get_by_role("button", name="Make it say 1"), touch)
    page.get_by_text("now reads").or_(page.get_by_text("did not make it say")).first.wait_for(timeout=60_000)
    wait_until_idle(page)
    return page.locator('[data-testid="stAlert"]').filter(has_text="Fast CNN").first.inner_text()


def test_with_a_mouse(trained_page):  # noqa: F811
    page = trained_page
    if prediction(page) != "7":
        if prediction(page) != "–":
            clear(page)
        stroke(page, canvas_box(page), seven())
        page.wait_for_timeout(1000)
        wait_until_idle(page)
    assert prediction(page) == "7"
    a_cell_computed(page, touch=False)
    screenshot(page, "draw-inside-cell")
    outcome = make_it_say_one(page, touch=False)
    assert "Fast CNN now reads 1" in outcome, outcome
    assert page.get_by_text("the change, amplified").first.is_visible()
    screenshot(page, "draw-make-it-fail")


def test_with_a_finger_at_phone_width(trained_page, phone):  # noqa: F811 (trained: by the mouse test)
    page = phone
    open_page(page, "draw?limit=12000", wait_for_text="Prediction")
    finger_stroke(page, canvas_box(page), seven())
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
               .some(m => m.innerText.includes('Prediction') && /\\b7\\b/.test(m.innerText))""", timeout=60_000)
    wait_until_idle(page)
    a_cell_computed(page, touch=True)
    whole_page_screenshot(page, "phone-draw-inside-cell")
    outcome = make_it_say_one(page, touch=True)
    assert "Fast CNN now reads 1" in outcome, outcome
    whole_page_screenshot(page, "phone-draw-make-it-fail")
