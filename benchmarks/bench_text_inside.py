"""Text page, inside the LSTM (issue 32): every gate for 2,000 characters, and the finder over
100,000 characters, with the bundled character model (assets/defaults/charlstm_shakespeare).

Gates: ours replays every layer over the text in NumPy and keeps i, f, g, o, c and h
(``core.text.gates.trace``). The reference is ``keras.layers.LSTM`` given the same weights, called
one character at a time with ``return_state`` and the previous state, reading h and c after each
(the way a learner would get per-step states out of Keras; the i, f, g, o gates it does not even
expose). With ``--quick`` the reference reads 200 characters and its time is scaled to 2,000.

Finder: the model reads 100,000 characters of Tiny Shakespeare and 10,000 held out (c and h of
every unit after each character, ``core.text.reading.read_passages``: both passages cut into
streams read side by side in a compiled TensorFlow function, each stream warmed up on the 100
characters before it, its products in bfloat16 where the CPU multiplies it natively) and every
unit is ranked for a pattern (inside quotes... here: words in capitals, the speakers' names) by
2·AUC − 1 from 256-level histograms (``core.text.finder.find_units``). The reference reads in
float32 and ranks with ``sklearn.metrics.roc_auc_score`` per unit (exact AUC). ``--quick`` reads
20,000 characters. A second row puts the bfloat16 reading beside the float32 one (time and how
many codes differ), a third the reading beside just its matrix products, the same shapes in one
compiled function: the floor for any reading with products in that precision on the machine.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks.bench_text import bundled_model
from benchmarks.harness import Result

GATE_CHARS = 2_000


def gates(quick: bool) -> list[Result]:
    import keras

    from core.data import load_corpus
    from core.text.gates import text_ids, trace

    model, which = bundled_model()
    text, ids, _ = text_ids(model.vocab, load_corpus("tinyshakespeare")[-50_000:][:GATE_CHARS])
    arrays = model.arrays()
    trace(arrays, ids[:50])  # warm-up
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        replay = trace(arrays, ids)
        runs.append(time.perf_counter() - started)
    ours = float(np.median(runs))

    layers = []
    for layer in range(model.layers):
        lstm = keras.layers.LSTM(model.units, return_state=True)
        lstm.build((1, 1, model.vocab_size if layer == 0 else model.units))
        lstm.set_weights([arrays[f"{name}_{layer}"] for name in ("kernel", "recurrent", "bias")])
        layers.append(lstm)
    reference_chars = 200 if quick else GATE_CHARS
    one_hot = np.eye(model.vocab_size, dtype=np.float32)
    states = [[np.zeros((1, model.units), np.float32)] * 2 for _ in layers]
    worst = 0.0
    started = time.perf_counter()
    for t, char_id in enumerate(ids[:reference_chars]):
        x = one_hot[char_id][None, None]
        for layer, lstm in enumerate(layers):
            _, h, c = lstm(x, initial_state=states[layer])
            states[layer] = [h, c]
            x = h.numpy()[:, None]
        worst = max(worst, float(np.abs(h.numpy()[0] - replay.signal(model.layers - 1, "h")[t]).max()))
    reference = (time.perf_counter() - started) * GATE_CHARS / reference_chars
    return [Result(f"gates for {GATE_CHARS:,} characters (every layer, i f g o c h)", ours, reference, "s",
                   "≤ 0.5 s", ours <= 0.5,
                   note=f"{which}, {model.layers}×{model.units}; median of 3; the Keras reference read "
                        f"{reference_chars:,} characters step by step (scaled to {GATE_CHARS:,}); largest "
                        f"difference in the last layer's h {worst:.1e}")]


def products_alone(model, streams: int, steps: int, precision: str) -> float:
    """Seconds for just the reading's matrix products, in one compiled function: per step and
    layer one (streams × inputs) · (inputs × 4·units) product in ``precision``, each fed by the one
    before (so none can be skipped) through a cheap tanh. What any reading of these characters with
    products in that precision must spend at least, on this machine."""
    import tensorflow as tf

    units, layers, arrays = model.units, model.layers, model.arrays()
    dtype = tf.bfloat16 if precision == "bfloat16" else tf.float32
    matrices = [tf.cast(np.asarray(arrays["recurrent_0"], np.float32), dtype)] + [
        tf.cast(tf.concat([arrays[f"kernel_{layer}"], arrays[f"recurrent_{layer}"]], axis=0), dtype)
        for layer in range(1, layers)]

    @tf.function
    def chunk(hs):
        hs = list(hs)
        for _ in range(50):
            for layer in range(layers):
                x = hs[0] if layer == 0 else tf.concat([hs[layer - 1], hs[layer]], axis=1)
                hs[layer] = tf.tanh(tf.matmul(x, matrices[layer])[:, :units])
        return hs

    hs = [tf.zeros((streams, units), dtype) for _ in range(layers)]
    chunk(hs)  # compiles
    started = time.perf_counter()
    for _ in range(-(-steps // 50)):
        hs = chunk(hs)
    np.asarray(hs[-1])
    return time.perf_counter() - started


def finder(quick: bool) -> list[Result]:
    from sklearn.metrics import roc_auc_score

    from core.data import load_corpus
    from core.text.finder import PATTERNS, find_units, pattern_source, regex_mask, separation, totals_of
    from core.text.gates import text_ids
    from core.text.reading import WARMUP, part_length, products_precision, read_passages

    model, which = bundled_model()
    chars = 20_000 if quick else 100_000
    corpus = load_corpus("tinyshakespeare")
    text, ids, _ = text_ids(model.vocab, corpus[:chars])
    held, held_ids, _ = text_ids(model.vocab, corpus[-10_000:])
    precision = products_precision()
    passages = [(ids, None), (held_ids, None)]

    def timed_read(precision: str):
        read_passages(model, [(ids[:2_000], None)], precision=precision)  # compiles (once per model in the app)
        started = time.perf_counter()
        (c, _), (held_c, _) = read_passages(model, passages, precision=precision)
        return c, held_c, time.perf_counter() - started

    exact_c, _, exact_read = timed_read("float32")
    c, held_c, read = timed_read(precision)
    source, words = pattern_source("capitals")
    started = time.perf_counter()
    finding = find_units(text, c, held, held_c, model.units, source, words, top=10, totals=totals_of(c))
    ranked = time.perf_counter() - started

    length = part_length([len(ids), len(held_ids)])
    streams = -(-len(ids) // length) + -(-len(held_ids) // length)
    steps = WARMUP + length
    floor = products_alone(model, streams, steps, precision)
    flops = 2 * streams * steps * 4 * model.units * sum(
        model.units * (1 if layer == 0 else 2) for layer in range(model.layers))

    mask = regex_mask(text, PATTERNS["capitals"][1])
    started = time.perf_counter()
    exact = np.array([2 * roc_auc_score(mask, exact_c.codes[:, column]) - 1
                      for column in range(exact_c.codes.shape[1])])
    reference_rank = time.perf_counter() - started
    ours_scores = separation(c, mask)
    agree = len(set(np.argsort(-np.abs(exact))[:10]) & {r.column for r in finding.ranked})
    best = finding.ranked[0]
    moved = np.abs(c.codes.astype(np.int16) - exact_c.codes)
    rows = [Result(f"finder over {chars:,} characters (read + rank every unit)", read + ranked,
                   exact_read + reference_rank, "s", "≤ 5 s", read + ranked <= 5.0,
                   note=f"{which}; reading {read:.2f} s with products in {precision} (the reference: float32, "
                        f"{exact_read:.2f} s), ranking ours {ranked:.2f} s against roc_auc_score per unit "
                        f"{reference_rank:.2f} s; same top-10 units as the reference: {agree}/10, largest score "
                        f"difference {np.abs(ours_scores - exact).max():.1e}; best unit for {words}: "
                        f"layer {best.layer + 1} unit {best.unit}, {best.score:+.2f} (held out "
                        f"{best.held_out if best.held_out is None else round(best.held_out, 2)}), chance line "
                        f"{finding.chance:.2f}")]
    if precision != "float32":
        rows.append(Result(f"finder: its reading with products in {precision} against float32", read, exact_read,
                           "s", "reported: what the rounding buys and costs", None,
                           note=f"{(moved > 0).mean():.1%} of the one-byte codes differ, by at most {moved.max()} "
                                f"levels of 256; the ranking above is compared with the float32 one"))
    rows.append(Result("finder: its reading against the same matrix products alone", read, floor, "s",
                       f"reported: the floor for a reading with products in {precision} here", None,
                       note=f"{streams} streams × {steps} steps, {layers_words(model)}: {flops / 1e12:.2f} TFLOP, "
                            f"which the products alone ran at {flops / floor / 1e9:.0f} GFLOP/s"))
    return rows


def layers_words(model) -> str:
    return f"{model.layers} layers of {model.units} units"


def run(quick: bool) -> list[Result]:
    return gates(quick) + finder(quick)
