"""Playground: training epochs per second on the default circle problem vs ``model.fit(epochs=1)``
per epoch, and picture updates per second in a real browser.

Default problem: circle, 500 points (250 for training), features X1 and X2, hidden layers 4-2,
tanh, batch 10, learning rate 0.03, squared error, SGD — the same network in both.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

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


def browser_updates_per_second(seconds: float) -> float:
    from playwright.sync_api import sync_playwright

    from benchmarks.browser import CHROMIUM_ARGS, chromium_path, start_app, stop_app

    server = start_app(Path(tempfile.mkdtemp(prefix="dlp-bench-")))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server.url}/playground")
            page.locator("[data-layers]").first.wait_for(timeout=120_000)
            page.get_by_role("button", name="Play").click()
            metric = page.locator('[data-testid="stMetric"]').filter(has_text="Epoch").first
            value = metric.locator('[data-testid="stMetricValue"]')
            deadline = time.time() + 60
            while value.inner_text() == "0" and time.time() < deadline:
                time.sleep(0.05)
            last, updates, started = value.inner_text(), 0, time.time()
            while time.time() - started < seconds:
                current = value.inner_text()
                if current != last:
                    updates, last = updates + 1, current
                time.sleep(0.02)
            browser.close()
            return updates / (time.time() - started)
    finally:
        stop_app(server)


def run(quick: bool = False) -> list[Result]:
    ours, reference = engine_epochs_per_second(3 if quick else 10)
    fps = browser_updates_per_second(5 if quick else 15)
    return [
        Result("training epochs per second (default circle)", ours, reference, "epochs/s", "≥ 100 epochs/s",
               ours >= 100, higher_is_better=True,
               note="reference: keras model.fit(epochs=1) called once per epoch on the same network"),
        Result("picture updates per second in Chromium while playing", fps, None, "updates/s", "≥ 5 /s",
               fps >= 5, higher_is_better=True, note="Epoch metric changes counted by Playwright"),
    ]
