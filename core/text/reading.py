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


def _chunk_fn(model):
    """A compiled function: (ids (streams, time), live (streams, time), states (layers, 2, streams,
    units)) -> (c and h of every layer (layers, 2, streams, time, units), final states). Where
    ``live`` is 0 the state is set back to zero after the step: padding read before a stream's
    start leaves it exactly at zero state."""
    import tensorflow as tf

    if getattr(model, "_read_fn", None) is not None:
        return model._read_fn
    layers, weights = model.layers, model.weights

    def read(ids, live, states):
        inputs = tf.gather(weights["kernel_0"], tf.transpose(ids))  # (time, streams, 4·units)
        steps = ids.shape[1]
        kept, final = [], []
        for layer in range(layers):
            h, c = states[layer, 0], states[layer, 1]
            projected = tf.unstack(inputs + weights[f"bias_{layer}"], num=steps)
            hs, cs = [], []
            for t in range(steps):
                z = projected[t] + tf.matmul(h, weights[f"recurrent_{layer}"])
                i, f, g, o = tf.split(z, 4, axis=-1)
                keep = live[:, t:t + 1]
                c = (tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)) * keep
                h = tf.sigmoid(o) * tf.tanh(c)
                hs.append(h)
                cs.append(c)
            final.append(tf.stack([h, c]))
            h_seq = tf.stack(hs, axis=1)  # (streams, time, units)
            kept.append(tf.stack([tf.stack(cs, axis=1), h_seq]))
            if layer + 1 < layers:
                inputs = tf.einsum("sth,hk->tsk", h_seq, weights[f"kernel_{layer + 1}"])
        return tf.stack(kept), tf.stack(final)

    model._read_fn = tf.function(read)
    return model._read_fn


def read_passage(model, ids: np.ndarray, context: np.ndarray | None = None, streams: int = 32,
                 chunk: int = 100, warmup: int = 100) -> tuple[Quantized, Quantized]:
    """(c, h) after each character of ``ids``. Stream k keeps characters [k·n, (k+1)·n) and first
    reads the ``warmup`` characters before them; the first stream warms up on ``context`` (the
    text before the passage) or, without it, starts from zero state at the passage's start."""
    import tensorflow as tf

    ids = np.asarray(ids, np.int32)
    if len(ids) < 2:
        raise BadInput("The passage is too short to read.")
    streams = max(1, min(int(streams), len(ids) // 2))
    length = -(-len(ids) // streams)  # characters kept per stream (the last one padded)
    before = np.asarray(context, np.int32)[-warmup:] if context is not None and len(context) else np.zeros(0, np.int32)
    full = np.concatenate([before, ids, np.zeros(streams * length - len(ids), np.int32)])
    total = warmup + length
    rows = np.zeros((streams, total + (-total % chunk)), np.int32)
    live = np.zeros(rows.shape, np.float32)
    for k in range(streams):
        start = len(before) + k * length  # where stream k's own characters begin in ``full``
        lead = min(warmup, start)
        rows[k, warmup - lead:total] = full[start - lead:start + length]
        live[k, warmup - lead:] = 1.0
    fn = _chunk_fn(model)
    states = tf.zeros((model.layers, 2, streams, model.units))
    width = model.layers * model.units
    codes = {name: np.empty((streams, rows.shape[1], width), np.uint8) for name in ("c", "h")}
    for begin in range(0, rows.shape[1], chunk):
        kept, states = fn(tf.constant(rows[:, begin:begin + chunk]), tf.constant(live[:, begin:begin + chunk]),
                          states)
        kept = kept.numpy()  # (layers, 2, streams, time, units)
        for layer in range(model.layers):
            columns = slice(layer * model.units, (layer + 1) * model.units)
            for index, name in enumerate(("c", "h")):
                codes[name][:, begin:begin + chunk, columns] = encode(kept[layer, index], name)
    return tuple(Quantized(codes[name][:, warmup:total].reshape(-1, width)[:len(ids)].copy(), name)
                 for name in ("c", "h"))
