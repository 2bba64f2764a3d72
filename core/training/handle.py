"""What a page holds of a training: a :class:`JobHandle`.

Two classes implement it: :class:`core.training.jobs.Job` (trained in this process) and
:class:`core.training.remote.RemoteJob` (trained by a worker of the shared queue, read from
Redis). Pages, the CLI and the benchmarks use only what is declared here, so they work with
either; tests/test_jobs.py checks that both classes have every member with the same signature.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from core.training.progress import Progress
from core.training.store import Entry


@runtime_checkable
class JobHandle(Protocol):
    id: int
    kind: str  # the kind's name, as in core.training.kinds.KINDS
    key: str  # the store key of (kind, normalised config)
    title: str
    config: dict  # normalised
    trained_here: bool  # True when this process ran the training (never for a RemoteJob)

    @property
    def status(self) -> str:
        """queued, running, done, failed or cancelled (core.training.progress)."""

    @property
    def finished(self) -> bool:
        """Done, failed or cancelled."""

    @property
    def error(self) -> str | None:
        """Why it failed or was cancelled: a sentence for the user."""

    @property
    def entry(self) -> Entry | None:
        """The store entry, once done."""

    @property
    def progress(self) -> Progress:
        """A snapshot: status, steps, epochs, metrics, history, curve, log, queue position."""

    def cancel(self) -> None:
        """Ask the training to stop (a queued one never starts)."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished or ``timeout`` seconds; True if finished."""

    def model(self) -> Any:
        """The trained model (AppError if not trained)."""
