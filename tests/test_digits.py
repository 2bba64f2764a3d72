"""The digit networks: the talks' architectures as specified, training through the job
machinery with the data the Training view shows, and the fast reader used by the Draw page."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import load_mnist
from core.digits.models import ARCHITECTURES, KIND, build, penultimate_layer
from core.errors import BadConfig

TINY = {"epochs": 1, "train_limit": 3000}


def train_tiny(tmp_path_factory, config: dict):
    """Train one small digit network into a throw-away store; returns the finished job.

    Module-scoped fixtures run before the per-test cache isolation, so the cache
    folder is pointed at a temporary one here, not at the user's real cache.
    """
    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    cache = tmp_path_factory.mktemp("digits-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLP_CACHE_DIR", str(cache))
        job = JobManager(ModelStore(cache / "store")).request("digits", {**TINY, **config})
        assert job.wait(300), "training did not finish"
    assert job.status == "done", job.error
    return job


@pytest.fixture(scope="module")
def cnn_job(tmp_path_factory):
    return train_tiny(tmp_path_factory, {"arch": "fast_cnn", "augment": True, "epochs": 2, "train_limit": 4000})


@pytest.fixture(scope="module")
def mlp_job(tmp_path_factory):
    return train_tiny(tmp_path_factory, {"arch": "dense2019", "epochs": 2})


def layer_summary(model):
    import keras

    out = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            out.append(("conv", layer.kernel_size, layer.filters))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            out.append(("pool", layer.pool_size))
        elif isinstance(layer, keras.layers.Dense):
            out.append(("dense", layer.units, layer.activation.__name__))
        elif isinstance(layer, keras.layers.Dropout):
            out.append(("dropout",))
    return out


def test_the_talks_networks_are_built_as_specified():
    assert set(ARCHITECTURES) == {"fast_cnn", "stream2017_cnn", "keras2020_mlp", "dense2019"}
    assert layer_summary(build("stream2017_cnn")) == [
        ("conv", (5, 5), 32), ("pool", (2, 2)), ("conv", (5, 5), 64), ("pool", (2, 2)),
        ("dense", 1024, "relu"), ("dropout",), ("dense", 10, "softmax")]
    assert layer_summary(build("keras2020_mlp")) == [
        ("dense", 256, "relu"), ("dense", 128, "relu"), ("dense", 10, "softmax")]
    assert layer_summary(build("dense2019")) == [
        ("dense", 128, "relu"), ("dense", 16, "relu"), ("dense", 10, "softmax")]
    # The talks' optimiser settings are the defaults.
    assert KIND.normalize({"arch": "stream2017_cnn"})["learning_rate"] == 0.001
    assert KIND.normalize({"arch": "stream2017_cnn"})["batch_size"] == 128
    assert KIND.normalize({"arch": "keras2020_mlp"})["batch_size"] == 32


@pytest.mark.parametrize("arch,expected", [
    ("fast_cnn", "dense1"), ("stream2017_cnn", "dense1"), ("keras2020_mlp", "dense2"), ("dense2019", "dense2"),
])
def test_every_network_names_its_layers_and_its_penultimate_layer(arch, expected):
    model = build(arch)
    assert model.layers[0].name == "image" and model.layers[-1].name == "probabilities"
    assert penultimate_layer(model) == expected
    assert model.output_shape == (None, 10)


def test_configs_are_normalised_and_bad_settings_explained():
    assert KIND.normalize({"arch": "fast_cnn"}) == KIND.normalize({"arch": "fast_cnn", "epochs": "1"})
    for bad, words in [({"arch": "resnet"}, "Unknown architecture"), ({"epochs": 0}, "Epochs"),
                       ({"batch_size": "many"}, "Bad training setting"), ({"learning_rate": 5}, "learning rate"),
                       ({"train_limit": -1}, "negative")]:
        with pytest.raises(BadConfig, match=words):
            KIND.normalize(bad)


def test_training_records_what_the_training_view_shows(cnn_job):
    record = cnn_job.entry.record
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(record["history"][0])
    # Within epochs, the training curve: about 20 points per epoch, ending where each epoch ends.
    epochs_on_curve = [point["epoch"] for point in record["curve"]]
    assert epochs_on_curve == sorted(epochs_on_curve) and len(epochs_on_curve) == 40
    assert 1.0 in epochs_on_curve and epochs_on_curve[-1] == 2.0 and epochs_on_curve[0] < 0.1
    assert all("loss" in point and "val_loss" not in point for point in record["curve"])
    confusion = np.array(record["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    assert record["metrics"]["test_accuracy"] == pytest.approx(np.trace(confusion) / 10_000)
    assert record["metrics"]["test_accuracy"] > 0.8  # 4000 images, two epochs, augmented
    wrong = record["misclassified"]
    assert 0 < len(wrong) <= 10_000 - np.trace(confusion)
    labels = load_mnist().y_test
    for index, true, predicted in wrong:
        assert labels[index] == true and predicted != true and confusion[true, predicted] > 0


def test_augmentation_only_acts_while_training(cnn_job):
    model = cnn_job.model()
    x = load_mnist().x_test[:8, ..., None].astype("float32") / 255
    np.testing.assert_allclose(np.asarray(model(x, training=False)), np.asarray(model(x, training=False)))
    assert any(layer.name.startswith("augment") for layer in model.layers)


def test_reader_matches_the_model_and_looks_inside_a_cnn(cnn_job):
    from core.digits.look_inside import reader_for

    model = cnn_job.model()
    reader = reader_for(model)
    assert reader_for(model) is reader  # compiled once per model
    digits = load_mnist().x_test[:16].astype("float32") / 255
    direct = np.asarray(model(digits[..., None], training=False))
    np.testing.assert_allclose(reader.probabilities(digits), direct, atol=1e-5)
    np.testing.assert_allclose(reader.probabilities(digits[3]), direct[3], atol=1e-5)

    inside = reader.look_inside(digits[0])
    assert list(inside.feature_maps) == ["conv1", "conv2", "conv3"]
    assert inside.feature_maps["conv1"].shape[-1] == model.get_layer("conv1").filters
    assert min(maps.min() for maps in inside.feature_maps.values()) >= 0  # read after ReLU
    np.testing.assert_allclose(inside.probabilities, direct[0], atol=1e-5)
    assert inside.saliency.shape == (28, 28) and inside.saliency.max() == pytest.approx(1.0)
    kind, tiles = reader.first_layer_tiles()
    assert kind == "filters" and tiles.shape[1:] == model.get_layer("conv1").kernel_size


def test_saliency_is_the_gradient_of_the_top_class(mlp_job):
    """Compare with finite differences: nudging the pixels the map calls important moves the
    top-class probability more than nudging the ones it calls unimportant."""
    from core.digits.look_inside import reader_for

    reader = reader_for(mlp_job.model())
    digit = load_mnist().x_test[0].astype("float32") / 255
    inside = reader.look_inside(digit)
    top = int(np.argmax(inside.probabilities))
    order = np.argsort(inside.saliency.ravel())
    pixels = np.concatenate([order[-20:], order[:20]])
    nudged = np.repeat(digit[None], len(pixels), axis=0).reshape(len(pixels), -1)
    epsilon = 1e-2
    nudged[np.arange(len(pixels)), pixels] += epsilon
    change = np.abs(reader.probabilities(nudged.reshape(-1, 28, 28))[:, top] - inside.probabilities[top]) / epsilon
    assert change[:20].mean() > 5 * change[20:].mean()
    expected = inside.saliency.ravel()[pixels[:20]]
    assert np.corrcoef(change[:20], expected)[0, 1] > 0.8


def test_mlp_first_layer_weights_are_28x28_tiles_and_activations_cover_every_dense_layer(mlp_job):
    from core.digits.look_inside import reader_for

    reader = reader_for(mlp_job.model())
    kind, tiles = reader.first_layer_tiles(limit=32)
    assert kind == "weights" and tiles.shape == (32, 28, 28)
    np.testing.assert_allclose(tiles[5].ravel(), reader.model.get_layer("dense1").get_weights()[0][:, 5])
    inside = reader.look_inside(load_mnist().x_test[1].astype("float32") / 255)
    assert {name: a.shape for name, a in inside.activations.items()} == {
        "dense1": (128,), "dense2": (16,), "probabilities": (10,)}
    assert not inside.feature_maps
    assert inside.activations["dense1"].min() >= 0  # after ReLU


def test_unsure_and_mosaic_helpers():
    from core.digits.look_inside import is_unsure, mosaic

    assert is_unsure(np.array([0.45, 0.4] + [0.0125] * 8))
    assert not is_unsure(np.array([0.97, 0.01] + [0.0025] * 8))
    grid = mosaic(np.stack([np.full((3, 3), v) for v in (-1.0, 0.0, 2.0)]), columns=2, normalise="signed")
    assert grid.shape == (7, 7) and grid[0, 0] == 0.0 and grid[0, 4] == 0.5 and grid[4, 0] == 1.0


def test_the_run_log_puts_epochs_on_the_step_axis_and_follows_the_learning_rate_schedule(cnn_job):
    """4000 images in batches of 128: 32 optimiser steps an epoch, 64 in all (fewer than the
    schedule's 100 points, so every step is a point); validation sits at each epoch's end."""
    from core.training.runs import read_histograms, read_scalars

    scalars = read_scalars(cnn_job.run_dir)
    assert [step for step, _, _ in scalars["train/loss"]] == list(range(1, 65))
    assert [step for step, _, _ in scalars["validation/accuracy"]] == [32, 64]
    rates = [value for _, _, value in scalars["train/learning_rate"]]
    # Warm-up from a tenth of the peak over 6 steps, then cosine decay: each point is the rate
    # that step's update used (step 1 used the schedule's value at 0).
    assert rates[0] == pytest.approx(0.001) and rates[6] == pytest.approx(0.01) and max(rates) == rates[6]
    # Keras' CosineDecay counts its 64 decay steps after the warm-up: step 64 used 0.01 * ½(1 + cos(π·57/64)).
    assert all(later < earlier for earlier, later in zip(rates[6:], rates[7:]))
    assert rates[-1] == pytest.approx(0.005 * (1 + np.cos(np.pi * 57 / 64)))
    histograms = read_histograms(cnn_job.run_dir)
    assert [step for step, _ in histograms["conv1/kernel"]] == [0, 7, 13, 20, 26, 32, 39, 45, 52, 58, 64]
    assert [step for step, _ in histograms["gradients/conv1/kernel"]][0] == 0


def test_titles_count_epochs_in_words():
    assert KIND.title(KIND.normalize({"arch": "fast_cnn"})) == "Fast CNN (1 epoch)"
    five = KIND.normalize({"arch": "dense2019", "train_limit": 500})
    assert KIND.title(five) == "2019 dense net (5 epochs, 500 images)"


def test_a_network_on_another_data_set_carries_its_own_classes(monkeypatch, tmp_path):
    """Issue 29: a network trained on EMNIST letters (26 classes; a small set made here, no
    download) has 26 outputs, and its record names them, so no page calls them digits."""
    from core.digits.models import class_names, class_noun, data_sizes
    from core.training.jobs import JobManager
    from core.training.store import ModelStore
    from tests.small_datasets import FAVOURITE, use_small_letters

    data = use_small_letters(monkeypatch)
    job = JobManager(ModelStore(tmp_path / "store")).request(
        "digits", {"arch": "dense2019", "dataset": "emnist_letters", "epochs": 1})
    assert job.wait(300) and job.status == "done", job.error
    record = job.entry.record
    assert job.model().output_shape == (None, 26)
    assert class_names(record) == list("abcdefghijklmnopqrstuvwxyz") and class_noun(record) == "letter"
    assert np.array(record["confusion"]).shape == (26, 26)
    assert all(0 <= true < 26 and 0 <= said < 26 for _, true, said in record["misclassified"])
    # 2,400 images: a twelfth (200) held out for validation, the rest fitted; 400 tested.
    assert data_sizes(record) == {"train": 2200, "validation": 200, "test": 400}
    # Random pictures, half of them labelled "z": the network learns to say "z".
    assert np.argmax(np.bincount(np.array(record["confusion"]).argmax(axis=1))) == FAVOURITE
    assert len(data.y_test) == np.array(record["confusion"]).sum()


@pytest.mark.parametrize("limit,train,validation", [
    (0, 55_000, 5_000), (12_000, 12_000, 2_400), (30_000, 30_000, 5_000), (60_000, 55_000, 5_000)])
def test_sizes_say_what_the_split_really_used_for_every_limit(limit, train, validation):
    """Issue 29: above limit 25,000 (validation) and 55,000 (training) the data runs out; the
    sizes say what was used. Older records without ``sizes`` (the bundled model's) get the same
    split from the function the training uses."""
    from core.digits.models import data_sizes, training_split

    config = KIND.normalize({"train_limit": limit})
    fit, held_out = training_split(config, 60_000)
    images = range(60_000)
    assert (len(images[fit]), len(images[held_out])) == (train, validation)
    assert set(images[fit]).isdisjoint(images[held_out])
    assert data_sizes({"config": config}) == {"train": train, "validation": validation, "test": 10_000}
    assert data_sizes({"config": config, "sizes": {"train": 1, "validation": 2, "test": 3}})["validation"] == 2


def test_records_name_their_classes_and_sizes(mlp_job):
    from core.digits.models import class_names, class_noun, data_sizes

    record = mlp_job.entry.record
    assert record["class_names"] == list("0123456789") and class_noun(record) == "digit"
    assert record["sizes"] == {"train": 3000, "validation": 600, "test": 10_000} == data_sizes(record)
    old = {key: value for key, value in record.items() if key not in ("class_names", "class_noun", "sizes")}
    assert class_names(old) == list("0123456789") and class_noun(old) == "digit"
