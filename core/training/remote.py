"""A shared job's state in Redis: written by the worker that trains it (:class:`Heartbeat`), read by
every web process (:class:`RemoteJob`). The keys are described in :mod:`core.training.queue_scripts`.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import redis

from core.errors import AppError
from core.training.progress import CANCELLED, DONE, FAILED, QUEUED, Progress, ProgressSink

BEAT_SECONDS = 0.5  # how often a running job's progress and lease are written
LISTS = ("history", "curve", "log")
ENDED = (DONE, FAILED, CANCELLED)
LOST = ("The training queue (Redis) restarted without this training's record, so it stopped; "
        "ask for it again to start it over.")
log = logging.getLogger("dlp.queue")


class Heartbeat(threading.Thread):
    """Renews a running job's lease, publishes its progress and notices Cancel."""

    def __init__(self, queue: Any, sink: ProgressSink, job_id: int, token: str):
        super().__init__(name=f"dlp-heartbeat-{job_id}", daemon=True)
        self.queue, self.sink, self.job_id, self.token = queue, sink, job_id, token
        self.lost = False
        self._halt = threading.Event()
        self._sent = dict.fromkeys(LISTS, 0)

    def run(self) -> None:
        every = min(BEAT_SECONDS, self.queue.lease_ms / 3000)
        while not self._halt.wait(every):
            self.beat_once()

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
        self.beat_once()  # the last progress, before the job is marked ended

    def beat_once(self) -> None:
        try:
            self.beat()
        except (redis.RedisError, AppError) as error:  # Redis away: the lease outlasts a short outage
            if isinstance(error, redis.RedisError):
                self.queue.outage.failed(error)  # (a QueueUnavailable was noted already)
        except Exception:
            log.exception("heartbeat failed")

    def beat(self) -> None:
        queue, job_key = self.queue, self.queue.job_key(self.job_id)
        held, cancel = queue.run_script("RENEW", [f"{queue.ns}:lease:{self.job_id}", job_key],
                                  [self.token, queue.lease_ms])
        if not held:
            self.lost = True
        if cancel or not held:
            self.sink.cancel()
        if self.lost:
            return
        p = self.sink.snapshot()
        pipe = queue.redis.pipeline(transaction=False)
        pipe.hset(job_key, mapping={"step": p.step, "total_steps": p.total_steps, "epoch": p.epoch,
                                    "epochs": p.epochs, "message": p.message, "phase": p.phase,
                                    "metrics": json.dumps(p.metrics)})
        for name in LISTS:
            items = getattr(p, name)[self._sent[name]:]
            if items:
                pipe.rpush(f"{job_key}:{name}", *(json.dumps(item) for item in items))
                self._sent[name] += len(items)
        pipe.execute()


class RemoteJob:
    """A job of the shared queue, as a web process sees it: a :class:`core.training.handle.JobHandle`
    read from Redis (at most every :data:`FRESH_SECONDS`)."""

    FRESH_SECONDS = 0.25
    trained_here = False  # trained by a worker, never by the process that asked

    def __init__(self, queue: Any, job_id: int, fields: dict):
        self.queue, self.id, self.manager = queue, job_id, queue.manager
        self.kind, self.key, self.title = fields["kind"], fields["key"], fields["title"]
        self.config = json.loads(fields["config"])
        self._fields, self._fetched = fields, -float("inf")  # the first read fetches the rest
        self._lists: dict[str, list] = {name: [] for name in LISTS}
        self._position = 0
        self._attempt = None
        self._entry = None
        self._lock = threading.Lock()

    @property
    def ended_locally(self) -> bool:
        """Ended, as far as this process last read it (no Redis call)."""
        return self._fields.get("status") in ENDED

    def _refresh(self, force: bool = False) -> dict:
        with self._lock:
            if not force and time.monotonic() - self._fetched < self.FRESH_SECONDS:
                return self._fields
            job_key = self.queue.job_key(self.id)
            pipe = self.queue.redis.pipeline(transaction=False)
            pipe.hgetall(job_key)
            pipe.zrank(f"{self.queue.ns}:queued", self.id)
            for name in LISTS:
                pipe.lrange(f"{job_key}:{name}", len(self._lists[name]), -1)
            try:
                fields, rank, *new = pipe.execute()
                if fields and fields.get("attempt") != self._attempt:  # a retry starts its lists afresh
                    new = [self.queue.redis.lrange(f"{job_key}:{name}", 0, -1) for name in LISTS]
                    self._lists, self._attempt = {name: [] for name in LISTS}, fields.get("attempt")
            except redis.RedisError as error:  # Redis away: the last known state meanwhile (pages say why)
                self.queue.outage.failed(error)
                return self._fields
            self.queue.outage.answered()
            if fields:
                for name, items in zip(LISTS, new):
                    self._lists[name].extend(json.loads(item) for item in items)
                self._fields = fields
            elif not self.ended_locally:  # gone before it ended: Redis restarted without its data
                self._fields = {**self._fields, "status": FAILED, "error": LOST, "finished": time.time()}
            # (an ended job that expired from Redis keeps its last known state)
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
                        phase=fields.get("phase", ""),
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

