"""Draw page: Fast CNN time to 99 % MNIST test accuracy vs the Keras "simple MNIST convnet",
and one drawing's preprocessing + forward pass vs model.predict.

Both networks train on the same 55,000 images (the app holds out 5,000 for validation), on this
machine's CPU cores, in the same run, their epochs interleaved; test accuracy is checked after
every epoch and the evaluation time is not counted as training time.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from benchmarks.harness import Result

TARGET_ACCURACY = 0.99


def keras_simple_convnet():
    """keras-io/examples/vision/mnist_convnet.py, as published."""
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


class Race:
    """One network trained epoch by epoch until its test accuracy reaches the target."""

    def __init__(self, model, batch_size: int, max_epochs: int):
        self.model, self.batch_size, self.max_epochs = model, batch_size, max_epochs
        self.trained, self.cpu, self.accuracies = 0.0, 0.0, []

    @property
    def finished(self) -> bool:
        return self.reached or len(self.accuracies) >= self.max_epochs

    @property
    def reached(self) -> bool:
        return bool(self.accuracies) and self.accuracies[-1] >= TARGET_ACCURACY

    def epoch(self, x, y, x_test, y_test) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        self.model.fit(x, y, batch_size=self.batch_size, epochs=1, verbose=0)
        self.trained += time.perf_counter() - started
        self.cpu += time.process_time() - cpu
        self.accuracies.append(float(self.model.evaluate(x_test, y_test, batch_size=2000, verbose=0)[1]))


def race(ours: Race, reference: Race, data) -> None:
    """Epochs alternate between the two networks, so a slow spell of a shared machine
    (here it comes and goes for tens of seconds) falls on both sides, not on one."""
    while not (ours.finished and reference.finished):
        for side in (ours, reference):
            if not side.finished:
                side.epoch(*data)


def run(quick: bool = False) -> list[Result]:
    import keras

    from core.data import load_mnist
    from core.digits.models import KIND, VALIDATION_SIZE, build, compile_model
    from core.digits.look_inside import reader_for
    from core.digits.preprocess import preprocess

    mnist = load_mnist()
    x = mnist.x_train[:-VALIDATION_SIZE, ..., None].astype("float32") / 255
    y = mnist.y_train[:-VALIDATION_SIZE]
    x_test = mnist.x_test[..., None].astype("float32") / 255

    keras.utils.set_random_seed(0)
    config = KIND.normalize({"arch": "fast_cnn"})
    model = build("fast_cnn")
    compile_model(model, config, int(np.ceil(len(x) / config["batch_size"])))
    ours = Race(model, config["batch_size"], config["epochs"])
    keras.utils.set_random_seed(0)
    reference = Race(keras_simple_convnet(), 128, 2 if quick else 15)
    race(ours, reference, (x, y, x_test, mnist.y_test))

    note = (f"test accuracy per epoch: ours {[round(a, 4) for a in ours.accuracies]}, "
            f"reference {[round(a, 4) for a in reference.accuracies]}; CPU seconds (both cores): "
            f"ours {ours.cpu:.0f}, reference {reference.cpu:.0f}")
    if not reference.reached:
        note += "; the reference did not reach 99 % in the epochs allowed, so its time is a lower bound"
    if quick:
        note += "; --quick caps the reference at 2 epochs"
    note += "; epochs alternate between the two networks, so both see the same spells of a shared machine"
    results = [
        Result("Fast CNN training time to ≥ 99.0 % test accuracy", ours.trained, reference.trained, "s",
               "≤ 30 s and ≥ 6× faster",
               ours.reached and ours.trained <= 30 and reference.trained / ours.trained >= 6, note=note),
    ]

    # One drawing: preprocessing plus forward pass, on the model just trained.
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[60:220, 130:150, :3] = 255  # a "1"
    reader = reader_for(model)
    reader.probabilities(preprocess(canvas).digit)  # trace once
    repeats = 50 if quick else 300
    ours_times, reference_times = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        reader.probabilities(preprocess(canvas).digit)
        ours_times.append(time.perf_counter() - started)
    for _ in range(repeats // 3):
        started = time.perf_counter()
        model.predict(preprocess(canvas).digit[None, ..., None], verbose=0)
        reference_times.append(time.perf_counter() - started)
    ours_ms = statistics.median(ours_times) * 1000
    reference_ms = statistics.median(reference_times) * 1000
    results.append(Result("one drawing: preprocessing + forward pass (median)", ours_ms, reference_ms, "ms",
                          "≤ 5 ms", ours_ms <= 5, note="reference: the same preprocessing + model.predict"))
    return results
