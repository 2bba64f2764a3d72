"""Adam written out as ``tf.Variable`` updates, for the from-scratch models and the Playground network.

The same update and defaults as ``keras.optimizers.Adam`` (a test checks them step by step), with
optional clipping by the global norm as Keras' ``global_clipnorm``. Written out, it runs inside the
caller's ``tf.function`` (even a loop of many steps) as a handful of plain ops: a Keras optimizer
there costs far more per step and, in Keras 3, compiles per network.
"""
from __future__ import annotations

from typing import Any

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras' defaults


class Adam:
    """First and second moments per variable, and the step count, as tf.Variables.

    Build it outside ``tf.function`` (it creates variables), then call :meth:`apply` inside or out.
    """

    def __init__(self, variables: list, beta_1: float = BETA_1, beta_2: float = BETA_2, epsilon: float = EPSILON,
                 clip_norm: float | None = None) -> None:
        import tensorflow as tf

        self.variables = list(variables)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.clip_norm = clip_norm
        self.first = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.second = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.steps = tf.Variable(0.0, trainable=False)

    def apply(self, gradients: list, learning_rate: Any) -> Any:
        """One step on ``self.variables``; returns the gradients' global norm before any clipping.

        ``learning_rate`` may be a number, a tensor or a ``tf.Variable`` (changed between calls without
        a retrace).
        """
        import tensorflow as tf

        gradients = [tf.convert_to_tensor(g) for g in gradients]
        if self.clip_norm is None:
            norm = tf.linalg.global_norm(gradients)
        else:
            gradients, norm = tf.clip_by_global_norm(gradients, self.clip_norm)
        adam_step(self.variables, gradients, self.first, self.second, self.steps, learning_rate,
                  self.beta_1, self.beta_2, self.epsilon)
        return norm


def adam_step(variables: list, gradients: list, first: list, second: list, steps: Any, learning_rate: Any,
              beta_1: float = BETA_1, beta_2: float = BETA_2, epsilon: float = EPSILON) -> None:
    """One Adam step on ``variables`` with the moments and step count given as tf.Variables: what
    :meth:`Adam.apply` does, for a traced function shared by several networks (their variables
    are its arguments, see core.playground.network)."""
    import tensorflow as tf

    steps.assign_add(1.0)
    # The bias corrections folded into the step size, as Keras does.
    rate = learning_rate * tf.sqrt(1.0 - beta_2 ** steps) / (1.0 - beta_1 ** steps)
    for variable, gradient, m, v in zip(variables, gradients, first, second):
        m.assign(beta_1 * m + (1.0 - beta_1) * gradient)
        v.assign(beta_2 * v + (1.0 - beta_2) * tf.square(gradient))
        variable.assign_sub(rate * m / (tf.sqrt(v) + epsilon))
