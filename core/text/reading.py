"""The model reading a long passage: every layer's cell c and hidden h at every character, for the
finder (:mod:`core.text.finder`). One character after another would take a NumPy step each; here
the passage is cut into streams read side by side in a compiled TensorFlow function, each stream
starting ``warmup`` characters early (and forgetting those), so that it does not start cold.

The values are kept as one byte each (:class:`Quantized`): h in 256 even steps over (−1, 1), and
the cell c through tanh(c/2) the same way (finer near 0, coarser where |c| is large). Ranking by
how well a unit separates two sets of characters depends only on the order of its values, which
a rising function keeps.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

import numpy as np

from core.errors import BadInput

LEVELS = 256


def encode(values: np.ndarray, signal: str) -> np.ndarray:
    squashed = np.tanh(values / 2.0) if signal == "c" else values
    return np.rint((np.clip(squashed, -1.0, 1.0) + 1.0) * (LEVELS - 1) / 2.0).astype(np.uint8)


def decode(codes: np.ndarray, signal: str) -> np.ndarray:
    squashed = codes.astype(np.float32) * (2.0 / (LEVELS - 1)) - 1.0
    if signal == "c":
        return 2.0 * np.arctanh(np.clip(squashed, -0.999, 0.999))
    return squashed


@dataclass
class Quantized:
    """``codes`` (characters, layers · units) uint8 of one signal, column ``layer · units + unit``."""

    codes: np.ndarray
    signal: str

    def values(self, columns, rows: slice = slice(None)) -> np.ndarray:
        return decode(self.codes[rows][:, np.asarray(columns)], self.signal)


PRECISIONS = ("float32", "bfloat16")


def products_precision() -> str:
    """What the reading's matrix products take their inputs in: "bfloat16" where the CPU multiplies
    bfloat16 natively (x86's AVX512-BF16 or AMX; elsewhere TensorFlow emulates it, slower than
    float32), else "float32". bfloat16 keeps 8 significant bits of h, of the weights and of each
    product (summed in float32, then rounded): a few percent of the codes then differ from a
    float32 reading by a level or two, and the best units rank the same (tests/test_finder.py).
    ``DLP_READING_PRECISION`` sets it."""
    forced = os.environ.get("DLP_READING_PRECISION", "")
    if forced:
        if forced not in PRECISIONS:
            raise ValueError(f"DLP_READING_PRECISION must be one of {', '.join(PRECISIONS)}, not {forced!r}")
        return forced
    return "bfloat16" if _cpu_multiplies_bfloat16() else "float32"


@functools.cache
def _cpu_multiplies_bfloat16() -> bool:
    try:
        with open("/proc/cpuinfo") as info:
            flags = info.read()
    except OSError:
        return False
    return re.search(r"\b(avx512_bf16|amx_bf16)\b", flags) is not None


def _chunk_fn(model, chunk: int, precision: str):
    """A compiled function: (ids (streams, chunk), live (streams, chunk), states (layers, 2, streams,
    units)) -> (codes of c and of h, each (streams, chunk, layers · units) uint8, final states).
    Where ``live`` is 0 the cell is set back to zero after the step: padding read before a
    stream's start leaves it exactly at zero state. The streams are a dimension of any size, so one
    trace serves every passage. Each step's products run in ``precision``; everything after them
    (the gates, the cell, the one-byte codes) is one fused XLA function in float32."""
    import tensorflow as tf

    cache = model.__dict__.setdefault("_read_fns", {})
    if (chunk, precision) in cache:
        return cache[chunk, precision]
    layers, weights = model.layers, model.weights
    dtype = tf.bfloat16 if precision == "bfloat16" else tf.float32

    def encoded(values, signal):  # as :func:`encode`; tanh keeps it within (−1, 1) already
        squashed = tf.tanh(values * 0.5) if signal == "c" else values
        return tf.cast(tf.round((squashed + 1.0) * ((LEVELS - 1) / 2.0)), tf.uint8)

    @tf.function(jit_compile=True)
    def cell(product, added, c, keep):
        i, f, g, o = tf.split(tf.cast(product, tf.float32) + added, 4, axis=-1)
        c = (tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)) * keep
        h = tf.sigmoid(o) * tf.tanh(c)
        return c, h, tf.cast(h, dtype), encoded(c, "c"), encoded(h, "h")

    def read(ids, live, states):
        # Layer l > 0 reads [h of layer l − 1, its own h] times [W; U] in one product per step.
        stacked = [tf.cast(tf.concat([weights[f"kernel_{layer}"], weights[f"recurrent_{layer}"]], axis=0), dtype)
                   for layer in range(1, layers)]
        recurrent = tf.cast(weights["recurrent_0"], dtype)
        first = weights["kernel_0"] + weights["bias_0"]  # one-hot x · W + b is a row of it
        hs = [states[layer, 0] for layer in range(layers)]
        cs = [states[layer, 1] for layer in range(layers)]
        multiplied = [tf.cast(h, dtype) for h in hs]
        codes = {"c": [[] for _ in range(layers)], "h": [[] for _ in range(layers)]}
        for t in range(chunk):
            keep = live[:, t:t + 1]
            for layer in range(layers):
                if layer == 0:
                    product, added = tf.matmul(multiplied[0], recurrent), tf.gather(first, ids[:, t])
                else:
                    product = tf.matmul(tf.concat([multiplied[layer - 1], multiplied[layer]], axis=1),
                                        stacked[layer - 1])
                    added = weights[f"bias_{layer}"]
                cs[layer], hs[layer], multiplied[layer], c_codes, h_codes = cell(product, added, cs[layer], keep)
                codes["c"][layer].append(c_codes)
                codes["h"][layer].append(h_codes)
        kept = [tf.concat([tf.stack(steps, axis=1) for steps in codes[name]], axis=-1) for name in ("c", "h")]
        return kept[0], kept[1], tf.stack([tf.stack([hs[layer], cs[layer]]) for layer in range(layers)])

    spec = [tf.TensorSpec((None, chunk), tf.int32), tf.TensorSpec((None, chunk), tf.float32),
            tf.TensorSpec((layers, 2, None, model.units), tf.float32)]
    cache[chunk, precision] = tf.function(read, input_signature=spec)
    return cache[chunk, precision]


#: At most this many streams are read side by side: each step of the read is then one (streams ×
#: units) · (units × 4·units) product, big enough to run near the CPU's peak (32 streams ran at
#: under half of it), and no stream is cut shorter than ``MIN_PART`` warm-ups (what the warm-up
#: costs stays under a sixth).
STREAMS = 128
MIN_PART = 6
#: Characters each stream reads before its own part, from the text before it (and then forgets):
#: with 100, the trained 2×512 model ranks the same units as when read in one go (tests/test_finder.py).
WARMUP = 100
CHUNK = 50


def part_length(lengths: list[int], streams: int | None = None, chunk: int = CHUNK, warmup: int = WARMUP) -> int:
    """How many of its own characters each stream reads, for passages of ``lengths`` (see
    :func:`read_passages`): a passage of n characters takes ceil(n / part_length) streams, each
    reading ``warmup`` + part_length characters."""
    total_chars = sum(lengths)
    if streams is None:
        streams = min(STREAMS, total_chars // (MIN_PART * max(1, warmup)))
    length = -(-total_chars // max(1, int(streams)))
    return length + (-(warmup + length) % chunk)  # no step is padding: fewer streams instead


def read_passages(model, passages: list[tuple[np.ndarray, np.ndarray | None]], streams: int | None = None,
                  chunk: int = CHUNK, warmup: int = WARMUP,
                  precision: str | None = None) -> list[tuple[Quantized, Quantized]]:
    """(c, h) after each character of each passage (ids, context): all passages are cut into parts
    of one length and read side by side, ``streams`` parts at a time. Each part first reads the
    ``warmup`` characters before it; a passage's first part warms up on its ``context`` (the text
    before it) or, without one, starts from zero state at the passage's start, as a reading in one
    go does. ``streams`` None: up to :data:`STREAMS`, none shorter than ``MIN_PART`` warm-ups.
    ``precision`` None: :func:`products_precision`."""
    import tensorflow as tf

    passages = [(np.asarray(ids, np.int32), None if context is None else np.asarray(context, np.int32))
                for ids, context in passages]
    if any(len(ids) < 2 for ids, _ in passages):
        raise BadInput("The passage is too short to read.")
    length = part_length([len(ids) for ids, _ in passages], streams, chunk, warmup)
    plan = []  # per passage: (first stream, streams)
    rows, lives = [], []
    for ids, context in passages:
        count = -(-len(ids) // length)
        before = context[-warmup:] if context is not None and warmup else np.zeros(0, np.int32)
        full = np.concatenate([before, ids, np.zeros(count * length - len(ids), np.int32)])
        plan.append((len(rows), count))
        for k in range(count):
            start = len(before) + k * length  # where stream k's own characters begin in ``full``
            lead = min(warmup, start)
            row = np.zeros(warmup + length, np.int32)
            row[warmup - lead:] = full[start - lead:start + length]
            live = np.zeros(warmup + length, np.float32)
            live[warmup - lead:] = 1.0
            rows.append(row)
            lives.append(live)
    columns = warmup + length
    rows, lives = np.stack(rows), np.stack(lives)
    fn = _chunk_fn(model, chunk, precision or products_precision())
    width = model.layers * model.units
    states = tf.zeros((model.layers, 2, len(rows), model.units))
    codes = {name: np.empty((len(rows), length, width), np.uint8) for name in ("c", "h")}
    for begin in range(0, columns, chunk):
        c, h, states = fn(tf.constant(rows[:, begin:begin + chunk]), tf.constant(lives[:, begin:begin + chunk]),
                          states)
        kept = slice(max(begin, warmup), min(begin + chunk, warmup + length))  # columns of the streams' own parts
        if kept.start < kept.stop:
            own = slice(kept.start - warmup, kept.stop - warmup)
            inside = slice(kept.start - begin, kept.stop - begin)
            codes["c"][:, own] = c.numpy()[:, inside]
            codes["h"][:, own] = h.numpy()[:, inside]
    return [tuple(Quantized(codes[name][first:first + count].reshape(-1, width)[:len(ids)], name)
                  for name in ("c", "h")) for (first, count), (ids, _) in zip(plan, passages)]


def read_passage(model, ids: np.ndarray, context: np.ndarray | None = None, streams: int | None = None,
                 chunk: int = CHUNK, warmup: int = WARMUP, precision: str | None = None) -> tuple[Quantized, Quantized]:
    """(c, h) after each character of one passage (see :func:`read_passages`)."""
    return read_passages(model, [(ids, context)], streams, chunk, warmup, precision)[0]
