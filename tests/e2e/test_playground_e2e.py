"""Playground in a real browser: Play makes the Epoch metric rise and the output change; + adds a layer."""
from __future__ import annotations

import time

from tests.e2e.conftest import SCREENSHOTS, open_page, screenshot, wait_until_idle


def epoch(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Epoch").first
    return int(metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def output_image(page) -> str:
    return page.locator("[data-output-map] img").first.get_attribute("src")


def test_play_trains_and_redraws_then_a_layer_can_be_added(page):
    open_page(page, "playground", wait_for_text="Output")
    page.locator("[data-layers]").first.wait_for()
    assert epoch(page) == 0
    before_picture = output_image(page)
    screenshot(page, "playground-start")

    page.get_by_role("button", name="Play").click()
    page.wait_for_function(  # the first frame also traces the TensorFlow graph
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
               .some(m => m.innerText.includes('Epoch') && !/^\\s*Epoch\\s*0\\s*$/.test(m.innerText))""")
    seen, updates, last, started = set(), 0, None, time.time()
    while time.time() - started < 6:
        value = epoch(page)
        if value != last:
            updates, last = updates + 1, value
        seen.add(value)
        time.sleep(0.05)
    frames_per_second = (updates - 1) / (time.time() - started)
    (SCREENSHOTS / "playground-fps.txt").write_text(
        f"Epoch metric updates seen by the browser while playing: {frames_per_second:.1f} per second\n")
    assert max(seen) > min(seen) > 0, f"epochs seen: {sorted(seen)}"
    assert output_image(page) != before_picture
    screenshot(page, "playground-playing")
    page.get_by_role("button", name="Pause").click()
    wait_until_idle(page)

    layers_before = int(page.locator("[data-layers]").first.get_attribute("data-layers"))
    page.locator(".st-key-pg-add-layer button").first.click()
    page.wait_for_function(
        f"() => document.querySelector('[data-layers]') && "
        f"Number(document.querySelector('[data-layers]').dataset.layers) === {layers_before + 1}")
    assert page.get_by_text(f"{layers_before - 1} hidden layers").count() == 1
    assert epoch(page) == 0  # a new network starts from scratch
    screenshot(page, "playground-added-layer")


def test_link_carries_the_whole_setup(page):
    open_page(page, "playground?dataset=xor&hidden=3&features=x,y,xTimesY&learning_rate=0.1", wait_for_text="Output")
    page.locator("[data-layers]").first.wait_for()
    assert page.locator("[data-layers]").first.get_attribute("data-layers") == "3"
    assert page.get_by_text("1 hidden layer", exact=True).count() == 1
    screenshot(page, "playground-from-link")


def network_picture(page) -> str:
    return page.locator("[data-layers] img").first.get_attribute("src")  # the links, drawn from the weights


def test_reset_draws_new_weights_and_its_link_starts_from_them(page):
    open_page(page, "playground", wait_for_text="Output")
    page.locator("[data-layers]").first.wait_for()
    first = network_picture(page)
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("() => location.search.includes('weight_seed=')")
    wait_until_idle(page)
    after_reset = network_picture(page)
    assert after_reset != first, "Reset draws new weights"
    assert epoch(page) == 0
    link = page.url
    open_page(page, link.split("/", 3)[3], wait_for_text="Output")  # a fresh session from the copied link
    page.locator("[data-layers]").first.wait_for()
    assert network_picture(page) == after_reset, "the link starts from the weights Reset drew"
