"""Every Keras training writes TensorBoard event files; the reader gets scalars and histograms back."""
from __future__ import annotations

import json

import pytest

from core.jobs import JobManager
from core.runs import list_runs, read_histograms, read_scalars, smooth


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    import os

    cache = tmp_path_factory.mktemp("runs-cache")
    old = os.environ.get("DLP_CACHE_DIR")
    os.environ["DLP_CACHE_DIR"] = str(cache)
    try:
        job = JobManager().request("digits", {"arch": "dense2019", "epochs": 2, "train_limit": 500})
        assert job.wait(300) and job.status == "done", job.error
    finally:
        if old is None:
            os.environ.pop("DLP_CACHE_DIR")
        else:
            os.environ["DLP_CACHE_DIR"] = old
    return job, cache


def test_event_files_hold_scalars_per_epoch_for_train_and_validation(tiny_run):
    job, _ = tiny_run
    scalars = read_scalars(job.run_dir)
    for tag in ("train/loss", "train/accuracy", "validation/loss", "validation/accuracy"):
        assert [step for step, _, _ in scalars[tag]] == [1, 2], tag
    history = job.entry.record["history"]
    assert scalars["train/loss"][-1][2] == pytest.approx(history[-1]["loss"], rel=1e-5)
    assert scalars["validation/loss"][-1][2] == pytest.approx(history[-1]["val_loss"], rel=1e-5)


def test_event_files_hold_weight_and_gradient_histograms(tiny_run):
    job, _ = tiny_run
    histograms = read_histograms(job.run_dir)
    kernels = [t for t in histograms if t.endswith("kernel") and not t.startswith("gradients/")]
    gradients = [t for t in histograms if t.startswith("gradients/")]
    assert len(kernels) == 3 and len(gradients) == 6  # 3 dense layers, kernel and bias each
    steps, buckets = zip(*histograms[kernels[0]])
    assert steps == (1, 2)
    first = buckets[0]
    assert first.shape[1] == 3 and first[:, 2].sum() == pytest.approx(784 * 128)  # every weight counted


def test_runs_are_listed_with_their_config_and_model_summary(tiny_run):
    job, cache = tiny_run
    runs = list_runs(cache / "runs")
    assert [r["name"] for r in runs] == [job.run_dir.name]
    assert runs[0]["kind"] == "digits" and runs[0]["config"]["arch"] == "dense2019"
    import json

    summary = json.loads((job.run_dir / "model.json").read_text())
    assert [l["name"] for l in summary["layers"]][-1] == "probabilities"
    assert sum(l["params"] for l in summary["layers"]) == job.entry.record["metrics"]["params"]


def test_smoothing_matches_tensorboards_debiased_ema():
    assert smooth([1.0, 1.0, 1.0], 0.9) == pytest.approx([1.0, 1.0, 1.0])
    values = [0.0, 10.0]
    assert smooth(values, 0.5) == pytest.approx([0.0, (0.5 * 0 * 0.5 + 0.5 * 10) / 0.75])
    assert smooth(values, 0.0) == values


def test_tensorboard_starts_on_the_runs_folder_with_the_projector(tiny_run, monkeypatch):
    import urllib.request

    from core import tensorboard
    from core.store import ModelStore

    _, cache = tiny_run
    monkeypatch.setenv("DLP_CACHE_DIR", str(cache))
    bundle = tensorboard.write_latest_projector(JobManager(ModelStore(cache / "models")), points=100)
    assert (bundle / "projector_config.pbtxt").exists() and (bundle / "sprite.png").exists()
    url = tensorboard.ensure_running(cache / "runs")
    try:
        assert tensorboard.ensure_running(cache / "runs") == url  # one TensorBoard, reused
        with urllib.request.urlopen(url + "data/runs", timeout=10) as response:
            runs = json.loads(response.read())
        assert any("digits" in run for run in runs)
    finally:
        tensorboard.stop()
