"""Widgets several pages share: the model-store notice and the training-job panel.

Not a page itself (app.py does not list it).
"""
from __future__ import annotations

import math
from typing import Callable

import plotly.graph_objects as go
import streamlit as st

from core.data import IMAGE_DATASETS, image_dataset_problem
from core.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, get_manager


@st.cache_resource(show_spinner=False)
def manager():
    """The process-wide job manager (one per server, shared by every session)."""
    return get_manager()


def format_seconds(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def history_figure(history: list[dict], metrics: tuple[str, ...] = ("loss", "val_loss"),
                   title: str = "Loss", height: int = 260, curve: list[dict] | None = None,
                   xaxis_title: str = "epoch") -> go.Figure:
    """Metrics per epoch (or per evaluation); training metrics found in ``curve`` are drawn from it
    instead, as a line through the epochs (the running mean Keras reports), so one epoch is a curve too."""
    figure = go.Figure()
    for name in metrics:
        fine = not name.startswith("val_") and any(point.get(name) is not None for point in curve or [])
        source = curve if fine else history
        points = [(h.get("epoch", i + 1), h[name]) for i, h in enumerate(source) if h.get(name) is not None]
        if points:
            xs, ys = zip(*points)
            label = name.replace("val_", "validation ").replace("_", " ")
            figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines" if fine else "lines+markers", name=label))
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10),
                         xaxis_title=xaxis_title,
                         legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom"))
    return figure


def evaluation_axis(history: list[dict]) -> str:
    """The x-axis of a curve with one point per evaluation every N training steps (not per epoch)."""
    every = history[0].get("step") if history else None
    return f"evaluation (every {every:,} training steps)" if every else "evaluation"


def job_panel(job: Job, key: str, on_done: Callable[[Job], None] | None = None,
              curve_metrics: tuple[str, ...] = ("loss", "val_loss"), curve_title: str = "Loss",
              per_evaluation: bool = False) -> None:
    """Progress bar, live curve and Cancel for a job, refreshed once a second.

    When the job finishes the whole page reruns, so it can show the model.
    """

    @st.fragment(run_every=1.0 if not job.finished else None)
    def panel() -> None:
        p = job.progress
        if p.status == QUEUED:
            where = f" (position {p.queue_position} in the queue)" if p.queue_position else ""
            st.progress(0.0, text=f"Waiting for another training to finish{where}…")
        elif p.status == RUNNING:
            detail = f"epoch {p.epoch}/{p.epochs} · " if p.epochs else ""
            loss = p.metrics.get("loss")
            loss_text = f" · loss {loss:.4f}" if isinstance(loss, float) else ""
            message = p.message or ("Starting (loading TensorFlow)…" if p.step == 0 else "Training")
            st.progress(p.fraction, text=f"{message}: {detail}step {p.step}/{p.total_steps}"
                        f"{loss_text} · {format_seconds(p.elapsed)} elapsed, "
                        f"about {format_seconds(p.eta_seconds)} left")
        elif p.status == FAILED:
            st.error(job.error or "Training failed.", icon=":material/error:")
        elif p.status == CANCELLED:
            st.warning(job.error or "Training was cancelled.", icon=":material/cancel:")
        if p.history and len(p.history) > 1 or (p.status == RUNNING and (p.history or p.curve)):
            xaxis = evaluation_axis(p.history) if per_evaluation else "epoch"
            st.plotly_chart(history_figure(p.history, curve_metrics, curve_title, curve=p.curve, xaxis_title=xaxis),
                            key=f"{key}-curve-{p.status}")
        if p.status in (QUEUED, RUNNING):
            if st.button("Cancel training", key=f"{key}-cancel", icon=":material/stop:"):
                job.cancel()
                st.rerun(scope="app")
        # Rerun the whole page once when a training this session watched has just finished
        # (a job that was already done when the page opened must not trigger reruns).
        watched = f"{key}-watching-{job.key}"
        if p.status in (QUEUED, RUNNING):
            st.session_state[watched] = True
        elif p.status == DONE and st.session_state.pop(watched, False):
            if on_done is not None:
                on_done(job)
            st.rerun(scope="app")

    panel()


def image_dataset_picker(key: str, label: str = "Training data") -> str:
    """Pick an image dataset; a download-only one while offline falls back to MNIST, saying so."""
    choice = st.selectbox(label, list(IMAGE_DATASETS), key=key,
                          format_func=lambda name: IMAGE_DATASETS[name][0],
                          help="MNIST ships with the app. The others come from tensorflow-datasets "
                               "and are downloaded once, when the machine is online.")
    problem = image_dataset_problem(choice)
    if problem:
        st.warning(problem + " Using MNIST for now.", icon=":material/cloud_off:")
        return "mnist"
    return choice
