"""A character-level LSTM written from scratch with tf.Variables (the cell: :mod:`core.text.lstm`).

Characters enter as one-hot vectors, so ``x·W`` is a row lookup in W. The window is unrolled in a
compiled ``tf.function`` and a softmax layer predicts the next character at every time step.
Training is in :mod:`core.text.char_training`, sampling in :mod:`core.text.sampling`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.embeddings.probes import save_probes
from core.errors import BadInput
from core.text.lstm import LSTMStack

#: Streams of held-out text are at least this long (their first characters are read without context).
MIN_STREAM = 100


class CharLSTM(LSTMStack):
    """Weights (tf.Variables), vocabulary and compiled functions of one model."""

    data_type = "int32"

    def __init__(self, vocab: list[str], units: int, layers: int = 1, seed: int = 0,
                 arrays: dict[str, np.ndarray] | None = None, dropout: float = 0.0,
                 storage: str = "float32") -> None:
        self.vocab = list(vocab)
        self.index = {char: i for i, char in enumerate(self.vocab)}
        super().__init__(len(self.vocab), units, layers, len(self.vocab), seed, arrays, dropout)
        #: How :func:`save_model` writes the weights: "float16" halves the file (they are read
        #: back as float32; the training record says how much that moves the held-out loss).
        self.storage = storage
        self._loss_fn = None
        self._hidden_fn = None
        self._chunk_fn = None

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.index[c] for c in text if c in self.index], dtype=np.int32)

    def unroll_ids(self, ids, states=None, dropout_seed=None):
        """A (batch, time) tensor of ids through every layer (see :meth:`LSTMStack.unroll`)."""
        import tensorflow as tf

        # One-hot input times W is a row lookup, done for every step at once, time-major.
        return self.unroll(tf.gather(self.weights["kernel_0"], tf.transpose(ids)), states, dropout_seed)

    def _mean_loss(self, x, y):
        import tensorflow as tf

        logits = self.readout(self.unroll_ids(x)[0])
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    def _loss_and_states(self, x, y, states, dropout_seed):
        import tensorflow as tf

        start = [(states[layer, 0], states[layer, 1]) for layer in range(self.layers)]
        sequence, final = self.unroll_ids(x, start, dropout_seed)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=self.readout(sequence)))
        return loss, tf.stack([tf.stack(pair) for pair in final])

    def hidden_states(self, ids: np.ndarray) -> np.ndarray:
        """Last layer's hidden state at every step, from zero state (for tests and plots)."""
        import tensorflow as tf

        if self._hidden_fn is None:
            self._hidden_fn = tf.function(lambda x: self.unroll_ids(x)[0])
        return self._hidden_fn(tf.constant(ids, dtype=tf.int32)).numpy()

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        import tensorflow as tf

        if self._loss_fn is None:
            self._loss_fn = tf.function(self._mean_loss)
        return float(self._loss_fn(tf.constant(x, tf.int32), tf.constant(y, tf.int32)))

    def _chunk_loss(self, x, y, mask, states):
        import tensorflow as tf

        start = [(states[layer, 0], states[layer, 1]) for layer in range(self.layers)]
        sequence, final = self.unroll_ids(x, start)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=self.readout(sequence))
        return tf.reduce_sum(losses * mask), tf.stack([tf.stack(pair) for pair in final])

    def stream_loss(self, ids: np.ndarray, streams: int = 64, chunk: int = 100) -> tuple[float, int]:
        """Mean cross-entropy (nats) of predicting every next character of ``ids``, and how many
        characters that is. The text is cut into ``streams`` contiguous parts read side by side,
        each from zero state and carrying its state to the end (as sampling does): only the first
        characters of each part are predicted without context. Up to ``streams - 1`` characters at
        the end are left out (the parts are equally long)."""
        import tensorflow as tf

        ids = np.asarray(ids, np.int32)
        streams = max(1, min(int(streams), (len(ids) - 1) // MIN_STREAM))  # short texts: fewer, longer streams
        length = (len(ids) - 1) // streams
        if length < 1:
            raise BadInput("The text is too short to measure a loss on.")
        inputs = ids[:streams * length].reshape(streams, length)
        targets = ids[1:streams * length + 1].reshape(streams, length)
        if self._chunk_fn is None:
            self._chunk_fn = tf.function(self._chunk_loss)
        states = tf.zeros((self.layers, 2, streams, self.units))
        total = 0.0
        for begin in range(0, length, chunk):
            x = np.zeros((streams, chunk), np.int32)
            y = np.zeros((streams, chunk), np.int32)
            mask = np.zeros((streams, chunk), np.float32)
            part = min(chunk, length - begin)
            x[:, :part] = inputs[:, begin:begin + part]
            y[:, :part] = targets[:, begin:begin + part]
            mask[:, :part] = 1.0
            loss, states = self._chunk_fn(tf.constant(x), tf.constant(y), tf.constant(mask), states)
            total += float(loss)
        return total / (streams * length), streams * length


def character_embeddings(model: CharLSTM) -> tuple[list[str], np.ndarray]:
    """Each character's row of the first layer's input weights (its learned 4H-dim vector)."""
    return list(model.vocab), model.weights["kernel_0"].numpy()


def stored_arrays(model: CharLSTM) -> dict[str, np.ndarray]:
    """The weights as :func:`save_model` writes them (float16 storage rounds them)."""
    return {name: array.astype(model.storage) for name, array in model.arrays().items()}


def save_model(model: CharLSTM, folder: Path) -> None:
    folder = Path(folder)
    np.savez(folder / "weights.npz", **stored_arrays(model))
    meta = {"vocab": model.vocab, "units": model.units, "layers": model.layers,
            "format": "charlstm-1", "storage": model.storage}
    (folder / "vocab.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    save_probes(model, folder)  # the training's probes (issue 33), if this model was trained here


def load_model(folder: Path) -> CharLSTM:
    folder = Path(folder)
    meta = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    with np.load(folder / "weights.npz", allow_pickle=False) as data:
        arrays = {name: data[name].astype(np.float32) for name in data.files}
    return CharLSTM(meta["vocab"], meta["units"], meta["layers"], arrays=arrays,
                    storage=meta.get("storage", "float32"))


def text_to_ids(text: str, vocab: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """(vocabulary, ids) for a text; with a given vocabulary, unknown characters are an error."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    if vocab is None:
        vocab_codes = np.unique(codes)
        vocab = [chr(code) for code in vocab_codes]
    else:
        vocab_codes = np.array([ord(ch) for ch in vocab], dtype=np.uint32)
        order = np.argsort(vocab_codes)
        known = np.isin(codes, vocab_codes)
        if not known.all():
            unknown = sorted({chr(code) for code in codes[~known]})[:10]
            raise BadInput("The text has characters the model's vocabulary lacks: "
                           + " ".join(repr(ch) for ch in unknown))
        positions = np.searchsorted(vocab_codes[order], codes)
        return vocab, order[positions].astype(np.int32)
    return vocab, np.searchsorted(vocab_codes, codes).astype(np.int32)
