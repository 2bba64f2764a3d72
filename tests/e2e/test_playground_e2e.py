"""Playground in a real browser: Play makes the Epoch rise and the output picture change, Pause stops
both, and + adds a layer while playing; the link survives a page switch and a bad value in it keeps
the rest; a click anywhere on the map of your own points adds a point there; the + and − buttons
have names a screen reader can say. The pictures are drawn by the browser from frames."""
from __future__ import annotations

import re
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import open_page, screenshot, wait_until_idle
from tools.browser import steady

# A fingerprint of the output map's pixels, computed in the page.
OUTPUT_PIXELS = """() => { const c = document.querySelector('[data-output-map] canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0;
  for (let i = 0; i < d.length; i += 61) h = (h * 31 + d[i]) | 0; return h; }"""
ORANGE = [245, 147, 34]  # a point of class 0 (the playground's −1)


def epoch(page) -> int:
    return int(page.locator(".pg-epoch-value").first.inner_text().replace(",", ""))


LOST_CLICK_SECONDS = 15  # the controls answer in ~0.2-0.8 s; a lost click never does


def click_while_playing(page, button, done_js: str) -> None:
    """Click a control while playing and wait until ``done_js`` holds."""
    button.click()
    try:
        page.wait_for_function(done_js, timeout=LOST_CLICK_SECONDS * 1000)
    except PlaywrightTimeout:
        screenshot(page, "playground-lost-click")
        raise AssertionError(f"a click while playing was not acted on within {LOST_CLICK_SECONDS} s") from None


def layers(page) -> int:
    return int(page.locator("[data-layers]").first.get_attribute("data-layers"))


def test_play_trains_and_redraws_pause_stops_and_a_layer_can_be_added_while_playing(page):
    warnings = []
    page.on("console", lambda message: warnings.append(message.text) if "fragmentId" in message.text else None)
    open_page(page, "playground", wait_for_text="Output")
    page.locator("[data-output-map] canvas").first.wait_for()
    page.locator("[data-layers]").first.wait_for()
    assert epoch(page) == 0
    before = page.evaluate(OUTPUT_PIXELS)
    screenshot(page, "playground-start")

    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.querySelector('.pg-epoch-value').textContent"
                           ".replace(/,/g, '')) > 0", timeout=120_000)  # the first frame may trace the graph
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
    click_while_playing(page, page.get_by_role("button", name="Add a hidden layer"),
                        f"() => Number(document.querySelector('[data-layers]').dataset.layers) === "
                        f"{layers_before + 1}")
    assert page.get_by_text(f"{layers_before - 1} hidden layers").count() == 1
    page.get_by_role("button", name="Play").wait_for()  # a new network starts paused, from scratch
    page.wait_for_function("() => document.querySelector('.pg-epoch-value').textContent === '0'")
    screenshot(page, "playground-added-layer")
    assert not warnings, f"Streamlit merged a click with the pictures' ask for frames: {warnings}"


def test_the_plus_and_minus_buttons_have_names(page):
    open_page(page, "playground", wait_for_text="Output")
    # The CSS that hides their labels comes with the pictures' component: measure once it is mounted.
    page.locator("[data-layers]").first.wait_for()
    names = ["Add a hidden layer", "Remove the last hidden layer", "One more neuron in layer 1",
             "One neuron fewer in layer 1", "One more neuron in layer 2", "One neuron fewer in layer 2"]
    for name in names:
        button = page.get_by_role("button", name=name, exact=True)
        button.wait_for()
        assert button.bounding_box()["width"] < 60, f"{name}: the label is for screen readers, the icon shows"
    assert page.get_by_role("button", name=re.compile("icon$")).count() == 0


def test_link_carries_the_whole_setup_and_survives_a_page_switch(page):
    open_page(page, "playground?dataset=xor&hidden=3&features=x,y,xTimesY&learning_rate=0.1", wait_for_text="Output")
    page.locator("[data-layers]").first.wait_for()
    assert layers(page) == 3 and page.get_by_text("1 hidden layer", exact=True).count() == 1
    screenshot(page, "playground-from-link")
    page.get_by_role("button", name="Play").click()  # (leaving while it plays: no frame is asked for after)
    page.wait_for_function("() => Number(document.querySelector('.pg-epoch-value').textContent"
                           ".replace(/,/g, '')) > 0", timeout=120_000)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for _ in range(2):
        nav.get_by_text("Runs", exact=True).click()
        page.get_by_role("heading", name="Runs").first.wait_for()
        wait_until_idle(page)
        nav.get_by_text("Playground", exact=True).click()
        page.locator("[data-layers]").first.wait_for()
        page.wait_for_function("() => location.search.includes('dataset=xor')")
        for part in ("dataset=xor", "hidden=3", "features=x%2Cy%2CxTimesY", "learning_rate=0.1"):
            assert part in page.url, (part, page.url)
        assert layers(page) == 3
        shown = epoch(page)
        page.wait_for_function(f"() => Number(document.querySelector('.pg-epoch-value').textContent"
                               f".replace(/,/g, '')) > {shown}")  # it plays on
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_bad_link_value_is_noted_and_the_rest_of_the_link_kept(page):
    open_page(page, "playground?dataset=xor&noise=1000&train_ratio=70", wait_for_text="Output")
    page.get_by_text("noise=1000 is outside 0–50").wait_for()
    page.wait_for_function("() => location.search.includes('noise=50')")
    assert "dataset=xor" in page.url and "train_ratio=70" in page.url
    assert page.get_by_role("radio", name="Exclusive or").is_checked()
    screenshot(page, "playground-bad-link")


def map_pixel(page, u: float, v: float) -> list[int]:
    return page.evaluate("""([u, v]) => { const c = document.querySelector('.pg-pick canvas');
        return [...c.getContext('2d').getImageData(Math.floor(u * c.width), Math.floor(v * c.height), 1, 1).data]
          .slice(0, 3); }""", [u, v])


def test_a_click_anywhere_on_the_map_of_your_own_points_adds_a_point_there(page):
    open_page(page, "playground?dataset=custom", wait_for_text="Your own points")
    canvas = page.locator(".pg-pick canvas")
    canvas.wait_for()
    column = page.locator('[data-testid="stColumn"]').filter(has=canvas).last.bounding_box()
    box = canvas.bounding_box()
    assert column["x"] <= box["x"] and box["x"] + box["width"] <= column["x"] + column["width"] + 0.5, \
        f"the map ({box}) fits its column ({column})"
    spots = [(0.995, 0.5), (0.5, 0.5), (0.005, 0.005), (0.995, 0.995), (0.2, 0.8), (0.8, 0.15)]
    for count, (u, v) in enumerate(spots, 1):
        box = canvas.bounding_box()
        x, y = box["x"] + u * box["width"], box["y"] + v * box["height"]
        assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", [x, y]) == "CANVAS"
        page.mouse.click(x, y)
        page.wait_for_function(f"() => document.querySelector('[data-output-map]').parentElement"
                               f".dataset.points === '{count}'", timeout=30_000)
        wait_until_idle(page)
        assert map_pixel(page, u, v) == ORANGE, f"a point of class 0 at {(u, v)}"
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "playground-own-points")
