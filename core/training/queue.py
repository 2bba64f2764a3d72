"""Training jobs shared by several processes: Huey carries the work over Redis, Redis holds the state.

Used only when ``DLP_QUEUE`` names a Redis server (``redis://host:6379/0``); without it
:class:`core.training.jobs.JobManager` trains in threads of its own process, as it always has.

- A web process asks for a config: one Lua script (:data:`core.training.queue_scripts.CLAIM`) either finds
  the job already queued or running for that config key, or creates it, atomically. Only the
  process that created it puts a message on Huey's queue, so ten requests from three processes
  start one training.
- A worker (``python -m core.worker``, a Huey consumer) takes the message and starts the job only
  if it can take the job's lease (``SET NX PX``); a heartbeat renews the lease every
  :data:`core.training.remote.BEAT_SECONDS` while it trains, publishes the progress and picks up Cancel.
- A worker that dies (SIGKILL, out of memory, the machine gone) stops renewing; once its lease
  has expired, the reaper (in every worker and web process) puts the job back on the queue, once:
  a job whose second attempt dies too fails with a message. Never two attempts at the same time:
  a new attempt needs the lease, which exists only while the old one renews it.
- Progress, errors and Cancel live in Redis, so any web process shows and cancels any job.
- Redis away for a while (restarting, say): every process retries by itself and logs one line when it
  stops answering and one when it is back (:mod:`core.training.queue_connection`); the pages say so
  meanwhile. A job whose state Redis lost (restarted without persistence) fails with a sentence in
  the pages, and its worker drops it at its next heartbeat; with persistence (deploy/) it carries on,
  or is tried once more if its lease ran out meanwhile.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from typing import Any

import redis
from huey import RedisHuey

from core.errors import AppError
from core.training import queue_scripts as lua
from core.training.queue_connection import QUEUE_ENV, Outage, QueueUnavailable, check_queue_url, connection_pools, redact
from core.training.progress import FAILED, ProgressSink
from core.training.remote import LISTS, Heartbeat, RemoteJob
from core.training.runner import new_run_dir, run_training

NAME_ENV = "DLP_QUEUE_NAME"  # several apps can share one Redis under different names
LEASE_ENV = "DLP_LEASE_SECONDS"
MAX_ATTEMPTS = 2  # the first try and one retry after its worker died
KEEP_ENDED_SECONDS = 24 * 3600  # how long an ended job stays visible (e.g. its error)
log = logging.getLogger("dlp.queue")


def queue_url() -> str:
    """The configured Redis URL, or '' for the in-process default."""
    return os.environ.get(QUEUE_ENV, "").strip()


def lease_seconds() -> float:
    return float(os.environ.get(LEASE_ENV, "10"))


class TaskQueue:
    """The shared side of a :class:`core.training.jobs.JobManager` in queue mode (``manager``:
    its store, and its cache of loaded models for :meth:`RemoteJob.model`)."""

    def __init__(self, url: str, manager: Any):
        check_queue_url(url)  # AppError: not Redis, or another machine's Redis without a password
        self.manager = manager
        self.url = redact(url)  # for logs and messages
        self.ns = os.environ.get(NAME_ENV, "dlp")
        self.outage = Outage(self.url)
        ours, hueys = connection_pools(url)
        self.redis = redis.Redis(connection_pool=ours)
        self.huey = PatientHuey(self.ns, connection_pool=hueys, results=False)
        self.huey.outage = self.outage
        self.lease_ms = int(lease_seconds() * 1000)
        self._scripts = {name: self.redis.register_script(getattr(lua, name))
                         for name in ("CLAIM", "START", "RENEW", "FINISH", "CANCEL", "REAP", "ADOPT")}
        # Huey pickles its messages: only the job id travels in one, everything else is in Redis.
        self.task = self.huey.task(name="dlp_train")(self.train)
        self._jobs: dict[int, RemoteJob] = {}  # one object per job id in this process
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    # ---- keys -------------------------------------------------------------
    def job_key(self, job_id: int) -> str:
        return f"{self.ns}:job:{job_id}"

    def _end_keys(self, job_id: int, key: str) -> list[str]:
        return [self.job_key(job_id), f"{self.ns}:lease:{job_id}", f"{self.ns}:active:{key}",
                f"{self.ns}:last:{key}", f"{self.ns}:running", f"{self.ns}:queued"]

    def run_script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return self._call(lambda: self._scripts[name](keys=keys, args=args))

    # ---- web side ---------------------------------------------------------
    def active(self, key: str) -> RemoteJob | None:
        return self._get_job(self._call(self.redis.get, f"{self.ns}:active:{key}"))

    def last_ended(self, key: str) -> RemoteJob | None:
        """The last job of ``key`` that ended (also one that ended because Redis lost it)."""
        return self._get_job(self._call(self.redis.get, f"{self.ns}:last:{key}")) or self.known(key, ended=True)

    def _call(self, method, *args) -> Any:
        """A Redis command whose failure the pages show as a sentence (QueueUnavailable), not a traceback."""
        if self.outage.failing_fast():
            raise QueueUnavailable(self.outage.message())
        try:
            answer = method(*args)
        except redis.RedisError as error:
            self.outage.failed(error)
            raise QueueUnavailable(self.outage.message()) from error
        self.outage.answered()
        return answer

    def known(self, key: str, ended: bool = False) -> RemoteJob | None:
        """The last job of ``key`` this process has seen, ended or not, as it last read it (while
        Redis is away, or after it lost the job)."""
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.key == key and job.ended_locally == ended]
        return jobs[-1] if jobs else None

    def submit(self, kind: str, config: dict, key: str, title: str, retrain: bool) -> RemoteJob:
        """The queued or running job for ``key``, started here if there was none."""
        self.ensure_reaper()
        created, job_id = self.run_script("CLAIM", [f"{self.ns}:active:{key}", f"{self.ns}:ids", f"{self.ns}:queued"],
                                    [self.ns, key, kind, json.dumps(config, sort_keys=True), title,
                                     int(retrain), time.time(), int(time.time()) * 1000])
        if created:
            self.enqueue(int(job_id))
        job = self._get_job(job_id)
        if job is None:  # ended and expired in between: only with a clock far off
            raise AppError("The training queue lost this job; ask again.")
        return job

    def enqueue(self, job_id: int) -> None:
        """Hand the job to Huey. Should this fail after the claim, a reaper adopts it later (ADOPT)."""
        self._call(self.task, job_id)
        self._call(self.redis.hset, self.job_key(job_id), "enqueued", 1)

    def cancel(self, job_id: int, key: str) -> str:
        return self.run_script("CANCEL", self._end_keys(job_id, key),
                         ["", "", "Training was cancelled before it started.", time.time(), job_id,
                          KEEP_ENDED_SECONDS])

    def _get_job(self, job_id: str | int | None) -> RemoteJob | None:
        if job_id is None:
            return None
        job_id = int(job_id)
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        fields = self._call(self.redis.hgetall, self.job_key(job_id))
        if not fields:
            return None
        job = RemoteJob(self, job_id, fields)
        with self._lock:
            job = self._jobs.setdefault(job_id, job)
            while len(self._jobs) > 200:  # ended jobs stay visible through Redis, not this cache
                self._jobs.pop(next(iter(self._jobs)))
        return job

    # ---- the reaper: jobs whose worker died go back on the queue ----------
    def ensure_reaper(self) -> None:
        with self._lock:
            if self._reaper is None or not self._reaper.is_alive():
                self._reaper = threading.Thread(target=self._reap_forever, name="dlp-reaper", daemon=True)
                self._reaper.start()

    def _reap_forever(self) -> None:
        """Reap every half lease; this also notices Redis going away and coming back."""
        failing = False
        while True:
            try:
                self.reap()
                self.outage.answered()
                failing = False
            except (redis.RedisError, QueueUnavailable) as error:  # said once, by the outage
                if isinstance(error, redis.RedisError):
                    self.outage.failed(error)
            except Exception:  # a bug: say it once per run of failures, keep reaping
                if not failing:
                    log.exception("reaping failed; retrying")
                failing = True
            time.sleep(max(0.2, self.lease_ms / 2000))

    def reap(self) -> None:
        now = time.time()
        for job_id in self.redis.smembers(f"{self.ns}:running"):
            key = self.redis.hget(self.job_key(job_id), "key") or ""
            outcome = self.run_script("REAP", self._end_keys(int(job_id), key), [
                "", MAX_ATTEMPTS, "The training stopped twice because its worker stopped (killed, out of "
                "memory or restarted); ask for it again to start over.", now, job_id, KEEP_ENDED_SECONDS])
            if outcome == 1:
                log.warning("job %s lost its worker; trying it once more", job_id)
                self.enqueue(int(job_id))
        for job_id in self.redis.zrange(f"{self.ns}:queued", 0, -1):
            if self.run_script("ADOPT", [self.job_key(job_id)], [now, 30]) == 1:
                self.task(int(job_id))

    # ---- worker side ------------------------------------------------------
    def train(self, job_id: int) -> None:
        """The Huey task: train job ``job_id`` if it is still waiting and its lease is free."""
        token = uuid.uuid4().hex
        job_key = self.job_key(job_id)
        try:
            attempt = self._patiently(lambda: self.run_script(
                "START", [job_key, f"{self.ns}:lease:{job_id}", f"{self.ns}:queued", f"{self.ns}:running",
                          *(f"{job_key}:{name}" for name in LISTS)], [token, self.lease_ms, job_id, time.time()]))
            fields = self._patiently(lambda: self.redis.hgetall(job_key)) if attempt else {}
        except QueueUnavailable:  # still queued (or running without a heartbeat): adopted or reaped later
            return log.warning("job %s: Redis went away as it was about to start; leaving it queued", job_id)
        if not attempt or not fields:
            return
        kind, key, title = fields["kind"], fields["key"], fields["title"]
        sink = ProgressSink(new_run_dir(kind, key, f"{job_id}.{attempt}"))
        log.info("training job %s (%s), attempt %s", job_id, title, attempt)
        heartbeat = Heartbeat(self, sink, job_id, token)
        heartbeat.start()
        try:
            outcome = run_training(self.manager.store, kind, json.loads(fields["config"]), key, title, sink,
                                   reuse_stored=fields.get("retrain") != "1", keep_in_memory=False)
            status, error = outcome.status, outcome.error or ""
        except Exception as failure:  # the queue's own machinery failed: end the job, say why
            log.exception("job %s failed", job_id)
            status, error = FAILED, f"Training failed: {type(failure).__name__}: {failure}"
        finally:
            heartbeat.stop()
        if heartbeat.lost:
            return log.warning("job %s: lease lost (its lease ran out, or Redis restarted without it); "
                               "dropping this attempt", job_id)
        try:  # after a long outage the reaper retries the job, and the retry finds the model stored
            self._patiently(lambda: self.run_script("FINISH", self._end_keys(job_id, key), [
                token, status, error, time.time(), job_id, KEEP_ENDED_SECONDS]))
        except QueueUnavailable:
            log.warning("job %s: could not record its end; the reaper will retry it", job_id)

    def _patiently(self, command: Any) -> Any:
        """``command()``, retried through a Redis outage of up to a lease."""
        deadline = time.monotonic() + self.lease_ms / 1000
        while True:
            try:
                return self._call(command)
            except QueueUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


class PatientHuey(RedisHuey):
    """Huey whose consumer, while Redis is away, waits and says so once (:class:`Outage`) instead of
    logging a traceback every poll; it picks up by itself when Redis is back."""

    outage: Outage

    def dequeue(self):
        try:
            task = super().dequeue()
        except redis.RedisError as error:
            self.outage.failed(error)
            time.sleep(1.0)  # blocking storage: the consumer does not sleep between polls itself
            return None
        self.outage.answered()
        return task

    def read_schedule(self, timestamp=None):
        try:
            return super().read_schedule(timestamp)
        except redis.RedisError as error:
            self.outage.failed(error)
            return []
