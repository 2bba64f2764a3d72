"""Training jobs shared by several processes: Huey carries the work over Redis, Redis holds the state.

Used only when ``DLP_QUEUE`` names a Redis server (``redis://host:6379/0``); without it
:class:`core.training.jobs.JobManager` trains in threads of its own process, as it always has.

- A web process asks for a config: one Lua script (:data:`core.training.queue_scripts.CLAIM`) either finds
  the job already queued or running for that config key, or creates it, atomically. Only the
  process that created it puts a message on Huey's queue, so ten requests from three processes
  start one training.
- A worker (``python -m core.worker``, a Huey consumer) takes the message and starts the job only
  if it can take the job's lease (``SET NX PX``); a heartbeat renews the lease every
  :data:`BEAT_SECONDS` while it trains, publishes the progress and picks up Cancel.
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

from core.training import queue_scripts as lua
from core.training.jobs import CANCELLED, DONE, FAILED, QUEUED, Job, JobManager, Progress
from core.errors import AppError

QUEUE_ENV = "DLP_QUEUE"
NAME_ENV = "DLP_QUEUE_NAME"  # several apps can share one Redis under different names
LEASE_ENV = "DLP_LEASE_SECONDS"
MAX_ATTEMPTS = 2  # the first try and one retry after its worker died
BEAT_SECONDS = 0.5  # how often a running job's progress and lease are written
KEEP_ENDED_SECONDS = 24 * 3600  # how long an ended job stays visible (e.g. its error)
LISTS = ("history", "curve", "log")
ENDED = (DONE, FAILED, CANCELLED)
log = logging.getLogger("dlp.queue")


def queue_url() -> str:
    """The configured Redis URL, or '' for the in-process default."""
    return os.environ.get(QUEUE_ENV, "").strip()


def lease_seconds() -> float:
    return float(os.environ.get(LEASE_ENV, "10"))


class TaskQueue:
    """The shared side of a :class:`JobManager` in queue mode."""

    def __init__(self, url: str, manager: JobManager):
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
    def _job(self, job_id: int) -> str:
        return f"{self.ns}:job:{job_id}"

    def _end_keys(self, job_id: int, key: str) -> list[str]:
        return [self._job(job_id), f"{self.ns}:lease:{job_id}", f"{self.ns}:active:{key}",
                f"{self.ns}:last:{key}", f"{self.ns}:running", f"{self.ns}:queued"]

    def _run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return self._call(lambda: self._scripts[name](keys=keys, args=args))

    # ---- web side ---------------------------------------------------------
    def active(self, key: str) -> "RemoteJob | None":
        return self._get_job(self._call(self.redis.get, f"{self.ns}:active:{key}"))

    def last_ended(self, key: str) -> "RemoteJob | None":
        return self._get_job(self._call(self.redis.get, f"{self.ns}:last:{key}"))

    def _call(self, method, *args) -> Any:
        """A Redis command whose failure the pages show as a sentence, not a traceback."""
        import redis

        try:
            return method(*args)
        except redis.RedisError as error:
            raise AppError(f"The training queue (Redis) cannot be reached: {error}.") from error

    def submit(self, kind: str, config: dict, key: str, title: str, retrain: bool) -> "RemoteJob":
        """The queued or running job for ``key``, started here if there was none."""
        self.ensure_reaper()
        created, job_id = self._run("CLAIM", [f"{self.ns}:active:{key}", f"{self.ns}:ids", f"{self.ns}:queued"],
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
        self._call(self.redis.hset, self._job(job_id), "enqueued", 1)

    def cancel(self, job_id: int, key: str) -> str:
        return self._run("CANCEL", self._end_keys(job_id, key),
                         ["", "", "Training was cancelled before it started.", time.time(), job_id,
                          KEEP_ENDED_SECONDS])

    def _get_job(self, job_id: str | int | None) -> "RemoteJob | None":
        if job_id is None:
            return None
        job_id = int(job_id)
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        fields = self._call(self.redis.hgetall, self._job(job_id))
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
            key = self.redis.hget(self._job(job_id), "key") or ""
            outcome = self._run("REAP", self._end_keys(int(job_id), key), [
                "", MAX_ATTEMPTS, "The training stopped twice because its worker stopped (killed, out of "
                "memory or restarted); ask for it again to start over.", now, job_id, KEEP_ENDED_SECONDS])
            if outcome == 1:
                log.warning("job %s lost its worker; trying it once more", job_id)
                self.enqueue(int(job_id))
        for job_id in self.redis.zrange(f"{self.ns}:queued", 0, -1):
            if self._run("ADOPT", [self._job(job_id)], [now, 30]) == 1:
                self.task(int(job_id))

    # ---- worker side ------------------------------------------------------
    def train(self, job_id: int) -> None:
        """The Huey task: train job ``job_id`` if it is still waiting and its lease is free."""
        token = uuid.uuid4().hex
        job_key = self._job(job_id)
        attempt = self._run("START", [job_key, f"{self.ns}:lease:{job_id}", f"{self.ns}:queued",
                                      f"{self.ns}:running", *(f"{job_key}:{name}" for name in LISTS)],
                            [token, self.lease_ms, job_id, time.time()])
        if not attempt:
            return
        fields = self.redis.hgetall(job_key)
        local = JobManager(self.manager.store, queue_url="")  # trains in this thread, as in-process
        job = Job(local, fields["kind"], json.loads(fields["config"]), fields["key"], fields["title"])
        log.info("training job %s (%s), attempt %s", job_id, job.title, attempt)
        heartbeat = Heartbeat(self, job, job_id, token)
        heartbeat.start()
        try:
            stored = None if fields.get("retrain") == "1" else self.manager.store.get(job.key)
            if stored is not None:  # trained by an earlier job meanwhile
                job.entry = stored
                job._finish(DONE)
            else:
                local._run(job)  # reports its own failures as the job's status
            status, error = job.status, job.error or ""
            if status == DONE and job.entry is not None and job.entry.path is None:
                status, error = FAILED, (self.manager.store.warning or "The model store cannot be written.")
        except Exception as failure:  # the queue's own machinery failed: end the job, say why
            log.exception("job %s failed", job_id)
            status, error = FAILED, f"Training failed: {type(failure).__name__}: {failure}"
        finally:
            heartbeat.stop()
        if heartbeat.lost:
            return log.warning("job %s: lease lost; another attempt owns it now", job_id)
        self._run("FINISH", self._end_keys(job_id, job.key),
                  [token, status, error, time.time(), job_id, KEEP_ENDED_SECONDS])


class Heartbeat(threading.Thread):
    """Renews a running job's lease, publishes its progress and notices Cancel."""

    def __init__(self, queue: TaskQueue, job: Job, job_id: int, token: str):
        super().__init__(name=f"dlp-heartbeat-{job_id}", daemon=True)
        self.queue, self.job, self.job_id, self.token = queue, job, job_id, token
        self.lost = False
        self._halt = threading.Event()
        self._sent = dict.fromkeys(LISTS, 0)

    def run(self) -> None:
        every = min(BEAT_SECONDS, self.queue.lease_ms / 3000)
        while not self._halt.wait(every):
            try:
                self.beat()
            except Exception:  # a Redis hiccup: the lease outlasts a few missed beats
                log.exception("heartbeat failed")

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
        try:
            self.beat()  # the last progress, before the job is marked ended
        except Exception:
            log.exception("last heartbeat failed")

    def beat(self) -> None:
        queue, job_key = self.queue, self.queue._job(self.job_id)
        held, cancel = queue._run("RENEW", [f"{queue.ns}:lease:{self.job_id}", job_key],
                                  [self.token, queue.lease_ms])
        if not held:
            self.lost = True
        if cancel or not held:
            self.job._cancel.set()
        if self.lost:
            return
        p = self.job.progress
        pipe = queue.redis.pipeline(transaction=False)
        pipe.hset(job_key, mapping={"step": p.step, "total_steps": p.total_steps, "epoch": p.epoch,
                                    "epochs": p.epochs, "message": p.message,
                                    "metrics": json.dumps(p.metrics)})
        for name in LISTS:
            items = getattr(p, name)[self._sent[name]:]
            if items:
                pipe.rpush(f"{job_key}:{name}", *(json.dumps(item) for item in items))
                self._sent[name] += len(items)
        pipe.execute()


class RemoteJob:
    """A job of the shared queue, as a web process sees it: the same interface as
    :class:`core.training.jobs.Job`, read from Redis (at most every :data:`FRESH_SECONDS`)."""

    FRESH_SECONDS = 0.25
    trained_here = False  # trained by a worker, never by the process that asked

    def __init__(self, queue: TaskQueue, job_id: int, fields: dict):
        self.queue, self.id, self.manager = queue, job_id, queue.manager
        self.kind, self.key, self.title = fields["kind"], fields["key"], fields["title"]
        self.config = json.loads(fields["config"])
        self._fields, self._fetched = fields, -float("inf")  # the first read fetches the rest
        self._lists: dict[str, list] = {name: [] for name in LISTS}
        self._position = 0
        self._attempt = None
        self._entry = None
        self._lock = threading.Lock()

    def _refresh(self, force: bool = False) -> dict:
        with self._lock:
            if not force and time.monotonic() - self._fetched < self.FRESH_SECONDS:
                return self._fields
            job_key = self.queue._job(self.id)
            pipe = self.queue.redis.pipeline(transaction=False)
            pipe.hgetall(job_key)
            pipe.zrank(f"{self.queue.ns}:queued", self.id)
            for name in LISTS:
                pipe.lrange(f"{job_key}:{name}", len(self._lists[name]), -1)
            try:
                fields, rank, *new = pipe.execute()
            except Exception:  # Redis away for a moment: show the last known state meanwhile
                log.warning("could not read job %s from Redis", self.id, exc_info=True)
                return self._fields
            if fields:  # an ended job expired from Redis keeps its last known state
                if fields.get("attempt") != self._attempt:  # a retry starts its lists afresh
                    self._attempt = fields.get("attempt")
                    new = [self.queue.redis.lrange(f"{job_key}:{name}", 0, -1) for name in LISTS]
                    self._lists = {name: [] for name in LISTS}
                for name, items in zip(LISTS, new):
                    self._lists[name].extend(json.loads(item) for item in items)
                self._fields = fields
            self._position = 0 if rank is None else rank + 1
            self._fetched = time.monotonic()
            return self._fields

    @property
    def status(self) -> str:
        return self._refresh().get("status", QUEUED)

    @property
    def finished(self) -> bool:
        return self.status in ENDED

    @property
    def error(self) -> str | None:
        return self._refresh().get("error") or None

    @property
    def entry(self):
        if self._entry is None and self.status == DONE:
            self._entry = self.manager.store.get(self.key)
        return self._entry

    @property
    def progress(self) -> Progress:
        fields = self._refresh()
        with self._lock:
            lists = {name: list(items) for name, items in self._lists.items()}
            position = self._position
        number = lambda name, kind=int: kind(fields.get(name) or 0)  # noqa: E731
        status = fields.get("status", QUEUED)
        return Progress(status=status, step=number("step"), total_steps=number("total_steps"),
                        epoch=number("epoch"), epochs=number("epochs"),
                        metrics=json.loads(fields.get("metrics") or "{}"), message=fields.get("message", ""),
                        started=number("started", float) or None, finished=number("finished", float) or None,
                        queue_position=position if status == QUEUED else 0, **lists)

    def cancel(self) -> None:
        self.queue.cancel(self.id, self.key)
        self._refresh(force=True)

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.status not in ENDED:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def model(self) -> Any:
        entry = self.entry
        if entry is None:
            raise AppError(f"{self.title} is not trained yet ({self.status}).")
        return self.manager.load_entry(self.kind, entry)

