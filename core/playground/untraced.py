"""Training epochs of a Playground network in NumPy, for the moments before its program is ready.

A new network shape's traced program (core.playground.network) takes half a second to a few seconds
to trace and compile, and most of that holds Python's lock. A Step pressed in that time, or the
first chunks of a Play, train here instead: the same epochs as ``Program._train_epochs`` — the same
shuffles (drawn by the same stateless TensorFlow op from the same seed), batches, gradients,
SGD or Adam step and L1/L2 penalties, written out by hand — on the network's own variables. The
results agree with the traced program's to float32 rounding (tests/test_playground.py checks
every output, optimizer and penalty). Dropout's masks are not reproduced here: a network with
dropout waits for its program.
"""
from __future__ import annotations

import numpy as np

from core.adam import BETA_1, BETA_2, EPSILON

_ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0), lambda h: (h > 0).astype(np.float32)),
    "tanh": (np.tanh, lambda h: 1 - h * h),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda h: h * (1 - h)),
    "linear": (lambda z: z, lambda h: np.ones_like(h)),
}


def can_train(net) -> bool:
    """Whether :func:`train_epochs` can train this network (no dropout)."""
    return not net.program.shape.dropout


def train_epochs(net, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int) -> None:
    """``epochs`` epochs of ``net`` on (x, y), as its traced program would train them."""
    import tensorflow as tf

    program, arguments = net.program, net.arguments()
    shape = program.shape
    weights = [w.numpy() for w in net.weights]
    biases = [b.numpy() for b in net.biases]
    adam = shape.optimizer == "adam"
    first = [m.numpy() for m in arguments[2]] if adam else []
    second = [v.numpy() for v in arguments[3]] if adam else []
    steps = float(arguments[4].numpy())
    rate = np.float32(arguments[7].numpy())
    penalty = np.float32(arguments[8].numpy())
    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
    n = len(x)
    offsets = np.arange(batch_size)
    for _ in range(epochs):
        order = tf.argsort(tf.random.stateless_uniform([n], seed=program._draw_seed(arguments))).numpy()
        for start in range(0, (n + batch_size - 1) // batch_size * batch_size, batch_size):
            index = order[(start + offsets) % n]
            gradients = _gradients(shape, weights, biases, x[index], y[index], penalty)
            variables = weights + biases
            if adam:
                steps += 1.0
                step = rate * np.sqrt(np.float32(1.0 - BETA_2 ** steps)) / np.float32(1.0 - BETA_1 ** steps)
                for variable, gradient, m, v in zip(variables, gradients, first, second):
                    m[...] = BETA_1 * m + (1.0 - BETA_1) * gradient
                    v[...] = BETA_2 * v + (1.0 - BETA_2) * gradient * gradient
                    variable -= step * m / (np.sqrt(v) + EPSILON)
            else:
                for variable, gradient in zip(variables, gradients):
                    variable -= rate * gradient
            if shape.regularization == "L1":  # its proximal step, as Program._shrink_l1
                for w in weights:
                    w[...] = np.sign(w) * np.maximum(np.abs(w) - rate * penalty, 0)
    for variable, value in zip(net.weights + net.biases, weights + biases):
        variable.assign(value)
    if adam:
        for variable, value in zip(arguments[2] + arguments[3], first + second):
            variable.assign(value)
        arguments[4].assign(steps)


def _gradients(shape, weights, biases, x, y, penalty) -> list[np.ndarray]:
    """The gradients of the batch's loss (Program._loss, with its L2 term) for weights, then biases."""
    layers, h, last = [x], x, len(weights) - 1
    for index, (w, b) in enumerate(zip(weights, biases)):
        z = h @ w + b
        h = z if index == last else _ACTIVATIONS[shape.activations[index]][0](z)
        layers.append(h)
    logits, count = layers[-1], np.float32(len(x))
    if shape.output == "softmax":
        shifted = np.exp(logits - logits.max(1, keepdims=True))
        delta = shifted / shifted.sum(1, keepdims=True)
        delta[np.arange(len(x)), y.astype(int)] -= 1
    elif shape.output == "sigmoid":
        delta = (1 / (1 + np.exp(-logits[:, :1])) - (y[:, None] + 1) / 2)
    elif shape.output == "tanh":
        out = np.tanh(logits[:, :1])
        delta = (out - y[:, None]) * (1 - out * out)
    else:  # linear
        delta = logits[:, :1] - y[:, None]
    delta = (delta / count).astype(np.float32)
    weight_gradients, bias_gradients = [None] * len(weights), [None] * len(weights)
    for index in range(last, -1, -1):
        weight_gradients[index] = layers[index].T @ delta
        if shape.regularization == "L2":
            weight_gradients[index] += penalty * weights[index]
        bias_gradients[index] = delta.sum(0)
        if index:
            delta = (delta @ weights[index].T) * _ACTIVATIONS[shape.activations[index - 1]][1](layers[index])
    return weight_gradients + bias_gradients
