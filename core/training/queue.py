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
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from typing import Any

from core.errors import AppError
from core.training import queue_scripts as lua
from core.training.progress import FAILED, ProgressSink
from core.training.remote import LISTS, Heartbeat, RemoteJob
from core.training.runner import new_run_dir, run_training

QUEUE_ENV = "DLP_QUEUE"
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
        import redis
        from huey import RedisHuey

        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise AppError(f"{QUEUE_ENV} must be a Redis URL such as redis://127.0.0.1:6379/0, not {url!r}.")
        self.manager = manager
        self.ns = os.environ.get(NAME_ENV, "dlp")
        self.redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
        self.huey = RedisHuey(self.ns, url=url, results=False)
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
        return self._get_job(self._call(self.redis.get, f"{self.ns}:last:{key}"))

    def _call(self, method, *args) -> Any:
        """A Redis command whose failure the pages show as a sentence, not a traceback."""
        import redis

        try:
            return method(*args)
        except redis.RedisError as error:
            raise AppError(f"The training queue (Redis) cannot be reached: {error}.") from error

    def submit(self, kind: str, config: dict, key: str, title: str, retrain: bool) -> RemoteJob:
        """The queued or running job for ``key``, started here if there was none."""
        self.ensure_reaper()
        created, job_id = self.run_script("CLAIM", [f"{self.ns}:active:{key}", f"{self.ns}:ids", f"{self.ns}:queued"],
                                    [self.ns, key, kind, json.dumps(config, sort_keys=True), title,
                                     int(retrain), time.time()])
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
        failing = False
        while True:
            time.sleep(max(0.2, self.lease_ms / 2000))
            try:
                self.reap()
                failing = False
            except Exception as error:  # Redis restarting: try again next round, say so once
                if not failing:
                    log.warning("reaping failed (%s); retrying", error)
                failing = True

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
        attempt = self.run_script("START", [job_key, f"{self.ns}:lease:{job_id}", f"{self.ns}:queued",
                                      f"{self.ns}:running", *(f"{job_key}:{name}" for name in LISTS)],
                            [token, self.lease_ms, job_id, time.time()])
        if not attempt:
            return
        fields = self.redis.hgetall(job_key)
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
            return log.warning("job %s: lease lost; another attempt owns it now", job_id)
        self.run_script("FINISH", self._end_keys(job_id, key),
                  [token, status, error, time.time(), job_id, KEEP_ENDED_SECONDS])
