"""Small image data sets made in the test, standing in for the tensorflow-datasets extras
(which need a download): the shapes and class names of the real thing, no network."""
from __future__ import annotations

import numpy as np

import core.data
from core.data import IMAGE_DATASETS, ImageDataset

#: The letter the small EMNIST's labels favour (half of them), so any network trained on it
#: reads everything as this letter — one past index 9, where digit labels end.
FAVOURITE = 25


def small_letters(n_train: int = 2400, n_test: int = 400, seed: int = 0) -> ImageDataset:
    """26 classes of random 28×28 images named like EMNIST letters, half of them "z"."""
    rng = np.random.default_rng(seed)
    spec = IMAGE_DATASETS["emnist_letters"]

    def labels(n):
        y = rng.integers(0, spec.num_classes, n)
        y[: n // 2] = FAVOURITE
        return rng.permutation(y).astype(np.int64)

    return ImageDataset("emnist_letters", spec.title,
                        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), labels(n_train),
                        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), labels(n_test),
                        spec.class_names, fingerprint=f"test:letters:{seed}")


def use_small_letters(monkeypatch) -> ImageDataset:
    """Make ``load_image_dataset("emnist_letters")`` return :func:`small_letters` (no download)
    and the data set count as available."""
    data = small_letters()
    monkeypatch.setattr(core.data, "_load_tfds", lambda name: data if name == "emnist_letters" else None)
    monkeypatch.setattr(core.data, "network_available", lambda *args, **kwargs: True)
    return data
