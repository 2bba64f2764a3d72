"""TensorBoard-compatible logs for every training run.

Each training job gets ``reporter.run_dir`` (under :func:`core.paths.runs_dir`);
a :class:`RunLogger` writes event files there that real TensorBoard reads, and
that the Runs page reads back. A :class:`LogSchedule` says when: the same number of
points whatever the run's length, so a one-epoch run still shows how it learned.

Every run's step axis is the optimiser step (one batch, one update).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GRADIENT_PREFIX = "gradients/"  # histogram tags of gradients: "gradients/<weight path>"


@dataclass(frozen=True)
class LogSchedule:
    """When to log: ``points`` scalar points and ``histograms`` histogram rows (plus the
    initial weights at step 0), spread evenly over ``total_steps`` optimiser steps.

    A 400-step run and a 4,000-step run both get about ``points`` points: TensorBoard's
    ``update_freq`` in Keras counts batches, so a short run would otherwise show a dot and a
    long one a blur. Short runs (fewer steps than points) log every step.
    """

    total_steps: int
    points: int = 100
    histograms: int = 10

    def __post_init__(self) -> None:
        if self.total_steps < 1 or self.points < 1 or self.histograms < 1:
            raise ValueError(f"A log schedule needs positive counts, not {self}.")

    def scalar_due(self, step: int) -> bool:
        """True on the steps ceil(k * total / points), k = 1..points: the last step included."""
        return _crosses_a_mark(step, self.points, self.total_steps)

    def histogram_due(self, step: int) -> bool:
        """True at step 0 (before training) and on ``histograms`` evenly spread steps after it."""
        return step == 0 or _crosses_a_mark(step, self.histograms, self.total_steps)

    def scalar_steps(self) -> list[int]:
        return [step for step in range(1, self.total_steps + 1) if self.scalar_due(step)]

    def histogram_steps(self) -> list[int]:
        return [step for step in range(self.total_steps + 1) if self.histogram_due(step)]


def _crosses_a_mark(step: int, marks: int, total: int) -> bool:
    # The marks sit at k * total / marks; a step is due when it reaches the next one.
    return 1 <= step <= total and step * marks // total > (step - 1) * marks // total


def histogram_buckets(values: np.ndarray, bins: int = 30) -> np.ndarray:
    """``(bins, 3)`` rows of left edge, right edge, count over ``bins`` equal buckets from the
    minimum to the maximum (the maximum counts in the last bucket): TensorBoard's layout."""
    values = np.asarray(values, dtype=np.float64).ravel()
    low, high = float(values.min()), float(values.max())
    if low == high:  # TensorBoard's convention: zero-width buckets, everything in the last one
        counts = np.zeros(bins)
        counts[-1] = values.size
        return np.stack([np.full(bins, low), np.full(bins, low), counts], axis=1)
    index = np.minimum(((values - low) / ((high - low) / bins)).astype(np.int64), bins - 1)
    edges = np.linspace(low, high, bins + 1)
    return np.stack([edges[:-1], edges[1:], np.bincount(index, minlength=bins).astype(np.float64)], axis=1)


class RunLogger:
    """Scalars, histograms, text and hyperparameters for one run (lazy TF import)."""

    def __init__(self, run_dir: Path | str, kind: str = "", title: str = "", config: dict | None = None,
                 steps_per_epoch: int | None = None):
        """``steps_per_epoch`` (optimiser steps in one pass over the data, if the run has
        epochs) lets the Runs page put an epoch axis under the step axis."""
        self.run_dir = Path(run_dir)
        self._writers: dict[str, Any] = {}
        self.run_dir.mkdir(parents=True, exist_ok=True)
        meta = {"kind": kind, "title": title, "config": config or {}}
        if steps_per_epoch:
            meta["steps_per_epoch"] = int(steps_per_epoch)
        (self.run_dir / "run.json").write_text(json.dumps(meta, indent=2, default=str))

    def _writer(self, split: str):
        if split not in self._writers:
            import tensorflow as tf

            self._writers[split] = tf.summary.create_file_writer(str(self.run_dir / split))
        return self._writers[split]

    def scalars(self, step: int, split: str = "train", **values: float) -> None:
        import tensorflow as tf

        with self._writer(split).as_default():
            for name, value in values.items():
                if value is not None and np.isfinite(value):
                    tf.summary.scalar(name, float(value), step=int(step))

    def histograms(self, step: int, arrays: dict[str, np.ndarray], split: str = "train") -> None:
        """TensorBoard histograms (30 equal buckets from min to max, as ``tf.summary.histogram``),
        counted in NumPy and written as one record: a TensorFlow histogram op per tensor costs
        ~15 ms of eager overhead each, which a 20-tensor model pays at every logged step."""
        import tensorflow as tf
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.plugins.histogram import metadata
        from tensorboard.util import tensor_util

        summary = summary_pb2.Summary()
        for name, array in arrays.items():
            values = np.asarray(array, dtype=np.float64).ravel()
            if values.size and np.isfinite(values).all():
                summary.value.add(tag=name, metadata=metadata.create_summary_metadata(None, None),
                                  tensor=tensor_util.make_tensor_proto(histogram_buckets(values)))
        if summary.value:
            with self._writer(split).as_default():
                tf.summary.experimental.write_raw_pb(summary.SerializeToString(), step=int(step))

    def text(self, step: int, name: str, value: str, split: str = "train") -> None:
        import tensorflow as tf

        with self._writer(split).as_default():
            tf.summary.text(name, value, step=int(step))

    def model_summary(self, model) -> None:
        """Layers, output shapes, parameter counts and connections, for the Runs page's summary
        and graph; plus the hyperparameters in TensorBoard's HParams tab."""
        layers = []
        for layer in model.layers:
            inbound = []
            for node in getattr(layer, "_inbound_nodes", []):
                for tensor in getattr(node, "input_tensors", []) or []:
                    history = getattr(tensor, "_keras_history", None)
                    if history is not None:
                        inbound.append(history[0].name)
            try:
                shape = str(tuple(layer.output.shape))
            except (AttributeError, ValueError):
                shape = "?"
            layers.append({"name": layer.name, "type": type(layer).__name__, "output_shape": shape,
                           "params": int(layer.count_params()), "inbound": inbound})
        (self.run_dir / "model.json").write_text(json.dumps({"name": model.name, "layers": layers}, indent=2))
        meta = json.loads((self.run_dir / "run.json").read_text())
        try:
            from tensorboard.plugins.hparams import api as hp

            hparams = {k: v for k, v in meta.get("config", {}).items() if isinstance(v, (bool, int, float, str))}
            with self._writer("train").as_default():
                hp.hparams(hparams)
        except Exception:  # the HParams tab is a nicety; scalars and histograms are what matter
            pass

    def flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


class LoopLog:
    """Run logging for a hand-written training loop (the LSTMs): call :meth:`step` after every
    optimiser step with that batch's loss. At the schedule's points it writes the mean loss over
    the steps since the previous point; at its histogram steps (and at step 0, on creation) the
    weights from ``arrays()`` and, given ``gradients()``, the gradients under
    :data:`GRADIENT_PREFIX`."""

    def __init__(self, logger: RunLogger, schedule: LogSchedule, arrays, gradients=None):
        self.logger, self.schedule, self.arrays, self.gradients = logger, schedule, arrays, gradients
        self.losses: list[float] = []
        self._histograms(0)

    def _histograms(self, step: int) -> None:
        self.logger.histograms(step, self.arrays())
        if self.gradients is not None:
            self.logger.histograms(step, {GRADIENT_PREFIX + name: g for name, g in self.gradients().items()})
        self.logger.flush()

    def step(self, step: int, loss: float) -> None:
        self.losses.append(float(loss))
        if self.schedule.scalar_due(step):
            self.logger.scalars(step, split="train", loss=float(np.mean(self.losses)))
            self.losses = []
        if self.schedule.histogram_due(step):
            self._histograms(step)


def tape_gradients(loss_of, variables: dict[str, Any]) -> dict[str, np.ndarray]:
    """``{name: gradient}`` of the scalar ``loss_of()`` with respect to named tf.Variables."""
    import tensorflow as tf

    names = list(variables)
    with tf.GradientTape() as tape:
        loss = loss_of()
    grads = tape.gradient(loss, [variables[name] for name in names])
    # A looked-up embedding's gradient comes as IndexedSlices (rows touched); make it dense.
    return {name: np.asarray(tf.convert_to_tensor(g)) for name, g in zip(names, grads) if g is not None}


# ---- reading runs back ----------------------------------------------------------------------

def list_runs(root: Path | None = None) -> list[dict]:
    """Every run folder with its run.json, newest first."""
    from core.paths import runs_dir

    root = Path(root or runs_dir())
    runs = []
    if not root.is_dir():
        return runs
    for folder in root.iterdir():
        meta_path = folder / "run.json"
        if not folder.is_dir() or not meta_path.exists():
            continue
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {"kind": "?", "title": f"{folder.name} (unreadable run.json)", "config": {}}
        runs.append({"name": folder.name, "path": folder, "modified": folder.stat().st_mtime, **meta})
    return sorted(runs, key=lambda r: r["modified"], reverse=True)


def _events(run_dir: Path):
    import tensorflow as tf

    for split_dir in sorted(p for p in Path(run_dir).iterdir() if p.is_dir()):
        for path in sorted(split_dir.glob("events.out.tfevents.*")):
            try:
                for event in tf.compat.v1.train.summary_iterator(str(path)):
                    yield split_dir.name, event
            except Exception:  # a run killed mid-write leaves a truncated last record
                continue


def read_scalars(run_dir: Path | str) -> dict[str, list[tuple[int, float, float]]]:
    """``{"split/tag": [(step, wall_time, value), ...]}`` from the event files."""
    import tensorflow as tf

    out: dict[str, list] = {}
    for split, event in _events(Path(run_dir)):
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name != "scalars":
                continue
            number = float(tf.make_ndarray(value.tensor))
            out.setdefault(f"{split}/{value.tag}", []).append((event.step, event.wall_time, number))
    return {k: sorted(v) for k, v in out.items()}


def read_histograms(run_dir: Path | str) -> dict[str, list[tuple[int, np.ndarray]]]:
    """``{tag: [(step, buckets), ...]}`` with buckets an (n, 3) array of left, right, count."""
    import tensorflow as tf

    out: dict[str, list] = {}
    for split, event in _events(Path(run_dir)):
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name != "histograms":
                continue
            out.setdefault(value.tag, []).append((event.step, tf.make_ndarray(value.tensor)))
    return {k: sorted(v, key=lambda item: item[0]) for k, v in out.items()}


def smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start."""
    out, last, steps = [], 0.0, 0
    for value in values:
        steps += 1
        last = last * weight + (1 - weight) * value
        out.append(last / (1 - weight ** steps) if weight < 1 else value)
    return out


def delete_run(run_dir: Path | str) -> None:
    import shutil

    shutil.rmtree(run_dir, ignore_errors=True)
