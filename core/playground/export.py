"""Export as Keras code: a script that trains the page's network on the page's objective."""
from __future__ import annotations

import inspect
import textwrap

import numpy as np

from core.playground.custom_points import CustomPoints
from core.playground.datasets import DATASETS, GENERATORS
from core.playground.state import PlaygroundState

POINTS_WRITTEN_OUT = 1000  # your own points up to this many are written into the script

KERAS_FEATURES = {
    "x": "x1", "y": "x2", "xSquared": "x1**2", "ySquared": "x2**2", "xTimesY": "x1 * x2",
    "sinX": "np.sin(x1)", "sinY": "np.sin(x2)",
}


def _no_hidden_note(state: PlaygroundState) -> str:
    """What a network without hidden layers is, said exactly (it is a logistic regression only with
    sigmoid and cross-entropy)."""
    if state.multiclass:
        return "no hidden layers: softmax (multinomial logistic) regression on the features"
    if state.problem == "regression":
        return "no hidden layers: linear regression on the features, fitted by least squares"
    if state.loss == "crossentropy":
        return "no hidden layers: logistic regression on the features"
    return "no hidden layers: tanh of a linear function of the features, fitted by least squares"


def keras_code(state: PlaygroundState, points: CustomPoints | None = None) -> str:
    """A runnable script that builds the page's network in Keras and trains it on the same objective
    from the same kind of start: the page's initialisers, its ½·squared error, its penalties
    (L2 as ``rate·½Σw²``, L1 as the clamped step, both on every layer's kernel, the output's too),
    its optimizer settings, batch size, features and dropout. Importing it runs nothing: it
    defines ``page_data``, ``features_of``, ``targets_of``, ``LOSS`` and ``build_model``; run as a
    script it trains on the page's data set: the same points, made by the same generator from the
    same seed and split the same way (``points``: your own, for the "Your own points" set)."""
    if state.multiclass:
        output, loss = f"layers.Dense({state.num_classes}, activation='softmax'{{kernel}})", \
            "keras.losses.SparseCategoricalCrossentropy()"
    elif state.problem == "regression":
        output, loss = "layers.Dense(1{kernel})", "half_squared_error"
    elif state.loss == "crossentropy":
        output, loss = "layers.Dense(1, activation='sigmoid'{kernel})", "keras.losses.BinaryCrossentropy()"
    else:
        output, loss = "layers.Dense(1, activation='tanh'{kernel})", "half_squared_error"
    kernel = ", **init"
    helpers = []
    if loss == "half_squared_error":
        helpers.append(HALF_SQUARED_ERROR)
    rate = state.regularization_rate if state.regularization != "none" else 0
    if rate and state.regularization == "L2":
        regularizer = (f"    kernel_regularizer=keras.regularizers.L2({rate / 2:g}),"
                       "  # Keras' r·Σw² = the page's rate·½Σw²\n")
    elif rate:
        helpers.append(SOFT_THRESHOLD)
        regularizer = (f"    kernel_constraint=SoftThreshold(LEARNING_RATE * {rate!r}),"
                       f"  # L1 at rate {rate!r}, as the page steps it\n")
    else:
        regularizer = ""
    hidden = []
    for index, units in enumerate(state.hidden):
        hidden.append(f"        layers.Dense({units}, activation='{state.activation_of(index)}'{kernel}),")
        if state.dropout:
            hidden.append(f"        layers.Dropout({state.dropout!r}),"
                          "  # during training only; survivors × 1/(1 − p)")
    if state.optimizer == "adam":
        optimizer = "keras.optimizers.Adam(LEARNING_RATE, beta_1=0.9, beta_2=0.999, epsilon=1e-7)"
    else:
        optimizer = "keras.optimizers.SGD(LEARNING_RATE)"
    if state.multiclass:
        targets = "labels.astype('int32')  # class numbers"
    elif state.problem == "classification" and state.loss == "crossentropy":
        targets = "((labels + 1) / 2).reshape(-1, 1).astype('float32')  # ±1 → 0/1 for cross-entropy"
    else:
        targets = "labels.reshape(-1, 1).astype('float32')"
    body = "\n".join(hidden) if hidden else f"        # {_no_hidden_note(state)}"
    features = ", ".join(KERAS_FEATURES[f] for f in state.features)
    data, described = _data_code(state, points)
    return KERAS_TEMPLATE.format(
        title=f"{DATASETS[state.dataset]}, {state.hidden or 'no'} hidden", data=data, about=textwrap.fill(
            f"Run as a script, it trains on the page's data set: {described} — the same points as on the page "
            f"({'same generator, seed and split' if state.dataset != 'custom' else 'split the same way'}). Same objective and the same kind of start as the page. One "
            "difference: when the batch size does not divide the training set, Keras' last batch of an epoch is "
            "smaller, while the page fills it up from the start of that epoch's shuffled order.", 96),
        learning_rate=repr(state.learning_rate),
        batch_size=state.batch_size, features=features,
        targets=targets, helpers="".join(helpers), regularizer=regularizer, inputs=len(state.features),
        body=body, output=output.format(kernel=kernel), loss=loss, optimizer=optimizer,
        seed=state.weight_seed)


def _data_code(state: PlaygroundState, points: CustomPoints | None) -> tuple[str, str]:
    """The script's ``page_data`` function and what it makes, in words."""
    split = SPLIT.format(seed=state.seed, train_share=state.train_ratio / 100)
    if state.dataset != "custom":
        generator = GENERATORS[state.dataset]
        described = (f"{DATASETS[state.dataset]}, {state.point_count} points, noise {state.noise} %, "
                     f"data seed {state.seed}, {state.train_ratio} % for training")
        if state.multiclass:
            described = described.replace(" points", f" points in {state.classes} classes")
        make = (f"    xy, labels = {generator.__name__}({state.point_count}, {state.noise / 100!r}, "
                f"np.random.default_rng({state.seed}), {state.classes})\n")
        return "\n\n" + inspect.getsource(generator) + "\n" + GENERATED.format(described=described, make=make + split), \
            described
    points = points if points is not None else CustomPoints()
    described = (f"your own {len(points)} points in {points.num_classes} classes, {state.train_ratio} % for "
                 "training")
    if len(points) > POINTS_WRITTEN_OUT:
        described += " (read from points.csv beside this script: x, y, class number per row)"
        make = "    table = np.loadtxt('points.csv', delimiter=',', ndmin=2)\n    xy, classes = table[:, :2], table[:, 2]\n"
    else:
        make = (f"    xy = np.array({np.round(points.xy, 4).tolist()})\n"
                f"    classes = np.array({points.classes.tolist()})\n")
    make += ("    labels = np.where(classes == 1, 1.0, -1.0)  # two classes: -1 (orange) and +1 (blue)\n"
             if points.num_classes == 2 else "    labels = classes.astype(float)  # class numbers\n")
    return "\n\n" + GENERATED.format(described=described, make=make + split).lstrip("\n"), described


GENERATED = '''
def page_data():
    """The page's data set: {described}.
    Returns x_train, labels_train, x_test, labels_test."""
{make}'''

SPLIT = """    order = np.random.default_rng({seed} + 1).permutation(len(xy))
    cut = max(1, min(len(xy) - 1, int(round(len(xy) * {train_share!r}))))
    train, test = order[:cut], order[cut:]
    return (xy[train].astype("float32"), labels[train].astype("float32"),
            xy[test].astype("float32"), labels[test].astype("float32"))
"""

HALF_SQUARED_ERROR = '''

def half_squared_error(y_true, y_pred):
    """The page's squared error ½(output − label)². Keras' 'mse' is twice it, which would double
    every gradient (and so the effective learning rate)."""
    return 0.5 * keras.ops.mean(keras.ops.square(y_pred - y_true), axis=-1)
'''

SOFT_THRESHOLD = '''

class SoftThreshold(keras.constraints.Constraint):
    """L1 as the page applies it: after each step every weight moves `threshold` (learning rate ×
    L1 rate) towards 0, and one that would cross 0 stays at exactly 0. Keras' L1 regularizer adds
    rate·sign(w) to the gradient instead, and weights then jitter round 0 without reaching it."""

    def __init__(self, threshold):
        self.threshold = threshold

    def __call__(self, w):
        return keras.ops.sign(w) * keras.ops.relu(keras.ops.abs(w) - self.threshold)

    def get_config(self):
        return {"threshold": self.threshold}
'''

KERAS_TEMPLATE = '''"""The Deep Learning Playground's network in Keras: {title}.

{about}
"""
import numpy as np
import keras
from keras import layers

LEARNING_RATE = {learning_rate}
BATCH_SIZE = {batch_size}
EPOCHS = 100
{data}

def features_of(xy):
    """The page's input features of points xy, an (n, 2) array of coordinates in [-6, 6]."""
    x1, x2 = xy[:, 0], xy[:, 1]
    return np.stack([{features}], axis=1).astype("float32")


def targets_of(labels):
    """What the loss compares the output with."""
    return {targets}
{helpers}

LOSS = {loss}


def build_model():
    """The page's network, compiled, with its start: weights uniform in [-0.5, 0.5], biases 0.1."""
    init = dict(
        kernel_initializer=keras.initializers.RandomUniform(-0.5, 0.5),
        bias_initializer=keras.initializers.Constant(0.1),
    {regularizer}    )
    model = keras.Sequential([
        keras.Input(({inputs},)),
{body}
        {output},
    ])
    model.compile(optimizer={optimizer}, loss=LOSS)
    return model


if __name__ == "__main__":
    keras.utils.set_random_seed({seed})
    x_train, labels_train, x_test, labels_test = page_data()
    model = build_model()
    # Keras reports the running mean over the epoch's batches, penalty and dropout included; the
    # page's curve is the loss without the penalty, with dropout off, after each epoch.
    model.fit(features_of(x_train), targets_of(labels_train), batch_size=BATCH_SIZE, epochs=EPOCHS,
              validation_data=(features_of(x_test), targets_of(labels_test)))
'''
