"""Runs: every training run as TensorBoard shows it — curves, weight distributions, model summary."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import plotly.graph_objects as go
import streamlit as st


from core.errors import AppError
from core.paths import runs_dir
from core.runs import delete_run, list_runs, read_histograms, read_scalars, smooth
from views.common import manager

st.title("Runs")
st.caption(f"Every training writes TensorBoard event files to `{runs_dir()}`. This page reads them back; "
           "the button below opens TensorBoard itself on the same folder.")

runs = [r for r in list_runs() if r["name"] != "projector"]
records = {str(e.record.get("run_dir")): e for e in manager().store.entries()}

top = st.columns([1, 3])
if top[0].button("Open in TensorBoard", icon=":material/open_in_new:"):
    from core import tensorboard

    try:
        with st.spinner("Starting TensorBoard and preparing its projector…"):
            tensorboard.write_latest_projector(manager())
            url = tensorboard.ensure_running()
        st.session_state.tensorboard_url = url
    except AppError as error:
        st.error(str(error), icon=":material/error:")
if st.session_state.get("tensorboard_url"):
    top[1].markdown(f"TensorBoard is running at [{st.session_state.tensorboard_url}]"
                    f"({st.session_state.tensorboard_url}) (Scalars, Histograms, HParams and Projector tabs).")

if not runs:
    st.info("No runs yet. Train a network on the Draw or Text page, or press **Save run** on the "
            "Playground, and it appears here.", icon=":material/monitoring:")
    st.stop()


def row(run: dict) -> dict:
    entry = records.get(str(run["path"]))
    record = entry.record if entry else {}
    metrics = record.get("metrics", {})
    config = run.get("config", {})
    return {
        "run": run["name"],
        "kind": run.get("kind", ""),
        "network": run.get("title", ""),
        "config": ", ".join(f"{k}={v}" for k, v in config.items() if not isinstance(v, (list, dict)))[:120],
        "data": config.get("dataset", config.get("corpus", "")),
        "test accuracy": metrics.get("test_accuracy"),
        "final loss": (record.get("history") or [{}])[-1].get("loss"),
        "duration (s)": record.get("duration_s"),
        "date": dt.datetime.fromtimestamp(run["modified"]).strftime("%Y-%m-%d %H:%M"),
    }


table = [row(r) for r in runs]
event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="multi-row", key="runs-table",
                     column_config={"test accuracy": st.column_config.NumberColumn(format="percent")})
picked = [runs[i] for i in (event.selection.rows if event and event.selection else [])] or runs[:1]
st.caption("Select rows to overlay their curves (the newest run is shown when none is selected).")


@st.cache_data(show_spinner=False, max_entries=64)
def scalars_of(path: str, modified: float):
    return read_scalars(path)


@st.cache_data(show_spinner=False, max_entries=32)
def histograms_of(path: str, modified: float):
    return {tag: [(step, buckets.tolist()) for step, buckets in values]
            for tag, values in read_histograms(path).items()}


# ---- curves ------------------------------------------------------------------------------------
c1, c2, c3 = st.columns([2, 1, 1])
smoothing = c1.slider("Smoothing", 0.0, 0.99, 0.6, step=0.01,
                      help="TensorBoard's exponential moving average (debiased at the start); the faint "
                           "line is the raw value.")
x_axis = c2.radio("Horizontal axis", ["step", "relative", "wall"], horizontal=True,
                  format_func={"step": "Step", "relative": "Relative time", "wall": "Wall time"}.get)
all_tags = sorted({tag for run in picked for tag in scalars_of(str(run["path"]), run["modified"])})
metrics = sorted({tag.split("/", 1)[1] for tag in all_tags})
metric = c3.selectbox("Metric", metrics, index=metrics.index("loss") if "loss" in metrics else 0) if metrics else None

if metric:
    figure = go.Figure()
    palette = ["#f26b1d", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    for index, run in enumerate(picked):
        scalars = scalars_of(str(run["path"]), run["modified"])
        for split, dash in (("train", "solid"), ("validation", "dash")):
            points = scalars.get(f"{split}/{metric}")
            if not points:
                continue
            steps, walls, values = zip(*points)
            xs = {"step": steps, "relative": [w - walls[0] for w in walls],
                  "wall": [dt.datetime.fromtimestamp(w) for w in walls]}[x_axis]
            colour = palette[index % len(palette)]
            label = f"{run.get('title') or run['name']} · {split}"
            figure.add_trace(go.Scatter(x=xs, y=values, mode="lines", line=dict(color=colour, width=1, dash=dash),
                                        opacity=0.3, showlegend=False, hoverinfo="skip"))
            figure.add_trace(go.Scatter(x=xs, y=smooth(list(values), smoothing), mode="lines+markers",
                                        name=label, line=dict(color=colour, width=2.5, dash=dash)))
    figure.update_layout(title=f"{metric} (solid: training, dashed: validation)", height=380,
                         xaxis_title={"step": "epoch / step", "relative": "seconds since start",
                                      "wall": "time"}[x_axis], margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(figure, key="runs-curves")

# ---- one run in depth -------------------------------------------------------------------------
run = picked[0]
st.subheader(run.get("title") or run["name"])
histograms = histograms_of(str(run["path"]), run["modified"])
weight_tags = [t for t in histograms if not t.startswith("gradients/")]
if weight_tags:
    st.markdown("**How the weights moved during training.** Each row is one epoch, each column a range "
                "of weight values, and the colour says how many weights fall in that range. A band that "
                "stays put means the layer barely changed; one that widens means its weights grew.")
    show = st.selectbox("Layer weights", weight_tags + [t for t in histograms if t.startswith("gradients/")],
                        key=f"runs-hist-{run['name']}")
    values = histograms[show]
    low = min(np.asarray(b)[:, 0].min() for _, b in values)
    high = max(np.asarray(b)[:, 1].max() for _, b in values)
    edges = np.linspace(low, high, 41)
    grid = []
    for _, buckets in values:
        buckets = np.asarray(buckets)
        centres = (buckets[:, 0] + buckets[:, 1]) / 2
        counts, _ = np.histogram(centres, bins=edges, weights=buckets[:, 2])
        grid.append(counts)
    heat = go.Figure(go.Heatmap(z=grid, x=(edges[:-1] + edges[1:]) / 2, y=[s for s, _ in values],
                                colorscale="Oranges", colorbar=dict(title="weights"),
                                hovertemplate="epoch %{y}, value ≈ %{x:.3f}: %{z:.0f}<extra></extra>"))
    heat.update_layout(height=300, xaxis_title="value", yaxis_title="epoch", margin=dict(l=10, r=10, t=10, b=10))
    st.plotly_chart(heat, key="runs-hist")

summary_path = run["path"] / "model.json"
if summary_path.exists():
    summary = json.loads(summary_path.read_text())
    st.markdown("**Model summary**")
    st.dataframe([{k: v for k, v in layer.items() if k != "inbound"} for layer in summary["layers"]],
                 hide_index=True)
    st.caption(f"{sum(l['params'] for l in summary['layers']):,} parameters in all.")
    edges_dot = "\n".join(f'"{src}" -> "{layer["name"]}";' for layer in summary["layers"] for src in layer["inbound"])
    st.graphviz_chart(f'digraph {{ rankdir=LR; node [shape=box, style=rounded, fontsize=10]; {edges_dot} }}')

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
