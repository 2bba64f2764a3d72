"""Playground in a real browser: Play makes the Epoch rise and the output picture change, Pause stops
both, and + adds a layer while playing. The pictures are drawn by the browser from frames."""
from __future__ import annotations

import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import open_page, screenshot, wait_until_idle
from tools.browser import steady

# A fingerprint of the output map's pixels, computed in the page.
OUTPUT_PIXELS = """() => { const c = document.querySelector('[data-output-map] canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0;
  for (let i = 0; i < d.length; i += 61) h = (h * 31 + d[i]) | 0; return h; }"""


def epoch(page) -> int:
    return int(page.locator(".pg-epoch-value").first.inner_text().replace(",", ""))


LOST_CLICK_SECONDS = 15  # the controls answer in ~0.2-0.8 s; a lost click never does


def click_while_playing(page, button, done_js: str) -> None:
    """Click a control while playing and wait until ``done_js`` holds. Such a click was once lost
    about one time in twenty: Streamlit's browser side sent it together with the pictures' ask for
    frames as a run of the fragment alone (views/playground/page.py ``live`` now reruns the page then)."""
    button.click()
    try:
        page.wait_for_function(done_js, timeout=LOST_CLICK_SECONDS * 1000)
    except PlaywrightTimeout:
        screenshot(page, "playground-lost-click")
        raise AssertionError(f"a click while playing was not acted on within {LOST_CLICK_SECONDS} s") from None


def layers(page) -> int:
    return int(page.locator("[data-layers]").first.get_attribute("data-layers"))


def test_play_trains_and_redraws_pause_stops_and_a_layer_can_be_added_while_playing(page):
    open_page(page, "playground", wait_for_text="Output")
    page.locator("[data-output-map] canvas").first.wait_for()
    page.locator("[data-layers]").first.wait_for()
    assert epoch(page) == 0
    before = page.evaluate(OUTPUT_PIXELS)
    screenshot(page, "playground-start")

    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.querySelector('.pg-epoch-value').textContent"
                           ".replace(/,/g, '')) > 0", timeout=120_000)  # the first frame traces the graph
    seen, pictures = set(), set()
    started = time.time()
    while time.time() - started < 4:
        seen.add(epoch(page))
        pictures.add(page.evaluate(OUTPUT_PIXELS))
        time.sleep(0.1)
    assert len(seen) > 3 and min(seen) > 0, f"epochs seen while playing: {sorted(seen)}"
    assert len(pictures) > 3 and before not in pictures, "the output picture keeps changing"
    screenshot(page, "playground-playing")

    click_while_playing(page, page.get_by_role("button", name="Pause"),
                        "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim().endsWith('Play'))")
    wait_until_idle(page)
    assert steady(page, "document.querySelector('.pg-epoch-value').textContent"), "the Epoch counter goes on"
    paused_epoch, paused_picture = epoch(page), page.evaluate(OUTPUT_PIXELS)
    time.sleep(1.5)  # not a wait for something: the stretch of time in which nothing may change
    assert epoch(page) == paused_epoch, "Pause stops the training"
    assert page.evaluate(OUTPUT_PIXELS) == paused_picture, "and the picture"

    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => Number(document.querySelector('.pg-epoch-value').textContent"
                           f".replace(/,/g, '')) > {paused_epoch}")
    layers_before = layers(page)
    click_while_playing(page, page.locator(".st-key-pg-add-layer button").first,
                        f"() => Number(document.querySelector('[data-layers]').dataset.layers) === "
                        f"{layers_before + 1}")
    assert page.get_by_text(f"{layers_before - 1} hidden layers").count() == 1
    page.get_by_role("button", name="Play").wait_for()  # a new network starts paused, from scratch
    page.wait_for_function("() => document.querySelector('.pg-epoch-value').textContent === '0'")
    screenshot(page, "playground-added-layer")


def test_link_carries_the_whole_setup(page):
    open_page(page, "playground?dataset=xor&hidden=3&features=x,y,xTimesY&learning_rate=0.1", wait_for_text="Output")
    page.locator("[data-layers]").first.wait_for()
    assert page.locator("[data-layers]").first.get_attribute("data-layers") == "3"
    assert page.get_by_text("1 hidden layer", exact=True).count() == 1
    screenshot(page, "playground-from-link")
