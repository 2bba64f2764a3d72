"""The TensorFlow Playground's data, features and network, trained by TensorFlow.

Datasets follow playground.tensorflow.org's ``dataset.ts`` (points in [-6, 6]²,
labels ±1 for two classes, a value in [-1, 1] for regression), plus multiclass
blobs and spiral arms. The network is a stack of ``tf.Variable`` layers whose
training step is a ``tf.function`` that runs many epochs per call, so the page
can animate at several frames a second while training at hundreds of epochs a
second. :class:`PlaygroundState` holds the whole configuration and round-trips
through URL query parameters, like the playground's ``state.ts``.
"""
from __future__ import annotations

import csv
import io
import math
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Sequence

import numpy as np

from .errors import BadConfig, BadInput

CLASSIFICATION_SETS = {"circle": "Circle", "xor": "Exclusive or", "gauss": "Gaussian", "spiral": "Spiral"}
REGRESSION_SETS = {"reg-plane": "Plane", "reg-gauss": "Multi-Gaussian"}
MULTICLASS_SETS = {"blobs": "Blobs (multiclass)", "spiral-arms": "Spiral arms (multiclass)"}
DATASETS = {**CLASSIFICATION_SETS, **REGRESSION_SETS, **MULTICLASS_SETS, "custom": "Your own points"}
FEATURES = {
    "x": "X₁", "y": "X₂", "xSquared": "X₁²", "ySquared": "X₂²", "xTimesY": "X₁X₂",
    "sinX": "sin(X₁)", "sinY": "sin(X₂)",
}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
DOMAIN = 6.0
MAX_CSV_ROWS = 10_000


@dataclass
class PlaygroundState:
    """Everything the page shows, serialisable to and from the URL."""

    dataset: str = "circle"
    noise: int = 0  # percent, 0..50
    train_ratio: int = 50  # percent, 10..90
    batch_size: int = 10
    points: int = 500
    classes: int = 3  # for the multiclass sets
    custom_classes: int = 2  # how many labels your own points use
    features: list[str] = field(default_factory=lambda: ["x", "y"])
    hidden: list[int] = field(default_factory=lambda: [4, 2])
    activation: str = "tanh"
    layer_activations: list[str] = field(default_factory=list)  # per hidden layer; empty = all the same
    learning_rate: float = 0.03
    regularization: str = "none"  # none | L1 | L2
    regularization_rate: float = 0.0
    problem: str = "classification"  # classification | regression
    loss: str = "squared"  # squared | crossentropy
    optimizer: str = "sgd"  # sgd | adam
    dropout: float = 0.0
    seed: int = 0  # which points the data set draws (Regenerate changes it)
    weight_seed: int = 0  # the initial weights, the batch order and the dropout masks (Reset changes it)
    advanced: bool = False
    show_test: bool = False
    discretize: bool = False

    # ---- limits ----------------------------------------------------------------
    @property
    def max_layers(self) -> int:
        return 8 if self.advanced else 6

    @property
    def max_neurons(self) -> int:
        return 32 if self.advanced else 8

    @property
    def max_batch(self) -> int:
        return 256 if self.advanced else 30

    @property
    def multiclass(self) -> bool:
        return self.dataset in MULTICLASS_SETS or (self.dataset == "custom" and self.custom_classes > 2)

    @property
    def num_classes(self) -> int:
        return self.custom_classes if self.dataset == "custom" else (self.classes if self.multiclass else 2)

    def activation_of(self, layer: int) -> str:
        if layer < len(self.layer_activations):
            return self.layer_activations[layer]
        return self.activation

    def validate(self) -> None:
        if self.dataset not in DATASETS:
            raise BadConfig(f"Unknown dataset '{self.dataset}'.")
        if not self.features:
            raise BadConfig("Select at least one input feature: the network needs something to look at.")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise BadConfig(f"Unknown feature(s): {', '.join(unknown)}.")
        if len(self.hidden) > self.max_layers:
            raise BadConfig(f"At most {self.max_layers} hidden layers (switch on Advanced for 8).")
        if any(not 1 <= n <= self.max_neurons for n in self.hidden):
            raise BadConfig(f"Each hidden layer has 1 to {self.max_neurons} neurons.")
        if not 1 <= self.batch_size <= self.max_batch:
            raise BadConfig(f"Batch size must be between 1 and {self.max_batch}.")
        for activation in [self.activation, *self.layer_activations]:
            if activation not in ACTIVATIONS:
                raise BadConfig(f"Unknown activation '{activation}'.")
        if not 0 < self.learning_rate <= 10:
            raise BadConfig("The learning rate must be above 0 and at most 10.")
        if not 0 <= self.dropout < 1:
            raise BadConfig("Dropout must be at least 0 and below 1.")

    def reseed(self) -> None:
        """A fresh ``weight_seed``: Reset's new random weights. The seed goes into the URL with the
        rest, so a shared link still starts from exactly these weights."""
        seed = self.weight_seed
        while seed == self.weight_seed:
            seed = secrets.randbelow(1_000_000)
        self.weight_seed = seed

    # ---- URL -------------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """Only what differs from the defaults, as strings (lists comma-separated)."""
        defaults = PlaygroundState()
        out = {}
        for f in fields(self):
            value, default = getattr(self, f.name), getattr(defaults, f.name)
            if value != default:
                out[f.name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        return out

    @classmethod
    def from_query(cls, query: dict[str, str]) -> tuple["PlaygroundState", list[str]]:
        """A state from URL parameters; unusable values are ignored and reported."""
        state, problems = cls(), []
        for f in fields(cls):
            if f.name not in query:
                continue
            raw, current = str(query[f.name]), getattr(state, f.name)
            try:
                if isinstance(current, bool):
                    value = raw.lower() in ("1", "true", "yes")
                elif isinstance(current, list):
                    items = [item for item in raw.split(",") if item != ""]
                    value = [int(item) for item in items] if f.name == "hidden" else items
                else:
                    value = type(current)(raw)
                setattr(state, f.name, value)
            except ValueError:
                problems.append(f"Ignored the link's value {f.name}={raw!r}.")
        try:
            state.validate()
        except BadConfig as error:
            problems.append(f"The link's settings were not usable ({error}); using the defaults.")
            state = cls()
        return state, problems


# ---- data -------------------------------------------------------------------------

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


def generate(name: str, points: int = 500, noise: float = 0.0, seed: int = 0, classes: int = 3):
    """(xy, labels) for a named dataset; ``noise`` is a fraction in [0, 0.5]."""
    rng = np.random.default_rng(seed)
    n = int(points)
    if name == "circle":
        radius = 5.0
        r = np.concatenate([rng.uniform(0, radius * 0.5, n // 2), rng.uniform(radius * 0.7, radius, n - n // 2)])
        angle = rng.uniform(0, 2 * np.pi, n)
        xy = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
        xy_noisy = xy + rng.uniform(-radius, radius, (n, 2)) * noise
        labels = np.where(np.hypot(*xy_noisy.T) < radius * 0.5, 1.0, -1.0)  # label by the noisy point
        return xy, labels
    if name == "xor":
        xy = rng.uniform(-5, 5, (n, 2))
        xy += np.sign(xy) * 0.3  # the playground's padding keeps points off the axes
        labels = np.where(xy[:, 0] * xy[:, 1] >= 0, 1.0, -1.0)
        return xy + rng.uniform(-5, 5, (n, 2)) * noise, labels
    if name == "gauss":
        variance = 0.5 + noise / 0.5 * 3.5
        half = n // 2
        xy = np.concatenate([rng.normal(2, np.sqrt(variance), (half, 2)),
                             rng.normal(-2, np.sqrt(variance), (n - half, 2))])
        return xy, np.concatenate([np.ones(half), -np.ones(n - half)])
    if name == "spiral":
        half = n // 2
        arms = [_spiral(half, 0.0, noise, rng), _spiral(n - half, np.pi, noise, rng)]
        return np.concatenate(arms), np.concatenate([np.ones(half), -np.ones(n - half)])
    if name == "reg-plane":
        xy = rng.uniform(-6, 6, (n, 2))
        labels = np.clip((xy[:, 0] + xy[:, 1]) / 10, -1, 1)
        return xy + rng.uniform(-6, 6, (n, 2)) * noise, labels
    if name == "reg-gauss":
        centres = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])
        xy = rng.uniform(-6, 6, (n, 2))
        bumps = centres[:, 2] * np.exp(-((xy[:, None, :] - centres[None, :, :2]) ** 2).sum(-1) / 2)
        labels = np.take_along_axis(bumps, np.abs(bumps).argmax(1)[:, None], 1)[:, 0]
        return xy + rng.uniform(-6, 6, (n, 2)) * noise, labels
    if name == "blobs":
        angle = 2 * np.pi * np.arange(classes) / classes
        centres = 3.5 * np.stack([np.cos(angle), np.sin(angle)], 1)
        labels = rng.integers(0, classes, n)
        return centres[labels] + rng.normal(0, 0.8 + noise * 4, (n, 2)), labels.astype(float)
    if name == "spiral-arms":
        labels = rng.integers(0, classes, n)
        t = rng.uniform(0, 1, n)
        r = t * 5
        angle = 1.75 * t * 2 * np.pi + 2 * np.pi * labels / classes
        xy = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
        return xy + rng.uniform(-1, 1, (n, 2)) * noise * 2, labels.astype(float)
    raise BadConfig(f"Unknown dataset '{name}'.")


def _spiral(n, delta, noise, rng):
    i = np.arange(n)
    r = i / n * 5
    t = 1.75 * i / n * 2 * np.pi + delta
    return np.stack([r * np.sin(t), r * np.cos(t)], 1) + rng.uniform(-1, 1, (n, 2)) * noise


def split(xy: np.ndarray, labels: np.ndarray, train_ratio: float, seed: int = 0) -> Dataset:
    order = np.random.default_rng(seed + 1).permutation(len(xy))
    cut = max(1, min(len(xy) - 1, int(round(len(xy) * train_ratio))))
    train, test = order[:cut], order[cut:]
    return Dataset(xy[train].astype(np.float32), labels[train].astype(np.float32),
                   xy[test].astype(np.float32), labels[test].astype(np.float32))


def make_dataset(state: PlaygroundState, custom: tuple[np.ndarray, np.ndarray] | None = None) -> Dataset:
    if state.dataset == "custom":
        if custom is None or len(custom[0]) < 2:
            raise BadInput("Add at least two points of your own (click the map or upload a CSV).")
        xy, labels = custom
    else:
        xy, labels = generate(state.dataset, state.points, state.noise / 100, state.seed, state.classes)
    return split(np.asarray(xy), np.asarray(labels), state.train_ratio / 100, state.seed)


def featurize(xy: np.ndarray, features: list[str]) -> np.ndarray:
    x, y = xy[:, 0], xy[:, 1]
    table = {"x": x, "y": y, "xSquared": x * x, "ySquared": y * y, "xTimesY": x * y,
             "sinX": np.sin(x), "sinY": np.sin(y)}
    return np.stack([table[name] for name in features], 1).astype(np.float32)


def grid(resolution: int = 50) -> np.ndarray:
    """(resolution², 2) points covering the picture, row by row from the top."""
    axis = np.linspace(-DOMAIN, DOMAIN, resolution, dtype=np.float32)
    xs, ys = np.meshgrid(axis, axis[::-1])
    return np.stack([xs.ravel(), ys.ravel()], 1)


# ---- CSV of your own points -----------------------------------------------------------

def parse_points_csv(data: bytes, multiclass_ok: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``x, y, label`` (header optional) → (xy, labels), or a clear BadInput."""
    if not data or not data.strip():
        raise BadInput("The CSV file is empty.")
    if len(data) > 2_000_000:
        raise BadInput(f"The CSV is {len(data) / 1e6:.0f} MB; up to {MAX_CSV_ROWS:,} points (2 MB) are supported.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadInput("The CSV is not UTF-8 text.") from error
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    except csv.Error as error:  # e.g. a lone carriage return inside a field
        raise BadInput(f"The CSV could not be read: {error}.") from error
    if rows and not _numeric(rows[0][:1]):
        rows = rows[1:]  # a header
    if not rows:
        raise BadInput("The CSV has a header but no points.")
    if len(rows) > MAX_CSV_ROWS:
        raise BadInput(f"The CSV has {len(rows):,} points; at most {MAX_CSV_ROWS:,} are supported.")
    values = []
    for number, row in enumerate(rows, 1):
        if len(row) < 3:
            raise BadInput(f"Row {number} has {len(row)} column(s); each row needs x, y and a label.")
        try:
            x, y, label = (float(cell) for cell in row[:3])
        except ValueError as error:
            raise BadInput(f"Row {number} has text where a number belongs: {', '.join(row[:3])}.") from error
        if not all(math.isfinite(v) for v in (x, y, label)):
            raise BadInput(f"Row {number} has a value that is not a finite number.")
        values.append((x, y, label))
    array = np.array(values, dtype=np.float64)
    labels = array[:, 2]
    if len(np.unique(labels)) < 2:
        raise BadInput("All points have the same label; a classifier needs at least two classes.")
    xy = np.clip(array[:, :2], -DOMAIN, DOMAIN)
    unique = np.unique(labels)
    if len(unique) == 2:  # any two labels become ±1
        labels = np.where(labels == unique.max(), 1.0, -1.0)
    elif multiclass_ok and np.all(labels == np.round(labels)) and len(unique) <= 8:
        labels = np.searchsorted(unique, labels).astype(float)
    else:
        raise BadInput("Labels must be two values (e.g. 0/1 or -1/1) or up to 8 class numbers.")
    return xy, labels


def _numeric(cells) -> bool:
    try:
        [float(c) for c in cells]
        return bool(cells)
    except ValueError:
        return False


# ---- the network ---------------------------------------------------------------------

class PlaygroundNet:
    """A small dense network as tf.Variables, trained many epochs per call."""

    def __init__(self, state: PlaygroundState) -> None:
        import tensorflow as tf

        state.validate()
        self.state = state
        self.num_classes = state.num_classes
        self.outputs = self.num_classes if state.multiclass else 1
        sizes = [len(state.features), *state.hidden, self.outputs]
        rng = np.random.default_rng(state.weight_seed)
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            # The playground's init: uniform in [-0.5, 0.5], biases 0.1.
            self.weights.append(tf.Variable(rng.uniform(-0.5, 0.5, (fan_in, fan_out)).astype(np.float32)))
            self.biases.append(tf.Variable(np.full(fan_out, 0.1, np.float32)))
        variables = self.weights + self.biases
        self.learning_rate = tf.Variable(float(state.learning_rate), dtype=tf.float32)
        # Plain SGD and Adam written out as variable updates: inside one tf.function loop this runs
        # about ten times faster than calling a Keras optimizer, and needs no XLA compile per network.
        self._m = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self._v = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self._t = tf.Variable(0.0)
        self._generator = tf.random.Generator.from_seed(state.weight_seed)
        self.epoch = 0
        self._train = tf.function(self._train_epochs, reduce_retracing=True)
        self._forward_all = tf.function(lambda x: self._forward(x, training=False, every_layer=True))
        self._data_loss = tf.function(lambda x, y: self._loss(self._forward(x, training=False), y, regularize=False),
                                      reduce_retracing=True)

    # ---- maths ---------------------------------------------------------------------
    def _activate(self, name, z):
        import tensorflow as tf

        return {"relu": tf.nn.relu, "tanh": tf.tanh, "sigmoid": tf.sigmoid, "linear": tf.identity}[name](z)

    def _output(self, z):
        import tensorflow as tf

        if self.state.multiclass:
            return tf.nn.softmax(z)
        if self.state.problem == "regression":
            return z
        if self.state.loss == "crossentropy":
            return 2 * tf.sigmoid(z) - 1  # shown on the same -1..1 scale
        return tf.tanh(z)

    def _forward(self, x, training: bool, every_layer: bool = False):
        import tensorflow as tf

        layers, h = [], x
        last = len(self.weights) - 1
        for index, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = tf.matmul(h, w) + b
            if index == last:
                h = z if not every_layer else self._output(z)
            else:
                h = self._activate(self.state.activation_of(index), z)
                if training and self.state.dropout > 0:  # seeded masks: a link replays its run exactly
                    h = tf.nn.experimental.stateless_dropout(h, rate=self.state.dropout,
                                                             seed=self._generator.make_seeds(1)[:, 0])
            layers.append(h)
        return layers if every_layer else h

    def _loss(self, logits, y, regularize: bool = True):
        import tensorflow as tf

        state = self.state
        if state.multiclass:
            data = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(y, tf.int32), logits=logits))
        elif state.problem == "classification" and state.loss == "crossentropy":
            data = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=(y + 1) / 2, logits=logits[:, 0]))
        else:
            out = logits[:, 0] if state.problem == "regression" else tf.tanh(logits[:, 0])
            data = tf.reduce_mean(0.5 * tf.square(out - y))  # the playground's square error
        # L1 is not in the loss: _shrink_l1 applies it after each step, as its proximal step.
        if regularize and state.regularization == "L2" and state.regularization_rate:
            data += state.regularization_rate * tf.add_n([0.5 * tf.reduce_sum(tf.square(w)) for w in self.weights])
        return data

    def _shrink_l1(self):
        """L1's step, taken after the data step: every weight moves ``learning rate × rate`` towards 0,
        and one that would cross 0 stops at exactly 0. This is the TF Playground's clamp (its nn.ts
        sets a weight that the L1 step pushes across 0 to 0) and the proximal step of the penalty
        ``rate·Σ|w|``; a plain gradient step on it would only make weights jitter round 0."""
        import tensorflow as tf

        threshold = self.learning_rate * self.state.regularization_rate
        for w in self.weights:
            w.assign(tf.sign(w) * tf.nn.relu(tf.abs(w) - threshold))

    def _apply(self, gradients, variables):
        import tensorflow as tf

        if self.state.optimizer == "adam":
            self._t.assign_add(1.0)
            beta1, beta2, epsilon = 0.9, 0.999, 1e-7
            step = self.learning_rate * tf.sqrt(1 - beta2 ** self._t) / (1 - beta1 ** self._t)
            for g, v, m, s in zip(gradients, variables, self._m, self._v):
                m.assign(beta1 * m + (1 - beta1) * g)
                s.assign(beta2 * s + (1 - beta2) * g * g)
                v.assign_sub(step * m / (tf.sqrt(s) + epsilon))
        else:
            for g, v in zip(gradients, variables):
                v.assign_sub(self.learning_rate * g)

    def _train_epochs(self, x, y, epochs, batch_size):
        import tensorflow as tf

        n = tf.shape(x)[0]
        batches = (n + batch_size - 1) // batch_size
        variables = self.weights + self.biases
        offsets = tf.range(batch_size)
        l1 = self.state.regularization == "L1" and self.state.regularization_rate > 0
        loss = tf.constant(0.0)
        for _ in tf.range(epochs):
            order = tf.argsort(self._generator.uniform([n]))
            for b in tf.range(batches):
                # Equal-size batches (the last wraps round to the start) keep one traced graph.
                index = tf.gather(order, (b * batch_size + offsets) % n)
                with tf.GradientTape() as tape:
                    loss = self._loss(self._forward(tf.gather(x, index), training=True), tf.gather(y, index))
                self._apply(tape.gradient(loss, variables), variables)
                if l1:
                    self._shrink_l1()
        return loss

    # ---- public ---------------------------------------------------------------------
    def train(self, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
        import tensorflow as tf

        batch = min(self.state.batch_size, len(x))
        self._train(tf.constant(x), tf.constant(y, tf.float32), tf.constant(int(epochs)), batch)
        self.epoch += int(epochs)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """The data loss only (no regularization), as the playground reports it."""
        import tensorflow as tf

        return float(self._data_loss(tf.constant(x, tf.float32), tf.constant(y, tf.float32)))

    def layer_outputs(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's outputs (hidden activations, then the shown output) for inputs x."""
        return [h.numpy() for h in self._forward_all(x)]

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = self.layer_outputs(x)[-1]
        return out if self.state.multiclass else out[:, 0]

    def weight_arrays(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(w.numpy(), b.numpy()) for w, b in zip(self.weights, self.biases)]

    def diverged(self, *losses: float) -> bool:
        finite = all(math.isfinite(v) for v in losses)
        return not finite or not all(np.isfinite(w.numpy()).all() for w in self.weights)


# ---- export -----------------------------------------------------------------------------

KERAS_FEATURES = {
    "x": "x1", "y": "x2", "xSquared": "x1**2", "ySquared": "x2**2", "xTimesY": "x1 * x2",
    "sinX": "np.sin(x1)", "sinY": "np.sin(x2)",
}


def _no_hidden_note(state: PlaygroundState) -> str:
    """What a network without hidden layers is, said exactly (it is a logistic regression only with
    sigmoid and cross-entropy)."""
    if state.multiclass:
        return "no hidden layers: softmax (multinomial logistic) regression on the features"
    if state.problem == "regression":
        return "no hidden layers: linear regression on the features, fitted by least squares"
    if state.loss == "crossentropy":
        return "no hidden layers: logistic regression on the features"
    return "no hidden layers: tanh of a linear function of the features, fitted by least squares"


def keras_code(state: PlaygroundState) -> str:
    """A runnable script that builds the page's network in Keras and trains it on the same objective
    from the same kind of start: the page's initialisers, its ½·squared error, its penalties
    (L2 as ``rate·½Σw²``, L1 as the clamped step, both on every layer's kernel, the output's too),
    its optimizer settings, batch size, features and dropout. Importing it runs nothing: it
    defines ``features_of``, ``targets_of``, ``LOSS`` and ``build_model``; run as a script it
    trains on example data."""
    if state.multiclass:
        output, loss = f"layers.Dense({state.num_classes}, activation='softmax'{{kernel}})", \
            "keras.losses.SparseCategoricalCrossentropy()"
    elif state.problem == "regression":
        output, loss = "layers.Dense(1{kernel})", "half_squared_error"
    elif state.loss == "crossentropy":
        output, loss = "layers.Dense(1, activation='sigmoid'{kernel})", "keras.losses.BinaryCrossentropy()"
    else:
        output, loss = "layers.Dense(1, activation='tanh'{kernel})", "half_squared_error"
    kernel = ", **init"
    helpers = []
    if loss == "half_squared_error":
        helpers.append(HALF_SQUARED_ERROR)
    rate = state.regularization_rate if state.regularization != "none" else 0
    if rate and state.regularization == "L2":
        regularizer = f"    kernel_regularizer=keras.regularizers.L2({rate / 2:g}),  # Keras' r·Σw² = the page's rate·½Σw²\n"
    elif rate:
        helpers.append(SOFT_THRESHOLD)
        regularizer = f"    kernel_constraint=SoftThreshold(LEARNING_RATE * {rate!r}),  # L1 at rate {rate!r}, as the page steps it\n"
    else:
        regularizer = ""
    hidden = []
    for index, units in enumerate(state.hidden):
        hidden.append(f"        layers.Dense({units}, activation='{state.activation_of(index)}'{kernel}),")
        if state.dropout:
            hidden.append(f"        layers.Dropout({state.dropout!r}),  # during training only, survivors × 1/(1 − p)")
    if state.optimizer == "adam":
        optimizer = "keras.optimizers.Adam(LEARNING_RATE, beta_1=0.9, beta_2=0.999, epsilon=1e-7)"
    else:
        optimizer = "keras.optimizers.SGD(LEARNING_RATE)"
    if state.multiclass:
        targets = "labels.astype('int32')  # class numbers"
    elif state.problem == "classification" and state.loss == "crossentropy":
        targets = "((labels + 1) / 2).reshape(-1, 1).astype('float32')  # ±1 → 0/1 for cross-entropy"
    else:
        targets = "labels.reshape(-1, 1).astype('float32')"
    body = "\n".join(hidden) if hidden else f"        # {_no_hidden_note(state)}"
    features = ", ".join(KERAS_FEATURES[f] for f in state.features)
    return KERAS_TEMPLATE.format(
        title=f"{DATASETS[state.dataset]}, {state.hidden or 'no'} hidden", learning_rate=repr(state.learning_rate),
        batch_size=state.batch_size, test_share=f"{1 - state.train_ratio / 100:.2f}", features=features,
        targets=targets, helpers="".join(helpers), regularizer=regularizer, inputs=len(state.features),
        body=body, output=output.format(kernel=kernel), loss=loss, optimizer=optimizer,
        seed=state.weight_seed)


HALF_SQUARED_ERROR = '''

def half_squared_error(y_true, y_pred):
    """The page's squared error ½(output − label)². Keras' 'mse' is twice it, which would double
    every gradient (and so the effective learning rate)."""
    return 0.5 * keras.ops.mean(keras.ops.square(y_pred - y_true), axis=-1)
'''

SOFT_THRESHOLD = '''

class SoftThreshold(keras.constraints.Constraint):
    """L1 as the page applies it: after each step every weight moves `threshold` (learning rate ×
    L1 rate) towards 0, and one that would cross 0 stays at exactly 0. Keras' L1 regularizer adds
    rate·sign(w) to the gradient instead, and weights then jitter round 0 without reaching it."""

    def __init__(self, threshold):
        self.threshold = threshold

    def __call__(self, w):
        return keras.ops.sign(w) * keras.ops.relu(keras.ops.abs(w) - self.threshold)

    def get_config(self):
        return {"threshold": self.threshold}
'''

KERAS_TEMPLATE = '''"""The Deep Learning Playground's network in Keras: {title}.

Same objective and the same kind of start as the page. One difference: when the batch size does
not divide the training set, Keras' last batch of an epoch is smaller, while the page fills it up
from the start of that epoch's shuffled order.
"""
import numpy as np
import keras
from keras import layers

LEARNING_RATE = {learning_rate}
BATCH_SIZE = {batch_size}
EPOCHS = 100


def features_of(xy):
    """The page's input features of points xy, an (n, 2) array of coordinates in [-6, 6]."""
    x1, x2 = xy[:, 0], xy[:, 1]
    return np.stack([{features}], axis=1).astype("float32")


def targets_of(labels):
    """What the loss compares the output with."""
    return {targets}
{helpers}

LOSS = {loss}


def build_model():
    """The page's network, compiled, with its start: weights uniform in [-0.5, 0.5], biases 0.1."""
    init = dict(
        kernel_initializer=keras.initializers.RandomUniform(-0.5, 0.5),
        bias_initializer=keras.initializers.Constant(0.1),
    {regularizer}    )
    model = keras.Sequential([
        keras.Input(({inputs},)),
{body}
        {output},
    ])
    model.compile(optimizer={optimizer}, loss=LOSS)
    return model


if __name__ == "__main__":
    keras.utils.set_random_seed({seed})
    # Your data: xy is (n, 2) in [-6, 6], labels ±1 (two classes), a value in [-1, 1] (regression)
    # or class numbers 0, 1, 2, ... (multiclass). These example points stand in for yours.
    xy = np.random.uniform(-6, 6, (500, 2)).astype("float32")
    labels = np.where(np.hypot(xy[:, 0], xy[:, 1]) < 2.5, 1.0, -1.0).astype("float32")
    model = build_model()
    # Keras reports the running mean over the epoch's batches, penalty and dropout included; the
    # page's curve is the loss without the penalty, with dropout off, after each epoch.
    model.fit(features_of(xy), targets_of(labels), batch_size=BATCH_SIZE, epochs=EPOCHS,
              validation_split={test_share})
'''


def state_dict(state: PlaygroundState) -> dict:
    return asdict(state)


def save_run(state: PlaygroundState, net: PlaygroundNet, history: list[tuple[int, float, float]]):
    """Log this network's training to the runs folder, for the Runs page and TensorBoard."""
    import hashlib
    import json
    import time

    from .paths import runs_dir
    from .runs import RunLogger

    digest = hashlib.sha256(json.dumps(asdict(state), sort_keys=True).encode()).hexdigest()[:8]
    run_dir = runs_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-playground-{digest}"
    title = f"Playground: {DATASETS[state.dataset]}, {'-'.join(map(str, state.hidden)) or 'no hidden layers'}"
    logger = RunLogger(run_dir, kind="playground", title=title, config=asdict(state))
    for epoch, train_loss, test_loss in history:
        logger.scalars(epoch, split="train", loss=train_loss)
        logger.scalars(epoch, split="validation", loss=test_loss)
    arrays = {}
    for index, (w, b) in enumerate(net.weight_arrays()):
        arrays[f"layer{index + 1}/kernel"] = w
        arrays[f"layer{index + 1}/bias"] = b
    logger.histograms(net.epoch, arrays)
    logger.close()
    return run_dir


class Players:
    """The sessions playing the Playground right now, so that they share the machine.

    Each playing session trains and redraws several times a second, which costs a good share
    of a CPU core. In a class, many such sessions would starve everyone's predictions, so the
    page spaces its frames by the number of players (see ``frame_interval``).
    """

    def __init__(self, window: float = 2.0):
        self.window = window
        self._last_frame: dict[str, float] = {}
        self._lock = threading.Lock()

    def frame(self, player: str, now: float | None = None) -> int:
        """Note a frame of ``player``; the number of sessions with a frame in the last ``window`` s."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._last_frame[player] = now
            return self._active(now)

    def count(self, now: float | None = None) -> int:
        """The number of sessions with a frame in the last ``window`` s."""
        with self._lock:
            return self._active(time.monotonic() if now is None else now)

    def _active(self, now: float) -> int:
        """Forget the players whose frames stopped; the number left. Hold the lock."""
        for player, seen in list(self._last_frame.items()):
            if now - seen > self.window:
                del self._last_frame[player]
        return len(self._last_frame)

    def stop(self, player: str) -> None:
        with self._lock:
            self._last_frame.pop(player, None)


PLAYERS = Players()
LONGEST_FRAME_INTERVAL = 2.0  # seconds: however many play, each still sees a picture this often


def frame_interval(frame_seconds: float, players: int, shortest: float,
                   longest: float = LONGEST_FRAME_INTERVAL) -> float:
    """Seconds between a session's frames: never shorter than the frame itself takes (a new
    frame requested mid-frame would abandon it half drawn), and with several players, each
    frame followed by a rest so that all of them together keep about one core busy."""
    return float(np.clip(frame_seconds * max(1.1, players), shortest, longest))


FRAME_INTERVAL_STEPS = (0.1, 0.15, 0.22, 0.33, 0.5, 0.75, 1.1, 1.6, LONGEST_FRAME_INTERVAL)  # s; each ~1.5× the last


CALM_FRAMES = 20  # quick frames in a row before the pace comes down: 2-4 s of them


def paced_interval(current: float, recent: Sequence[float], steps: tuple[float, ...] = FRAME_INTERVAL_STEPS,
                   calm_frames: int = CALM_FRAMES) -> float:
    """The interval to use while ``current`` is in use and the latest frames asked for the
    intervals ``recent`` (oldest first; see ``frame_interval``).

    Changing the interval costs a full rerun of the page, so it moves along a ladder of steps
    about 1.5× apart: up as soon as the newest frame wants 10 % more than the current step (a
    frame must not be cut short by the next), down only once ``calm_frames`` frames in a row fit
    the step below. Quick frames among slow ones are jitter, not a change: with two players under
    load, one frame in seven or so wanted the longer step, and the old rule (change when 15 % off)
    reran the whole page every 1.4 s."""
    index = int(np.argmin([abs(np.log(step / current)) for step in steps]))
    calm = list(recent)[-calm_frames:]
    if recent and recent[-1] > steps[index] * 1.1:
        wanted = recent[-1]
    elif index > 0 and len(calm) == calm_frames and max(calm) <= steps[index - 1]:
        wanted = max(calm)
    else:
        return steps[index]
    return next((step for step in steps if step >= wanted), steps[-1])


HISTORY_POINTS = 4000  # loss-curve points a playing session keeps


def thin_history(history: list, limit: int = HISTORY_POINTS) -> list:
    """Keep a playing session's loss history bounded: past ``limit`` points, every second one of
    the older half is dropped (the newest half stays whole, for the live curve). Playing for an
    hour at eight frames a second would otherwise keep ~29,000 points per session."""
    if len(history) <= limit:
        return history
    recent = limit // 2
    return history[:-recent][::2] + history[-recent:]
