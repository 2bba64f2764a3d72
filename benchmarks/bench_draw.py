"""Draw page: Fast CNN time to 99 % MNIST test accuracy vs the Keras "simple MNIST convnet", and one drawing's preprocessing + forward pass vs model.predict.

Both networks train on the same 55,000 images (the app holds out 5,000 for validation), on this
machine's CPU cores, in the same run; test accuracy is checked after every epoch and the
evaluation time is not counted as training time.
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


def time_to_accuracy(model, x, y, x_test, y_test, batch_size, max_epochs):
    """Training seconds until test accuracy ≥ target (or None), and the accuracy per epoch."""
    trained, accuracies = 0.0, []
    for _ in range(max_epochs):
        started = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        trained += time.perf_counter() - started
        accuracies.append(float(model.evaluate(x_test, y_test, batch_size=2000, verbose=0)[1]))
        if accuracies[-1] >= TARGET_ACCURACY:
            return trained, accuracies, trained
    return None, accuracies, trained


def run(quick: bool = False) -> list[Result]:
    import keras

    from core.data import load_mnist
    from core.digits import KIND, VALIDATION_SIZE, build, compile_model
    from core.inspect import reader_for
    from core.preprocess import preprocess

    mnist = load_mnist()
    x = mnist.x_train[:-VALIDATION_SIZE, ..., None].astype("float32") / 255
    y = mnist.y_train[:-VALIDATION_SIZE]
    x_test = mnist.x_test[..., None].astype("float32") / 255

    keras.utils.set_random_seed(0)
    config = KIND.normalize({"arch": "fast_cnn"})
    ours = build("fast_cnn")
    compile_model(ours, config, int(np.ceil(len(x) / config["batch_size"])))
    ours_result = time_to_accuracy(ours, x, y, x_test, mnist.y_test, config["batch_size"], config["epochs"])
    keras.utils.set_random_seed(0)
    reference_result = time_to_accuracy(keras_simple_convnet(), x, y, x_test, mnist.y_test, 128,
                                        2 if quick else 15)

    def seconds(result):
        return result[0] if result[0] is not None else result[2]

    ours_s, reference_s = seconds(ours_result), seconds(reference_result)
    reached = ours_result[0] is not None
    note = (f"test accuracy per epoch: ours {[round(a, 4) for a in ours_result[1]]}, "
            f"reference {[round(a, 4) for a in reference_result[1]]}")
    if reference_result[0] is None:
        note += "; the reference did not reach 99 % in the epochs allowed, so its time is a lower bound"
    if quick:
        note += "; --quick caps the reference at 2 epochs"
    note += ("; wall-clock on a CPU shared with other work: both sides are slowed alike only "
             "if the load stays steady, so compare runs with care")
    results = [
        Result("Fast CNN training time to ≥ 99.0 % test accuracy", ours_s, reference_s, "s",
               "≤ 30 s and ≥ 6× faster", reached and ours_s <= 30 and reference_s / ours_s >= 6, note=note),
    ]

    # One drawing: preprocessing plus forward pass, on the model just trained.
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[60:220, 130:150, :3] = 255  # a "1"
    reader = reader_for(ours)
    reader.probabilities(preprocess(canvas).digit)  # trace once
    repeats = 50 if quick else 300
    ours_times, reference_times = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        reader.probabilities(preprocess(canvas).digit)
        ours_times.append(time.perf_counter() - started)
    for _ in range(repeats // 3):
        started = time.perf_counter()
        ours.predict(preprocess(canvas).digit[None, ..., None], verbose=0)
        reference_times.append(time.perf_counter() - started)
    ours_ms = statistics.median(ours_times) * 1000
    reference_ms = statistics.median(reference_times) * 1000
    results.append(Result("one drawing: preprocessing + forward pass (median)", ours_ms, reference_ms, "ms",
                          "≤ 5 ms", ours_ms <= 5, note="reference: the same preprocessing + model.predict"))
    return results
