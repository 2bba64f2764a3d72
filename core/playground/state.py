"""The Playground's whole configuration, one object that round-trips through the URL (as the
TF Playground's ``state.ts``)."""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, fields

from core.errors import BadConfig
from core.playground.datasets import DATASETS, FEATURES, MULTICLASS_SETS, REGRESSION_SETS

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


@dataclass
class PlaygroundState:
    """Everything the page shows, serialisable to and from the URL."""

    dataset: str = "circle"
    noise: int = 0  # percent, 0..50
    train_ratio: int = 50  # percent, 10..90
    batch_size: int = 10
    points: int = 0  # how many points; 0: the playground's 500 (classification) or 1200 (regression)
    classes: int = 3  # for the multiclass sets
    custom_classes: int = 2  # how many labels your own points use
    features: list[str] = field(default_factory=lambda: ["x", "y"])
    hidden: list[int] = field(default_factory=lambda: [4, 2])
    activation: str = "tanh"
    layer_activations: list[str] = field(default_factory=list)  # per hidden layer; empty = all the same
    learning_rate: float = 0.03
    regularization: str = "none"  # none | L1 | L2
    regularization_rate: float = 0.0
    problem: str = "classification"  # classification | regression
    loss: str = "squared"  # squared | crossentropy
    optimizer: str = "sgd"  # sgd | adam
    dropout: float = 0.0
    seed: int = 0  # which points the data set draws (Regenerate changes it)
    weight_seed: int = 0  # the initial weights, the batch order and the dropout masks (Reset changes it)
    advanced: bool = False
    show_test: bool = False
    discretize: bool = False

    # ---- limits ----------------------------------------------------------------
    @property
    def max_layers(self) -> int:
        return 8 if self.advanced else 6

    @property
    def max_neurons(self) -> int:
        return 32 if self.advanced else 8

    @property
    def max_batch(self) -> int:
        return 256 if self.advanced else 30

    @property
    def point_count(self) -> int:
        return self.points or (1200 if self.problem == "regression" else 500)

    @property
    def multiclass(self) -> bool:
        return self.dataset in MULTICLASS_SETS or (self.dataset == "custom" and self.custom_classes > 2)

    @property
    def num_classes(self) -> int:
        return self.custom_classes if self.dataset == "custom" else (self.classes if self.multiclass else 2)

    def activation_of(self, layer: int) -> str:
        if layer < len(self.layer_activations):
            return self.layer_activations[layer]
        return self.activation

    def validate(self) -> None:
        if self.dataset not in DATASETS:
            raise BadConfig(f"Unknown dataset '{self.dataset}'.")
        if not self.features:
            raise BadConfig("Select at least one input feature: the network needs something to look at.")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise BadConfig(f"Unknown feature(s): {', '.join(unknown)}.")
        if len(self.hidden) > self.max_layers:
            raise BadConfig(f"At most {self.max_layers} hidden layers (switch on Advanced for 8).")
        if any(not 1 <= n <= self.max_neurons for n in self.hidden):
            raise BadConfig(f"Each hidden layer has 1 to {self.max_neurons} neurons.")
        if not 1 <= self.batch_size <= self.max_batch:
            raise BadConfig(f"Batch size must be between 1 and {self.max_batch}.")
        for activation in [self.activation, *self.layer_activations]:
            if activation not in ACTIVATIONS:
                raise BadConfig(f"Unknown activation '{activation}'.")
        if not 0 < self.learning_rate <= 10:
            raise BadConfig("The learning rate must be above 0 and at most 10.")
        if not 0 <= self.dropout < 1:
            raise BadConfig("Dropout must be at least 0 and below 1.")

    def reseed(self) -> None:
        """A fresh ``weight_seed``: Reset's new random weights. The seed goes into the URL with the
        rest, so a shared link still starts from exactly these weights."""
        seed = self.weight_seed
        while seed == self.weight_seed:
            seed = secrets.randbelow(1_000_000)
        self.weight_seed = seed

    def fit_limits(self) -> None:
        """Bring the batch size and layers within the limits (after Advanced was switched off)."""
        self.batch_size = min(self.batch_size, self.max_batch)
        self.hidden = [min(n, self.max_neurons) for n in self.hidden][: self.max_layers]
        self.layer_activations = self.layer_activations[: len(self.hidden)]

    def for_problem(self, problem: str) -> None:
        """Switch the problem type; each has its own data sets (the playground's first of each)."""
        if problem != self.problem:
            self.problem = problem
            self.dataset = "reg-plane" if problem == "regression" else "circle"

    # ---- URL -------------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """Only what differs from the defaults, as strings (lists comma-separated). Your own points
        are not in the URL, nor is how many classes they have."""
        defaults = PlaygroundState()
        out = {}
        for f in fields(self):
            value, default = getattr(self, f.name), getattr(defaults, f.name)
            if value != default and f.name not in NOT_IN_LINK:
                out[f.name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        return out

    @classmethod
    def from_query(cls, query: dict[str, str]) -> tuple["PlaygroundState", list[str]]:
        """A state from URL parameters, each value checked on its own: one out of range is moved into
        it and one that cannot be used is left out, each with a note; the rest of the link stays."""
        return _read_link(cls(), {name: str(value) for name, value in query.items()})


NOT_IN_LINK = {"custom_classes"}

# ---- reading a link: each value on its own ---------------------------------------------------
CHOICES = {"dataset": tuple(DATASETS), "activation": ACTIVATIONS, "regularization": ("none", "L1", "L2"),
           "problem": ("classification", "regression"), "loss": ("squared", "crossentropy"),
           "optimizer": ("sgd", "adam")}
RANGES = {"noise": (0, 50, 5), "train_ratio": (10, 90, 10), "classes": (3, 8, 1), "points": (0, 2000, 1),
          "dropout": (0.0, 0.5, 0.05), "seed": (0, 2**31 - 1, 1), "weight_seed": (0, 2**31 - 1, 1)}
STEPS = {"learning_rate": LEARNING_RATES, "regularization_rate": REGULARIZATION_RATES}
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _read_link(state: PlaygroundState, query: dict[str, str]) -> tuple[PlaygroundState, list[str]]:
    notes: list[str] = []

    def ignored(name: str, why: str) -> None:
        notes.append(f"Left out the link's {name}={query[name]!r}: {why}.")

    for name in ("advanced", "show_test", "discretize"):  # (advanced first: the limits depend on it)
        if name in query:
            if query[name].lower() in BOOLEANS:
                setattr(state, name, BOOLEANS[query[name].lower()])
            else:
                ignored(name, "not true or false")
    for name, allowed in CHOICES.items():
        if name in query:
            if query[name] in allowed:
                setattr(state, name, query[name])
            else:
                ignored(name, f"not one of {', '.join(allowed)}")
    for name, (low, high, step) in RANGES.items():
        if name in query:
            kind = type(getattr(state, name))
            try:
                value = kind(query[name]) if kind is int else float(query[name])
            except ValueError:
                ignored(name, "not a number" if kind is float else "not a whole number")
                continue
            if not math.isfinite(value):
                ignored(name, "not a number")
                continue
            fitted = kind(min(max(round((value - low) / step) * step + low, low), high))
            if kind is float:
                fitted = round(fitted, 10)
            if not low <= value <= high:
                notes.append(f"The link's {name}={query[name]} is outside {low}–{high}: using {fitted}.")
            elif fitted != value:
                notes.append(f"The link's {name}={query[name]} is between the steps of {step}: using {fitted}.")
            setattr(state, name, fitted)
    for name, steps in STEPS.items():
        if name in query:
            try:
                value = float(query[name])
            except ValueError:
                ignored(name, "not a number")
                continue
            if not (math.isfinite(value) and value >= 0):
                ignored(name, "not a number of 0 or more")
                continue
            nearest = min(steps, key=lambda s: abs(math.log10(s + 1e-12) - math.log10(value + 1e-12)))
            if nearest != value:
                notes.append(f"The link's {name}={query[name]} is not one of the page's values: using {nearest:g}.")
            setattr(state, name, nearest)
    _read_network(state, query, notes, ignored)
    if "batch_size" in query:
        try:
            value = int(query["batch_size"])
            if not 1 <= value <= state.max_batch:
                notes.append(f"The link's batch_size={value} is outside 1–{state.max_batch}: using "
                             f"{min(max(value, 1), state.max_batch)}.")
            state.batch_size = min(max(value, 1), state.max_batch)
        except ValueError:
            ignored("batch_size", "not a whole number")
    problem = "regression" if state.dataset in REGRESSION_SETS else "classification"
    if state.problem != problem:
        if "problem" in query:
            notes.append(f"The link's problem={state.problem} does not fit its data set "
                         f"{DATASETS[state.dataset]}: using {problem}.")
        state.problem = problem
    try:
        state.validate()
    except BadConfig as error:  # (every value was checked above; kept as a last guard)
        notes.append(f"The link's settings were not usable ({error}); using the defaults.")
        state = PlaygroundState()
    return state, notes


def _read_network(state: PlaygroundState, query: dict[str, str], notes: list[str], ignored) -> None:
    """features, hidden and layer_activations: lists, each item checked."""
    if "features" in query:
        items = [item for item in query["features"].split(",") if item]
        known = [name for name in FEATURES if name in items]
        unknown = sorted(set(items) - set(FEATURES))
        if not known:
            ignored("features", f"none of {', '.join(FEATURES)}")
        else:
            state.features = known
            if len(items) != len(set(items)):
                notes.append(f"The link's features={query['features']} names a feature twice: each is used once.")
            if unknown:
                notes.append(f"The link's features={query['features']} names unknown feature(s) "
                             f"{', '.join(unknown)}: left out.")
    if "hidden" in query:
        try:
            hidden = [int(item) for item in query["hidden"].split(",") if item.strip()]
        except ValueError:
            ignored("hidden", "not whole numbers of neurons")
        else:
            fitted = [min(max(n, 1), state.max_neurons) for n in hidden][: state.max_layers]
            if fitted != hidden:
                notes.append(f"The link's hidden={query['hidden']} is over the limits (up to {state.max_layers} "
                             f"layers of 1–{state.max_neurons} neurons): using {','.join(map(str, fitted))}.")
            state.hidden = fitted
    if "layer_activations" in query:
        items = [item for item in query["layer_activations"].split(",") if item]
        if all(item in ACTIVATIONS for item in items):
            state.layer_activations = items[: len(state.hidden)]
        else:
            ignored("layer_activations", f"each must be one of {', '.join(ACTIVATIONS)}")
    state.layer_activations = state.layer_activations[: len(state.hidden)]
