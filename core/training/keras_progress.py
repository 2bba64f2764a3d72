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


class TrainingLog:
    """A training's reports and its TensorBoard log, on the optimiser-step axis, fed one batch at a
    time: :func:`keras_progress`'s callback drives it from Keras' loop, and a loop written by hand
    (fine-tuning's head, core.digits.finetune) calls it directly, so both runs read the same.

    - every batch: the step for the progress bar (at most ten a second) and up to
      :data:`CURVE_POINTS` curve points per epoch, with Keras' running means since the epoch began;
    - training loss and accuracy (means over the batches since the previous point) at the
      schedule's points and at each epoch's end;
    - validation metrics (``val_*``) at each epoch's end;
    - weight histograms at step 0 and at the schedule's histogram steps, and with a
      ``gradient_batch`` (x, y), gradient histograms on that fixed batch at the same steps
      (about ten forward and backward passes per run: off the hot path).

    ``samples`` is the number of training samples in one epoch; ``schedule`` defaults to
    :class:`~core.training.runs.LogSchedule` over the whole run.
    """

    def __init__(self, reporter: Reporter, epochs: int, samples: int, batch_size: int, *, gradient_batch=None,
                 config: dict | None = None, kind: str = "", title: str = "",
                 schedule: LogSchedule | None = None) -> None:
        self.reporter, self.epochs, self.samples, self.batch_size = reporter, epochs, samples, batch_size
        self.steps_per_epoch = math.ceil(samples / batch_size)
        self.schedule = schedule or LogSchedule(self.steps_per_epoch * epochs)
        self.gradient_batch = gradient_batch
        self.logger = RunLogger(reporter.run_dir, kind=kind, title=title, config=config,
                                steps_per_epoch=self.steps_per_epoch)
        self.windows = WindowMeans()
        self.last_report = 0.0
        self.model = None

    def begin(self, model) -> None:
        self.model = model
        self.reporter.set_total(self.steps_per_epoch * self.epochs, self.epochs)
        self.logger.model_summary(model)
        self.log_histograms(0)  # the initial weights: the row every later one is compared with

    def log_histograms(self, step: int) -> None:
        import numpy as np

        self.logger.histograms(step, {w.path: np.asarray(w) for w in self.model.trainable_weights})
        if self.gradient_batch is not None:
            gradients = training_gradients(self.model, *self.gradient_batch)
            self.logger.histograms(step, {GRADIENT_PREFIX + path: g for path, g in gradients.items()})
        self.logger.flush()

    def epoch_begin(self) -> None:
        self.windows.reset()  # running means restart every epoch

    def scalar_due(self, epoch: int, batch: int) -> bool:
        step = epoch * self.steps_per_epoch + batch + 1
        return self.schedule.scalar_due(step) or batch + 1 == self.steps_per_epoch

    def batch_end(self, epoch: int, batch: int, logs: dict[str, float], **scalars: float) -> bool:
        """Report batch ``batch`` of ``epoch`` (both from 0); ``logs`` are the running means since the
        epoch began, ``scalars`` extra training scalars for this step's point. False once the job is
        cancelled."""
        steps_per_epoch = self.steps_per_epoch
        step = epoch * steps_per_epoch + batch + 1
        if (batch + 1) * CURVE_POINTS // steps_per_epoch > batch * CURVE_POINTS // steps_per_epoch:
            self.reporter.point(epoch + (batch + 1) / steps_per_epoch, **logs)
        now = time.monotonic()
        if now - self.last_report > 0.1 or batch + 1 == steps_per_epoch:
            self.last_report = now
            self.reporter.step(step, **logs)
        # Each epoch's end is a point too: a window cannot span the reset of the running means.
        if self.scalar_due(epoch, batch):
            seen = min((batch + 1) * self.batch_size, self.samples)
            self.logger.scalars(step, split="train", **self.windows.update(seen, logs), **scalars)
        if self.schedule.histogram_due(step):
            self.log_histograms(step)
        return not self.reporter.cancelled

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.reporter.epoch_end(epoch + 1, **logs)
        self.logger.scalars((epoch + 1) * self.steps_per_epoch, split="validation",
                            **{k[4:]: v for k, v in logs.items() if k.startswith("val_")})
        self.logger.flush()

    def close(self) -> None:
        self.logger.close()


def keras_progress(reporter: Reporter, epochs: int, samples: int, batch_size: int, *, gradient_batch=None,
                   config: dict | None = None, kind: str = "", title: str = "",
                   schedule: LogSchedule | None = None):
    """A Keras callback that reports every batch and epoch, stops on Cancel, and logs the run for
    TensorBoard in ``reporter.run_dir`` (:class:`TrainingLog`), with the learning rate at the
    schedule's points when it is scheduled."""
    import keras
    import numpy as np

    log = TrainingLog(reporter, epochs, samples, batch_size, gradient_batch=gradient_batch, config=config,
                      kind=kind, title=title, schedule=schedule)

    class ReportProgress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.learning_rate: float | None = None

        def on_train_begin(self, logs=None):
            log.begin(self.model)
            # A constant learning rate serialises as a number, a schedule as a dict.
            self.scheduled = isinstance(self.model.optimizer.get_config().get("learning_rate"), dict)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            log.epoch_begin()

        def on_train_batch_begin(self, batch, logs=None):
            if self.scheduled and log.scalar_due(self.epoch, batch):
                # Read before the update: the rate this step's update uses.
                self.learning_rate = float(np.asarray(self.model.optimizer.learning_rate))

        def on_train_batch_end(self, batch, logs=None):
            scalars = {"learning_rate": self.learning_rate} if self.scheduled else {}
            if not log.batch_end(self.epoch, batch, logs or {}, **scalars):
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            log.epoch_end(epoch, logs or {})

        def on_train_end(self, logs=None):
            log.close()

    return ReportProgress()
