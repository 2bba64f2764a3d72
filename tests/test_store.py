"""The model store: atomic writes, corruption and crashes are survived, nothing is pickled."""
from __future__ import annotations

import json
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
from core.training.store import ModelStore, config_key
from tests import fake_kind

REPO = Path(__file__).resolve().parent.parent


def save_json(obj, folder):
    (folder / "weights.json").write_text(json.dumps(obj))


def load_json(folder):
    return json.loads((folder / "weights.json").read_text())


def test_put_then_get_round_trips_with_record(tmp_path):
    store = ModelStore(tmp_path)
    entry = store.put("abc", {"w": [1, 2]}, {"kind": "fake", "config": {"size": 2}}, save_json)
    again = ModelStore(tmp_path).get("abc")
    assert again is not None and again.config == {"size": 2}
    assert store.load(again, load_json) == {"w": [1, 2]}
    assert set(again.record["files"]) == {"weights.json"}
    assert again.record["created"] <= again.record["updated"]
    assert entry.path == tmp_path / "abc"
    assert not list(tmp_path.glob(".tmp-*"))


def test_config_key_is_stable_and_order_independent():
    assert config_key({"a": 1, "b": 2}) == config_key({"b": 2, "a": 1})
    assert len(config_key({"a": 1})) == 16


@pytest.mark.parametrize("damage", ["garbage model", "truncated record", "missing record", "wrong key"])
def test_corrupt_entry_is_reported_and_rebuilt(tmp_path, monkeypatch, damage):
    kind = fake_kind.FakeKind()
    monkeypatch.setattr(fake_kind, "KIND", kind)
    monkeypatch.setitem(core.training.jobs.KINDS, "fake", "tests.fake_kind:KIND")
    manager = JobManager(ModelStore(tmp_path))
    job = manager.request("fake", {"size": 2})
    job.wait(10)
    folder = tmp_path / job.key
    if damage == "garbage model":
        (folder / "weights.json").write_bytes(b"\x00\x01 not json")
    elif damage == "truncated record":
        record = (folder / "record.json").read_text()
        (folder / "record.json").write_text(record[: len(record) // 2])
    elif damage == "missing record":
        (folder / "record.json").unlink()
    else:
        record = json.loads((folder / "record.json").read_text())
        (folder / "record.json").write_text(json.dumps({**record, "key": "someone-else"}))

    fresh = JobManager(ModelStore(tmp_path))
    rebuilt = fresh.request("fake", {"size": 2})
    assert rebuilt.wait(10) and rebuilt.status == DONE and rebuilt.trained_here
    assert any(job.key in problem for problem in fresh.store.problems)
    assert fresh.request("fake", {"size": 2}).model() == {"weights": [0, 1]}
    assert kind.trainings == 2


SLOW_SAVER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from core.training.store import ModelStore

    def slow_save(obj, folder):
        with open(folder / "weights.json", "w") as handle:
            handle.write('{{"weights": [')
            handle.flush()
            print("saving", flush=True)
            time.sleep(60)  # killed here, mid-write
            handle.write("1]}}")

    ModelStore(Path({root!r})).put("k1", None, {{"kind": "fake", "config": {{}}}}, slow_save)
""")


@pytest.mark.parametrize("existing", [False, True])
def test_process_killed_while_saving_leaves_the_store_readable(tmp_path, existing):
    store = ModelStore(tmp_path)
    if existing:
        store.put("k1", {"weights": [0]}, {"kind": "fake", "config": {}}, save_json)
    script = SLOW_SAVER.format(repo=str(REPO), root=str(tmp_path))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "saving"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert list(tmp_path.glob(".tmp-*")), "the half-written entry should be in a temporary folder"

    after = ModelStore(tmp_path)
    entry = after.get("k1")
    if existing:
        assert entry is not None and after.load(entry, load_json) == {"weights": [0]}
    else:
        assert entry is None
    assert [e.key for e in after.entries()] == (["k1"] if existing else [])
    after.put("k1", {"weights": [2]}, {"kind": "fake", "config": {}}, save_json)
    assert after.load(after.get("k1"), load_json) == {"weights": [2]}


def test_stale_temporary_folders_are_cleaned_up(tmp_path):
    stale = tmp_path / ".tmp-crashed"
    stale.mkdir()
    old = time.time() - 7200
    os.utime(stale, (old, old))
    fresh = tmp_path / ".tmp-in-progress"
    fresh.mkdir()
    ModelStore(tmp_path)
    assert not stale.exists() and fresh.exists()


def test_real_keras_model_round_trip_in_safe_mode(tmp_path):
    import numpy as np
    import keras

    from core.training.store import load_keras, save_keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    store = ModelStore(tmp_path)
    entry = store.put("keras1", model, {"kind": "digits"}, save_keras)
    loaded = store.load(store.get("keras1"), load_keras)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    assert (entry.path / "model.keras").exists()
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))
    # A trained (compiled) model is saved without its optimizer's state: load_keras never compiles.
    big = keras.Sequential([keras.Input((300,)), keras.layers.Dense(300, name="wide")])
    big.compile(optimizer="adam", loss="mse")
    big.fit(np.ones((4, 300), "float32"), np.ones((4, 300), "float32"), verbose=0)
    trained = store.put("keras2", big, {"kind": "digits"}, save_keras)
    assert (trained.path / "model.keras").stat().st_size < 1.5 * big.count_params() * 4  # no Adam moments
    again = store.load(store.get("keras2"), load_keras)
    np.testing.assert_allclose(again(np.ones((1, 300), "float32")), big(np.ones((1, 300), "float32")), rtol=1e-6)


def test_lambda_layers_are_refused_by_safe_mode(tmp_path):
    import keras

    from core.training.store import load_keras, save_keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    store = ModelStore(tmp_path)
    store.put("unsafe", model, {"kind": "digits"}, save_keras)
    with pytest.raises(ValueError, match="(?i)unsafe|safe_mode|lambda"):
        store.load(store.get("unsafe"), load_keras)
