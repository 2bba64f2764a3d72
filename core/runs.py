"""TensorBoard-compatible logs for every training run.

Each training job gets ``reporter.run_dir`` (under :func:`core.paths.runs_dir`);
a :class:`RunLogger` writes event files there that real TensorBoard reads, and
that the Runs page reads back.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


class RunLogger:
    """Scalars, histograms, text and hyperparameters for one run (lazy TF import)."""

    def __init__(self, run_dir: Path | str, kind: str = "", title: str = "", config: dict | None = None):
        self.run_dir = Path(run_dir)
        self._writers: dict[str, Any] = {}
        self.run_dir.mkdir(parents=True, exist_ok=True)
        meta = {"kind": kind, "title": title, "config": config or {}}
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
        import tensorflow as tf

        with self._writer(split).as_default():
            for name, array in arrays.items():
                values = np.asarray(array, dtype=np.float32)
                if values.size and np.isfinite(values).all():
                    tf.summary.histogram(name, values, step=int(step))

    def text(self, step: int, name: str, value: str, split: str = "train") -> None:
        import tensorflow as tf

        with self._writer(split).as_default():
            tf.summary.text(name, value, step=int(step))

    def flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
