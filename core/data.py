"""Datasets: the bundled MNIST and text corpora, and optional extras from
tensorflow-datasets when the machine is online.

Everything the app shows by default comes from ``assets/``; the network is only
ever an extra, and its absence is reported in plain words.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from core.errors import DatasetUnavailable, UnknownDataset
from core.paths import ASSETS, cache_dir

MNIST_PATH = ASSETS / "mnist.npz"
SHAKESPEARE_PATH = ASSETS / "tinyshakespeare.txt.gz"


@dataclass(frozen=True)
class ImageDataset:
    """28×28 grayscale images as uint8 arrays, labels as int64."""

    name: str
    title: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    fingerprint: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def noun(self) -> str:
        """What one class is ("digit", "letter"…), for sentences."""
        return IMAGE_DATASETS[self.name].noun if self.name in IMAGE_DATASETS else "class"


class ImageDatasetSpec(NamedTuple):
    """What an image data set is, known without loading it."""

    title: str
    tfds_name: str | None  # None: bundled with the app
    class_names: tuple[str, ...]
    noun: str  # what one class is, for sentences: "digit", "letter"…

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


IMAGE_DATASETS: dict[str, ImageDatasetSpec] = {
    "mnist": ImageDatasetSpec("MNIST digits (bundled)", None, tuple(str(d) for d in range(10)), "digit"),
    "fashion_mnist": ImageDatasetSpec(
        "Fashion-MNIST (download)",
        "fashion_mnist",
        ("T-shirt", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "item of clothing",
    ),
    "kmnist": ImageDatasetSpec(
        "Kuzushiji-MNIST (download)",
        "kmnist",
        ("お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"),
        "character",
    ),
    "emnist_letters": ImageDatasetSpec(
        "EMNIST letters (download)",
        "emnist/letters",
        tuple(chr(ord("a") + i) for i in range(26)),
        "letter",
    ),
}


def dataset_spec(name: str) -> ImageDatasetSpec:
    """The spec of a known image data set (its classes, without loading it)."""
    if name not in IMAGE_DATASETS:
        known = ", ".join(sorted(IMAGE_DATASETS))
        raise UnknownDataset(f"Unknown dataset '{name}'. Known datasets: {known}.")
    return IMAGE_DATASETS[name]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def load_mnist() -> ImageDataset:
    """The bundled MNIST, read once per process (about 0.2 s)."""
    with np.load(MNIST_PATH) as arrays:
        x_train, y_train = arrays["x_train"], arrays["y_train"].astype(np.int64)
        x_test, y_test = arrays["x_test"], arrays["y_test"].astype(np.int64)
    spec = IMAGE_DATASETS["mnist"]
    return ImageDataset(
        "mnist", spec.title, x_train, y_train, x_test, y_test, spec.class_names,
        fingerprint="sha256:" + file_sha256(MNIST_PATH),
    )


def network_available(host: str = "storage.googleapis.com", timeout: float = 1.5) -> bool:
    """Whether tensorflow-datasets could download anything right now."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def image_dataset_problem(name: str) -> str | None:
    """Why ``name`` cannot be used right now (offline and not downloaded), or None.

    Cheap (no TensorFlow import), so a page can ask on every rerun.
    """
    if name not in IMAGE_DATASETS:
        known = ", ".join(sorted(IMAGE_DATASETS))
        return f"Unknown dataset '{name}'. Known datasets: {known}."
    title, tfds_name = IMAGE_DATASETS[name].title, IMAGE_DATASETS[name].tfds_name
    if tfds_name is None:
        return None
    downloaded = (cache_dir() / "tensorflow_datasets" / tfds_name.split("/")[0]).is_dir()
    if downloaded or network_available():
        return None
    return (f"{title.replace(' (download)', '')} has to be downloaded once, and this machine is "
            "offline. The bundled MNIST works without a network.")


def load_image_dataset(name: str) -> ImageDataset:
    """Any known image dataset; only ``mnist`` works offline."""
    dataset_spec(name)
    if name == "mnist":
        return load_mnist()
    return _load_tfds(name)


@functools.lru_cache(maxsize=4)
def _load_tfds(name: str) -> ImageDataset:
    title, tfds_name, classes, _ = IMAGE_DATASETS[name]
    data_dir = cache_dir() / "tensorflow_datasets"
    try:
        import tensorflow_datasets as tfds

        builder = tfds.builder(tfds_name, data_dir=str(data_dir))
        if not builder.is_prepared():
            problem = image_dataset_problem(name)
            if problem:
                raise DatasetUnavailable(problem)
            builder.download_and_prepare()
        train = tfds.as_numpy(builder.as_dataset(split="train", batch_size=-1))
        test = tfds.as_numpy(builder.as_dataset(split="test", batch_size=-1))
    except DatasetUnavailable:
        raise
    except Exception as error:  # network errors come in many types
        raise DatasetUnavailable(
            f"Could not load {title}: {error}. The bundled MNIST works without a network."
        ) from error

    def images(split):
        x = split["image"][..., 0]
        if name == "emnist_letters":  # EMNIST is stored transposed
            x = np.transpose(x, (0, 2, 1))
        return x.astype(np.uint8)

    def labels(split):
        y = split["label"].astype(np.int64)
        return y - 1 if name == "emnist_letters" else y  # letters are 1..26

    fingerprint = f"tfds:{tfds_name}:{builder.version}"
    return ImageDataset(name, title, images(train), labels(train), images(test),
                        labels(test), classes, fingerprint)


# ---- text corpora ----------------------------------------------------------

@functools.lru_cache(maxsize=1)
def load_shakespeare() -> str:
    with gzip.open(SHAKESPEARE_PATH, "rt", encoding="utf-8") as handle:
        return handle.read()


@functools.lru_cache(maxsize=1)
def load_python_docs() -> str:
    """CPython's own documentation topics (about 465 k characters)."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key] for key in sorted(topics))


TEXT_CORPORA = {
    "tinyshakespeare": ("Tiny Shakespeare (bundled)", load_shakespeare),
    "python_docs": ("Python documentation (ships with Python)", load_python_docs),
}


def load_corpus(name: str) -> str:
    if name not in TEXT_CORPORA:
        known = ", ".join(sorted(TEXT_CORPORA))
        raise UnknownDataset(f"Unknown corpus '{name}'. Known corpora: {known}.")
    return TEXT_CORPORA[name][1]()


def text_fingerprint(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
