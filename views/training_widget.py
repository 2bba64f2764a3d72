"""The one training flow every page shares: not trained -> Train -> progress and Cancel -> Train again.

Not a page itself (app.py does not list it). :func:`training_widget` serves the Draw, Text and
Embeddings pages and the Sequences tab; :func:`job_panel` is its progress part.
"""
from __future__ import annotations

from typing import Callable

import plotly.graph_objects as go
import streamlit as st

from core.errors import AppError
from core.figures import Measurement, duration_phrase
from core.training.handle import JobHandle
from core.training.progress import CANCELLED, DONE, FAILED, QUEUED, RUNNING
from core.training.store import Entry
from views.common import format_seconds, manager
from views.state import remember_training


#: Plotly's own toolbar hidden: it covered the title and the legend (zoom by dragging and a double
#: click to reset still work; Streamlit's toolbar keeps full screen).
CHART_CONFIG = {"displayModeBar": False}


def history_figure(history: list[dict], metrics: tuple[str, ...] = ("loss", "val_loss"),
                   title: str = "Loss", height: int = 300, curve: list[dict] | None = None,
                   xaxis_title: str = "epoch") -> go.Figure:
    """Metrics per epoch (or per evaluation); training metrics found in ``curve`` are drawn from it
    instead, as a line through the epochs (the running mean Keras reports), so one epoch is a curve too.

    The legend sits under the plot (above it, it covered the title on a phone), and epochs and
    evaluations are counted in whole numbers: no tick at "1.5"."""
    figure = go.Figure()
    last = 0
    for name in metrics:
        fine = not name.startswith("val_") and any(point.get(name) is not None for point in curve or [])
        source = curve if fine else history
        points = [(h.get("epoch", i + 1), h[name]) for i, h in enumerate(source) if h.get(name) is not None]
        if points:
            xs, ys = zip(*points)
            last = max(last, max(xs))
            label = name.replace("val_", "validation ").replace("_", " ")
            figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines" if fine else "lines+markers", name=label))
    # Plotly picks ticks at halves on a short axis: whole numbers only (1, 2, 5, 10, 20, … apart).
    every = whole_tick_step(last)
    figure.update_layout(title=dict(text=title, x=0, xanchor="left"), height=height,
                         margin=dict(l=10, r=10, t=40, b=10),
                         xaxis=dict(title=xaxis_title, tick0=0, dtick=every, rangemode="tozero"),
                         legend=dict(orientation="h", x=0, xanchor="left", y=-0.3, yanchor="top"))
    return figure


def whole_tick_step(last: float, ticks: int = 8) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that puts at most ``ticks`` ticks on 0..``last``."""
    step = 1
    while last / step > ticks:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return step


def evaluation_axis(history: list[dict]) -> str:
    """The x-axis of a curve with one point per evaluation every N training steps (not per epoch)."""
    every = history[0].get("step") if history else None
    return f"evaluation (every {every:,} training steps)" if every else "evaluation"


def training_widget(kind: str, config: dict, key: str, *, label: str = "Train", heading: str = "",
                    not_trained: str = "", curve_metrics: tuple[str, ...] = ("loss", "val_loss"),
                    curve_title: str = "Loss", per_evaluation: bool = False,
                    on_done: Callable[[JobHandle], None] | None = None) -> JobHandle | None:
    """The model for ``config`` as a job (None if it was never trained), after drawing what is due.

    Not trained: ``heading``, then while queued or running :func:`job_panel` (which reruns the
    page when the training ends); never trained, or the last training failed or was cancelled,
    the error, ``not_trained`` and the Train button (``label``; a plain "Train" becomes "Train
    again" after a failure).
    Trained: nothing, except for a model that came bundled with the app, :func:`bundled_line`.
    The caller shows the model when the returned job's status is DONE.
    """
    job = manager().find(kind, config)
    if job is not None and job.status == DONE:
        if job.entry is not None:
            bundled_line(kind, job.entry, key)
        return job
    if job is not None and not job.finished and manager().store.get(manager().key_for(kind, config)[1]):
        st.subheader("Training it yourself")  # a stored (e.g. bundled) model is being replaced
    elif heading:
        st.subheader(heading)
    if job is not None and not job.finished:
        job_panel(job, key, on_done=on_done, curve_metrics=curve_metrics, curve_title=curve_title,
                  per_evaluation=per_evaluation)
        return job
    if job is not None and job.status == CANCELLED:  # the user's own choice: no error
        st.info(f"{job.error or 'Training was cancelled.'} Your settings are kept; train whenever you like.",
                icon=":material/cancel:")
    elif job is not None:
        st.error(job.error or "Training did not finish.", icon=":material/error:")
    if not_trained:
        st.info(not_trained, icon=":material/model_training:")
    again = job is not None and job.status == FAILED and label == "Train"
    if st.button("Train again" if again else label, type="primary", icon=":material/model_training:", key=key):
        start_training(kind, config, retrain=job is not None)
    return job


def start_training(kind: str, config: dict, retrain: bool = False) -> None:
    """Queue the training and rerun, so the page shows its progress; a refusal is said in words.
    Every page shows this session's trainings while they run (views/state.py)."""
    try:
        job = manager().request(kind, config, retrain=retrain)
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        return
    remember_training(kind, job.config, job.key, job.title)
    st.rerun()


def training_took(entry: Entry | None) -> str | None:
    """How long the training that made ``entry`` took, by its record ("about 2½ hours"), or None."""
    seconds = entry.record.get("duration_s") if entry is not None else None
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        return None
    return duration_phrase([Measurement(float(seconds), "s", "its record")])


def bundled_line(kind: str, entry: Entry, key: str) -> None:
    """For a model that came with the app (its record has ``"bundled"``): say so, offer to retrain.

    The record's ``bundled`` is ``{"test_accuracy": float or None, "note": str}``; training it
    yourself replaces the stored model with one trained here, under the same settings.
    """
    bundled = entry.record.get("bundled")
    if not isinstance(bundled, dict):
        return
    accuracy = bundled.get("test_accuracy")
    score = f" (test accuracy {accuracy * 100:.1f} %)" if isinstance(accuracy, (int, float)) else ""
    took = training_took(entry)
    text, button = st.columns([3, 2], vertical_alignment="center")
    text.caption(f"Bundled model{score} — train it yourself" + (f" (building it took {took})" if took else ""),
                 help=bundled.get("note") or None)
    if button.button("Train it yourself", key=f"{key}-yourself", icon=":material/model_training:"):
        start_training(kind, entry.config, retrain=True)


def job_panel(job: JobHandle, key: str, on_done: Callable[[JobHandle], None] | None = None,
              curve_metrics: tuple[str, ...] = ("loss", "val_loss"), curve_title: str = "Loss",
              per_evaluation: bool = False) -> None:
    """Progress bar, live curve and Cancel for a job, refreshed once a second.

    When a job this session watched ends (done, failed or cancelled), the whole page reruns
    once, so it can show the model or offer to train again.
    """

    @st.fragment(run_every=1.0 if not job.finished else None)
    def panel() -> None:
        p = job.progress
        if p.status == QUEUED:
            where = f" (position {p.queue_position} in the queue)" if p.queue_position else ""
            st.progress(0.0, text=f"Waiting for another training to finish{where}…")
        elif p.status == RUNNING and p.phase:  # the steps are done; say what happens now, not "0 s left"
            st.progress(p.fraction, text=f"{p.phase} ({format_seconds(p.elapsed)} elapsed)")
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
            st.plotly_chart(history_figure(p.history, curve_metrics, curve_title, curve=p.curve,
                                           xaxis_title=xaxis), key=f"{key}-curve-{p.status}", config=CHART_CONFIG)
        if p.status in (QUEUED, RUNNING):
            if st.button("Cancel training", key=f"{key}-cancel", icon=":material/stop:"):
                job.cancel()
                st.rerun(scope="app")
        # Rerun the whole page once when a training this session watched has just ended (a job
        # that had already ended when the page opened must not trigger reruns: a stored model
        # comes back as a new Job object on every rerun).
        watched = f"{key}-watching-{job.key}"
        if p.status in (QUEUED, RUNNING):
            st.session_state[watched] = True
        elif st.session_state.pop(watched, False):
            if on_done is not None and p.status == DONE:
                on_done(job)
            st.rerun(scope="app")

    panel()
