"""App cold start (process start to home page shown in Chromium) and peak server memory with every page visited.

Reference, in the same run: a one-line Streamlit "hello" app started and measured the same way.
"""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import psutil

from benchmarks.harness import Result
from tools.browser import CHROMIUM_ARGS, chromium_path, start_app, stop_app, wait_until_idle

PAGES = ["draw", "playground", "text", "embeddings", "runs"]
COLD_START_TARGET_S = 5.0
MEMORY_TARGET_MB = 1536.0


class PeakMemory:
    """Samples a process tree's resident memory in a background thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            try:
                tree = [self.process] + self.process.children(recursive=True)
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def cold_start(browser, script: Path, heading: str) -> tuple[float, float, object]:
    """Seconds from process start to the heading on screen, and the memory sampler."""
    cache = Path(tempfile.mkdtemp(prefix="dlp-bench-"))
    server = start_app(cache, script=script, wait=False)
    memory = PeakMemory(server.process.pid)
    page = browser.new_page()
    deadline = time.time() + 60
    while True:
        try:
            page.goto(server.url, timeout=2000)
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    seconds = time.perf_counter() - server.started
    return seconds, memory, (server, page)


def visit_pages(page, url: str) -> None:
    for path in PAGES:
        page.goto(f"{url}/{path}")
        page.get_by_role("heading").first.wait_for(timeout=120_000)
        wait_until_idle(page, timeout=120)
        time.sleep(1.0)  # let fragments tick once


def run(quick: bool = False) -> list[Result]:
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    if chromium is None:
        raise RuntimeError("Chromium not found (install Debian's 'chromium' or set CHROMIUM_PATH)")
    hello = Path(tempfile.mkdtemp(prefix="hello-")) / "hello.py"
    hello.write_text('import streamlit as st\nst.title("Hello")\n')
    repeats = 1 if quick else 3
    ours_times, reference_times = [], []
    ours_memory = reference_memory = 0.0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for attempt in range(repeats):
            seconds, memory, (server, page) = cold_start(browser, hello, "Hello")
            reference_times.append(seconds)
            reference_memory = max(reference_memory, memory.stop())
            page.close()
            stop_app(server)

            from tools.browser import REPO

            seconds, memory, (server, page) = cold_start(browser, REPO / "app.py", "Deep Learning Playground")
            ours_times.append(seconds)
            if attempt == repeats - 1:
                visit_pages(page, server.url)
            ours_memory = max(ours_memory, memory.stop())
            page.close()
            stop_app(server)
        browser.close()
    ours, reference = sorted(ours_times)[len(ours_times) // 2], sorted(reference_times)[len(reference_times) // 2]
    return [
        Result("cold start to home page", ours, reference, "s", f"≤ {COLD_START_TARGET_S:.0f} s",
               ours <= COLD_START_TARGET_S, note=f"median of {repeats}"),
        Result("peak server memory, every page visited", ours_memory, reference_memory, "MB",
               f"≤ {MEMORY_TARGET_MB:.0f} MB", ours_memory <= MEMORY_TARGET_MB,
               note="reference: a one-line hello app; the ratio is its memory divided by ours"),
    ]
