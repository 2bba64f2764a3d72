"""How the shared queue reaches Redis: which URLs it accepts, how it retries, how it says Redis is away.

- **Only a safe Redis.** Huey pickles its messages, so whoever can write to the queue's Redis can run
  code in the training workers. A Redis on this machine (loopback, or a unix socket) may go without a
  password; any other needs one in the URL (``redis://:PASSWORD@host:6379/0``), else
  :func:`check_queue_url` refuses it with a sentence saying why and how.
- **Short retries.** A page asking Redis must not hang while it is away: each command is tried
  :data:`RETRIES` more times within about a quarter of a second, then fails.
- **One line per outage.** :class:`Outage` notes every failure and every answer; it logs one line
  when Redis stops answering and one when it answers again (not a traceback per poll), and gives the
  pages a sentence to show meanwhile. While it is down, a page's command fails at once for
  :data:`PROBE_SECONDS` after the last failure (the reaper keeps probing), so pages stay quick.
"""
from __future__ import annotations

import ipaddress
import logging
import threading
import time
import urllib.parse
from typing import Any

from core.errors import AppError

QUEUE_ENV = "DLP_QUEUE"
RETRIES = 3  # after the first try; with the backoff below, about 0.3 s in all
PROBE_SECONDS = 1.0  # while Redis is down, commands within this long of a failure fail at once
log = logging.getLogger("dlp.queue")


class QueueUnavailable(AppError):
    """Redis does not answer (restarting, or unreachable); the pages say so and retry."""


def check_queue_url(url: str) -> None:
    """Refuse a URL that is not Redis's, or that reaches another machine's Redis without a password."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("redis", "rediss", "unix"):
        raise AppError(f"{QUEUE_ENV} must be a Redis URL such as redis://127.0.0.1:6379/0, not {redact(url)!r}.")
    if parsed.scheme == "unix" or is_loopback(parsed.hostname or "") or parsed.password:
        return
    where = f"{parsed.hostname}:{parsed.port or 6379}"
    raise AppError(
        f"{QUEUE_ENV} names the Redis server at {where} without a password, so the app refuses it: the "
        "queue's messages are Python pickles, and whoever can reach that Redis could run code in the "
        "training workers. Give Redis a password (requirepass) and put it in the URL, "
        f"redis://:PASSWORD@{where}/0 (deploy/ does this), or use a Redis on this machine (127.0.0.1).")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parsed = urllib.parse.urlparse(url)
    if not parsed.password:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return urllib.parse.urlunparse(parsed._replace(netloc=netloc))


def connection_pools(url: str) -> tuple[Any, Any]:
    """(text pool for our own commands, bytes pool for Huey's), both with short retries."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    def pool(decode: bool, socket_timeout: float | None) -> Any:
        return redis.ConnectionPool.from_url(
            url, decode_responses=decode, socket_timeout=socket_timeout, socket_connect_timeout=5,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.025), RETRIES), health_check_interval=30)

    # Huey's worker blocks up to a second in BRPOP: its reads need a longer timeout than ours.
    return pool(True, 5), pool(False, 10)


class Outage:
    """Whether Redis answers, as the queue's last command found it."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.since: float | None = None  # when it stopped answering; None while it answers
        self.last_failure = 0.0  # time.monotonic() of the latest failure
        self.error = ""
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self.last_failure = time.monotonic()
            first = self.since is None
            if first:
                self.since, self.error = time.time(), f"{type(error).__name__}: {error}"
        if first:
            log.warning("the training queue (Redis at %s) does not answer (%s); retrying", self.where, self.error)

    def answered(self) -> None:
        if self.since is None:  # the common case, without the lock
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            log.warning("the training queue (Redis at %s) answers again, after %.0f s", self.where, time.time() - since)

    @property
    def down(self) -> bool:
        return self.since is not None

    def failing_fast(self) -> bool:
        """Down, and it failed moments ago: do not wait for it again yet."""
        return self.since is not None and time.monotonic() - self.last_failure < PROBE_SECONDS

    def message(self) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(self.since or time.time()))
        return (f"The training queue (Redis) is unavailable since {when}; retrying. Models already trained "
                "still work; new trainings can start once it is back.")
