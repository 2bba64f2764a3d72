"""Every gate of every unit, at every character: the LSTM cell of :mod:`core.text.lstm` replayed
over a text in NumPy, keeping what the training graph throws away.

For each layer and each character t (the cell reads x_t with the previous state h, c):

    z = x_t·W + h·U + b          split into the blocks i, f, g, o (Keras' order)
    i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
    c = f·c + i·g                h = o·tanh(c)

The text is cut into blocks of characters; each layer runs in its own thread, one block behind
the layer below it, so the next layer's x·W for a block is one matrix product and only h·U is
left inside the loop over characters. With a second core free, the layers of a stacked model
run side by side (NumPy lets go of the GIL inside the products); the numbers are the same.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from core.errors import BadInput
from core.text.lstm import one_blas_thread

#: What :func:`trace` returns per layer, in this order.
SIGNALS = ("i", "f", "g", "o", "c", "h")
NAMES = {"i": "input gate", "f": "forget gate", "g": "candidate", "o": "output gate", "c": "cell", "h": "hidden"}
#: The fixed colour scale of each signal: gates are in (0, 1), g and h in (−1, 1); the cell is
#: unbounded (|c| grows by at most 1 per character), shown clipped to ±3.
RANGES = {"i": (0.0, 1.0), "f": (0.0, 1.0), "o": (0.0, 1.0), "g": (-1.0, 1.0), "h": (-1.0, 1.0), "c": (-3.0, 3.0)}
#: The longest text replayed at once.
MAX_CHARS = 20_000


@dataclass
class Trace:
    """``values[layer]`` is (6, characters, units): i, f, g, o, c, h after reading each character."""

    text: str
    values: list[np.ndarray]

    @property
    def layers(self) -> int:
        return len(self.values)

    @property
    def units(self) -> int:
        return self.values[0].shape[2]

    def signal(self, layer: int, name: str) -> np.ndarray:
        """(characters, units) of one signal of one layer."""
        return self.values[layer][SIGNALS.index(name)]


def layer_count(arrays: dict[str, np.ndarray]) -> int:
    return sum(1 for name in arrays if name.startswith("recurrent_"))


def trace(arrays: dict[str, np.ndarray], ids: np.ndarray, text: str = "",
          state: tuple[np.ndarray, np.ndarray] | None = None) -> Trace:
    """Replay every layer over the character ids, from zero state (or ``state``: (layers, units)
    h and c), and keep every gate. ``arrays`` are the model's weights (:meth:`LSTMStack.arrays`)."""
    with one_blas_thread():
        return _trace(arrays, ids, text, state)


#: Characters per block: layer l + 1 reads a block as soon as layer l has written it.
BLOCK = 128


def _trace(arrays: dict[str, np.ndarray], ids: np.ndarray, text: str,
           state: tuple[np.ndarray, np.ndarray] | None) -> Trace:
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1 or not len(ids):
        raise BadInput("There is no text to run the model over.")
    if len(ids) > MAX_CHARS:
        raise BadInput(f"The text has {len(ids):,} characters; the gates are shown for at most {MAX_CHARS:,}.")
    layers = layer_count(arrays)
    units = arrays["recurrent_0"].shape[0]
    values = [np.empty((6, len(ids), units), np.float32) for _ in range(layers)]
    blocks = [slice(start, min(start + BLOCK, len(ids))) for start in range(0, len(ids), BLOCK)]
    written = [[threading.Event() for _ in blocks] for _ in range(layers)]
    failed: list[BaseException] = []

    def run(layer: int) -> None:
        try:
            recurrent = np.ascontiguousarray(arrays[f"recurrent_{layer}"], np.float32)
            h = np.zeros(units, np.float32) if state is None else state[0][layer].astype(np.float32)
            c = np.zeros(units, np.float32) if state is None else state[1][layer].astype(np.float32)
            for k, block in enumerate(blocks):
                if layer == 0:
                    z_in = arrays["kernel_0"][ids[block]] + arrays["bias_0"]  # one-hot x · W is a row of W
                else:
                    written[layer - 1][k].wait()
                    if failed:
                        return
                    z_in = values[layer - 1][5, block] @ arrays[f"kernel_{layer}"] + arrays[f"bias_{layer}"]
                h, c = _replay(np.ascontiguousarray(z_in, np.float32), recurrent, h, c, values[layer][:, block])
                written[layer][k].set()
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            failed.append(error)
            for event in written[layer]:
                event.set()

    threads = [threading.Thread(target=run, args=(layer,), name=f"gates-layer-{layer}") for layer in range(1, layers)]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
    return Trace(text, values)


def _replay(z_in: np.ndarray, recurrent: np.ndarray, h: np.ndarray, c: np.ndarray,
            out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The loop over characters of one layer, writing i, f, g, o, c, h into ``out`` (6, characters,
    units), from state (h, c); returns the last state. Each step is one matrix-vector product and
    a few NumPy calls into preallocated arrays: σ(x) = ½ + ½·tanh(x/2), so one tanh over the scaled
    z gives all four blocks (g unscaled)."""
    units = recurrent.shape[0]
    scale = np.full(4 * units, 0.5, np.float32)
    scale[2 * units:3 * units] = 1.0  # g = tanh(z_g)
    shift = scale.copy()  # ½ for i, f, o; 0 for g
    shift[2 * units:3 * units] = 0.0
    z = np.empty(4 * units, np.float32)
    blocks = z.reshape(4, units)
    i, f, g, o = blocks
    gates = out[:4]
    product = np.empty(units, np.float32)
    dot, add, multiply, tanh, copyto = np.dot, np.add, np.multiply, np.tanh, np.copyto
    for t in range(z_in.shape[0]):
        dot(h, recurrent, out=z)
        add(z, z_in[t], out=z)
        multiply(z, scale, out=z)
        tanh(z, out=z)
        multiply(z, scale, out=z)
        add(z, shift, out=z)
        copyto(gates[:, t], blocks)
        c_t, h_t = out[4, t], out[5, t]
        multiply(f, c, out=c_t)
        multiply(i, g, out=product)
        add(c_t, product, out=c_t)
        tanh(c_t, out=h_t)
        multiply(h_t, o, out=h_t)
        h, c = h_t, c_t
    return h, c


def text_ids(vocab: list[str], text: str) -> tuple[str, np.ndarray, list[str]]:
    """(the characters the model knows, their ids, the characters left out)."""
    index = {ch: i for i, ch in enumerate(vocab)}
    kept = [ch for ch in text if ch in index]
    skipped = sorted({ch for ch in text if ch not in index})
    return "".join(kept), np.array([index[ch] for ch in kept], dtype=np.int64), skipped
