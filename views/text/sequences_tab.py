"""The Text page's Sequences tab: the same from-scratch cell learns a wave and forecasts it.

Not a page of its own (app.py does not list it); views/text/page.py calls
:func:`sequences_tab_body` inside its second tab.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.errors import AppError
from core.training.jobs import DONE
from core.text.sequences import DEFAULTS, KIND, SERIES, make_series
from views.state import kept
from views.training_widget import evaluation_axis, history_figure, training_widget

#: Plotly's toolbar off: on a phone it covered the charts' titles and legends.
QUIET = {"displayModeBar": False}


def sequences_tab_body() -> None:
    st.markdown(
        "The same LSTM cell, reading **one number per step** instead of one character: it learns to "
        "predict the next value of a wave from the values so far (squared error at every step of a "
        "window). Then it reads the last window before the held-out end and **runs on by itself**, "
        "feeding each forecast back in — the plot shows how long the learned rhythm holds.")
    cols = st.columns(4)
    series = cols[0].radio("Series", list(SERIES), format_func=SERIES.get, **kept("text_seq_series"))
    noise = cols[1].slider("Noise", 0.0, 0.5, DEFAULTS["noise"], 0.01, **kept("text_seq_noise"),
                           help="Standard deviation of Gaussian noise added to every point (the wave's "
                                "amplitude is about 1).")
    units = cols[2].select_slider("Hidden units", [8, 16, 32, 64, 128], DEFAULTS["units"], **kept("text_seq_units"))
    window = cols[3].number_input("Window (steps)", 5, 200, DEFAULTS["window"], **kept("text_seq_window"),
                                  help="How many steps the cell is unrolled over in one training example.")
    cols = st.columns(4)
    steps = cols[0].number_input("Training steps", 1, 20_000, DEFAULTS["steps"], **kept("text_seq_steps"),
                                 help="One step = one batch of windows, one Adam update.")
    learning_rate = cols[1].number_input("Learning rate", 0.0001, 0.1, DEFAULTS["learning_rate"], step=0.0005,
                                         format="%.4f", **kept("text_seq_lr"), help="Adam's step size.")
    horizon = cols[2].number_input("Forecast (steps)", 10, 600, DEFAULTS["horizon"], **kept("text_seq_horizon"),
                                   help="Held out at the end of the series, never trained on, then forecast.")
    seed = cols[3].number_input("Seed", 0, 10_000, 0, **kept("text_seq_seed"), help="Noise, initial weights and batches.")

    try:
        config = KIND.normalize({
            "series": series, "noise": noise, "units": units, "window": window, "steps": steps,
            "learning_rate": learning_rate, "horizon": horizon, "seed": seed})
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        return

    job = training_widget("sequence", config, "text_seq_train", curve_metrics=("loss",), per_evaluation=True,
                          not_trained="Not trained yet with these settings. Press **Train** "
                                      "(it runs in the background; the bar shows how long it has left).")
    truth = make_series(config["series"], config["length"], config["noise"], config["seed"])
    if job is None:
        st.plotly_chart(series_figure(truth, config), key="text_seq_data", config=QUIET)
    if job is None or job.status != DONE:
        return
    try:
        model = job.model()
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        return
    history = truth[:-config["horizon"]]
    forecast = model.forecast(history[-config["window"]:], config["horizon"])
    metrics = job.entry.metrics if job.entry is not None else {}
    cols = st.columns(3)
    cols[0].metric("Forecast error (MSE)", f"{metrics.get('forecast_mse', float('nan')):.4f}",
                   help="Mean squared error of the free-running forecast against the held-out noisy values.")
    cols[1].metric("Against the clean wave", f"{metrics.get('forecast_mse_vs_clean', float('nan')):.4f}",
                   help="The same forecast against the wave without noise: the part a model can learn.")
    cols[2].metric("Noise alone (variance)", f"{config['noise'] ** 2:.4f}",
                   help="What even a perfect forecast of the clean wave scores against the noisy values.")
    st.plotly_chart(series_figure(truth, config, forecast), key="text_seq_forecast", config=QUIET)
    losses = job.progress.history
    if losses:
        st.plotly_chart(history_figure(losses, ("loss",), title="Training loss (squared error)",
                                       xaxis_title=evaluation_axis(losses)), key="text_seq_loss", config=QUIET)
        st.caption("Each point is the mean squared error over the batches of random windows since the "
                   "previous point, not an epoch: there are no epochs here, every step draws a new batch.")


def series_figure(truth: np.ndarray, config: dict, forecast: np.ndarray | None = None) -> go.Figure:
    """The series (training part and held-out end) and, once trained, the forecast over the end."""
    horizon = config["horizon"]
    cut = len(truth) - horizon
    shown_from = max(0, cut - 4 * config["window"])  # enough context to see the rhythm
    steps = np.arange(len(truth))
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=steps[shown_from:cut], y=truth[shown_from:cut], name="training data",
                                line=dict(color="#888", width=1.5)))
    figure.add_trace(go.Scatter(x=steps[cut:], y=truth[cut:], name="held out (truth)",
                                line=dict(color="#0877bd", width=1.5)))
    clean = make_series(config["series"], config["length"], 0.0)
    figure.add_trace(go.Scatter(x=steps[cut:], y=clean[cut:], name="clean wave",
                                line=dict(color="#0877bd", dash="dot")))
    if forecast is not None:
        figure.add_trace(go.Scatter(x=steps[cut:], y=forecast, name="forecast (running alone)",
                                    line=dict(color="#f26b1d", width=2.5)))
    figure.add_vline(x=cut - 0.5, line=dict(color="#bbb", dash="dash"))
    # The legend under the plot: above it, it covered the top of the curves on a phone.
    figure.update_layout(height=380, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="step",
                         yaxis_title="value", legend=dict(orientation="h", x=0, y=-0.22, yanchor="top"))
    return figure
