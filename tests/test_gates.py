"""Every gate per character (issue 32 §1): the replayed gates are the cell's, step by step, and
keras.layers.LSTM with the same weights goes through the same h and c."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import BadInput
from core.text.charmodel import CharLSTM
from core.text import gates
from core.text.gates import SIGNALS, text_ids, trace

VOCAB = list("abcdefgh \n")


def random_model(layers: int, units: int = 12, seed: int = 0) -> CharLSTM:
    """Random biases and large weights, so that every gate matters (not just the initial values)."""
    rng = np.random.default_rng(seed)
    model = CharLSTM(VOCAB, units=units, layers=layers, seed=seed)
    for var in model.weights.values():
        var.assign(rng.normal(scale=0.6, size=var.shape).astype(np.float32))
    return model


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("layers, block", [(1, 128), (2, 128), (3, 128), (2, 5), (3, 3)])
def test_each_gate_is_the_written_out_cell_recomputed_from_the_weights(layers, block, monkeypatch):
    """Block 5 or 3: each layer's thread hands on several blocks (the last one shorter)."""
    monkeypatch.setattr(gates, "BLOCK", block)
    model = random_model(layers)
    arrays = {k: v.astype(np.float64) for k, v in model.arrays().items()}
    text = "abc cab\nhead fig"
    _, ids, _ = text_ids(model.vocab, text)
    shown = trace(model.arrays(), ids, text)
    units = model.units
    x = np.eye(len(VOCAB))[ids]  # one-hot, the long way round
    for layer in range(layers):
        W, U, b = (arrays[f"{name}_{layer}"] for name in ("kernel", "recurrent", "bias"))
        h, c = np.zeros(units), np.zeros(units)
        hs = []
        for t in range(len(ids)):
            z = x[t] @ W + h @ U + b
            i, f, g, o = sigmoid(z[:units]), sigmoid(z[units:2 * units]), np.tanh(z[2 * units:3 * units]), \
                sigmoid(z[3 * units:])
            c = f * c + i * g
            h = o * np.tanh(c)
            hs.append(h)
            expected = dict(i=i, f=f, g=g, o=o, c=c, h=h)
            for name in SIGNALS:
                np.testing.assert_allclose(shown.signal(layer, name)[t], expected[name], atol=2e-5,
                                           err_msg=f"layer {layer}, {name} at character {t}")
        x = np.array(hs)  # the next layer reads this layer's h
    # The last layer's h is the trained graph's too (the unrolled tf.function).
    np.testing.assert_allclose(shown.signal(layers - 1, "h"), model.hidden_states(ids[None])[0], atol=2e-5)


@pytest.mark.parametrize("layers", [1, 2])
def test_keras_lstm_with_the_same_weights_goes_through_the_same_h_and_c(layers):
    import keras

    model = random_model(layers, seed=layers)
    text = "bad cafe\nfeed a dog"
    _, ids, _ = text_ids(model.vocab, text)
    shown = trace(model.arrays(), ids, text)
    # Keras' LSTM, one character at a time, its state read after each (return_state).
    cells = []
    for layer in range(layers):
        lstm = keras.layers.LSTM(model.units, return_state=True)
        lstm.build((1, 1, len(VOCAB) if layer == 0 else model.units))
        lstm.set_weights([model.weights[f"{name}_{layer}"].numpy() for name in ("kernel", "recurrent", "bias")])
        cells.append(lstm)
    states = [[np.zeros((1, model.units), np.float32)] * 2 for _ in range(layers)]
    one_hot = np.eye(len(VOCAB), dtype=np.float32)
    for t, char_id in enumerate(ids):
        x = one_hot[char_id][None, None]
        for layer, lstm in enumerate(cells):
            _, h, c = lstm(x, initial_state=states[layer])
            states[layer] = [h, c]
            np.testing.assert_allclose(shown.signal(layer, "h")[t], h.numpy()[0], atol=2e-5)
            np.testing.assert_allclose(shown.signal(layer, "c")[t], c.numpy()[0], atol=2e-5)
            x = h.numpy()[:, None]


def test_unknown_characters_are_left_out_and_bad_texts_are_refused():
    kept, ids, skipped = text_ids(VOCAB, "abXc😀")
    assert kept == "abc" and list(ids) == [0, 1, 2] and skipped == ["X", "😀"]
    model = random_model(1)
    with pytest.raises(BadInput, match="no text"):
        trace(model.arrays(), np.array([], np.int64))
    with pytest.raises(BadInput, match="at most"):
        trace(model.arrays(), np.zeros(30_000, np.int64))
