"""A class at once, on one 2-core machine: 10 sessions on one Streamlit process, then a course of 30
over 3 web processes and 1 training worker (one store, one Redis), each measured for 4 minutes after
90 s of the same load, and the class size one process holds (``--quick``: 15 s after 5 s, no browsers).

Every session type a class brings: drawing digits (the time from the pen lifting to the new
Prediction), playing the Playground (pictures shown per second, paced as the component's playback
paces them in a browser), generating text (Generate to the finished sample) and switching the
Embeddings map (a new projection drawn). Reported per layout, side by side: errors (goal 0), the
prediction p95 (goal ≤ 1 s), the players' pictures per second, and each process's memory with its
trend once warm (a least-squares line over the 4 minutes: the size swings by ±25 MB as garbage comes
and goes, so a one-minute trend is decided by where in a swing it starts). Then the class size: the
single process under growing classes of the same mix (15, 20, 25, 30, 40 sessions, 45 s each after
20 s of warm-up) until the prediction p95 passes 1 s or a session fails (or, when the 10 already miss,
under 8, 6 and 4 until one holds). Exactly-once training is
checked in both layouts: 10 sessions ask for one untrained network at once (Chromium browsers for
the single process, protocol sessions over the 3 processes); one training must serve them all.

The load sessions are websocket-protocol clients (benchmarks/load_sessions.py over
tools/streamlit_client.py: Streamlit's own protocol, spoken as the frontend speaks it), not browsers:
on 2 cores, 10 Chromium tabs took the server's CPU and the run measured the load generator instead.
The clients' own CPU is reported beside the servers'. Each is one Streamlit session, as a tab is.
The pages use the models bundled with the app (assets/defaults/), as a class's first visit does.
A full run takes about 30 minutes.
"""
from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.course import running_course, shared_training, worker_trainings
from benchmarks.harness import Result, growth_per_minute, minute_means, p95
from benchmarks.load_sessions import READY_TIMEOUT, SESSIONS as SESSION_KINDS, Clock, Figures, session_mix
from tools.browser import CHROMIUM_ARGS, chromium_path, start_app, stop_app

SESSIONS = 10  # per web process
# Measured after this much of the same load: the first minute and a half still fills caches
# (TensorFlow's kernels, Streamlit's messages, malloc's arenas) at tens of MB a minute; the
# trend after it is what a long class would see (see benchmarks/RESULTS.md).
WARM_UP_SECONDS = 90
LOAD_SECONDS = 240
CLASS_STEPS = (15, 20, 25, 30, 40)  # sessions on one process, until the prediction p95 passes 1 s
SMALLER_CLASSES = (8, 6, 4)  # when the main run's 10 already miss it
STEP_SECONDS, STEP_WARM_UP = 45, 20


@dataclass
class LoadRun:
    figures: Figures
    memory: dict[str, list[tuple[float, float]]]  # process -> (seconds into the measured run, MB)
    cpu: dict[str, float]  # cores busy: "servers", "clients"
    elapsed: float
    sessions: int
    per_url: int


async def load_run(urls: list[str], per_url: int, seconds: float, processes: dict[str, int],
                   warm_up: float = 0.0) -> LoadRun:
    """``per_url`` sessions (:func:`session_mix`) on each server; the clock starts when all have their
    page ready, and what is measured is the ``seconds`` after ``warm_up`` seconds of the same load."""
    watched = {name: psutil.Process(pid) for name, pid in processes.items()}
    me, figures = psutil.Process(), Figures()
    plan = [(url, kind) for url in urls for kind in session_mix(per_url)]
    clock = Clock(len(plan), seconds, warm_up)

    async def session(url: str, kind: str) -> None:
        try:
            await SESSION_KINDS[kind](url, clock, figures)
        finally:
            clock.give_up()

    tasks = asyncio.gather(*(session(url, kind) for url, kind in plan))
    await asyncio.wait_for(clock.go.wait(), timeout=READY_TIMEOUT + 60)
    memory: dict[str, list[tuple[float, float]]] = {name: [] for name in watched}
    sampling = asyncio.create_task(sample_memory(watched, clock.measure_from, memory))
    await asyncio.sleep(warm_up)
    cpu_time = lambda ps: sum(sum(p.cpu_times()[:2]) for p in ps)  # noqa: E731
    before = {"servers": cpu_time(watched.values()), "clients": cpu_time([me])}
    started = time.perf_counter()
    await asyncio.wait_for(tasks, timeout=seconds + 120)
    elapsed = time.perf_counter() - started
    sampling.cancel()
    cpu = {"servers": (cpu_time(watched.values()) - before["servers"]) / elapsed,
           "clients": (cpu_time([me]) - before["clients"]) / elapsed}
    return LoadRun(figures, memory, cpu, elapsed, len(plan), per_url)


async def sample_memory(processes: dict[str, psutil.Process], started: float, samples: dict) -> None:
    while True:
        for name, process in processes.items():
            samples[name].append((time.perf_counter() - started, process.memory_info().rss / 2**20))
        await asyncio.sleep(1)


async def exactly_once(browser, url: str, limit: int) -> int:
    """10 browser sessions press Train on the same untrained network at once; how many get the model."""
    contexts = [await browser.new_context(viewport={"width": 1300, "height": 1000}) for _ in range(SESSIONS)]
    pages = [await c.new_page() for c in contexts]
    await asyncio.gather(*(p.goto(f"{url}/draw?limit={limit}") for p in pages))
    buttons = [p.get_by_role("button", name="Train Fast CNN") for p in pages]
    await asyncio.gather(*(b.wait_for(timeout=120_000) for b in buttons))
    await asyncio.gather(*(b.click() for b in buttons))
    served = await asyncio.gather(*(
        p.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for(timeout=300_000)
        for p in pages), return_exceptions=True)
    for c in contexts:
        await c.close()
    return sum(1 for s in served if not isinstance(s, Exception))


async def exactly_once_run(url: str, chromium: str, limit: int) -> int:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            return await exactly_once(browser, url, limit)
        finally:
            await browser.close()


def low_priority_chromium(folder: Path) -> str:
    """Chromium started through ``nice -n 19``: in a class each browser runs on its own machine,
    so the 10 browsers of the exactly-once check must not take the server's 2 cores from it."""
    wrapper = folder / "chromium-nice"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n 19 "{chromium_path()}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def count_trainings(cache: Path, limit: int) -> int:
    count = 0
    for record in (cache / "models").glob("*/record.json"):
        config = json.loads(record.read_text()).get("config", {})
        count += config.get("arch") == "fast_cnn" and config.get("train_limit") == limit
    return count


def holds(run: LoadRun) -> bool:
    return not run.figures.errors and p95(run.figures.predictions) <= 1.0


def class_size(url: str, pid: int, quick: bool, main_run: LoadRun) -> list[tuple[int, LoadRun]]:
    """The single process under growing classes until the prediction p95 passes 1 s or a session
    fails; or, when the main run's class already did, under smaller ones until one holds."""
    bigger = holds(main_run)
    steps = (12, 16) if quick and bigger else (6, 3) if quick else CLASS_STEPS if bigger else SMALLER_CLASSES
    seconds, warm_up = (10, 3) if quick else (STEP_SECONDS, STEP_WARM_UP)
    runs = []
    for sessions in steps:
        run = asyncio.run(load_run([url], sessions, seconds, {"server": pid}, warm_up))
        runs.append((sessions, run))
        if holds(run) != bigger:
            break
    return runs


def run(quick: bool = False) -> list[Result]:
    """Both layouts in one run, each after its own warm-up, then the class size."""
    if chromium_path() is None and not quick:
        raise RuntimeError("Chromium not found (install Debian's 'chromium' or set CHROMIUM_PATH)")
    seconds, warm_up = (15, 5) if quick else (LOAD_SECONDS, WARM_UP_SECONDS)
    cache = Path(tempfile.mkdtemp(prefix="dlp-load-"))
    server = start_app(cache, extra_env={"DLP_QUEUE": "", "DLP_BUNDLED": "1"})
    try:
        served = None if quick else asyncio.run(exactly_once_run(server.url, low_priority_chromium(cache), 2000))
        single = asyncio.run(load_run([server.url], SESSIONS, seconds, {"server": server.process.pid}, warm_up))
        steps = class_size(server.url, server.process.pid, quick, single)
    finally:
        stop_app(server)
    results = single_results(single, served, count_trainings(cache, 2000), seconds, warm_up)
    results.append(class_size_result(single, steps))
    course_cache = Path(tempfile.mkdtemp(prefix="dlp-course-"))
    shutil.copytree(cache / "models", course_cache / "models")  # the same bundled models
    limit = 500 if quick else 1500  # a Fast CNN nobody trained yet, for the course's exactly-once check
    with running_course(course_cache, web=3, workers=1) as course:
        shared = asyncio.run(shared_training(course.urls, limit))
        trained = worker_trainings(course)
        processes = {f"web-{n + 1}": s.process.pid for n, s in enumerate(course.servers)}
        processes["worker"] = course.workers[0].pid
        many = asyncio.run(load_run(course.urls, SESSIONS, seconds, processes, warm_up))
    return results + course_results(single, many, shared, trained, count_trainings(course_cache, limit))


# ---- the report -----------------------------------------------------------------------------------

def measured(samples: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(t, mb) for t, mb in samples if t >= 0]  # after the warm-up


def mean_size(samples: list[tuple[float, float]]) -> float:
    sizes = [mb for _, mb in measured(samples)]
    return statistics.mean(sizes) if sizes else float("nan")


def memory_note(name: str, samples: list[tuple[float, float]]) -> str:
    warm = measured(samples)
    sizes = [mb for _, mb in warm]
    means = ", ".join(f"{mb:.0f}" for mb in minute_means(warm)) or "n/a"
    return (f"{name} {statistics.mean(sizes) if sizes else float('nan'):.0f} MB "
            f"({min(sizes, default=0):.0f}-{max(sizes, default=0):.0f}; trend {growth_per_minute(warm):+.1f} MB/min; "
            f"minute means {means})")


def players(run: LoadRun) -> tuple[float, str]:
    """The mean pictures a second per player, and what else the players measured, in words."""
    rates = run.figures.players
    if not rates:
        return float("nan"), "no player finished"
    mean = lambda key: statistics.mean(p[key] for p in rates)  # noqa: E731
    return mean("pictures_per_s"), (
        f"{len(rates)} players: pictures shown {', '.join(format(p['pictures_per_s'], '.1f') for p in rates)}/s "
        f"(frames new to the session {mean('fresh_per_s'):.1f}/s, {mean('epochs_per_s'):.0f} epochs/s each); "
        f"fragment runs {sum(p['runs_finished'] for p in rates)} finished, "
        f"{sum(p['runs_cut_short'] for p in rates)} cut short by the next ask")


def what_ran(run: LoadRun, processes: str) -> str:
    f, mix = run.figures, session_mix(run.per_url)
    kinds = ", ".join(f"{mix.count(kind)} {kind}" for kind in SESSION_KINDS)
    return (f"{len(f.predictions)} predictions, {len(f.samples)} text samples (p95 {p95(f.samples) * 1000:.0f} ms), "
            f"{len(f.maps)} Embeddings map switches (p95 {p95(f.maps) * 1000:.0f} ms) in {run.elapsed:.0f} s by "
            f"{run.sessions} sessions ({kinds} per web process); CPU: {processes} {run.cpu['servers']:.0%}, "
            f"the clients {run.cpu['clients']:.0%} of a core")


def single_results(single: LoadRun, served: int | None, trainings: int, seconds: float, warm_up: float) -> list[Result]:
    f, memory = single.figures, single.memory["server"]
    warm = measured(memory)
    growth = growth_per_minute(warm)
    per_prediction_kb = (growth * 1024 / 60 / (len(f.predictions) / single.elapsed)) if f.predictions else float("nan")
    picture_rate, player_note = players(single)
    exactly_once = [] if served is None else [
        Result("sessions served by one shared training (of 10)", served, SESSIONS, "sessions", "10 of 10, 1 training",
               served == SESSIONS and trainings == 1, higher_is_better=True,
               note=f"trainings started: {trainings}; 10 Playwright browser contexts in Chromium (nice 19)")]
    return exactly_once + [
        Result("errors during the load run", len(f.errors), None, "errors", "0", not f.errors,
               note="; ".join(sorted(set(f.errors)))[:400]),
        Result("prediction p95, mouse-up to updated Prediction", p95(f.predictions) * 1000, None, "ms", "≤ 1000 ms",
               p95(f.predictions) <= 1.0, note=what_ran(single, "the server") + "; timed from sending the stroke "
               "(the canvas's state, sent when the pen lifts) to the message with the new Prediction"),
        Result("Playground pictures per second per player (paced as in the browser)", picture_rate, None,
               "pictures/s", "≥ 20 pictures/s", picture_rate >= 20, higher_is_better=True, note=player_note),
        Result("text sample p95, Generate to a finished 300-character sample", p95(f.samples) * 1000, None, "ms",
               "no goal; reported", None, note=f"{len(f.samples)} samples"),
        Result("Embeddings map switch p95 (Spherize, PCA redrawn)", p95(f.maps) * 1000, None, "ms",
               "no goal; reported", None, note=f"{len(f.maps)} switches"),
        Result("server memory growth once warm", growth, None, "MB/min", "no growth per request",
               per_prediction_kb < 10, note=f"{per_prediction_kb:.1f} kB per prediction: the trend over the measured "
               f"{seconds:.0f} s, after {warm_up:.0f} s of the same load (least squares, one sample a second); "
               + memory_note("size", memory)),
    ]


def class_size_result(single: LoadRun, steps: list[tuple[int, LoadRun]]) -> Result:
    """The most sessions (of the same mix) whose prediction p95 stayed ≤ 1 s without an error."""
    tried = sorted([(single.sessions, single)] + steps, key=lambda step: step[0])
    held = [n for n, run in tried if holds(run)]
    largest = max(held, default=0)
    last_ok = all(holds(run) for _, run in tried)
    detail = "; ".join(f"{n}: p95 {p95(run.figures.predictions) * 1000:.0f} ms over {run.elapsed:.0f} s, "
                       f"{len(run.figures.errors)} errors, "
                       f"CPU server {run.cpu['servers']:.0%} clients {run.cpu['clients']:.0%}" for n, run in tried)
    return Result("class size one process holds (prediction p95 ≤ 1 s, no errors)", largest, None, "sessions",
                  "reported", None, higher_is_better=True,
                  note=(f"at least {largest}: the largest class tried held" if last_ok else
                        f"{largest}: the next larger class passed 1 s or failed" if largest else
                        "none of the classes tried held") +
                       f"; the same mix ({', '.join(SESSION_KINDS)}), each class measured after a warm-up "
                       f"(the {single.sessions}: the main run); {detail}")


def course_results(single: LoadRun, many: LoadRun, shared: int, trained: list[str], stored: int) -> list[Result]:
    """The course layout's figures, each beside the single process's of the same run."""
    f = many.figures
    webs = [name for name in many.memory if name.startswith("web")]
    web_sizes = [mean_size(many.memory[name]) for name in webs]
    picture_rate, player_note = players(many)
    single_rate, _ = players(single)
    growths = {"single": growth_per_minute(measured(single.memory["server"])),
               **{name: growth_per_minute(measured(samples)) for name, samples in many.memory.items()}}
    return [
        Result("course: sessions served by one shared training (10 over 3 web processes)", shared, SESSIONS,
               "sessions", "10 of 10, 1 training", shared == SESSIONS and len(trained) == 1 and stored == 1,
               higher_is_better=True, note=f"trainings run by the worker: {len(trained)} (job {'; job '.join(trained)}); "
               "websocket-protocol sessions pressed Train at once, 4/3/3 on the 3 processes"),
        Result(f"course: errors during the load run ({many.sessions} sessions, {len(webs)} web processes, 1 worker)",
               len(f.errors), None, "errors", "0", not f.errors, note="; ".join(sorted(set(f.errors)))[:400]),
        Result(f"course: prediction p95 (reference: 1 process, {single.sessions} sessions)", p95(f.predictions) * 1000,
               p95(single.figures.predictions) * 1000, "ms", "≤ 1000 ms", p95(f.predictions) <= 1.0,
               note=what_ran(many, f"the {len(many.memory)} processes") + f"; {len(webs)}x the single process's "
               "load on the same 2 cores"),
        Result("course: Playground pictures per second per player (reference: 1 process)", picture_rate, single_rate,
               "pictures/s", "≥ 20 pictures/s", picture_rate >= 20, higher_is_better=True, note=player_note),
        Result("course: text sample p95 (reference: 1 process)", p95(f.samples) * 1000,
               p95(single.figures.samples) * 1000, "ms", "no goal; reported", None, note=f"{len(f.samples)} samples"),
        Result("course: Embeddings map switch p95 (reference: 1 process)", p95(f.maps) * 1000,
               p95(single.figures.maps) * 1000, "ms", "no goal; reported", None, note=f"{len(f.maps)} switches"),
        Result("course: memory per web process (reference: the single process)", statistics.mean(web_sizes),
               mean_size(single.memory["server"]), "MB", "reported", None,
               note="; ".join(memory_note(name, many.memory[name]) for name in many.memory)),
        Result("course: memory growth once warm, the fastest-growing web process (reference: 1 process)",
               max(growths[name] for name in webs), growths["single"], "MB/min", "reported", None,
               note=", ".join(f"{name} {growth:+.1f}" for name, growth in growths.items())),
        Result("course: worker memory", mean_size(many.memory["worker"]), None, "MB", "reported", None,
               note=memory_note("worker", many.memory["worker"])),
    ]
