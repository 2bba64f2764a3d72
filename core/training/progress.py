"""What a training job reports while it runs: :class:`Progress` snapshots, written through the
:class:`Reporter` a kind's ``train`` receives. Shared by in-process jobs (``core.training.jobs``) and the
jobs of the shared queue (``core.training.queue``), whose workers publish the same snapshots to Redis."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.training.jobs import Job

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
        if self.status != RUNNING or self.step <= 0 or self.total_steps <= 0:
            return None
        return self.elapsed * (self.total_steps - self.step) / self.step


class Reporter:
    """Handed to ``Kind.train``: report progress, notice cancellation."""

    def __init__(self, job: "Job") -> None:
        self._job = job
        self.run_dir: Path = job.run_dir

    @property
    def cancelled(self) -> bool:
        return self._job._cancel.is_set()

    def check(self) -> None:
        """Raise TrainingCancelled if the user pressed Cancel."""
        if self.cancelled:
            raise TrainingCancelled("Training was cancelled.")

    def set_total(self, total_steps: int, epochs: int = 0) -> None:
        with self._job._lock:
            self._job._progress.total_steps = int(total_steps)
            self._job._progress.epochs = int(epochs)

    def step(self, step: int, **metrics: float) -> None:
        with self._job._lock:
            p = self._job._progress
            p.step = int(step)
            p.metrics.update({k: _finite(v) for k, v in metrics.items()})

    def epoch_end(self, epoch: int, **metrics: float) -> None:
        """Record one point of the training history (epoch counts from 1)."""
        clean = {k: _finite(v) for k, v in metrics.items()}
        with self._job._lock:
            p = self._job._progress
            p.epoch = int(epoch)
            p.metrics.update(clean)
            p.history.append({"epoch": int(epoch), "step": p.step,
                              "time": time.time() - (p.started or time.time()), **clean})

    def point(self, epoch: float, **metrics: float) -> None:
        """Record a point of the training curve inside an epoch (``epoch`` is fractional), so a
        one-epoch training still draws a curve while it runs."""
        clean = {k: _finite(v) for k, v in metrics.items()}
        with self._job._lock:
            self._job._progress.curve.append({"epoch": round(float(epoch), 4), **clean})

    def message(self, text: str) -> None:
        with self._job._lock:
            self._job._progress.message = text

    def log(self, text: str) -> None:
        """Append to the job's log (e.g. samples taken while training)."""
        with self._job._lock:
            self._job._progress.log.append({"step": self._job._progress.step, "text": text})


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
