"""The Text page's from-scratch LSTM cell on numbers: learn a (noisy) wave, then forecast it.

The same cell and clipped Adam as the character model (:mod:`core.text.lstm`), but the input at
each step is one real number instead of a one-hot character, and a linear output predicts
the next number, trained with mean squared error at every step of the window. The series' last part is held out; the trained cell reads the window
just before it and then runs on by itself, feeding each forecast back in, so the
plot shows how far ahead the learned dynamics hold.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from core.errors import BadConfig, check_all, coerce
from core.training.progress import Reporter
from core.text.lstm import LSTMStack, numpy_step, windows

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


#: The first saved format's names for the one layer's weights.
OLD_NAMES = {"kernel": "kernel_0", "recurrent": "recurrent_0", "bias": "bias_0"}


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


class SeriesLSTM(LSTMStack):
    """One LSTM layer (tf.Variables) reading one number per step, with a linear readout."""

    def __init__(self, units: int, seed: int = 0, arrays: dict[str, np.ndarray] | None = None) -> None:
        if arrays is not None:  # the first saved format named the one layer's weights without an index
            arrays = {OLD_NAMES.get(name, name): array for name, array in arrays.items()}
        super().__init__(1, units, 1, 1, seed, arrays)
        self._predict_fn = None
        self._last_forecast: tuple | None = None  # (inputs, forecast): pages ask again on every rerun

    def _unroll(self, x):
        """x (batch, time) -> one-step-ahead predictions (batch, time) and the final state."""
        import tensorflow as tf

        sequence, final = self.unroll(tf.transpose(x)[:, :, None] * self.weights["kernel_0"])
        return self.readout(sequence)[:, :, 0], final[0]

    def _mean_loss(self, x, y):
        import tensorflow as tf

        return tf.reduce_mean(tf.square(self._unroll(x)[0] - y))

    def train_step(self, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
        """One Adam step on a batch of windows (mean squared error at every step)."""
        self._last_forecast = None  # the weights change
        return super().train_step(x, y, learning_rate)

    def one_step_predictions(self, x: np.ndarray) -> np.ndarray:
        """Each window's prediction of the value after every point of it, from zero state."""
        import tensorflow as tf

        if self._predict_fn is None:
            self._predict_fn = tf.function(lambda x: self._unroll(x)[0])
        return self._predict_fn(tf.constant(np.asarray(x, np.float32))).numpy()

    def forecast(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Read ``history``, then run on alone for ``horizon`` steps, feeding each forecast back."""
        history = np.asarray(history, np.float32)
        asked = (history.shape, history.tobytes(), int(horizon))
        last = self._last_forecast
        if last is not None and last[0] == asked:
            return last[1].copy()
        forecast = self._run_forecast(history, int(horizon))
        self._last_forecast = (asked, forecast.copy())
        return forecast

    def _run_forecast(self, history: np.ndarray, horizon: int) -> np.ndarray:
        # One step at a time in NumPy: a few hundred tiny steps, each far quicker than a TensorFlow call.
        arrays = self.arrays()
        kernel = arrays["kernel_0"]  # (1, 4·units): a number times it is the input's share of z
        h, c = self.zero_state(1)
        for value in history:
            y, h, c = numpy_step(arrays, value * kernel, h, c)
        out = [y[0, 0]]
        for _ in range(horizon - 1):
            y, h, c = numpy_step(arrays, y * kernel, h, c)
            out.append(y[0, 0])
        return np.array(out, np.float32)


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
        import tensorflow as tf

        from core.training.runs import LogSchedule, LoopLog, RunLogger, tape_gradients

        logger = RunLogger(reporter.run_dir, kind=self.name, title=self.title(config), config=config)
        series = make_series(config["series"], config["length"], config["noise"], config["seed"])
        window, horizon = config["window"], config["horizon"]
        train_part = series[:-horizon]
        starts = np.arange(0, len(train_part) - window - 1)
        rng = np.random.default_rng(config["seed"])
        model = SeriesLSTM(config["units"], seed=config["seed"])
        steps = config["steps"]
        # Gradients on a fixed batch of training windows, the same at every logged step.
        fixed_x, fixed_y = (tf.constant(a, tf.float32) for a in windows(train_part, starts[:32], window))
        loop_log = LoopLog(logger, LogSchedule(steps), model.arrays,
                           lambda: tape_gradients(lambda: model._mean_loss(fixed_x, fixed_y), model.weights))
        reporter.set_total(steps)
        every = max(1, steps // 20)
        losses: list[float] = []
        started = time.perf_counter()
        for step in range(1, steps + 1):
            reporter.check()
            x, y = windows(train_part, rng.choice(starts, size=config["batch_size"]), window)
            losses.append(model.train_step(x, y, config["learning_rate"]))
            reporter.step(step, loss=losses[-1])
            loop_log.step(step, losses[-1])
            if step % every == 0 or step == steps:
                reporter.epoch_end(step // every, loss=float(np.mean(losses[-every:])))
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
        (Path(folder) / "meta.json").write_text(json.dumps({"units": model.units, "format": "sequence-2"}))

    def load(self, folder: Path) -> SeriesLSTM:
        meta = json.loads((Path(folder) / "meta.json").read_text())
        with np.load(Path(folder) / "weights.npz", allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        return SeriesLSTM(meta["units"], arrays=arrays)


KIND = SequenceKind()
