"""A model kind for testing the store and job machinery without TensorFlow.

The "model" is a dict of numbers saved as JSON. Training can be held at a gate
so tests can line up concurrent requests while it is under way.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

from core.errors import BadConfig


class FakeKind:
    name = "fake"

    def __init__(self) -> None:
        self.trainings = 0
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.finish_gate = threading.Event()  # cleared: hold after the last step, in a phase
        self.finish_gate.set()
        self._lock = threading.Lock()

    def normalize(self, config: dict) -> dict:
        size = int(config.get("size", 3))
        if size < 1:
            raise BadConfig("Size must be at least 1.")
        normalized = {"size": size, "fail": bool(config.get("fail", False))}
        if config.get("pad"):  # bytes of padding in the saved model (to fill a disk)
            normalized["pad"] = int(config["pad"])
        return normalized

    def title(self, config: dict) -> str:
        return f"Fake model of size {config['size']}"

    def train(self, config: dict, reporter):
        with self._lock:
            self.trainings += 1
        self.started.set()
        reporter.set_total(config["size"], epochs=config["size"])
        for step in range(1, config["size"] + 1):
            while not self.gate.wait(0.01):
                reporter.check()
            reporter.check()
            if config["fail"]:
                raise RuntimeError("the fake model was told to fail")
            reporter.step(step, loss=1.0 / step)
            reporter.epoch_end(step, loss=1.0 / step, val_loss=1.1 / step)
        if not self.finish_gate.is_set():
            reporter.phase("Measuring the fake accuracy…")
            while not self.finish_gate.wait(0.01):
                reporter.check()
        return self.model(config), {"metrics": {"accuracy": 0.5}}

    @staticmethod
    def model(config: dict) -> dict:
        model = {"weights": list(range(config["size"]))}
        if config.get("pad"):
            model["pad"] = "x" * config["pad"]
        return model

    def save(self, model, folder: Path) -> None:
        (folder / "weights.json").write_text(json.dumps(model))

    def load(self, folder: Path):
        return json.loads((folder / "weights.json").read_text())


KIND = FakeKind()
