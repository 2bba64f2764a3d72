"""Export as Keras code: a script that trains the page's network on the page's objective."""
from __future__ import annotations

from core.playground.datasets import DATASETS
from core.playground.state import PlaygroundState

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


def keras_code(state: PlaygroundState) -> str:
    """A runnable script that builds the page's network in Keras and trains it on the same objective
    from the same kind of start: the page's initialisers, its ½·squared error, its penalties
    (L2 as ``rate·½Σw²``, L1 as the clamped step, both on every layer's kernel, the output's too),
    its optimizer settings, batch size, features and dropout. Importing it runs nothing: it
    defines ``features_of``, ``targets_of``, ``LOSS`` and ``build_model``; run as a script it
    trains on example data."""
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
    return KERAS_TEMPLATE.format(
        title=f"{DATASETS[state.dataset]}, {state.hidden or 'no'} hidden", learning_rate=repr(state.learning_rate),
        batch_size=state.batch_size, test_share=f"{1 - state.train_ratio / 100:.2f}", features=features,
        targets=targets, helpers="".join(helpers), regularizer=regularizer, inputs=len(state.features),
        body=body, output=output.format(kernel=kernel), loss=loss, optimizer=optimizer,
        seed=state.weight_seed)


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

Same objective and the same kind of start as the page. One difference: when the batch size does
not divide the training set, Keras' last batch of an epoch is smaller, while the page fills it up
from the start of that epoch's shuffled order.
"""
import numpy as np
import keras
from keras import layers

LEARNING_RATE = {learning_rate}
BATCH_SIZE = {batch_size}
EPOCHS = 100


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
    # Your data: xy is (n, 2) in [-6, 6], labels ±1 (two classes), a value in [-1, 1] (regression)
    # or class numbers 0, 1, 2, ... (multiclass). These example points stand in for yours.
    xy = np.random.uniform(-6, 6, (500, 2)).astype("float32")
    labels = np.where(np.hypot(xy[:, 0], xy[:, 1]) < 2.5, 1.0, -1.0).astype("float32")
    model = build_model()
    # Keras reports the running mean over the epoch's batches, penalty and dropout included; the
    # page's curve is the loss without the penalty, with dropout off, after each epoch.
    model.fit(features_of(xy), targets_of(labels), batch_size=BATCH_SIZE, epochs=EPOCHS,
              validation_split={test_share})
'''
