"""Your own points for the Playground: added one by one on the map or read from a CSV file.

A point's class is a number: 0 (orange), 1 (blue), 2, 3, … (a class colour each), up to
:data:`MAX_CLASSES`. What the network learns follows from how many classes there are: with two,
the labels −1 (class 0) and +1 (class 1) as the playground's two-class data; with more, the class
numbers for softmax. Keeping class numbers and converting only here means a third class can join
two at any time.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np

from core.errors import BadInput
from core.playground.datasets import DOMAIN

MAX_CSV_ROWS = 10_000
MAX_CLASSES = 8
CSV_HELP = ("One point per row: x, y and a label (a header row is optional). x and y lie in [−6, 6]; values "
            "outside are moved to the edge. Labels: 2 to 8 different values, numbers or words (0/1, −1/1, "
            "cat/dog, 0/1/2, …). With two, the lower (or first in alphabetical order) is orange and the other "
            "blue; with more, each gets a class colour in that order.")


@dataclass(frozen=True)
class CustomPoints:
    """Points in [-DOMAIN, DOMAIN]² and their class numbers."""

    xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    classes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    def __len__(self) -> int:
        return len(self.classes)

    @property
    def num_classes(self) -> int:
        """How many classes the network tells apart: two at least, else up to the highest class used."""
        return max(2, int(self.classes.max()) + 1 if len(self) else 2)

    def choosable(self) -> list[int]:
        """The classes a new point can have: those in use and one more, up to MAX_CLASSES."""
        used = int(self.classes.max()) + 1 if len(self) else 0
        return list(range(min(MAX_CLASSES, max(2, used + 1))))

    def add(self, x: float, y: float, point_class: int) -> "CustomPoints":
        """These points and one more at (x, y), moved into the map if outside it."""
        if point_class not in self.choosable():
            raise BadInput(f"A new point can be of class {', '.join(map(str, self.choosable()))}, "
                           f"not {point_class}.")
        if not (math.isfinite(x) and math.isfinite(y)):
            raise BadInput("A point needs finite coordinates.")
        point = np.clip([[float(x), float(y)]], -DOMAIN, DOMAIN)
        return CustomPoints(np.concatenate([self.xy, point]), np.append(self.classes, int(point_class)))

    def labels(self) -> np.ndarray:
        """What the network learns: ±1 for two classes, else the class numbers."""
        if self.num_classes == 2:
            return np.where(self.classes == 1, 1.0, -1.0)
        return self.classes.astype(float)


def parse_points_csv(data: bytes) -> CustomPoints:
    """Rows of ``x, y, label`` (see :data:`CSV_HELP`) → the points, or a clear BadInput."""
    if not data or not data.strip():
        raise BadInput("The CSV file is empty.")
    if len(data) > 2_000_000:
        raise BadInput(f"The CSV is {len(data) / 1e6:.0f} MB; up to {MAX_CSV_ROWS:,} points (2 MB) are supported.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadInput("The CSV is not UTF-8 text.") from error
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""))
                if any(cell.strip() for cell in row)]
    except csv.Error as error:  # e.g. a lone carriage return inside a field
        raise BadInput(f"The CSV could not be read: {error}.") from error
    if rows and not all(_is_number(cell) for cell in rows[0][:2]):
        rows = rows[1:]  # a header
    if not rows:
        raise BadInput("The CSV has a header but no points.")
    if len(rows) > MAX_CSV_ROWS:
        raise BadInput(f"The CSV has {len(rows):,} points; at most {MAX_CSV_ROWS:,} are supported.")
    xy, labels = [], []
    for number, row in enumerate(rows, 1):
        if len(row) < 3:
            raise BadInput(f"Row {number} has {len(row)} column(s); each row needs x, y and a label.")
        if not (_is_number(row[0]) and _is_number(row[1])):
            raise BadInput(f"Row {number} has text where x and y belong: {', '.join(row[:2])}.")
        x, y = float(row[0]), float(row[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise BadInput(f"Row {number} has a coordinate that is not a finite number.")
        if not row[2]:
            raise BadInput(f"Row {number} has no label.")
        xy.append((x, y))
        labels.append(row[2])
    return CustomPoints(np.clip(np.array(xy, dtype=np.float64), -DOMAIN, DOMAIN), _classes_of(labels))


def _classes_of(labels: list[str]) -> np.ndarray:
    """Class numbers for the labels: their rank among the distinct values, in numeric order when all
    are numbers (so 0/1 and −1/1 make 0 orange and 1 blue) and alphabetical order otherwise."""
    numeric = all(_is_number(label) for label in labels)
    if numeric and not all(math.isfinite(float(label)) for label in labels):
        raise BadInput("A label is not a finite number.")
    keys = [float(label) for label in labels] if numeric else labels
    distinct = sorted(set(keys))
    if len(distinct) < 2:
        raise BadInput("All points have the same label; a classifier needs at least two classes.")
    if len(distinct) > MAX_CLASSES:
        raise BadInput(f"The labels have {len(distinct)} different values; up to {MAX_CLASSES} classes are "
                       "supported.")
    rank = {value: index for index, value in enumerate(distinct)}
    return np.array([rank[key] for key in keys], dtype=int)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False
