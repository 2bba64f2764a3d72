"""One training, start to finish: the single code path every training takes, whether the
in-process :class:`core.training.jobs.JobManager` runs it in a thread or a worker of the shared queue
(:mod:`core.training.queue`) runs it for another process.

:func:`run_training` loads the model to continue from (if the config names one), lets the kind
train with a :class:`~core.training.progress.Reporter` on the given sink, and saves the model with
its record to the store. It never raises for a failed training: the :class:`Outcome` says what
happened, in a sentence the pages can show.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import AppError, TrainingCancelled
from core.paths import runs_dir
from core.training.kinds import get_kind
from core.training.progress import CANCELLED, DONE, FAILED, RUNNING, ProgressSink, Reporter
from core.training.resume import resume_arguments
from core.training.store import Entry, ModelStore

log = logging.getLogger("dlp.training")


@dataclass
class Outcome:
    status: str  # DONE, FAILED or CANCELLED
    error: str | None = None  # a sentence for the user when not DONE
    entry: Entry | None = None
    model: Any = None  # the model trained here (None when the store had it already)


def new_run_dir(kind: str, key: str, tag: str | int) -> Path:
    """A fresh TensorBoard folder for one run of (kind, key); ``tag`` tells runs apart."""
    return runs_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-{kind}-{key[:8]}-{tag}"


def run_training(store: ModelStore, kind_name: str, config: dict, key: str, title: str,
                 sink: ProgressSink, *, reuse_stored: bool = True, keep_in_memory: bool = True) -> Outcome:
    """Train (kind, config) into ``store`` under ``key``, reporting to ``sink``.

    ``reuse_stored``: if the store has ``key`` by now (trained meanwhile elsewhere), that is the
    outcome. ``keep_in_memory``: when the store's disk refuses the model (full, read-only), keep it
    in this process's memory and say so in ``store.warning`` (a lone app); otherwise the training
    fails with that reason (a queue worker, whose memory no web process can reach).
    """
    if sink.cancelled:
        return Outcome(CANCELLED, "Training was cancelled before it started.")
    if reuse_stored:
        stored = store.get(key)
        if stored is not None:
            return Outcome(DONE, entry=stored)
    sink.set(status=RUNNING, started=time.time())
    try:
        kind = get_kind(kind_name)
        reporter = Reporter(sink)
        model, extras = kind.train(config, reporter, **resume_arguments(store, kind, config))
        reporter.check()
        sink.set(phase="Saving to the model store…")
        progress = sink.snapshot()
        record = {"kind": kind_name, "title": title, "config": config, "history": progress.history,
                  "curve": progress.curve, "duration_s": round(progress.elapsed, 3),
                  "run_dir": str(sink.run_dir), **extras}
        return Outcome(DONE, entry=_save(store, key, model, record, kind.save, keep_in_memory), model=model)
    except TrainingCancelled:
        return Outcome(CANCELLED, "Training was cancelled.")
    except AppError as error:
        return Outcome(FAILED, str(error))
    except Exception as error:  # keep the caller alive; the page shows the message
        log.exception("training %s (%s) failed", key, title)
        return Outcome(FAILED, f"Training failed: {type(error).__name__}: {error}")


def _save(store: ModelStore, key: str, model: Any, record: dict, saver: Any, keep_in_memory: bool) -> Entry:
    try:
        return store.put(key, model, record, saver)
    except OSError as error:  # disk full, folder gone read-only...
        reason = error.strerror or str(error)
        if not keep_in_memory:
            raise AppError(f"The trained model could not be saved to the model store ({reason}).") from error
        store.warning = (f"Saving a trained model to the model cache failed ({reason}), so it is kept in "
                         "memory only and will be lost when the app stops; the models saved before are fine.")
        return store.keep_in_memory(key, model, record)
