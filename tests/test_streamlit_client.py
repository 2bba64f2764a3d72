"""The load benchmark's websocket-protocol client (``tools/streamlit_client.py``) against the
real app: it opens the Draw page, draws a "1" as the canvas sends it and reads the Prediction."""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys

from tools.browser import REPO, start_app, stop_app
from tools.streamlit_client import Page, canvas_id, canvas_node, canvas_state, component_data, settle_canvas

ONE = [[(0.52, 0.2), (0.5, 0.5), (0.48, 0.8)]]


def run_async(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps a loop running here."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def draw_one(url: str) -> tuple[str | None, str | None, Page, list[bool]]:
    async with Page(url, "draw", "limit=3000", timeout=60) as page:
        await page.wait_for(lambda: page.metric("Prediction") is not None and not page.running,
                            what="the Prediction metric")
        empty = page.metric("Prediction")
        mark = await page.set_value(canvas_id(page), json_value=canvas_state(ONE))
        await page.wait_for(lambda: page.metric("Prediction") not in (None, "–"), what="a prediction")
        # The canvas's fragment read it and asks the browser to say when the reading is on screen; the
        # whole page runs only then (a whole run started at once would drop the fragment's reading).
        await page.wait_run(mark, fragment=True)
        steps = [(component_data(canvas_node(page)) or {}).get("settle") is True, page.finished_since(mark) is None]
        await settle_canvas(page)
        steps.append(page.finished_since(mark) is not None)
        return empty, page.metric("Prediction"), page, steps


def test_the_protocol_client_draws_a_one_and_reads_a_prediction(tmp_path):
    cache = tmp_path / "cache"
    # The page's model for ?limit=3000, pretrained by the app's own CLI while the server starts.
    training = subprocess.Popen(
        [sys.executable, "-m", "core.train", "digits", "--arch", "fast_cnn", "--set", "train_limit=3000"],
        cwd=REPO, env={**os.environ, "DLP_CACHE_DIR": str(cache)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = start_app(cache)
    try:
        _, stderr = training.communicate(timeout=240)
        assert training.returncode == 0, stderr.decode()[-2000:]
        empty, prediction, page, steps = run_async(draw_one(server.url))
    finally:
        training.kill()
        stop_app(server)
    assert empty == "–"
    assert prediction is not None and prediction.isdigit(), prediction
    assert steps == [True, True, True], steps  # settle asked, no whole run before "shown", one after
    assert not page.errors, page.errors


def live_frames(page: Page):
    """The Playground's frames element (views/playground/component.frames) and its data, or None."""
    for node in reversed(page.elements("bidi_component")):
        data = component_data(node)
        if data and data.get("view") == "frames":
            return node, data
    return None


async def play_and_ask(url: str, frames: int) -> tuple[list[int], list[int], Page]:
    """Press Play, then send the component's "drawn" trigger, each time after the batch before it
    arrived (as player.js does), until ``frames`` frames past the first batch's came (the
    first epochs trace TensorFlow's graph: asks answer with the same frame until then); the ticks
    and newest serials of the batches."""
    async with Page(url, "playground", timeout=120, fetch_media=False) as page:
        await page.wait_for(lambda: bool(page.find(kind="button", key="pg_play")) and not page.running,
                            what="the Play button")
        await page.wait_run(await page.click("Play"))
        ticks, serials = [], []
        while not serials or serials[-1] < serials[0] + frames:
            await page.wait_for(lambda: live_frames(page) is not None and live_frames(page)[1]["tick"] not in ticks,
                                what="a new batch of frames")
            component, data = live_frames(page)
            assert data["playing"]
            ticks.append(data["tick"])
            serials.append(data["frames"][-1]["serial"])
            await page.trigger(component, "drawn", serials[-1])
        return ticks, serials, page


def test_the_protocol_client_asks_the_playground_for_frames_as_its_component_does(tmp_path):
    server = start_app(tmp_path / "cache")
    try:
        ticks, serials, page = run_async(asyncio.wait_for(play_and_ask(server.url, frames=20), 180))
    finally:
        stop_app(server)
    assert not page.errors, page.errors
    assert len(set(ticks)) == len(ticks)  # every ask was answered by a fragment run with a batch of its own
    assert serials == sorted(serials), serials


async def open_at_once(url: str, pages: list[str]) -> list[Page]:
    async def visit(link: str) -> Page:
        name, _, query = link.partition("?")
        async with Page(url, name, query, timeout=180, fetch_media=False) as page:
            await page.wait_idle()
            return page

    return await asyncio.gather(*(visit(name) for name in pages))


def test_a_class_opening_a_cold_server_at_once_sees_no_import_errors(tmp_path):
    """Ten sessions open TensorFlow-, pandas- and Plotly-using pages of a server that has imported
    none of them yet, the Draw pages with a trained model to load. Concurrent first imports used to
    hand some sessions half-initialised modules: first because each page imported on its own, then
    because a page opened by a link before app.py had ever run was run without app.py."""
    cache = tmp_path / "cache"
    subprocess.run([sys.executable, "-m", "core.train", "digits", "--arch", "fast_cnn", "--set", "train_limit=3000"],
                   cwd=REPO, env={**os.environ, "DLP_CACHE_DIR": str(cache)}, check=True, capture_output=True)
    server = start_app(cache)
    try:
        pages = run_async(open_at_once(server.url, ["draw?limit=3000"] * 4 + ["playground", "text"] * 2
                                       + ["embeddings", "runs"]))
    finally:
        stop_app(server)
    problems = [error for page in pages for error in page.errors]
    assert not problems, problems
    assert all(page.elements() for page in pages)
