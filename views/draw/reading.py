"""Draw's reading of the current drawing: the Prediction, its probabilities, the other networks.

Shown on every picture the canvas sends, live while the pen moves, so it stays light: one metric,
bars in plain HTML, one line per other network.
"""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from core.digits.look_inside import DigitReader, is_unsure
from core.digits.preprocess import Preprocessed

EMPTY = "–"


def probability_bars(probabilities: np.ndarray, names: list[str], noun: str) -> str:
    """One bar per class as plain HTML, the predicted one in orange, its value written on top and every
    value on hover. Not a Plotly chart: while the pen moves it is redrawn about ten times a second, and
    the browser's main thread must stay free to draw the ink."""
    best = int(np.argmax(probabilities))
    columns = []
    for index, (name, probability) in enumerate(zip(names, probabilities)):
        colour = "#f26b1d" if index == best else "#9aa5b8"
        label = html.escape(str(name))
        value = f'<small style="color:#f26b1d">{probability:.0%}</small>' if index == best else ""
        columns.append(
            f'<div title="{html.escape(noun)} {label}: {probability:.1%}" style="flex:1;min-width:0;display:flex;'
            f'flex-direction:column;justify-content:flex-end;align-items:center;height:100%">{value}'
            f'<div style="width:70%;height:{max(0.5, probability * 100):.1f}%;background:{colour};'
            f'border-radius:2px 2px 0 0"></div></div>')
    labels = "".join(f'<div style="flex:1;min-width:0;text-align:center;overflow:hidden;white-space:nowrap;'
                     f'text-overflow:ellipsis">{html.escape(str(name))}</div>' for name in names)
    summary = ", ".join(f"{name} {p:.0%}" for name, p in zip(names, probabilities))
    return (f'<div role="img" aria-label="Probabilities: {html.escape(summary)}" style="margin:0.25rem 0 0.75rem">'
            f'<div style="display:flex;gap:2px;height:120px;border-bottom:1px solid #c8cdd6">{"".join(columns)}</div>'
            f'<div style="display:flex;gap:2px;font-size:0.8rem;color:#5f6b7a">{labels}</div>'
            f'<div style="text-align:center;font-size:0.75rem;color:#8a94a3">probability of each {html.escape(noun)}'
            f' (hover a bar for its value)</div></div>')


def show_prompt(result: Preprocessed | None, uploaded: bool, noun: str) -> None:
    """What to do when there is nothing to read: draw, or (for an upload) why no digit was found."""
    st.metric("Prediction", EMPTY, help=f"Draw a {noun} on the black square.")
    notes = result.notes if result is not None else []
    if uploaded:
        reason = notes[0] if notes else f"The uploaded picture looks empty: there is no {noun} in it to read."
        st.warning(f"{reason} Upload a picture of one {noun}, or remove it to draw on the canvas.",
                   icon=":material/image_not_supported:")
    else:
        st.info(f"Draw a {noun} on the black canvas.", icon=":material/draw:")
        for note in notes:
            st.warning(note, icon=":material/help:")


def show_reading(reader: DigitReader, title: str, names: list[str], noun: str, result: Preprocessed,
                 live: bool) -> np.ndarray:
    """The primary network's reading of ``result`` (not empty); returns its probabilities."""
    probabilities = reader.probabilities(result.digit)
    best = int(np.argmax(probabilities))
    st.metric("Prediction", names[best], help=f"What {title} reads, with its confidence below.")
    when = " · reading as you draw" if live else ""
    st.caption(f"{title} · confidence {probabilities[best]:.1%}{when}")
    for note in result.notes:
        st.warning(note, icon=":material/help:")
    if is_unsure(probabilities):
        runner_up = int(np.argsort(probabilities)[-2])
        st.warning(f"The network is unsure: {names[best]} ({probabilities[best]:.0%}) or "
                   f"{names[runner_up]} ({probabilities[runner_up]:.0%})?", icon=":material/help:")
    st.markdown(probability_bars(probabilities, names, noun), unsafe_allow_html=True)
    return probabilities


def show_others(others: list[tuple[str, DigitReader | None, list[str]]], digit: np.ndarray) -> None:
    """The other chosen networks' readings of the same drawing, side by side."""
    if not others:
        return
    st.markdown("**The other networks on the same drawing**")
    for column, (title, reader, names) in zip(st.columns(len(others)), others):
        with column:
            if reader is None:
                st.metric(title, EMPTY, help="Not trained yet: pick it first in Networks to train it.")
                st.caption("not trained yet")
            else:
                probabilities = reader.probabilities(digit)
                st.metric(title, names[int(np.argmax(probabilities))])
                st.caption(f"confidence {probabilities.max():.1%}")
