"""The Runs page's pictures and tables: pure functions of the runs' logged values."""
from __future__ import annotations

import csv
import datetime as dt
import io
import math

import numpy as np
import plotly.graph_objects as go

from core.digits.models import GRADIENT_BATCH
from core.text.lstm import CLIP_NORM
from core.training.runs import smooth

PALETTE = ["#f26b1d", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
AXES = {"step": "Step", "epoch": "Epoch (fractional)", "relative": "Relative time", "wall": "Wall time"}
AXIS_TITLES = {"step": "step", "epoch": "epoch", "relative": "seconds since start", "wall": "time"}
MARKERS_UP_TO = 30  # points on a line; more and the markers hide the line
#: How each split's line is drawn. The Playground logs its test loss as "test": a held-out set it
#: never trains on, as the TensorFlow Playground calls it (the digit networks validate instead).
DASHES = {"train": "solid", "validation": "dash", "test": "dot"}
#: Plotly's own toolbar is hidden: on a phone it covered the title and the top axis. Dragging
#: still zooms and a double click resets; Streamlit's toolbar keeps full screen.
CHART_CONFIG = {"displayModeBar": False}


def epoch_length(run: dict) -> int | None:
    """Logged steps per epoch: the Playground logs epochs themselves (as the TensorFlow Playground
    counts); runs without epochs (the LSTMs draw random windows) have none."""
    return run.get("steps_per_epoch") or (1 if run.get("kind") == "playground" else None)


def config_text(config: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.items() if not isinstance(v, (list, dict)))


def settings_table(runs: list[dict]) -> list[dict]:
    """One row per setting, one column per run: the whole config, side by side."""
    names = [run.get("title") or run["name"] for run in runs]
    if len(set(names)) < len(names):
        names = [run["name"] for run in runs]
    keys = list(dict.fromkeys(key for run in runs for key in run.get("config", {})))
    return [{"setting": key, **{name: str(run.get("config", {}).get(key, "")) for name, run in zip(names, runs)}}
            for key in keys]


def epoch_ticks(steps_per_epoch: int, last_step: int) -> tuple[list[float], list[str]]:
    """Step positions of round epoch fractions, and their labels: quarters for a run of up to
    two epochs, halves up to five, then whole epochs (at most about ten ticks)."""
    epochs = last_step / steps_per_epoch
    every = 0.25 if epochs <= 2 else 0.5 if epochs <= 5 else max(1, math.ceil(epochs / 10))
    count = int(epochs / every + 1e-9)
    values = [k * every for k in range(count + 1)]
    return [v * steps_per_epoch for v in values], [f"{v:g}" for v in values]


def curves_caption(metric: str, kinds: set) -> str:
    if metric == "learning_rate":
        return "The learning rate the optimiser's update used at each logged step (set by its schedule)."
    text = "Solid: training; dashed: validation; dotted: test."
    if "digits" in kinds:
        text += (" For the digit networks, each training point is the mean over the batches since the "
                 "previous point, measured in training mode (dropout, augmentation and batch norm's "
                 "batch statistics, where the network has them) while the weights were still changing; "
                 "validation is measured at each epoch's end with the weights of that moment.")
    return text


def rolling_band(values: list[float], window: int) -> tuple[list[float], list[float], list[float]]:
    """Mean, minimum and maximum of each point's trailing window of ``window`` points (fewer at
    the start): TensorBoard's smoothing alternative asked for in tensorboard#6830, which shows
    how far the raw values spread instead of averaging the spread away."""
    values = np.asarray(values, dtype=float)
    means, lows, highs = [], [], []
    for end in range(1, len(values) + 1):
        part = values[max(0, end - window):end]
        means.append(float(part.mean()))
        lows.append(float(part.min()))
        highs.append(float(part.max()))
    return means, lows, highs


def x_values(line: dict, x_axis: str) -> list:
    steps, walls = line["steps"], line["walls"]
    return {"step": list(steps), "epoch": [s / (line["steps_per_epoch"] or 1) for s in steps],
            "relative": [w - walls[0] for w in walls],
            "wall": [dt.datetime.fromtimestamp(w) for w in walls]}[x_axis]


def translucent(colour: str, alpha: float = 0.2) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def curves_figure(lines: list[dict], metric: str, smoothing: float, x_axis: str, *,
                  band: int = 0, log_x: bool = False, log_y: bool = False) -> go.Figure:
    """``lines``: dicts with label, colour, split ("train", "validation" or "test"), steps, walls,
    values and steps_per_epoch (None if the run has no epochs).

    Smoothed (``band`` 0): TensorBoard's debiased moving average over a faint raw line. With
    ``band`` > 0: the mean over each point's trailing ``band`` points, inside a band from their
    minimum to their maximum. ``log_x`` (step and epoch axes only: logged steps start at 1) and
    ``log_y`` put that axis on a log scale."""
    figure = go.Figure()
    for line in lines:
        values = list(line["values"])
        xs = x_values(line, x_axis)
        dash = DASHES.get(line["split"], "dashdot")
        held_out = line["split"] != "train"
        few = len(values) <= MARKERS_UP_TO or held_out
        marker = dict(size=10, symbol="diamond") if held_out else dict(size=6)
        name = f"{line['label']} · {line['split']}"
        if band:
            shown, low, high = rolling_band(values, band)
            figure.add_trace(go.Scatter(x=xs, y=high, mode="lines", line=dict(width=0), showlegend=False,
                                        hoverinfo="skip", legendgroup=name))
            figure.add_trace(go.Scatter(x=xs, y=low, mode="lines", line=dict(width=0), fill="tonexty",
                                        fillcolor=translucent(line["colour"]), showlegend=False,
                                        hoverinfo="skip", legendgroup=name, name=f"{name} (min–max)"))
        else:
            shown = smooth(values, smoothing)
            figure.add_trace(go.Scatter(x=xs, y=values, mode="lines", line=dict(color=line["colour"], width=1,
                                        dash=dash), opacity=0.3, showlegend=False, hoverinfo="skip",
                                        legendgroup=name))
        figure.add_trace(go.Scatter(x=xs, y=shown, mode="lines+markers" if few else "lines", name=name,
                                    marker=marker, legendgroup=name,
                                    line=dict(color=line["colour"], width=2.5, dash=dash)))
    log_x = log_x and x_axis in ("step", "epoch")
    xaxis = dict(title=AXIS_TITLES[x_axis])
    if log_x:
        xaxis["type"] = "log"
    elif x_axis in ("step", "epoch"):
        xaxis["rangemode"] = "tozero"
    layout = dict(height=420, xaxis=xaxis, yaxis=dict(type="log" if log_y else "linear"),
                  margin=dict(l=10, r=10, t=70, b=10), title=dict(text=metric, x=0, xanchor="left", y=0.97),
                  legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"))
    spe = {line["steps_per_epoch"] for line in lines} - {None}
    if x_axis == "step" and len(spe) == 1 and spe != {1} and lines:
        # One epoch length among the runs: the epoch scale runs along the top of the step axis.
        steps_per_epoch = spe.pop()
        ticks, labels = epoch_ticks(steps_per_epoch, max(max(line["steps"]) for line in lines))
        if log_x:  # no epoch 0 on a log axis
            ticks, labels = ticks[1:], labels[1:]
        figure.add_trace(go.Scatter(x=[ticks[0], ticks[-1]], y=[None, None], xaxis="x2", showlegend=False,
                                    hoverinfo="skip"))
        layout["xaxis2"] = dict(overlaying="x", side="top", matches="x", tickvals=ticks, ticktext=labels,
                                title=dict(text="epoch", standoff=2), showgrid=False,
                                **({"type": "log"} if log_x else {}))
        epoch_ends = range(steps_per_epoch, int(ticks[-1]) + 1, steps_per_epoch)
        for epoch_end in epoch_ends if len(epoch_ends) <= 20 else []:
            figure.add_vline(x=epoch_end, line=dict(color="#bbb", width=1, dash="dot"))
    figure.update_layout(**layout)
    return figure


def scalars_csv(runs: list[dict], scalars: list[dict]) -> str:
    """One CSV of every scalar of the given runs (``scalars[i]`` is ``runs[i]``'s
    ``{"split/tag": [(step, wall_time, value), ...]}``): a row per logged value, with the run,
    its network, the split, the metric, the step, the epoch (empty without epochs), the wall time
    (seconds since 1970, as TensorBoard's CSV) and the value. What tensorboard#1232 and #4925 ask
    for: all selected runs at once, not one run and one tag per download."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for run, tags in zip(runs, scalars):
        per_epoch = epoch_length(run)
        for tag in sorted(tags):
            split, metric = tag.split("/", 1)
            for step, wall, value in tags[tag]:
                writer.writerow([run["name"], run.get("title", ""), split, metric, step,
                                 f"{step / per_epoch:.6g}" if per_epoch else "", f"{wall:.3f}", repr(float(value))])
    return out.getvalue()


CSV_COLUMNS = ["run", "network", "split", "metric", "step", "epoch", "wall_time", "value"]


def histogram_grid(rows: list[tuple[int, list]], bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Rebin each row's TensorBoard buckets (left, right, count) onto one shared set of edges,
    sharing each bucket's count among the bins it overlaps (by centre alone, narrow rows would
    leave every other bin empty)."""
    low = min(np.asarray(b)[:, 0].min() for _, b in rows)
    high = max(np.asarray(b)[:, 1].max() for _, b in rows)
    if high <= low:
        high = low + 1e-12
    edges = np.linspace(low, high, bins + 1)
    grid = []
    for _, buckets in rows:
        left, right, counts = np.asarray(buckets, dtype=float).T
        width = right - left
        overlap = np.clip(np.minimum(right[:, None], edges[None, 1:]) - np.maximum(left[:, None], edges[None, :-1]),
                          0, None)
        share = np.divide(overlap, width[:, None], out=np.zeros_like(overlap), where=width[:, None] > 0)
        # Zero-width buckets (a tensor whose values are all equal) go to the bin holding them.
        point = np.clip(np.searchsorted(edges, left, side="right") - 1, 0, bins - 1)
        share[width <= 0] = 0
        share[np.nonzero(width <= 0)[0], point[width <= 0]] = 1
        grid.append(counts @ share)
    return np.array(grid), edges


def spread(buckets: list) -> float:
    """Standard deviation of the values a row of buckets counts (each at its bucket's centre)."""
    left, right, counts = np.asarray(buckets, dtype=float).T
    centres = (left + right) / 2
    mean = np.average(centres, weights=counts)
    return float(np.sqrt(np.average((centres - mean) ** 2, weights=counts)))


def histogram_figure(rows: list[tuple[int, list]], what: str, steps_per_epoch: int | None) -> go.Figure:
    """A heatmap of one tensor's histograms over time: a row per logged step, ``what`` ("weights"
    or "gradients") names what the colour counts."""
    grid, edges = histogram_grid(rows)
    steps = [step for step, _ in rows]
    epochs = [[f"{step / steps_per_epoch:.2f}" if steps_per_epoch else "?"] * grid.shape[1] for step in steps]
    row_label = "step %{y} (epoch %{customdata})" if steps_per_epoch else "step %{y}"
    heat = go.Figure(go.Heatmap(
        z=grid, x=(edges[:-1] + edges[1:]) / 2, y=steps, customdata=epochs, colorscale="Oranges",
        colorbar=dict(title=dict(text=f"number of {what}", side="right"), thickness=10),
        hovertemplate=row_label + ", value ≈ %{x:.3g}: %{z:.0f} " + what + "<extra></extra>"))
    heat.update_layout(height=320, xaxis_title="gradient value" if what == "gradients" else "weight value",
                       yaxis_title="step", margin=dict(l=10, r=10, t=10, b=10))
    return heat


WEIGHTS_TEXT = (
    "**How the weights moved during training.** Each row is one moment of the run (step 0: the initial "
    "weights, before any update), each column a range of values, and the colour says how many of this "
    "layer's weights fall in it. A band that stays put means the *distribution* barely changed — single "
    "weights may still have moved, trading places within it; a band that widens means the weights spread "
    "out to larger magnitudes.")
GRADIENTS_TEXT = (
    "**Gradients on a fixed probe batch.** Each row is the gradient of the training loss with respect to "
    "this layer's weights at that step, always on the same fixed batch of training examples (for the digit "
    f"networks the first {GRADIENT_BATCH} training images), not on the batch the optimiser stepped with; in "
    "training mode (dropout, augmentation and batch norm's batch statistics, where the network has them). "
    "For the LSTMs these are the gradients before clipping: their training steps first scale the gradients "
    f"down to a global norm of at most {CLIP_NORM:g}. A band narrowing towards 0 means the loss on those "
    "examples is getting flat along this layer's weights. Adam does not step along the gradient itself: it "
    "divides a running mean of each weight's gradient by the square root of a running mean of that "
    "gradient's square, so how far a weight moves is not proportional to its gradient.")
