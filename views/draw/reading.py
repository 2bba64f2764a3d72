"""Draw's reading of the current drawing: the Prediction, its probabilities, the other networks.

Shown on every picture the canvas sends, live while the pen moves, so it stays light: one metric,
one bar chart, one line per other network.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.digits.look_inside import DigitReader, is_unsure
from core.digits.preprocess import Preprocessed

EMPTY = "–"


def probability_figure(probabilities: np.ndarray, names: list[str], noun: str) -> go.Figure:
    """One bar per class, the predicted one in orange."""
    best = int(np.argmax(probabilities))
    colours = ["#f26b1d" if index == best else "#9aa5b8" for index in range(len(names))]
    figure = go.Figure(go.Bar(x=names, y=probabilities, marker_color=colours,
                              hovertemplate=f"{noun} %{{x}}: %{{y:.1%}}<extra></extra>"))
    long_names = max(len(name) for name in names) > 3
    figure.update_layout(height=260 if long_names else 230, margin=dict(l=10, r=10, t=10, b=10),
                         yaxis=dict(range=[0, 1], tickformat=".0%", title="probability"),
                         xaxis=dict(title=noun, type="category", tickangle=-45 if long_names else 0))
    return figure


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
    st.plotly_chart(probability_figure(probabilities, names, noun), key="draw_probabilities",
                    config={"displayModeBar": False})
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
