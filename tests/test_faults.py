"""Crashes and full disks: the store stays consistent and readable, and an interrupted training can start again."""
from __future__ import annotations

import errno
import os
import select
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


def read_until(process: subprocess.Popen, text: str, timeout: float) -> str:
    """The process's output up to ``text`` (or all of it when it ends or ``timeout`` passes first:
    a silent, hung process cannot hold the test)."""
    seen, deadline = "", time.monotonic() + timeout
    while text not in seen and (left := deadline - time.monotonic()) > 0:
        if not select.select([process.stdout], [], [], left)[0]:
            break
        chunk = os.read(process.stdout.fileno(), 4096).decode(errors="replace")
        if not chunk:
            break
        seen += chunk
    return seen


def test_training_killed_midway_can_be_started_again(tmp_path):
    process = cli(tmp_path, *TINY)
    seen = read_until(process, "epoch 1/3", 120)  # killed during epoch 2
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert "epoch 1/3" in seen, seen[-500:]

    store = ModelStore(tmp_path / "models")
    assert store.entries() == []  # nothing half-trained pretends to be a model

    again = cli(tmp_path, *TINY)
    try:
        output, _ = again.communicate(timeout=300)
    finally:
        again.kill()  # (only if it hung)
        again.wait(10)
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
    try:
        assert "saved 0" in read_until(process, "saved 0", 120)
        time.sleep(delay)  # a deliberate moment, not a wait: it lands inside one of the back-to-back saves
    finally:
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


def file_size_limit() -> None:
    """In a child process: no file over 1 MB (the kernel refuses the write: EFBIG)."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # (else the signal kills the process instead)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


@pytest.fixture
def small_disk(tmp_path):
    """The course's model store on a 1-MB disk: a tmpfs mounted for the test when it runs as root and
    may mount (as CI does), else a plain folder in which the worker may write no file over 1 MB.
    Either way the kernel refuses the write; yields (store folder, mounted)."""
    folder = tmp_path / "cache" / "models"
    folder.mkdir(parents=True)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True).returncode == 0
    if not mounted:
        print("\n(no tmpfs: the worker gets a 1-MB file-size limit instead)", file=sys.stderr)
    yield folder, mounted
    if mounted:
        subprocess.run(["umount", str(folder)], check=True, timeout=30)


def test_a_full_disk_fails_the_save_clearly_keeps_the_store_readable_and_leaves_no_half_entry(tmp_path, small_disk):
    from tests.distributed_cluster import Cluster

    folder, mounted = small_disk
    small, big = {"size": 2}, {"size": 3, "pad": 2_000_000}  # the big model needs 2 MB on a 1-MB disk
    cluster = Cluster(tmp_path, lease=1.0)
    try:
        cluster.open_gate()
        cluster.worker(None if mounted else file_size_limit)
        app = cluster.app()
        app.ask("request", config=small)
        assert app.ask("wait", config=small, timeout=60)["status"] == "done"
        app.ask("request", config=big)
        failed = app.ask("wait", config=big, timeout=60)
        assert failed["status"] == "failed", failed
        assert failed["error"].startswith("The trained model could not be saved to the model store (")
        assert ("No space left on device" if mounted else "File too large") in failed["error"]
        # The store stays readable, from the web process and from a fresh reader, with no half entry.
        assert app.ask("model", config=small)["model"] == {"weights": [0, 1]}
        store = ModelStore(folder)
        assert [entry.config for entry in store.entries()] == [{"size": 2, "fail": False}] and not store.problems
        assert not [path.name for path in folder.iterdir() if path.name.startswith(".tmp")]
    finally:
        cluster.close()


def test_disk_full_in_the_lone_app_keeps_the_model_in_memory_and_the_store_readable(tmp_path, monkeypatch):
    """Without the queue the app keeps a model its disk refused in memory, says so on every page, and
    still reads every model stored before."""
    kind = fake_kind.FakeKind()
    monkeypatch.setattr(fake_kind, "KIND", kind)
    monkeypatch.setitem(core.training.jobs.KINDS, "fake", "tests.fake_kind:KIND")
    manager = JobManager(ModelStore(tmp_path))
    assert manager.request("fake", {"size": 2}).wait(10)

    def no_space(model, folder):
        (folder / "weights.json").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(kind, "save", no_space)
    job = manager.request("fake", {"size": 3})
    assert job.wait(10) and job.status == DONE and job.entry.path is None
    assert "No space left on device" in manager.store.warning and "memory only" in manager.store.warning
    assert manager.load("fake", {"size": 2}) == {"weights": [0, 1]}  # the store stays readable
    assert [e.key for e in manager.store.entries() if e.path is not None] == [manager.key_for("fake", {"size": 2})[1]]
    assert not list(tmp_path.glob(".tmp-*"))
