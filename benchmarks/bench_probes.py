"""Probes saved while training (issue 33): what recording 700 test digits through the Dense
layers at the run's 11 log points costs a Fast CNN training, against the same training without
probes in the same run (target ≤ 5 % more time), and how many bytes they add beside the model.

Both trainings go through the job manager into a throw-away store (training, evaluation and the
save, as on the page); the reference swaps the probe callback for one that does nothing. The full
run alternates them (without, with, with, without) and compares the sums; ``--quick`` trains once
each. The time is the process's CPU time (all threads), which a busy machine disturbs far less
than wall-clock time; the wall-clock time is reported beside it.

On a shared machine two trainings differ by more than 5 % on their own, so the run also times the
probes' own code directly, in the same training: the process's CPU time (all threads: TensorFlow
computes the forward pass on its own pool) while the callback records (the forward passes of the
probes, their conversion and files; training waits for it) and while ``save_probes`` packs
probes.npz, against the CPU time of the same job without probes.
"""
from __future__ import annotations

import functools
import os
import resource
import tempfile
from pathlib import Path

from benchmarks.harness import Result
from core.embeddings.probes import PROBE_IMAGES


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(function, spent: list[float]):
    """``function``, adding the process's CPU time while it runs to ``spent[0]``."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        began = cpu_seconds()
        try:
            return function(*args, **kwargs)
        finally:
            spent[0] += cpu_seconds() - began
    return wrapper


def train_once(config: dict, probes: bool) -> tuple[float, float, int, int, float]:
    """(seconds the job ran, CPU seconds this process spent, bytes of probes.npz, bytes of
    model.keras, CPU seconds inside the probes' own code) for one training."""
    import keras

    import core.digits.models as models
    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    original, original_save = models.keras_probes, models.save_probes
    inside = [0.0]

    class NoProbes(keras.callbacks.Callback):
        class recorder:  # noqa: N801 (what DigitsKind.train reads)
            @staticmethod
            def describe() -> dict:
                return {}

    def timed_probes(*args, **kwargs):
        callback = timed(original, inside)(*args, **kwargs)  # the probe set's description and files
        callback._record = timed(callback._record, inside)  # each point: forward pass, conversion, files
        return callback

    with tempfile.TemporaryDirectory(prefix="bench-probes-") as cache:
        os.environ["DLP_CACHE_DIR"] = cache
        models.keras_probes = timed_probes if probes else (lambda *args, **kwargs: NoProbes())
        models.save_probes = timed(original_save, inside)
        cpu = cpu_seconds()
        try:
            job = JobManager(ModelStore(Path(cache) / "store")).request("digits", config, retrain=True)
            job.wait()
        finally:
            models.keras_probes, models.save_probes = original, original_save
        cpu = cpu_seconds() - cpu
        if job.status != "done":
            raise RuntimeError(f"training failed: {job.error}")
        folder = job.entry.path
        probe_file = folder / "probes.npz"
        return (job.progress.elapsed, cpu, probe_file.stat().st_size if probe_file.exists() else 0,
                (folder / "model.keras").stat().st_size, inside[0])


def run(quick: bool = False) -> list[Result]:
    os.environ["DLP_BUNDLED"] = "0"
    config = {"arch": "fast_cnn"}
    order = [False, True] if quick else [False, True, True, False]
    train_once({**config, "train_limit": 1000}, True)  # warm-up: TensorFlow's first graphs, data loading
    wall, cpu = {False: 0.0, True: 0.0}, {False: 0.0, True: 0.0}
    probe_bytes = model_bytes = 0
    inside = 0.0
    for probes in order:
        elapsed, cpu_spent, size, model_size, probe_cpu = train_once(config, probes)
        wall[probes] += elapsed
        cpu[probes] += cpu_spent
        if probes:
            probe_bytes, model_bytes = size, model_size
            inside += probe_cpu
    runs = len(order) // 2
    extra_cpu, extra_wall = cpu[True] / cpu[False] - 1, wall[True] / wall[False] - 1
    own = inside / cpu[False]
    how = "one each" if quick else "two each, alternated"
    return [
        Result("Fast CNN training: CPU time in the probes' own code", inside / runs, cpu[False] / runs, "CPU-s",
               "≤ 5 % of a training without probes", own <= 0.05,
               note=f"{own:.1%} of the training's CPU time; the process's CPU time during the 11 recordings "
                    "(forward pass of the probes, float16, files) and save_probes; reference: the whole job "
                    "without probes"),
        Result("Fast CNN training with probes (CPU time)", cpu[True] / runs, cpu[False] / runs, "CPU-s",
               "≤ 5 % more than without", extra_cpu <= 0.05,
               note=f"{extra_cpu:+.1%}, {how}; CPU time of the whole job (train, evaluate, save): two trainings "
                    "differ by several per cent on their own on a shared machine"),
        Result("Fast CNN training with probes (job time)", wall[True] / runs, wall[False] / runs, "s",
               "≤ 5 % more than without", extra_wall <= 0.05,
               note=f"{extra_wall:+.1%}, {how}; wall-clock, meaningful on a quiet machine only"),
        Result("probes.npz beside a Fast CNN", probe_bytes / 1e6, model_bytes / 1e6, "MB",
               "report (reference: model.keras)", None,
               note=f"11 points × {PROBE_IMAGES:,} digits × (256 + 10) float16 numbers"),
    ]
