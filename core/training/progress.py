"""What a training reports while it runs.

A kind's ``train`` receives a :class:`Reporter`; what it reports lands in a :class:`ProgressSink`,
one per running training, which whoever shows the training reads as :class:`Progress` snapshots:
the in-process job (``core.training.jobs``) and the shared queue's heartbeat, which publishes the
same snapshots to Redis (``core.training.queue``). Cancel is asked for through the sink too.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from core.errors import TrainingCancelled

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


@dataclass
class Progress:
    """A snapshot of a job, safe to read from any thread."""

    status: str = QUEUED
    step: int = 0
    total_steps: int = 0
    epoch: int = 0
    epochs: int = 0
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    curve: list = field(default_factory=list)  # training metrics within epochs, at fractional epochs
    log: list = field(default_factory=list)
    message: str = ""
    phase: str = ""  # after the last step: what the training does now (evaluating, saving)
    started: float | None = None
    finished: float | None = None
    queue_position: int = 0

    @property
    def fraction(self) -> float:
        if self.status == DONE:
            return 1.0
        if self.total_steps <= 0:
            return 0.0
        return min(1.0, self.step / self.total_steps)

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started

    @property
    def eta_seconds(self) -> float | None:
        if self.status != RUNNING or self.phase or self.step <= 0 or self.total_steps <= 0:
            return None  # (in a phase the steps are done, and what is left is not measured in them)
        return self.elapsed * (self.total_steps - self.step) / self.step

    def copy(self) -> "Progress":
        return replace(self, metrics=dict(self.metrics), history=list(self.history),
                       curve=list(self.curve), log=list(self.log))


class ProgressSink:
    """One training's progress while it runs, and its Cancel flag: written by the training (through
    its :class:`Reporter`) and by whoever runs it, read from any thread as :meth:`snapshot`."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir  # this run's TensorBoard folder
        self._progress = Progress()
        self._lock = threading.Lock()
        self._cancel = threading.Event()

    def snapshot(self) -> Progress:
        with self._lock:
            return self._progress.copy()

    def set(self, **fields: Any) -> None:
        """Replace fields of the progress, e.g. ``set(status=RUNNING, started=time.time())``."""
        with self._lock:
            for name, value in fields.items():
                setattr(self._progress, name, value)

    def change(self, edit: Callable[[Progress], None]) -> None:
        """Apply ``edit`` to the progress under the lock (for changes that read it too)."""
        with self._lock:
            edit(self._progress)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class Reporter:
    """Handed to ``Kind.train``: report progress, notice cancellation."""

    def __init__(self, sink: ProgressSink) -> None:
        self._sink = sink
        self.run_dir: Path = sink.run_dir

    @property
    def cancelled(self) -> bool:
        return self._sink.cancelled

    def check(self) -> None:
        """Raise TrainingCancelled if the user pressed Cancel."""
        if self.cancelled:
            raise TrainingCancelled("Training was cancelled.")

    def set_total(self, total_steps: int, epochs: int = 0) -> None:
        self._sink.set(total_steps=int(total_steps), epochs=int(epochs))

    def step(self, step: int, **metrics: float) -> None:
        clean = {k: _finite(v) for k, v in metrics.items()}

        def edit(p: Progress) -> None:
            p.step = int(step)
            p.metrics.update(clean)
        self._sink.change(edit)

    def epoch_end(self, epoch: int, **metrics: float) -> None:
        """Record one point of the training history (epoch counts from 1)."""
        clean = {k: _finite(v) for k, v in metrics.items()}

        def edit(p: Progress) -> None:
            p.epoch = int(epoch)
            p.metrics.update(clean)
            p.history.append({"epoch": int(epoch), "step": p.step,
                              "time": time.time() - (p.started or time.time()), **clean})
        self._sink.change(edit)

    def point(self, epoch: float, **metrics: float) -> None:
        """Record a point of the training curve inside an epoch (``epoch`` is fractional), so a
        one-epoch training still draws a curve while it runs."""
        clean = {k: _finite(v) for k, v in metrics.items()}
        self._sink.change(lambda p: p.curve.append({"epoch": round(float(epoch), 4), **clean}))

    def message(self, text: str) -> None:
        self._sink.set(message=text)

    def phase(self, text: str) -> None:
        """Say what the training does after its last step, e.g. "Measuring accuracy on the 10,000
        test digits…": the pages show it instead of a time left, which the steps cannot tell."""
        self._sink.set(phase=text)

    def log(self, text: str) -> None:
        """Append to the job's log (e.g. samples taken while training)."""
        self._sink.change(lambda p: p.log.append({"step": p.step, "text": text}))


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
