"""One convolution (or one dense unit) computed by hand, from a network's own weights.

CNN Explainer's detail view for the digit networks: for one cell of a feature map, the patch of
the previous layer its kernel covers, the products, their sum plus the bias, whatever stands
between the convolution and the map the page shows (batch normalisation, ReLU), and where the
cell's receptive field lies on the 28×28 input. Everything is read from the Keras model — layer
sizes, strides, padding, weights — so it holds for every architecture in ``models.py``, and the
tests check each value against the one Keras computed.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from core.digits.look_inside import probe_model, shown_layer
from core.errors import BadInput

_probes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
INPUT_SIZE = 28


# ---- where each cell sits on the input --------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """Where the cells of a layer's output sit on the 28×28 input (rows and columns alike).

    Cell ``i`` sees input pixels ``start + i·jump … start + i·jump + field − 1``: ``field`` is its
    receptive field, ``jump`` the distance between neighbouring cells (the product of the strides
    and pooling sizes before it); a negative ``start`` means the field reaches into padding.
    """
    layer: str
    size: tuple[int, int]
    channels: int
    jump: tuple[int, int]
    start: tuple[int, int]
    field: tuple[int, int]

    def field_box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right), bottom and right exclusive, clipped to the input."""
        top = self.start[0] + row * self.jump[0]
        left = self.start[1] + col * self.jump[1]
        return (max(top, 0), max(left, 0), min(top + self.field[0], INPUT_SIZE),
                min(left + self.field[1], INPUT_SIZE))


def same_padding(size: int, kernel: int, stride: int) -> int:
    """Rows (or columns) of zeros TensorFlow adds *before* the input for ``padding="same"``:
    half of what is needed, rounded down (the odd one goes after)."""
    out = -(-size // stride)
    return max((out - 1) * stride + kernel - size, 0) // 2


def _window(layer) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """(kernel, strides, padding before) of a convolution or pooling layer, per axis."""
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        kernel = tuple(layer.kernel_size)
    elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        kernel = tuple(layer.pool_size)
    else:
        return None
    strides = tuple(layer.strides)
    sizes = layer.input.shape[1:3]
    if layer.padding == "same":
        padding = tuple(same_padding(n, k, s) for n, k, s in zip(sizes, kernel, strides))
    else:
        padding = (0, 0)
    return kernel, strides, padding


def grids(model) -> dict[str, Grid]:
    """The :class:`Grid` of every layer whose output is still a picture (H, W, channels)."""
    import keras

    jump, start, size = [1, 1], [0, 0], [1, 1]
    out: dict[str, Grid] = {}
    for layer in model.layers:
        shape = layer.output.shape
        if len(shape) != 4:
            continue  # Flatten, Dense: no longer a grid
        window = _window(layer)
        if isinstance(layer, keras.layers.Cropping2D):
            for axis in (0, 1):
                start[axis] += layer.cropping[axis][0] * jump[axis]
        elif window is not None:
            kernel, strides, padding = window
            for axis in (0, 1):
                start[axis] -= padding[axis] * jump[axis]
                size[axis] += (kernel[axis] - 1) * jump[axis]
                jump[axis] *= strides[axis]
        elif not isinstance(layer, keras.layers.InputLayer) and layer.input.shape[1:3] != shape[1:3]:
            raise ValueError(f"Layer {layer.name} ({type(layer).__name__}) changes the grid in a way "
                             "this view does not know.")
        out[layer.name] = Grid(layer.name, (int(shape[1]), int(shape[2])), int(shape[3]),
                               tuple(jump), tuple(start), tuple(size))
    return out


# ---- one digit's values at every stage ----------------------------------------------------

def convolutions(model) -> list:
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def dense_layers(model) -> list:
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


@dataclass
class _Facts:
    """What never changes for a stored model: a compiled probe, its grids and weights in float64."""
    names: list[str]
    probe: object
    grids: dict[str, Grid]
    kernels: dict[str, np.ndarray]
    biases: dict[str, np.ndarray | None]


def _facts(model) -> _Facts:
    """One :class:`_Facts` per loaded model (its probe traced once), shared by every session."""
    import tensorflow as tf

    with _lock:
        facts = _probes.get(model)
        if facts is None:
            layers = convolutions(model) + dense_layers(model)
            tensors = [layer.input for layer in layers] + [shown_layer(model, layer).output for layer in layers]
            inner = probe_model(model, tensors)
            spec = [tf.TensorSpec((None, INPUT_SIZE, INPUT_SIZE, 1), tf.float32)]
            probe = tf.function(lambda x: inner(x, training=False), input_signature=spec)
            facts = _probes[model] = _Facts(
                [layer.name for layer in layers], probe, grids(model),
                # As stored (float32): the 2017 CNN's dense1 alone would be 26 MB in float64.
                {layer.name: np.asarray(layer.kernel) for layer in layers},
                {layer.name: np.asarray(layer.bias, np.float64) if layer.use_bias else None for layer in layers})
        return facts


@dataclass
class Workings:
    """One digit through one network: what each explained layer read and what the page shows."""
    model: object
    facts: _Facts
    inputs: dict[str, np.ndarray]  # layer name -> its input for this digit (no batch axis)
    shown: dict[str, np.ndarray]   # layer name -> its shown output (maps after ReLU, activations)


def workings(model, digit: np.ndarray) -> Workings:
    digit = np.asarray(digit, dtype=np.float32)
    if digit.shape != (INPUT_SIZE, INPUT_SIZE):
        raise BadInput(f"Expected a {INPUT_SIZE}×{INPUT_SIZE} digit, got an array of shape {digit.shape}.")
    facts = _facts(model)
    names = facts.names
    values = [np.asarray(v)[0] for v in facts.probe(digit[None, ..., None])]
    return Workings(model, facts, dict(zip(names, values[:len(names)])), dict(zip(names, values[len(names):])))


# ---- one convolution ----------------------------------------------------------------------

@dataclass
class Step:
    """What happens to the number after the convolution's sum, one layer at a time."""
    kind: str  # "activation" (name in params) or "batch_norm"
    layer: str
    value: float
    params: dict = field(default_factory=dict)


@dataclass
class CellWorking:
    layer: str
    row: int
    col: int
    channel: int
    source: str                     # the layer whose output this convolution reads
    source_map: np.ndarray          # that output, (H, W, channels in)
    origin: tuple[int, int]         # the patch's top-left cell in source_map (negative: padding)
    patch: np.ndarray               # (k, k, channels in): the values the kernel covers, 0 in padding
    inside: np.ndarray              # (k, k) bool: which positions lie on the map, not in padding
    kernel: np.ndarray              # (k, k, channels in)
    products: np.ndarray            # patch · kernel, element by element
    total: float                    # their sum
    bias: float | None              # None: the layer has no bias (batch norm's β plays its part)
    steps: list[Step]               # from the sum plus bias to the shown value
    value: float                    # = the cell of the map the page shows
    field_box: tuple[int, int, int, int]  # the receptive field on the 28×28 input
    field_size: tuple[int, int]     # the receptive field's full size (the box may be clipped)
    source_kind: str                # "image", "crop" (the image cropped), "pool" or "map"

    @property
    def pre_activation(self) -> float:
        return self.total + (self.bias or 0.0)

    def channel_sums(self) -> np.ndarray:
        """Each input channel's share of the sum: its k×k products added up."""
        return self.products.sum(axis=(0, 1))


def _between(model, layer) -> list:
    """The layers from ``layer`` (exclusive) to the one whose output the page shows (inclusive)."""
    layers = model.layers
    shown = shown_layer(model, layer)
    return layers[layers.index(layer) + 1:layers.index(shown) + 1]


def _activate(name: str, value: float, layer=None) -> float:
    if name == "linear":
        return value
    if name == "relu":
        if layer is not None:  # a ReLU layer's own options (Keras' defaults: plain max(0, x))
            if value < layer.threshold:
                # + 0.0: a slope of 0 times a negative number is −0.0, which would print as "−0.0000"
                value = layer.negative_slope * (value - layer.threshold) + 0.0
            return value if layer.max_value is None else min(value, float(layer.max_value))
        return max(value, 0.0)
    raise ValueError(f"Activation '{name}' is not explained by this view.")


def _steps_after(model, layer, channel: int, value: float) -> tuple[list[Step], float]:
    """Apply, by hand, what stands between a convolution's sum plus bias and the map shown: the
    convolution's own activation, or batch normalisation and a ReLU layer after it."""
    import keras

    steps = []
    for follower in [layer, *_between(model, layer)]:
        if isinstance(follower, keras.layers.BatchNormalization):
            value, params = _batch_norm(follower, channel, value)
            steps.append(Step("batch_norm", follower.name, value, params))
            continue
        if isinstance(follower, keras.layers.ReLU):
            name = "relu"
        elif isinstance(follower, (keras.layers.Activation, keras.layers.Conv2D)):
            name = follower.activation.__name__
        else:
            raise ValueError(f"{follower.name} ({type(follower).__name__}) is not explained by this view.")
        if name != "linear":
            value = _activate(name, value, follower if isinstance(follower, keras.layers.ReLU) else None)
            steps.append(Step("activation", follower.name, value, {"name": name}))
    return steps, value


def _batch_norm(layer, channel: int, value: float) -> tuple[float, dict]:
    """Batch normalisation at inference: a fixed per-channel scale and shift (its moving
    statistics), which could be folded into the convolution's kernel and bias."""
    gamma = float(np.asarray(layer.gamma)[channel]) if layer.scale else 1.0
    beta = float(np.asarray(layer.beta)[channel]) if layer.center else 0.0
    mean = float(np.asarray(layer.moving_mean)[channel])
    variance = float(np.asarray(layer.moving_variance)[channel])
    scale = gamma / np.sqrt(variance + layer.epsilon)
    shift = beta - mean * scale
    return value * scale + shift, {"gamma": gamma, "beta": beta, "mean": mean, "variance": variance,
                                   "epsilon": float(layer.epsilon), "scale": float(scale),
                                   "shift": float(shift)}


def explain_cell(work: Workings, layer_name: str, row: int, col: int, channel: int) -> CellWorking:
    """The cell (``row``, ``col``) of map ``channel`` of convolution ``layer_name``, computed by hand."""
    import keras

    model = work.model
    layer = model.get_layer(layer_name)
    if not isinstance(layer, keras.layers.Conv2D):
        raise BadInput(f"{layer_name} is not a convolution.")
    height, width, channels = work.shown[layer_name].shape
    if not (0 <= row < height and 0 <= col < width and 0 <= channel < channels):
        raise BadInput(f"{layer_name} has {channels} maps of {height}×{width}: there is no map {channel} "
                       f"cell ({row}, {col}).")
    (kh, kw), strides, padding = _window(layer)
    source_map = work.inputs[layer_name]
    top, left = row * strides[0] - padding[0], col * strides[1] - padding[1]
    rows, cols = np.arange(top, top + kh), np.arange(left, left + kw)
    inside = (((rows >= 0) & (rows < source_map.shape[0]))[:, None]
              & ((cols >= 0) & (cols < source_map.shape[1]))[None, :])
    padded = np.pad(np.asarray(source_map, np.float64), ((kh, kh), (kw, kw), (0, 0)))
    patch = padded[top + kh:top + 2 * kh, left + kw:left + 2 * kw]
    kernel = work.facts.kernels[layer_name][:, :, :, channel].astype(np.float64)
    products = patch * kernel
    total = float(products.sum())
    biases = work.facts.biases[layer_name]
    bias = None if biases is None else float(biases[channel])
    steps, value = _steps_after(model, layer, channel, total + (bias or 0.0))
    grid = work.facts.grids[layer_name]
    source = layer.input._keras_history.operation
    return CellWorking(layer_name, row, col, channel, source.name, source_map, (top, left), patch, inside,
                       kernel, products, total, bias, steps, value, grid.field_box(row, col), grid.field,
                       _kind_of(source))


def _kind_of(source) -> str:
    import keras

    if isinstance(source, keras.layers.Cropping2D):
        return "crop"
    if isinstance(source, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        return "pool"
    if isinstance(source, (keras.layers.InputLayer, keras.layers.RandomTranslation, keras.layers.RandomRotation)):
        return "image"
    return "map"


# ---- one dense unit -----------------------------------------------------------------------

@dataclass
class UnitWorking:
    layer: str
    unit: int
    source: str                 # the layer whose output this one reads
    source_shape: tuple         # that output's shape before any flattening, e.g. (6, 6, 64) or (28, 28, 1)
    inputs: np.ndarray          # (n,)
    contributions: np.ndarray   # inputs · this unit's weights, (n,)
    bias: float
    activation: str             # "relu", "softmax", "linear"
    logits: np.ndarray          # every unit's sum plus bias (softmax needs them all)
    value: float                # = the activation the page shows

    @property
    def pre_activation(self) -> float:
        return float(self.logits[self.unit])

    def largest(self, count: int = 10) -> np.ndarray:
        """Indices of the ``count`` contributions largest in size, largest first."""
        order = np.argsort(-np.abs(self.contributions), kind="stable")
        return order[:count]


def _flattened_from(model, layer) -> tuple[str, tuple]:
    """The layer a dense layer reads (through Flatten and Dropout), and that output's shape."""
    import keras

    source = layer.input._keras_history.operation
    while isinstance(source, (keras.layers.Flatten, keras.layers.Dropout)):
        source = source.input._keras_history.operation
    shape = tuple(int(n) for n in source.output.shape[1:])
    return source.name, shape


def explain_unit(work: Workings, layer_name: str, unit: int) -> UnitWorking:
    import keras

    layer = work.model.get_layer(layer_name)
    if not isinstance(layer, keras.layers.Dense):
        raise BadInput(f"{layer_name} is not a dense layer.")
    if not 0 <= unit < layer.units:
        raise BadInput(f"{layer_name} has {layer.units} units: there is no unit {unit}.")
    inputs = np.asarray(work.inputs[layer_name], np.float64).ravel()
    kernel = work.facts.kernels[layer_name]
    bias = work.facts.biases[layer_name]
    bias = np.zeros(layer.units) if bias is None else bias
    weights = kernel[:, unit].astype(np.float64)
    contributions = inputs * weights
    # Every unit's sum (softmax needs them all) in float32, this unit's exactly, in float64.
    logits = (inputs.astype(np.float32) @ kernel).astype(np.float64) + bias
    logits[unit] = contributions.sum() + bias[unit]
    activation = layer.activation.__name__
    if activation == "softmax":
        exponentials = np.exp(logits - logits.max())
        value = float(exponentials[unit] / exponentials.sum())
    else:
        value = _activate(activation, float(logits[unit]))
    source, shape = _flattened_from(work.model, layer)
    return UnitWorking(layer_name, unit, source, shape, inputs, contributions, float(bias[unit]),
                       activation, logits, value)


def shrink_reasons(model, earlier: str, later: str) -> list[str]:
    """Why ``later``'s grid is coarser than ``earlier``'s: the strides and poolings between them
    (``later`` included), e.g. ``["stride 2 in conv2", "2×2 max pooling (pool1)"]``; [] when the
    grid keeps its size."""
    import keras

    layers = model.layers
    reasons = []
    for layer in layers[layers.index(model.get_layer(earlier)) + 1:layers.index(model.get_layer(later)) + 1]:
        window = _window(layer)
        if window is None or window[1] == (1, 1):
            continue
        kernel, strides, _ = window
        if isinstance(layer, keras.layers.Conv2D):
            reasons.append(f"stride {strides[0]} in {layer.name}")
        else:
            kind = "max" if isinstance(layer, keras.layers.MaxPooling2D) else "average"
            reasons.append(f"{kernel[0]}×{kernel[1]} {kind} pooling ({layer.name})")
    return reasons
