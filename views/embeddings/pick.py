"""Click-to-pick on a 3-D map (issue 30 #11), where Streamlit's selection events do not reach.

``st.plotly_chart(on_select=...)`` reports Plotly's selections: a click, a box or a lasso on a 2-D
chart. A 3-D scene (``scatter3d``) has no selection at all in Plotly, so ``on_select`` never fires
for it, but Plotly does emit ``plotly_click`` for the 3-D point under the pointer. The small
component in views/components/plot_pick/ listens for that event on the chart inside a keyed
container and sends the point's ``customdata`` (its index) back as a trigger.

Not a page itself (app.py does not list it).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

FOLDER = Path(__file__).resolve().parents[1] / "components" / "plot_pick"
# Inline code, not asset paths: Streamlit serves component files only from installed packages. Not
# isolated: it looks for the chart in the page's document.
_component = st.components.v2.component(
    "dlp_plot_pick", js=(FOLDER / "plot_pick.js").read_text(encoding="utf-8"), isolate_styles=False)


def _ignore() -> None:
    """The pick's callback: the page run the click causes is the point, nothing to do here."""


def picked_index(container_key: str, points: int, key: str) -> int | None:
    """The index of the point clicked in this run on the chart inside ``st.container(key=container_key)``,
    or None (no click, or not a point of this map's ``points``)."""
    result = _component(key=key, data={"container": "st-key-" + container_key}, on_picked_change=_ignore)
    value = result.get("picked") if result is not None else None
    if not isinstance(value, dict):
        return None
    index = value.get("index")
    return index if isinstance(index, int) and 0 <= index < points else None
