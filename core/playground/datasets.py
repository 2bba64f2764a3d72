"""The Playground's data: named point sets, the train/test split, the input features and the grid.

As in the TF Playground's ``dataset.ts``, each data set is a function in a name → function table
(:data:`GENERATORS`): labels ±1 for two classes, a value for regression, a class number for the
multiclass sets (ours, beyond the playground). The six sets the TF Playground has follow its
``dataset.ts`` point for point, noise included: for Circle, XOR, Plane and Multi-Gaussian a
point stays where it was drawn and its label is read at a jittered copy of it (so noise flips
labels near a boundary); Spiral's points are moved; Gaussian's spread grows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from core.errors import BadConfig, BadInput

DOMAIN = 6.0  # the pictures cover [-DOMAIN, DOMAIN]²

CLASSIFICATION_SETS = {"circle": "Circle", "xor": "Exclusive or", "gauss": "Gaussian", "spiral": "Spiral"}
REGRESSION_SETS = {"reg-plane": "Plane", "reg-gauss": "Multi-Gaussian"}
MULTICLASS_SETS = {"blobs": "Blobs (multiclass)", "spiral-arms": "Spiral arms (multiclass)"}
DATASETS = {**CLASSIFICATION_SETS, **REGRESSION_SETS, **MULTICLASS_SETS, "custom": "Your own points"}

# A generator: (number of points, noise in [0, 0.5], random generator, classes) -> (xy, labels).
Generator = Callable[[int, float, np.random.Generator, int], "tuple[np.ndarray, np.ndarray]"]


def classify_circle(n, noise, rng, classes):
    radius = 5.0
    r = np.concatenate([rng.uniform(0, radius * 0.5, n // 2), rng.uniform(radius * 0.7, radius, n - n // 2)])
    angle = rng.uniform(0, 2 * np.pi, n)
    xy = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
    xy_noisy = xy + rng.uniform(-radius, radius, (n, 2)) * noise
    labels = np.where(np.hypot(*xy_noisy.T) < radius * 0.5, 1.0, -1.0)  # label by the noisy point
    return xy, labels


def classify_xor(n, noise, rng, classes):
    xy = rng.uniform(-5, 5, (n, 2))
    xy += np.where(xy > 0, 0.3, -0.3)  # the playground's padding keeps points off the axes
    jittered = xy + rng.uniform(-5, 5, (n, 2)) * noise
    return xy, np.where(jittered[:, 0] * jittered[:, 1] >= 0, 1.0, -1.0)


def classify_gauss(n, noise, rng, classes):
    variance = 0.5 + noise / 0.5 * 3.5
    half = n // 2
    xy = np.concatenate([rng.normal(2, np.sqrt(variance), (half, 2)),
                         rng.normal(-2, np.sqrt(variance), (n - half, 2))])
    return xy, np.concatenate([np.ones(half), -np.ones(n - half)])


def classify_spiral(n, noise, rng, classes):
    def arm(count, delta):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + delta
        return np.stack([r * np.sin(t), r * np.cos(t)], 1) + rng.uniform(-1, 1, (count, 2)) * noise

    half = n // 2
    return np.concatenate([arm(half, 0.0), arm(n - half, np.pi)]), np.concatenate([np.ones(half), -np.ones(n - half)])


def regress_plane(n, noise, rng, classes):
    """Labels (x + y) / 10, unclipped as in the playground: ±1.2 at the corners, more with noise."""
    xy = rng.uniform(-6, 6, (n, 2))
    jittered = xy + rng.uniform(-6, 6, (n, 2)) * noise
    return xy, (jittered[:, 0] + jittered[:, 1]) / 10


def regress_gaussians(n, noise, rng, classes):
    """Six cones of height ±1 and radius 2, max(0, 1 − d/2) as in the playground; a point's label is
    the cone that is largest in magnitude there."""
    cones = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])
    xy = rng.uniform(-6, 6, (n, 2))
    jittered = xy + rng.uniform(-6, 6, (n, 2)) * noise
    distance = np.hypot(*(jittered[:, None, :] - cones[None, :, :2]).transpose(2, 0, 1))
    heights = cones[:, 2] * np.maximum(0.0, 1 - distance / 2)
    return xy, np.take_along_axis(heights, np.abs(heights).argmax(1)[:, None], 1)[:, 0]


def multiclass_blobs(n, noise, rng, classes):
    angle = 2 * np.pi * np.arange(classes) / classes
    centres = 3.5 * np.stack([np.cos(angle), np.sin(angle)], 1)
    labels = rng.integers(0, classes, n)
    return centres[labels] + rng.normal(0, 0.8 + noise * 4, (n, 2)), labels.astype(float)


def multiclass_spiral_arms(n, noise, rng, classes):
    labels = rng.integers(0, classes, n)
    t = rng.uniform(0, 1, n)
    r = t * 5
    angle = 1.75 * t * 2 * np.pi + 2 * np.pi * labels / classes
    xy = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
    return xy + rng.uniform(-1, 1, (n, 2)) * noise * 2, labels.astype(float)


GENERATORS: dict[str, Generator] = {
    "circle": classify_circle, "xor": classify_xor, "gauss": classify_gauss, "spiral": classify_spiral,
    "reg-plane": regress_plane, "reg-gauss": regress_gaussians,
    "blobs": multiclass_blobs, "spiral-arms": multiclass_spiral_arms,
}


def generate(name: str, points: int = 500, noise: float = 0.0, seed: int = 0, classes: int = 3):
    """(xy, labels) for a named data set; ``noise`` is a fraction in [0, 0.5]."""
    if name not in GENERATORS:
        raise BadConfig(f"Unknown dataset '{name}'.")
    return GENERATORS[name](int(points), noise, np.random.default_rng(seed), classes)


@dataclass
class Dataset:
    x_train: np.ndarray  # (n, 2) raw coordinates
    y_train: np.ndarray  # (n,) ±1, a value in [-1, 1], or a class index
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def points(self) -> np.ndarray:
        return np.concatenate([self.x_train, self.x_test])

    @property
    def labels(self) -> np.ndarray:
        return np.concatenate([self.y_train, self.y_test])


def split(xy: np.ndarray, labels: np.ndarray, train_ratio: float, seed: int = 0) -> Dataset:
    order = np.random.default_rng(seed + 1).permutation(len(xy))
    cut = max(1, min(len(xy) - 1, int(round(len(xy) * train_ratio))))
    train, test = order[:cut], order[cut:]
    return Dataset(xy[train].astype(np.float32), labels[train].astype(np.float32),
                   xy[test].astype(np.float32), labels[test].astype(np.float32))


class DataSettings(Protocol):
    """What a data set is made from (:class:`core.playground.state.PlaygroundState` has it)."""

    dataset: str
    point_count: int
    noise: int  # percent
    seed: int
    classes: int
    train_ratio: int  # percent


def make_dataset(state: DataSettings, custom: tuple[np.ndarray, np.ndarray] | None = None) -> Dataset:
    """The state's data, split into training and test points (``custom``: your own points)."""
    if state.dataset == "custom":
        if custom is None or len(custom[0]) < 2:
            raise BadInput("Add at least two points of your own (click or tap the map, or upload a CSV).")
        xy, labels = custom
    else:
        xy, labels = generate(state.dataset, state.point_count, state.noise / 100, state.seed, state.classes)
    return split(np.asarray(xy), np.asarray(labels), state.train_ratio / 100, state.seed)


# ---- input features: name -> (label, function of x1 and x2), as the playground's INPUTS ----------

FEATURE_FUNCTIONS = {
    "x": ("X₁", lambda x, y: x), "y": ("X₂", lambda x, y: y),
    "xSquared": ("X₁²", lambda x, y: x * x), "ySquared": ("X₂²", lambda x, y: y * y),
    "xTimesY": ("X₁X₂", lambda x, y: x * y),
    "sinX": ("sin(X₁)", lambda x, y: np.sin(x)), "sinY": ("sin(X₂)", lambda x, y: np.sin(y)),
}
FEATURES = {name: label for name, (label, _) in FEATURE_FUNCTIONS.items()}


def featurize(xy: np.ndarray, features: list[str]) -> np.ndarray:
    """The network's inputs for points ``xy``: one column per named feature."""
    x, y = xy[:, 0], xy[:, 1]
    return np.stack([FEATURE_FUNCTIONS[name][1](x, y) for name in features], 1).astype(np.float32)


def grid(resolution: int = 50) -> np.ndarray:
    """(resolution², 2) points covering the picture, row by row from the top."""
    axis = np.linspace(-DOMAIN, DOMAIN, resolution, dtype=np.float32)
    xs, ys = np.meshgrid(axis, axis[::-1])
    return np.stack([xs.ravel(), ys.ravel()], 1)
