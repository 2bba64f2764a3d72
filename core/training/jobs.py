"""Training on demand, as background jobs owned by ``core``.

A job is a thread-run training of one (kind, config). It belongs to the
process, not to a Streamlit session, so a rerun, a moved slider or a page
switch never stops it. Asking for a config that is already trained returns a
finished job backed by the model store; asking for one that is already queued
or training returns that same job, so one config means one training, however
many sessions ask. At most ``max_running`` jobs train at once (default one:
two CPU cores are busy enough with one TensorFlow training), the rest queue.

That is the default, and needs no setup. When ``DLP_QUEUE`` names a Redis server, the manager
hands trainings to the shared queue instead (``core.training.queue``): several web processes ask, worker
processes (``python -m core.worker``) train, and the jobs they return (``RemoteJob``) read their
progress from Redis, with the same interface as :class:`Job`.
"""
from __future__ import annotations

import importlib
import itertools
import os
import threading
import time
import traceback
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

from core.errors import BadConfig, AppError, TrainingCancelled, UnknownModel
from core.paths import runs_dir
from core.training.progress import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Progress, Reporter  # noqa: F401 (API)
from core.training.resume import resume_arguments
from core.training.store import Entry, ModelStore, config_key

#: kind name -> "module:attribute" of an object implementing :class:`Kind`.
#: Imported on first use, so TensorFlow loads only when a model is needed.
KINDS: dict[str, str] = {
    "digits": "core.digits.models:KIND",
    "charlstm": "core.text.charlstm:KIND",
    "sequence": "core.text.sequences:KIND",
}

class Kind(Protocol):
    """What a trainable family of models has to provide."""

    name: str

    def normalize(self, config: dict) -> dict:
        """Fill defaults and validate; raise BadConfig with a clear message."""

    def title(self, config: dict) -> str:
        """A short human name for this config, e.g. 'Fast CNN, 3 epochs'."""

    def train(self, config: dict, reporter: "Reporter") -> tuple[Any, dict]:
        """Train and return (model, record extras such as metrics). A kind that continues stored
        models also takes ``resume``: a fresh copy of the model ``config["resume"]`` names."""

    def save(self, model: Any, folder: Path) -> None: ...

    def load(self, folder: Path) -> Any: ...


def get_kind(name: str) -> Kind:
    if name not in KINDS:
        known = ", ".join(sorted(KINDS))
        raise UnknownModel(f"Unknown model kind '{name}'. Known kinds: {known}.")
    module_name, attribute = KINDS[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)


class Job:
    _ids = itertools.count(1)

    def __init__(self, manager: "JobManager", kind: str, config: dict, key: str, title: str):
        self.id = next(self._ids)
        self.manager = manager
        self.kind = kind
        self.config = config
        self.key = key
        self.title = title
        self.error: str | None = None
        self.entry: Entry | None = None
        self.trained_here = False  # True when this process ran the training
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = runs_dir() / f"{stamp}-{kind}-{key[:8]}-{self.id}"
        self._progress = Progress()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._done = threading.Event()

    @property
    def progress(self) -> Progress:
        with self._lock:
            p = self._progress
            snapshot = Progress(**{**p.__dict__, "metrics": dict(p.metrics),
                                   "history": list(p.history), "curve": list(p.curve),
                                   "log": list(p.log)})
        if snapshot.status == QUEUED:
            snapshot.queue_position = self.manager.queue_position(self)
        return snapshot

    @property
    def status(self) -> str:
        return self._progress.status

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        self._cancel.set()
        if self.status == QUEUED:
            self.manager._drop_queued(self)
            self._finish(CANCELLED, "Training was cancelled before it started.")

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def model(self) -> Any:
        """The trained model (loaded from the store once, then cached)."""
        if self.entry is None:
            raise AppError(f"{self.title} is not trained yet ({self.status}).")
        return self.manager.load_entry(self.kind, self.entry)

    def _set_status(self, status: str) -> None:
        with self._lock:
            self._progress.status = status
            if status == RUNNING:
                self._progress.started = time.time()

    def _finish(self, status: str, error: str | None = None) -> None:
        with self._lock:
            self._progress.status = status
            self._progress.finished = time.time()
            self.error = error
        self._done.set()
        self.manager._forget(self)


class JobManager:
    def __init__(self, store: ModelStore | None = None, max_running: int | None = None,
                 queue_url: str | None = None):
        """``queue_url``: a Redis URL for the shared queue; None reads ``DLP_QUEUE``; '' trains here."""
        self.store = store or ModelStore()
        url = os.environ.get("DLP_QUEUE", "").strip() if queue_url is None else queue_url
        if url:
            from core.training.queue import TaskQueue  # imports huey and redis, only when configured

            self.queue: Any = TaskQueue(url, self)
        else:
            self.queue = None
        self.max_running = max_running or int(os.environ.get("DLP_MAX_TRAININGS", "1"))
        self._lock = threading.RLock()  # _finish -> _forget may run under it
        self._active: dict[str, Job] = {}  # key -> queued or running job
        self._queue: list[Job] = []
        self._wakeup = threading.Condition(self._lock)
        self._workers: list[threading.Thread] = []
        self._loaded: OrderedDict[tuple[str, float], Any] = OrderedDict()
        self._recent: list[Job] = []  # finished jobs, for the UI

    # ---- asking for models ---------------------------------------------
    def key_for(self, kind: str, config: dict) -> tuple[dict, str]:
        normalized = get_kind(kind).normalize(dict(config))
        return normalized, config_key({"kind": kind, **normalized})

    def request(self, kind: str, config: dict, retrain: bool = False) -> Job:
        """A job for this config: finished if stored, shared if under way."""
        normalized, key = self.key_for(kind, config)
        title = get_kind(kind).title(normalized)
        if self.queue is not None:
            shared = self.queue.active(key)
            if shared is not None:
                return shared
            if retrain or self.store.get(key) is None:
                return self.queue.submit(kind, normalized, key, title, retrain)
        with self._lock:
            if key in self._active:
                return self._active[key]
            entry = None if retrain else self.store.get(key)
            job = Job(self, kind, normalized, key, title)
            if entry is not None:
                job.entry = entry
                job._progress.history = list(entry.record.get("history", []))
                job._progress.curve = list(entry.record.get("curve", []))
                job._progress.metrics = dict(entry.record.get("metrics", {}))
                job._finish(DONE)
                return job
            self._active[key] = job
            self._queue.append(job)
            self._ensure_workers()
            self._wakeup.notify()
            return job

    def find(self, kind: str, config: dict) -> Job | None:
        """The job for this config without starting one: trained, training, queued,
        or the last one that failed or was cancelled (so a page can show why)."""
        normalized, key = self.key_for(kind, config)
        if self.queue is not None:
            shared = self.queue.active(key)
            if shared is not None:
                return shared
            if self.store.get(key) is not None:
                return self.request(kind, normalized)
            last = self.queue.last_ended(key)
            return last if last is not None and last.status in (FAILED, CANCELLED) else None
        with self._lock:
            if key in self._active:
                return self._active[key]
            ended = [job for job in self._recent if job.key == key]
        if self.store.get(key) is not None:
            return self.request(kind, normalized)
        return ended[-1] if ended else None

    def load(self, kind: str, config: dict) -> Any | None:
        """The trained model for this config, or None if it is not trained."""
        _, key = self.key_for(kind, config)
        entry = self.store.get(key)
        return None if entry is None else self.load_entry(kind, entry)

    def load_entry(self, kind: str, entry: Entry) -> Any:
        cache_key = (entry.key, float(entry.record.get("updated", 0)))
        with self._lock:
            if cache_key in self._loaded:
                self._loaded.move_to_end(cache_key)
                return self._loaded[cache_key]
        model = self.store.load(entry, get_kind(kind).load)
        with self._lock:
            self._loaded[cache_key] = model
            while len(self._loaded) > 12:
                self._loaded.popitem(last=False)
        return model

    def jobs(self) -> list[Job]:
        """Queued and running jobs, then recently finished ones."""
        with self._lock:
            return list(self._active.values()) + list(reversed(self._recent))

    def queue_position(self, job: Job) -> int:
        with self._lock:
            return self._queue.index(job) + 1 if job in self._queue else 0

    # ---- the workers ----------------------------------------------------
    def _ensure_workers(self) -> None:
        self._workers = [w for w in self._workers if w.is_alive()]
        while len(self._workers) < self.max_running:
            worker = threading.Thread(target=self._work, name="dlp-training", daemon=True)
            worker.start()
            self._workers.append(worker)

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    if not self._wakeup.wait(timeout=60):
                        self._workers = [w for w in self._workers if w is not threading.current_thread()]
                        return
                job = self._queue.pop(0)
            self._run(job)

    def _run(self, job: Job) -> None:
        kind = get_kind(job.kind)
        if job._cancel.is_set():
            return job._finish(CANCELLED, "Training was cancelled before it started.")
        job._set_status(RUNNING)
        reporter = Reporter(job)
        try:
            model, extras = kind.train(job.config, reporter, **resume_arguments(self.store, kind, job.config))
            reporter.check()
            progress = job.progress
            record = {
                "kind": job.kind,
                "title": job.title,
                "config": job.config,
                "history": progress.history,
                "curve": progress.curve,
                "duration_s": round(progress.elapsed, 3),
                "run_dir": str(job.run_dir),
                **extras,
            }
            try:
                job.entry = self.store.put(job.key, model, record, kind.save)
            except OSError as error:  # disk full, folder gone read-only...
                self.store.writable = False
                self.store.warning = (
                    f"Saving to the model cache failed ({error.strerror or error}); "
                    "trained models are kept in memory only."
                )
                job.entry = self.store.put(job.key, model, record, kind.save)
            with self._lock:
                self._loaded[(job.entry.key, float(job.entry.record["updated"]))] = model
            job.trained_here = True
            job._finish(DONE)
        except TrainingCancelled:
            job._finish(CANCELLED, "Training was cancelled.")
        except (AppError, BadConfig) as error:
            job._finish(FAILED, str(error))
        except Exception as error:  # keep the worker alive; the UI shows the message
            traceback.print_exc()
            job._finish(FAILED, f"Training failed: {type(error).__name__}: {error}")

    def _drop_queued(self, job: Job) -> None:
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)

    def _forget(self, job: Job) -> None:
        with self._lock:
            if self._active.get(job.key) is job:
                del self._active[job.key]
            if job.trained_here or job.status in (FAILED, CANCELLED):
                self._recent = (self._recent + [job])[-20:]


_manager: JobManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> JobManager:
    """The process-wide manager shared by every session."""
    global _manager
    from core.training.bundled import install_once  # ready-made models (assets/defaults/), once TensorFlow is loaded
    with _manager_lock:
        if _manager is None:
            _manager = JobManager()
    return install_once(_manager)
