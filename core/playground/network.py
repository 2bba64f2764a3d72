"""The Playground's network: a small dense net of ``tf.Variable``s whose training step is a
``tf.function`` that runs many epochs per call, so the page can animate several frames a second
while training hundreds of epochs a second."""
from __future__ import annotations

import math

import numpy as np

from core.adam import Adam
from core.playground.state import PlaygroundState


class PlaygroundNet:
    """A small dense network as tf.Variables, trained many epochs per call."""

    def __init__(self, state: PlaygroundState) -> None:
        import tensorflow as tf

        state.validate()
        self.state = state
        self.num_classes = state.num_classes
        self.outputs = self.num_classes if state.multiclass else 1
        sizes = [len(state.features), *state.hidden, self.outputs]
        rng = np.random.default_rng(state.weight_seed)
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            # The playground's init: uniform in [-0.5, 0.5], biases 0.1.
            self.weights.append(tf.Variable(rng.uniform(-0.5, 0.5, (fan_in, fan_out)).astype(np.float32)))
            self.biases.append(tf.Variable(np.full(fan_out, 0.1, np.float32)))
        variables = self.weights + self.biases
        self.learning_rate = tf.Variable(float(state.learning_rate), dtype=tf.float32)
        # SGD and Adam as variable updates inside the training loop (why: see core.adam).
        self._adam = Adam(variables)
        self._generator = tf.random.Generator.from_seed(state.weight_seed)
        self.epoch = 0
        self._train = tf.function(self._train_epochs, reduce_retracing=True)
        self._forward_all = tf.function(lambda x: self._forward(x, training=False, every_layer=True))
        self._data_loss = tf.function(lambda x, y: self._loss(self._forward(x, training=False), y, regularize=False),
                                      reduce_retracing=True)

    # ---- maths ---------------------------------------------------------------------
    def _activate(self, name, z):
        import tensorflow as tf

        return {"relu": tf.nn.relu, "tanh": tf.tanh, "sigmoid": tf.sigmoid, "linear": tf.identity}[name](z)

    def _output(self, z):
        import tensorflow as tf

        if self.state.multiclass:
            return tf.nn.softmax(z)
        if self.state.problem == "regression":
            return z
        if self.state.loss == "crossentropy":
            return 2 * tf.sigmoid(z) - 1  # shown on the same -1..1 scale
        return tf.tanh(z)

    def _forward(self, x, training: bool, every_layer: bool = False):
        import tensorflow as tf

        layers, h = [], x
        last = len(self.weights) - 1
        for index, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = tf.matmul(h, w) + b
            if index == last:
                h = z if not every_layer else self._output(z)
            else:
                h = self._activate(self.state.activation_of(index), z)
                if training and self.state.dropout > 0:  # seeded masks: a link replays its run exactly
                    h = tf.nn.experimental.stateless_dropout(h, rate=self.state.dropout,
                                                             seed=self._generator.make_seeds(1)[:, 0])
            layers.append(h)
        return layers if every_layer else h

    def _loss(self, logits, y, regularize: bool = True):
        import tensorflow as tf

        state = self.state
        if state.multiclass:
            data = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(y, tf.int32), logits=logits))
        elif state.problem == "classification" and state.loss == "crossentropy":
            data = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=(y + 1) / 2, logits=logits[:, 0]))
        else:
            out = logits[:, 0] if state.problem == "regression" else tf.tanh(logits[:, 0])
            data = tf.reduce_mean(0.5 * tf.square(out - y))  # the playground's square error
        # L1 is not in the loss: _shrink_l1 applies it after each step, as its proximal step.
        if regularize and state.regularization == "L2" and state.regularization_rate:
            data += state.regularization_rate * tf.add_n([0.5 * tf.reduce_sum(tf.square(w)) for w in self.weights])
        return data

    def _shrink_l1(self):
        """L1's step, taken after the data step: every weight moves ``learning rate × rate`` towards 0,
        and one that would cross 0 stops at exactly 0. This is the TF Playground's clamp (its nn.ts
        sets a weight that the L1 step pushes across 0 to 0) and the proximal step of the penalty
        ``rate·Σ|w|``; a plain gradient step on it would only make weights jitter round 0."""
        import tensorflow as tf

        threshold = self.learning_rate * self.state.regularization_rate
        for w in self.weights:
            w.assign(tf.sign(w) * tf.nn.relu(tf.abs(w) - threshold))

    def _apply(self, gradients, variables):
        if self.state.optimizer == "adam":
            self._adam.apply(gradients, self.learning_rate)
        else:
            for g, v in zip(gradients, variables):
                v.assign_sub(self.learning_rate * g)

    def _train_epochs(self, x, y, epochs, batch_size):
        import tensorflow as tf

        n = tf.shape(x)[0]
        batches = (n + batch_size - 1) // batch_size
        variables = self.weights + self.biases
        offsets = tf.range(batch_size)
        l1 = self.state.regularization == "L1" and self.state.regularization_rate > 0
        loss = tf.constant(0.0)
        for _ in tf.range(epochs):
            order = tf.argsort(self._generator.uniform([n]))
            for b in tf.range(batches):
                # Equal-size batches (the last wraps round to the start) keep one traced graph.
                index = tf.gather(order, (b * batch_size + offsets) % n)
                with tf.GradientTape() as tape:
                    loss = self._loss(self._forward(tf.gather(x, index), training=True), tf.gather(y, index))
                self._apply(tape.gradient(loss, variables), variables)
                if l1:
                    self._shrink_l1()
        return loss

    # ---- public ---------------------------------------------------------------------
    def train(self, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
        import tensorflow as tf

        batch = min(self.state.batch_size, len(x))
        self._train(tf.constant(x), tf.constant(y, tf.float32), tf.constant(int(epochs)), batch)
        self.epoch += int(epochs)

    def loss(self, x: np.ndarray, y: np.ndarray, traced: bool = True) -> float:
        """The data loss only (no regularization), as the playground reports it. ``traced=False``
        computes it op by op: slower per call, but without the first call's trace (~0.1 s), which a
        new network's first picture need not wait for."""
        import tensorflow as tf

        x, y = tf.constant(x, tf.float32), tf.constant(y, tf.float32)
        if not traced:
            return float(self._loss(self._forward(x, training=False), y, regularize=False))
        return float(self._data_loss(x, y))

    def layer_outputs(self, x: np.ndarray, traced: bool = True) -> list[np.ndarray]:
        """Every layer's outputs (hidden activations, then the shown output) for inputs x
        (``traced``: as for :meth:`loss`)."""
        if not traced:
            return [h.numpy() for h in self._forward(x, training=False, every_layer=True)]
        return [h.numpy() for h in self._forward_all(x)]

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = self.layer_outputs(x)[-1]
        return out if self.state.multiclass else out[:, 0]

    def weight_arrays(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(w.numpy(), b.numpy()) for w, b in zip(self.weights, self.biases)]

    def diverged(self, *losses: float) -> bool:
        finite = all(math.isfinite(v) for v in losses)
        return not finite or not all(np.isfinite(w.numpy()).all() for w in self.weights)
