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


def run(quick: bool) -> list[Result]:
    return sampling(quick) + training(quick)
