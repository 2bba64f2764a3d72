"""The Playground's live pictures as a Streamlit component (views/components/playground_live/):
the browser draws the epoch, the network, the output map and the loss curve from compact frames
(core/playground/live_training.py) instead of receiving re-rendered pictures.

The pictures are mounted with the page (:func:`picture`); per fragment run, the fragment sends
one invisible element (:func:`frames`) that carries a batch of frames and redraws them all. Where no browser
runs the component (AppTest), :func:`available` is False and the page shows its server-drawn
pictures instead.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

FOLDER = Path(__file__).resolve().parents[1] / "components" / "playground_live"
# Inline code, not asset paths: Streamlit serves component files only from installed packages.
_component = st.components.v2.component(
    "dlp_playground_live",
    js=(FOLDER / "playground_live.js").read_text(encoding="utf-8"),
    css=(FOLDER / "playground_live.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # the styles are all .pg-*, and tests and benchmarks can query the pictures
)
APPTEST_SESSION = "test session id"  # the session id AppTest's script runner gives every run


def available() -> bool:
    """Whether a browser will run the component: not under AppTest, which runs no JavaScript."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx is not None and ctx.session_id != APPTEST_SESSION


def picture(view: str, setup: int, *, key: str, **options) -> None:
    """Mount one live picture: ``view`` is "epoch", "network", "output" or "curve"; ``setup``
    names the network it shows (frames of another are not drawn); ``options`` what the picture
    needs besides frames (see playground_live.js: sizes, labels, points, grid, classes, ...)."""
    _component(key=key, data={"view": view, "setup": setup, **options}, height="content")


def _ignore() -> None:
    """The trigger's callback: the fragment rerun it causes is the point, nothing to do here."""


def frames(batch: list[dict], setup: int, *, key: str, tick: int, playing: bool) -> None:
    """Send ``batch``, the frames made since the last batch (``encode_frame``, oldest first), to the
    pictures, which play them back spread over the time between batches. While ``playing``, the
    browser asks for the next batch as soon as this one arrives, which reruns the fragment this is
    in; ``tick`` must change on every such run. ``setup`` names the network they show."""
    _component(key=key, data={"view": "frames", "frames": [{**frame, "setup": setup} for frame in batch],
                              "tick": tick, "playing": playing}, height=1, on_drawn_change=_ignore)
