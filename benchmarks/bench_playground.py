"""Playground: training epochs per second on the default circle problem vs ``model.fit(epochs=1)``
per epoch (what the browser shows while playing: bench_playground_live).

Default problem: circle, 500 points (250 for training), features X1 and X2, hidden layers 4-2,
tanh, batch 10, learning rate 0.03, squared error, SGD — the same network in both.
"""
from __future__ import annotations

import time

from benchmarks.harness import Result


def engine_epochs_per_second(seconds: float) -> tuple[float, float]:
    import keras

    from core.playground import PlaygroundNet, PlaygroundState, featurize, make_dataset

    state = PlaygroundState()
    data = make_dataset(state)
    x = featurize(data.x_train, state.features)
    net = PlaygroundNet(state)
    net.train(x, data.y_train, 10)  # trace once
    epochs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        net.train(x, data.y_train, 50)
        epochs += 50
    ours = epochs / (time.perf_counter() - started)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(2, activation="tanh"), keras.layers.Dense(1, activation="tanh")])
    model.compile(optimizer=keras.optimizers.SGD(0.03), loss="mse")
    model.fit(x, data.y_train, batch_size=10, epochs=1, verbose=0)
    epochs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        model.fit(x, data.y_train, batch_size=10, epochs=1, verbose=0)
        epochs += 1
    return ours, epochs / (time.perf_counter() - started)


def run(quick: bool = False) -> list[Result]:
    ours, reference = engine_epochs_per_second(3 if quick else 10)
    return [
        Result("training epochs per second (default circle)", ours, reference, "epochs/s", "≥ 100 epochs/s",
               ours >= 100, higher_is_better=True,
               note="reference: keras model.fit(epochs=1) called once per epoch on the same network"),
    ]
