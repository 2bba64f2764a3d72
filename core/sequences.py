"""The Text page's from-scratch LSTM cell on numbers: learn a (noisy) wave, then forecast it.

The same cell as :mod:`core.charlstm` (``lstm_cell``, the same clipped Adam), but the
input at each step is one real number instead of a one-hot character, and a linear
output predicts the next number, trained with mean squared error at every step of
the window. The series' last part is held out; the trained cell reads the window
just before it and then runs on by itself, feeding each forecast back in, so the
plot shows how far ahead the learned dynamics hold.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .charlstm import adam_slots, clipped_adam_update, lstm_cell, windows
from .errors import BadConfig, BadInput, check_all, coerce
from .jobs import Reporter

SERIES = {
    "sine": "sine",
    "cosine": "cosine",
    "sum_of_sines": "sum of sines (periods 40, 17 and 9 steps)",
}
DEFAULTS = {
    "series": "sine",
    "length": 1200,      # points in the whole series
    "noise": 0.05,       # standard deviation of Gaussian noise added to every point
    "window": 40,
    "batch_size": 32,
    "units": 32,
    "learning_rate": 0.01,
    "steps": 300,
    "horizon": 200,      # points held out at the end and forecast
    "seed": 0,
}


def make_series(name: str, length: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """The clean wave plus Gaussian noise of standard deviation ``noise``, as float32."""
    t = np.arange(length, dtype=np.float64)
    if name == "sine":
        clean = np.sin(2 * np.pi * t / 40)
    elif name == "cosine":
        clean = np.cos(2 * np.pi * t / 40)
    elif name == "sum_of_sines":
        clean = (np.sin(2 * np.pi * t / 40) + 0.5 * np.sin(2 * np.pi * t / 17) + 0.3 * np.sin(2 * np.pi * t / 9)) / 1.3
    else:
        raise BadConfig(f"Unknown series '{name}'; choose one of {', '.join(SERIES)}.")
    rng = np.random.default_rng(seed)
    return (clean + rng.normal(0.0, noise, length)).astype(np.float32)


class SeriesLSTM:
    """One LSTM layer (tf.Variables) reading one number per step, with a linear readout."""

    def __init__(self, units: int, seed: int = 0, arrays: dict[str, np.ndarray] | None = None) -> None:
        import tensorflow as tf

        self.units = int(units)
        arrays = arrays if arrays is not None else self._initial_arrays(seed)
        missing = [name for name in self.NAMES if name not in arrays]
        if missing:
            raise BadInput(f"The saved model is missing weights: {', '.join(missing)}.")
        self.weights = {name: tf.Variable(np.asarray(arrays[name], np.float32), name=name) for name in self.NAMES}
        self._slots = None
        self._train_steps: dict = {}
        self._predict_fn = None
        self._forecast_fns: dict = {}
        self._last_forecast: tuple | None = None  # (inputs, forecast): pages ask again on every rerun

    NAMES = ("kernel", "recurrent", "bias", "output_kernel", "output_bias")

    def _initial_arrays(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        H = self.units
        limit = np.sqrt(6.0 / (1 + 4 * H))
        bias = np.zeros(4 * H)
        bias[H:2 * H] = 1.0  # forget gate open at the start
        arrays = {
            "kernel": rng.uniform(-limit, limit, (1, 4 * H)),
            "recurrent": np.concatenate([np.linalg.qr(rng.normal(size=(H, H)))[0] for _ in range(4)], axis=1),
            "bias": bias,
            "output_kernel": rng.uniform(-np.sqrt(6.0 / (H + 1)), np.sqrt(6.0 / (H + 1)), (H, 1)),
            "output_bias": np.zeros(1),
        }
        return {k: v.astype(np.float32) for k, v in arrays.items()}

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: var.numpy() for name, var in self.weights.items()}

    def count_params(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.weights.values()))

    def _step(self, x, h, c):
        """x (batch, 1) -> next-value prediction (batch, 1) and the new state."""
        import tensorflow as tf

        z = x * self.weights["kernel"] + tf.matmul(h, self.weights["recurrent"]) + self.weights["bias"]
        h, c = lstm_cell(z, c)
        return tf.matmul(h, self.weights["output_kernel"]) + self.weights["output_bias"], h, c

    def _unroll(self, x):
        """x (batch, time) -> one-step-ahead predictions (batch, time) and the final state."""
        import tensorflow as tf

        batch = tf.shape(x)[0]
        h = c = tf.zeros((batch, self.units))
        predictions = []
        for t in range(x.shape[1]):
            y, h, c = self._step(x[:, t:t + 1], h, c)
            predictions.append(y[:, 0])
        return tf.stack(predictions, axis=1), (h, c)

    def train_step(self, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
        """One Adam step on a batch of windows (mean squared error at every step)."""
        self._last_forecast = None  # the weights change
        import tensorflow as tf

        if learning_rate not in self._train_steps:
            variables = [self.weights[name] for name in self.NAMES]
            if self._slots is None:
                self._slots = adam_slots(variables)

            @tf.function
            def train_step(x, y):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(self._unroll(x)[0] - y))
                clipped_adam_update(variables, tape.gradient(loss, variables), self._slots, learning_rate)
                return loss

            self._train_steps[learning_rate] = train_step
        return float(self._train_steps[learning_rate](tf.constant(x), tf.constant(y)))

    def one_step_predictions(self, x: np.ndarray) -> np.ndarray:
        """Each window's prediction of the value after every point of it, from zero state."""
        import tensorflow as tf

        if self._predict_fn is None:
            self._predict_fn = tf.function(lambda x: self._unroll(x)[0])
        return self._predict_fn(tf.constant(np.asarray(x, np.float32))).numpy()

    def forecast(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Read ``history``, then run on alone for ``horizon`` steps, feeding each forecast back."""
        import tensorflow as tf

        history = np.asarray(history, np.float32)
        asked = (history.shape, history.tobytes(), int(horizon))
        last = self._last_forecast
        if last is not None and last[0] == asked:
            return last[1].copy()
        key = (len(history), int(horizon))
        if key not in self._forecast_fns:
            @tf.function
            def run(history):
                prediction, (h, c) = self._unroll(history[None, :])
                y = prediction[:, -1:]
                out = [y[:, 0]]
                for _ in range(horizon - 1):
                    y, h, c = self._step(y, h, c)
                    out.append(y[:, 0])
                return tf.concat(out, axis=0)

            self._forecast_fns = {key: run}  # one shape at a time: each new shape is a new trace
        forecast = self._forecast_fns[key](tf.constant(history)).numpy()
        self._last_forecast = (asked, forecast.copy())
        return forecast


class SequenceKind:
    """The job kind: train a SeriesLSTM on a generated series, store it with its forecast."""

    name = "sequence"

    def normalize(self, config: dict) -> dict:
        out = {**DEFAULTS, **{k: v for k, v in config.items() if k in DEFAULTS and v is not None}}
        coerce(out, {**dict.fromkeys(("length", "window", "batch_size", "units", "steps", "horizon", "seed"), int),
                     "noise": float, "learning_rate": float, "series": str}, "sequence setting")
        check_all([
            (out["series"] in SERIES, f"Unknown series '{out['series']}'; choose one of {', '.join(SERIES)}."),
            (200 <= out["length"] <= 20_000, "The series must have between 200 and 20,000 points."),
            (0.0 <= out["noise"] <= 1.0, "Noise must be between 0 and 1."),
            (5 <= out["window"] <= 200, "The window must be between 5 and 200 steps."),
            (1 <= out["batch_size"] <= 512, "The batch size must be between 1 and 512."),
            (4 <= out["units"] <= 256, "Hidden units must be between 4 and 256."),
            (0 < out["learning_rate"] <= 0.1, "The learning rate must be above 0 and at most 0.1."),
            (1 <= out["steps"] <= 20_000, "Training steps must be between 1 and 20,000."),
            (10 <= out["horizon"] <= out["length"] // 2, "Forecast between 10 points and half the series."),
            (out["length"] - out["horizon"] >= out["window"] + 2,
             "The series minus the forecast horizon must be longer than one window."),
        ])
        return out

    def title(self, config: dict) -> str:
        return (f"Sequence LSTM {config['units']} units on a {SERIES[config['series']]}, noise "
                f"{config['noise']:g} ({config['steps']} steps)")

    def train(self, config: dict, reporter: Reporter) -> tuple[SeriesLSTM, dict]:
        from .runs import RunLogger

        logger = RunLogger(reporter.run_dir, kind=self.name, title=self.title(config), config=config)
        series = make_series(config["series"], config["length"], config["noise"], config["seed"])
        window, horizon = config["window"], config["horizon"]
        train_part = series[:-horizon]
        starts = np.arange(0, len(train_part) - window - 1)
        rng = np.random.default_rng(config["seed"])
        model = SeriesLSTM(config["units"], seed=config["seed"])
        steps = config["steps"]
        reporter.set_total(steps)
        every = max(1, steps // 20)
        losses: list[float] = []
        started = time.perf_counter()
        for step in range(1, steps + 1):
            reporter.check()
            x, y = windows(train_part, rng.choice(starts, size=config["batch_size"]), window)
            losses.append(model.train_step(x, y, config["learning_rate"]))
            reporter.step(step, loss=losses[-1])
            if step % every == 0 or step == steps:
                reporter.epoch_end(step // every, loss=float(np.mean(losses[-every:])))
                logger.scalars(step, split="train", loss=float(np.mean(losses[-every:])))
        logger.close()
        forecast = model.forecast(train_part[-window:], horizon)
        truth = series[-horizon:]
        clean = make_series(config["series"], config["length"], 0.0)[-horizon:]
        extras = {
            "metrics": {
                "loss": float(np.mean(losses[-every:])),
                "forecast_mse": float(np.mean((forecast - truth) ** 2)),
                "forecast_mse_vs_clean": float(np.mean((forecast - clean) ** 2)),
                "params": model.count_params(),
                "seconds": time.perf_counter() - started,
            },
        }
        return model, extras

    def save(self, model: SeriesLSTM, folder: Path) -> None:
        np.savez(Path(folder) / "weights.npz", **model.arrays())
        (Path(folder) / "meta.json").write_text(json.dumps({"units": model.units, "format": "sequence-1"}))

    def load(self, folder: Path) -> SeriesLSTM:
        meta = json.loads((Path(folder) / "meta.json").read_text())
        with np.load(Path(folder) / "weights.npz", allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        return SeriesLSTM(meta["units"], arrays=arrays)


KIND = SequenceKind()
