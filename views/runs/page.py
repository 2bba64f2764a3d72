"""Runs: every training run as TensorBoard shows it — curves, weight and gradient distributions,
model summary."""
from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from core import tensorboard
from core.errors import AppError
from core.paths import runs_dir
from core.training.runs import GRADIENT_PREFIX, delete_run, list_runs, read_histograms, read_scalars
from views.common import manager
from views.runs.pictures import (
    AXES, GRADIENTS_TEXT, PALETTE, WEIGHTS_TEXT, config_text, curves_caption, curves_figure, histogram_figure,
    settings_table, spread,
)

# ---- the page ------------------------------------------------------------------------------------
st.title("Runs")
st.caption(f"Every training writes TensorBoard event files to `{runs_dir()}`. This page reads them back; "
           "the button below opens TensorBoard itself on the same folder.")

runs = list_runs()  # the projector's folder has no run.json: not listed
records = {str(e.record.get("run_dir")): e for e in manager().store.entries()}

def open_tensorboard() -> None:
    """Write the projector run, start TensorBoard (or find it running), remember its address."""
    try:
        with st.spinner("Preparing the projector (each digit network's last hidden layer on 2,000 test "
                        "images) and starting TensorBoard…"):
            run, left_out = tensorboard.write_projector(manager())
            st.session_state.runs_tensorboard_url = tensorboard.ensure_running()
        st.session_state.runs_projector_note = (
            "no digit network is stored yet, so the Projector tab is empty" if run is None else
            "the Projector tab has one embedding per digit network" +
            (" (left out: " + "; ".join(left_out) + ")" if left_out else ""))
    except AppError as error:
        st.session_state.runs_tensorboard_url = None
        st.error(str(error), icon=":material/error:")


top = st.columns([1, 3], vertical_alignment="center")
if top[0].button("Open in TensorBoard", icon=":material/open_in_new:", key="runs_open_tensorboard"):
    open_tensorboard()
if st.session_state.get("runs_tensorboard_url"):
    url = st.session_state.runs_tensorboard_url
    top[1].markdown(f"**[Open TensorBoard :material/open_in_new:]({url})** — Scalars, Histograms, HParams and "
                    f"Projector; {st.session_state.get('runs_projector_note', '')}.")

if not runs:
    st.info("No runs yet. Train a network on the Draw or Text page, or press **Save run** on the "
            "Playground, and it appears here.", icon=":material/monitoring:")
    st.stop()


def epoch_length(run: dict) -> int | None:
    """Logged steps per epoch: the Playground logs epochs themselves (as the TensorFlow Playground
    counts); runs without epochs (the LSTMs draw random windows) have none."""
    return run.get("steps_per_epoch") or (1 if run.get("kind") == "playground" else None)


def row(run: dict) -> dict:
    entry = records.get(str(run["path"]))
    record = entry.record if entry else {}
    metrics = record.get("metrics", {})
    config = run.get("config", {})
    return {
        "run": run["name"],
        "kind": run.get("kind", ""),
        "network": run.get("title", ""),
        "config": config_text(config),
        "data": config.get("dataset", config.get("corpus", "")),
        "test accuracy": metrics.get("test_accuracy"),
        "final loss": (record.get("history") or [{}])[-1].get("loss"),
        "duration (s)": record.get("duration_s"),
        "date": dt.datetime.fromtimestamp(run["modified"]).strftime("%Y-%m-%d %H:%M"),
    }


table = [row(r) for r in runs]
event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="multi-row", key="runs-table",
                     column_config={"test accuracy": st.column_config.NumberColumn(format="percent"),
                                    "config": st.column_config.TextColumn(
                                        help="Every setting of the run; all of them, side by side for the "
                                             "selected runs, under “All settings” below the table.")})
picked = [runs[i] for i in (event.selection.rows if event and event.selection else [])] or runs[:1]
st.caption("Select rows to overlay their curves (the newest run is shown when none is selected).")
with st.expander("All settings of the shown runs"):
    st.dataframe(settings_table(picked), hide_index=True)


@st.cache_data(show_spinner=False, max_entries=64)
def scalars_of(path: str, modified: float):
    return read_scalars(path)


@st.cache_data(show_spinner=False, max_entries=32)
def histograms_of(path: str, modified: float):
    return {tag: [(step, buckets.tolist()) for step, buckets in values]
            for tag, values in read_histograms(path).items()}


# ---- curves ------------------------------------------------------------------------------------
c1, c2, c3 = st.columns([2, 2, 1])
smoothing = c1.slider("Smoothing", 0.0, 0.99, 0.6, step=0.01,
                      help="TensorBoard's exponential moving average (debiased at the start); the faint "
                           "line is the raw value.")
x_axis = c2.radio("Horizontal axis", list(AXES), horizontal=True, format_func=AXES.get,
                  help="Step: one optimiser update (one batch), with epochs marked along the top; "
                       "Playground runs count epochs here, as the TensorFlow Playground does. "
                       "Epoch: steps divided by the steps in one pass over the data, so runs with "
                       "different batch sizes or data sizes line up.")
all_tags = sorted({tag for run in picked for tag in scalars_of(str(run["path"]), run["modified"])})
metrics = sorted({tag.split("/", 1)[1] for tag in all_tags})
metric = c3.selectbox("Metric", metrics, index=metrics.index("loss") if "loss" in metrics else 0) if metrics else None

if metric:
    lines, without_epochs = [], []
    for index, run in enumerate(picked):
        steps_per_epoch = epoch_length(run)
        if x_axis == "epoch" and not steps_per_epoch:
            without_epochs.append(run.get("title") or run["name"])
            continue
        scalars = scalars_of(str(run["path"]), run["modified"])
        for split in ("train", "validation"):
            points = scalars.get(f"{split}/{metric}")
            if points:
                steps, walls, values = zip(*points)
                lines.append({"label": run.get("title") or run["name"], "colour": PALETTE[index % len(PALETTE)],
                              "split": split, "steps": steps, "walls": walls, "values": values,
                              "steps_per_epoch": steps_per_epoch})
    if without_epochs:
        st.caption("Left out on the epoch axis (they have no epochs, or were logged before runs kept their "
                   "epoch length): " + "; ".join(without_epochs) + ". Choose the step axis to see them.")
    if lines:
        st.plotly_chart(curves_figure(lines, metric, smoothing, x_axis), key="runs-curves")
        st.caption(curves_caption(metric, {run.get("kind") for run in picked}))

# ---- one run in depth -------------------------------------------------------------------------
run = picked[0]
st.subheader(run.get("title") or run["name"])
histograms = histograms_of(str(run["path"]), run["modified"])
weight_tags = [t for t in histograms if not t.startswith(GRADIENT_PREFIX)]
gradient_tags = [t[len(GRADIENT_PREFIX):] for t in histograms if t.startswith(GRADIENT_PREFIX)]
if weight_tags:
    what = "weights"
    if gradient_tags:
        what = st.radio("Distributions of", ["weights", "gradients"], horizontal=True, key=f"runs-what-{run['name']}",
                        format_func={"weights": "Layer weights", "gradients": "Gradients"}.get)
    st.markdown(WEIGHTS_TEXT if what == "weights" else GRADIENTS_TEXT)
    tags = weight_tags if what == "weights" else gradient_tags
    show = st.selectbox("Layer weights" if what == "weights" else "Gradients of the layer's weights", tags,
                        key=f"runs-hist-{run['name']}-{what}")
    rows = histograms[show if what == "weights" else GRADIENT_PREFIX + show]
    if len(rows) > 2 and rows[0][0] == 0 and st.toggle(
            "Leave out step 0", value=what == "gradients", key=f"runs-skip0-{run['name']}-{what}",
            help="The first gradients, at the random start, are often far larger than all later ones; "
                 "leaving that row out lets the value axis fit the rows after it."):
        rows = rows[1:]
    st.plotly_chart(histogram_figure(rows, what, epoch_length(run)), key="runs-hist")
    st.caption(f"Spread (standard deviation) of the {what}: {spread(rows[0][1]):.3g} at step {rows[0][0]}, "
               f"{spread(rows[-1][1]):.3g} at step {rows[-1][0]}.")

summary_path = run["path"] / "model.json"
if summary_path.exists():
    summary = json.loads(summary_path.read_text())
    st.markdown("**Model summary**")
    st.dataframe([{k: v for k, v in layer.items() if k != "inbound"} for layer in summary["layers"]],
                 hide_index=True)
    st.caption(f"{sum(l['params'] for l in summary['layers']):,} parameters in all.")
    edges_dot = "\n".join(f'"{src}" -> "{layer["name"]}";' for layer in summary["layers"] for src in layer["inbound"])
    with st.expander("The layers as a graph"):  # top to bottom: a long chain stays legible on a phone too
        st.graphviz_chart(f'digraph {{ rankdir=TB; node [shape=box, style=rounded, fontsize=11]; {edges_dot} }}')

entry = records.get(str(run["path"]))
b1, b2 = st.columns(2)
if entry is not None and entry.path is not None and (entry.path / "model.keras").exists():
    b1.download_button("Download the .keras file", (entry.path / "model.keras").read_bytes(),
                       f"{run['name']}.keras", icon=":material/download:")
if b2.button("Delete this run", icon=":material/delete:", key=f"runs-delete-{run['name']}"):
    delete_run(run["path"])
    if entry is not None:
        manager().store.delete(entry.key)
    st.cache_data.clear()
    st.rerun()
