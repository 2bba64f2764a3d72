"""Turn a drawing or an uploaded picture into an MNIST-style 28×28 digit.

MNIST itself was made this way: the digit is cropped to its bounding box,
scaled to fit a 20×20 box keeping its aspect ratio (with anti-aliasing, which
gives the grey edges), pasted into a 28×28 field, and shifted so that its
centre of mass sits at the centre. Doing the same to a drawing is what lets a
network trained on MNIST read digits drawn small, thick, thin or in a corner.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import BadInput

INK_THRESHOLD = 0.05  # fraction of the brightest ink that still counts as ink
MAX_UPLOAD_PIXELS = 40_000_000
MIN_UPLOAD_SIDE = 12  # pixels: smaller than this, no drawn character survives (MNIST's are 28×28)
WORK_SIZE = 400  # big inputs are first reduced to about this size; plenty for a 20×20 result


@dataclass
class Preprocessed:
    """The 28×28 result (float32 in [0, 1], white digit on black) and how it got there."""

    digit: np.ndarray | None
    stages: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.digit is None


def to_intensity(image: np.ndarray) -> np.ndarray:
    """Any grey, RGB or RGBA array → ink intensity in [0, 1], bright ink on a dark ground.

    Transparent pixels are background. Whether the ink is dark-on-light (paper) or
    light-on-dark (our canvas) is decided from the border, which is background in
    any sensible picture of a digit.
    """
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if not np.issubdtype(array.dtype, np.number):
        raise BadInput("The image has no numeric pixel values.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise BadInput(f"Expected a grey, RGB or RGBA image, got an array of shape {array.shape}.")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise BadInput("The image has no pixels.")
    values = array.astype(np.float32)
    if not np.issubdtype(array.dtype, np.integer):  # only floats can hold NaN or infinity
        np.nan_to_num(values, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    top = float(values.max()) if values.size else 0.0
    if top > 1.0:
        values *= np.float32(1 / 255)
    np.clip(values, 0.0, 1.0, out=values)

    if values.ndim == 2:
        gray, alpha = values, None
    else:
        gray = values[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        alpha = values[..., 3] if values.shape[2] == 4 else None

    if alpha is not None and alpha.min() < 0.99:
        opaque = alpha > 0.5
        if not opaque.any():
            return np.zeros_like(gray)
        # Partly transparent: the opaque strokes are the ink whatever their colour,
        # unless the opaque part is itself a light/dark background with ink on it.
        if opaque.mean() > 0.5:
            gray = gray * alpha + (1 - alpha) * _border_median(gray, opaque)
        else:
            return alpha * (np.abs(gray - _border_median(gray, opaque)) if gray[opaque].std() > 0.2 else 1.0)
    background = _border_median(gray, None)
    ink = gray - background if background < 0.5 else background - gray
    return np.clip(ink, 0.0, 1.0).astype(np.float32)


def _border_median(gray: np.ndarray, mask: np.ndarray | None) -> float:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if mask is not None:
        kept = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
        border = border[kept] if kept.any() else gray[mask]
    return float(np.median(border)) if border.size else 0.0


def _resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float image (size is width, height): area-averaging when shrinking,
    which is the anti-aliasing that gives MNIST its grey edges; bilinear when growing."""
    image = Image.fromarray(np.clip(array, 0, 1).astype(np.float32), mode="F")
    shrinking = size[0] < array.shape[1] or size[1] < array.shape[0]
    resized = image.resize(size, Image.BOX if shrinking else Image.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def preprocess(image: np.ndarray) -> Preprocessed:
    """MNIST-faithful preprocessing of any grey/RGB/RGBA array (see module doc)."""
    array = np.asarray(image)
    if array.ndim >= 2 and max(array.shape[:2]) > 2 * WORK_SIZE:
        factor = max(array.shape[:2]) / WORK_SIZE
        height, width = (max(1, round(s / factor)) for s in array.shape[:2])
        array = _shrink(array, (width, height))
    ink = to_intensity(array)
    result = Preprocessed(None, {"ink": ink})
    peak = float(ink.max()) if ink.size else 0.0
    if peak < 0.05:
        if _flat_but_not_black(array):
            result.notes.append("The picture is one flat colour: there is nothing drawn in it to read.")
        return result
    mask = ink > INK_THRESHOLD * peak
    rows, cols = np.nonzero(mask)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    cropped = ink[top:bottom, left:right]
    result.stages["cropped"] = cropped
    height, width = cropped.shape
    _describe(result, ink, mask, cropped)

    scale = 20.0 / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    boxed = _resize(cropped, (new_w, new_h))
    if boxed.max() > 0:
        boxed = boxed / boxed.max()  # anti-aliasing must not dim a thin stroke to nothing
    result.stages["20×20"] = _pad_center(boxed, 20)

    field_ = np.zeros((28, 28), dtype=np.float32)
    ys, xs = np.indices(boxed.shape)
    total = boxed.sum()
    com_y, com_x = (ys * boxed).sum() / total, (xs * boxed).sum() / total
    # MNIST puts the centre of mass at pixel index (14, 14), measured here on its test set.
    off_y, off_x = int(round(14 - com_y)), int(round(14 - com_x))
    off_y = min(max(off_y, 0), 28 - new_h)
    off_x = min(max(off_x, 0), 28 - new_w)
    field_[off_y:off_y + new_h, off_x:off_x + new_w] = boxed
    result.digit = np.clip(field_, 0.0, 1.0)
    return result


def _flat_but_not_black(array: np.ndarray) -> bool:
    values = np.asarray(array, dtype=np.float32)
    if values.ndim == 3 and values.shape[2] == 4:
        if values[..., 3].max() <= 0:
            return False
        values = values[..., :3]
    return bool(values.size) and float(values.std()) < 1.0 and float(values.mean()) > 8.0


def _shrink(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Reduce a big array with box filtering, keeping its channels."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        array = np.nan_to_num(array.astype(np.float32))
        top = array.max() if array.size else 1.0
        array = (np.clip(array / (255.0 if top > 1 else 1.0), 0, 1) * 255).astype(np.uint8)
    mode = {2: "L", 3: "RGB", 4: "RGBA"}.get(array.shape[2] if array.ndim == 3 else 2)
    if mode is None or (array.ndim == 3 and array.shape[2] == 1):
        array = array[..., 0] if array.ndim == 3 else array
        mode = "L"
    return np.asarray(Image.fromarray(array, mode).resize(size, Image.BOX))


def _pad_center(array: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, size), dtype=np.float32)
    h, w = array.shape
    top, left = (size - h) // 2, (size - w) // 2
    out[top:top + h, left:left + w] = array
    return out


def _describe(result: Preprocessed, ink: np.ndarray, mask: np.ndarray, cropped: np.ndarray) -> None:
    """Notes for drawings that are not really digits."""
    height, width = cropped.shape
    fill = float((cropped > INK_THRESHOLD).mean())
    aspect = max(height, width) / max(1, min(height, width))
    if mask.mean() > 0.6:
        result.notes.append("Most of the picture is ink: the network expects one drawn character on a plain background.")
    elif fill > 0.7 and aspect < 1.6 and max(height, width) < 0.25 * max(ink.shape):
        result.notes.append("That looks like a dot or a blob rather than a drawn character.")


def load_image_bytes(data: bytes) -> np.ndarray:
    """Decode an uploaded PNG/JPEG/… into an RGBA array, or say clearly why not."""
    if not data:
        raise BadInput("The file is empty.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if min(width, height) < MIN_UPLOAD_SIDE:
                raise BadInput(
                    f"That picture is only {width}×{height} pixels: too small to hold a readable digit. "
                    f"Upload one at least {MIN_UPLOAD_SIDE} pixels on each side (MNIST's digits are 28×28).")
            if width * height > MAX_UPLOAD_PIXELS:
                raise BadInput(
                    f"That image is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels). "
                    f"Please upload one under {MAX_UPLOAD_PIXELS / 1e6:.0f} megapixels — a digit needs far fewer."
                )
            image.draft("RGB", (WORK_SIZE, WORK_SIZE))  # JPEG: decode at reduced size
            image = ImageOps.exif_transpose(image)
            image.thumbnail((2 * WORK_SIZE, 2 * WORK_SIZE), Image.BOX)
            return np.asarray(image.convert("RGBA"))
    except BadInput:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise BadInput("That file is not an image this app can read (try a PNG or JPEG).") from error
