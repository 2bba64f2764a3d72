"""Probes saved while training (issue 33): what recording 1,000 test digits through the Dense
layers at the run's 11 log points costs a Fast CNN training, against the same training without
probes in the same run (target ≤ 5 % more time), and how many bytes they add beside the model.

Both trainings go through the job manager into a throw-away store (training, evaluation and the
save, as on the page); the reference swaps the probe callback for one that does nothing. The full
run alternates them (without, with, with, without) and compares the sums; ``--quick`` trains once
each. The time is the process's CPU time (all threads), which a busy machine disturbs far less
than wall-clock time; the wall-clock time is reported beside it.
"""
from __future__ import annotations

import os
import resource
import tempfile
from pathlib import Path

from benchmarks.harness import Result


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def train_once(config: dict, probes: bool) -> tuple[float, float, int, int]:
    """(seconds the job ran, CPU seconds this process spent, bytes of probes.npz, bytes of
    model.keras) for one training."""
    import keras

    import core.digits.models as models
    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    original = models.keras_probes

    class NoProbes(keras.callbacks.Callback):
        class recorder:  # noqa: N801 (what DigitsKind.train reads)
            @staticmethod
            def describe() -> dict:
                return {}

    with tempfile.TemporaryDirectory(prefix="bench-probes-") as cache:
        os.environ["DLP_CACHE_DIR"] = cache
        if not probes:
            models.keras_probes = lambda *args, **kwargs: NoProbes()
        cpu = cpu_seconds()
        try:
            job = JobManager(ModelStore(Path(cache) / "store")).request("digits", config, retrain=True)
            job.wait()
        finally:
            models.keras_probes = original
        cpu = cpu_seconds() - cpu
        if job.status != "done":
            raise RuntimeError(f"training failed: {job.error}")
        folder = job.entry.path
        probe_file = folder / "probes.npz"
        return (job.progress.elapsed, cpu, probe_file.stat().st_size if probe_file.exists() else 0,
                (folder / "model.keras").stat().st_size)


def run(quick: bool = False) -> list[Result]:
    os.environ["DLP_BUNDLED"] = "0"
    config = {"arch": "fast_cnn"}
    order = [False, True] if quick else [False, True, True, False]
    train_once({**config, "train_limit": 1000}, True)  # warm-up: TensorFlow's first graphs, data loading
    wall, cpu = {False: 0.0, True: 0.0}, {False: 0.0, True: 0.0}
    probe_bytes = model_bytes = 0
    for probes in order:
        elapsed, cpu_spent, size, model_size = train_once(config, probes)
        wall[probes] += elapsed
        cpu[probes] += cpu_spent
        if probes:
            probe_bytes, model_bytes = size, model_size
    runs = len(order) // 2
    extra_cpu, extra_wall = cpu[True] / cpu[False] - 1, wall[True] / wall[False] - 1
    how = "one each" if quick else "two each, alternated"
    return [
        Result("Fast CNN training with probes (CPU time)", cpu[True] / runs, cpu[False] / runs, "CPU-s",
               "≤ 5 % more than without", extra_cpu <= 0.05,
               note=f"{extra_cpu:+.1%}, {how}; CPU time of the whole job (train, evaluate, save), fair on a "
                    "loaded machine"),
        Result("Fast CNN training with probes (job time)", wall[True] / runs, wall[False] / runs, "s",
               "≤ 5 % more than without", extra_wall <= 0.05,
               note=f"{extra_wall:+.1%}, {how}; wall-clock, meaningful on a quiet machine only"),
        Result("probes.npz beside a Fast CNN", probe_bytes / 1e6, model_bytes / 1e6, "MB",
               "report (reference: model.keras)", None,
               note="11 points × 1,000 digits × (256 + 10) float16 numbers"),
    ]
