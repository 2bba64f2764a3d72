"""Several processes on one queue, with a real Redis: web processes ask, a worker trains, one store.

Each test starts its own ``redis-server`` on a free loopback port (no disk persistence) and stops
it. The "web processes" are ``python -m tests.distributed_app``: the app's JobManager in queue
mode, driven over stdin; the workers are ``python -m core.worker``. The model kind is
tests/distributed_kind.py: held at a gate file, counted in a file, so each test takes seconds.
Without redis-server the tests are skipped with a message, except under CI=true, where they fail.
"""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tools.browser import free_port
from core.errors import AppError
from core.training.jobs import JobManager
from core.training.store import ModelStore
from tests.distributed_cluster import CONFIG, Cluster, running, wait_until


@pytest.fixture
def cluster(tmp_path):
    made = Cluster(tmp_path, lease=1.0)
    yield made
    made.close()


def test_ten_requests_from_three_processes_start_one_training_and_all_get_the_model(cluster):
    cluster.worker()
    apps = [cluster.app() for _ in range(3)]
    for app, threads in zip(apps, (4, 3, 3)):  # all at once: each answers after its threads asked
        app.send("request", config=CONFIG, threads=threads)
    answers = [app.receive() for app in apps]
    assert len({job_id for answer in answers for job_id in answer["ids"]}) == 1, answers
    assert sum(len(answer["ids"]) for answer in answers) == 10

    # Progress comes from Redis: every process sees the training the worker runs.
    seen = wait_until(lambda: running(apps[2]), what="the training to start")
    assert seen["total_steps"] == 3 and seen["log"][0]["text"] == "started"
    cluster.open_gate()
    for app in apps:
        done = app.ask("wait", config=CONFIG, timeout=20)
        assert done["status"] == "done" and [h["epoch"] for h in done["history"]] == [1, 2, 3]
        if app is apps[0]:  # (still waiting on the worker's job; the others find the stored model)
            assert done["phase"] == "Saving to the model store…"  # the worker's last phase, from Redis
        assert app.ask("model", config=CONFIG)["model"] == {"weights": [0, 1, 2]}
    assert len(cluster.trainings()) == 1
    assert apps[1].ask("request", config=CONFIG)["status"] == "done"  # from the store now
    assert len(cluster.trainings()) == 1


def test_a_worker_killed_mid_training_is_retried_once_elsewhere_and_completes(cluster):
    first, second = cluster.worker(), cluster.worker()
    app = cluster.app()
    job_id = app.ask("request", config=CONFIG)["ids"][0]
    wait_until(lambda: running(app) and cluster.trainings(), what="the training to start")
    (trainer, _), = cluster.trainings()
    victim = first if trainer == first.popen.pid else second
    survivor = second if victim is first else first
    killed_at = time.time()
    os.kill(victim.popen.pid, signal.SIGKILL)

    # The lease (1 s here) runs out and the other worker takes the job: never both at once.
    wait_until(lambda: len(cluster.trainings()) == 2, what="the retry")
    (_, first_start), (retrier, retried_at) = cluster.trainings()
    assert retrier == survivor.popen.pid and retried_at >= killed_at + 0.5
    cluster.open_gate()
    done = app.ask("wait", config=CONFIG, timeout=20)
    assert done["status"] == "done" and done["id"] == job_id
    assert len(cluster.trainings()) == 2

    store = ModelStore(cluster.root / "cache" / "models")  # readable, one entry, nothing half-written
    (entry,) = store.entries()
    assert store.load(entry, lambda folder: json.loads((folder / "weights.json").read_text())) == {"weights": [0, 1, 2]}
    assert not store.problems


def test_a_worker_that_stalls_past_its_lease_gives_the_job_up_when_it_wakes(cluster):
    first = cluster.worker()
    app = cluster.app()
    app.ask("request", config=CONFIG)
    wait_until(lambda: running(app), what="the training to start")
    os.kill(first.popen.pid, signal.SIGSTOP)  # frozen: no heartbeat, as in a long swap storm
    try:
        second = cluster.worker()
        wait_until(lambda: len(cluster.trainings()) == 2, what="the retry")
    finally:
        os.kill(first.popen.pid, signal.SIGCONT)
    assert cluster.trainings()[1][0] == second.popen.pid
    # Woken, the first worker finds its lease gone at its next beat and stops its attempt.
    wait_until(lambda: "lease lost" in first.log.read_text(), what="the stale attempt to give up")
    cluster.open_gate()
    assert app.ask("wait", config=CONFIG, timeout=20)["status"] == "done"
    assert len(cluster.trainings()) == 2 and first.popen.poll() is None  # the first worker lives on


def test_a_job_whose_worker_dies_twice_fails_with_a_message_and_can_be_asked_again(cluster):
    app = cluster.app()
    job_id = app.ask("request", config=CONFIG)["ids"][0]
    for attempt in (1, 2):
        worker = cluster.worker()
        wait_until(lambda: len(cluster.trainings()) == attempt, what=f"attempt {attempt}")
        worker.popen.send_signal(signal.SIGKILL)
        worker.stop()
    cluster.worker()
    failed = wait_until(lambda: (a := app.ask("progress", config=CONFIG))["status"] == "failed" and a,
                        what="the job to fail")
    assert "stopped twice" in failed["error"] and len(cluster.trainings()) == 2
    cluster.open_gate()
    again = app.ask("request", config=CONFIG)
    assert again["ids"][0] != job_id
    assert app.ask("wait", config=CONFIG, timeout=20)["status"] == "done"
    assert len(cluster.trainings()) == 3


def test_cancel_from_the_process_that_did_not_start_the_training(cluster):
    cluster.worker()
    starter, other = cluster.app(), cluster.app()
    job_id = starter.ask("request", config=CONFIG)["ids"][0]
    wait_until(lambda: running(other), what="the training to start")
    cancelled = other.ask("cancel", config=CONFIG)
    assert cancelled["id"] == job_id
    ended = starter.ask("wait", config=CONFIG, timeout=20)
    assert ended["status"] == "cancelled" and ended["error"] == "Training was cancelled."
    assert other.ask("find", config=CONFIG)["status"] == "cancelled"  # the last job, to show why
    assert ModelStore(cluster.root / "cache" / "models").entries() == []

    retry = other.ask("request", config=CONFIG)["ids"][0]
    assert retry != job_id
    cluster.open_gate()
    assert starter.ask("wait", config=CONFIG, timeout=20)["status"] == "done"


def test_a_queued_job_cancelled_from_another_process_never_trains(cluster):
    cluster.worker()  # one training at a time
    first, second = cluster.app(), cluster.app()
    first.ask("request", config={"size": 2})
    wait_until(lambda: running(first, {"size": 2}), what="the first training")
    waiting = first.ask("request", config={"size": 4})
    assert waiting["status"] == "queued"
    assert first.ask("progress", config={"size": 4})["queue_position"] == 1
    cancelled = second.ask("cancel", config={"size": 4})
    assert cancelled["status"] == "cancelled" and "before it started" in cancelled["error"]
    cluster.open_gate()
    assert first.ask("wait", config={"size": 2}, timeout=20)["status"] == "done"
    # The one worker takes messages in order: once a job asked after the cancelled one is done,
    # the cancelled one's message has been taken and dropped.
    first.ask("request", config={"size": 1})
    assert first.ask("wait", config={"size": 1}, timeout=20)["status"] == "done"
    assert len(cluster.trainings()) == 2  # sizes 2 and 1, never 4
    assert first.ask("progress", config={"size": 4})["status"] == "cancelled"


def test_without_configuration_jobs_stay_in_process(monkeypatch):
    import core.training.jobs

    monkeypatch.setitem(core.training.jobs.KINDS, "gated", "tests.distributed_kind:KIND")
    monkeypatch.delenv("DLP_QUEUE", raising=False)
    assert JobManager().queue is None and JobManager().queue_problem is None
    monkeypatch.setenv("DLP_QUEUE", "localhost:6379")
    manager = JobManager()
    assert manager.queue is None and "must be a Redis URL" in manager.queue_problem
    with pytest.raises(AppError, match="must be a Redis URL"):  # refused: never trains here instead
        manager.request("gated", CONFIG)


def test_an_unreachable_queue_is_a_clear_error_not_a_traceback(tmp_path, monkeypatch):
    import core.training.jobs

    monkeypatch.setitem(core.training.jobs.KINDS, "gated", "tests.distributed_kind:KIND")
    manager = JobManager(ModelStore(tmp_path / "models"), queue_url=f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(AppError, match=r"training queue \(Redis\) is unavailable since .*; retrying"):
        manager.request("gated", CONFIG)
    assert manager.find("gated", CONFIG) is None  # nothing stored: nothing to show, no error
    assert "unavailable" in manager.queue_notice()
