"""Errors that carry a message fit to show a user as it is."""
from __future__ import annotations


class PlaygroundError(Exception):
    """Base class: ``str(error)`` is a complete, friendly sentence."""


class UnknownDataset(PlaygroundError, KeyError):
    def __str__(self) -> str:  # KeyError would add quotes around the message
        return self.args[0] if self.args else "Unknown dataset."


class DatasetUnavailable(PlaygroundError):
    """A dataset that needs the network when the network is not there."""


class UnknownModel(PlaygroundError, KeyError):
    def __str__(self) -> str:
        return self.args[0] if self.args else "Unknown model."


class BadConfig(PlaygroundError, ValueError):
    """A configuration value out of range or of the wrong type."""


class TrainingCancelled(PlaygroundError):
    pass


class BadInput(PlaygroundError, ValueError):
    """User-supplied data (an image, a CSV, a text) that cannot be used."""
