"""What a server process holds: its size sampled in the background, and a probe inside it.

``Sampler`` samples a process's resident size (alone, and with its children: TensorBoard and its data
server run as children of the Streamlit server) from outside. The probe runs inside the server: a
server started with :func:`probe_env` loads ``tools/memory_probe/sitecustomize.py``, whose thread
answers :func:`ask_probe` with a report of what holds the memory (see ``tools/memory_probe``). The app
itself is unchanged; the probe only reads.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import psutil

PROBE_DIR = Path(__file__).resolve().parent / "memory_probe"


class Sampler:
    """Samples a process's RSS (MB), alone and with its children, every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.process = psutil.Process(pid)
        self.every = every
        self.started = time.perf_counter()
        self.samples: list[tuple[float, float, float]] = []  # (seconds, server MB, with children MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self) -> tuple[float, float]:
        own = self.process.memory_info().rss
        children = 0
        for child in self.process.children(recursive=True):
            try:
                children += child.memory_info().rss
            except psutil.Error:
                pass
        return own / 2**20, (own + children) / 2**20

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                own, tree = self.now()
            except psutil.Error:
                return
            self.samples.append((time.perf_counter() - self.started, own, tree))

    @property
    def peak(self) -> float:
        return max((own for _, own, _ in self.samples), default=0.0)

    @property
    def peak_with_children(self) -> float:
        return max((tree for _, _, tree in self.samples), default=0.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def probe_env(folder: Path, trace: bool = False) -> dict[str, str]:
    """Environment for ``start_app(extra_env=...)``: load the probe, which answers in ``folder``;
    ``trace`` also starts tracemalloc in the server (slower, more memory: for a diagnostic run)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (str(PROBE_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "DLP_MEMORY_PROBE": str(folder), "DLP_MEMORY_TRACE": "1" if trace else ""}


def ask_probe(folder: Path, name: str, timeout: float = 120.0) -> dict:
    """Ask the server's probe for a report (it collects garbage first) and return it."""
    report = folder / f"report-{name}.json"
    report.unlink(missing_ok=True)
    (folder / f"request-{name}").touch()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if report.exists():
            try:
                return json.loads(report.read_text())
            except ValueError:  # still being written
                pass
        time.sleep(0.2)
    raise TimeoutError(f"the server's memory probe did not answer '{name}' within {timeout:.0f} s")
