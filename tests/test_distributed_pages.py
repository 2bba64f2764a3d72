"""The pages' training widget, unchanged, on the shared queue: a real Redis and a worker process.

The widget asks the JobManager as always; in queue mode the job it gets back is a RemoteJob whose
progress comes from Redis, and its Cancel reaches the worker that trains it in another process.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import core.training.jobs
from tests.distributed_cluster import Cluster, wait_until


def widget_script():
    import streamlit as st

    from views.training_widget import training_widget

    job = training_widget("gated", {"size": 3}, key="gated", label="Train")
    st.write(f"status: {job.status if job is not None else 'none'}")


@pytest.fixture
def queue_mode(tmp_path, monkeypatch):
    cluster = Cluster(tmp_path, lease=1.0)
    for name in ("DLP_QUEUE", "DLP_CACHE_DIR", "DLP_TEST_DIR", "DLP_LEASE_SECONDS"):
        monkeypatch.setenv(name, cluster.env[name])
    monkeypatch.setitem(core.training.jobs.KINDS, "gated", "tests.distributed_kind:KIND")
    yield cluster
    cluster.close()


def status(at: AppTest) -> str:
    return at.markdown[-1].value


def rerun_until(at: AppTest, condition, what: str):
    def check():
        at.run()
        assert not at.exception, at.exception
        return condition()

    return wait_until(check, 30, what)


def test_train_progress_cancel_and_train_again_through_a_worker_process(queue_mode):
    queue_mode.worker()
    at = AppTest.from_function(widget_script, default_timeout=30).run()
    assert status(at) == "status: none"
    assert at.button(key="gated").label == "Train"
    at.button(key="gated").click().run()
    assert core.training.jobs.get_manager().queue is not None  # the page's manager is in queue mode

    # The worker's heartbeat publishes the progress; the panel reads it from Redis.
    rerun_until(at, lambda: any("step 0/3" in p.proto.text for p in at.get("progress")), "the worker's progress")
    assert len(queue_mode.trainings()) == 1
    at.button(key="gated-cancel").click().run()
    rerun_until(at, lambda: status(at) == "status: cancelled", "the cancelled job")
    assert any("cancelled" in i.value for i in at.info) and not at.error  # said, not as an error
    assert at.button(key="gated").label == "Train"  # (a cancel is no failure: no "Train again")

    at.button(key="gated").click().run()  # offered again after the cancel
    queue_mode.open_gate()
    rerun_until(at, lambda: status(at) == "status: done", "the second training")
    assert len(queue_mode.trainings()) == 2
