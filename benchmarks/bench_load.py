"""A class at once: 10 sessions on loopback draw digits, play the playground and write text for
4 minutes, measured after 90 s of the same load; then a course: 30 such sessions over 3 Streamlit
processes and 1 training worker sharing one store and one Redis, measured the same way and reported
beside the single process (``--quick``: 15 s after 5 s each, no browsers; a few minutes, mostly start-up).

Reports errors (goal 0), the 95th-percentile time to an updated prediction after a stroke (goal ≤ 1 s),
and the server's memory growth once warm. Four minutes, not one: the server's size swings by
±25 MB as garbage comes and goes, and a 60-s trend was decided by where in a swing it began
(3.3 and 12 MB/min on two days). The 10 load sessions are websocket-protocol clients
(``tools/streamlit_client.py``: Streamlit's own protocol, spoken the way the frontend speaks it),
not browsers: on a 2-core machine 10 Chromium tabs took the server's CPU and the run measured the
load generator instead of the server. Each session is one Streamlit session, as a browser tab is.
Also checks exactly-once training with 10 real browser sessions (Playwright contexts in Chromium):
all ask for the same untrained network at the same moment; one training must serve them all.
Requests are bounded: each session waits for its answer before the next action (a missing answer
is an error after a timeout), and the run stops after the time limit.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.course import running_course, shared_training, worker_trainings
from benchmarks.harness import Result, growth_per_minute, minute_means, p95
from tools.browser import CHROMIUM_ARGS, REPO, chromium_path, start_app, stop_app
from tools.streamlit_client import (
    EARLY_FOR_RERUN, FRAGMENT_FINISHED, Page, ProtocolError, canvas_id, canvas_state, component_data,
)

SESSIONS = 10
# Measured after this much of the same load: the first minute and a half still fills caches
# (TensorFlow's kernels, Streamlit's messages, malloc's arenas) at tens of MB a minute; the
# trend after it is what a long class would see (see benchmarks/RESULTS.md).
WARM_UP_SECONDS = 90
LOAD_SECONDS = 240
KINDS = ["draw"] * 6 + ["playground"] * 2 + ["text"] * 2
ANSWER_TIMEOUT = 30.0  # seconds a session waits for an answer before it counts an error
READY_TIMEOUT = 180.0  # the first visit to a page loads TensorFlow and the model
DIGIT_STROKES = {  # canvas-relative pen strokes
    "0": [[(0.5 + 0.21 * math.sin(t / 12 * math.pi), 0.5 - 0.3 * math.cos(t / 12 * math.pi)) for t in range(25)]],
    "1": [[(0.52, 0.2), (0.5, 0.5), (0.48, 0.8)]],
    "7": [[(0.26, 0.2), (0.74, 0.2), (0.53, 0.53), (0.44, 0.8)]],
}
CLEAR_PAUSE = 0.6  # between Clear and the next stroke, as the browser sessions of this benchmark waited


@contextlib.asynccontextmanager
async def session_page(url: str, path: str, query: str, errors: list):
    """A websocket-protocol session on one page whose failures are counted, not raised; what the
    page itself showed as failing (exceptions, unknown page, cache misses) is counted once each."""
    page = Page(url, path, query, timeout=ANSWER_TIMEOUT)
    try:
        await page.open()
        yield page
    except Exception as error:  # the load run reports errors
        errors.append(f"{path}: {type(error).__name__}: {str(error).splitlines()[0][:160]}")
    finally:
        errors.extend(f"{path}: {problem}" for problem in dict.fromkeys(page.errors))
        await page.close()


async def drawing_session(url, clock, latencies, errors):
    """Clear, draw a digit, time the stroke to the updated Prediction; again and again.

    The stroke is what Draw's canvas sends when the pen lifts: its state with a PNG of the drawing.
    Timed from sending it to the message with the new Prediction metric, so the browser's own
    drawing and rendering are not in the time."""
    async with session_page(url, "draw", "limit=3000", errors) as page:
        await page.wait_for(lambda: page.metric("Prediction") is not None and not page.running,
                            READY_TIMEOUT, "the Prediction metric")
        await clock.ready()
        for digit in itertools.cycle(DIGIT_STROKES):
            if time.time() >= clock.deadline:
                break
            try:
                await page.wait_run(await page.click("Clear"))
                if page.metric("Prediction") != "–":
                    raise ProtocolError(f"Clear left the Prediction at {page.metric('Prediction')!r}")
                await asyncio.sleep(CLEAR_PAUSE)
                state = canvas_state(DIGIT_STROKES[digit])
                started = time.perf_counter()
                mark = await page.set_value(canvas_id(page), json_value=state)
                answered = await page.wait_for(lambda: page.metric("Prediction") not in (None, "–"),
                                               what="an updated Prediction")
                if started >= clock.measure_from:
                    latencies.append(answered - started)
                await page.wait_run(mark)
            except ProtocolError as error:  # counted; the next round resynchronises with Clear
                errors.append(f"draw: {error}")
                if "connection lost" in str(error):
                    break


LIVE_COMPONENT = "dlp_playground_live"  # views/playground/live_pictures.py's component


async def playground_session(url, clock, frame_rates, runs, errors):
    """Press Play and ask for frames as the browser does: views/components/playground_live's
    "frames" element carries a batch of frames and a ``tick``; on each new tick the browser sends
    the ``drawn`` trigger (the batch's last serial), which reruns the Playground's fragment, whose
    answer is the next batch. Counted: the frames new to this session (serials it had not had),
    as the browser's ``__pgLiveStats.fresh``, and the epochs they advanced, over the measured time.

    The trigger goes out as soon as the element arrives, while its fragment run may still be
    finishing, so the fragment runs that finished and that were cut short are reported beside."""
    async with session_page(url, "playground", "", errors) as page:
        await page.wait_for(lambda: bool(page.find(kind="button", key="pg-play")) and not page.running,
                            READY_TIMEOUT, "the Play button")
        await clock.ready()
        batches = []  # (the frames element, its data), as they arrive
        fresh = []  # (when it arrived, serial, epoch) of every frame new to this session

        def receive(node) -> None:
            if node.kind == "bidi_component" and LIVE_COMPONENT in node.proto.component_name:
                data = component_data(node)
                if data and data.get("view") == "frames":
                    newest = fresh[-1][1] if fresh else -1
                    now = time.perf_counter()
                    fresh.extend((now, f["serial"], f["epoch"]) for f in data["frames"] if f["serial"] > newest)
                    batches.append((node, data))

        page.on_element = receive
        mark = await page.click("Play")
        await page.wait_run(mark)
        await page.wait_for(lambda: bool(batches) and batches[-1][1]["playing"], what="a playing batch of frames")
        playing, asked = time.perf_counter(), None
        try:
            while time.time() < clock.deadline and not page.errors:
                component, data = batches[-1]
                if not data["playing"]:
                    raise ProtocolError("the Playground stopped playing")
                if data["tick"] != asked:  # playground_live.js asks once per tick
                    asked = data["tick"]
                    await page.trigger(component, "drawn", data["frames"][-1]["serial"])
                await page.wait_for(lambda: batches[-1][1]["tick"] != asked, what="the next batch of frames")
        except ProtocolError as error:
            errors.append(f"playground: {error}")
        measured_from = max(playing, clock.measure_from)
        counted = [(serial, epoch) for at, serial, epoch in fresh if at >= measured_from]
        seconds = max(time.perf_counter() - measured_from, 1e-9)
        epochs = counted[-1][1] - counted[0][1] if len(counted) > 1 else 0
        frame_rates.append((len(counted) / seconds, epochs / seconds))
        ends = [e.status for e in page.events[mark:] if e.kind == "finish" and e.fragment_ids]
        runs.append((ends.count(FRAGMENT_FINISHED), ends.count(EARLY_FOR_RERUN)))


async def text_session(url, clock, latencies, errors):
    """Set a new Random seed (the same seed repeats itself), press Generate, time to the finished sample."""
    async with session_page(url, "text", "", errors) as page:
        await page.wait_for(lambda: bool(page.find("Generate", "button")) and not page.running,
                            READY_TIMEOUT, "the Generate button")
        await clock.ready()
        for rng_seed in itertools.count(1):
            if time.time() >= clock.deadline:
                break
            try:
                seed = page.widget("Random seed", "number_input").widget_id
                await page.wait_run(await page.set_value(seed, int_value=rng_seed))
                before = page.texts("code")
                started = time.perf_counter()
                # Done when the run Generate asked for (and the rerun it ends with) has finished
                # with a new sample on the page.
                finished = await page.wait_run(await page.click("Generate"), timeout=60)
                if page.texts("code") == before or not any("A look inside" in h for h in page.texts("heading")):
                    raise ProtocolError("Generate finished without a new sample")
                if started >= clock.measure_from:
                    latencies.append(finished.at - started)
            except ProtocolError as error:
                errors.append(f"text: {error}")
                if "connection lost" in str(error):
                    break


class Clock:
    """Sessions get ready (page open, model loaded) first; the load starts when all are, and is
    measured after ``warm_up`` seconds of the same load."""

    def __init__(self, sessions: int, seconds: float, warm_up: float = 0.0):
        self.waiting, self.seconds, self.warm_up = sessions, seconds, warm_up
        self.deadline, self.measure_from = float("inf"), float("inf")  # time.time(), perf_counter()
        self.go = asyncio.Event()

    async def ready(self) -> None:
        self.waiting -= 1
        self._start_when_all_ready()
        await self.go.wait()

    def give_up(self) -> None:
        """A session that failed before it was ready must not hold the others back."""
        if not self.go.is_set():
            self.waiting -= 1
            self._start_when_all_ready()

    def _start_when_all_ready(self) -> None:
        if self.waiting == 0:
            self.deadline = time.time() + self.warm_up + self.seconds
            self.measure_from = time.perf_counter() + self.warm_up
            self.go.set()


async def exactly_once(browser, url) -> int:
    """10 sessions press Train on the same untrained network at once; how many get the model."""
    contexts = [await browser.new_context(viewport={"width": 1300, "height": 1000}) for _ in range(SESSIONS)]
    pages = [await c.new_page() for c in contexts]
    await asyncio.gather(*(p.goto(f"{url}/draw?limit=2000") for p in pages))
    buttons = [p.get_by_role("button", name="Train Fast CNN") for p in pages]
    await asyncio.gather(*(b.wait_for(timeout=120_000) for b in buttons))
    await asyncio.gather(*(b.click() for b in buttons))
    served = await asyncio.gather(*(
        p.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for(timeout=300_000)
        for p in pages), return_exceptions=True)
    for c in contexts:
        await c.close()
    return sum(1 for s in served if not isinstance(s, Exception))


def count_trainings(cache: Path, limit: int) -> int:
    import json

    count = 0
    for record in (cache / "models").glob("*/record.json"):
        config = json.loads(record.read_text()).get("config", {})
        count += config.get("arch") == "fast_cnn" and config.get("train_limit") == limit
    return count


def low_priority_chromium(folder: Path) -> str:
    """Chromium started through ``nice -n 19``: in a class each browser runs on its own machine,
    so the 10 browsers of the exactly-once check must not take the server's 2 cores from it."""
    wrapper = folder / "chromium-nice"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n 19 "{chromium_path()}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


async def exactly_once_run(url, chromium: str) -> int:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            return await exactly_once(browser, url)
        finally:
            await browser.close()


async def load_run(urls, seconds, server_pids, warm_up: float = 0.0):
    """The 10 websocket-protocol sessions on each server; the clock starts when all have their page
    ready, and what is measured is the ``seconds`` after ``warm_up`` seconds of the same load."""
    processes, me = [psutil.Process(pid) for pid in server_pids], psutil.Process()
    latencies, samples, frame_rates, fragment_runs, errors = [], [], [], [], []
    plan = [(url, kind) for url in urls for kind in KINDS]
    clock = Clock(len(plan), seconds, warm_up)
    sessions = {"draw": lambda url: drawing_session(url, clock, latencies, errors),
                "playground": lambda url: playground_session(url, clock, frame_rates, fragment_runs, errors),
                "text": lambda url: text_session(url, clock, samples, errors)}

    async def session(url, kind):
        try:
            await sessions[kind](url)
        finally:
            clock.give_up()

    tasks = asyncio.gather(*(session(url, kind) for url, kind in plan))
    await asyncio.wait_for(clock.go.wait(), timeout=READY_TIMEOUT + 60)
    # per server: (seconds into the measured run, RSS in MB)
    memory: list[list[tuple[float, float]]] = [[] for _ in processes]
    sampling = asyncio.create_task(sample_memory(processes, clock.measure_from, memory))
    await asyncio.sleep(warm_up)
    cpu_time = lambda ps: sum(sum(p.cpu_times()[:2]) for p in ps)  # noqa: E731
    cpu = {"server": cpu_time(processes), "client": cpu_time([me])}
    started = time.perf_counter()
    await asyncio.wait_for(tasks, timeout=seconds + 120)
    elapsed = time.perf_counter() - started
    sampling.cancel()
    cpu = {"server": (cpu_time(processes) - cpu["server"]) / elapsed, "client": (cpu_time([me]) - cpu["client"]) / elapsed}
    return latencies, samples, frame_rates, fragment_runs, errors, memory, cpu, elapsed


async def sample_memory(processes, started: float, samples: list[list]) -> None:
    while True:
        for process, own in zip(processes, samples):
            own.append((time.perf_counter() - started, process.memory_info().rss / 2**20))
        await asyncio.sleep(1)


def player_rates(rates: list[tuple[float, float]]) -> tuple[float, float]:
    """The mean frames/s and epochs/s of the playing sessions (nan without any)."""
    if not rates:
        return float("nan"), float("nan")
    return statistics.mean(r[0] for r in rates), statistics.mean(r[1] for r in rates)


def pretrain(cache: Path, reuse: bool) -> None:
    """The models the drawing and text sessions need, trained through the app's own CLI (a small
    Fast CNN, and the Text page's default LSTM). ``reuse`` (``--quick``) copies them from the
    store of an earlier quick run when it has them (not timed either way)."""
    kept = Path(tempfile.gettempdir()) / "dlp-load-models"
    if reuse and kept.is_dir():
        shutil.copytree(kept, cache / "models")
    for command in (["digits", "--arch", "fast_cnn", "--set", "train_limit=3000"], ["charlstm"]):
        subprocess.run([sys.executable, "-m", "core.train", *command], cwd=REPO,
                       env={**os.environ, "DLP_CACHE_DIR": str(cache), "DLP_QUEUE": ""}, check=True,
                       capture_output=True)
    if reuse and not kept.is_dir():
        shutil.copytree(cache / "models", kept)


def run(quick: bool = False) -> list[Result]:
    """The single process (10 sessions) and then the course layout (30 sessions over 3 web
    processes and 1 worker, sharing one store and one Redis), in one run, each after its own
    warm-up. ``--quick`` leaves out the browsers' exactly-once check of the single process."""
    if chromium_path() is None and not quick:
        raise RuntimeError("Chromium not found (install Debian's 'chromium' or set CHROMIUM_PATH)")
    cache = Path(tempfile.mkdtemp(prefix="dlp-load-"))
    pretrain(cache, reuse=quick)
    course_cache = Path(tempfile.mkdtemp(prefix="dlp-course-"))
    shutil.copytree(cache / "models", course_cache / "models")  # the same pretrained models
    server = start_app(cache, extra_env={"DLP_QUEUE": ""})
    seconds, warm_up = (15, 5) if quick else (LOAD_SECONDS, WARM_UP_SECONDS)
    try:
        served = None if quick else asyncio.run(exactly_once_run(server.url, low_priority_chromium(cache)))
        single = asyncio.run(load_run([server.url], seconds, [server.process.pid], warm_up))
    finally:
        stop_app(server)
    results = single_results(single, served, count_trainings(cache, 2000), seconds, warm_up)
    limit = 500 if quick else 1500  # a Fast CNN nobody trained yet, for the course's exactly-once check
    with running_course(course_cache, web=3, workers=1) as course:
        shared = asyncio.run(shared_training(course.urls, limit))
        trained = worker_trainings(course)
        pids = [s.process.pid for s in course.servers] + [w.pid for w in course.workers]
        many = asyncio.run(load_run(course.urls, seconds, pids, warm_up))
    return results + course_results(single, many, shared, trained, count_trainings(course_cache, limit))


def single_results(figures, served, trainings, seconds, warm_up) -> list[Result]:
    latencies, samples, frame_rates, fragment_runs, errors, (memory,), cpu, elapsed = figures
    warm = [(t, mb) for t, mb in memory if t >= 0]  # the measured run, after the warm-up
    growth = growth_per_minute(warm)
    per_request_kb = growth * 1024 / 60 / max(1e-9, len(latencies) / elapsed)
    sizes = [mb for _, mb in warm]
    means = ", ".join(f"{mb:.0f}" for mb in minute_means(warm))
    frame_rate, epoch_rate = player_rates(frame_rates)
    finished, cut_short = (sum(r[i] for r in fragment_runs) for i in (0, 1))
    exactly_once = [] if served is None else [
        Result("sessions served by one shared training (of 10)", served, SESSIONS, "sessions", "10 of 10, 1 training",
               served == SESSIONS and trainings == 1, higher_is_better=True,
               note=f"trainings started: {trainings}; 10 Playwright browser contexts in Chromium (nice 19)")]
    return exactly_once + [
        Result("errors during the load run", len(errors), None, "errors", "0", not errors,
               note="; ".join(sorted(set(errors)))[:400]),
        Result("prediction p95, mouse-up to updated Prediction", p95(latencies) * 1000, None, "ms", "≤ 1000 ms",
               p95(latencies) <= 1.0, note=f"{len(latencies)} predictions in {elapsed:.0f} s by 6 drawing sessions, "
                    f"with 2 playing ({frame_rate:.1f} frames/s, {epoch_rate:.0f} epochs/s each, asked for by the "
                    f"component's trigger; of their fragment runs {finished} finished and {cut_short} were cut "
                    f"short by the next ask) and 2 on Text; the 10 sessions are "
                    "websocket-protocol clients, timed from sending the stroke (the canvas's state, which the "
                    "browser sends when the pen lifts) to the message with the new Prediction, so without the "
                    f"browser's drawing and rendering; CPU: server {cpu['server']:.0%}, all 10 clients "
                    f"{cpu['client']:.0%} of a core"),
        Result("text sample p95, Generate to a finished 300-character sample", p95(samples) * 1000, None, "ms",
               "no goal; reported", None, note=f"{len(samples)} samples by 2 text sessions"),
        Result("server memory growth once warm", growth, None, "MB/min", "no growth per request",
               per_request_kb < 10, note=f"{per_request_kb:.1f} kB per prediction: the trend of the server's "
                    f"size over the measured {seconds} s, after {warm_up} s of the same load (least squares, one "
                    f"sample a second); size {min(sizes, default=0):.0f}-{max(sizes, default=0):.0f} MB; mean "
                    f"of each minute: {means or 'n/a'} MB"),
    ]


def course_results(single, many, shared, trained, stored) -> list[Result]:
    """The course layout's figures, each beside the single process's of the same run (``single`` and
    ``many`` are what ``bench_load.load_run`` returns)."""
    latencies, samples, frame_rates, _, errors, memory, cpu, elapsed = many
    mean_size = [statistics.mean(mb for t, mb in m if t >= 0) if m else float("nan") for m in memory]
    single_size = statistics.mean(mb for t, mb in single[5][0] if t >= 0)
    web, worker = mean_size[:-1], mean_size[-1]
    growth = ", ".join(f"{growth_per_minute([s for s in m if s[0] >= 0]):+.1f}" for m in memory[:-1])
    frame_rate, epoch_rate = player_rates(frame_rates)
    return [
        Result("course: sessions served by one shared training (10 over 3 web processes)", shared, SESSIONS,
               "sessions", "10 of 10, 1 training", shared == SESSIONS and len(trained) == 1 and stored == 1,
               higher_is_better=True, note=f"trainings run by the worker: {len(trained)} (job {'; job '.join(trained)}); "
                    "websocket-protocol sessions pressed Train at once, 4/3/3 on the 3 processes"),
        Result("course: errors during the load run (30 sessions, 3 web processes, 1 worker)", len(errors), None,
               "errors", "0", not errors, note="; ".join(sorted(set(errors)))[:400]),
        Result("course: prediction p95 (reference: 1 process, 10 sessions)", p95(latencies) * 1000,
               p95(single[0]) * 1000, "ms", "≤ 1000 ms", p95(latencies) <= 1.0,
               note=f"{len(latencies)} predictions in {elapsed:.0f} s by 18 drawing sessions, with 6 playing "
                    f"({frame_rate:.1f} frames/s, {epoch_rate:.0f} epochs/s each) and 6 on Text (p95 of a sample {p95(samples) * 1000:.0f} ms, "
                    f"one process: {p95(single[1]) * 1000:.0f} ms); 3x the single process's load on the same 2 "
                    f"cores; CPU: the 4 processes {cpu['server']:.0%}, the 30 clients {cpu['client']:.0%} of a core"),
        Result("course: memory per web process (reference: the single process)", statistics.mean(web), single_size,
               "MB", "reported", None, note=f"mean size in the measured run of each web process: "
                    f"{', '.join(f'{mb:.0f}' for mb in web)} MB (trend {growth} MB/min), the worker {worker:.0f} MB"),
    ]
