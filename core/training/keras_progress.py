"""Glue between Keras' training loop, a job's :class:`~core.training.progress.Reporter` and the run's
TensorBoard log."""
from __future__ import annotations

import math
import time

from core.training.progress import Reporter
from core.training.runs import GRADIENT_PREFIX, LogSchedule, RunLogger

CURVE_POINTS = 20  # per epoch, at most: enough for a smooth line, few enough to send every second


class WindowMeans:
    """Keras reports each training metric as its mean since the epoch began. Two such running
    means, with the samples seen at each, give the mean over the samples in between: what the
    recent batches scored, not a blend reaching back to the epoch's start.

    Valid for per-sample means: the loss (Keras weights it by batch size) and accuracy.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.samples = 0
        self.totals: dict[str, float] = {}

    def update(self, samples_so_far: int, running_means: dict[str, float]) -> dict[str, float]:
        totals = {name: float(mean) * samples_so_far for name, mean in running_means.items()}
        new = samples_so_far - self.samples
        means = {} if new <= 0 else {name: (total - self.totals.get(name, 0.0)) / new
                                     for name, total in totals.items()}
        self.samples, self.totals = samples_so_far, totals
        return means


def training_gradients(model, x, y) -> dict:
    """Gradients of the training loss on ``(x, y)`` for every trainable weight, as the optimiser
    would see them (dropout, augmentation and batch statistics on), without leaving a trace:
    batch norm's moving averages and the random generators' states are put back afterwards, so
    logging them does not change the training."""
    import numpy as np
    import tensorflow as tf

    saved = [np.array(variable) for variable in model.non_trainable_variables]
    try:
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True), training=True)
        grads = tape.gradient(loss, model.trainable_weights)
    finally:
        for variable, value in zip(model.non_trainable_variables, saved):
            variable.assign(value)
    return {weight.path: np.asarray(grad) for weight, grad in zip(model.trainable_weights, grads)
            if grad is not None}


def keras_progress(reporter: Reporter, epochs: int, samples: int, batch_size: int, *, gradient_batch=None,
                   config: dict | None = None, kind: str = "", title: str = "",
                   schedule: LogSchedule | None = None):
    """A Keras callback that reports every batch and epoch, stops on Cancel, and logs the run
    for TensorBoard in ``reporter.run_dir``, on the optimiser-step axis:

    - training loss and accuracy (means over the batches since the previous point) at the
      schedule's points and at each epoch's end, and the learning rate if it is scheduled;
    - validation metrics at each epoch's end;
    - weight histograms at step 0 and at the schedule's histogram steps, and with a
      ``gradient_batch`` (x, y), gradient histograms on that fixed batch at the same steps
      (about ten forward and backward passes per run: off the hot path).

    ``samples`` is the number of training samples in one epoch; ``schedule`` defaults to
    :class:`~core.training.runs.LogSchedule` over the whole run.
    """
    import keras
    import numpy as np

    steps_per_epoch = math.ceil(samples / batch_size)
    total_steps = steps_per_epoch * epochs
    schedule = schedule or LogSchedule(total_steps)
    logger = RunLogger(reporter.run_dir, kind=kind, title=title, config=config, steps_per_epoch=steps_per_epoch)

    class ReportProgress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.last_report = 0.0
            self.windows = WindowMeans()
            self.learning_rate: float | None = None

        def log_histograms(self, step: int) -> None:
            logger.histograms(step, {w.path: np.asarray(w) for w in self.model.trainable_weights})
            if gradient_batch is not None:
                gradients = training_gradients(self.model, *gradient_batch)
                logger.histograms(step, {GRADIENT_PREFIX + path: g for path, g in gradients.items()})
            logger.flush()

        def on_train_begin(self, logs=None):
            reporter.set_total(total_steps, epochs)
            logger.model_summary(self.model)
            # A constant learning rate serialises as a number, a schedule as a dict.
            self.scheduled = isinstance(self.model.optimizer.get_config().get("learning_rate"), dict)
            self.log_histograms(0)  # the initial weights: the row every later one is compared with

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.windows.reset()  # Keras restarts its running means every epoch

        def on_train_batch_begin(self, batch, logs=None):
            step = self.epoch * steps_per_epoch + batch + 1
            if self.scheduled and (schedule.scalar_due(step) or batch + 1 == steps_per_epoch):
                # Read before the update: the rate this step's update uses.
                self.learning_rate = float(np.asarray(self.model.optimizer.learning_rate))

        def on_train_batch_end(self, batch, logs=None):
            logs = logs or {}
            if reporter.cancelled:
                self.model.stop_training = True
            now = time.monotonic()
            step = self.epoch * steps_per_epoch + batch + 1
            if (batch + 1) * CURVE_POINTS // steps_per_epoch > batch * CURVE_POINTS // steps_per_epoch:
                reporter.point(self.epoch + (batch + 1) / steps_per_epoch, **logs)
            if now - self.last_report > 0.1 or batch + 1 == steps_per_epoch:
                self.last_report = now
                reporter.step(step, **logs)
            # Each epoch's end is a point too: a window cannot span Keras' reset of its means.
            if schedule.scalar_due(step) or batch + 1 == steps_per_epoch:
                seen = min((batch + 1) * batch_size, samples)
                values = self.windows.update(seen, logs)
                if self.scheduled:
                    values["learning_rate"] = self.learning_rate
                logger.scalars(step, split="train", **values)
            if schedule.histogram_due(step):
                self.log_histograms(step)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            reporter.epoch_end(epoch + 1, **logs)
            logger.scalars((epoch + 1) * steps_per_epoch, split="validation",
                           **{k[4:]: v for k, v in logs.items() if k.startswith("val_")})
            logger.flush()

        def on_train_end(self, logs=None):
            logger.close()

    return ReportProgress()
