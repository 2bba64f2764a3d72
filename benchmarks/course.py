"""The course layout for the load benchmark: Redis, training workers and several Streamlit
processes sharing one model store, all on this machine (see README, "Serving a course").

Not a benchmark itself (no ``bench_`` prefix): ``benchmarks/bench_load.py`` uses it and reports its figures.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.browser import REPO, AppServer, free_port, start_app, stop_app, wait_healthy
from tools.streamlit_client import Page


@dataclass
class Course:
    cache: Path
    redis: subprocess.Popen
    queue_url: str
    workers: list[subprocess.Popen] = field(default_factory=list)
    servers: list[AppServer] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]


def start_course(cache: Path, web: int = 3, workers: int = 1) -> Course:
    """A scratch Redis on a free port, ``workers`` training workers and ``web`` Streamlit
    processes, all with ``DLP_CACHE_DIR=cache`` (each server logs into its own folder)."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise RuntimeError("redis-server not found (Debian: apt-get install redis-server)")
    port = free_port()
    redis = subprocess.Popen([redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    course = Course(cache, redis, url)
    env = {"DLP_QUEUE": url, "DLP_CACHE_DIR": str(cache)}
    try:
        _wait_for_redis(url)
        for n in range(workers):
            log = open(cache / f"worker-{n}.log", "wb")
            course.workers.append(subprocess.Popen([sys.executable, "-m", "core.worker"], cwd=REPO,
                                                   env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                                                   stdout=log, stderr=subprocess.STDOUT))
        course.servers = [start_app(cache / f"web-{n}", extra_env=env, wait=False) for n in range(web)]
        for server in course.servers:
            wait_healthy(server, timeout=120)
    except BaseException:
        stop_course(course)
        raise
    return course


def _wait_for_redis(url: str) -> None:
    import redis

    client, deadline = redis.Redis.from_url(url), time.time() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def stop_course(course: Course) -> None:
    for server in course.servers:
        stop_app(server)
    for process in [*course.workers, course.redis]:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def worker_trainings(course: Course) -> list[str]:
    """What the workers trained: the titles they logged, one per training."""
    titles = []
    for n in range(len(course.workers)):
        for line in (course.cache / f"worker-{n}.log").read_text(errors="replace").splitlines():
            if "dlp.queue INFO training job" in line:
                titles.append(line.split("training job", 1)[1].strip())
    return titles


async def shared_training(urls: list[str], limit: int, sessions: int = 10, timeout: float = 300.0) -> int:
    """``sessions`` websocket-protocol sessions spread over the web processes open the Draw page
    with an untrained Fast CNN (``limit`` training images), press Train at the same moment and
    wait for the Prediction the trained network gives. Returns how many got it."""
    ready, go = [], asyncio.Event()

    async def one(url: str) -> bool:
        page = Page(url, "draw", f"limit={limit}", timeout=60)
        try:
            await page.open()
            await page.wait_for(lambda: bool(page.find("Train Fast CNN", "button")) and not page.running,
                                180, "the Train button")
            ready.append(url)
            if len(ready) == sessions:
                go.set()
            await go.wait()
            await page.click("Train Fast CNN")
            await page.wait_for(lambda: page.metric("Prediction") is not None, timeout, "the trained network")
            return not page.errors
        except Exception:  # counted as a session not served
            go.set()
            return False
        finally:
            await page.close()

    served = await asyncio.gather(*(one(urls[i % len(urls)]) for i in range(sessions)))
    return sum(served)


@contextlib.contextmanager
def running_course(cache: Path, web: int = 3, workers: int = 1):
    course = start_course(cache, web, workers)
    try:
        yield course
    finally:
        stop_course(course)
