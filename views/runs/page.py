"""Runs: every training run as TensorBoard shows it — curves, weight and gradient distributions,
model summary — and TensorBoard itself, with its projector."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from core import tensorboard
from core.errors import AppError
from core.paths import runs_dir
from core.training.runs import list_runs, read_histograms, read_scalars
from views.common import manager
from views.runs.in_depth import run_in_depth
from views.runs.pictures import (
    AXES, CHART_CONFIG, PALETTE, config_text, curves_caption, curves_figure, epoch_length, scalars_csv,
    settings_table,
)
from views.state import kept, set_url_value, url_value

st.title("Runs")
st.caption(f"Every training writes TensorBoard event files to `{runs_dir()}`. This page reads them back; "
           "the button below opens TensorBoard itself on the same folder.")

runs = list_runs()  # the projector's folder has no run.json: not listed
records = {str(e.record.get("run_dir")): e for e in manager().store.entries()}


# ---- TensorBoard ---------------------------------------------------------------------------------
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
if st.session_state.get("runs_deleted"):
    st.success(st.session_state.pop("runs_deleted"), icon=":material/delete:")

if not runs:
    st.info("No runs yet. Train a network on the Draw or Text page, or press **Save run** on the "
            "Playground, and it appears here.", icon=":material/monitoring:")
    st.stop()


# ---- the table; the selection survives page switches (session) and links (?runs=a,b) ----------
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


wanted = st.session_state.get("runs_selected")
if wanted is None:
    wanted = url_value("runs", [], lambda text: text.split(","))
start_rows = [index for index, run in enumerate(runs) if run["name"] in wanted]
event = st.dataframe(
    [row(r) for r in runs], hide_index=True, on_select="rerun", selection_mode="multi-row", key="runs_table",
    selection_default={"selection": {"rows": start_rows}} if start_rows else None,
    column_config={"test accuracy": st.column_config.NumberColumn(format="percent"),
                   "config": st.column_config.TextColumn(
                       help="Every setting of the run; all of them, side by side for the "
                            "selected runs, under “All settings” below the table.")})
chosen = [runs[i] for i in (event.selection.rows if event and event.selection else []) if i < len(runs)]
st.session_state.runs_selected = [run["name"] for run in chosen]
set_url_value("runs", ",".join(st.session_state.runs_selected) or None)
picked = chosen or runs[:1]
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
line_kind = c1.segmented_control(
    "Lines", ["smooth", "band"], default="smooth", required=True,
    format_func={"smooth": "Smoothed", "band": "Min–max band"}.get, **kept("runs_lines", url=True),
    help="Smoothed: TensorBoard's exponential moving average (debiased at the start) over the faint raw "
         "line. Min–max band: the mean of each point's last few points, inside a band from their "
         "lowest to their highest value, so noisy curves show how far they spread.")
if line_kind == "band":
    window = c1.slider("Window (points)", 2, 50, 10, **kept("runs_window", url=True),
                       help="How many logged points, up to and including each one, its band spans.")
    smoothing = 0.0
else:
    window = 0
    smoothing = c1.slider("Smoothing", 0.0, 0.99, 0.6, step=0.01, **kept("runs_smoothing", url=True),
                          help="The weight of the past in TensorBoard's moving average: 0 shows the raw values.")
x_axis = c2.radio("Horizontal axis", list(AXES), horizontal=True, format_func=AXES.get,
                  **kept("runs_axis", url=True),
                  help="Step: one optimiser update (one batch), with epochs marked along the top; "
                       "Playground runs count epochs here, as the TensorFlow Playground does. "
                       "Epoch: steps divided by the steps in one pass over the data, so runs with "
                       "different batch sizes or data sizes line up.")
log_axes = c2.pills("Log scale", ["x", "y"], selection_mode="multi", format_func=lambda a: f"{a} axis",
                    **kept("runs_log", url=True),
                    help="A logarithmic axis: on x, the early steps, where most of the learning happens, "
                         "get as much room as the late ones (step and epoch axes only).")
all_scalars = [scalars_of(str(run["path"]), run["modified"]) for run in picked]
metrics = sorted({tag.split("/", 1)[1] for scalars in all_scalars for tag in scalars})
metric = c3.selectbox("Metric", metrics, index=metrics.index("loss") if "loss" in metrics else 0,
                      **kept("runs_metric", url=True)) if metrics else None
if metrics:
    c3.download_button(
        "Download CSV", lambda: scalars_csv(picked, all_scalars), "runs-scalars.csv", "text/csv",
        icon=":material/download:", key="runs_csv", on_click="ignore",
        help="Every scalar of the shown runs in one file: run, network, split, metric, step, epoch, "
             "wall time, value.")

if metric:
    lines, without_epochs = [], []
    for index, (run, scalars) in enumerate(zip(picked, all_scalars)):
        steps_per_epoch = epoch_length(run)
        if x_axis == "epoch" and not steps_per_epoch:
            without_epochs.append(run.get("title") or run["name"])
            continue
        for split in ("train", "validation", "test"):
            points = scalars.get(f"{split}/{metric}")
            if points:
                steps, walls, values = zip(*points)
                lines.append({"label": run.get("title") or run["name"], "colour": PALETTE[index % len(PALETTE)],
                              "split": split, "steps": steps, "walls": walls, "values": values,
                              "steps_per_epoch": steps_per_epoch})
    if without_epochs:
        st.caption("Left out on the epoch axis (they have no epochs, or were logged before runs kept their "
                   "epoch length): " + "; ".join(without_epochs) + ". Choose the step axis to see them.")
    if "x" in (log_axes or []) and x_axis not in ("step", "epoch"):
        st.caption("A log scale on x needs the step or epoch axis: time starts at 0.")
    if lines:
        st.plotly_chart(curves_figure(lines, metric, smoothing, x_axis, band=window, log_x="x" in (log_axes or []),
                                      log_y="y" in (log_axes or [])), key="runs_curves", config=CHART_CONFIG)
        st.caption(curves_caption(metric, {run.get("kind") for run in picked}))

# ---- one run in depth -------------------------------------------------------------------------
run = picked[0]
run_in_depth(run, histograms_of(str(run["path"]), run["modified"]), records.get(str(run["path"])))
