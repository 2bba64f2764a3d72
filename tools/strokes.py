"""Digits drawn as pen strokes, the way a person draws them on Draw's canvas, and their mirror images.

Not taken from MNIST: each digit is a few polylines in the unit square (y down), jittered per drawing
(size, position, slant, rotation, wobble), so a benchmark gets as many different drawings as it asks
for. ``mirror=True`` flips them left to right, as children often write 3, 7 or 9. ``render`` paints
strokes as Draw's canvas does (white round-capped lines on black, 280 × 280); the e2e tests and the
live benchmark move a real mouse or finger along the same points.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]


def _arc(cx, cy, rx, ry, start, end, n=24) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees, 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, n)]


def _templates(digit: int) -> list[Stroke]:
    """One plain way to write ``digit``, as strokes in the unit square (y grows downwards)."""
    if digit == 0:
        return [_arc(0.5, 0.5, 0.26, 0.4, -90, 275, 40)]
    if digit == 1:
        return [[(0.42, 0.2), (0.55, 0.1), (0.55, 0.9)]]
    if digit == 2:
        return [_arc(0.5, 0.32, 0.26, 0.22, 190, 380, 20) + [(0.22, 0.9), (0.8, 0.9)]]
    if digit == 3:
        return [_arc(0.48, 0.3, 0.26, 0.2, 200, 450, 20) + _arc(0.48, 0.68, 0.3, 0.22, 270, 520, 24)[1:]]
    if digit == 4:
        return [[(0.55, 0.1), (0.22, 0.62), (0.82, 0.62)], [(0.64, 0.35), (0.64, 0.92)]]
    if digit == 5:
        return [[(0.76, 0.1), (0.32, 0.1), (0.28, 0.46)] + _arc(0.5, 0.66, 0.28, 0.24, 235, 495, 24)[1:]]
    if digit == 6:
        return [[(0.7, 0.1), (0.5, 0.22)] + _arc(0.5, 0.68, 0.26, 0.24, 200, 560, 36)]
    if digit == 7:
        return [[(0.2, 0.12), (0.82, 0.12), (0.45, 0.9)]]
    if digit == 8:
        top = _arc(0.5, 0.3, 0.2, 0.2, 90, 450, 28)
        bottom = _arc(0.5, 0.7, 0.25, 0.2, 270, -90, 28)
        return [top + bottom]
    if digit == 9:
        return [_arc(0.5, 0.32, 0.24, 0.22, 0, 370, 32) + [(0.72, 0.9)]]
    raise ValueError(f"not a digit: {digit}")


def digit_strokes(digit: int, rng: np.random.Generator, mirror: bool = False) -> list[Stroke]:
    """``digit`` as strokes in the unit square, jittered like one person's drawing of it."""
    scale = rng.uniform(0.7, 1.0)
    slant = rng.uniform(-0.25, 0.15)  # shear: most people lean right
    angle = math.radians(rng.uniform(-8, 8))
    cx, cy = rng.uniform(0.42, 0.58, 2)
    squash = rng.uniform(0.8, 1.15)
    strokes = []
    for stroke in _templates(digit):
        points = np.array(stroke, dtype=float)
        points += rng.normal(0, 0.012, points.shape)  # the hand's wobble
        x, y = points[:, 0] - 0.5, points[:, 1] - 0.5
        if mirror:
            x = -x
        x = (x + slant * -y) * squash
        x, y = x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)
        points = np.stack([cx + scale * x, cy + scale * y], axis=1)
        strokes.append([(float(a), float(b)) for a, b in np.clip(points, 0.02, 0.98)])
    return strokes


def render(strokes: list[Stroke], size: int = 280, width: int = 22) -> np.ndarray:
    """Strokes painted as Draw's canvas paints them: RGBA, white round-capped lines on black."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(x * size, y * size) for x, y in stroke]
        pen.line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=(255, 255, 255, 255))
    return np.asarray(image)


def drawings(count_per_digit: int, seed: int, mirror: bool = False, width: int = 22):
    """``count_per_digit`` rendered drawings of each digit: (images (N, 280, 280, 4), labels (N,))."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(count_per_digit):
        for digit in range(10):
            images.append(render(digit_strokes(digit, rng, mirror), width=width))
            labels.append(digit)
    return np.stack(images), np.array(labels)
