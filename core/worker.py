"""A training worker for the shared queue: ``python -m core.worker``.

    DLP_QUEUE=redis://127.0.0.1:6379/0 DLP_CACHE_DIR=/shared/dlp python -m core.worker --trainings 1

A Huey consumer on the queue the web processes fill (see ``core.training.queue``). It trains in threads of
its own process, so TensorFlow is imported once and its kernels stay warm from one training to the
next; ``--trainings`` (default ``DLP_MAX_TRAININGS``, else 1) says how many at once. Start as many
workers as there are machines (or GPUs) to train on; they must all see the same ``DLP_CACHE_DIR``
(a shared folder) and the same Redis. Stopping it with Ctrl+C (SIGINT) lets the trainings under way
finish; SIGTERM stops at once, and their jobs are tried again once, by another worker or by this
one when it is back, after their lease runs out (``DLP_LEASE_SECONDS``, default 10).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from core.training.jobs import JobManager
from core.training.queue import QUEUE_ENV, queue_url
from core.training.queue_connection import redact


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.worker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainings", type=int, default=int(os.environ.get("DLP_MAX_TRAININGS", "1")),
                        help="trainings this worker runs at once (default: DLP_MAX_TRAININGS, else 1)")
    parser.add_argument("--no-preload", action="store_true",
                        help="do not import TensorFlow at start (the first training then waits for it)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    url = queue_url()
    if not url:
        print(f"error: set {QUEUE_ENV} to the Redis server the web processes use, e.g. "
              f"{QUEUE_ENV}=redis://127.0.0.1:6379/0", file=sys.stderr)
        return 2
    manager = JobManager(queue_url=url)
    if manager.queue_problem:
        print(f"error: {manager.queue_problem}", file=sys.stderr)
        return 2
    if manager.store.warning:
        print(f"error: {manager.store.warning}", file=sys.stderr)
        return 2
    if not args.no_preload:  # before any training thread, which would import it concurrently
        from core.imports import import_heavy

        import_heavy(("tensorflow", "keras"))
    queue = manager.queue
    queue.ensure_reaper()
    logging.getLogger("dlp.queue").info("worker on %s, models in %s, %d at once",
                                        redact(url), manager.store.root, args.trainings)
    consumer = queue.huey.create_consumer(workers=max(1, args.trainings), worker_type="thread",
                                          periodic=False, initial_delay=0.1, max_delay=1.0)
    consumer.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
