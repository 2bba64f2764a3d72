"""Fine-tuning a digit network on your handwriting: a kind that continues a stored network, keyed by
the base and the drawings, measured honestly on drawings it never trained on and on MNIST."""
from __future__ import annotations

import numpy as np
import pytest

from tools.strokes import drawings
from core.digits.finetune import MIN_DRAWINGS, accuracy, augment, fine_tuned_networks, held_out_split, missing
from core.digits.handwriting import DrawingSet, keep
from core.digits.preprocess import preprocess


def mirror_set(per_digit: int, seed: int = 5) -> DrawingSet:
    images, labels = drawings(per_digit, seed=seed, mirror=True)
    return DrawingSet(np.stack([preprocess(image).digit for image in images]), labels)


def test_every_third_drawing_of_each_digit_is_set_aside():
    labels = np.array([0, 0, 1, 0, 1, 1, 2, 0, 0])
    train, held = held_out_split(labels)
    assert list(held) == [3, 5]  # the third 0 (zeros at 0, 1, 3, 7, 8) and the third 1 (ones at 2, 4, 5)
    assert sorted(np.concatenate([train, held])) == list(range(len(labels)))
    assert missing(DrawingSet()) == MIN_DRAWINGS and missing(mirror_set(2)) == 0


def test_augmented_copies_stay_close_to_the_drawing():
    digit = mirror_set(1).digits[3]
    copies = augment(digit[None], 20, np.random.default_rng(0))
    assert copies.shape == (20, 28, 28) and 0 <= copies.min() and copies.max() <= 1
    assert not np.allclose(copies[0], copies[1])
    assert np.abs(copies.sum(axis=(1, 2)) / digit.sum() - 1).max() < 0.3  # about the same ink


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A quick digit network in a throw-away store (the module-scoped cache is set up here)."""
    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    cache = tmp_path_factory.mktemp("finetune-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLP_CACHE_DIR", str(cache))
        manager = JobManager(ModelStore(cache / "store"))
        job = manager.request("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 3000})
        assert job.wait(300) and job.status == "done", job.error
    return cache, manager, job


def test_fine_tuning_continues_the_base_and_measures_it_honestly(base, monkeypatch):
    cache, manager, base_job = base
    monkeypatch.setenv("DLP_CACHE_DIR", str(cache))
    teach = mirror_set(3)
    config = {"base": base_job.key, "arch": "dense2019", "drawings": keep(teach)}
    before = np.asarray(base_job.model()(teach.digits[..., None], training=False))
    job = manager.request("digits_finetune", config)
    assert job.wait(300) and job.status == "done", job.error
    record = job.entry.record
    assert record["title"] == "2019 dense net + your handwriting"
    report = record["finetune"]
    assert (report["drawings"], report["trained_on"], report["held_out"]) == (30, 20, 10)
    for when in ("before", "after"):
        assert 0 <= report[when]["held_out_accuracy"] <= 1 and 0.5 < report[when]["mnist_accuracy"] <= 1
    assert record["metrics"]["test_accuracy"] == report["after"]["mnist_accuracy"]
    assert record["class_names"] == list("0123456789")
    # The base in the store is untouched: the training continued a copy.
    np.testing.assert_allclose(np.asarray(manager.load("digits", base_job.config)(teach.digits[..., None])), before,
                               atol=1e-6)
    assert not np.allclose(np.asarray(job.model()(teach.digits[..., None])), before, atol=1e-3)
    # The same drawings on the same base: trained once, found in the store.
    again = manager.request("digits_finetune", dict(config))
    assert again.status == "done" and again.key == job.key
    assert [entry.key for entry in fine_tuned_networks(manager.store)] == [job.key]
    # Without replay it is another network.
    assert manager.key_for("digits_finetune", {**config, "replay": False})[1] != job.key


def test_too_few_drawings_or_a_missing_base_fail_in_words(base, monkeypatch):
    cache, manager, base_job = base
    monkeypatch.setenv("DLP_CACHE_DIR", str(cache))
    few = mirror_set(1)  # 10 drawings
    job = manager.request("digits_finetune", {"base": base_job.key, "arch": "dense2019", "drawings": keep(few)})
    assert job.wait(120) and job.status == "failed"
    assert f"at least {MIN_DRAWINGS} labelled drawings" in job.error and "has 10" in job.error
    gone = manager.request("digits_finetune", {"base": "0123456789abcdef", "arch": "dense2019",
                                               "drawings": keep(mirror_set(2))})
    assert gone.wait(120) and gone.status == "failed" and "no longer in the model store" in gone.error


@pytest.mark.parametrize("arch", ["fast_cnn", "stream2017_cnn", "keras2020_mlp", "dense2019"])
def test_the_frozen_trunk_and_the_head_read_like_the_whole_network(arch):
    """Fine-tuning trains only the dense head on the frozen trunk's output, computed once: head(trunk(x))
    must be the network's own reading, and the head exactly its dense (and dropout) layers."""
    import keras

    from core.digits.finetune import Split
    from core.digits.models import build

    keras.utils.set_random_seed(0)
    model = build(arch)
    digits = mirror_set(1).digits
    split = Split(model)
    assert [type(layer).__name__ for layer in split.head] == [
        type(layer).__name__ for layer in model.layers if isinstance(layer, (keras.layers.Dense, keras.layers.Dropout))]
    whole = np.asarray(model(digits[..., None], training=False))
    np.testing.assert_allclose(split.read(split.features(digits)), whole, atol=1e-5)
    labels = np.arange(len(digits)) % 10
    assert split.accuracy(split.features(digits), labels) == accuracy(model, digits, labels)
    assert not split.stochastic and Split(build(arch, augment=True)).stochastic


@pytest.mark.parametrize("augmented", [False, True])
def test_fine_tuning_moves_only_the_dense_layers(augmented):
    """The convolutions, batch norm's weights and its moving statistics stay the base's, also when the
    base's own augmentation layers run in training mode (their features are drawn again every epoch)."""
    import keras

    from core.digits.finetune import fine_tune
    from core.digits.models import build

    keras.utils.set_random_seed(0)
    model = build("fast_cnn", augment=augmented)
    teach = mirror_set(2)
    before = {weight.path: np.array(weight) for weight in model.weights}
    fine_tune(model, teach.digits, teach.labels, seed=1)
    for weight in model.weights:
        moved = not np.array_equal(np.asarray(weight), before[weight.path])
        assert moved == weight.path.startswith(("dense1/", "probabilities/")), weight.path


def test_the_head_training_is_logged_as_a_keras_training_is(tmp_path):
    """train_head feeds core.training.keras_progress.TrainingLog as Keras' loop does: the train scalars
    at the schedule's steps and at each epoch's end (their sample-weighted mean is the epoch's mean),
    weight histograms from step 0, and one epoch report per epoch."""
    import math

    import keras

    from core.digits.finetune import BATCH_SIZE, EPOCHS, fine_tune
    from core.digits.models import build
    from core.training.runs import LogSchedule, read_histograms, read_scalars
    from tests.test_runs import RecordingReporter

    keras.utils.set_random_seed(0)
    teach = mirror_set(2)
    reporter = RecordingReporter(tmp_path)
    fine_tune(build("dense2019"), teach.digits, teach.labels, replay=False, seed=1, reporter=reporter)
    assert len(reporter.epochs) == EPOCHS and all({"loss", "accuracy"} <= set(e) for e in reporter.epochs)
    steps_per_epoch = reporter.total // EPOCHS
    samples = steps_per_epoch * BATCH_SIZE  # the drawings' copies fill whole batches here
    schedule = LogSchedule(reporter.total)
    scalars = read_scalars(tmp_path)
    steps = [step for step, _, _ in scalars["train/loss"]]
    assert steps == sorted({s for s in range(1, reporter.total + 1)
                            if schedule.scalar_due(s) or s % steps_per_epoch == 0})
    for epoch, report in enumerate(reporter.epochs):
        begin, end = epoch * steps_per_epoch, (epoch + 1) * steps_per_epoch
        marks = [begin] + [s for s in steps if begin < s <= end]
        weights = np.diff(marks) * BATCH_SIZE
        losses = [value for step, _, value in scalars["train/loss"] if begin < step <= end]
        assert math.isclose(np.dot(weights, losses) / samples, report["loss"], rel_tol=1e-4)
    histograms = read_histograms(tmp_path)
    assert histograms and all(rows[0][0] == 0 for rows in histograms.values())
