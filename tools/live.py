"""Watching Draw read while the pen moves (Playwright): a stroke paced like a hand's, and what the page
showed during it and after the pen lifted. The e2e tests and benchmarks/bench_draw_live.py share it.

The page is watched from inside the browser: a MutationObserver notes every new text of the
Prediction's caption ("Fast CNN · confidence 93.1% · reading as you draw", the last words only while
the pen is down) with ``performance.now()``, and pointer listeners note the pen going down and up, so
the times are the browser's own, free of Playwright's round trips.
"""
from __future__ import annotations

import time

WATCH_JS = """() => {
  window.__dlpReadings = {changes: [], down: null, up: null, last: null};
  if (window.__dlpWatching) return;  // listeners are installed once per page load
  window.__dlpWatching = true;
  const note = () => window.__dlpReadings;
  const caption = () => {
    for (const el of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
      if (el.innerText.includes('· confidence')) return el.innerText;
    }
    return null;
  };
  new MutationObserver(() => {
    const text = caption();
    if (text !== null && text !== note().last) { note().last = text; note().changes.push([performance.now(), text]); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  for (const kind of ['pointerdown', 'touchstart']) document.addEventListener(kind, () => { note().down = performance.now(); }, true);
  for (const kind of ['pointerup', 'touchend']) document.addEventListener(kind, () => { note().up = performance.now(); }, true);
}"""
LIVE_WORDS = "reading as you draw"


def watch(page) -> None:
    """Start (or restart) noting the Prediction's caption and the pen's moments."""
    page.evaluate(WATCH_JS)


def resample(points: list[tuple[float, float]], count: int) -> list[tuple[float, float]]:
    """``count`` points evenly spaced along a polyline (so a paced stroke moves at an even speed)."""
    import numpy as np

    array = np.asarray(points, dtype=float)
    lengths = np.r_[0, np.cumsum(np.linalg.norm(np.diff(array, axis=0), axis=1))]
    where = np.linspace(0, lengths[-1], count)
    return list(zip(np.interp(where, lengths, array[:, 0]), np.interp(where, lengths, array[:, 1])))


def paced_stroke(page, box, points, seconds: float = 2.0, touch: bool = False, rate: int = 60) -> None:
    """One stroke through canvas-relative points (0..1) lasting about ``seconds``, ``rate`` moves a
    second, with the mouse or (``touch``) a finger."""
    path = resample(points, max(2, int(seconds * rate)))
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    cdp = page.context.new_cdp_session(page) if touch else None

    def move(kind: str, x: float | None = None, y: float | None = None) -> None:
        if cdp is not None:
            spot = [] if x is None else [{"x": x0 + x * w, "y": y0 + y * h}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": spot})
        elif kind == "touchStart":
            page.mouse.move(x0 + x * w, y0 + y * h)
            page.mouse.down()
        elif kind == "touchMove":
            page.mouse.move(x0 + x * w, y0 + y * h)
        else:
            page.mouse.up()

    started = time.perf_counter()
    move("touchStart", *path[0])
    for index, (x, y) in enumerate(path[1:], 1):
        pause = started + index / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        move("touchMove", x, y)
    move("touchEnd")
    if cdp is not None:
        cdp.detach()


def readings(page, timeout_s: float = 10.0) -> dict:
    """What the page showed for the last stroke: ``updates`` (new readings while the pen was down),
    ``stroke_s`` (how long it was down), ``final_ms`` (pen-up to the reading of the whole drawing, None
    if it never came) and ``texts`` (the captions in order)."""
    deadline = time.time() + timeout_s
    while True:
        seen = page.evaluate("() => window.__dlpReadings")
        after = [(t, text) for t, text in seen["changes"] if seen["up"] is not None and t >= seen["up"]]
        final = next((t for t, text in after if LIVE_WORDS not in text), None)
        if final is not None or time.time() > deadline:
            break
        time.sleep(0.05)
    down, up = seen["down"], seen["up"]
    during = [text for t, text in seen["changes"] if down is not None and up is not None and down <= t <= up]
    return {"updates": len(during), "stroke_s": (up - down) / 1000 if down and up else 0.0,
            "final_ms": None if final is None else final - up, "texts": [text for _, text in seen["changes"]]}
