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
progress from Redis. Both kinds of job are :class:`core.training.handle.JobHandle`\s; both train
through :func:`core.training.runner.run_training`.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from collections import OrderedDict
from typing import Any

from core.errors import AppError
from core.training.queue_connection import QueueUnavailable
from core.training.handle import JobHandle
from core.training.kinds import KINDS, Kind, get_kind  # noqa: F401 (API: the registry lives in kinds)
from core.training.progress import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Progress, ProgressSink, Reporter  # noqa: F401 (API)
from core.training.runner import new_run_dir, run_training
from core.training.store import Entry, ModelStore, config_key


class Job:
    """A training in this process (a :class:`JobHandle`)."""

    _ids = itertools.count(1)

    def __init__(self, manager: "JobManager", kind: str, config: dict, key: str, title: str,
                 retrain: bool = False):
        self.id = next(self._ids)
        self.manager = manager
        self.kind = kind
        self.config = config
        self.key = key
        self.title = title
        self.retrain = retrain
        self.error: str | None = None
        self.entry: Entry | None = None
        self.trained_here = False  # True when this process ran the training
        self.sink = ProgressSink(new_run_dir(kind, key, self.id))
        self._done = threading.Event()

    @property
    def run_dir(self):
        return self.sink.run_dir

    @property
    def progress(self) -> Progress:
        snapshot = self.sink.snapshot()
        if snapshot.status == QUEUED:
            snapshot.queue_position = self.manager.queue_position(self)
        return snapshot

    @property
    def status(self) -> str:
        return self.sink.snapshot().status

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        self.sink.cancel()
        if self.status == QUEUED and self.manager.drop_queued(self):
            self.finish(CANCELLED, "Training was cancelled before it started.")

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def model(self) -> Any:
        """The trained model (loaded from the store once, then cached)."""
        if self.entry is None:
            raise AppError(f"{self.title} is not trained yet ({self.status}).")
        return self.manager.load_entry(self.kind, self.entry)

    def finish(self, status: str, error: str | None = None) -> None:
        """End the job (its manager calls this): the status, the reason, and waiters released."""
        self.sink.set(status=status, finished=time.time())
        self.error = error
        self._done.set()
        self.manager.forget(self)


class JobManager:
    def __init__(self, store: ModelStore | None = None, max_running: int | None = None,
                 queue_url: str | None = None):
        """``queue_url``: a Redis URL for the shared queue; None reads ``DLP_QUEUE``; '' trains here."""
        self.store = store or ModelStore()
        url = os.environ.get("DLP_QUEUE", "").strip() if queue_url is None else queue_url
        self.queue: Any = None
        #: Why the configured queue is refused (e.g. another machine's Redis without a password): then
        #: nothing trains here (that would split a course's trainings), the store still serves models.
        self.queue_problem: str | None = None
        if url:
            from core.training.queue import TaskQueue  # imports huey and redis, only when configured

            try:
                self.queue = TaskQueue(url, self)
            except AppError as error:
                self.queue_problem = str(error)
            else:
                self.queue.ensure_reaper()  # also notices Redis going away and coming back
        self.max_running = max_running or int(os.environ.get("DLP_MAX_TRAININGS", "1"))
        self._lock = threading.RLock()  # finish -> forget may run under it
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

    def request(self, kind: str, config: dict, retrain: bool = False) -> JobHandle:
        """A job for this config: finished if stored, shared if under way."""
        normalized, key = self.key_for(kind, config)
        title = get_kind(kind).title(normalized)
        if self.queue_problem:
            raise AppError(self.queue_problem)
        if self.queue is not None:
            shared = self.queue.active(key)
            if shared is not None:
                return shared
            if retrain or self.store.get(key) is None:
                return self.queue.submit(kind, normalized, key, title, retrain)
        with self._lock:
            if key in self._active:
                return self._active[key]
            stored = None if retrain else self._stored_job(kind, normalized, key, title)
            if stored is not None:
                return stored
            job = Job(self, kind, normalized, key, title, retrain)
            self._active[key] = job
            self._queue.append(job)
            self._ensure_workers()
            self._wakeup.notify()
            return job

    def find(self, kind: str, config: dict) -> JobHandle | None:
        """The job for this config without starting one: trained, training, queued,
        or the last one that failed or was cancelled (so a page can show why)."""
        normalized, key = self.key_for(kind, config)
        if self.queue is not None:
            try:
                shared = self.queue.active(key)
                if shared is not None:
                    return shared
                if self.store.get(key) is not None:
                    return self.request(kind, normalized)
                last = self.queue.last_ended(key)
                return last if last is not None and last.status in (FAILED, CANCELLED) else None
            except QueueUnavailable:  # Redis away: what the store holds still works (pages say why)
                return self.queue.known(key) or self._stored_job(kind, normalized, key)
        if self.queue_problem:
            return self._stored_job(kind, normalized, key)
        with self._lock:
            if key in self._active:
                return self._active[key]
            ended = [job for job in self._recent if job.key == key]
        if self.store.get(key) is not None:
            return self.request(kind, normalized)
        return ended[-1] if ended else None

    def _stored_job(self, kind: str, config: dict, key: str, title: str | None = None) -> Job | None:
        """A finished job for the model the store holds under ``key``, or None."""
        entry = self.store.get(key)
        if entry is None:
            return None
        job = Job(self, kind, config, key, title or get_kind(kind).title(config))
        job.entry = entry
        job.sink.set(history=list(entry.record.get("history", [])), curve=list(entry.record.get("curve", [])),
                     metrics=dict(entry.record.get("metrics", {})))
        job.finish(DONE)
        return job

    def queue_notice(self) -> str | None:
        """What every page should say about the shared queue now: refused, or unavailable; else None."""
        if self.queue_problem:
            return self.queue_problem
        if self.queue is not None and self.queue.outage.down:
            return self.queue.outage.message()
        return None

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
        outcome = run_training(self.store, job.kind, job.config, job.key, job.title, job.sink,
                               reuse_stored=not job.retrain)
        job.entry = outcome.entry
        if outcome.model is not None and outcome.entry is not None:
            job.trained_here = True
            with self._lock:
                self._loaded[(outcome.entry.key, float(outcome.entry.record["updated"]))] = outcome.model
        job.finish(outcome.status, outcome.error)

    def drop_queued(self, job: Job) -> bool:
        """Take a job off this process's queue; False if a worker had taken it already."""
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                return True
            return False

    def forget(self, job: Job) -> None:
        with self._lock:
            if self._active.get(job.key) is job:
                del self._active[job.key]
            if job.trained_here or job.status in (FAILED, CANCELLED):
                self._recent = (self._recent + [job])[-20:]


_manager: JobManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> JobManager:
    """The process-wide manager shared by every session. The models bundled with the app are
    installed into its store by an explicit call once TensorFlow is loaded
    (:func:`core.training.bundled.install_once`, from app.py)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = JobManager()
    return _manager
