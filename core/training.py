"""Glue between Keras' training loop and a job's :class:`~core.jobs.Reporter`."""
from __future__ import annotations

import time

from .jobs import Reporter


def keras_progress(reporter: Reporter, steps_per_epoch: int, epochs: int):
    """A Keras callback that reports every batch and epoch, and stops on Cancel."""
    import keras

    class ReportProgress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.last_report = 0.0

        def on_train_begin(self, logs=None):
            reporter.set_total(steps_per_epoch * epochs, epochs)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if reporter.cancelled:
                self.model.stop_training = True
            now = time.monotonic()
            if now - self.last_report > 0.1 or batch + 1 == steps_per_epoch:
                self.last_report = now
                reporter.step(self.epoch * steps_per_epoch + batch + 1, **(logs or {}))

        def on_epoch_end(self, epoch, logs=None):
            reporter.epoch_end(epoch + 1, **(logs or {}))

    return ReportProgress()
