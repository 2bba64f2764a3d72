"""Fine-tune a trained digit network on your own handwriting (the kind ``digits_finetune``).

The training continues the chosen network from its stored weights (``config["resume"]``, the base's
store key) on your labelled drawings — preprocessed exactly as for prediction, lightly augmented
(small shifts, rotations and size changes) — mixed with replayed MNIST training digits, so it learns
your style without forgetting MNIST's. ``replay`` off shows what happens without them: catastrophic
forgetting. Only the dense layers learn; the convolutions and batch normalisation keep the base's
features and statistics, as usual when fine-tuning on a few examples — so the frozen part's output for
a digit is computed once and only the dense head trains (:class:`Split`).

Measured honestly: a third of your drawings of each digit (every third one) is set aside before the
fine-tuning and never trained on; the base and the fine-tuned network are both scored on them, and
both on MNIST's 10,000 test digits, so forgetting shows. The config names the base and the drawings'
fingerprint, so the same set fine-tunes a base once and the result lands in the store.
"""
from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.data import load_mnist
from core.digits.handwriting import DrawingSet, kept
from core.digits.look_inside import probe_model
from core.digits.models import ARCHITECTURES, VALIDATION_SIZE, smoothed_sparse_crossentropy
from core.errors import BadConfig, BadInput
from core.training.keras_progress import TrainingLog
from core.training.progress import Reporter
from core.training.store import load_keras, save_keras

NAME = "digits_finetune"
MIN_DRAWINGS = 20  # a third is held out: at least ~6 to measure on, ~14 to learn from
HOLD_OUT_EVERY = 3  # every third drawing of each digit is set aside for the before/after
# Chosen on mirror-written digits (benchmarks/bench_finetune.py): 3 drawings per digit are read
# ~96 % afterwards while MNIST loses ~0.2 points; more replay forgets less, fewer steps learn less.
COPIES = 8  # augmented copies of each drawing per epoch
REPLAY_RATIO = 5  # replayed MNIST digits per augmented drawing
EPOCHS = 2
BATCH_SIZE = 64
LEARNING_RATE = 7e-4
EVAL_BATCH = 1000  # digits per forward pass when measuring
KEY = re.compile(r"^[0-9a-f]{8,64}$")


def missing(drawings: DrawingSet) -> int:
    """How many more drawings fine-tuning needs (0 when it has enough)."""
    return max(0, MIN_DRAWINGS - len(drawings))


def held_out_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices to fine-tune on and indices set aside: every third drawing of each digit (in the
    order they were drawn) is set aside, so every digit with three or more drawings is measured."""
    train, held = [], []
    for label in np.unique(labels):
        indices = np.flatnonzero(labels == label)
        for position, index in enumerate(indices):
            (held if position % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1 else train).append(index)
    return np.array(sorted(train), dtype=int), np.array(sorted(held), dtype=int)


def augment(digits: np.ndarray, copies: int, rng: np.random.Generator) -> np.ndarray:
    """``copies`` lightly changed versions of each 28×28 drawing: shifted by up to 2 pixels,
    rotated by up to 10°, scaled by 0.9–1.1 about the centre (bilinear, as PIL resamples)."""
    from PIL import Image

    out = np.empty((len(digits) * copies, 28, 28), np.float32)
    for i, digit in enumerate(np.repeat(digits, copies, axis=0)):
        angle = np.radians(rng.uniform(-10, 10))
        scale = rng.uniform(0.9, 1.1)
        dx, dy = rng.uniform(-2, 2, 2)
        cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
        # PIL maps each output pixel (x, y) to the input pixel (a x + b y + c, d x + e y + f).
        c = 14 - cos * (14 + dx) - sin * (14 + dy)
        f = 14 + sin * (14 + dx) - cos * (14 + dy)
        image = Image.fromarray(digit.astype(np.float32), mode="F")
        out[i] = np.asarray(image.transform((28, 28), Image.AFFINE, (cos, sin, c, -sin, cos, f),
                                            resample=Image.BILINEAR))
    return np.clip(out, 0, 1)


def accuracy(model, digits: np.ndarray, labels: np.ndarray) -> float | None:
    """Share of ``digits`` the model reads as ``labels`` (called directly, in batches; None if empty)."""
    return _share_read_right(lambda batch: np.asarray(model(batch[..., None].astype(np.float32), training=False)),
                             digits, labels)


def _share_read_right(read, inputs: np.ndarray, labels: np.ndarray) -> float | None:
    """Share of ``inputs`` whose probabilities from ``read`` (in batches) put ``labels`` first."""
    if len(inputs) == 0:
        return None
    right = sum(int((read(inputs[start:start + EVAL_BATCH]).argmax(axis=1) == labels[start:start + EVAL_BATCH]).sum())
                for start in range(0, len(inputs), EVAL_BATCH))
    return right / len(inputs)


def mnist_test_accuracy(model) -> float:
    mnist = load_mnist()
    return accuracy(model, mnist.x_test.astype(np.float32) / 255, mnist.y_test)


class Split:
    """A digit network cut where fine-tuning's learning starts: the trailing dense layers (the head,
    with any dropout between them) learn; everything before them (the trunk: convolutions, batch norm,
    pooling, flatten) is frozen, so it is one fixed function of the input. Its output for a digit is
    then computed once — not again in every epoch, nor before and after the fine-tuning — and
    only the head runs in the training steps: the same training, a fraction of the arithmetic.

    The trunk runs in inference mode (batch norm with its stored statistics, as a frozen batch norm
    runs in Keras' own fit) unless it holds random augmentation layers (a base trained with
    ``augment``): then ``stochastic`` is true and the caller draws its features again every epoch with
    ``training=True``, as fitting the whole network would."""

    def __init__(self, model) -> None:
        import keras

        layers = model.layers
        first = next((i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Dense)), None)
        if first is None or first == 0 or not all(isinstance(layer, (keras.layers.Dense, keras.layers.Dropout))
                                                  for layer in layers[first:]):
            raise BadConfig(f"Fine-tuning expects a network ending in dense layers; '{model.name}' does not.")
        self.model = model
        self.head = layers[first:]
        self.trunk = probe_model(model, layers[first - 1].output)
        for layer in layers:
            # Only the dense layers learn: the convolutions' features and batch norm's statistics stay
            # the base's (a few drawings must not reset them), which forgets less and trains faster.
            layer.trainable = isinstance(layer, keras.layers.Dense)
        self.stochastic = any(isinstance(layer, keras.layers.Dropout) or type(layer).__name__.startswith("Random")
                              for layer in layers[:first])

    def features(self, digits: np.ndarray, training: bool = False) -> np.ndarray:
        """The trunk's output for 28×28 digits (in batches)."""
        out = [np.asarray(self.trunk(digits[start:start + EVAL_BATCH].reshape(-1, 28, 28, 1).astype(np.float32),
                                     training=training))
               for start in range(0, len(digits), EVAL_BATCH)]
        return np.concatenate(out) if out else np.zeros((0,) + tuple(self.trunk.output.shape[1:]), np.float32)

    def read(self, features: np.ndarray) -> np.ndarray:
        """The head's probabilities for trunk features (inference mode)."""
        out = features
        for layer in self.head:
            out = layer(out, training=False)
        return np.asarray(out)

    def accuracy(self, features: np.ndarray, labels: np.ndarray) -> float | None:
        """Share of the digits behind ``features`` read as ``labels`` (None if empty): the same as
        :func:`accuracy` on the digits themselves."""
        return _share_read_right(self.read, features, labels)


def fine_tune(model, digits: np.ndarray, labels: np.ndarray, *, replay: bool = True, seed: int = 0,
              reporter: Reporter | None = None, config: dict | None = None, title: str = "") -> float:
    """Continue ``model`` on the drawings (augmented), with replayed MNIST digits unless ``replay`` is
    off (then the drawings are repeated to make the same number of steps). Returns the seconds spent.

    Adam (core.adam, Keras' update written out) on the head's weights with the base's own loss,
    mini-batches of :data:`BATCH_SIZE` in a new shuffle every epoch, for :data:`EPOCHS` epochs: what
    ``model.fit`` on the whole network did here before, without running the frozen trunk again in
    every step and without Keras' per-network compilation of its training step, which cost more
    than the training itself (benchmarks/bench_finetune.py)."""
    import keras

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    mine = augment(digits, COPIES * (1 if replay else 1 + REPLAY_RATIO), rng)
    mine_labels = np.repeat(labels, COPIES * (1 if replay else 1 + REPLAY_RATIO))
    x, y = mine, mine_labels
    if replay:
        mnist = load_mnist()
        chosen = rng.choice(len(mnist.x_train) - VALIDATION_SIZE, len(mine) * REPLAY_RATIO, replace=False)
        x = np.concatenate([mine, mnist.x_train[chosen].astype(np.float32) / 255])
        y = np.concatenate([mine_labels, mnist.y_train[chosen]])
    split = Split(model)
    loss = smoothed_sparse_crossentropy if model.name == "fast_cnn" else keras.losses.sparse_categorical_crossentropy
    train_head(split, x, y.astype(np.int64), loss, rng, reporter=reporter, config=config, title=title)
    return time.perf_counter() - started


def train_head(split: Split, x: np.ndarray, y: np.ndarray, loss_fn, rng: np.random.Generator, *,
               reporter: Reporter | None = None, config: dict | None = None, title: str = "") -> None:
    """:data:`EPOCHS` epochs of Adam steps on ``split``'s head, reporting each step and logging the run
    for TensorBoard as a Keras training does (core.training.keras_progress)."""
    import tensorflow as tf

    from core.adam import Adam

    features = None if split.stochastic else split.features(x)
    variables = [variable for layer in split.head for variable in layer.trainable_variables]
    adam = Adam(variables)
    spec = tf.TensorSpec((None,) + tuple(split.trunk.output.shape[1:]), tf.float32)

    # No autograph: the step has no tensor-dependent Python control flow, and converting it (and
    # Keras' layers, and Adam) to graph code cost more than the whole training.
    @tf.function(input_signature=[spec, tf.TensorSpec((None,), tf.int64)], autograph=False)
    def step(batch, labels):
        with tf.GradientTape() as tape:
            out = batch
            for layer in split.head:
                out = layer(out, training=True)
            mean = tf.reduce_mean(loss_fn(labels, out))  # Keras' default reduction: the batch mean
        adam.apply(tape.gradient(mean, variables), LEARNING_RATE)
        return mean, tf.reduce_sum(tf.cast(tf.equal(tf.argmax(out, axis=1), labels), tf.float32))

    steps_per_epoch = math.ceil(len(x) / BATCH_SIZE)
    log = None
    if reporter is not None:
        log = TrainingLog(reporter, EPOCHS, len(x), BATCH_SIZE, config=config, kind=NAME, title=title)
        log.begin(split.model)
    try:
        for epoch in range(EPOCHS):
            epoch_features = features if features is not None else split.features(x, training=True)
            order = rng.permutation(len(x))
            seen, loss_sum, right_sum = 0, 0.0, 0.0
            if log is not None:
                log.epoch_begin()
            for batch in range(steps_per_epoch):
                chosen = order[batch * BATCH_SIZE:(batch + 1) * BATCH_SIZE]
                mean, right = step(epoch_features[chosen], y[chosen])
                seen += len(chosen)
                loss_sum += float(mean) * len(chosen)
                right_sum += float(right)
                running = {"loss": loss_sum / seen, "accuracy": right_sum / seen}  # since the epoch began, as Keras
                if log is not None and not log.batch_end(epoch, batch, running):
                    return
            if log is not None:
                log.epoch_end(epoch, running)
    finally:
        if log is not None:
            log.close()


class FineTuneKind:
    name = NAME
    resumes_from = ("digits",)  # the base is a digit network of the "digits" kind

    def normalize(self, config: dict) -> dict:
        base = str(config.get("base") or config.get("resume") or "")
        drawings = str(config.get("drawings") or "")
        arch = config.get("arch", "fast_cnn")
        if not KEY.match(base):
            raise BadConfig("Pick a trained network to fine-tune.")
        if not KEY.match(drawings):
            raise BadConfig("Collect some labelled drawings to fine-tune on first.")
        if arch not in ARCHITECTURES:
            raise BadConfig(f"Unknown architecture '{arch}'.")
        try:
            seed = int(config.get("seed", 0))
        except (TypeError, ValueError) as error:
            raise BadConfig(f"Bad seed: {error}.") from error
        return {"base": base, "resume": base, "arch": arch, "drawings": drawings,
                "replay": bool(config.get("replay", True)), "seed": seed}

    def title(self, config: dict) -> str:
        return f"{ARCHITECTURES[config['arch']][0]} + your handwriting" + ("" if config["replay"] else " (no replay)")

    def train(self, config: dict, reporter: Reporter, resume: Any = None) -> tuple[Any, dict]:
        if resume is None:
            raise BadConfig("Fine-tuning continues a stored network; none was given.")
        drawings = kept(config["drawings"])
        if missing(drawings):
            raise BadInput(f"Fine-tuning needs at least {MIN_DRAWINGS} labelled drawings; "
                           f"this set has {len(drawings)}.")
        train, held = held_out_split(drawings.labels)
        model = resume
        reporter.phase("Measuring the network before fine-tuning")
        # Before and after read the same trunk features: the trunk is frozen (see Split), so only the
        # head runs again afterwards — the same numbers as reading the whole network twice.
        split, mnist = Split(model), load_mnist()
        test_features = split.features(mnist.x_test.astype(np.float32) / 255)
        held_features = split.features(drawings.digits[held])

        def measured() -> dict:
            return {"held_out_accuracy": split.accuracy(held_features, drawings.labels[held]),
                    "mnist_accuracy": split.accuracy(test_features, mnist.y_test)}

        before = measured()
        reporter.check()
        seconds = fine_tune(model, drawings.digits[train], drawings.labels[train], replay=config["replay"],
                            seed=config["seed"], reporter=reporter, config=config, title=self.title(config))
        reporter.check()
        reporter.phase("Measuring the fine-tuned network")
        after = measured()
        extras = {
            "class_names": [str(d) for d in range(10)], "class_noun": "digit",
            "metrics": {"test_accuracy": after["mnist_accuracy"], "params": int(model.count_params())},
            "sizes": {"train": len(train), "held_out": len(held), "test": len(load_mnist().y_test)},
            "finetune": {"base": config["base"], "drawings": len(drawings), "trained_on": len(train),
                         "held_out": len(held), "replay": config["replay"], "seconds": round(seconds, 3),
                         "how": f"every {HOLD_OUT_EVERY}rd drawing of each digit set aside, never trained on",
                         "before": before, "after": after},
        }
        return model, extras

    def save(self, model: Any, folder: Path) -> None:
        save_keras(model, folder)

    def load(self, folder: Path) -> Any:
        return load_keras(folder)


KIND = FineTuneKind()


def fine_tuned_networks(store) -> list:
    """The fine-tuned networks in ``store`` (store entries, newest first): what Draw and Embeddings list
    beside their bases. ``entry.record["title"]`` names one ("Fast CNN + your handwriting"),
    ``entry.record["finetune"]`` says on what and how it was measured; load it like any stored model
    (``manager.load_entry("digits_finetune", entry)``)."""
    return store.entries(kind=NAME)
