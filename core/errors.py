"""Errors that carry a message fit to show a user as it is."""
from __future__ import annotations


class AppError(Exception):
    """Base class: ``str(error)`` is a complete, friendly sentence."""


class UnknownDataset(AppError, KeyError):
    def __str__(self) -> str:  # KeyError would add quotes around the message
        return self.args[0] if self.args else "Unknown dataset."


class DatasetUnavailable(AppError):
    """A dataset that needs the network when the network is not there."""


class UnknownModel(AppError, KeyError):
    def __str__(self) -> str:
        return self.args[0] if self.args else "Unknown model."


class BadConfig(AppError, ValueError):
    """A configuration value out of range or of the wrong type."""


class TrainingCancelled(AppError):
    pass


class BadInput(AppError, ValueError):
    """User-supplied data (an image, a CSV, a text) that cannot be used."""


def coerce(config: dict, types: dict, what: str) -> None:
    """Convert each named setting of ``config`` in place (``{"steps": int, ...}``), in that order;
    a value that does not convert is a :class:`BadConfig` naming ``what``."""
    try:
        for key, kind in types.items():
            config[key] = kind(config[key])
    except (TypeError, ValueError) as error:
        raise BadConfig(f"Bad {what}: {error}.") from error


def check_all(checks: list[tuple[bool, str]]) -> None:
    """Raise :class:`BadConfig` with the message of the first (condition, message) that is false."""
    for ok, message in checks:
        if not ok:
            raise BadConfig(message)
