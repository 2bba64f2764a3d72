"""The LSTM cell written out, shared by the character model (:mod:`core.text.charlstm`) and the series
model (:mod:`core.text.sequences`).

For input x and previous state (h, c):

    z = x·W + h·U + b,  split into four blocks in Keras' order i, f, g, o
    i = σ(z_i)  f = σ(z_f)  g = tanh(z_g)  o = σ(z_o)
    c' = f·c + i·g          h' = o·tanh(c')

(the 2017 stream used a sigmoid candidate g; tanh is the standard choice and the one Keras uses).
Both models stack this cell in layers under a linear readout (:class:`LSTMStack`). Training unrolls
the window in TensorFlow; running one step at a time (sampling, forecasting) uses the same cell in
NumPy on a snapshot of the weights (:func:`numpy_step`), because a TensorFlow call spends far longer
dispatching than the few small matrix products of one step take.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from core.adam import Adam
from core.errors import BadInput

#: Gradients are clipped to this global norm: an occasional steep step does not undo the training.
CLIP_NORM = 5.0


def lstm_cell(z, c):
    """One LSTM step in TensorFlow from the pre-activations z = x·W + h·U + b (blocks i, f, g, o)."""
    import tensorflow as tf

    i, f, g, o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    h = tf.sigmoid(o) * tf.tanh(c)
    return h, c


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow for large -x


def rows_times(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """x·matrix for a batch of a few rows. OpenBLAS's matrix-matrix product packs the whole matrix
    first, which for 2–4 rows takes several times longer than one matrix-vector product per row."""
    if 1 < len(x) <= 4:
        return np.stack([row @ matrix for row in x])
    return x @ matrix


_blas = threading.Lock()
_blas_users = 0
_blas_limiter = None


def _blas_controller():
    """A fresh look at the loaded libraries (~7 ms, once per outermost block): one made earlier
    misses a BLAS loaded since, e.g. SciPy's own OpenBLAS once UMAP or scikit-learn is imported."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """NumPy's BLAS on one thread while the block runs (nested and concurrent blocks share it).
    A step's matrix-vector products are too small to split, and a second BLAS thread waiting for
    a core that a training is using slows them down ten-fold or more."""
    global _blas_users, _blas_limiter
    with _blas:
        if _blas_users == 0:
            _blas_limiter = _blas_controller().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def numpy_step(arrays: dict[str, np.ndarray], x: np.ndarray, h: np.ndarray, c: np.ndarray):
    """One step of every layer for a batch, in NumPy: (readout, h, c), states (layers, batch, units).

    ``arrays`` is a snapshot of :meth:`LSTMStack.arrays`; ``x`` the first layer's input already times
    its kernel, ``x·W₀`` (batch, 4·units): for one-hot characters that is a row of W₀.
    """
    new_h, new_c = [], []
    for layer in range(h.shape[0]):
        if layer:
            x = rows_times(new_h[-1], arrays[f"kernel_{layer}"])
        i, f, g, o = np.split(x + rows_times(h[layer], arrays[f"recurrent_{layer}"]) + arrays[f"bias_{layer}"], 4,
                              axis=-1)
        cell = _sigmoid(f) * c[layer] + _sigmoid(i) * np.tanh(g)
        new_c.append(cell)
        new_h.append(_sigmoid(o) * np.tanh(cell))
    readout = rows_times(new_h[-1], arrays["output_kernel"]) + arrays["output_bias"]
    return readout, np.stack(new_h), np.stack(new_c)


def windows(sequence: np.ndarray, starts: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs sequence[s:s+window] and next-step targets sequence[s+1:s+window+1] for each start s."""
    offsets = starts[:, None] + np.arange(window)[None, :]
    return sequence[offsets], sequence[offsets + 1]


def array_names(layers: int) -> list[str]:
    names = []
    for layer in range(layers):
        names += [f"kernel_{layer}", f"recurrent_{layer}", f"bias_{layer}"]
    return names + ["output_kernel", "output_bias"]


def initial_arrays(inputs: int, units: int, layers: int, outputs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels, orthogonal recurrent blocks, forget-gate biases 1 (as Keras' LSTM)."""
    rng = np.random.default_rng(seed)
    H = units
    arrays = {}
    for layer in range(layers):
        fan_in = inputs if layer == 0 else H
        limit = np.sqrt(6.0 / (fan_in + 4 * H))
        arrays[f"kernel_{layer}"] = rng.uniform(-limit, limit, (fan_in, 4 * H))
        # Orthogonal recurrent blocks keep the state's scale steady across the window.
        arrays[f"recurrent_{layer}"] = np.concatenate([np.linalg.qr(rng.normal(size=(H, H)))[0] for _ in range(4)],
                                                      axis=1)
        bias = np.zeros(4 * H)
        bias[H:2 * H] = 1.0  # forget gate open at the start, as in Keras' unit_forget_bias
        arrays[f"bias_{layer}"] = bias
    limit = np.sqrt(6.0 / (H + outputs))
    arrays["output_kernel"] = rng.uniform(-limit, limit, (H, outputs))
    arrays["output_bias"] = np.zeros(outputs)
    return {k: v.astype(np.float32) for k, v in arrays.items()}


class LSTMStack:
    """Stacked LSTM layers and a linear readout as tf.Variables, trained with clipped Adam.

    A subclass says how its inputs enter (:meth:`unroll` takes them already times W₀), sets
    ``data_type`` (of its inputs and targets) and defines ``_mean_loss(x, y)``.
    """

    data_type = "float32"

    def __init__(self, inputs: int, units: int, layers: int, outputs: int, seed: int = 0,
                 arrays: dict[str, np.ndarray] | None = None, dropout: float = 0.0) -> None:
        import tensorflow as tf

        self.units = int(units)
        self.layers = int(layers)
        #: While training, each layer's outputs (into the next layer, or the readout) are dropped
        #: with this probability; the recurrent connections never are (Zaremba et al., 2014).
        self.dropout = float(dropout)
        arrays = arrays if arrays is not None else initial_arrays(inputs, self.units, self.layers, outputs, seed)
        missing = [name for name in self.array_names() if name not in arrays]
        if missing:
            raise BadInput(f"The saved model is missing weights: {', '.join(missing)}.")
        self.weights = {name: tf.Variable(np.asarray(arrays[name], dtype=np.float32), name=name)
                        for name in self.array_names()}
        self._optimizer: Adam | None = None
        self._train_fn = None

    def array_names(self) -> list[str]:
        return array_names(self.layers)

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: var.numpy() for name, var in self.weights.items()}

    @property
    def variables(self) -> list:
        return [self.weights[name] for name in self.array_names()]

    def count_params(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.weights.values()))

    def zero_state(self, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
        shape = (self.layers, batch, self.units)
        return np.zeros(shape, np.float32), np.zeros(shape, np.float32)

    def unroll(self, inputs, states=None, dropout_seed=None):
        """Run every layer over a window; ``inputs`` is (time, batch, 4·units), each step's x·W₀,
        with a static time length; ``states`` the [(h, c)] of every layer to start from (zeros if
        None). Returns the last layer's hidden states (batch, time, units) and the final [(h, c)]
        of every layer. Given ``dropout_seed`` (a training step's seed pair), each layer's outputs
        are dropped at rate :attr:`dropout`, the same way for the same seed."""
        import tensorflow as tf

        steps = inputs.shape[0]
        batch = tf.shape(inputs)[1]
        final = []
        for layer in range(self.layers):
            if states is None:
                h = c = tf.zeros((batch, self.units))
            else:
                h, c = states[layer]
            recurrent = self.weights[f"recurrent_{layer}"]
            # Time-major, so each step reads one contiguous slice; the bias is added once, outside the loop.
            projected = tf.unstack(inputs + self.weights[f"bias_{layer}"], num=steps)
            outputs = []
            for t in range(steps):
                h, c = lstm_cell(projected[t] + tf.matmul(h, recurrent), c)
                outputs.append(h)
            final.append((h, c))
            sequence = tf.stack(outputs)
            if dropout_seed is not None and self.dropout > 0:
                layer_seed = tf.random.experimental.stateless_fold_in(dropout_seed, layer)
                sequence = tf.nn.experimental.stateless_dropout(sequence, self.dropout, seed=layer_seed)
            if layer + 1 < self.layers:
                inputs = tf.einsum("tbh,hk->tbk", sequence, self.weights[f"kernel_{layer + 1}"])
        return tf.transpose(sequence, [1, 0, 2]), final

    def readout(self, sequence):
        """The linear output layer at every step: (batch, time, units) -> (batch, time, outputs)."""
        import tensorflow as tf

        return tf.einsum("bth,ho->bto", sequence, self.weights["output_kernel"]) + self.weights["output_bias"]

    def _mean_loss(self, x, y):
        raise NotImplementedError

    def _loss_and_states(self, x, y, states, dropout_seed):
        """The training loss of one batch and the final states; a subclass that carries the state
        from one window to the next, or uses dropout, overrides it."""
        return self._mean_loss(x, y), states

    def _adam_step(self, x, y, learning_rate, states, dropout_seed):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss, final = self._loss_and_states(x, y, states, dropout_seed)
        self._optimizer.apply(tape.gradient(loss, self.variables), learning_rate)
        return loss, final

    def train_step(self, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
        """One clipped Adam step on a batch of windows, each from zero state; returns the batch
        loss before the step."""
        return self.train_window(x, y, learning_rate)[0]

    def train_window(self, x: np.ndarray, y: np.ndarray, learning_rate: float, states: np.ndarray | None = None,
                     seed: int = 0) -> tuple[float, np.ndarray]:
        """One clipped Adam step on a batch of windows starting from ``states`` (layers, 2, batch,
        units; zeros if None); ``seed`` picks the dropout mask. Returns the batch loss before the
        step and the final states, to carry into the batch's next windows."""
        import tensorflow as tf

        if self._train_fn is None:
            self._optimizer = Adam(self.variables, clip_norm=CLIP_NORM)
            self._train_fn = tf.function(self._adam_step)
        if states is None:
            states = np.zeros((self.layers, 2, len(x), self.units), np.float32)
        loss, final = self._train_fn(tf.constant(x, self.data_type), tf.constant(y, self.data_type),
                                     tf.constant(learning_rate, tf.float32), tf.constant(states, tf.float32),
                                     tf.constant([int(seed), 0], tf.int64))
        return float(loss), final.numpy()
