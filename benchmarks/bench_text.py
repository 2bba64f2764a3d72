"""Text page: sampling speed of the stateful single step vs the Keras char-LSTM example's
per-character ``model.predict`` loop, and training throughput of the from-scratch cell vs
``keras.layers.LSTM`` of the same size.

Sampling: a 256-unit, 1-layer model on Tiny Shakespeare's 65-character vocabulary. Ours primes on
the seed, then runs one step per character carrying (h, c): the cell in NumPy on a snapshot of the
weights (``core.text.lstm.numpy_step``), as the page samples. The reference is the loop of
keras-io/examples/generative/lstm_character_level_text_generation.py: for every character, one-hot
the last 40 characters and call ``model.predict`` on an LSTM(256) + Dense softmax model.

Training: characters per second (batch × window per step) of one Adam step on 50-character windows,
batch 64, 256 units; ours (unrolled cell, compiled tf.function) vs a Keras LSTM(256) +
Dense(65) model with Adam and sparse cross-entropy (compiled ``train_on_batch``). Compilation is
excluded (warm-up steps first).

The bundled model (issue 32 §4): the char-rnn preset's model in assets/defaults against today's
former bundled model, the Quick preset (1 × 256 units, 600 steps), which this benchmark trains
through the job manager (its time is the "Quick preset: training time" row the Text page quotes;
``--quick`` trains 60 of its 600 steps and names the row so). Both are measured on every
character of the held-out last 10 % of Tiny Shakespeare, read as 64 streams carrying the state
(``CharLSTM.stream_loss``), and sample 2,000 characters from the default seed one at a time
(``--quick``: 500), and three samples side by side in one batch.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks.harness import Result

UNITS = 256
WINDOW = 50
BATCH = 64
KERAS_EXAMPLE_MAXLEN = 40


def _vocab_and_ids():
    from core.text.charlstm import text_to_ids
    from core.data import load_corpus

    return text_to_ids(load_corpus("tinyshakespeare")[:200_000])


def sampling(quick: bool) -> list[Result]:
    import keras

    from core.text.charlstm import CharLSTM
    from core.text.sampling import Sampler

    vocab, _ = _vocab_and_ids()
    model = CharLSTM(vocab, UNITS, 1, seed=0)
    length = 500 if quick else 2000
    for _ in Sampler(model, "ROMEO:", 20, rng_seed=0).stream():  # warm-up (caches, first allocations)
        pass
    sampler = Sampler(model, "ROMEO:", length, rng_seed=0)
    started = time.perf_counter()
    for _ in sampler.stream():
        pass
    ours = length / (time.perf_counter() - started)

    reference_model = keras.Sequential([
        keras.Input((KERAS_EXAMPLE_MAXLEN, len(vocab))),
        keras.layers.LSTM(UNITS),
        keras.layers.Dense(len(vocab), activation="softmax"),
    ])
    rng = np.random.default_rng(0)
    sentence = list(rng.integers(len(vocab), size=KERAS_EXAMPLE_MAXLEN))
    reference_length = 60 if quick else 200

    def predict_next():
        x = np.zeros((1, KERAS_EXAMPLE_MAXLEN, len(vocab)), dtype="float32")
        for t, char_id in enumerate(sentence[-KERAS_EXAMPLE_MAXLEN:]):
            x[0, t, char_id] = 1.0
        preds = reference_model.predict(x, verbose=0)[0].astype("float64")
        return int(rng.choice(len(vocab), p=preds / preds.sum()))

    for _ in range(5):
        predict_next()
    started = time.perf_counter()
    for _ in range(reference_length):
        sentence.append(predict_next())
    reference = reference_length / (time.perf_counter() - started)
    ratio = ours / reference
    return [
        Result("sampling speed, 256 units", ours, reference, "characters/s",
               "≥ 2,000 chars/s and ≥ 20× the predict loop", ours >= 2000 and ratio >= 20,
               higher_is_better=True,
               note=f"{length} characters ours, {reference_length} with the Keras example's predict loop"),
    ]


def training(quick: bool) -> list[Result]:
    import keras

    from core.text.charlstm import CharLSTM, windows

    vocab, ids = _vocab_and_ids()
    starts = np.arange(0, len(ids) - WINDOW - 1, 3)
    rng = np.random.default_rng(0)
    batches = [windows(ids, rng.choice(starts, BATCH), WINDOW) for _ in range(8)]
    steps = 10 if quick else 40

    ours_model = CharLSTM(vocab, UNITS, 1, seed=0)
    for x, y in batches[:2]:
        ours_model.train_step(x, y, 0.002)
    started = time.perf_counter()
    for step in range(steps):
        x, y = batches[step % len(batches)]
        ours_model.train_step(x, y, 0.002)
    ours = steps * BATCH * WINDOW / (time.perf_counter() - started)

    one_hot = np.eye(len(vocab), dtype="float32")
    reference_model = keras.Sequential([
        keras.Input((WINDOW, len(vocab))),
        keras.layers.LSTM(UNITS, return_sequences=True),
        keras.layers.Dense(len(vocab)),
    ])
    reference_model.compile(optimizer=keras.optimizers.Adam(0.002, global_clipnorm=5.0),
                            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    encoded = [(one_hot[x], y) for x, y in batches]
    for x, y in encoded[:2]:
        reference_model.train_on_batch(x, y)
    started = time.perf_counter()
    for step in range(steps):
        x, y = encoded[step % len(encoded)]
        reference_model.train_on_batch(x, y)
    reference = steps * BATCH * WINDOW / (time.perf_counter() - started)
    return [
        Result("training throughput, 256 units", ours, reference, "characters/s",
               "within 1.5× of keras.layers.LSTM", ours * 1.5 >= reference, higher_is_better=True,
               note=f"{steps} steps of batch {BATCH} × window {WINDOW} each, after 2 warm-up steps"),
    ]


def bundled_model():
    """The bundled character model (or, in a checkout without it, an untrained one of its size)."""
    from core.data import load_corpus
    from core.text.charlstm import PRESETS
    from core.text.charmodel import CharLSTM, load_model, text_to_ids
    from core.training.bundled import DEFAULTS_DIR

    folder = DEFAULTS_DIR / "charlstm_shakespeare"
    if (folder / "weights.npz").exists():
        return load_model(folder), "the bundled model"
    vocab, _ = text_to_ids(load_corpus("tinyshakespeare"))
    rnn = PRESETS["char-rnn"]
    return CharLSTM(vocab, rnn["units"], rnn["layers"]), "an untrained model of the char-rnn preset's size"


def sampling_rate(model, length: int, count: int = 1) -> float:
    from core.text.sampling import DEFAULT_SEED_TEXT, Sampler

    for _ in Sampler(model, DEFAULT_SEED_TEXT, 20, count=count).steps():  # warm-up
        pass
    sampler = Sampler(model, DEFAULT_SEED_TEXT, length, rng_seed=0, count=count)
    for _ in sampler.steps():
        pass
    return count * length / sampler.sample.seconds


def bundled(quick: bool) -> list[Result]:
    import tempfile
    from pathlib import Path

    from core.text.charlstm import KIND, PRESETS, text_to_ids
    from core.training.jobs import DONE, JobManager
    from core.training.store import ModelStore

    model, which = bundled_model()
    steps = 60 if quick else PRESETS["Quick"]["steps"]
    config = KIND.normalize({**PRESETS["Quick"], "steps": steps})
    with tempfile.TemporaryDirectory(prefix="dlp-bench-text-") as cache:
        manager = JobManager(ModelStore(Path(cache) / "models"))
        started = time.perf_counter()
        job = manager.request("charlstm", config)
        if not job.wait(3600) or job.status != DONE:
            raise RuntimeError(f"training the Quick preset failed: {job.error}")
        quick_seconds = time.perf_counter() - started
        quick_model = job.model()
    from core.data import load_corpus

    text = load_corpus("tinyshakespeare")
    held_out = text[int(round(len(text) * 0.9)):]
    losses = {}
    for name, candidate in (("bundled", model), ("quick", quick_model)):
        _, ids = text_to_ids(held_out, candidate.vocab)
        losses[name], chars = candidate.stream_loss(ids, 64)
    length = 500 if quick else 2000
    ours, reference = sampling_rate(model, length), sampling_rate(quick_model, length)
    batched = sampling_rate(model, length, count=3)
    size = f"{model.layers}×{model.units}"
    quick_name = "Quick preset: training time" if not quick else f"Quick preset ({steps} of 600 steps): training time"
    return [
        Result(quick_name, quick_seconds, None, "s", "quoted by the Text page", None,
               note="1×256 units through the app's job manager (TensorFlow already imported)"),
        Result("bundled model: held-out loss", losses["bundled"], losses["quick"], "nats/char", "≤ 1.50",
               losses["bundled"] <= 1.50,
               note=f"{which} ({size}) against the Quick preset trained here ({steps} steps, today's former "
                    f"bundled model); every one of the {chars:,} held-out characters, 64 streams carrying the state"),
        Result("bundled model: sampling speed", ours, reference, "characters/s", "≥ 1,000 chars/s", ours >= 1000,
               higher_is_better=True,
               note=f"{length:,} characters from the default seed, one at a time; the reference is the Quick "
                    f"preset's 1×256 model; three samples side by side in one batch: {batched:,.0f} characters/s"),
    ]


def run(quick: bool) -> list[Result]:
    return sampling(quick) + training(quick) + bundled(quick)
