"""``python -m core.train`` pretrains into the same store the app reads."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args, cache):
    env = {**os.environ, "DLP_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "core.train", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_trains_once_then_finds_it_in_the_store(tmp_path):
    first = run_cli("digits", "--arch", "dense2019", "--epochs", "1", "--set", "train_limit=600", cache=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "saved 2019 dense net" in first.stdout and "100%" in first.stdout

    second = run_cli("digits", "--arch", "dense2019", "--epochs", "1", "--set", "train_limit=600", cache=tmp_path)
    assert second.returncode == 0 and "already in the store" in second.stdout

    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    manager = JobManager(ModelStore(tmp_path / "models"))
    model = manager.load("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 600})
    assert model is not None and model.output_shape == (None, 10)


def test_cli_rejects_unknown_kind_and_bad_values(tmp_path):
    unknown = run_cli("nope", cache=tmp_path)
    assert unknown.returncode == 2 and "Unknown model kind 'nope'" in unknown.stderr
    bad = run_cli("digits", "--epochs", "0", cache=tmp_path)
    assert bad.returncode == 2 and "Epochs must be between 1 and 100" in bad.stderr
