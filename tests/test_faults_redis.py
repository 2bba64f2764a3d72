"""A course day's Redis troubles, with a real Redis and real processes (tests/distributed_cluster.py):
Redis restarted mid-training, with and without its data, and Redis unreachable when the app starts.

What must hold: every process reconnects by itself and logs one line per outage (no tracebacks); a
training whose record Redis lost fails with a sentence and is never shown "running" for ever; one that
Redis kept carries on; never two attempts at once; the pages say the queue is unavailable instead of
showing an error, and the models in the store keep working.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tools.browser import free_port
from tests.distributed_cluster import CONFIG, Cluster, running, wait_until


@pytest.fixture
def scratch_cluster(tmp_path):
    made = Cluster(tmp_path, lease=1.0)  # no persistence: a restart forgets every job
    yield made
    made.close()


def outage_lines(log: str) -> tuple[int, int]:
    return log.count("does not answer"), log.count("answers again")


def test_redis_restarted_without_its_data_fails_the_training_clearly_and_then_trains_again(scratch_cluster):
    cluster = scratch_cluster
    worker, app = cluster.worker(), cluster.app()
    first = app.ask("request", config=CONFIG)["ids"][0]
    wait_until(lambda: running(app), what="the training to start")
    assert app.ask("notice")["notice"] is None

    cluster.stop_redis()
    notice = wait_until(lambda: app.ask("notice")["notice"], what="the page's notice")
    assert "training queue (Redis) is unavailable" in notice and "retrying" in notice
    assert app.ask("progress", config=CONFIG)["status"] == "running"  # the last known state meanwhile
    cluster.start_redis()  # empty: the job's record, lease and queue are gone

    # The web process says what happened instead of "running" for ever; the worker drops its attempt.
    failed = wait_until(lambda: (p := app.ask("progress", config=CONFIG))["status"] == "failed" and p,
                        what="the lost training to fail")
    assert failed["id"] == first and "restarted without this training's record" in failed["error"]
    wait_until(lambda: "dropping this attempt" in worker.log.read_text(), what="the worker to drop it")
    wait_until(lambda: app.ask("notice")["notice"] is None, what="the notice to go")

    # Asked again, it trains from the start, once, after the first attempt ended.
    cluster.open_gate()
    again = app.ask("request", config=CONFIG)["ids"][0]
    assert again != first
    assert app.ask("wait", config=CONFIG, timeout=20)["status"] == "done"
    (_, first_start), (_, second_start) = cluster.trainings()
    assert cluster.trainings("ended")[0][1] <= second_start
    for process in (worker, app):
        log = process.log.read_text()
        assert outage_lines(log)[0] >= 1 or process is app  # (the app said it through its notice)
        assert "Traceback" not in log, log[-2000:]
    assert outage_lines(worker.log.read_text()) == (1, 1)  # one line down, one line back


def test_redis_restarted_with_its_data_the_training_carries_on(tmp_path):
    cluster = Cluster(tmp_path, lease=10.0, persistent=True)  # as deploy/ runs Redis
    try:
        worker, app = cluster.worker(), cluster.app()
        job_id = app.ask("request", config=CONFIG)["ids"][0]
        wait_until(lambda: running(app), what="the training to start")
        cluster.stop_redis()
        wait_until(lambda: app.ask("notice")["notice"], what="the page's notice")
        cluster.start_redis()
        wait_until(lambda: app.ask("notice")["notice"] is None, what="the notice to go")
        cluster.open_gate()
        done = app.ask("wait", config=CONFIG, timeout=30)
        assert done["status"] == "done" and done["id"] == job_id
        assert len(cluster.trainings()) == 1  # no second attempt: its lease outlasted the restart
        log = worker.log.read_text()
        assert outage_lines(log) == (1, 1) and "Traceback" not in log, log[-2000:]
    finally:
        cluster.close()


APP = str(Path(__file__).resolve().parent.parent / "app.py")


def uses_bundled_model(at) -> bool:
    return any("Bundled model" in c.value for c in at.caption)


def shows_a_map(at) -> bool:
    return bool(at.get("plotly_chart"))


@pytest.mark.parametrize("page, works", [("views/draw/page.py", uses_bundled_model),
                                         ("views/text/page.py", uses_bundled_model),
                                         ("views/embeddings/page.py", shows_a_map)])
def test_redis_unreachable_at_start_up_every_page_says_so_and_stored_models_work(page, works, monkeypatch):
    """No Redis at all (nothing listens on the port): each page shows the notice, and Draw, Text and
    Embeddings work on the models the store holds (here the bundled ones), without an error."""
    import core.training.jobs

    monkeypatch.setenv("DLP_QUEUE", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("DLP_BUNDLED", "1")
    monkeypatch.setattr(core.training.jobs, "_manager", None)
    st.cache_resource.clear()  # views.common.manager() must be this test's
    at = AppTest.from_file(APP, default_timeout=180).run()
    wait_until(lambda: core.training.jobs.get_manager().queue_notice(), what="the outage to be noticed")
    at.run()
    assert any("training queue (Redis) is unavailable" in w.value for w in at.warning)  # on Home too
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert any("training queue (Redis) is unavailable" in w.value for w in at.warning)
    assert not at.error, [e.value for e in at.error]
    assert works(at), "the page works on the stored (bundled) model"
