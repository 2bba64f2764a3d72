"""The character LSTM's training loop (the kind ``charlstm``, :mod:`core.text.charlstm`).

Two ways to cut the text into batches:

- random windows (the default): each batch is ``batch_size`` windows drawn at random from starts
  ``stride`` apart, each read from zero state — quick to learn spelling and layout;
- carried state (``carry_state``, as Karpathy's char-rnn): the text is cut into ``batch_size``
  contiguous streams read side by side, window after window, the state of each stream carried
  from one window into the next (gradients stop at the window's start). The model then learns to
  use context longer than a window, which is how it is used when it writes.

The learning rate is constant or follows a cosine from its value down to a tenth of it at the
last step. Every ``evaluations``-th of the run the model is measured on the start of the held-out
part (read as streams, :meth:`CharLSTM.stream_loss`) and writes a short sample; at the end it is
measured on the whole held-out part, with its weights as stored.
"""
from __future__ import annotations

import math
import time

import numpy as np

from core.errors import BadConfig, BadInput
from core.text import corpus as corpora
from core.text.charmodel import CharLSTM, stored_arrays, text_to_ids
from core.text.lstm import windows
from core.text.sampling import generate

MAX_VOCAB = 2000
#: The periodic evaluations read this many held-out characters (the final one reads them all).
EVAL_CHARS = 25_600
EVAL_STREAMS = 16
FINAL_STREAMS = 64
#: The final learning rate of the cosine schedule, as a fraction of the initial one.
COSINE_FLOOR = 0.1


def learning_rate_at(config: dict, step: int) -> float:
    """The learning rate of optimiser step ``step`` (1-based) under the config's schedule."""
    rate = config["learning_rate"]
    if config.get("schedule", "constant") == "cosine":
        progress = (step - 1) / max(1, config["steps"] - 1)
        return rate * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + math.cos(math.pi * progress)))
    return rate


class RandomWindows:
    """Batches of windows drawn at random, each read from zero state."""

    def __init__(self, ids: np.ndarray, window: int, stride: int, batch: int, rng: np.random.Generator) -> None:
        self.ids, self.window, self.batch, self.rng = ids, window, batch, rng
        self.starts = np.arange(0, len(ids) - window, stride)

    def next(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """(inputs, targets, whether the state starts from zero)."""
        x, y = windows(self.ids, self.rng.choice(self.starts, size=self.batch), self.window)
        return x, y, True


class Streams:
    """``batch`` contiguous streams read window after window; a new pass over the text starts at
    a random offset (so windows do not always begin at the same characters) from zero state."""

    def __init__(self, ids: np.ndarray, window: int, batch: int, rng: np.random.Generator) -> None:
        length = (len(ids) - 1) // batch
        if length < window + 1:
            raise BadInput(f"With {batch} streams side by side each is {length} characters long: shorter "
                           f"than a window ({window} + 1). Use a smaller batch or more text.")
        self.inputs = ids[:batch * length].reshape(batch, length)
        self.targets = ids[1:batch * length + 1].reshape(batch, length)
        self.window, self.rng, self.length = window, rng, length
        self.position = self.length  # start a pass at the first call
        self.passes = 0

    def next(self) -> tuple[np.ndarray, np.ndarray, bool]:
        fresh = self.position + self.window > self.length
        if fresh:
            self.position = int(self.rng.integers(0, min(self.window, self.length - self.window) + 1))
            self.passes += 1
        begin, self.position = self.position, self.position + self.window
        return self.inputs[:, begin:self.position], self.targets[:, begin:self.position], fresh


def split(config: dict, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training part and the held-out end of the text."""
    window = config["window"]
    cut = int(round(len(ids) * (1 - config["validation_split"])))
    train, validation = ids[:cut], ids[cut:]
    if len(train) < window + 1:
        raise BadInput(f"After setting {config['validation_split']:.0%} aside for validation, "
                       f"{len(train)} characters are left for training: fewer than one window "
                       f"({window} + 1). Use more text or a shorter window.")
    if len(validation) < window + 1:
        raise BadInput(f"The validation part ({len(validation)} characters) is shorter than one "
                       f"window ({window} + 1). Use more text, a larger validation split or a "
                       "shorter window.")
    return train, validation


def prepare_model(config: dict, text: str, resume: CharLSTM | None) -> tuple[CharLSTM, np.ndarray]:
    if resume is not None:
        model = resume
        vocab, ids = text_to_ids(text, model.vocab)
        model.dropout = config.get("dropout", 0.0)
        model.storage = config.get("storage", model.storage)
        return model, ids
    vocab, ids = text_to_ids(text)
    if len(vocab) > MAX_VOCAB:
        raise BadInput(f"The text uses {len(vocab):,} different characters; the limit is {MAX_VOCAB:,}.")
    model = CharLSTM(vocab, config["units"], config["layers"], seed=config["seed"],
                     dropout=config.get("dropout", 0.0), storage=config.get("storage", "float32"))
    return model, ids


def train(config: dict, reporter, title: str, resume: CharLSTM | None = None) -> tuple[CharLSTM, dict]:
    """Train a new model, or go on training ``resume``; returns it with the record's extras."""
    import tensorflow as tf

    from core.text.char_probes import CharProbes
    from core.training.runs import LogSchedule, LoopLog, RunLogger, tape_gradients

    if config.get("resume") and resume is None:
        raise BadConfig("A continued training needs the model it continues from (the job manager loads it).")
    window, batch, steps = config["window"], config["batch_size"], config["steps"]
    text = corpora.check_text(corpora.load_text(config["corpus"]), window)
    reporter.message("Preparing the text")
    model, ids = prepare_model(config, text, resume)
    train_ids, val_ids = split(config, ids)
    rng = np.random.default_rng(config["seed"])
    carry = bool(config.get("carry_state", False))
    batches = Streams(train_ids, window, batch, rng) if carry else RandomWindows(
        train_ids, window, config["stride"], batch, rng)
    eval_ids = val_ids[:EVAL_CHARS]
    eval_every = max(1, steps // config["evaluations"])
    schedule = LogSchedule(steps)
    logger = RunLogger(reporter.run_dir, kind="charlstm", title=title, config=config)
    # Gradients on a fixed batch of training windows, the same at every logged step.
    fixed_x, fixed_y = (tf.constant(a, tf.int32) for a in windows(train_ids, np.arange(32) * window, window))
    loop_log = LoopLog(logger, schedule, model.arrays,
                       lambda: tape_gradients(lambda: model._mean_loss(fixed_x, fixed_y), model.weights))
    probes = CharProbes(model, reporter.run_dir, steps, val_ids)
    probes.take(0, model)
    reporter.set_total(steps)
    reporter.message("Compiling the unrolled cell")
    losses: list[float] = []
    learning_log: list[dict] = []  # also kept in the record: a stored model shows how it learned
    train_loss = val_loss = float("nan")
    states = None
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        for step in range(1, steps + 1):
            reporter.check()
            x, y, fresh = batches.next()
            loss, final = model.train_window(x, y, learning_rate_at(config, step),
                                             None if fresh else states, seed=config["seed"] * 1_000_003 + step)
            states = final if carry else None
            losses.append(loss)
            if step == 1:
                reporter.message("Training")
            reporter.step(step, loss=loss)
            loop_log.step(step, loss)
            probes.take(step, model)
            if step % eval_every == 0 or step == steps:
                train_loss = float(np.mean(losses))
                losses = []
                val_loss = model.stream_loss(eval_ids, EVAL_STREAMS)[0]
                reporter.epoch_end((step + eval_every - 1) // eval_every, loss=train_loss, val_loss=val_loss)
                logger.scalars(step, split="validation", loss=val_loss)
                snippet = generate(model, "", 160, temperature=0.8, rng_seed=step)
                entry = f"step {step} · validation loss {val_loss:.3f}\n{snippet}"
                reporter.log(entry)
                learning_log.append({"step": step, "text": entry})
                logger.text(step, "sample", snippet)
        seconds = time.perf_counter() - started
        reporter.message("Measuring the held-out loss")
        held_out = final_metrics(model, val_ids)
    finally:
        logger.close()
    metrics = {"loss": train_loss, **held_out, "params": model.count_params(),
               "chars_per_second": steps * batch * window / max(seconds, 1e-9),
               "train_seconds": round(seconds, 1), "train_cpu_seconds": round(time.process_time() - cpu_started, 1)}
    if carry:
        metrics["passes"] = batches.passes
    extras = {
        "metrics": metrics,
        "vocab_size": len(model.vocab),
        "corpus_chars": len(text),
        "corpus_fingerprint": corpora.fingerprint(text),
        "learning_log": learning_log,
        "probes": probes.attach(model),
    }
    return model, extras


def final_metrics(model: CharLSTM, val_ids: np.ndarray) -> dict:
    """The held-out loss over the whole held-out part with the weights as they will be stored
    (and, for float16 storage, also before rounding); the model keeps the stored weights."""
    metrics = {}
    if model.storage != "float32":
        metrics["val_loss_float32"], _ = model.stream_loss(val_ids, FINAL_STREAMS)
        for name, array in stored_arrays(model).items():
            model.weights[name].assign(array.astype(np.float32))
    metrics["val_loss"], metrics["val_chars"] = model.stream_loss(val_ids, FINAL_STREAMS)
    return metrics
