"""The Playground's network: a small dense net of ``tf.Variable``s trained many epochs per call.

The training loop, the forward pass and the loss are ``tf.function``s shared by every network of
the same shape (layer sizes, activations, output, loss, optimizer, kind of penalty, dropout or
not): a :class:`Program`, traced once per server process and called with a network's variables
as arguments. Tracing and compiling cost about half a second to two seconds; shared, they are paid
once per shape, not on the first Step or Play after every Reset, new data set or added point. Until a
new shape's program is ready, ``train(..., traced=False)`` trains in NumPy (core.playground.untraced)
and ``loss``/``layer_outputs`` op by op, so that no control waits for the trace.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.adam import Adam, adam_step
from core.playground import untraced
from core.playground.state import PlaygroundState

PROGRAMS_KEPT = 32  # shapes whose traced programs a server keeps


@dataclass(frozen=True)
class Shape:
    """What a traced program depends on; everything else (rates, seeds, data) is an argument."""

    sizes: tuple[int, ...]  # inputs, hidden layers, outputs
    activations: tuple[str, ...]  # one per hidden layer
    output: str  # "softmax" | "linear" | "sigmoid" | "tanh"
    optimizer: str  # "sgd" | "adam"
    regularization: str  # "none" | "L1" | "L2"
    dropout: bool

    @classmethod
    def of(cls, state: PlaygroundState, outputs: int) -> "Shape":
        if state.multiclass:
            output = "softmax"
        elif state.problem == "regression":
            output = "linear"
        else:
            output = "sigmoid" if state.loss == "crossentropy" else "tanh"
        return cls(sizes=(len(state.features), *state.hidden, outputs),
                   activations=tuple(state.activation_of(i) for i in range(len(state.hidden))),
                   output=output, optimizer=state.optimizer,
                   regularization=state.regularization if state.regularization_rate else "none",
                   dropout=state.dropout > 0)


class Program:
    """The traced functions for one :class:`Shape`. Their first argument is a network's
    :meth:`PlaygroundNet.arguments`: (weights, biases, Adam's first and second moments, Adam's
    step count, the random draws so far, the weight seed, learning rate, penalty rate, dropout)."""

    def __init__(self, shape: Shape) -> None:
        import tensorflow as tf

        self.shape = shape
        self.train = tf.function(self._train_epochs, autograph=False)
        self.forward = tf.function(lambda v, x: self._forward(v, x, training=False, every_layer=True),
                                   autograph=False)
        self.data_loss = tf.function(lambda v, x, y: self._loss(v, self._forward(v, x, training=False), y, False),
                                     autograph=False)
        self._traced = threading.Event()
        self._tracing = threading.Lock()

    @property
    def traced(self) -> bool:
        """Whether the functions are traced and compiled: a call costs only its own work."""
        return self._traced.is_set()

    def trace(self, net: "PlaygroundNet") -> None:
        """Trace all three functions for any number of points, and compile them (once; later calls
        return at once)."""
        import tensorflow as tf

        with self._tracing:
            if self.traced:
                return
            v, features = net.arguments(), self.shape.sizes[0]
            x, y = tf.TensorSpec([None, features], tf.float32), tf.TensorSpec([None], tf.float32)
            self.train.get_concrete_function(v, x, y, tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32))
            self.forward.get_concrete_function(v, x)
            self.data_loss.get_concrete_function(v, x, y)
            # The first call of a traced function compiles it (about as long again as the trace): made
            # here on one point, and for zero epochs, which leaves the network as it was.
            one, label = tf.zeros([1, features]), tf.zeros([1])
            self.train(v, one, label, tf.constant(0), tf.constant(1))
            self.forward(v, one)
            self.data_loss(v, one, label)
            self._traced.set()

    # ---- maths: v is PlaygroundNet.arguments() ------------------------------------------------
    @staticmethod
    def _activate(name, z):
        import tensorflow as tf

        return {"relu": tf.nn.relu, "tanh": tf.tanh, "sigmoid": tf.sigmoid, "linear": tf.identity}[name](z)

    def _output(self, z):
        import tensorflow as tf

        return {"softmax": tf.nn.softmax, "linear": tf.identity, "tanh": tf.tanh,
                "sigmoid": lambda logits: 2 * tf.sigmoid(logits) - 1}[self.shape.output](z)  # (on the -1..1 scale)

    @staticmethod
    def _draw_seed(v):
        """A fresh seed for a stateless random op: (weight seed, draws so far), so that a link's
        weight seed replays the same shuffles and dropout masks."""
        import tensorflow as tf

        return tf.stack([v[6], v[5].assign_add(1)])

    def _forward(self, v, x, training: bool, every_layer: bool = False):
        import tensorflow as tf

        weights, biases, layers, h = v[0], v[1], [], x
        last = len(weights) - 1
        for index, (w, b) in enumerate(zip(weights, biases)):
            z = tf.matmul(h, w) + b
            if index == last:
                h = self._output(z) if every_layer else z
            else:
                h = self._activate(self.shape.activations[index], z)
                if training and self.shape.dropout:
                    h = tf.nn.experimental.stateless_dropout(h, rate=v[9], seed=self._draw_seed(v))
            layers.append(h)
        return layers if every_layer else h

    def _loss(self, v, logits, y, regularize: bool = True):
        import tensorflow as tf

        output = self.shape.output
        if output == "softmax":
            data = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(y, tf.int32), logits=logits))
        elif output == "sigmoid":
            data = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=(y + 1) / 2, logits=logits[:, 0]))
        else:
            out = logits[:, 0] if output == "linear" else tf.tanh(logits[:, 0])
            data = tf.reduce_mean(0.5 * tf.square(out - y))  # the playground's square error
        # L1 is not in the loss: _shrink_l1 applies it after each step, as its proximal step.
        if regularize and self.shape.regularization == "L2":
            data += v[8] * tf.add_n([0.5 * tf.reduce_sum(tf.square(w)) for w in v[0]])
        return data

    @staticmethod
    def _shrink_l1(v):
        """L1's step, taken after the data step: every weight moves ``learning rate × rate`` towards 0,
        and one that would cross 0 stops at exactly 0. This is the TF Playground's clamp (its nn.ts
        sets a weight that the L1 step pushes across 0 to 0) and the proximal step of the penalty
        ``rate·Σ|w|``; a plain gradient step on it would only make weights jitter round 0."""
        import tensorflow as tf

        threshold = v[7] * v[8]
        for w in v[0]:
            w.assign(tf.sign(w) * tf.nn.relu(tf.abs(w) - threshold))

    def _train_epochs(self, v, x, y, epochs, batch_size):
        """``epochs`` epochs of shuffled mini-batches. Written with tf.while_loop rather than left to
        autograph, whose conversion would make every trace (and the first one most) slower."""
        import tensorflow as tf

        n = tf.shape(x)[0]
        batches = (n + batch_size - 1) // batch_size
        variables = list(v[0]) + list(v[1])
        offsets = tf.range(batch_size)

        def one_batch(b, order, loss):
            # Equal-size batches (the last wraps round to the start) keep one traced graph.
            index = tf.gather(order, (b * batch_size + offsets) % n)
            with tf.GradientTape() as tape:
                loss = self._loss(v, self._forward(v, tf.gather(x, index), training=True), tf.gather(y, index))
            gradients = tape.gradient(loss, variables)
            if self.shape.optimizer == "adam":
                adam_step(variables, gradients, v[2], v[3], v[4], v[7])
            else:
                for g, variable in zip(gradients, variables):
                    variable.assign_sub(v[7] * g)
            if self.shape.regularization == "L1":
                self._shrink_l1(v)
            return b + 1, order, loss

        def one_epoch(epoch, loss):
            order = tf.argsort(tf.random.stateless_uniform([n], seed=self._draw_seed(v)))
            _, _, loss = tf.while_loop(lambda b, *_: b < batches, one_batch, (tf.constant(0), order, loss))
            return epoch + 1, loss

        _, loss = tf.while_loop(lambda epoch, _: epoch < epochs, one_epoch, (tf.constant(0), tf.constant(0.0)))
        return loss


@lru_cache(maxsize=PROGRAMS_KEPT)
def program_for(shape: Shape) -> Program:
    """The one program of this shape in this process."""
    return Program(shape)


class PlaygroundNet:
    """A small dense network as tf.Variables, trained many epochs per call."""

    def __init__(self, state: PlaygroundState) -> None:
        import tensorflow as tf

        state.validate()
        self.state = state
        self.num_classes = state.num_classes
        self.outputs = self.num_classes if state.multiclass else 1
        shape = Shape.of(state, self.outputs)
        rng = np.random.default_rng(state.weight_seed)
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(shape.sizes[:-1], shape.sizes[1:]):
            # The playground's init: uniform in [-0.5, 0.5], biases 0.1.
            self.weights.append(tf.Variable(rng.uniform(-0.5, 0.5, (fan_in, fan_out)).astype(np.float32)))
            self.biases.append(tf.Variable(np.full(fan_out, 0.1, np.float32)))
        self.learning_rate = tf.Variable(float(state.learning_rate), dtype=tf.float32)  # changed: weights kept
        self._adam = Adam(self.weights + self.biases)  # its moments; the step is in the program
        self._draws = tf.Variable(0, dtype=tf.int64)
        self._arguments = (self.weights, self.biases, self._adam.first, self._adam.second, self._adam.steps,
                           self._draws, tf.constant(state.weight_seed, tf.int64), self.learning_rate,
                           tf.constant(float(state.regularization_rate)), tf.constant(float(state.dropout)))
        self.program = program_for(shape)
        self.epoch = 0

    def arguments(self) -> tuple:
        """This network's variables and settings, as the program's functions take them."""
        return self._arguments

    def prepare(self) -> None:
        """Trace and compile this network's program now (see the module docstring), if no network
        of its shape has in this process."""
        self.program.trace(self)

    # ---- public ---------------------------------------------------------------------
    def train(self, x: np.ndarray, y: np.ndarray, epochs: int, traced: bool = True) -> None:
        """``epochs`` epochs of shuffled mini-batches. ``traced=False``: while the program is not
        ready, in NumPy (the same epochs, to float32 rounding) instead of waiting for it; a network
        with dropout waits all the same."""
        import tensorflow as tf

        batch = min(self.state.batch_size, len(x))
        if not traced and not self.program.traced and untraced.can_train(self):
            untraced.train_epochs(self, x, y, int(epochs), batch)
        else:
            self.prepare()
            self.program.train(self._arguments, tf.constant(x, tf.float32), tf.constant(y, tf.float32),
                               tf.constant(int(epochs)), tf.constant(batch))
        self.epoch += int(epochs)

    def loss(self, x: np.ndarray, y: np.ndarray, traced: bool = True) -> float:
        """The data loss only (no regularization), as the playground reports it. ``traced=False``
        computes it op by op when the program is not traced yet: slower per call, but without the
        trace, which a new network's first picture need not wait for."""
        import tensorflow as tf

        x, y = tf.constant(x, tf.float32), tf.constant(y, tf.float32)
        if traced or self.program.traced:
            self.prepare()
            return float(self.program.data_loss(self._arguments, x, y))
        return float(self.program._loss(self._arguments, self.program._forward(self._arguments, x, False), y, False))

    def layer_outputs(self, x: np.ndarray, traced: bool = True) -> list[np.ndarray]:
        """Every layer's outputs (hidden activations, then the shown output) for inputs x
        (``traced``: as for :meth:`loss`)."""
        import tensorflow as tf

        x = tf.constant(x, tf.float32)
        if traced or self.program.traced:
            self.prepare()
            return [h.numpy() for h in self.program.forward(self._arguments, x)]
        return [h.numpy() for h in self.program._forward(self._arguments, x, training=False, every_layer=True)]

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = self.layer_outputs(x)[-1]
        return out if self.state.multiclass else out[:, 0]

    def weight_arrays(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(w.numpy(), b.numpy()) for w, b in zip(self.weights, self.biases)]

    def diverged(self, *losses: float) -> bool:
        finite = all(math.isfinite(v) for v in losses)
        return not finite or not all(np.isfinite(w.numpy()).all() for w in self.weights)
