"""Driving the app's pages in Chromium (Playwright): what the e2e tests and the browser benchmarks share.

Pen strokes on Draw's canvas in canvas-relative coordinates (0..1), the digits they draw, reading the
Prediction, and counting the points on the Embeddings map.
"""
from __future__ import annotations

import math
import time

from tools.browser import wait_until_idle

DIGIT_CANVAS = "canvas.dlp-digit-canvas"  # views/components/digit_canvas
#: True once the Prediction metric shows a digit (not "–").
PREDICTED_JS = """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
                   .some(m => m.innerText.includes('Prediction') && !m.innerText.includes('–'))"""
#: True once the Prediction metric shows "–" (nothing drawn).
CLEARED_JS = """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
                 .some(m => m.innerText.includes('Prediction') && m.innerText.includes('–'))"""
#: How many points the page's map shows (Plotly keeps typed arrays under _inputArray).
MAP_POINTS_JS = """() => { const p = document.querySelector('.js-plotly-plot'); if (!p || !p.data) return 0;
  const size = a => a ? (a._inputArray ? a._inputArray.length : a.length) : 0;
  return p.data.filter(t => !(t.name || '').startsWith('chosen')).reduce((n, t) => n + size(t.x), 0); }"""


def zero(cx=0.5, cy=0.5, r=0.3):
    return [(cx + r * 0.7 * math.sin(t / 24 * 2 * math.pi), cy - r * math.cos(t / 24 * 2 * math.pi))
            for t in range(25)]


def one(cx=0.5, cy=0.5, r=0.3):
    return [(cx + 0.02, cy - r), (cx, cy), (cx - 0.02, cy + r)]


def seven(cx=0.5, cy=0.5, r=0.3):
    return [(cx - r * 0.8, cy - r), (cx + r * 0.8, cy - r), (cx + r * 0.1, cy + 0.1 * r), (cx - r * 0.2, cy + r)]


def canvas_box(page):
    """Where the canvas is on the screen, scrolled to the middle of it: at the top edge, where a
    plain scroll-into-view leaves it, Streamlit's fixed header covers its upper part and takes
    the pointer (on a phone, a whole stroke). Measured after the browser has painted the scroll."""
    canvas = page.locator(DIGIT_CANVAS)
    canvas.wait_for()
    canvas.evaluate("""el => new Promise(done => { el.scrollIntoView({block: 'center'});
                           requestAnimationFrame(() => requestAnimationFrame(done)); })""")
    return canvas.bounding_box()


def stroke(page, box, points) -> float:
    """One pen stroke through canvas-relative points (0..1); returns the moment of mouse-up."""
    x0, y0 = box["x"], box["y"]
    w, h = box["width"], box["height"]
    page.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * w, y0 + y * h, steps=4)
    released = time.perf_counter()
    page.mouse.up()
    return released


def prediction(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def clear(page) -> None:
    """Press Draw's Clear and wait for an empty Prediction and a fresh canvas, ready for a stroke
    (the component attaches its pointer handlers before it puts the canvas in the page)."""
    old_canvas = page.locator(DIGIT_CANVAS).element_handle()
    page.locator('[data-testid="stButton"]').get_by_role("button", name="Clear").click()
    page.wait_for_function(CLEARED_JS)
    page.wait_for_function("el => !el.isConnected", arg=old_canvas)  # a fresh canvas replaced it
    wait_until_idle(page)
    page.locator(DIGIT_CANVAS).wait_for()


def train_or_read(page) -> None:
    """Wait until the page offers "Train Fast CNN" or already reads (another test may have trained
    it), train if asked, and wait for the Prediction. (Counting the button at once raced a slow
    first run: the page had not drawn it yet, nothing was trained, and the wait timed out.)"""
    train = page.get_by_role("button", name="Train Fast CNN")
    reading = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first
    train.or_(reading).first.wait_for(timeout=180_000)
    if train.count():
        train.click()
    reading.wait_for(timeout=300_000)  # a training under load
    wait_until_idle(page)
