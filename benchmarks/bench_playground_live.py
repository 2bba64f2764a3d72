"""Playground while playing, as Chromium sees it: distinct output pictures and Epoch values per
second over 10 s of Play, for one and for two players on one server, today's page against the
fragment-pictures page it replaced (the app at BASELINE, exported from git into a temporary folder
and served the same way, in the same run); how long Pause and + layer take to show while playing;
and the server's memory growth per frame over a long Play (10 minutes, one player).

A picture update is a change of the output map's pixels (the component's canvas) or of its
image (the server-drawn page), sampled on every animation frame inside the page, so Playwright's
own round trips do not limit what is counted. Goals from issue 20: ≥ 20 pictures/s and ≥ 150
epochs/s with one player, ≥ 10 pictures/s each with two, controls within 300 ms, and < 10 kB of
server growth per frame.
"""
from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.harness import Result
from tools.browser import CHROMIUM_ARGS, REPO, chromium_path, start_app, stop_app

BASELINE = "7073fbd"  # the last commit whose Playground drew its pictures on the server per fragment run

# Runs in the page: counts what the browser shows, on every animation frame.
COUNTER = """() => {
  const seen = window.__pgSeen = {pictures: 0, epochs: [], lastPictureAt: 0};
  let lastPicture = null, lastEpoch = null;
  const picture = () => {
    const canvas = document.querySelector('[data-output-map] canvas');
    if (canvas) {
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let hash = 0;
      for (let i = 0; i < pixels.length; i += 97) hash = (hash * 31 + pixels[i]) | 0;
      return hash;
    }
    const image = document.querySelector('[data-output-map] img');
    return image ? image.src : null;
  };
  const epoch = () => {
    const live = document.querySelector('.pg-epoch-value');
    if (live) return live.textContent;
    const metric = [...document.querySelectorAll('[data-testid="stMetric"]')].find(m => m.innerText.includes('Epoch'));
    return metric ? metric.querySelector('[data-testid="stMetricValue"]').innerText : null;
  };
  const tick = () => {
    const p = picture(), e = epoch();
    if (p !== null && p !== lastPicture) { seen.pictures++; lastPicture = p; seen.lastPictureAt = performance.now(); }
    if (e !== null && e !== lastEpoch) { seen.epochs.push(Number(e.replace(/,/g, ''))); lastEpoch = e; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""

# Clicks a button by its text and waits (in the page) until ``done`` holds; milliseconds, or -1.
CLICK_AND_TIME = """async ([selector, text, done]) => {
  const button = [...document.querySelectorAll(selector)].find(b => text === null || b.innerText.trim().endsWith(text));
  if (!button) return -2;
  const test = new Function(done);
  const started = performance.now();
  button.click();
  while (performance.now() - started < 10000) {
    if (test()) return performance.now() - started;
    await new Promise(r => requestAnimationFrame(r));
  }
  return -1;
}"""
LABEL_IS_PLAY = "return [...document.querySelectorAll('button')].some(b => b.innerText.trim().endsWith('Play'))"


def layers_shown() -> str:
    return "document.querySelector('[data-layers]') ? document.querySelector('[data-layers]').dataset.layers : ''"


def baseline_app(folder: Path) -> Path:
    """The app at BASELINE, exported into ``folder``; its app.py."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BASELINE], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "app.py"


def open_playground(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{url}/playground")
    page.locator("[data-output-map]").first.wait_for(timeout=180_000)
    page.locator("[data-layers]").first.wait_for(timeout=60_000)
    time.sleep(1.0)
    return page


def start_playing(page) -> None:
    page.wait_for_function(LABEL_IS_PLAY.replace("return ", "() => "), timeout=60_000)
    page.evaluate(CLICK_AND_TIME, ["button", "Play", "return true"])
    page.wait_for_function("""() => { const live = document.querySelector('.pg-epoch-value');
        const text = live ? live.textContent : ([...document.querySelectorAll('[data-testid="stMetric"]')]
          .find(m => m.innerText.includes('Epoch')) || {innerText: '0'}).innerText.replace('Epoch', '');
        return Number(text.replace(/[,\\s]/g, '')) > 0; }""", timeout=120_000)


def play_figures(browser, url: str, players: int, seconds: float) -> dict:
    """Pictures/s and epochs/s per player (means over the players), and the control latencies."""
    pages = [open_playground(browser, url) for _ in range(players)]
    for page in pages:
        start_playing(page)
    time.sleep(2.0)  # past the first frames, which trace the graph
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
    figures["pause_ms"] = page.evaluate(CLICK_AND_TIME, ["button", "Pause", LABEL_IS_PLAY])
    time.sleep(1.0)
    after = page.evaluate("() => [window.__pgSeen.pictures, window.__pgSeen.epochs.length]")
    time.sleep(1.5)
    figures["still_after_pause"] = page.evaluate("() => [window.__pgSeen.pictures, window.__pgSeen.epochs.length]") \
        == after
    start_playing(page)
    time.sleep(1.0)
    before = page.evaluate(f"() => {layers_shown()}")
    figures["add_layer_ms"] = page.evaluate(
        CLICK_AND_TIME, [".st-key-pg-add-layer button", None, f"return ({layers_shown()}) !== '{before}'"]) \
        if before else -2
    for page in pages:
        page.context.close()
    return figures


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


def measure(script: Path | None, seconds: float, memory_minutes: float) -> dict:
    from playwright.sync_api import sync_playwright

    server = start_app(Path(tempfile.mkdtemp(prefix="dlp-bench-live-")),
                       **({"script": script} if script else {}))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            figures = {"one": play_figures(browser, server.url, 1, seconds),
                       "two": play_figures(browser, server.url, 2, seconds)}
            if memory_minutes:
                figures["memory"] = memory_figures(browser, server, memory_minutes)
            browser.close()
        return figures
    finally:
        stop_app(server)


def run(quick: bool = False) -> list[Result]:
    seconds = 5 if quick else 10
    with tempfile.TemporaryDirectory(prefix="dlp-baseline-") as folder:
        old = measure(baseline_app(Path(folder)), seconds, 0)
    new = measure(None, seconds, 1 if quick else 10)
    print({"today": new, "fragment pictures": old})
    one, two, old_one, old_two, memory = new["one"], new["two"], old["one"], old["two"], new["memory"]
    return [
        Result("output pictures per second seen by Chromium, one player", one["pictures"], old_one["pictures"],
               "updates/s", "≥ 20 /s", one["pictures"] >= 20, higher_is_better=True,
               note=f"reference: the fragment-pictures page at {BASELINE}, same run, same machine"),
        Result("epochs per second shown by the Epoch counter, one player", one["epochs"], old_one["epochs"],
               "epochs/s", "≥ 150 epochs/s", one["epochs"] >= 150, higher_is_better=True,
               note=f"distinct Epoch values shown: {one['epoch_values']:.1f}/s (reference "
                    f"{old_one['epoch_values']:.1f}/s)"),
        Result("output pictures per second seen by Chromium, each of two players", two["pictures"],
               old_two["pictures"], "updates/s", "≥ 10 /s", two["pictures"] >= 10, higher_is_better=True,
               note=f"epochs/s each: {two['epochs']:.0f} (reference {old_two['epochs']:.0f})"),
        Result("Pause while playing: click to the Play label", one["pause_ms"], old_one["pause_ms"], "ms",
               "≤ 300 ms", 0 <= one["pause_ms"] <= 300,
               note=f"pictures and Epoch still after Pause: {one['still_after_pause']} "
                    f"(reference {old_one['still_after_pause']}); with two players playing: "
                    f"{two['pause_ms']:.0f} ms (reference {old_two['pause_ms']:.0f} ms)"),
        Result("+ layer while playing: click to the new network picture", one["add_layer_ms"],
               old_one["add_layer_ms"], "ms", "≤ 300 ms", 0 <= one["add_layer_ms"] <= 300,
               note=f"with two players: {two['add_layer_ms']:.0f} ms (reference {old_two['add_layer_ms']:.0f} ms)"),
        Result(f"server growth per frame over {memory['minutes']:.0f} min of Play", memory["kb_per_frame"], None,
               "kB/frame", "< 10 kB", memory["kb_per_frame"] < 10,
               note=f"RSS slope x time / frames drawn; {memory['frames']:,} frames, RSS "
                    f"{memory['start_mb']:.0f} MB → +{memory['grew_mb']:.1f} MB; one Chromium player, not an hour"),
    ]
