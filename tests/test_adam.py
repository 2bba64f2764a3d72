"""The shared written-out Adam (core.adam) takes the same steps as keras.optimizers.Adam."""
from __future__ import annotations

import numpy as np
import pytest

from core.adam import Adam


def least_squares(seed: int = 0):
    """A small problem with a full gradient: two variables, a loss that is not separable."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=(32, 5)).astype(np.float32))
    y = tf.constant(rng.normal(size=(32, 3)).astype(np.float32))
    start = [rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)]

    def loss(w, b):
        return tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))

    return start, loss


def run_keras(start, loss, steps, learning_rate, **options):
    import keras
    import tensorflow as tf

    variables = [tf.Variable(value) for value in start]
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **options)
    trail = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            value = loss(*variables)
        optimizer.apply(tape.gradient(value, variables), variables)
        trail.append([v.numpy() for v in variables])
    return trail


@pytest.mark.parametrize("clip_norm", [None, 0.5])
def test_same_steps_as_keras_adam_inside_a_tf_function(clip_norm):
    import tensorflow as tf

    start, loss = least_squares()
    variables = [tf.Variable(value) for value in start]
    adam = Adam(variables, clip_norm=clip_norm)
    learning_rate = tf.Variable(0.05)  # as the Playground holds it: changed without a retrace

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss(*variables)
        gradients = tape.gradient(value, variables)
        return adam.apply(gradients, learning_rate), tf.linalg.global_norm(gradients)

    theirs = run_keras(start, loss, 6, 0.05, **({} if clip_norm is None else {"global_clipnorm": clip_norm}))
    for expected in theirs:
        norm, true_norm = step()
        assert float(norm) == pytest.approx(float(true_norm), rel=1e-6)  # the norm before clipping
        for ours, keras_value in zip(variables, expected):
            np.testing.assert_allclose(ours.numpy(), keras_value, rtol=1e-5, atol=1e-6)
    if clip_norm is not None:
        assert float(true_norm) > clip_norm  # the clip was in play, not a no-op on small gradients
    assert step.experimental_get_tracing_count() == 1


def test_the_learning_rate_can_change_between_calls_and_eagerly():
    import keras
    import tensorflow as tf

    start, loss = least_squares(1)
    variables = [tf.Variable(value) for value in start]
    adam = Adam(variables)
    rates = [0.1, 0.1, 0.01, 0.01]
    for rate in rates:  # eager calls with plain floats
        with tf.GradientTape() as tape:
            value = loss(*variables)
        adam.apply(tape.gradient(value, variables), rate)
    # Keras with the same schedule: a Variable learning rate assigned between steps.
    keras_variables = [tf.Variable(value) for value in start]
    keras_rate = tf.Variable(rates[0])
    optimizer = keras.optimizers.Adam(learning_rate=lambda: keras_rate)
    for rate in rates:
        keras_rate.assign(rate)
        with tf.GradientTape() as tape:
            value = loss(*keras_variables)
        optimizer.apply(tape.gradient(value, keras_variables), keras_variables)
    for ours, theirs in zip(variables, keras_variables):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(variables[0].numpy(), start[0])
