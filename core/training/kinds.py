"""The trainable families of models ("kinds") and how to find one by name.

A kind is an object (``KIND`` in its module) that normalises configs, trains and saves models:
see :class:`Kind`. Kinds import :class:`core.training.progress.Reporter` for the reporter their
``train`` receives, and never the job machinery itself.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

from core.errors import UnknownModel

#: kind name -> "module:attribute" of an object implementing :class:`Kind`.
#: Imported on first use, so TensorFlow loads only when a model is needed.
KINDS: dict[str, str] = {
    "digits": "core.digits.models:KIND",
    "digits_finetune": "core.digits.finetune:KIND",
    "charlstm": "core.text.charlstm:KIND",
    "sequence": "core.text.sequences:KIND",
}


class Kind(Protocol):
    """What a trainable family of models has to provide."""

    name: str

    def normalize(self, config: dict) -> dict:
        """Fill defaults and validate; raise BadConfig with a clear message."""

    def title(self, config: dict) -> str:
        """A short human name for this config, e.g. 'Fast CNN, 3 epochs'."""

    def train(self, config: dict, reporter: Any) -> tuple[Any, dict]:
        """Train with a :class:`core.training.progress.Reporter` and return (model, record extras
        such as metrics). A kind that continues stored models also takes ``resume``: a fresh copy
        of the model ``config["resume"]`` names (see :mod:`core.training.resume`)."""

    def save(self, model: Any, folder: Path) -> None: ...

    def load(self, folder: Path) -> Any: ...


def get_kind(name: str) -> Kind:
    if name not in KINDS:
        known = ", ".join(sorted(KINDS))
        raise UnknownModel(f"Unknown model kind '{name}'. Known kinds: {known}.")
    module_name, attribute = KINDS[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)
