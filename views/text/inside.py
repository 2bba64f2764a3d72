"""The Text page's "4 · A look inside": the top-5 candidates of a sample, and every gate of a
chosen unit at every character of a text (issue 32 §1), then the finder and the statistics."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import AppError
from core.text.gates import NAMES, RANGES, SIGNALS, text_ids, trace
from views.text.finder import KIND, PENDING, finder_section
from views.text.pictures import heatmap_uri, top5_figure
from views.state import kept
from views.text.stats import stats_section
from views.text.strips import char_strips, row

MAX_SHOWN = 2_000
UNIT = "text_unit_input"
LAYER = "text_layer"
SPAN = "text_span"

EQUATIONS = r"""
$i = \sigma(W_i x + U_i h + b_i)$

$f = \sigma(W_f x + U_f h + b_f)$

$g = \tanh(W_g x + U_g h + b_g)$

$o = \sigma(W_o x + U_o h + b_o)$

$c' = f \odot c + i \odot g$

$h' = o \odot \tanh(c')$
"""


@st.cache_resource(max_entries=4, show_spinner=False)
def cached_trace(_model, model_tag: str, text: str):
    """Every gate over ``text`` (shared by sessions looking at the same text with the same model)."""
    _, ids, _ = text_ids(_model.vocab, text)
    return trace(_model.arrays(), ids, text)


def chosen_text(model, samples: list | None) -> tuple[str, list[str]]:
    """The text to look at (cut to MAX_SHOWN known characters) and notes about what was left out."""
    sources = (["sample"] if samples else []) + ["own"]
    labels = {"sample": "the sample above (seed + generated)", "own": "your own text"}
    # Keyed by the choices: once a sample exists, the radio starts again on it.
    source = st.radio("Text to look at", sources, format_func=labels.get, horizontal=True,
                      **kept(f"text_inside_source_{len(sources)}"))
    notes = []
    if source == "sample":
        which = 0
        if len(samples) > 1:
            which = st.radio("Sample", range(len(samples)), format_func=lambda i: f"Sample {i + 1}",
                             horizontal=True, key="text_inside_sample")
        text = samples[which].text
    else:
        text = st.text_area("Your text", "", height=100, max_chars=2_000_000, **kept("text_own"),
                            placeholder="Type or paste any text: the model reads it from zero state.")
        if not text:
            return "", ["Type or paste a text to see the gates at each of its characters."]
    known, _, skipped = text_ids(model.vocab, text)
    if skipped:
        shown = " ".join(repr(ch) for ch in skipped[:20]) + (" …" if len(skipped) > 20 else "")
        notes.append(f"Left out {len(skipped)} character(s) the model never saw in training: {shown}.")
    if len(known) > MAX_SHOWN:
        if source == "sample":
            notes.append(f"The text has {len(known):,} characters; the gates are shown for its last {MAX_SHOWN:,} "
                         "(read from zero state, so the first few differ from when the sample was written).")
            known = known[-MAX_SHOWN:]
        else:
            notes.append(f"The text has {len(known):,} characters; the gates are shown for its first {MAX_SHOWN:,}.")
            known = known[:MAX_SHOWN]
    return known, notes


def pick_unit(replay, layer: int, units: int) -> int:
    """The heatmap (a click on a row picks that unit) and the unit's number."""
    signal = st.radio("Heatmap of", ["h", "c"], format_func=lambda s: f"{NAMES[s]} {s}", horizontal=True,
                      key="text_heatmap_signal")
    low, high = RANGES[signal]
    if UNIT not in st.session_state:  # the unit whose h varies most, the first time
        lively = np.argsort(-replay.signal(layer, "h").std(axis=0))
        st.session_state[UNIT] = int(lively[0])
    st.session_state[UNIT] = min(int(st.session_state[UNIT]), units - 1)
    picked = char_strips("", [], key=f"text_heatmap_{layer}_{signal}", heatmap={
        "src": heatmap_uri(replay.signal(layer, signal), low, high), "units": units,
        "unit": int(st.session_state.get(UNIT, 0)),
        "label": f"layer {layer + 1}: {units} units (rows) × {len(replay.text)} characters (columns), {signal} "
                 f"from {low:g} (blue) to {high:g} (red)"})
    if "unit" in picked:
        st.session_state[UNIT] = picked["unit"]
    cols = st.columns([1, 3], vertical_alignment="bottom")
    unit = int(cols[0].number_input("Unit", 0, units - 1, **kept(UNIT)))
    lively = np.argsort(-replay.signal(layer, "h").std(axis=0))[:8]
    cols[1].caption("Units whose h varies most over this text: " + ", ".join(str(u) for u in lively))
    return unit


def gates_view(model, model_tag: str, text: str) -> str | None:
    """Heatmap, unit, the six strips with the equations beside them; returns a selected span's text."""
    try:
        replay = cached_trace(model, model_tag, text)
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        return None
    pending = st.session_state.pop(PENDING, None)  # a unit picked in the finder below
    if pending is not None:
        st.session_state[LAYER], st.session_state[UNIT] = pending
    layer = 0
    if replay.layers > 1:
        if LAYER not in st.session_state:
            st.session_state[LAYER] = replay.layers - 1
        layer = st.radio("Layer", list(range(replay.layers)), format_func=lambda n: f"layer {n + 1}",
                         horizontal=True, **kept(LAYER))
    unit = pick_unit(replay, layer, replay.units)
    rows = [row(f"{s}", s, replay.signal(layer, s)[:, unit], *RANGES[s], title=f"{NAMES[s]} {s}[{unit}]")
            for s in SIGNALS]
    span = st.session_state.get(SPAN)
    selection = span[:2] if span and span[2] == text else None
    strips, equations = st.columns([5, 2])
    with strips:
        got = char_strips(text, rows, key="text_gate_strips", selection=selection, selectable=True,
                          hint="Hover over (or tap) a character for its numbers. Drag across characters (or tap "
                               "the first, then the last) to find the units that follow that text below.")
    with equations:
        st.markdown(f"**Unit {unit}, layer {layer + 1}**\n" + EQUATIONS)
        st.caption("Fixed scales: i, f, o from 0 (white) to 1 (green); g and h from −1 (blue) through 0 (white) "
                   "to +1 (red); c the same from −3 to +3 (beyond is clipped). Each value is the one right "
                   "after the cell read that character.")
    if "span" in got and (*got["span"], text) != span:
        st.session_state[SPAN] = (*got["span"], text)
        st.session_state[KIND] = "selection"  # the finder looks for the selection
        st.rerun()  # to show the selection
    if selection:
        return text[selection[0]:selection[1]]
    return None


def inside_section(model, job, samples: list | None) -> None:
    st.subheader("4 · A look inside")
    if samples:
        sample = samples[0]
        shown = min(len(sample.top), 60)  # more columns than this are unreadable
        if shown:
            st.markdown(f"**Top-5 candidates for the first {shown} generated characters of sample 1** (hover for "
                        "the probabilities; the distribution it was drawn from, after temperature and top-k)")
            st.plotly_chart(top5_figure(sample.top, sample.generated, shown), key="text_top5",
                            config={"displayModeBar": False})
    st.markdown("#### Every gate, per character")
    text, notes = chosen_text(model, samples)
    for note in notes:
        st.info(note, icon=":material/info:")
    selected = gates_view(model, job.key, text) if text else None
    finder_section(model, job, selected)
    stats_section(model, job)
