"""Probes: a fixed set of inputs whose activations are saved at about ten points of a training run.

The Embeddings page's "over training" view plays them back: the same 700 test digits (or a
character LSTM's characters and a fixed passage) through the network at step 0, at the run's
log schedule (:class:`~core.training.runs.LogSchedule`'s histogram steps: step 0 and ten evenly
spread steps, the last one included) — how the classes come apart as the network learns.

A kind records them with a :class:`ProbeRecorder` (the digit networks through the Keras callback
:func:`keras_probes`). While the run trains, each point is written at once to
``<run_dir>/probes/`` (one small ``.npz`` per step and probe set, written atomically), so a page
can show the points saved so far; when the job saves the model, :func:`save_probes` packs them into
one ``probes.npz`` beside it in the store entry, and :meth:`ProbeRecorder.describe` goes into the
record. Activations are stored as float16 (half the bytes, three significant digits: plenty for a
map); a probe set is described once (labels, names), not per step.

:func:`read_probes` reads either place back as :class:`Probes`.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.training.runs import LogSchedule

FILE = "probes.npz"  # in a store entry, beside the model
FOLDER = "probes"  # in a run's folder, while it trains
# The first test images of the network's data set. Each point costs one forward pass of them, and the
# Fast CNN trains for one epoch (60,000 images, forward and backward: about 3 forward passes each), so
# 11 points of N probes cost about 11·N / 180,000 of its training: 1,000 measured 4-5 %, at the 5 %
# budget; 700 about 3.5 %, and 70 per class still draw clear clusters. (benchmarks/bench_probes.py)
PROBE_IMAGES = 700
_STEP_FILE = re.compile(r"^step-(\d+)-(.+)\.npz$")


@dataclass
class ProbeSet:
    """One set of probes and its activations at every saved step."""

    name: str  # "images", "characters", "passage"…
    title: str  # for the page: "the first 700 test images"
    label_names: list[str]
    labels: np.ndarray  # (N,) index into label_names
    names: list[str]  # a short name per probe, for hover text
    layers: dict[str, np.ndarray] = field(default_factory=dict)  # layer -> (T, N, D) float16
    predicted: np.ndarray | None = None  # (T, N) index into label_names, where the network predicts them
    correct: np.ndarray | None = None  # (T, N) bool: the network's output at that step was right
    accuracy: np.ndarray | None = None  # (T,) share right over this set at each step (NaN: not measured)
    source: dict = field(default_factory=dict)  # where the inputs come from, e.g. {"dataset": "mnist", ...}

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Probes:
    steps: np.ndarray  # (T,) optimiser steps, ascending, step 0 first
    total_steps: int  # the run's length: the last scheduled step
    sets: dict[str, ProbeSet]
    complete: bool  # every scheduled step is here (False while the run trains, or if it was stopped)

    @property
    def scheduled(self) -> list[int]:
        return LogSchedule(self.total_steps).histogram_steps()


# ---- recording ---------------------------------------------------------------------------------

def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` into ``path`` atomically: a reader sees the whole file or none."""
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ProbeRecorder:
    """Writes probe activations for one run into ``<run_dir>/probes/`` at the run's log schedule.

    Describe each probe set once with :meth:`add_set`, then at every step where :meth:`due` is
    true (step 0, before any update, included) call :meth:`record` with the activations of every
    layer to keep. :func:`attach` the recorder to the model so that :func:`save_probes` finds it
    when the kind saves the model.
    """

    def __init__(self, run_dir: Path | str, total_steps: int, schedule: LogSchedule | None = None) -> None:
        self.folder = Path(run_dir) / FOLDER
        self.schedule = schedule or LogSchedule(max(1, int(total_steps)))
        self.sets: dict[str, dict] = {}
        self._labels: dict[str, np.ndarray] = {}
        self.steps: list[int] = []
        self.layer_sizes: dict[str, dict[str, int]] = {}
        self.bytes = 0

    def due(self, step: int) -> bool:
        return self.schedule.histogram_due(step)

    def add_set(self, name: str, title: str, labels, label_names, names=None, source: dict | None = None) -> None:
        """Describe a probe set: ``labels`` (N,) index ``label_names``; ``names`` default to ``#i``."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"A probe set's name is a lower-case identifier, not {name!r}.")
        labels = np.asarray(labels, dtype=np.int32)
        names = [f"#{i}" for i in range(len(labels))] if names is None else [str(n) for n in names]
        if len(names) != len(labels):
            raise ValueError("A probe set needs one name per label.")
        self.sets[name] = {"title": title, "label_names": [str(n) for n in label_names], "source": source or {}}
        self._labels[name] = labels
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_npz(self.folder / f"set-{name}.npz", {"labels": labels, "names": np.array(names, dtype=str)})
        self._write_meta()

    def record(self, step: int, set_name: str, layers: dict[str, np.ndarray], predicted=None, correct=None,
               accuracy: float | None = None) -> None:
        """Save ``layers`` ({layer: (N, ...) activations}) of probe set ``set_name`` at ``step``.

        ``predicted`` (N,) is the network's class per probe in the set's label space (then
        ``correct`` and ``accuracy`` follow from the labels); otherwise pass ``correct`` (N,) and
        ``accuracy`` directly, or nothing."""
        if set_name not in self.sets:
            raise ValueError(f"Describe probe set {set_name!r} with add_set first.")
        arrays = {f"layer/{layer}": np.asarray(values, dtype=np.float32).reshape(len(values), -1).astype(np.float16)
                  for layer, values in layers.items()}
        if predicted is not None:
            arrays["predicted"] = np.asarray(predicted, dtype=np.int16)
            if correct is None:
                correct = arrays["predicted"] == self._labels[set_name]
        if correct is not None:
            arrays["correct"] = np.asarray(correct, dtype=bool)
            if accuracy is None:
                accuracy = float(arrays["correct"].mean())
        arrays["accuracy"] = np.array(np.nan if accuracy is None else accuracy, dtype=np.float32)
        _write_npz(self.folder / f"step-{int(step):07d}-{set_name}.npz", arrays)
        self.layer_sizes[set_name] = {layer: int(arrays[f"layer/{layer}"].shape[1]) for layer in layers}
        self.bytes += sum(array.nbytes for array in arrays.values())
        if step not in self.steps:
            self.steps.append(int(step))
            self._write_meta()

    def _write_meta(self) -> None:
        meta = {"total_steps": self.schedule.total_steps, "sets": self.sets}
        tmp = self.folder / ".meta.json.partial"
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, self.folder / "meta.json")

    def describe(self) -> dict:
        """What the store record says about the probes: where, how many, which layers, how big."""
        return {"file": FILE, "steps": sorted(self.steps), "total_steps": self.schedule.total_steps,
                "sets": {name: {"title": meta["title"], "layers": self.layer_sizes.get(name, {})}
                         for name, meta in self.sets.items()},
                "bytes": int(self.bytes)}


_recorders: "weakref.WeakKeyDictionary[object, ProbeRecorder]" = weakref.WeakKeyDictionary()


def attach(model, recorder: ProbeRecorder) -> None:
    """Remember that ``recorder`` holds ``model``'s probes, for :func:`save_probes`."""
    _recorders[model] = recorder


def save_probes(model, folder: Path | str) -> bool:
    """Pack the probes recorded for ``model`` (if any) into ``folder/probes.npz``; True if it did.

    Called from a kind's ``save`` (the store entry's folder). The run's per-step files stay in
    the run's folder (the Runs page may delete them with the run)."""
    recorder = _recorders.get(model)
    if recorder is None or not recorder.steps:
        return False
    probes = _read_folder(recorder.folder)
    if probes is None:
        return False
    arrays: dict[str, np.ndarray] = {"steps": probes.steps}
    meta = {"total_steps": probes.total_steps, "sets": {}}
    for name, probe_set in probes.sets.items():
        meta["sets"][name] = {"title": probe_set.title, "label_names": probe_set.label_names,
                              "source": probe_set.source}
        arrays[f"{name}/labels"] = probe_set.labels
        arrays[f"{name}/names"] = np.array(probe_set.names, dtype=str)
        for layer, values in probe_set.layers.items():
            arrays[f"{name}/layer/{layer}"] = values
        for what in ("predicted", "correct", "accuracy"):
            if getattr(probe_set, what) is not None:
                arrays[f"{name}/{what}"] = getattr(probe_set, what)
    arrays["meta"] = np.array(json.dumps(meta))
    target = Path(folder) / FILE
    _write_npz(target, arrays)
    return True


# ---- reading -----------------------------------------------------------------------------------

def read_probes(location: Path | str | None) -> Probes | None:
    """The probes in a store entry's folder (``probes.npz``) or a run's folder (``probes/``, the
    points saved so far), or None if there are none (older entries, runs without probes)."""
    if location is None:
        return None
    location = Path(location)
    try:
        if (location / FILE).is_file():
            return _read_packed(location / FILE)
        if (location / FOLDER / "meta.json").is_file():
            return _read_folder(location / FOLDER)
    except (OSError, ValueError, KeyError) as error:  # a damaged file reads as "no probes", said why
        raise ValueError(f"The saved probes cannot be read ({error}).") from error
    return None


def _complete(steps: np.ndarray, total_steps: int) -> bool:
    return set(LogSchedule(total_steps).histogram_steps()) <= set(int(s) for s in steps)


def _read_packed(path: Path) -> Probes:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        steps = np.asarray(data["steps"], dtype=np.int64)
        sets = {}
        for name, info in meta["sets"].items():
            prefix = f"{name}/layer/"
            sets[name] = ProbeSet(
                name, info["title"], info["label_names"], data[f"{name}/labels"].astype(np.int64),
                [str(n) for n in data[f"{name}/names"]],
                {key[len(prefix):]: data[key] for key in data.files if key.startswith(prefix)},
                *(data[f"{name}/{what}"] if f"{name}/{what}" in data.files else None
                  for what in ("predicted", "correct", "accuracy")),
                source=info.get("source", {}))
    return Probes(steps, int(meta["total_steps"]), sets, _complete(steps, int(meta["total_steps"])))


def _read_folder(folder: Path) -> Probes | None:
    """The points a run has saved so far: every step for which each probe set has its file."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    found: dict[int, set[str]] = {}
    for path in folder.iterdir():
        match = _STEP_FILE.match(path.name)
        if match:
            found.setdefault(int(match.group(1)), set()).add(match.group(2))
    steps = sorted(step for step, names in found.items() if set(meta["sets"]) <= names)
    if not steps:
        return None
    sets = {}
    for name, info in meta["sets"].items():
        with np.load(folder / f"set-{name}.npz", allow_pickle=False) as described:
            labels, names = described["labels"].astype(np.int64), [str(n) for n in described["names"]]
        per_step = []
        for step in steps:
            with np.load(folder / f"step-{step:07d}-{name}.npz", allow_pickle=False) as data:
                per_step.append({key: data[key] for key in data.files})
        layers = {key[len("layer/"):]: np.stack([row[key] for row in per_step])
                  for key in per_step[0] if key.startswith("layer/")}
        extra = {what: np.stack([row[what] for row in per_step]) if what in per_step[0] else None
                 for what in ("predicted", "correct", "accuracy")}
        sets[name] = ProbeSet(name, info["title"], info["label_names"], labels, names, layers,
                              source=info.get("source", {}), **extra)
    steps_array = np.array(steps, dtype=np.int64)
    return Probes(steps_array, int(meta["total_steps"]), sets, _complete(steps_array, int(meta["total_steps"])))


# ---- the digit networks (Keras) ------------------------------------------------------------------

def probe_layers(model) -> list[str]:
    """The layers whose activations are kept: every Dense layer (the hidden ones the page maps by
    default, and the output). Convolution maps are left out: thousands of numbers per image
    (the Fast CNN's conv1 has 3,456) would make the probes larger than the model."""
    import keras

    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def keras_probes(reporter, total_steps: int, images: np.ndarray, labels: np.ndarray, class_names,
                 dataset: str = "mnist", count: int = PROBE_IMAGES):
    """A Keras callback that records the first ``count`` test ``images`` (N, 28, 28) uint8 through the
    network's Dense layers at the run's log schedule, with the predictions and the accuracy on them.

    ``total_steps`` is the run's optimiser steps (batches per epoch × epochs), as in
    :func:`core.training.keras_progress.keras_progress`. Activations are computed in inference
    mode (dropout off, batch norm on its moving statistics), as the page computes them."""
    import keras
    import tensorflow as tf

    recorder = ProbeRecorder(reporter.run_dir, total_steps)
    x = tf.constant(np.asarray(images[:count], dtype=np.float32)[..., None] / 255.0)
    names = [str(name) for name in class_names]
    recorder.add_set("images", f"the first {len(x):,} test images", labels[:count], names,
                     source={"dataset": dataset, "split": "test", "count": int(len(x))})

    class RecordProbes(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.steps_per_epoch = max(1, total_steps)
            self.epoch = 0
            self.forward = None

        def _record(self, step: int) -> None:
            if self.forward is None:
                self.layers = probe_layers(self.model)
                # On model.input (one tensor), not model.inputs (a list): called with one array, a probe
                # built on the list warns about the inputs' structure (core.digits.look_inside.probe_model).
                self.forward = keras.Model(self.model.input,
                                           [self.model.get_layer(name).output for name in self.layers])
            # Eager: eleven calls do not repay a tf.function's tracing (0.46 CPU-s for the Fast CNN,
            # where one eager call of 1,000 images costs about 0.07).
            outputs = self.forward(x, training=False)
            values = {name: np.asarray(output) for name, output in zip(self.layers, outputs)}
            predicted = values[self.layers[-1]].argmax(axis=1)  # the last Dense layer is the output
            recorder.record(step, "images", values, predicted=predicted)

        def on_train_begin(self, logs=None):
            attach(self.model, recorder)
            epochs = max(1, int(self.params.get("epochs") or 1))
            self.steps_per_epoch = int(self.params.get("steps") or max(1, total_steps // epochs))
            self._record(0)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            step = self.epoch * self.steps_per_epoch + batch + 1
            if recorder.due(step):
                self._record(step)

    callback = RecordProbes()
    callback.recorder = recorder
    return callback
