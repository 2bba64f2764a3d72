"""What the Playground's browser component (views/components/playground_live/) receives: built here
from the session's NumPy data by pure functions, and drawn only there.

Each picture is a mount of the component with ``data`` = ``{"view": V, "setup": N, "live": L, ...}``,
where ``N`` numbers the network it shows (a frame of another network is not drawn), ``L`` says
whether frames will come (false: no network yet, e.g. too few points of your own; the map is drawn
blank with the points) and V is one of:

- ``"epoch"``, ``"loss"``, ``"curve"`` — nothing more; drawn from the frames.
- ``"network"`` — ``sizes``: neurons per layer (inputs, hidden…, outputs); ``labels``: the input
  features' names; ``inputs``: the features over the map, ``PIXELS``; ``grid``, ``classes``,
  ``discretize`` as below.
- ``"output"`` — ``points``: ``{"xy": BYTES (2 per point: column and row, 0..255 across the map,
  rows from the top), "labels": BYTES (a label byte per point, see ``SIGNED``/class numbers),
  "test": BYTES (1 for a test point)}`` — only the points inside the map; ``showTest``: draw the
  test points (black outline); ``caption``: the text under the map; ``pick``: a click or tap on
  the map sends the trigger ``picked`` = ``{"x": …, "y": …}`` in the data's coordinates;
  ``domain``: the map covers [−domain, domain]².
- shared: ``grid``: the pictures are grid × grid; ``classes``: 2 for the orange–white–blue scale,
  3–8 for class colours (probabilities); ``discretize``: the output in two colours only.

One more mount, ``{"view": "frames", "frames": [FRAME, …], "tick": T, "playing": P, "page": R}``,
carries the frames made since the last batch (oldest first) and draws them into every picture;
while ``P``, the browser answers each new ``T`` with the trigger ``drawn`` (the last serial), which
reruns the page's frames fragment. ``R`` counts the runs of the whole page (a batch sent by one
of them, not by the fragment alone, shows the browser is on this page). FRAME = ``{"setup", "serial", "epoch", "playing", "diverged", "loss":
[train, test] (null if not finite), "weights": [kernel as in × out nested lists, per layer],
"outputs": [PIXELS per layer: hidden layers, then the output], "curve": [[epoch, train, test], …]
or null}``.

BYTES: base64 of unsigned bytes. PIXELS: base64 of ``neurons × grid²`` bytes, row by row from the
map's top; ``SIGNED`` bytes 0..254 stand for −1..1 (127 = 0): features and hidden neurons each
scaled by their largest magnitude on the map, a two-class or regression output clipped to ±1;
multiclass outputs are probabilities × 255.
"""
from __future__ import annotations

import base64
import math

import numpy as np

from core.playground.datasets import DOMAIN, FEATURES, Dataset
from core.playground.live_training import GRID, Frame
from core.playground.state import PlaygroundState

CURVE_POINTS = 200  # loss-history points a frame carries for the curve
WEIGHT_DIGITS = 3  # significant digits of a weight: enough for a link's width, and 0 stays exactly 0


def pictures(setup: int, state: PlaygroundState, data: Dataset | None, grid_features: np.ndarray | None,
             outputs: int, pick: bool) -> dict[str, dict]:
    """The data of each picture mount (view name → data) for network number ``setup``.

    ``data``: the points (None: none yet); ``grid_features``: the network's inputs on the map
    (None: no network); ``outputs``: the network's output neurons; ``pick``: the map takes clicks."""
    classes = state.num_classes if state.multiclass else 2
    discrete = state.discretize and state.problem == "classification"
    each = {"setup": setup, "live": grid_features is not None}
    shared = {**each, "grid": GRID, "classes": classes, "discretize": discrete}
    every_point = state.dataset == "custom"  # your own points are all shown, test points too
    points, outside = encode_points(data, state.multiclass)
    caption = output_caption(state.show_test or every_point, outside, pick)
    network = {"sizes": [len(state.features), *state.hidden, outputs], "labels": [FEATURES[f] for f in state.features],
               "inputs": b64(neuron_bytes(grid_features)) if grid_features is not None else ""}
    return {
        "epoch": {"view": "epoch", **each},
        "loss": {"view": "loss", **each},
        "network": {"view": "network", **shared, **network},
        "output": {"view": "output", **shared, "points": points, "showTest": state.show_test or every_point,
                   "caption": caption, "pick": pick, "domain": DOMAIN},
        "curve": {"view": "curve", **each},
    }


def frames(batch: list[Frame], setup: int, multiclass: bool, tick: int, playing: bool, page: int) -> dict:
    """The frames mount's data: ``batch`` (oldest first), the loss curve in its last frame only."""
    return {"view": "frames", "tick": tick, "playing": playing, "page": page,
            "frames": [{**encode_frame(f, multiclass, curve=f is batch[-1]), "setup": setup} for f in batch]}


def encode_frame(frame: Frame, multiclass: bool, curve: bool = True) -> dict:
    """One FRAME (see the module docstring), without its ``setup``."""
    layers = [b64(neuron_bytes(layer)) for layer in frame.outputs[:-1]]
    if frame.outputs:
        final = frame.outputs[-1]
        shown = np.round(np.clip(final, 0, 1) * 255).astype(np.uint8).T if multiclass else signed_bytes(final).T
        layers.append(b64(shown))
    history = frame.history
    if len(history) > CURVE_POINTS:  # evenly spaced points of the whole run, and the newest
        picks = np.linspace(0, len(history) - 1, CURVE_POINTS).round().astype(int)
        history = [history[i] for i in picks]
    return {
        "serial": frame.serial, "epoch": frame.epoch, "playing": frame.playing, "diverged": frame.diverged,
        "loss": [finite_or_none(frame.train_loss), finite_or_none(frame.test_loss)],
        "weights": [significant(w).tolist() for w, _ in frame.weights] if not frame.diverged else [],
        "outputs": layers,
        "curve": [[e, finite_or_none(a), finite_or_none(b)] for e, a, b in history] if curve else None,
    }


def encode_points(data: Dataset | None, multiclass: bool) -> tuple[dict, int]:
    """The points inside the map as BYTES (training points first), and how many lie outside it."""
    if data is None:
        xy, labels, test = np.zeros((0, 2)), np.zeros(0), np.zeros(0)
    else:
        xy, labels = data.points, data.labels
        test = np.r_[np.zeros(len(data.x_train)), np.ones(len(data.x_test))]
    inside = np.all(np.abs(xy) <= DOMAIN, axis=1)
    xy, labels, test = xy[inside], labels[inside], test[inside]
    cells = np.clip((xy + DOMAIN) / (2 * DOMAIN) * 256, 0, 255)
    coordinates = np.stack([cells[:, 0], 255 - cells[:, 1]], 1).astype(np.uint8)
    label_bytes = labels.astype(np.uint8) if multiclass else signed_bytes(labels)
    return {"xy": b64(coordinates), "labels": b64(label_bytes), "test": b64(test.astype(np.uint8))}, \
        int((~inside).sum())


def output_caption(show_test: bool, outside: int = 0, pick: bool = False) -> str:
    caption = ("output: the network's prediction everywhere, with the training points (white outline)"
               + (" and the test points (black outline)" if show_test else ""))
    if outside:
        caption += f"; {outside} point{'s' if outside != 1 else ''} lie{'s' if outside == 1 else ''} " \
                   f"outside the map (±{DOMAIN:g}), not drawn"
    return caption + (". Click or tap the map to add a point." if pick else "")


def signed_bytes(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] (clipped) → bytes 0..254, 127 for zero."""
    return np.round((np.clip(values, -1, 1) + 1) * 127).astype(np.uint8)


def neuron_bytes(layer: np.ndarray) -> np.ndarray:
    """A layer's values on the map, each neuron scaled by its largest magnitude there, → (neurons,
    grid points) SIGNED bytes."""
    scale = np.abs(layer).max(0)
    return signed_bytes(layer / np.where(scale > 0, scale, 1)).T


def significant(values: np.ndarray, digits: int = WEIGHT_DIGITS) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits: a tiny weight stays non-zero (only an
    L1 clamp's exact zero hides a link)."""
    values = np.asarray(values, dtype=np.float64)
    nonzero = values != 0
    magnitude = np.floor(np.log10(np.abs(values), where=nonzero, out=np.zeros_like(values)))
    factor = 10.0 ** (digits - 1 - magnitude)
    return np.where(nonzero, np.round(values * factor) / factor, 0.0)


def b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


def finite_or_none(value: float) -> float | None:
    return round(float(value), 5) if math.isfinite(value) else None
