"""The Runs page's "one run in depth": weight and gradient distributions over time, the model
summary and graph, the trained file, and deleting the run (after a confirmation)."""
from __future__ import annotations

import json

import streamlit as st

from core.training.runs import GRADIENT_PREFIX, delete_run
from core.training.store import Entry
from views.common import manager
from views.runs.pictures import (
    CHART_CONFIG, GRADIENTS_TEXT, WEIGHTS_TEXT, epoch_length, histogram_figure, spread,
)


def run_in_depth(run: dict, histograms: dict, entry: Entry | None) -> None:
    """``histograms``: the run's ``{tag: [(step, buckets), ...]}``; ``entry``: its model in the
    store, if it is still there."""
    name = run["name"]
    st.subheader(run.get("title") or name)
    distributions(run, histograms)
    model_summary(run)
    files, deleting = st.columns(2)
    if entry is not None and entry.path is not None and (entry.path / "model.keras").exists():
        keras_file = entry.path / "model.keras"
        files.download_button("Download the .keras file", keras_file.read_bytes, f"{name}.keras",
                              icon=":material/download:", on_click="ignore", key=f"runs_keras_{name}")
    with deleting.popover("Delete this run", icon=":material/delete:"):
        what = "its logs" + (" and the trained network it made (a page that uses it will offer to train "
                             "it again)" if entry is not None else "")
        st.markdown(f"Delete **{run.get('title') or name}**: {what}? This cannot be undone.")
        if st.button("Delete for good", type="primary", icon=":material/delete_forever:",
                     key=f"runs_delete_{name}"):
            delete_run(run["path"])
            if entry is not None:
                manager().store.delete(entry.key)
            st.session_state.runs_selected = [n for n in st.session_state.get("runs_selected", []) if n != name]
            st.session_state.runs_deleted = f"Deleted {run.get('title') or name}."
            st.cache_data.clear()
            st.rerun()


def distributions(run: dict, histograms: dict) -> None:
    weight_tags = [t for t in histograms if not t.startswith(GRADIENT_PREFIX)]
    gradient_tags = [t[len(GRADIENT_PREFIX):] for t in histograms if t.startswith(GRADIENT_PREFIX)]
    if not weight_tags:
        return
    name = run["name"]
    what = "weights"
    if gradient_tags:
        what = st.radio("Distributions of", ["weights", "gradients"], horizontal=True, key=f"runs_what_{name}",
                        format_func={"weights": "Layer weights", "gradients": "Gradients"}.get)
    st.markdown(WEIGHTS_TEXT if what == "weights" else GRADIENTS_TEXT)
    tags = weight_tags if what == "weights" else gradient_tags
    show = st.selectbox("Layer weights" if what == "weights" else "Gradients of the layer's weights", tags,
                        key=f"runs_hist_{name}_{what}")
    rows = histograms[show if what == "weights" else GRADIENT_PREFIX + show]
    if len(rows) > 2 and rows[0][0] == 0 and st.toggle(
            "Leave out step 0", value=what == "gradients", key=f"runs_skip0_{name}_{what}",
            help="The first gradients, at the random start, are often far larger than all later ones; "
                 "leaving that row out lets the value axis fit the rows after it."):
        rows = rows[1:]
    st.plotly_chart(histogram_figure(rows, what, epoch_length(run)), key="runs_hist", config=CHART_CONFIG)
    st.caption(f"Spread (standard deviation) of the {what}: {spread(rows[0][1]):.3g} at step {rows[0][0]}, "
               f"{spread(rows[-1][1]):.3g} at step {rows[-1][0]}.")


def model_summary(run: dict) -> None:
    summary_path = run["path"] / "model.json"
    if not summary_path.exists():
        return
    summary = json.loads(summary_path.read_text())
    st.markdown("**Model summary**")
    st.dataframe([{k: v for k, v in layer.items() if k != "inbound"} for layer in summary["layers"]],
                 hide_index=True)
    st.caption(f"{sum(layer['params'] for layer in summary['layers']):,} parameters in all.")
    edges_dot = "\n".join(f'"{src}" -> "{layer["name"]}";' for layer in summary["layers"] for src in layer["inbound"])
    with st.expander("The layers as a graph"):  # top to bottom: a long chain stays legible on a phone too
        st.graphviz_chart(f'digraph {{ rankdir=TB; node [shape=box, style=rounded, fontsize=11]; {edges_dot} }}')
