"""Colour strips under characters, a units × characters heatmap to pick a unit from, and span
selection: the Text page's own component (views/components/char_strips/). Plotly's click events
never fire for a finger's tap (seen on the Playground), so the picking is pointer events of ours."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import streamlit as st

from views.text.pictures import glyph

FOLDER = Path(__file__).resolve().parents[1] / "components" / "char_strips"
# Inline code, not asset paths: Streamlit serves component files only from installed packages.
_component = st.components.v2.component(
    "dlp_char_strips",
    js=(FOLDER / "char_strips.js").read_text(encoding="utf-8"),
    css=(FOLDER / "char_strips.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # tests find the characters and cells in the page
)


def _ignore() -> None:
    """A trigger's callback: the page run it causes is the point."""


def row(label: str, name: str, values: np.ndarray, low: float, high: float, title: str = "") -> dict:
    return {"label": label, "name": name, "title": title or label, "low": low, "high": high,
            "values": [round(float(v), 4) if math.isfinite(v) else None for v in np.asarray(values, np.float64)]}


def char_strips(text: str, rows: list[dict], *, key: str, marks: np.ndarray | None = None,
                selection: tuple[int, int] | None = None, heatmap: dict | None = None,
                selectable: bool = False, hint: str = "") -> dict:
    """Draw the strips; returns this run's triggers: {"unit": int} from the heatmap, {"span":
    (start, end)} from a selection (characters [start, end) of ``text``), or {}."""
    data = {"chars": [glyph(ch) for ch in text], "rows": rows, "selectable": selectable, "hint": hint,
            "marks": "".join("1" if m else "0" for m in marks) if marks is not None else "",
            "selection": list(selection) if selection else None, "heatmap": heatmap}
    result = _component(key=key, data=data, on_unit_change=_ignore, on_span_change=_ignore)
    out: dict = {}
    if result is None:
        return out
    unit = result.get("unit")
    if isinstance(unit, (int, float)) and heatmap and 0 <= int(unit) < heatmap["units"]:
        out["unit"] = int(unit)
    span = result.get("span")
    if isinstance(span, (list, tuple)) and len(span) == 2 and all(isinstance(v, (int, float)) for v in span):
        start, end = sorted((max(0, int(span[0])), min(len(text), int(span[1]))))
        out["span"] = (start, end)
    return out
