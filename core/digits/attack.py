"""Make it fail: the small change to a drawing that makes a network read something else.

Projected gradient descent (PGD, Madry et al. 2018) on the 28×28 input, the network's weights fixed:
each step moves every pixel a little in the direction that lowers the loss for the target class
(or, for "anything else", raises it for the class the network reads now), then projects the change
back into the budget — every pixel within ±ε of the drawing (L∞), or the whole change no longer
than ε (L2) — and the picture back into [0, 1]. It stops once the network reads the target ahead
of every other class by at least ten percentage points, so the change it shows is no bigger than it
needed.
FGSM (Goodfellow et al. 2015), one step of the full budget, is the reference the benchmark
compares with.
"""
from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass

import numpy as np

from core.errors import BadInput

NORMS = {"linf": "L∞", "l2": "L2"}
DEFAULT_BUDGET = {"linf": 0.3, "l2": 3.0}
MAX_BUDGET = {"linf": 1.0, "l2": 28.0}  # any picture is within these of any other
STEPS = 40
LEAD = 0.1  # stop once the target's probability leads every other class's by this much
ANYTHING_ELSE = None  # the target meaning "any class but the one it reads now"

_attackers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass
class Attack:
    original: np.ndarray       # (28, 28) in [0, 1]
    changed: np.ndarray        # (28, 28) in [0, 1]
    target: int | None         # None: anything but the class read before
    norm: str                  # "linf" or "l2"
    budget: float
    before: np.ndarray         # class probabilities for the original
    after: np.ndarray          # … and for the changed picture
    steps: int                 # gradient steps taken
    seconds: float
    method: str = "pgd"

    @property
    def change(self) -> np.ndarray:
        return self.changed - self.original

    @property
    def linf(self) -> float:
        return float(np.abs(self.change).max())

    @property
    def l2(self) -> float:
        return float(np.sqrt((self.change.astype(np.float64) ** 2).sum()))

    @property
    def size(self) -> float:
        """The change measured in the budget's own norm."""
        return self.linf if self.norm == "linf" else self.l2

    @property
    def read_before(self) -> int:
        return int(np.argmax(self.before))

    @property
    def read_after(self) -> int:
        return int(np.argmax(self.after))

    @property
    def success(self) -> bool:
        if self.target is None:
            return self.read_after != self.read_before
        return self.read_after == self.target


class _Attacker:
    """One compiled gradient step per loaded model, shared by every session."""

    def __init__(self, model) -> None:
        import tensorflow as tf

        self.lock = threading.Lock()
        picture = tf.TensorSpec((1, 28, 28, 1), tf.float32)
        scalar = tf.TensorSpec((), tf.float32)

        @tf.function(input_signature=[picture, picture, tf.TensorSpec((), tf.int32), scalar, scalar,
                                      scalar, tf.TensorSpec((), tf.bool)])
        def step(original, delta, label, direction, size, budget, l2):
            """Probabilities at ``original + delta``, and ``delta`` after one projected step.

            The loss is −log p(label); ``direction`` −1 lowers it (towards a target), +1 raises
            it (away from the class read now)."""
            with tf.GradientTape() as tape:
                tape.watch(delta)
                probabilities = model(original + delta, training=False)
                loss = -tf.math.log(probabilities[0, label] + 1e-12)
            gradient = tape.gradient(loss, delta)
            if_l2 = gradient / (tf.norm(gradient) + 1e-12)
            moved = delta + direction * size * tf.where(l2, if_l2, tf.sign(gradient))
            length = tf.norm(moved)
            projected = tf.where(l2, moved * tf.minimum(1.0, budget / (length + 1e-12)),
                                 tf.clip_by_value(moved, -budget, budget))
            return probabilities[0], tf.clip_by_value(original + projected, 0.0, 1.0) - original

        self.step = step
        self.probabilities = tf.function(lambda x: model(x, training=False)[0], input_signature=[picture])
        zeros = tf.zeros((1, 28, 28, 1))
        step(zeros, zeros, tf.constant(0), tf.constant(-1.0), tf.constant(0.1), tf.constant(0.1),
             tf.constant(False))  # traced now, not on the learner's first click


def attacker_for(model) -> _Attacker:
    with _lock:
        attacker = _attackers.get(model)
        if attacker is None:
            attacker = _attackers[model] = _Attacker(model)
        return attacker


def check(digit: np.ndarray, target: int | None, norm: str, budget: float, classes: int) -> np.ndarray:
    """The digit as a (28, 28) float32 array, or a BadInput saying what is wrong with the request."""
    digit = np.asarray(digit, dtype=np.float32)
    if digit.shape != (28, 28):
        raise BadInput(f"Expected a 28×28 picture, got an array of shape {digit.shape}.")
    if not np.isfinite(digit).all() or digit.max() <= 0:
        raise BadInput("There is nothing to change yet: draw a digit first.")
    if norm not in NORMS:
        raise BadInput(f"Unknown budget norm '{norm}': use one of {', '.join(NORMS)}.")
    if not np.isfinite(budget) or budget <= 0:
        raise BadInput(f"A budget of {budget:g} allows no change at all: give the search some room, "
                       f"e.g. {DEFAULT_BUDGET[norm]:g} in {NORMS[norm]}.")
    if budget > MAX_BUDGET[norm]:
        raise BadInput(f"An {NORMS[norm]} budget above {MAX_BUDGET[norm]:g} allows any picture at all, "
                       "which is no longer a small change.")
    if target is not None and not 0 <= target < classes:
        raise BadInput(f"This network has {classes} classes: there is no class {target}.")
    return digit.clip(0.0, 1.0)


def attack(model, digit: np.ndarray, target: int | None, norm: str = "linf", budget: float | None = None,
           steps: int = STEPS, method: str = "pgd") -> Attack:
    """Search for a change within ``budget`` that makes ``model`` read ``digit`` as ``target``
    (a class index, or None for anything but what it reads now).

    ``method="pgd"`` takes up to ``steps`` steps of 2.5·budget/steps each and stops once the
    target leads every other class by ``LEAD``; ``"fgsm"`` takes one step of the whole budget.
    """
    import tensorflow as tf

    budget = DEFAULT_BUDGET.get(norm, 0.0) if budget is None else float(budget)
    classes = int(model.output_shape[-1])
    digit = check(digit, target, norm, budget, classes)
    if method not in ("pgd", "fgsm"):
        raise BadInput(f"Unknown search '{method}': use pgd or fgsm.")
    attacker = attacker_for(model)
    started = time.perf_counter()
    original = tf.constant(digit[None, ..., None])
    with attacker.lock:
        before = attacker.probabilities(original).numpy()
        read = int(np.argmax(before))
        if target is not None and target == read:
            raise BadInput("The network already reads it as that: pick another target.")
        label = tf.constant(read if target is None else target, tf.int32)
        direction = tf.constant(1.0 if target is None else -1.0)
        l2 = tf.constant(norm == "l2")
        limit = tf.constant(budget, tf.float32)
        size = tf.constant(budget if method == "fgsm" else 2.5 * budget / steps, tf.float32)
        delta = tf.zeros_like(original)
        taken = 0
        for taken in range(1, (1 if method == "fgsm" else steps) + 1):
            probabilities, moved = attacker.step(original, delta, label, direction, size, limit, l2)
            if taken > 1 and method == "pgd" and _done(probabilities.numpy(), read, target):
                taken -= 1  # this delta was already enough: the last step is not kept
                break
            delta = moved
        changed = (original + delta).numpy()[0, ..., 0]
        after = attacker.probabilities(original + delta).numpy()
    return Attack(digit, changed, target, norm, budget, before, after, taken, time.perf_counter() - started, method)


def _done(probabilities: np.ndarray, read: int, target: int | None) -> bool:
    """Whether the target (or, for anything else, some class other than ``read``) leads clearly."""
    first, second = np.sort(probabilities)[-2:][::-1]
    top = int(np.argmax(probabilities))
    return (top != read if target is None else top == target) and first - second >= LEAD
