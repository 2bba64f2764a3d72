"""Memory after one user tries everything: the server's peak and end size over a scripted tour in Chromium,
against a fresh server with every page visited once (the reference), in one run; and what holds it.

The tour, on a fresh store with the bundled models: Draw (digits drawn with the bundled Fast CNN, then
the 2017 stream CNN, the 2020 Keras MLP and the 2019 dense net trained from the page and read), the
Playground played, Text sampled, Embeddings (PCA of all 70,000 raw digits in 3-D, t-SNE and UMAP of
raw pixels, a UMAP of the Fast CNN's layer in 3-D), Runs with TensorBoard started and opened, and back
to Draw. The server's resident size is sampled every half second (the server process alone; TensorBoard
runs in child processes, reported beside). "End" is after the tour with the user's tab still open,
after a full garbage collection; the note adds the size once the tab is closed and Streamlit has
dropped its session. A probe inside the server (tools/memory_probe) says what holds the memory after
each step: the job manager's loaded models, projections, ``st.cache_resource`` entries, the session's
state, Streamlit's media files, Python objects by type and the process's mappings; the reports go to
benchmarks/out/memory_tour.json (``DLP_MEMORY_TRACE=1`` adds tracemalloc's largest allocation sites,
for a diagnostic run). Target: ≤ 1.5 GB at the end of the tour (the app's promise with every page
visited). Full: the networks train on all 55,000 training images, the projections are the page's
largest (t-SNE 10,000 points, UMAP 20,000), two minutes of Play: about an hour. ``--quick``: trainings
on 2,000 images, 2,000-point t-SNE and UMAP, 15 s of Play: a quarter of an hour under load.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Result
from core.digits.models import ARCHITECTURES
from tools.browser import CHROMIUM_ARGS, REPO, chromium_path, start_app, stop_app, wait_until_idle
from tools.drive import MAP_POINTS_JS, PREDICTED_JS, canvas_box, clear, one, seven, stroke, zero
from tools.memory import Sampler, ask_probe, probe_env

TARGET_MB = 1536.0
OUT = REPO / "benchmarks" / "out"
PAGES = ["draw", "playground", "text", "embeddings", "runs"]
OTHER_NETWORKS = ["stream2017_cnn", "keras2020_mlp", "dense2019"]  # trained on the tour, beside the bundled Fast CNN
TRAINING_TIMEOUT_MS = 1_800_000
PREDICTION = '[data-testid="stMetric"]'
TITLES = {arch: title for arch, (title, _) in ARCHITECTURES.items()}


def settle(page, timeout: float = 120.0) -> None:
    wait_until_idle(page, timeout=timeout)


def click_until(page, button, done_js: str, tries: int = 5) -> None:
    """Click ``button`` until ``done_js`` holds: a click that lands while a rerun replaces the
    button is lost (the Playground reruns while it plays)."""
    for _ in range(tries):
        button.click()
        try:
            page.wait_for_function(done_js, timeout=10_000)
            return
        except Exception:  # the click was lost: try again
            continue
    page.wait_for_function(done_js, timeout=10_000)


def draw_digits(page) -> None:
    for digit in (seven(), one(), zero()):
        if page.evaluate(PREDICTED_JS):
            clear(page)
        stroke(page, canvas_box(page), digit)
        page.wait_for_function(PREDICTED_JS, timeout=60_000)
        settle(page)


#: The network shown first has been trained: no "not trained yet" and no training's progress on the page.
TRAINED_JS = """() => !document.body.innerText.includes("is not trained yet")
                  && !document.querySelector('[data-testid="stProgress"]')"""


def choose_network(page, title: str) -> None:
    """Make ``title`` the only network in Draw's Networks picker (the first one reads and trains)."""
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Networks")
    if picker.get_by_label("Clear all").count():
        picker.get_by_label("Clear all").click()
        settle(page)
    picker.locator("input").click()
    page.get_by_role("option", name=title, exact=True).click()
    page.keyboard.press("Escape")
    settle(page)


def draw_and_train(page, url: str, limit: int | None) -> None:
    page.goto(f"{url}/draw")  # the bundled Fast CNN reads at once
    page.locator(PREDICTION).filter(has_text="Prediction").first.wait_for(timeout=180_000)
    settle(page)
    draw_digits(page)
    for arch in OTHER_NETWORKS:  # ?limit= says how many images it trains on
        title = TITLES[arch]
        page.goto(f"{url}/draw" + (f"?limit={limit}" if limit else ""))
        page.get_by_text("Networks").first.wait_for(timeout=180_000)
        settle(page)
        choose_network(page, title)
        page.get_by_role("button", name=f"Train {title}").click()
        page.wait_for_function(TRAINED_JS, timeout=TRAINING_TIMEOUT_MS)
        settle(page)
        draw_digits(page)


PLAYING_JS = "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim().endsWith('Pause'))"
PAUSED_JS = "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim().endsWith('Play'))"


def play(page, url: str, seconds: float) -> None:
    page.goto(f"{url}/playground")
    page.wait_for_function(PAUSED_JS, timeout=180_000)
    settle(page)
    click_until(page, page.get_by_role("button", name="Play"), PLAYING_JS)
    time.sleep(seconds)  # the tour's user watches it learn: a duration, not a wait for a condition
    click_until(page, page.get_by_role("button", name="Pause"), PAUSED_JS)
    settle(page)


#: A new seed for each sample (so it is told from the last), of characters every corpus model knows.
SEEDS = ["ROMEO:", "JULIET:", "HAMLET:", "MACBETH:", "KING LEAR:"]
#: A sample written from ``seed``: an element of the page whose text starts with the seed and goes on
#: (the output box shows the seed, then the new characters; a text area's value is not its text).
SAMPLE_JS = """seed => [...document.querySelectorAll('div, pre, code')]
                   .some(e => e.innerText.startsWith(seed) && e.innerText.length > seed.length + 100)"""


def write(page, url: str, samples: int) -> None:
    page.goto(f"{url}/text")
    generate = page.get_by_role("button", name="Generate")
    generate.wait_for(timeout=180_000)
    settle(page)
    for seed in SEEDS[:samples]:
        box = page.locator('[data-testid="stTextArea"]').filter(has_text="Seed text").locator("textarea")
        box.fill(seed)
        box.press("Control+Enter")  # Streamlit applies a text area's value on Ctrl+Enter or blur
        settle(page)
        generate.click()
        page.wait_for_function(SAMPLE_JS, arg=seed, timeout=180_000)
        settle(page)


def choose(page, label: str, option: str) -> None:
    """Pick the option whose text starts with ``option`` in the select box labelled ``label``."""
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option").filter(has_text=option).first.click()
    settle(page)


def project(page, method: str, dims: int, points: int, timeout_ms: int = 900_000) -> None:
    """One projection on the Embeddings page (the source already chosen) until its map shows ``points``."""
    page.locator('[data-testid="stButtonGroup"]').get_by_text(method, exact=True).first.click()
    settle(page)
    switch = page.locator("label").filter(has_text="3-D").locator("input").first
    if switch.is_checked() != (dims == 3):
        page.get_by_text("3-D", exact=True).first.click()
        settle(page)
    count = page.locator('[data-testid="stNumberInput"]').filter(has_text="Points (test images first").locator("input")
    if count.count():
        count.fill(str(points))
        count.press("Enter")
        settle(page)
    if method != "PCA":
        page.get_by_role("button", name="Run").click()
        page.get_by_text(f"{method} finished").first.wait_for(timeout=timeout_ms)  # its last layout is in
    page.wait_for_function(f"() => ({MAP_POINTS_JS})() >= {points}", timeout=timeout_ms)
    settle(page, timeout=timeout_ms / 1000)


def embeddings(page, url: str, quick: bool) -> None:
    page.goto(f"{url}/embeddings")
    page.get_by_role("combobox", name="Vectors from").wait_for(timeout=180_000)
    settle(page)
    choose(page, "Vectors from", "Raw pixels")
    project(page, "PCA", 3, 70_000)  # all of MNIST: the largest point set a user can ask for
    project(page, "t-SNE", 2, 2_000 if quick else 10_000)
    project(page, "UMAP", 2, 2_000 if quick else 20_000)
    choose(page, "Vectors from", "Fast CNN")
    project(page, "UMAP", 3, 2_000 if quick else 10_000)


def tensorboard(page, url: str) -> None:
    """Runs, then TensorBoard started from it and opened in a second tab (its scalars and projector)."""
    page.goto(f"{url}/runs")
    button = page.get_by_role("button", name="Open in TensorBoard")
    button.wait_for(timeout=180_000)
    settle(page)
    button.click()
    link = page.get_by_role("link", name="Open TensorBoard")
    link.wait_for(timeout=300_000)
    settle(page)
    board = page.context.new_page()
    try:
        href = link.get_attribute("href")
        board.goto(href if href.startswith("http") else f"{url}{href}", timeout=120_000)
        board.wait_for_load_state("networkidle", timeout=120_000)
        board.goto(board.url.split("#")[0] + "#projector", timeout=120_000)
        board.wait_for_load_state("networkidle", timeout=120_000)
    finally:
        board.close()


def draw_again(page, url: str) -> None:
    page.goto(f"{url}/draw")
    page.locator(PREDICTION).filter(has_text="Prediction").first.wait_for(timeout=180_000)
    settle(page)
    draw_digits(page)


def tour(page, url: str, quick: bool, probe: Path) -> list[tuple[str, float, str, dict]]:
    """Every step of the tour: (step, seconds, error or "", the probe's report after it)."""
    steps = [("draw and train three networks", lambda: draw_and_train(page, url, 2_000 if quick else None)),
             ("play the Playground", lambda: play(page, url, 15 if quick else 120)),
             ("write text", lambda: write(page, url, 2 if quick else 5)),
             ("embeddings", lambda: embeddings(page, url, quick)),
             ("TensorBoard", lambda: tensorboard(page, url)),
             ("draw again", lambda: draw_again(page, url))]
    done = []
    for name, step in steps:
        started = time.perf_counter()
        try:
            step()
            error = ""
        except Exception as failure:  # reported in the results; the tour goes on
            error = f"{type(failure).__name__}: {str(failure).splitlines()[0][:200]}"
            OUT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT / f"memory_tour-failed-{name.replace(' ', '-')}.png"), full_page=True)
        seconds = time.perf_counter() - started
        report = ask_probe(probe, name.replace(" ", "-"))
        done.append((name, seconds, error, report))
        print(f"   tour: {name} {seconds:.0f} s, then {report.get('process', {}).get('rss_mb', 0):.0f} MB {error}",
              flush=True)
    return done


SESSION_GONE_SECONDS = 300


def after_the_tab_closed(sampler: Sampler, probe: Path) -> tuple[float | None, dict]:
    """The server's size once Streamlit has dropped the closed tab's session (None if it still held it
    after SESSION_GONE_SECONDS), and the probe's report then."""
    deadline = time.time() + SESSION_GONE_SECONDS
    while time.time() < deadline:
        report = ask_probe(probe, "closed")
        if report.get("sessions", {}).get("count") == 0:
            return sampler.now()[0], report
        time.sleep(5)  # polling: Streamlit drops a disconnected session on its own schedule
    return None, {}


def fresh_server(browser) -> tuple[float, float]:
    """The reference: a fresh server with every page opened once (peak, end MB)."""
    server = start_app(Path(tempfile.mkdtemp(prefix="dlp-memory-fresh-")), extra_env={"DLP_BUNDLED": "1"})
    sampler = Sampler(server.process.pid)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        for path in PAGES:
            page.goto(f"{server.url}/{path}")
            page.get_by_role("heading").first.wait_for(timeout=180_000)
            settle(page)
        end, _ = sampler.now()
        return max(sampler.peak, end), end
    finally:
        sampler.stop()
        context.close()
        stop_app(server)


def run(quick: bool = False) -> list[Result]:
    from playwright.sync_api import sync_playwright

    if chromium_path() is None:
        raise RuntimeError("Chromium not found (install Debian's 'chromium' or set CHROMIUM_PATH)")
    cache = Path(tempfile.mkdtemp(prefix="dlp-memory-tour-"))
    probe = cache / "probe"
    trace = os.environ.get("DLP_MEMORY_TRACE") == "1"  # tracemalloc in the server: slower, a diagnostic run
    server = start_app(cache, extra_env={"DLP_BUNDLED": "1", **probe_env(probe, trace=trace)})
    sampler = Sampler(server.process.pid)
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(60_000)
            steps = tour(page, server.url, quick, probe)
            end_report = ask_probe(probe, "end")
            end, end_with_children = sampler.now()
            context.close()
            closed, closed_report = after_the_tab_closed(sampler, probe)
            sampler.stop()
            minutes = (time.perf_counter() - started) / 60
            peak, peak_with_children = max(sampler.peak, end), max(sampler.peak_with_children, end_with_children)
        finally:
            stop_app(server)
        fresh_peak, fresh_end = fresh_server(browser)
        browser.close()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "memory_tour.json").write_text(json.dumps({
        "steps": steps, "end": end, "peak": peak, "fresh_end": fresh_end, "fresh_peak": fresh_peak,
        "samples": sampler.samples[::4], "report": end_report, "closed": closed,
        "closed_report": closed_report}, indent=1, default=str))
    failed = [f"{name}: {error}" for name, _, error, _ in steps if error]
    after = ", ".join(f"{name} {report.get('process', {}).get('rss_mb', 0):.0f}" for name, _, _, report in steps)
    tour_note = (f"{minutes:.0f}-minute tour, {len(steps) - len(failed)} of {len(steps)} steps done"
                 + (f" (failed: {'; '.join(failed)})" if failed else "") + f"; MB after each step: {after}; "
                 + holders(end_report) + "; " + (f"{closed:.0f} MB once the tab was closed and its session dropped"
                                                  if closed else "the closed tab's session was still held after "
                                                                 f"{SESSION_GONE_SECONDS} s"))
    return [
        Result("server memory at the end of the tour (tab still open)", end, fresh_end, "MB", f"≤ {TARGET_MB:.0f} MB",
               end <= TARGET_MB and not failed, note=tour_note),
        Result("server peak memory during the tour", peak, fresh_peak, "MB", "reported", None,
               note=f"with TensorBoard's processes: peak {peak_with_children:.0f} MB, end {end_with_children:.0f} MB; "
                    "reference: a fresh server with every page opened once"),
    ]


def holders(report: dict) -> str:
    """The report's largest holders, in words."""
    def mb(part: str, field: str = "mb") -> str:
        value = report.get(part, {}).get(field)
        return "?" if value is None else f"{value:.0f} MB"

    process = report.get("process", {})
    mappings = ", ".join(f"{k} {v:.0f}" for k, v in list(process.get("rss_by_mapping_mb", {}).items())[:4])
    return (f"at the end: RSS {process.get('rss_mb', 0):.0f} MB ({mappings} MB); malloc heap in use "
            f"{mb('malloc', 'in_use_mb')}, free in it {mb('malloc', 'free_in_heap_mb')}, mmapped "
            f"{mb('malloc', 'mmapped_mb')}; loaded models {mb('job_manager', 'loaded_mb')} "
            f"({len(report.get('job_manager', {}).get('loaded_models', []))}); projections {mb('projections')} "
            f"({report.get('projections', {}).get('count', '?')}); cache_resource {mb('cache_resource')}; "
            f"sessions' state {mb('sessions')}; media files {mb('media_files')}")
