"""Every Keras training writes TensorBoard event files on the optimiser-step axis, at a fixed
number of points whatever the run's length; TensorBoard's own reader and ours get them back."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.training.jobs import JobManager
from core.training.runs import LogSchedule, list_runs, read_histograms, read_scalars, smooth

TINY_RUN = {"arch": "dense2019", "epochs": 1, "train_limit": 2000}  # batch 32: 63 optimiser steps


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    cache = tmp_path_factory.mktemp("runs-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLP_CACHE_DIR", str(cache))
        job = JobManager().request("digits", TINY_RUN)
        assert job.wait(300) and job.status == "done", job.error
    return job, cache


@pytest.mark.parametrize("total", [1, 7, 99, 100, 430, 4300, 100_003])
def test_the_schedule_spreads_a_fixed_number_of_points_over_any_run_length(total):
    schedule = LogSchedule(total)
    steps = schedule.scalar_steps()
    assert len(steps) == min(100, total) and steps[-1] == total
    gaps = np.diff([0] + steps)
    assert gaps.max() - gaps.min() <= 1  # evenly spread
    rows = schedule.histogram_steps()
    assert rows[0] == 0 and rows[-1] == total and len(rows) == min(10, total) + 1
    assert not schedule.scalar_due(0) and not schedule.scalar_due(total + 1)
    with pytest.raises(ValueError):
        LogSchedule(0)


class RecordingReporter:
    """The part of core.training.progress.Reporter the Keras callback uses, for a model trained outside a job."""

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.cancelled = False
        self.epochs: list[dict] = []

    def set_total(self, total_steps, epochs=0):
        self.total = total_steps

    def step(self, step, **metrics):
        pass

    def point(self, epoch, **metrics):
        pass

    def epoch_end(self, epoch, **metrics):
        self.epochs.append(metrics)


def tiny_classifier(seed: int = 0, random_layers: bool = False):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((28, 28, 1))
    x = layers.RandomTranslation(0.1, 0.1)(inputs) if random_layers else inputs
    x = layers.Conv2D(4, 3, strides=2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Flatten()(x)
    if random_layers:
        x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def digits(count: int):
    from core.data import load_mnist

    mnist = load_mnist()
    return mnist.x_train[:count, ..., None].astype("float32") / 255, mnist.y_train[:count]


def test_training_points_are_the_mean_over_the_batches_since_the_previous_point(tmp_path):
    """With a learning rate of 0 the weights stay put, so each logged point can be recomputed
    directly: the per-sample loss and accuracy over its window of batches (the last batch is short)."""
    import keras

    from core.training.keras_progress import keras_progress

    x, y = digits(95)
    model = tiny_classifier()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    callback = keras_progress(RecordingReporter(tmp_path), 1, 95, 10, schedule=LogSchedule(10, points=3))
    model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0, callbacks=[callback])
    scalars = read_scalars(tmp_path)
    assert [step for step, _, _ in scalars["train/loss"]] == [4, 7, 10]  # marks at 10/3, 20/3, 10
    losses, hits = [], []
    for start in range(0, 95, 10):  # batch by batch: batch norm normalises with each batch's statistics
        batch = model(x[start:start + 10], training=True)
        losses += list(np.asarray(keras.losses.sparse_categorical_crossentropy(y[start:start + 10], batch)))
        hits += list(np.asarray(batch).argmax(axis=1) == y[start:start + 10])
    for (_, _, loss), (_, _, accuracy), (begin, end) in zip(scalars["train/loss"], scalars["train/accuracy"],
                                                            [(0, 40), (40, 70), (70, 95)]):
        assert loss == pytest.approx(np.mean(losses[begin:end]), rel=1e-4)
        assert accuracy == pytest.approx(np.mean(hits[begin:end]), abs=1e-6)
    assert "train/learning_rate" not in scalars  # a constant rate is no curve


def test_logging_gradients_does_not_change_the_training(tmp_path):
    """The gradient pass runs in training mode (dropout, augmentation, batch statistics), then
    puts batch norm's averages and the random generators' states back."""
    import keras

    from core.training.keras_progress import keras_progress

    x, y = digits(200)
    weights = []
    for index, gradient_batch in enumerate([None, (x[:32], y[:32])]):
        model = tiny_classifier(seed=3, random_layers=True)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        callback = keras_progress(RecordingReporter(tmp_path / str(index)), 2, 200, 20,
                                  gradient_batch=gradient_batch, schedule=LogSchedule(20, histograms=5))
        model.fit(x, y, batch_size=20, epochs=2, verbose=0, callbacks=[callback])
        weights.append([np.array(v) for v in model.variables])
    for with_gradients, without in zip(weights[1], weights[0]):
        np.testing.assert_array_equal(with_gradients, without)
    gradients = [tag for tag in read_histograms(tmp_path / "1") if tag.startswith("gradients/")]
    assert gradients and not any(tag.startswith("gradients/") for tag in read_histograms(tmp_path / "0"))


def accumulate(folder):
    """The event files of one split as TensorBoard's server loads them."""
    from tensorboard.backend.event_processing import plugin_event_accumulator as tb

    accumulator = tb.EventAccumulator(str(folder), size_guidance=tb.STORE_EVERYTHING_SIZE_GUIDANCE)
    accumulator.Reload()
    return accumulator


def test_tensorboard_reads_a_one_epoch_run_as_a_curve_and_histograms_over_time(tiny_run):
    job, _ = tiny_run
    steps_per_epoch = math.ceil(2000 / 32)
    train = accumulate(job.run_dir / "train")
    scalar_tags = set(train.PluginTagToContent("scalars"))
    assert {"loss", "accuracy"} <= scalar_tags
    loss_steps = [event.step for event in train.Tensors("loss")]
    assert len(loss_steps) >= 20 and loss_steps == LogSchedule(steps_per_epoch).scalar_steps()
    histogram_tags = set(train.PluginTagToContent("histograms"))
    kernel = "dense1/kernel"
    assert {kernel, "gradients/" + kernel} <= histogram_tags
    for tag in (kernel, "gradients/" + kernel):
        rows = [event.step for event in train.Tensors(tag)]
        assert len(rows) >= 3 and rows[0] == 0 and rows == LogSchedule(steps_per_epoch).histogram_steps()
    validation = accumulate(job.run_dir / "validation")
    assert [event.step for event in validation.Tensors("loss")] == [steps_per_epoch]


def test_the_windows_add_up_to_the_epoch_and_validation_sits_at_its_end(tiny_run):
    job, _ = tiny_run
    scalars = read_scalars(job.run_dir)
    history = job.entry.record["history"]
    # Each of the 63 points is one batch here (fewer steps than points): 62 batches of 32, one of 16.
    sizes = np.array([32] * 62 + [16])
    for name in ("loss", "accuracy"):
        values = np.array([value for _, _, value in scalars[f"train/{name}"]])
        assert np.sum(values * sizes) / sizes.sum() == pytest.approx(history[-1][name], rel=1e-4)
    assert scalars["validation/loss"][-1][2] == pytest.approx(history[-1]["val_loss"], rel=1e-5)
    assert json.loads((job.run_dir / "run.json").read_text())["steps_per_epoch"] == 63


def test_histograms_count_every_weight_and_gradients_have_their_own_tags(tiny_run):
    job, _ = tiny_run
    histograms = read_histograms(job.run_dir)
    kernels = [t for t in histograms if t.endswith("kernel") and not t.startswith("gradients/")]
    gradients = [t for t in histograms if t.startswith("gradients/")]
    assert len(kernels) == 3 and len(gradients) == 6  # 3 dense layers, kernel and bias each
    steps, buckets = zip(*histograms["dense1/kernel"])
    assert steps[0] == 0
    assert all(b.shape[1] == 3 and b[:, 2].sum() == pytest.approx(784 * 128) for b in buckets)  # every weight
    assert not np.array_equal(buckets[0], buckets[-1])  # the weights moved


def test_runs_are_listed_with_their_config_and_model_summary(tiny_run):
    job, cache = tiny_run
    runs = list_runs(cache / "runs")
    assert [r["name"] for r in runs] == [job.run_dir.name]
    assert runs[0]["kind"] == "digits" and runs[0]["config"]["arch"] == "dense2019"
    assert runs[0]["title"] == "2019 dense net (1 epoch, 2000 images)"
    summary = json.loads((job.run_dir / "model.json").read_text())
    assert [layer["name"] for layer in summary["layers"]][-1] == "probabilities"
    assert sum(layer["params"] for layer in summary["layers"]) == job.entry.record["metrics"]["params"]


def test_smoothing_matches_tensorboards_debiased_ema():
    assert smooth([1.0, 1.0, 1.0], 0.9) == pytest.approx([1.0, 1.0, 1.0])
    values = [0.0, 10.0]
    assert smooth(values, 0.5) == pytest.approx([0.0, (0.5 * 0 * 0.5 + 0.5 * 10) / 0.75])
    assert smooth(values, 0.0) == values


def fetch_json(url: str):
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def wait_for_json(url: str, ready, timeout: float = 60.0):
    """TensorBoard loads the logs in the background: ask until ``ready(answer)``."""
    import time

    deadline = time.time() + timeout
    while True:
        answer = fetch_json(url)
        if ready(answer) or time.time() > deadline:
            return answer
        time.sleep(1)


def test_tensorboard_serves_the_curves_and_each_networks_embedding_in_its_projector(tiny_run, monkeypatch):
    import urllib.parse
    import urllib.request

    from core import tensorboard
    from core.digits.models import penultimate_layer
    from core.embeddings.points import mnist_slice
    from core.embeddings.projection import layer_activations
    from core.training.store import ModelStore

    job, cache = tiny_run
    monkeypatch.setenv("DLP_CACHE_DIR", str(cache))
    manager = JobManager(ModelStore(cache / "models"))
    run, left_out = tensorboard.write_projector(manager, points=100)
    assert run == cache / "runs" / "projector" and not left_out
    url = tensorboard.ensure_running(cache / "runs")
    try:
        assert tensorboard.ensure_running(cache / "runs") == url  # one TensorBoard, reused
        train = f"{job.run_dir.name}/train"
        assert train in wait_for_json(url + "data/runs", lambda runs: train in runs)
        loss = fetch_json(f"{url}data/plugin/scalars/scalars?run={urllib.parse.quote(train)}&tag=loss")
        assert [step for _, step, _ in loss] == LogSchedule(63).scalar_steps()
        rows = fetch_json(f"{url}data/plugin/histograms/histograms?run={urllib.parse.quote(train)}"
                          "&tag=gradients/dense1/kernel")
        assert [step for _, step, _ in rows] == LogSchedule(63).histogram_steps()

        # The projector: the run, the network by name, and its tensor as TensorBoard serves it.
        projector = url + "data/plugin/projector/"
        assert wait_for_json(projector + "runs", lambda runs: runs == ["projector"]) == ["projector"]
        model = manager.load_entry("digits", job.entry)
        layer = penultimate_layer(model)
        [embedding] = fetch_json(projector + "info?run=projector")["embeddings"]
        assert embedding["tensorName"] == f"{job.title} — {layer}"
        images, labels = mnist_slice(100)
        expected = layer_activations(model, layer, images.astype(np.float32) / 255)
        assert embedding["tensorShape"] == list(expected.shape)
        name = urllib.parse.quote(embedding["tensorName"])
        with urllib.request.urlopen(f"{projector}tensor?run=projector&name={name}", timeout=30) as response:
            served = np.frombuffer(response.read(), dtype=np.float32).reshape(expected.shape)
        np.testing.assert_allclose(served, expected, rtol=1e-4, atol=1e-5)
        with urllib.request.urlopen(f"{projector}metadata?run=projector&name={name}", timeout=30) as response:
            metadata = response.read().decode().splitlines()
        assert metadata[0].split("\t") == ["label", "predicted"]
        assert [row.split("\t")[0] for row in metadata[1:]] == [str(label) for label in labels]
        with urllib.request.urlopen(f"{projector}sprite_image?run=projector&name={name}", timeout=30) as response:
            assert response.headers["Content-Type"] == "image/png"
    finally:
        tensorboard.stop()
    written = (run / job.entry.key[:16] / "tensors.tsv").stat().st_mtime
    tensorboard.write_projector(manager, points=100)
    assert (run / job.entry.key[:16] / "tensors.tsv").stat().st_mtime == written  # not rewritten


@pytest.mark.parametrize("kind,config", [
    ("sequence", {"series": "sine", "steps": 150, "units": 32, "horizon": 40}),
    ("charlstm", {"text": "the cat sat on the mat. the dog ate the hat. " * 40, "window": 16, "stride": 4,
                  "steps": 30, "evaluations": 2, "batch_size": 16, "units": 32}),
])
def test_the_lstms_log_on_the_same_schedule(tmp_path, kind, config):
    """The hand-written loops log like the Keras callback: a training point at each of the
    schedule's steps (the mean of the batch losses since the previous one), weights and
    gradients at step 0 and ten times after."""
    from core.text.corpus import register_text
    from core.training.store import ModelStore

    if "text" in config:
        config = {**config, "corpus": register_text(config.pop("text"))}
    job = JobManager(ModelStore(tmp_path / "store")).request(kind, config)
    assert job.wait(300) and job.status == "done", job.error
    steps = job.config["steps"]
    scalars, histograms = read_scalars(job.run_dir), read_histograms(job.run_dir)
    assert [step for step, _, _ in scalars["train/loss"]] == LogSchedule(steps).scalar_steps()
    for tag in ("recurrent_0", "gradients/recurrent_0", "output_kernel", "gradients/output_kernel"):
        assert [step for step, _ in histograms[tag]] == LogSchedule(steps).histogram_steps(), tag
    first, last = histograms["recurrent_0"][0][1], histograms["recurrent_0"][-1][1]
    assert first[:, 2].sum() == last[:, 2].sum() == 32 * 4 * 32 and not np.array_equal(first, last)


def test_a_saved_playground_run_keeps_about_100_points_and_its_weights_over_time():
    from core.paths import runs_dir
    from core.playground import PlaygroundNet, PlaygroundState, featurize, make_dataset, save_run
    from core.playground.history import thin_snapshots

    state = PlaygroundState(dataset="xor", hidden=[4], weight_seed=5)
    data = make_dataset(state)
    net = PlaygroundNet(state)
    history = [(epoch, 1.0 / epoch, 1.1 / epoch) for epoch in range(1, 301)]  # as a session keeps it
    snapshots = []
    for _ in range(30):  # a frame per epoch, kept as the live trainer keeps them
        net.train(featurize(data.x_train, state.features), data.y_train, 1)
        snapshots = thin_snapshots([*snapshots, (net.epoch, net.weight_arrays())])
    assert len(snapshots) <= 20 and snapshots[0][0] == 1
    run_dir = save_run(state, net, history, snapshots)
    assert run_dir.parent == runs_dir()
    scalars = read_scalars(run_dir)
    assert [step for step, _, _ in scalars["train/loss"]] == list(range(3, 301, 3))
    assert scalars["test/loss"][-1][2] == pytest.approx(1.1 / 300)  # its test set, not a validation set
    assert "validation/loss" not in scalars
    rows = read_histograms(run_dir)["layer1/kernel"]
    steps = [step for step, _ in rows]
    assert steps[0] == 0 and steps[-1] == 30 and len(steps) == 12, steps  # the start, 10 between, the end
    assert steps == sorted(set(steps))
    initial = PlaygroundNet(PlaygroundState(dataset="xor", hidden=[4], weight_seed=5)).weight_arrays()[0][0]
    np.testing.assert_allclose(rows[0][1][:, 0].min(), initial.min(), rtol=1e-6)  # step 0: the start
    assert not np.array_equal(rows[0][1], rows[1][1])


@pytest.mark.parametrize("ending", ["kill", "terminate"])
def test_tensorboard_and_its_data_server_end_with_the_app_process(tmp_path, ending):
    """However the app's process ends (SIGKILL runs no handler at all), TensorBoard notices that
    its standard input closed and exits, and its data server follows it."""
    import subprocess
    import sys
    from pathlib import Path

    import psutil

    script = ("import sys, time; from core import tensorboard; "
              "print(tensorboard.ensure_running(sys.argv[1]), tensorboard.pid(), flush=True); time.sleep(600)")
    app = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "runs")], stdout=subprocess.PIPE,
                           text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        url, pid = app.stdout.readline().split()
        assert url.endswith("/tensorboard/") and fetch_json(url + "data/environment")
        tensorboard = psutil.Process(int(pid))
        family = wait_for_data_server(tensorboard)
        getattr(app, ending)()
        app.wait(10)
        _, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, [process.cmdline() for process in alive]
    finally:
        app.kill()


def wait_for_data_server(tensorboard, timeout: float = 60.0) -> list:
    """TensorBoard and its children, once its data server (a Rust binary) has started."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        family = [tensorboard, *tensorboard.children(recursive=True)]
        if any("tensorboard_data_server" in " ".join(process.cmdline()) for process in family[1:]):
            return family
        time.sleep(0.5)
    raise AssertionError("TensorBoard started no data server")
