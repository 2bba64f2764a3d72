"""Bundled data loads offline; extras say plainly when the network is missing."""
from __future__ import annotations

import numpy as np
import pytest

import core.data
from core.data import load_corpus, load_image_dataset, load_mnist
from core.errors import DatasetUnavailable, UnknownDataset


def test_bundled_mnist_has_the_standard_shapes_and_labels():
    mnist = load_mnist()
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28)
    assert sorted(np.unique(mnist.y_test)) == list(range(10))
    assert np.bincount(mnist.y_train).min() > 5000
    assert mnist.fingerprint == "sha256:06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
    assert load_image_dataset("mnist") is mnist


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(UnknownDataset) as error:
        load_image_dataset("cifar-100")
    assert "Unknown dataset 'cifar-100'" in str(error.value)
    assert "mnist" in str(error.value) and "fashion_mnist" in str(error.value)


def test_download_only_dataset_offline_says_so_and_offers_mnist(monkeypatch):
    monkeypatch.setattr(core.data, "network_available", lambda *a, **k: False)
    core.data._load_tfds.cache_clear()
    with pytest.raises(DatasetUnavailable) as error:
        load_image_dataset("fashion_mnist")
    assert "offline" in str(error.value) and "bundled MNIST" in str(error.value)


def test_corpora_load_offline():
    shakespeare = load_corpus("tinyshakespeare")
    assert len(shakespeare) == 1_115_394 and shakespeare.startswith("First Citizen:")
    docs = load_corpus("python_docs")
    assert len(docs) > 100_000 and "assert" in docs
    with pytest.raises(UnknownDataset, match="Known corpora"):
        load_corpus("wikipedia")


def test_dataset_problem_is_cheap_and_clear(monkeypatch):
    monkeypatch.setattr(core.data, "network_available", lambda *a, **k: False)
    assert core.data.image_dataset_problem("mnist") is None
    assert "offline" in core.data.image_dataset_problem("kmnist")
    assert "Unknown dataset" in core.data.image_dataset_problem("imagenet")
    monkeypatch.setattr(core.data, "network_available", lambda *a, **k: True)
    assert core.data.image_dataset_problem("kmnist") is None


def test_every_image_dataset_names_its_own_classes():
    from core.data import IMAGE_DATASETS, dataset_spec

    assert dataset_spec("mnist").class_names == tuple("0123456789") and dataset_spec("mnist").noun == "digit"
    assert dataset_spec("fashion_mnist").class_names[9] == "Ankle boot"
    assert dataset_spec("emnist_letters").num_classes == 26 and dataset_spec("emnist_letters").noun == "letter"
    assert all(spec.num_classes == len(set(spec.class_names)) for spec in IMAGE_DATASETS.values())
    assert load_mnist().noun == "digit"
    with pytest.raises(UnknownDataset, match="Known datasets"):
        dataset_spec("cifar-100")


def test_a_small_letters_set_made_in_the_test_stands_in_for_the_download(monkeypatch):
    from tests.small_datasets import use_small_letters

    data = use_small_letters(monkeypatch)
    assert load_image_dataset("emnist_letters") is data
    assert data.num_classes == 26 and data.noun == "letter" and data.y_train.max() == 25
    assert core.data.image_dataset_problem("emnist_letters") is None
