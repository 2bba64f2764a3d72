"""Draw read while you draw: readings seen per second during a 2-second stroke, and pen-up to the reading
of the whole drawing, against the same page in its pen-up-only mode (``?draw_live=false``, how Draw read
before: one reading when the pen lifts), in one run, on one server.

One fresh server with the bundled Fast CNN, one headless Chromium page at desktop size; strokes alternate
between the two modes on the same page (Clear between strokes). Each stroke draws a digit from
tools/strokes.py with the mouse, 60 moves a second for 2 s. Inside the browser, a MutationObserver notes
each new text of the Prediction's caption and pointer listeners the pen's moments (tools/live.py), so the
times are the browser's own. "Readings during the stroke" counts new readings shown while the pen was
down, divided by the time it was down; the final reading is the first one after pen-up that is not marked
"reading as you draw" (the pen-up-only mode shows only that one). Medians over the strokes.
"""
from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.harness import Result
from tools.browser import CHROMIUM_ARGS, chromium_path, start_app, stop_app, wait_until_idle
from tools.drive import canvas_box, clear
from tools.live import paced_stroke, readings, watch
from tools.strokes import digit_strokes

STROKE_S = 2.0


def one_stroke(page, digit: int, rng) -> dict:
    if page.get_by_text("· confidence").count():
        clear(page)  # Draw's Clear (not the Networks picker's "Clear all"), then a fresh canvas
    watch(page)
    longest = max(digit_strokes(digit, rng), key=len)
    paced_stroke(page, canvas_box(page), longest, seconds=STROKE_S)
    seen = readings(page)
    wait_until_idle(page)
    return seen


def run(quick: bool = False) -> list[Result]:
    from playwright.sync_api import sync_playwright

    strokes = 4 if quick else 12
    rng = np.random.default_rng(0)
    measured = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="dlp-bench-live-") as folder, sync_playwright() as playwright:
        server = start_app(Path(folder) / "cache", extra_env={"DLP_BUNDLED": "1"})
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(180_000)
            page.goto(f"{server.url}/draw")
            page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for()
            wait_until_idle(page, timeout=120)
            for index in range(2 * (strokes + 1)):
                live = index % 2 == 0
                switch = page.get_by_role("switch", name="Read while drawing")
                if switch.is_checked() != live:
                    switch.click(force=True)
                    wait_until_idle(page)
                seen = one_stroke(page, int(rng.integers(10)), rng)
                if index >= 2:  # the first stroke in each mode warms the page up
                    measured[live].append(seen)
        finally:
            browser.close()
            stop_app(server)

    def rate(seen: dict) -> float:
        return seen["updates"] / seen["stroke_s"] if seen["stroke_s"] else 0.0

    def finals(mode: bool) -> list[float]:
        return [seen["final_ms"] for seen in measured[mode] if seen["final_ms"] is not None]

    live_rate, reference_rate = (statistics.median(rate(s) for s in measured[m]) for m in (True, False))
    live_final, reference_final = (statistics.median(finals(m) or [float("nan")]) for m in (True, False))
    missing = sum(seen["final_ms"] is None for mode in measured.values() for seen in mode)
    note = (f"{strokes} strokes of {STROKE_S:.0f} s per mode, alternating; readings during each live stroke: "
            f"{[s['updates'] for s in measured[True]]}; pen-up to final, live: "
            f"{[round(v) for v in finals(True)]} ms, pen-up only: {[round(v) for v in finals(False)]} ms"
            + (f"; {missing} strokes showed no final reading within 10 s" if missing else "")
            + ("; --quick: 4 strokes per mode" if quick else ""))
    return [
        Result("readings shown per second during a 2-s stroke (median)", live_rate, reference_rate, "/s",
               "≥ 5 per second (reference: the pen-up-only page)", live_rate >= 5, higher_is_better=True,
               note=note),
        Result("pen-up to the reading of the whole drawing (median)", live_final, reference_final, "ms",
               "≤ 150 ms (reference: the pen-up-only page)", live_final <= 150),
    ]
