"""Your own points for the Playground: a CSV of ``x, y, label`` rows, read with clear errors."""
from __future__ import annotations

import csv
import io
import math

import numpy as np

from core.errors import BadInput
from core.playground.datasets import DOMAIN

MAX_CSV_ROWS = 10_000


def parse_points_csv(data: bytes, multiclass_ok: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``x, y, label`` (header optional) → (xy, labels), or a clear BadInput."""
    if not data or not data.strip():
        raise BadInput("The CSV file is empty.")
    if len(data) > 2_000_000:
        raise BadInput(f"The CSV is {len(data) / 1e6:.0f} MB; up to {MAX_CSV_ROWS:,} points (2 MB) are supported.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadInput("The CSV is not UTF-8 text.") from error
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    except csv.Error as error:  # e.g. a lone carriage return inside a field
        raise BadInput(f"The CSV could not be read: {error}.") from error
    if rows and not _numeric(rows[0][:1]):
        rows = rows[1:]  # a header
    if not rows:
        raise BadInput("The CSV has a header but no points.")
    if len(rows) > MAX_CSV_ROWS:
        raise BadInput(f"The CSV has {len(rows):,} points; at most {MAX_CSV_ROWS:,} are supported.")
    values = []
    for number, row in enumerate(rows, 1):
        if len(row) < 3:
            raise BadInput(f"Row {number} has {len(row)} column(s); each row needs x, y and a label.")
        try:
            x, y, label = (float(cell) for cell in row[:3])
        except ValueError as error:
            raise BadInput(f"Row {number} has text where a number belongs: {', '.join(row[:3])}.") from error
        if not all(math.isfinite(v) for v in (x, y, label)):
            raise BadInput(f"Row {number} has a value that is not a finite number.")
        values.append((x, y, label))
    array = np.array(values, dtype=np.float64)
    labels = array[:, 2]
    if len(np.unique(labels)) < 2:
        raise BadInput("All points have the same label; a classifier needs at least two classes.")
    xy = np.clip(array[:, :2], -DOMAIN, DOMAIN)
    unique = np.unique(labels)
    if len(unique) == 2:  # any two labels become ±1
        labels = np.where(labels == unique.max(), 1.0, -1.0)
    elif multiclass_ok and np.all(labels == np.round(labels)) and len(unique) <= 8:
        labels = np.searchsorted(unique, labels).astype(float)
    else:
        raise BadInput("Labels must be two values (e.g. 0/1 or -1/1) or up to 8 class numbers.")
    return xy, labels


def _numeric(cells) -> bool:
    try:
        [float(c) for c in cells]
        return bool(cells)
    except ValueError:
        return False
