"""Draw's canvas as a small Streamlit component of our own (views/components/digit_canvas/).

It replaced streamlit-drawable-canvas, a fabric.js editor that is barely maintained upstream: this
one is a plain canvas on pointer events (mouse, pen and touch alike), sends the picture the moment
the pen lifts instead of after the package's fixed ~200 ms wait, and sends it at its CSS size (280 ×
280 here) whatever the screen's pixel density.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

FOLDER = Path(__file__).resolve().parents[1] / "components" / "digit_canvas"
PNG_DATA_URL = "data:image/png;base64,"
# Inline code, not asset paths: Streamlit serves component files only from installed packages.
_component = st.components.v2.component(
    "dlp_digit_canvas",
    js=(FOLDER / "digit_canvas.js").read_text(encoding="utf-8"),
    css=(FOLDER / "digit_canvas.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # one class, .dlp-digit-canvas; tests find the <canvas> in the page
)


def _ignore() -> None:
    """The drawing's callback: the page run a stroke causes is the point, nothing to do here."""


def decode_drawing(drawing) -> np.ndarray | None:
    """The canvas's state (``{"png": data URL, "strokes": n}``) as a grey image, or None if there
    is none or it is not a PNG (the page then just waits for a stroke)."""
    if not isinstance(drawing, dict) or not str(drawing.get("png", "")).startswith(PNG_DATA_URL):
        return None
    try:
        raw = base64.b64decode(drawing["png"][len(PNG_DATA_URL):], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            return np.asarray(image.convert("L"))
    except (ValueError, OSError, Image.DecompressionBombError):
        return None


def digit_canvas(*, stroke_width: int, key: str, instance: int, size: int = 280) -> np.ndarray | None:
    """Mount the canvas; return what is drawn on it as a ``size`` × ``size`` grey image (white ink
    on black), or None before the first stroke. A new ``instance`` gives an empty canvas."""
    result = _component(key=key, data={"size": size, "stroke": stroke_width, "instance": instance},
                        height=size, width=size, on_drawing_change=_ignore)
    return decode_drawing(result.get("drawing") if result is not None else None)
