"""The Playground's pictures as one Streamlit component (views/components/playground_live/): the
browser draws the epoch, the network, the output map and the loss curve from the data of
views/playground/wire.py, and the map takes the clicks and taps that add your own points.

The pictures are mounted with the page (:func:`picture`); per run of the page's frames fragment,
one invisible element (:func:`frames`) carries a batch of frames and draws them into every picture.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import streamlit as st

FOLDER = Path(__file__).resolve().parents[1] / "components" / "playground_live"
# Inline code, not asset paths: Streamlit serves component files only from installed packages.
# paint.js (pure drawing functions) comes first; player.js (playback, asks, clicks) exports the mount.
_component = st.components.v2.component(
    "dlp_playground_live",
    js="\n".join((FOLDER / name).read_text(encoding="utf-8") for name in ("paint.js", "player.js")),
    css=(FOLDER / "playground_live.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # the styles are all .pg-* (and the page's own keys); tests query the pictures
)


def picture(data: dict, *, key: str, on_picked: Callable[[], None] | None = None) -> None:
    """Mount one picture with its data (wire.pictures); ``on_picked``: the map's clicks and taps
    (read the point from ``st.session_state[key]["picked"]``)."""
    callbacks = {"on_picked_change": on_picked} if on_picked is not None else {}
    _component(key=key, data=data, height="content", **callbacks)


def _ignore() -> None:
    """The trigger's callback: the fragment run it causes is the point, nothing to do here."""


def frames(data: dict, *, key: str) -> None:
    """Send a batch of frames (wire.frames) to the pictures. While it is playing, the browser asks
    for the next batch as soon as this one arrives, which reruns the fragment this is in."""
    _component(key=key, data=data, height=1, on_drawn_change=_ignore)
