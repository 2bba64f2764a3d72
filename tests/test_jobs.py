"""Background training jobs: sharing, reuse across sessions, cancel, failure, queueing."""
from __future__ import annotations

import inspect
import threading

import pytest

from core.errors import BadConfig, UnknownModel
from core.training.handle import JobHandle
from core.training.jobs import CANCELLED, DONE, FAILED, QUEUED, Job, JobManager
from core.training.progress import Reporter
from core.training.store import ModelStore


def test_trained_model_is_reused_by_another_session_without_retraining(fake, isolated_cache):
    first_session = JobManager(ModelStore(isolated_cache / "models"))
    job = first_session.request("fake", {"size": 3})
    assert job.wait(10) and job.status == DONE and job.trained_here
    assert fake.trainings == 1

    # Another session in the same server, and a whole new process later, both reuse it.
    again = first_session.request("fake", {"size": 3})
    assert again.status == DONE and not again.trained_here
    later_process = JobManager(ModelStore(isolated_cache / "models"))
    reused = later_process.request("fake", {"size": 3})
    assert reused.status == DONE and not reused.trained_here
    assert reused.model() == {"weights": [0, 1, 2]}
    assert reused.progress.history[-1]["loss"] == pytest.approx(1 / 3)
    assert fake.trainings == 1


def test_concurrent_requests_for_one_untrained_config_start_exactly_one_training(fake, isolated_cache):
    manager = JobManager(ModelStore(isolated_cache / "models"))
    fake.gate.clear()  # hold the training until every request is in
    jobs, barrier = [], threading.Barrier(10)

    def ask():
        barrier.wait()
        jobs.append(manager.request("fake", {"size": 2}))

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fake.gate.set()
    assert len({id(job) for job in jobs}) == 1
    assert jobs[0].wait(10) and jobs[0].status == DONE
    assert fake.trainings == 1


def test_equal_configs_written_differently_share_a_key(fake):
    manager = JobManager()
    assert manager.key_for("fake", {"size": 3})[1] == manager.key_for("fake", {"size": "3", "fail": 0})[1]
    assert manager.key_for("fake", {"size": 3})[1] != manager.key_for("fake", {"size": 4})[1]


def test_progress_history_and_eta_are_reported(fake):
    manager = JobManager()
    fake.gate.clear()
    job = manager.request("fake", {"size": 4})
    assert fake.started.wait(5)
    progress = job.progress
    assert progress.status == "running" and progress.total_steps == 4 and progress.epochs == 4
    fake.gate.set()
    job.wait(10)
    done = job.progress
    assert done.fraction == 1.0 and [h["epoch"] for h in done.history] == [1, 2, 3, 4]
    assert job.entry.record["history"][-1]["val_loss"] == pytest.approx(1.1 / 4)


def test_cancel_stops_training_and_a_new_request_starts_again(fake):
    manager = JobManager()
    fake.gate.clear()
    job = manager.request("fake", {"size": 5})
    assert fake.started.wait(5)
    job.cancel()
    assert job.wait(5) and job.status == CANCELLED
    assert manager.store.get(job.key) is None
    fake.gate.set()
    retry = manager.request("fake", {"size": 5})
    assert retry is not job and retry.wait(10) and retry.status == DONE


def test_trainings_beyond_the_limit_queue(fake):
    manager = JobManager(max_running=1)
    fake.gate.clear()
    first = manager.request("fake", {"size": 1})
    assert fake.started.wait(5)
    second = manager.request("fake", {"size": 2})
    assert second.status == QUEUED and second.progress.queue_position == 1
    second.cancel()
    assert second.status == CANCELLED
    fake.gate.set()
    assert first.wait(10) and first.status == DONE


def test_a_failing_training_reports_a_message_and_the_worker_survives(fake):
    manager = JobManager()
    bad = manager.request("fake", {"size": 2, "fail": True})
    assert bad.wait(10) and bad.status == FAILED
    assert "told to fail" in bad.error
    good = manager.request("fake", {"size": 2})
    assert good.wait(10) and good.status == DONE


def test_bad_config_and_unknown_kind_give_clear_messages(fake):
    manager = JobManager()
    with pytest.raises(BadConfig, match="at least 1"):
        manager.request("fake", {"size": 0})
    with pytest.raises(UnknownModel, match="Unknown model kind 'nope'"):
        manager.request("nope", {})


def test_unwritable_cache_trains_in_memory_and_says_so(fake, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    manager = JobManager(ModelStore(blocker / "models"))
    assert not manager.store.writable
    assert "kept in memory only" in manager.store.warning
    job = manager.request("fake", {"size": 2})
    assert job.wait(10) and job.status == DONE
    assert manager.request("fake", {"size": 2}).model() == {"weights": [0, 1]}
    assert fake.trainings == 1


def test_find_never_starts_a_training_and_remembers_failures(fake):
    manager = JobManager()
    assert manager.find("fake", {"size": 2}) is None
    assert fake.trainings == 0
    failed = manager.request("fake", {"size": 2, "fail": True})
    failed.wait(10)
    assert manager.find("fake", {"size": 2, "fail": True}) is failed
    assert fake.trainings == 1
    done = manager.request("fake", {"size": 2})
    done.wait(10)
    assert manager.find("fake", {"size": 2}).status == DONE


def protocol_members(protocol) -> tuple[set[str], dict[str, object]]:
    """(data attributes, {name: property or function}) that a Protocol class declares."""
    attributes = set(protocol.__annotations__)
    members = {name: value for name, value in vars(protocol).items()
               if isinstance(value, property) or (inspect.isfunction(value) and not name.startswith("_"))}
    return attributes, members


def test_job_and_remote_job_both_are_job_handles(fake):
    """What the pages hold of a training: the in-process Job and the queue's RemoteJob both have
    every member of JobHandle, methods with the same signature, so a page works with either."""
    from core.training.remote import RemoteJob

    class Queue:  # what RemoteJob's constructor reads of its queue; nothing is fetched here
        manager = None

    job = JobManager().request("fake", {"size": 1})
    assert job.wait(10)  # (a job left running would train with the next test's kind)
    remote = RemoteJob(Queue(), 7, {"kind": "fake", "key": job.key, "title": "t", "config": "{}"})
    attributes, members = protocol_members(JobHandle)
    assert {"id", "kind", "key", "title", "config", "trained_here"} <= attributes
    assert {"status", "finished", "error", "entry", "progress", "cancel", "wait", "model"} <= set(members)
    for cls, instance in ((Job, job), (RemoteJob, remote)):
        for name in attributes:
            assert name in vars(instance) or hasattr(cls, name), f"{cls.__name__} has no {name}"
        for name, declared in members.items():
            found = inspect.getattr_static(instance, name)
            if isinstance(declared, property):  # a property or a plain attribute both serve
                assert isinstance(found, property) or name in vars(instance), f"{cls.__name__}.{name}"
            else:
                assert inspect.signature(found) == inspect.signature(declared), f"{cls.__name__}.{name}"
    assert isinstance(job, JobHandle)


def test_kinds_get_a_public_reporter_on_a_progress_sink(fake, monkeypatch):
    """The one training path (core.training.runner) hands kinds a progress.Reporter whose reports
    land in the job's public sink; nothing writes a job's private fields."""
    seen = []
    original = fake.train

    def train(config, reporter):
        seen.append(reporter)
        return original(config, reporter)

    monkeypatch.setattr(fake, "train", train)
    job = JobManager().request("fake", {"size": 2})
    assert job.wait(10) and job.status == DONE
    (reporter,), = [seen]
    assert type(reporter) is Reporter and reporter.run_dir == job.sink.run_dir
    assert job.sink.snapshot().step == 2 and job.progress.history == job.entry.record["history"]


def test_saving_is_reported_as_a_phase_with_no_time_left(fake, monkeypatch):
    """The runner says "Saving to the model store…" while it saves; no ETA is claimed meanwhile."""
    seen = []
    original = fake.save

    def save(model, folder):
        seen.append(job.progress)
        original(model, folder)

    monkeypatch.setattr(fake, "save", save)
    fake.gate.clear()  # (until `job` is assigned: save reads it)
    job = JobManager().request("fake", {"size": 2})
    fake.gate.set()
    assert job.wait(10) and job.status == DONE
    (saving,) = seen
    assert saving.phase == "Saving to the model store…" and saving.status == "running"
    assert saving.eta_seconds is None and saving.fraction == 1.0
