"""Playground as Chromium sees it: pictures and epochs per second while playing (one player, and each
of two players on one server), how long each control takes to show its effect, and the server's
memory growth per frame over a long Play. The reference is the Playground before the issue-35 rewrite
(the app at BASELINE, exported from git into a temporary folder and served the same way, in the same
run).

Controls are clicked with real pointer events and timed inside the page, from the pointerdown to the
first animation frame that shows the result: Pause and + layer while playing; Step, an added point of
your own and + layer while paused (medians of several; the first Step of a fresh session included);
and the first Step on a newly started server, clicked as soon as its first page has finished running
(the worst case: the network's program may still be tracing). Each control is timed again while a
second player plays on the same server.

A picture update is a change of the output map's pixels, sampled on every animation frame inside the
page, so Playwright's own round trips do not limit what is counted. Goals (issues 20 and 35): ≥ 20
pictures/s and ≥ 150 epochs/s with one player, ≥ 10 pictures/s each with two, every control within
300 ms with one player, the two-player latencies reported, and < 10 kB of server growth per frame.
"""
from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.harness import Result
from tools.browser import CHROMIUM_ARGS, REPO, chromium_path, start_app, stop_app, wait_until_idle

BASELINE = "592db14"  # main just before the rewrite: Python pictures for AppTest, point picker, loose keys

# Runs in the page: counts what the browser shows, on every animation frame.
COUNTER = """() => {
  const seen = window.__pgSeen = {pictures: 0, epochs: []};
  let lastPicture = null, lastEpoch = null;
  const picture = () => {
    const canvas = document.querySelector('[data-output-map] canvas');
    if (!canvas) return null;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let hash = 0;
    for (let i = 0; i < pixels.length; i += 97) hash = (hash * 31 + pixels[i]) | 0;
    return hash;
  };
  const tick = () => {
    const p = picture(), live = document.querySelector('.pg-epoch-value'), e = live ? live.textContent : null;
    if (p !== null && p !== lastPicture) { seen.pictures++; lastPicture = p; }
    if (e !== null && e !== lastEpoch) { seen.epochs.push(Number(e.replace(/,/g, ''))); lastEpoch = e; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""

# Arms a timer in the page: from the next pointerdown to the first animation frame where ``done``
# (a function body) holds; window.__pgTimed resolves to the milliseconds, or -1 after 10 s.
ARM = """(done) => { const test = new Function(done);
  window.__pgTimed = new Promise((resolve) => {
    const start = () => {
      window.removeEventListener('pointerdown', start, true);
      const began = performance.now();
      const poll = () => {
        if (test()) resolve(performance.now() - began);
        else if (performance.now() - began > 10000) resolve(-1);
        else requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    };
    window.addEventListener('pointerdown', start, true);
  }); }"""
LABEL_IS = "return [...document.querySelectorAll('button')].some(b => b.innerText.trim().endsWith('{}'))"
EPOCH = "Number((document.querySelector('.pg-epoch-value') || {textContent: '-1'}).textContent.replace(/,/g, ''))"
LAYERS = "(document.querySelector('[data-layers]') || {dataset: {}}).dataset.layers"
# Your own points on the map: today's canvas counts them; the baseline's picture changes its source.
MAP = ".pg-pick canvas, img.dlp-point-picker"
MAP_STATE = ("const c = document.querySelector('.pg-pick canvas'); if (c) return c.closest('.pg-live').dataset.points;"
             " const i = document.querySelector('img.dlp-point-picker'); return i ? i.src.slice(-64) : null;")
ADD_LAYER = ".st-key-pg_add_layer button, .st-key-pg-add-layer button"


def baseline_app(folder: Path) -> Path:
    """The app at BASELINE, exported into ``folder``; its app.py."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BASELINE], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "app.py"


def open_playground(browser, url: str, query: str = ""):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{url}/playground{query}")
    page.locator("[data-output-map], " + MAP).first.wait_for(timeout=180_000)
    wait_until_idle(page, timeout=120)
    return page


def timed(page, click, done: str) -> float:
    """Milliseconds from pressing (``click()`` does it with real pointer events) to ``done`` holding."""
    page.evaluate(ARM, done)
    click()
    return page.evaluate("() => window.__pgTimed")


def press(page, text: str, done: str) -> float:
    button = page.locator("button").filter(has_text=text).first
    return timed(page, button.click, done)


def start_playing(page) -> None:
    page.locator("button").filter(has_text="Play").first.wait_for(timeout=60_000)
    press(page, "Play", LABEL_IS.format("Pause"))
    page.wait_for_function(f"() => {EPOCH} > 0", timeout=120_000)


def first_step_of_a_new_server(browser, url: str) -> float:
    """The first Step of the first session of a server that has just started, as soon as its page ran."""
    page = open_playground(browser, url)
    ms = press(page, "Step", f"return {EPOCH} === 1")
    page.context.close()
    return ms


def play_figures(browser, url: str, players: int, seconds: float) -> dict:
    """Pictures/s and epochs/s per player (means over the players), and Pause and + layer while playing."""
    pages = [open_playground(browser, url) for _ in range(players)]
    for page in pages:
        start_playing(page)
    time.sleep(2.0)  # past the first frames
    for page in pages:
        page.evaluate(COUNTER)
    started = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - started
    seen = [page.evaluate("() => window.__pgSeen") for page in pages]
    figures = {
        "pictures": statistics.mean(s["pictures"] / elapsed for s in seen),
        "epoch_values": statistics.mean(len(s["epochs"]) / elapsed for s in seen),
        "epochs": statistics.mean((s["epochs"][-1] - s["epochs"][0]) / elapsed if len(s["epochs"]) > 1 else 0.0
                                  for s in seen),
    }
    page = pages[0]
    figures["pause_ms"] = press(page, "Pause", LABEL_IS.format("Play"))
    time.sleep(1.0)
    after = page.evaluate("() => [window.__pgSeen.pictures, window.__pgSeen.epochs.length]")
    time.sleep(1.5)
    figures["still_after_pause"] = page.evaluate("() => [window.__pgSeen.pictures, window.__pgSeen.epochs.length]") \
        == after
    figures["play_ms"] = press(page, "Play", LABEL_IS.format("Pause"))
    time.sleep(1.0)
    before = page.evaluate(f"() => {LAYERS}")
    figures["add_layer_ms"] = timed(page, page.locator(ADD_LAYER).first.click, f"return ({LAYERS}) !== '{before}'")
    for page in pages:
        page.context.close()
    return figures


def paused_figures(browser, url: str, load: bool, repeats: int) -> dict:
    """Step (a fresh session's first Step among them), + layer and added points, all while paused;
    with ``load``, while another session plays."""
    other = open_playground(browser, url) if load else None
    if other is not None:
        start_playing(other)
    page = open_playground(browser, url)
    steps = []
    for _ in range(repeats):
        epoch = page.evaluate(f"() => {EPOCH}")
        steps.append(press(page, "Step", f"return {EPOCH} === {epoch + 1}"))
        time.sleep(0.3)
    before = page.evaluate(f"() => {LAYERS}")
    layer = timed(page, page.locator(ADD_LAYER).first.click, f"return ({LAYERS}) !== '{before}'")
    page.context.close()
    page = open_playground(browser, url, "?dataset=custom")
    adds = []
    for index in range(repeats + 2):
        box = page.locator(MAP).first.bounding_box()
        u, v = 0.15 + 0.7 * ((index * 0.37) % 1), 0.15 + 0.7 * ((index * 0.61) % 1)
        before = page.evaluate(f"() => {{ {MAP_STATE} }}")
        done = f"const now = (() => {{ {MAP_STATE} }})(); return now !== null && now !== {_js(before)};"
        ms = timed(page, lambda: page.mouse.click(box["x"] + u * box["width"], box["y"] + v * box["height"]), done)
        wait_until_idle(page, timeout=60)
        if index >= 2:  # (the first two make a data set; the timed ones add to a trained network's map)
            adds.append(ms)
    page.context.close()
    if other is not None:
        other.context.close()
    return {"steps": steps, "add_layer_ms": layer, "adds": adds}


def _js(value) -> str:
    return "null" if value is None else repr(str(value))


def memory_figures(browser, server, minutes: float) -> dict:
    """One player plays for ``minutes``; the server's RSS slope over that time, per frame shown."""
    page = open_playground(browser, server.url)
    start_playing(page)
    time.sleep(30)  # warm: graphs traced, first garbage collected
    page.evaluate(COUNTER)
    process = psutil.Process(server.process.pid)
    samples, started = [], time.perf_counter()
    while time.perf_counter() - started < minutes * 60:
        samples.append((time.perf_counter() - started, process.memory_info().rss / 1024))
        time.sleep(10)
    # Frames drawn, as the component counts them: a converged network's picture stops changing, so
    # distinct pictures would undercount the frames the server made and sent.
    pictures = page.evaluate("() => (window.__pgLiveStats || {}).shown || window.__pgSeen.pictures")
    page.context.close()
    times, sizes = zip(*samples)
    slope = statistics.linear_regression(times, sizes).slope  # kB per second
    return {"kb_per_frame": slope * times[-1] / max(pictures, 1), "frames": pictures,
            "grew_mb": (sizes[-1] - sizes[0]) / 1024, "start_mb": sizes[0] / 1024, "minutes": times[-1] / 60}


def measure(script: Path | None, seconds: float, memory_minutes: float, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    server = start_app(Path(tempfile.mkdtemp(prefix="dlp-bench-live-")), extra_env={"DLP_BUNDLED": "0"},
                       **({"script": script} if script else {}))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            figures = {"first_step_ms": first_step_of_a_new_server(browser, server.url),
                       "one": play_figures(browser, server.url, 1, seconds),
                       "paused": paused_figures(browser, server.url, False, repeats),
                       "two": play_figures(browser, server.url, 2, seconds),
                       "paused_two": paused_figures(browser, server.url, True, repeats)}
            if memory_minutes:
                figures["memory"] = memory_figures(browser, server, memory_minutes)
            browser.close()
        return figures
    finally:
        stop_app(server)


def median(values: list[float]) -> float:
    """The median of the timings that finished (-1: not within 10 s)."""
    done = [v for v in values if v >= 0]
    return statistics.median(done) if done else -1.0


def run(quick: bool = False) -> list[Result]:
    seconds, repeats = (5, 3) if quick else (10, 7)
    new = measure(None, seconds, 1 if quick else 10, repeats)
    with tempfile.TemporaryDirectory(prefix="dlp-baseline-") as folder:
        old = measure(baseline_app(Path(folder)), seconds, 0, repeats)
    print({"today": new, "before the rewrite": old})
    one, two, old_one, old_two = new["one"], new["two"], old["one"], old["two"]
    paused, paused_two, old_paused, old_paused_two = new["paused"], new["paused_two"], old["paused"], old["paused_two"]
    memory = new["memory"]
    reference = f"reference: the page before the rewrite ({BASELINE}), same run, same machine"

    def control(name: str, ours: float, theirs: float, note: str = "") -> Result:
        return Result(name, ours, theirs, "ms", "≤ 300 ms", 0 <= ours <= 300, note=note or reference)

    def loaded(name: str, ours: float, theirs: float) -> Result:
        return Result(f"{name}, while a second player plays", ours, theirs, "ms", "reported", None, note=reference)

    return [
        Result("output pictures per second seen by Chromium, one player", one["pictures"], old_one["pictures"],
               "updates/s", "≥ 20 /s", one["pictures"] >= 20, higher_is_better=True, note=reference),
        Result("epochs per second shown by the Epoch counter, one player", one["epochs"], old_one["epochs"],
               "epochs/s", "≥ 150 epochs/s", one["epochs"] >= 150, higher_is_better=True,
               note=f"distinct Epoch values shown: {one['epoch_values']:.1f}/s (reference "
                    f"{old_one['epoch_values']:.1f}/s)"),
        Result("output pictures per second seen by Chromium, each of two players", two["pictures"],
               old_two["pictures"], "updates/s", "≥ 10 /s", two["pictures"] >= 10, higher_is_better=True,
               note=f"epochs/s each: {two['epochs']:.0f} (reference {old_two['epochs']:.0f})"),
        control("Pause while playing: press to the Play label", one["pause_ms"], old_one["pause_ms"],
                f"pictures and Epoch still after Pause: {one['still_after_pause']} (reference "
                f"{old_one['still_after_pause']}); Play: {one['play_ms']:.0f} ms (reference {old_one['play_ms']:.0f})"),
        control("+ layer while playing: press to the new network picture", one["add_layer_ms"], old_one["add_layer_ms"]),
        control(f"Step while paused: press to the next epoch shown (median of {repeats}, a fresh session's "
                "first Step first)", median(paused["steps"]), median(old_paused["steps"]),
                f"all: {[round(v) for v in paused['steps']]} (reference {[round(v) for v in old_paused['steps']]})"),
        control("an added point of your own: press to the point on the map (median)", median(paused["adds"]),
                median(old_paused["adds"]),
                f"all: {[round(v) for v in paused['adds']]} (reference {[round(v) for v in old_paused['adds']]}); "
                f"+ layer while paused: {paused['add_layer_ms']:.0f} ms (reference {old_paused['add_layer_ms']:.0f})"),
        control("the first Step on a newly started server, pressed as soon as its page ran", new["first_step_ms"],
                old["first_step_ms"], "the worst case: the network's program may still be tracing; " + reference),
        loaded("Pause while playing", two["pause_ms"], old_two["pause_ms"]),
        loaded("+ layer while playing", two["add_layer_ms"], old_two["add_layer_ms"]),
        loaded("Step while paused (median)", median(paused_two["steps"]), median(old_paused_two["steps"])),
        loaded("an added point of your own (median)", median(paused_two["adds"]), median(old_paused_two["adds"])),
        Result(f"server growth per frame over {memory['minutes']:.0f} min of Play", memory["kb_per_frame"], None,
               "kB/frame", "< 10 kB", memory["kb_per_frame"] < 10,
               note=f"RSS slope x time / frames drawn; {memory['frames']:,} frames, RSS "
                    f"{memory['start_mb']:.0f} MB → +{memory['grew_mb']:.1f} MB; one Chromium player, not an hour"),
    ]
