"""Your labelled drawings: the set "Teach it your handwriting" collects, saves and fine-tunes on.

A set holds each drawing as the network sees it (28×28 floats in [0, 1], preprocessed exactly as for
prediction) with the digit it shows. It travels as a ``.npz`` file (arrays ``digits`` and ``labels``),
so a teacher can bring a class's set; a file that is not such a set, too big or of the wrong shape is
refused with a sentence saying why. A set is identified by a hash of its contents: the same drawings
fine-tune a network once. Sets handed to training are kept in ``<cache>/drawings/<hash>.npz``.
"""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import AppError, BadInput
from core.paths import cache_dir

MAX_FILE_BYTES = 20_000_000  # a set of MAX_DRAWINGS float32 drawings is about 6.3 MB
MAX_DRAWINGS = 2000
SIDE = 28


@dataclass(frozen=True)
class DrawingSet:
    """Labelled 28×28 drawings (float32 in [0, 1]) and the number of classes labels may take."""

    digits: np.ndarray = field(default_factory=lambda: np.zeros((0, SIDE, SIDE), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.digits, dtype=np.float32).tobytes())
        digest.update(np.ascontiguousarray(self.labels, dtype=np.int64).tobytes())
        return digest.hexdigest()[:16]

    def counts(self, num_classes: int = 10) -> np.ndarray:
        return np.bincount(self.labels, minlength=num_classes)

    def add(self, digit: np.ndarray, label: int) -> "DrawingSet":
        if len(self) >= MAX_DRAWINGS:
            raise BadInput(f"The set already holds {MAX_DRAWINGS:,} drawings, as many as it can; "
                           "remove some or download it and start a new one.")
        digit = np.asarray(digit, dtype=np.float32).reshape(1, SIDE, SIDE)
        return DrawingSet(np.concatenate([self.digits, np.clip(digit, 0, 1)]),
                          np.append(self.labels, np.int64(label)))

    def remove(self, index: int) -> "DrawingSet":
        keep = np.arange(len(self)) != index
        return DrawingSet(self.digits[keep], self.labels[keep])

    def merged(self, other: "DrawingSet") -> "DrawingSet":
        """This set followed by ``other``'s drawings (duplicates kept out)."""
        seen = {drawing.tobytes() + bytes([label]) for drawing, label in zip(self.digits, self.labels)}
        fresh = [i for i, (drawing, label) in enumerate(zip(other.digits, other.labels))
                 if drawing.tobytes() + bytes([label]) not in seen]
        if len(self) + len(fresh) > MAX_DRAWINGS:
            raise BadInput(f"Together the sets hold {len(self) + len(fresh):,} drawings, more than the "
                           f"{MAX_DRAWINGS:,} a set can; nothing was added.")
        return DrawingSet(np.concatenate([self.digits, other.digits[fresh]]),
                          np.concatenate([self.labels, other.labels[fresh]]))

    def to_npz(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, digits=self.digits.astype(np.float32), labels=self.labels.astype(np.int64))
        return buffer.getvalue()


def from_npz(data: bytes, num_classes: int = 10) -> DrawingSet:
    """Read a set from an uploaded ``.npz``, or raise :class:`BadInput` saying what is wrong."""
    expected = ("a set of drawings is a .npz file with 'digits' (N×28×28 numbers in 0–1, or 0–255) "
                "and 'labels' (N whole numbers from 0 to 9), as this page downloads it")
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"That file is {len(data) / 1e6:.1f} MB; a set of drawings is at most "
                       f"{MAX_FILE_BYTES / 1e6:.0f} MB. Nothing was added.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:  # what np.load would inflate, before it does
            inflated = sum(info.file_size for info in archive.infolist())
        if inflated > 4 * MAX_FILE_BYTES:
            raise BadInput(f"That file unpacks to {inflated / 1e6:.0f} MB, far more than a set of drawings; "
                           "nothing was added.")
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            if not {"digits", "labels"} <= set(arrays.files):
                raise BadInput(f"That file holds {', '.join(arrays.files) or 'nothing'}: {expected}. "
                               "Nothing was added.")
            digits, labels = arrays["digits"], arrays["labels"]
    except BadInput:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise BadInput(f"That file is not a set of drawings ({type(error).__name__}): {expected}. "
                       "Nothing was added.") from error
    if digits.ndim != 3 or digits.shape[1:] != (SIDE, SIDE) or labels.shape != (len(digits),):
        raise BadInput(f"The drawings have shape {digits.shape} and the labels {labels.shape}: {expected}. "
                       "Nothing was added.")
    if len(digits) > MAX_DRAWINGS:
        raise BadInput(f"That set holds {len(digits):,} drawings; at most {MAX_DRAWINGS:,} fit. Nothing was added.")
    if not (np.issubdtype(digits.dtype, np.number) and np.issubdtype(labels.dtype, np.integer)):
        raise BadInput(f"The drawings are not numbers or the labels not whole numbers: {expected}. "
                       "Nothing was added.")
    digits = digits.astype(np.float32)
    if not np.isfinite(digits).all() or digits.min(initial=0) < 0 or digits.max(initial=0) > 255:
        raise BadInput(f"The drawings hold values outside 0–255: {expected}. Nothing was added.")
    if digits.max(initial=0) > 1:
        digits = digits / 255
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise BadInput(f"The labels run from {labels.min()} to {labels.max()}: {expected}. Nothing was added.")
    return DrawingSet(digits, labels.astype(np.int64))


def drawings_dir() -> Path:
    return cache_dir() / "drawings"


def keep(drawings: DrawingSet) -> str:
    """Write the set where a training can read it; returns its fingerprint."""
    folder = drawings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{drawings.fingerprint}.npz"
    if not path.exists():
        temporary = folder / f".{path.name}.{os.getpid()}.tmp"
        temporary.write_bytes(drawings.to_npz())
        temporary.replace(path)
    return drawings.fingerprint


def kept(fingerprint: str) -> DrawingSet:
    """The set :func:`keep` wrote under ``fingerprint``."""
    path = drawings_dir() / f"{fingerprint}.npz"
    try:
        drawings = from_npz(path.read_bytes())
    except OSError as error:
        raise AppError("The drawings to fine-tune on are no longer on this server; upload or draw them "
                       "again.") from error
    if drawings.fingerprint != fingerprint:
        raise AppError("The saved drawings do not match their fingerprint; upload or draw them again.")
    return drawings
