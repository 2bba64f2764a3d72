"""Fast single-image inference and a look inside a digit network.

``model.predict`` builds a dataset and a fresh loop for every call (~90 ms
here); a ``tf.function`` with a fixed input signature is traced once and then
costs about a millisecond, which is what makes prediction on every stroke
feel live.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

_readers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass
class LookInside:
    probabilities: np.ndarray  # (classes,)
    feature_maps: dict[str, np.ndarray]  # conv layer name -> (H, W, channels)
    activations: dict[str, np.ndarray]  # dense layer name -> (units,)
    saliency: np.ndarray  # (28, 28), |d top-class probability / d pixel|, scaled to [0, 1]


def probe_model(model, outputs):
    """A model from ``model``'s input to ``outputs`` (tensors inside it), called like ``model``.

    Built on ``model.input`` — the input as the model declares it, one tensor — and not on
    ``model.inputs``, which is always a list: a probe built on the list expects a list, and Keras
    warns "The structure of `inputs` doesn't match the expected structure" every time such a
    probe is handed a single array.
    """
    import keras

    return keras.Model(model.input, outputs)


def shown_layer(model, layer):
    """The layer whose output is ``layer``'s feature maps after their nonlinearity.

    The Fast CNN's convolutions have no activation of their own (batch norm sits between them
    and their ReLU), so their maps are read after that ReLU, as for the other networks, whose
    convolutions apply ReLU themselves. Dense layers apply theirs: they are their own.
    """
    import keras

    layers = model.layers
    for follower in layers[layers.index(layer) + 1:]:
        if isinstance(follower, keras.layers.BatchNormalization):
            continue
        if isinstance(follower, (keras.layers.ReLU, keras.layers.Activation)):
            return follower
        break
    return layer


def reader_for(model) -> "DigitReader":
    """One compiled reader per loaded model, shared by every session."""
    with _lock:
        reader = _readers.get(model)
        if reader is None:
            reader = _readers[model] = DigitReader(model)
        return reader


class DigitReader:
    def __init__(self, model) -> None:
        import keras
        import tensorflow as tf

        self.model = model
        spec = [tf.TensorSpec((None, 28, 28, 1), tf.float32)]
        self._probabilities = tf.function(lambda x: model(x, training=False), input_signature=spec)
        self.conv_layers = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
        self.dense_layers = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
        probes = self.conv_layers + self.dense_layers
        probe = probe_model(model, [shown_layer(model, layer).output for layer in probes])
        self._probe_names = [layer.name for layer in probes]
        self._probe = tf.function(lambda x: probe(x, training=False), input_signature=spec)

        @tf.function(input_signature=spec)
        def saliency(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                probabilities = model(x, training=False)
                top = tf.reduce_max(probabilities, axis=1)
            return tf.abs(tape.gradient(top, x))

        self._saliency = saliency
        self.lock = threading.Lock()  # tf.function tracing is not re-entrant-friendly
        # Trace the prediction once now (a few hundred ms), when the page opens, so the
        # first stroke is not the one that pays for it.
        self._probabilities(tf.zeros((1, 28, 28, 1)))

    @staticmethod
    def _batch(digits: np.ndarray) -> np.ndarray:
        array = np.asarray(digits, dtype=np.float32)
        if array.shape == (28, 28):
            array = array[None]
        return array.reshape(-1, 28, 28, 1)

    def probabilities(self, digit: np.ndarray) -> np.ndarray:
        """Class probabilities for one 28×28 digit (or a batch)."""
        out = self._probabilities(self._batch(digit)).numpy()
        return out[0] if np.asarray(digit).shape == (28, 28) else out

    def look_inside(self, digit: np.ndarray) -> LookInside:
        batch = self._batch(digit)
        outputs = self._probe(batch)
        feature_maps, activations = {}, {}
        for name, value in zip(self._probe_names, outputs):
            value = value.numpy()[0]
            (feature_maps if value.ndim == 3 else activations)[name] = value
        probabilities = activations[self.dense_layers[-1].name]
        saliency = self._saliency(batch).numpy()[0, ..., 0]
        peak = saliency.max()
        return LookInside(probabilities, feature_maps, activations,
                          saliency / peak if peak > 0 else saliency)

    def first_layer_tiles(self, limit: int = 64) -> tuple[str, np.ndarray]:
        """The first layer's weights as small images: conv filters, or 28×28 tiles for a dense layer."""
        layers = self.model.layers
        if self.conv_layers and layers.index(self.conv_layers[0]) < layers.index(self.dense_layers[0]):
            kernel = self.conv_layers[0].get_weights()[0]  # (h, w, in, out)
            tiles = np.moveaxis(kernel[:, :, 0, :], -1, 0)
            return "filters", tiles[:limit]
        kernel = self.dense_layers[0].get_weights()[0]  # (784, units)
        return "weights", kernel.T.reshape(-1, 28, 28)[:limit]


def mosaic(tiles: np.ndarray, columns: int = 8, pad: int = 1, normalise: str = "each") -> np.ndarray:
    """Lay out (n, h, w) tiles in a grid image with values in [0, 1].

    ``normalise="each"`` stretches every tile to its own range (filters and feature
    maps differ wildly in scale); ``"signed"`` maps 0 to grey, for weights.
    """
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w = tiles.shape
    columns = max(1, min(columns, n))
    rows = int(np.ceil(n / columns))
    out = np.ones((rows * (h + pad) - pad, columns * (w + pad) - pad), dtype=np.float32)
    for index, tile in enumerate(tiles):
        if normalise == "signed":
            scale = np.abs(tile).max() or 1.0
            tile = 0.5 + 0.5 * tile / scale
        else:
            low, high = tile.min(), tile.max()
            tile = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        r, c = divmod(index, columns)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = tile
    return out


def is_unsure(probabilities: np.ndarray, threshold: float = 0.6, margin: float = 0.25) -> bool:
    """Top class below ``threshold`` or within ``margin`` of the runner-up."""
    top2 = np.sort(np.asarray(probabilities))[-2:]
    return bool(top2[1] < threshold or top2[1] - top2[0] < margin)
