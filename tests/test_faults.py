"""Crashes and full disks: the store stays consistent and an interrupted training can start again."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import core.training.jobs
from core.training.jobs import DONE, JobManager
from core.training.store import ModelStore, load_keras
from tests import fake_kind

REPO = Path(__file__).resolve().parent.parent
# Epochs long enough (about a second each) that the CLI, printing every 0.25 s, shows epoch 1 even on a busy machine.
TINY = ["digits", "--arch", "dense2019", "--epochs", "3", "--set", "train_limit=12000"]


def cli(cache: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DLP_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "core.train", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_training_killed_midway_can_be_started_again(tmp_path):
    process = cli(tmp_path, *TINY)
    seen = ""
    deadline = time.time() + 120
    while "epoch 1/3" not in seen and time.time() < deadline:  # killed during epoch 2
        chunk = os.read(process.stdout.fileno(), 4096).decode(errors="replace")
        if not chunk:
            break
        seen += chunk
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert "epoch 1/3" in seen, seen[-500:]

    store = ModelStore(tmp_path / "models")
    assert store.entries() == []  # nothing half-trained pretends to be a model

    again = cli(tmp_path, *TINY)
    output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output
    assert "saved" in output
    entries = ModelStore(tmp_path / "models").entries()
    assert len(entries) == 1 and len(entries[0].record["history"]) == 3


RESAVE_FOREVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    import keras
    from core.training.store import ModelStore, save_keras
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512), keras.layers.Dense(10)])
    store = ModelStore({root!r})
    n = 0
    while True:
        store.put("k", model, {{"kind": "digits", "n": n}}, save_keras)
        print("saved", n, flush=True)
        n += 1
""")


@pytest.mark.parametrize("delay", [0.05, 0.23])
def test_server_killed_during_a_real_keras_save_leaves_a_loadable_store(tmp_path, delay):
    root = tmp_path / "models"
    script = RESAVE_FOREVER.format(repo=str(REPO), root=str(root))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert process.stdout.readline().startswith("saved 0")
    time.sleep(delay)  # lands inside one of the back-to-back saves
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)

    store = ModelStore(root)
    entry = store.get("k")
    if entry is None:  # killed between moving the old entry out and the new one in
        assert store.entries() == []
    else:
        model = store.load(entry, load_keras)
        assert model.output_shape == (None, 10)
    assert not [p for p in root.iterdir() if not p.name.startswith(".") and p.name != "k"]


def test_disk_full_while_saving_keeps_the_model_in_memory_and_says_so(tmp_path, monkeypatch):
    kind = fake_kind.FakeKind()

    def no_space(model, folder):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(kind, "save", no_space)
    monkeypatch.setattr(fake_kind, "KIND", kind)
    monkeypatch.setitem(core.training.jobs.KINDS, "fake", "tests.fake_kind:KIND")
    manager = JobManager(ModelStore(tmp_path))
    job = manager.request("fake", {"size": 2})
    assert job.wait(10) and job.status == DONE
    assert "No space left" in manager.store.warning and "memory only" in manager.store.warning
    assert manager.request("fake", {"size": 2}).model() == {"weights": [0, 1]}
    assert not list(tmp_path.glob(".tmp-*"))
