"""One "web process" of the multi-process tests: a JobManager in queue mode, driven over stdin.

    python -m tests.distributed_app        (with DLP_QUEUE, DLP_CACHE_DIR and DLP_TEST_DIR set)

Each line in is a JSON command, each line out its JSON answer:
``{"op": "request", "config": {...}, "threads": 5}`` asks from that many threads at once and
answers the job ids they got; ``find``, ``progress``, ``cancel``, ``wait`` (``"timeout"``) and
``model`` act on the job for ``config`` (the one this process asked for, else ``manager.find``).
"""
from __future__ import annotations

import json
import sys
import threading

from tests.distributed_kind import register


def main() -> None:
    register()
    from core.training.jobs import get_manager

    manager = get_manager()
    asked: dict[str, object] = {}  # config key -> the job this process got

    def job_for(config: dict):
        """As a page does: the job it asked for while that runs, else whatever find says."""
        job = asked.get(manager.key_for("gated", config)[1])
        return job if job is not None and not job.finished else manager.find("gated", config)

    def request(config: dict, threads: int) -> dict:
        barrier, jobs = threading.Barrier(threads), []

        def ask() -> None:
            barrier.wait()
            jobs.append(manager.request("gated", config))

        workers = [threading.Thread(target=ask) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        asked[jobs[0].key] = jobs[0]
        return {"ids": [job.id for job in jobs], "status": jobs[0].status}

    def describe(job) -> dict:
        if job is None:
            return {"id": None}
        p = job.progress
        return {"id": job.id, "status": p.status, "step": p.step, "total_steps": p.total_steps,
                "history": p.history, "log": p.log, "phase": p.phase, "error": job.error, "queue_position": p.queue_position}

    for line in sys.stdin:
        command = json.loads(line)
        op, config = command["op"], command.get("config", {})
        try:
            if op == "request":
                answer = request(config, command.get("threads", 1))
            elif op in ("find", "progress"):
                answer = describe(job_for(config))
            elif op == "cancel":
                job = job_for(config)
                job.cancel()
                answer = describe(job)
            elif op == "wait":
                job = job_for(config)
                job.wait(command.get("timeout", 30))
                answer = describe(job)
            elif op == "model":
                answer = {"model": manager.load("gated", config)}
            elif op == "notice":
                answer = {"notice": manager.queue_notice()}
            else:
                answer = {"failure": f"unknown op {op}"}
        except Exception as error:  # the test shows it
            answer = {"failure": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
