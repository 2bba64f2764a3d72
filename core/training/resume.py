"""The model a training continues from, handed to its kind by the job manager.

A config may name a stored model by its key (``config["resume"]``); the manager
then calls ``kind.train(config, reporter, resume=model)``. The model is always a
fresh copy: the cached one is shared with pages, and training changes weights in
place, so the stored entry must keep its own.

A kind continues models of its own kind, or of the kinds it names in ``resumes_from`` (a
fine-tune kind continues a ``digits`` network, say); the model is read with the loader of the
kind that stored it.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from core.errors import AppError
from core.training.kinds import get_kind
from core.training.store import ModelStore


def resume_arguments(store: ModelStore, kind: Any, config: dict) -> dict:
    """``{"resume": model}`` for ``kind.train`` if the config names a model to continue, else ``{}``
    (so kinds that never resume need no ``resume`` parameter)."""
    key = config.get("resume")
    if not key:
        return {}
    entry = store.get(str(key))  # None when gone or damaged (the store checks checksums)
    accepted = tuple(getattr(kind, "resumes_from", (kind.name,)))
    if entry is None or entry.record.get("kind") not in accepted:
        raise AppError("The model to continue from is no longer in the model store (or is damaged); "
                       "train it again from the start.")
    stored_by = kind if entry.record["kind"] == kind.name else get_kind(entry.record["kind"])
    try:
        with tempfile.TemporaryDirectory() as folder:
            if entry.path is None:  # kept in memory only: copy it through its kind's own files
                stored_by.save(entry.obj, Path(folder))
            return {"resume": stored_by.load(entry.path or Path(folder))}
    except AppError:
        raise
    except Exception as error:  # a half-written or foreign folder: say so instead of a traceback
        raise AppError(f"The model to continue from could not be read ({type(error).__name__}: {error}); "
                       "train it again from the start.") from error
