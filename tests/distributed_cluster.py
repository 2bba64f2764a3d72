"""A course's queue in miniature for the multi-process tests: a real ``redis-server`` on a free loopback
port, "web processes" (``python -m tests.distributed_app``: the app's JobManager in queue mode, driven
over stdin) and workers (``python -m core.worker``), all on one cache folder. The model kind is
tests/distributed_kind.py: held at a gate file, counted in a file, so each test takes seconds.
Without redis-server the tests are skipped with a message, except under CI=true, where they fail.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.browser import free_port

REPO = Path(__file__).resolve().parent.parent
CONFIG = {"size": 3}
WORKER = "from tests.distributed_kind import register; register(); from core.worker import main; main(['--no-preload'])"


def installed(tool: str, why: str) -> str:
    """The path of a service the tests start (Debian puts nginx in /usr/sbin, which a user's PATH
    may lack). Missing, the test fails under CI=true and is skipped loudly elsewhere."""
    path = shutil.which(tool) or next((p for p in (f"/usr/sbin/{tool}", f"/sbin/{tool}") if os.path.exists(p)), None)
    if path is None:
        message = f"{tool} is not installed (Debian: apt-get install {tool}); {why}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        print(f"\n*** SKIPPING: {message} ***", file=sys.stderr)
        pytest.skip(message)
    return path


def redis_server_path() -> str:
    return installed("redis-server", "the queue tests need it")


def wait_until(condition, timeout: float = 20.0, what: str = "the condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Process:
    def __init__(self, args: list[str], env: dict, log: Path, preexec_fn=None):
        self.log = log
        self.popen = subprocess.Popen(args, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=open(log, "wb"), text=True, bufsize=1, preexec_fn=preexec_fn)

    def send(self, op: str, **fields) -> None:
        self.popen.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.popen.stdin.flush()

    def receive(self, timeout: float = 30.0) -> dict:
        ready, _, _ = select.select([self.popen.stdout], [], [], timeout)
        line = self.popen.stdout.readline() if ready else ""
        if not line:
            raise AssertionError(f"no answer from {self.popen.args}; its log:\n{self.log.read_text()[-3000:]}")
        answer = json.loads(line)
        assert "failure" not in answer, answer["failure"]
        return answer

    def ask(self, op: str, **fields) -> dict:
        self.send(op, **fields)
        return self.receive()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)


class Cluster:
    """Redis, and the web and worker processes a test starts, on one shared cache folder."""

    def __init__(self, root: Path, lease: float, persistent: bool = False):
        """``persistent``: Redis keeps its data over a restart (an append-only file, as deploy/ runs it)."""
        self.root, self.processes, self.persistent = root, [], persistent
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.redis: subprocess.Popen | None = None
        self.start_redis()
        self.env = {**os.environ, "DLP_QUEUE": self.url, "DLP_CACHE_DIR": str(root / "cache"),
                    "DLP_TEST_DIR": str(root), "DLP_LEASE_SECONDS": str(lease), "PYTHONUNBUFFERED": "1"}

    def start_redis(self) -> None:
        import redis

        persistence = ["--appendonly", "yes", "--dir", str(self.root)] if self.persistent else ["--appendonly", "no"]
        self.redis = subprocess.Popen([redis_server_path(), "--port", str(self.port), "--bind", "127.0.0.1",
                                       "--save", "", *persistence],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url)
        wait_until(lambda: self._pings(client), 10, "redis-server to answer")
        client.close()

    def stop_redis(self) -> None:
        """Stop Redis as a restart does (SIGTERM: it writes its append-only file first)."""
        self.redis.terminate()
        self.redis.wait(10)

    @staticmethod
    def _pings(client) -> bool:
        try:
            return bool(client.ping())
        except Exception:
            return False

    def start(self, args: list[str], name: str, preexec_fn=None) -> Process:
        process = Process([sys.executable, *args], self.env, self.root / f"{name}-{len(self.processes)}.log",
                          preexec_fn)
        self.processes.append(process)
        return process

    def app(self) -> Process:
        return self.start(["-m", "tests.distributed_app"], "app")

    def worker(self, preexec_fn=None) -> Process:
        return self.start(["-c", WORKER], "worker", preexec_fn)

    def trainings(self, log: str = "trainings") -> list[tuple[int, float]]:
        """(pid, time) of each training's start (``log="ended"``: of each one's end, however it ended)."""
        path = self.root / log
        lines = path.read_text().splitlines() if path.exists() else []
        return [(int(pid), float(when)) for pid, when in (line.split() for line in lines)]

    def open_gate(self) -> None:
        (self.root / "gate").touch()

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        if self.redis.poll() is None:
            self.redis.terminate()
        self.redis.wait(10)


def running(app: Process, config: dict = CONFIG) -> dict | None:
    """The job's progress once it is running and its worker's first heartbeat has published it."""
    answer = app.ask("progress", config=config)
    return answer if answer["status"] == "running" and answer["total_steps"] else None
