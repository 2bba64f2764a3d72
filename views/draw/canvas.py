"""Draw's canvas as a small Streamlit component of our own (views/components/digit_canvas/).

The design named streamlit-drawable-canvas, a fabric.js editor (0.13, 2026, rebuilt on Streamlit's
components v2 and maintained by its author on a best-effort basis). We draw on our own because of
what we measured and need: from pen-up to an updated Prediction took a median 84 ms with this
component against 331 ms with the package, which waits on a debounce timer and sends its whole image
data back (benchmarks/RESULTS.md, "Mouse-up to updated prediction"); it uses pointer events, so a
mouse, a pen and a finger draw alike; it is a plain canvas, 280 CSS pixels square beside the reading
and as wide as the screen on a phone (where the columns stack), always drawing in 280 × 280
coordinates; and it can send small pictures while the pen moves, paced by the server's answers (the
live reading).

The component calls back when a picture arrives; the picture is kept in session state as a
:class:`Frame`, which the page reads *before* it mounts the canvas again with ``answered`` = that
frame's number, so the browser sends the next picture only once this one's reading is on its way.
A pen-up picture is read the same way; mounted with ``settle``, the canvas then says when that
reading is on screen (the trigger ``shown``, kept as :func:`shown`), and the page runs as a whole.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

FOLDER = Path(__file__).resolve().parents[1] / "components" / "digit_canvas"
PNG_DATA_URL = "data:image/png;base64,"
FRAME = "draw_frame"  # session key: the last picture the canvas sent (a Frame)
SHOWN = "draw_shown"  # session key: the number of the pen-up picture whose reading the browser shows
LIVE_EVERY_MS = 100  # at most one picture every 100 ms while the pen moves
LIVE_SIZE = 140  # CSS pixels square: the preprocessing reduces a drawing to 20×20 anyway
# Inline code, not asset paths: Streamlit serves component files only from installed packages.
_component = st.components.v2.component(
    "dlp_digit_canvas",
    js=(FOLDER / "digit_canvas.js").read_text(encoding="utf-8"),
    css=(FOLDER / "digit_canvas.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # one class, .dlp-digit-canvas; tests find the <canvas> in the page
)


@dataclass(frozen=True)
class Frame:
    """One picture from the canvas: grey (white ink on black), its number, and whether the pen had
    lifted (final) or was still moving (a live frame)."""

    image: np.ndarray
    number: int
    final: bool
    png: str  # the data URL it came as, to redraw it on a fresh canvas


def decode_drawing(drawing) -> np.ndarray | None:
    """The canvas's picture (``{"png": data URL, ...}``) as a grey image, or None if there is none
    or it is not a PNG (the page then just waits for a stroke)."""
    if not isinstance(drawing, dict) or not str(drawing.get("png", "")).startswith(PNG_DATA_URL):
        return None
    try:
        raw = base64.b64decode(drawing["png"][len(PNG_DATA_URL):], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            return np.asarray(image.convert("L"))
    except (ValueError, OSError, Image.DecompressionBombError):
        return None


def frame_from(drawing) -> Frame | None:
    """A :class:`Frame` from what the component sent, or None for nothing or anything foreign."""
    image = decode_drawing(drawing)
    if image is None:
        return None
    number = drawing.get("frame")
    return Frame(image, number if isinstance(number, int) else 0, drawing.get("final", True) is not False,
                 drawing["png"])


def current_frame() -> Frame | None:
    """The last picture the canvas sent (None before the first stroke or after Clear)."""
    frame = st.session_state.get(FRAME)
    return frame if isinstance(frame, Frame) else None


def forget_frame() -> None:
    st.session_state[FRAME] = None


def shown(frame: Frame | None) -> bool:
    """Whether the browser said it shows the reading of ``frame``; the answer is used up either way."""
    number = st.session_state.pop(SHOWN, None)
    return frame is not None and number == frame.number


def digit_canvas(*, stroke_width: int, key: str, instance: int, size: int = 280, live: bool = True,
                 answered: int = 0, restore: str | None = None, settle: bool = False) -> None:
    """Mount the canvas: ``size`` CSS pixels square on a wide screen, its column's width on a phone
    (the component's CSS), drawing in ``size`` × ``size`` coordinates either way, and the pictures it
    sends are ``size`` (pen up) or ``LIVE_SIZE`` (live) pixels square. They arrive in
    :func:`current_frame`.

    A new ``instance`` gives an empty canvas (``restore``, a PNG data URL, is drawn on it if given);
    ``live`` sends pictures while the pen moves, ``answered`` is the number of the last one read;
    ``settle``: that one is a pen-up picture whose reading this run showed, and the rest of the page
    waits for the browser to say it is on screen (:func:`shown`)."""

    def value(name: str):
        state = st.session_state.get(key)
        return state.get(name) if hasattr(state, "get") else None

    def remember() -> None:
        frame = frame_from(value("drawing"))
        if frame is not None:
            st.session_state[FRAME] = frame

    def on_screen() -> None:
        number = value("shown")
        if isinstance(number, int):
            st.session_state[SHOWN] = number

    # The canvas sets its own width (CSS) and its height follows: the wrapper is the column's width
    # and as tall as the canvas.
    _component(key=key, height="content", width="stretch", on_drawing_change=remember,
               on_shown_change=on_screen, data={"size": size, "stroke": stroke_width, "instance": instance, "live": live,
                     "answered": answered, "every_ms": LIVE_EVERY_MS, "small": LIVE_SIZE,
                     "restore": restore, "settle": settle})
