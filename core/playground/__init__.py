"""The TensorFlow Playground's engine: data, features, network, URL state and export.

One topic per module; everything a page or a test needs is importable from here.

- :mod:`.state` — :class:`PlaygroundState`, the whole configuration; ``to_query()`` /
  ``from_query()`` round-trip it through the URL (each value of a link checked on its own);
  the limits (``max_layers``, ``max_neurons``, ``max_batch``); ``reseed()`` gives Reset its new weights.
  ``seed`` picks the data's points, ``weight_seed`` the initial weights, batch order and
  dropout masks, so a link replays its run exactly.
- :mod:`.datasets` — :data:`GENERATORS` (name → function, as the playground's ``dataset.ts``),
  :func:`generate`, :func:`make_dataset` → :class:`Dataset` (train/test split),
  :data:`FEATURES` and :func:`featurize`, :func:`grid` (the points the pictures show).
- :mod:`.custom_points` — :class:`CustomPoints` (your own points, a class number each, and what
  the network learns from them) and :func:`parse_points_csv`.
- :mod:`.network` — :class:`PlaygroundNet` (its traced functions shared by every network of its
  shape, :class:`~core.playground.network.Program`): ``train(x, y, epochs)``, ``loss(x, y)`` (data loss,
  no penalty), ``layer_outputs(x)`` (every layer's activations, for the neuron pictures),
  ``predict(x)``, ``weight_arrays()``, ``epoch``, ``diverged(...)``, and ``learning_rate``
  (a ``tf.Variable``: changing it keeps the weights).
- :mod:`.export` — :func:`keras_code`, a script that trains the same network on the same data in Keras.
- :mod:`.history` — :func:`thin_history` (a bounded loss curve) and :func:`save_run`.

Training while the page plays runs in the background: see :mod:`core.playground.live_training`.
"""
from core.playground.custom_points import CSV_HELP, MAX_CLASSES, MAX_CSV_ROWS, CustomPoints, parse_points_csv
from core.playground.datasets import (
    CLASSIFICATION_SETS, DATASETS, DOMAIN, FEATURES, GENERATORS, MULTICLASS_SETS, REGRESSION_SETS, Dataset,
    featurize, generate, grid, make_dataset, split,
)
from core.playground.export import keras_code
from core.playground.history import HISTORY_POINTS, save_run, thin_history
from core.playground.network import PlaygroundNet
from core.playground.state import ACTIVATIONS, LEARNING_RATES, REGULARIZATION_RATES, PlaygroundState

__all__ = [
    "ACTIVATIONS", "CLASSIFICATION_SETS", "CSV_HELP", "DATASETS", "DOMAIN", "FEATURES", "GENERATORS",
    "HISTORY_POINTS", "LEARNING_RATES", "MAX_CLASSES", "MAX_CSV_ROWS", "MULTICLASS_SETS", "REGRESSION_SETS",
    "REGULARIZATION_RATES", "CustomPoints", "Dataset", "PlaygroundNet", "PlaygroundState", "featurize", "generate",
    "grid", "keras_code", "make_dataset", "parse_points_csv", "save_run", "split", "thin_history",
]
