"""The Playground's map for your own points as a small Streamlit component
(views/components/point_picker/): the server-drawn output map, and where a click or a finger's
tap lands on it, in the data's coordinates. It replaced a Plotly chart's point selection, which
a finger's tap never triggered in our phone test (Chromium with touch events; a mouse click did)."""
from __future__ import annotations

import math
from pathlib import Path

import streamlit as st
from PIL import Image

from views.playground.pictures import png_uri

FOLDER = Path(__file__).resolve().parents[1] / "components" / "point_picker"
# Inline code, not asset paths: Streamlit serves component files only from installed packages.
_component = st.components.v2.component(
    "dlp_point_picker",
    js=(FOLDER / "point_picker.js").read_text(encoding="utf-8"),
    css=(FOLDER / "point_picker.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # one class, .dlp-point-picker; tests find the picture in the page
)


def _ignore() -> None:
    """The pick's callback: the page run a pick causes is the point, nothing to do here."""


def picked_point(value, domain: float) -> tuple[float, float] | None:
    """A pick sent by the browser as (x, y) inside the map's square, or None if there is none or it
    is not a pair of finite numbers."""
    if not isinstance(value, dict):
        return None
    try:
        x, y = float(value["x"]), float(value["y"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return min(max(x, -domain), domain), min(max(y, -domain), domain)


def point_picker(picture: Image.Image, *, domain: float, key: str) -> tuple[float, float] | None:
    """Show ``picture`` (the map of the square ±``domain``); return where it was clicked or tapped
    in this run, if it was."""
    result = _component(key=key, data={"src": png_uri(picture), "size": picture.width, "domain": domain},
                        height=picture.height, width=picture.width, on_picked_change=_ignore)
    return picked_point(result.get("picked") if result is not None else None, domain)
