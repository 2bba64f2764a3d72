"""Feature maps you can click or tap (views/components/map_picker/): a grid of small maps that
wraps to the screen's width, and which map and cell a click or a finger's tap landed on. The
Playground's point picker showed the way: a Plotly chart's point selection never fired on a
finger's tap in our phone test, pointer events on our own element do."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

from views.images import png_uri

FOLDER = Path(__file__).resolve().parents[1] / "components" / "map_picker"
# Inline code, not asset paths: Streamlit serves component files only from installed packages.
_component = st.components.v2.component(
    "dlp_map_picker",
    js=(FOLDER / "map_picker.js").read_text(encoding="utf-8"),
    css=(FOLDER / "map_picker.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # classes .dlp-map-*; tests find the tiles in the page
)


def picked_cell(value, maps: int, rows: int, cols: int) -> tuple[int, int, int] | None:
    """A pick sent by the browser as (map, row, col), or None if it is missing or out of range."""
    if not isinstance(value, dict):
        return None
    try:
        pick = int(value["map"]), int(value["row"]), int(value["col"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (0 <= pick[0] < maps and 0 <= pick[1] < rows and 0 <= pick[2] < cols):
        return None
    return pick


def grey_tile(image: np.ndarray) -> str:
    """One map as a grey PNG, stretched to its own range (maps differ wildly in scale)."""
    low, high = float(image.min()), float(image.max())
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return png_uri((scaled * 255).round().astype(np.uint8))


def map_picker(tiles: list[str], *, rows: int, cols: int, key: str, label: str,
               on_pick: Callable[[tuple[int, int, int]], None], selected: int | None = None,
               cell: tuple[int, int] | None = None, titles: list[str] | None = None,
               tile_min: int = 36, tile_vw: float = 9, tile_max: int = 80) -> None:
    """Show ``tiles`` (PNG data URLs of ``rows`` × ``cols`` maps) in a wrapping grid, each
    ``tile_vw`` % of the screen's width but within [``tile_min``, ``tile_max``] pixels; a click or tap
    calls ``on_pick((map, row, col))`` before the page runs again, so everything the page then
    draws, this grid's highlight included, already shows the new pick."""
    def picked() -> None:
        value = st.session_state.get(key) or {}
        pick = picked_cell(value.get("picked"), len(tiles), rows, cols)
        if pick is not None:
            on_pick(pick)

    _component(key=key, on_picked_change=picked, data={
        "tiles": tiles, "rows": rows, "cols": cols, "label": label, "titles": titles,
        "selected": -1 if selected is None else int(selected),
        "cell": None if cell is None else [int(cell[0]), int(cell[1])],
        "tile_min": tile_min, "tile_vw": tile_vw, "tile_max": tile_max})
