"""Runs page in a real browser: the default Fast CNN (one epoch) shows how it learned — a loss
curve of many points and weight and gradient histograms of several rows — at desktop and
phone widths; a second, three-epoch run overlays it on the epoch axis. TensorBoard, opened from
the page behind the course's nginx, shows each network in its projector and stops with the app."""
from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.distributed_cluster import installed
from tests.e2e.conftest import REPO, free_port, open_page, screenshot, start_app, stop_app, wait_until_idle
from tools.browser import settled

FAST_CNN = "Fast CNN (1 epoch)"
SMALL_MLP = "2019 dense net (3 epochs, 500 images)"


def train(app_server, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "core.train", "digits", *args], cwd=REPO,
                          env={**os.environ, "DLP_CACHE_DIR": str(getattr(app_server, "cache", app_server))},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def two_runs(app_server):
    """The two runs both tests look at, trained through the CLI into the suite's server's store (a
    model already stored is not trained again, so each test can run alone or after the other)."""
    train(app_server, "--arch", "dense2019", "--epochs", "3", "--set", "train_limit=500")
    train(app_server, "--arch", "fast_cnn")  # the default: one epoch over 55,000 digits


def trace_points(page, name_part: str) -> int:
    """Points on the longest plotted line whose legend name contains ``name_part``."""
    return page.evaluate("""(part) => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')]
        .flatMap(p => p.data || []).filter(t => t.name && t.name.includes(part)).map(t => t.y.length))""", name_part)


def heatmap_rows(page) -> int:
    return page.evaluate("""() => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')]
        .flatMap(p => p.data || []).filter(t => t.type === "heatmap").map(t => t.y.length))""")


def colour_bar_title(page) -> str:
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .filter(t => t.type === 'heatmap').map(t => t.colorbar.title.text)[0] || ''""")


def whole_page_screenshot(page, name: str, height: int = 3400) -> None:
    """Streamlit scrolls inside its own container, so a full-page screenshot would stop at the
    viewport: make the viewport tall (same width) for the picture, then put it back."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    settled(page)  # Plotly redraws to the new size
    screenshot(page, name)
    page.set_viewport_size(size)


def test_a_one_epoch_fast_cnn_shows_its_curve_and_histograms_over_time(page, two_runs):
    open_page(page, "runs", wait_for_text="Smoothing")
    assert page.get_by_text(FAST_CNN).count() >= 1  # the newest run, shown when none is selected
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2")
    # 430 optimiser steps, 100 points: a curve, not one dot per epoch.
    assert trace_points(page, f"{FAST_CNN} · train") == 100
    assert trace_points(page, f"{FAST_CNN} · validation") == 1
    assert heatmap_rows(page) == 11  # the initial weights and ten moments of the run
    assert "weights" in colour_bar_title(page)
    page.get_by_text("A band that stays put means the").wait_for()
    whole_page_screenshot(page, "runs-fast-cnn")

    page.get_by_text("Gradients", exact=True).click()
    page.get_by_text("Gradients on a fixed probe batch").wait_for()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .some(t => t.type === 'heatmap' && t.colorbar.title.text.includes('gradients'))""")
    assert heatmap_rows(page) == 10  # "Leave out step 0" is on for gradients: the start dwarfs the rest
    page.get_by_text("Leave out step 0").click()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .some(t => t.type === 'heatmap' && t.y.length === 11)""")
    page.get_by_text("Leave out step 0").click()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .some(t => t.type === 'heatmap' && t.y.length === 10)""")
    whole_page_screenshot(page, "runs-fast-cnn-gradients")

    page.get_by_text("All settings of the shown runs").click()
    # Streamlit's data grid draws on a canvas; its cells are in the DOM for screen readers.
    settings = page.locator("[data-testid='stExpander'] [data-testid='stDataFrame']")
    settings.get_by_text("learning_rate", exact=True).first.wait_for(state="attached")
    settings.get_by_text("fast_cnn", exact=True).first.wait_for(state="attached")

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_text("Layer weights", exact=True).first.click()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .some(t => t.type === 'heatmap' && t.colorbar.title.text.includes('weights'))""")
    settled(page)  # Plotly redraws to the new width
    screenshot(page, "runs-fast-cnn-phone-top")  # what a 390x844 phone shows first
    whole_page_screenshot(page, "runs-fast-cnn-phone")


def select_runs(page, app_server, titles: tuple[str, ...]) -> list[Path]:
    """Tick the table's rows of the newest run titled each of ``titles`` — found by title, not by
    position, as the suite's other modules add runs to the same store — and return their folders."""
    from core.training.runs import list_runs

    runs = list_runs(app_server.cache / "runs")  # the page's order: newest first
    rows = [next(i for i, run in enumerate(runs) if run.get("title") == title) for title in titles]
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    box = grid.bounding_box()
    for row in rows:  # the first column of Streamlit's data grid holds the checkboxes; the header is
        page.mouse.click(box["x"] + 15, box["y"] + 35 * (row + 1) + 18)  # row 0, rows about 35 px high
        settled(page)  # the rerun the click causes has redrawn the grid before the next click
        wait_until_idle(page)
    return [runs[i]["path"] for i in rows]


def test_runs_of_different_lengths_overlay_on_the_epoch_axis(page, app_server, two_runs):
    open_page(page, "runs", wait_for_text="Smoothing")
    select_runs(page, app_server, (FAST_CNN, SMALL_MLP))
    page.wait_for_function(f"() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])"
                           f".some(t => t.name && t.name.includes('{SMALL_MLP}'))")
    page.get_by_text("Epoch (fractional)").click()
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.layout && "
                           "p.layout.xaxis && p.layout.xaxis.title && p.layout.xaxis.title.text === 'epoch')")
    assert trace_points(page, f"{SMALL_MLP} · train") == 48  # 16 steps an epoch, 3 epochs: every step
    assert trace_points(page, f"{SMALL_MLP} · validation") == 3
    assert trace_points(page, f"{FAST_CNN} · train") == 100
    last_x = page.evaluate("""(part) => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .filter(t => t.name && t.name.includes(part)).map(t => t.x[t.x.length - 1])[0]""", f"{SMALL_MLP} · train")
    assert abs(last_x - 3.0) < 1e-9  # the three-epoch run ends at epoch 3, the Fast CNN at 1
    whole_page_screenshot(page, "runs-overlay-epochs")


def curves_layout(page) -> dict:
    return page.evaluate("""() => { const p = [...document.querySelectorAll('.js-plotly-plot')]
        .find(p => (p.data || []).some(t => t.type !== 'heatmap'));
        return {xtype: p.layout.xaxis.type, ytype: p.layout.yaxis.type,
                fills: p.data.filter(t => t.fill === 'tonexty').length,
                names: p.data.map(t => t.name).filter(n => n)}; }""")


def test_log_axis_band_csv_and_the_selection_kept_across_pages_and_reloads(page, app_server, two_runs):
    """The two runs of ``two_runs`` both selected, a log x axis, the min-max band, one CSV of both
    runs' scalars; a page switch and a reload keep all of it."""
    import csv

    from core.training.runs import read_scalars
    from views.runs.pictures import CSV_COLUMNS

    open_page(page, "runs", wait_for_text="Lines")
    run_dirs = select_runs(page, app_server, (FAST_CNN, SMALL_MLP))
    page.wait_for_function(f"() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])"
                           f".some(t => t.name && t.name.includes('{SMALL_MLP}'))")
    page.locator('[data-testid="stButtonGroup"]').get_by_text("x axis", exact=True).click()
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.layout && "
                           "p.layout.xaxis && p.layout.xaxis.type === 'log')")
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Min–max band", exact=True).click()
    page.get_by_text("Window (points)").wait_for()
    wait_until_idle(page)
    layout = curves_layout(page)
    assert layout["xtype"] == "log" and layout["fills"] == 4  # a band per line: two runs, train and validation
    whole_page_screenshot(page, "runs-log-band")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV", exact=True).click()  # not the tables' "Download as CSV"
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert list(rows[0]) == CSV_COLUMNS
    expected = sum(len(points) for folder in run_dirs for points in read_scalars(folder).values())
    assert len(rows) == expected and {r["run"] for r in rows} == {folder.name for folder in run_dirs}
    assert {r["network"] for r in rows} == {FAST_CNN, SMALL_MLP}

    # Away to Draw and back, then a reload: the same runs, axis and band.
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Draw", exact=True).click()
    page.get_by_role("heading", name="Draw").first.wait_for(timeout=120_000)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Runs", exact=True).click()
    page.get_by_text("Window (points)").wait_for()
    wait_until_idle(page)
    for when in ("after a page switch", "after a reload"):
        layout = curves_layout(page)
        assert layout["xtype"] == "log" and layout["fills"] == 4, when
        assert any(SMALL_MLP in n for n in layout["names"]) and any(FAST_CNN in n for n in layout["names"]), when
        page.reload()
        page.get_by_text("Window (points)").wait_for(timeout=60_000)
        wait_until_idle(page)
        page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.layout && "
                               "p.layout.xaxis && p.layout.xaxis.type === 'log')")

    page.set_viewport_size({"width": 390, "height": 844})
    settled(page)  # Plotly redraws to the phone's width
    whole_page_screenshot(page, "runs-log-band-phone")


def start_nginx(app_port: int, tensorboard_port: int, folder: Path) -> tuple[str, subprocess.Popen]:
    """deploy/nginx.conf in front of one app process and its TensorBoard, rewritten for one machine
    as deploy/run_local.sh does: the upstreams on loopback, a free port to listen on. ``folder``
    must be readable by nginx's workers (which run as nobody when nginx starts as root)."""
    port = free_port()
    config = (REPO / "deploy" / "nginx.conf").read_text()
    one_process = ("# BEGIN web processes\n    map $cookie_dlp_route $dlp_route { default 1; }\n"
                   "    map $upstream_addr $dlp_answered { default 1; }\n"
                   f"    upstream dlp_web1 {{ server 127.0.0.1:{app_port}; }}\n    # END web processes")
    config = re.sub(r"# BEGIN web processes\n.*?# END web processes", lambda _: one_process, config, flags=re.S)
    config = re.sub(r"^\s*server web\d+:6006;\n", "", config, flags=re.M)
    config = config.replace("upstream tensorboard {", f"upstream tensorboard {{\n        server 127.0.0.1:{tensorboard_port};")
    config = config.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    (folder / "nginx.conf").write_text(config)
    (folder / "htpasswd").write_text(f"{LOGIN[0]}:{{PLAIN}}{LOGIN[1]}\n")  # the class's login (basic auth)
    (folder / "htpasswd").chmod(0o644)
    nginx = subprocess.Popen([installed("nginx", "the TensorBoard proxy test needs it"), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"),
                              "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            fetch(url + "/_stcore/health")
            return url, nginx
        except OSError:
            time.sleep(0.1)
    stop_nginx(nginx)
    raise RuntimeError("nginx did not answer: " + (folder / "error.log").read_text()[-2000:])


def stop_nginx(nginx: subprocess.Popen) -> None:
    nginx.terminate()  # the master stops its workers (SIGKILL would leave them serving)
    nginx.wait(10)


LOGIN = ("class", "a-test-password")


def fetch(url: str, login: tuple[str, str] | None = LOGIN) -> bytes:
    request = urllib.request.Request(url)
    if login:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(login).encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def wait_for_json(url: str, ready, timeout: float = 90.0):
    deadline = time.time() + timeout
    while True:
        try:
            answer = json.loads(fetch(url))
            if ready(answer) or time.time() > deadline:
                return answer
        except OSError:
            if time.time() > deadline:
                raise
        time.sleep(1)


def in_some_frame(page, text: str, timeout: float) -> bool:
    """Whether ``text`` shows in the page or one of its iframes (TensorBoard puts plugins in iframes)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for frame in page.frames:
            try:
                if text in frame.evaluate(DEEP_TEXT):
                    return True
            except Exception:  # a frame navigating away
                pass
        page.wait_for_timeout(1000)
    return False


def points_drawn(page, timeout: float = 60.0) -> bool:
    """Whether the projector's picture shows its points: the digits' thumbnails, black squares on
    white, cover over 1 % of its largest canvas. (Its WebGL canvas cannot be read back by a script,
    but a screenshot sees it; the 3-D view turns at first, so the picture never stays the same.)"""
    from PIL import Image

    deadline = time.time() + timeout
    while time.time() < deadline:
        canvases = [c for frame in page.frames for c in frame.locator("canvas").all() if c.is_visible()]
        boxes = [(c.bounding_box() or {"width": 0, "height": 0}, c) for c in canvases]
        if boxes:
            box, canvas = max(boxes, key=lambda bc: bc[0]["width"] * bc[0]["height"])
            picture = Image.open(io.BytesIO(canvas.screenshot())).convert("L")
            if sum(1 for value in picture.getdata() if value < 100) > 0.01 * picture.width * picture.height:
                return True
        time.sleep(0.5)  # between two looks at the canvas
    return False


# All the text of a document, open shadow roots included (TensorBoard is made of web components).
DEEP_TEXT = """() => { const parts = []; const walk = (node) => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) {
        if (child.nodeType === 3) parts.push(child.textContent); else walk(child);
    } }; walk(document.body); return parts.join(' ').replace(/\\s+/g, ' '); }"""


def test_tensorboard_opens_behind_the_proxy_shows_the_projector_and_stops_with_the_app(browser, tmp_path):
    import psutil

    cache = tmp_path / "cache"
    cache.mkdir()
    train(cache, "--arch", "dense2019", "--epochs", "1", "--set", "train_limit=500")
    tensorboard_port = free_port()
    server = start_app(cache, extra_env={"DLP_BUNDLED": "0", "DLP_TENSORBOARD_PORT": str(tensorboard_port),
                                         "DLP_TENSORBOARD_URL": "/tensorboard/"})
    family = []
    try:
        folder = Path(tempfile.mkdtemp(prefix="dlp-nginx-"))  # not under pytest's owner-only tmp_path
        folder.chmod(0o755)
        proxy, nginx = start_nginx(server.port, tensorboard_port, folder)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                    http_credentials={"username": LOGIN[0], "password": LOGIN[1]})
            page.set_default_timeout(30_000)
            page.goto(proxy + "/runs")
            page.get_by_text("Smoothing").first.wait_for(timeout=120_000)
            wait_until_idle(page)
            page.get_by_role("button", name="Open in TensorBoard").click()
            link = page.get_by_role("link", name="Open TensorBoard")
            link.wait_for(timeout=120_000)
            assert link.get_attribute("href") == "/tensorboard/"  # the proxy's path: a student can open it
            page.get_by_text("one embedding per digit network").wait_for()
            screenshot(page, "runs-tensorboard-link")

            projector = proxy + "/tensorboard/data/plugin/projector/"
            with pytest.raises(urllib.error.HTTPError, match="401"):
                fetch(projector + "runs", login=None)  # the class's login guards TensorBoard too
            assert wait_for_json(projector + "runs", lambda runs: runs == ["projector"]) == ["projector"]
            [embedding] = json.loads(fetch(projector + "info?run=projector"))["embeddings"]
            assert embedding["tensorName"].startswith("2019 dense net (1 epoch, 500 images) — ")
            rows, width = embedding["tensorShape"]
            name = urllib.parse.quote(embedding["tensorName"])
            tensor = fetch(f"{projector}tensor?run=projector&name={name}")
            assert len(tensor) == rows * width * 4 and rows == 2000
            import numpy as np

            values = np.frombuffer(tensor, dtype=np.float32)
            assert np.isfinite(values).all() and values.std() > 0

            page.goto(proxy + "/tensorboard/#projector")
            # TensorBoard's own page, through the proxy: its projector (in an iframe) loads the network's points.
            assert in_some_frame(page, "Points: 2000", timeout=90), "the projector did not load the points"
            assert in_some_frame(page, "2019 dense net (1 epoch, 500 images)", timeout=10)
            assert points_drawn(page), "the projector drew no points"
            screenshot(page, "runs-tensorboard-projector")
            page.close()

            app = psutil.Process(server.process.pid)
            [tensorboard] = [p for p in app.children() if "core.tensorboard" in " ".join(p.cmdline())]
            family = [tensorboard, *tensorboard.children(recursive=True)]
            assert any("tensorboard_data_server" in " ".join(p.cmdline()) for p in family[1:])
        finally:
            stop_nginx(nginx)
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        stop_app(server)
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, [p.cmdline() for p in alive]  # TensorBoard and its data server stopped with the app


def test_delete_asks_first_then_the_run_and_its_network_are_gone(page, app_server):
    """Issue 30 #4: "Delete this run" used to delete at once; now it asks, and only "Delete for good"
    deletes the run's logs and the network it made. (Last in this module: it adds a run of its own,
    the newest, and deletes it.)"""
    from core.training.store import ModelStore

    title = "2019 dense net (1 epoch, 200 images)"
    train(app_server, "--arch", "dense2019", "--epochs", "1", "--set", "train_limit=200")
    store = ModelStore(app_server.cache / "models")
    [entry] = [e for e in store.entries(kind="digits") if e.record.get("title") == title]
    folder = Path(entry.record["run_dir"])
    open_page(page, "runs", wait_for_text="Smoothing")
    page.get_by_role("heading", name=title).wait_for()  # the newest run, shown when none is selected
    page.get_by_role("button", name="Delete this run").click()
    page.get_by_text("This cannot be undone").wait_for()
    assert folder.exists() and ModelStore(store.root).get(entry.key) is not None, "opening the question deleted"
    screenshot(page, "runs-delete-asks")
    page.get_by_role("button", name="Delete for good").click()
    page.get_by_text(f"Deleted {title}.").wait_for()
    wait_until_idle(page)
    assert not folder.exists() and ModelStore(store.root).get(entry.key) is None  # a fresh look at the disk
    assert page.get_by_role("heading", name=title).count() == 0
