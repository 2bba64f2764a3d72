"""Glue between Keras' training loop and a job's :class:`~core.jobs.Reporter`."""
from __future__ import annotations

import time

from .jobs import Reporter

CURVE_POINTS = 20  # per epoch, at most: enough for a smooth line, few enough to send every second


def keras_progress(reporter: Reporter, steps_per_epoch: int, epochs: int, sample=None, config: dict | None = None,
                   kind: str = "", title: str = ""):
    """A Keras callback that reports every batch and epoch, stops on Cancel, and logs the run
    for TensorBoard in ``reporter.run_dir``: scalars per epoch (and every few steps), weight
    histograms per epoch and, given a ``sample`` (x, y) batch, gradient histograms too."""
    import keras
    import numpy as np
    import tensorflow as tf

    from .runs import RunLogger

    logger = RunLogger(reporter.run_dir, kind=kind, title=title, config=config)

    class ReportProgress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.last_report = 0.0

        def on_train_begin(self, logs=None):
            reporter.set_total(steps_per_epoch * epochs, epochs)
            logger.model_summary(self.model)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if reporter.cancelled:
                self.model.stop_training = True
            now = time.monotonic()
            step = self.epoch * steps_per_epoch + batch + 1
            if (batch + 1) * CURVE_POINTS // steps_per_epoch > batch * CURVE_POINTS // steps_per_epoch:
                reporter.point(self.epoch + (batch + 1) / steps_per_epoch, **(logs or {}))
            if now - self.last_report > 0.1 or batch + 1 == steps_per_epoch:
                self.last_report = now
                reporter.step(step, **(logs or {}))
            if step % 25 == 0:
                logger.scalars(step, split="train_steps", **{k: v for k, v in (logs or {}).items()})

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            reporter.epoch_end(epoch + 1, **logs)
            logger.scalars(epoch + 1, split="train", **{k: v for k, v in logs.items() if not k.startswith("val_")})
            logger.scalars(epoch + 1, split="validation",
                           **{k[4:]: v for k, v in logs.items() if k.startswith("val_")})
            weights = {w.path: np.asarray(w) for w in self.model.trainable_weights}
            logger.histograms(epoch + 1, weights)
            if sample is not None:
                x, y = sample
                with tf.GradientTape() as tape:
                    loss = self.model.compute_loss(x=x, y=y, y_pred=self.model(x, training=False))
                grads = tape.gradient(loss, self.model.trainable_weights)
                logger.histograms(epoch + 1, {f"gradients/{w.path}": np.asarray(g)
                                              for w, g in zip(self.model.trainable_weights, grads) if g is not None})
            logger.flush()

        def on_train_end(self, logs=None):
            logger.close()

    return ReportProgress()
