"""The Playground's whole configuration, one object that round-trips through the URL (as the
TF Playground's ``state.ts``)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields

from core.errors import BadConfig
from core.playground.datasets import DATASETS, FEATURES, MULTICLASS_SETS

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
    points: int = 500
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

    # ---- URL -------------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """Only what differs from the defaults, as strings (lists comma-separated)."""
        defaults = PlaygroundState()
        out = {}
        for f in fields(self):
            value, default = getattr(self, f.name), getattr(defaults, f.name)
            if value != default:
                out[f.name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        return out

    @classmethod
    def from_query(cls, query: dict[str, str]) -> tuple["PlaygroundState", list[str]]:
        """A state from URL parameters; unusable values are ignored and reported."""
        state, problems = cls(), []
        for f in fields(cls):
            if f.name not in query:
                continue
            raw, current = str(query[f.name]), getattr(state, f.name)
            try:
                if isinstance(current, bool):
                    value = raw.lower() in ("1", "true", "yes")
                elif isinstance(current, list):
                    items = [item for item in raw.split(",") if item != ""]
                    value = [int(item) for item in items] if f.name == "hidden" else items
                else:
                    value = type(current)(raw)
                setattr(state, f.name, value)
            except ValueError:
                problems.append(f"Ignored the link's value {f.name}={raw!r}.")
        try:
            state.validate()
        except BadConfig as error:
            problems.append(f"The link's settings were not usable ({error}); using the defaults.")
            state = cls()
        return state, problems
