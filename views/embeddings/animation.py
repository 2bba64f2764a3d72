"""The over-training view's pictures, as pure functions: the map as a Plotly animation (one frame
per saved point, with in-between frames so the points glide), and the separation curve.

Not a page itself (app.py does not list it). The animation plays in the browser (Plotly's Play
button and slider), so playing it costs the server nothing.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.embeddings.probes import ProbeSet
from views.embeddings.map import KEY_BELOW, MARGIN, RIGHT_WRONG, TOP_MARGIN, markers, palette, title_under_toolbar

TWEENS = 4  # in-between frames per interval: linear steps between two aligned layouts
FRAME_MS = 70  # one frame every 70 ms while playing: about 3.5 s for ten intervals
OT_COLOUR_BY = {"label": "label", "prediction": "prediction at that point", "right / wrong": "right / wrong at that point"}


def colour_choices(probe_set: ProbeSet) -> list[str]:
    """What the points can be coloured by: the label always; the prediction and right / wrong when
    the probes recorded them."""
    return ["label"] + (["prediction"] if probe_set.predicted is not None else []) + \
        (["right / wrong"] if probe_set.correct is not None else [])


def hover_texts(probe_set: ProbeSet, t: int) -> np.ndarray:
    """Each probe's hover text at saved point ``t``: its name, label, and what the network said then."""
    names, label_names = probe_set.names, probe_set.label_names
    texts = [f"{names[i]} · {label_names[probe_set.labels[i]]}" for i in range(len(probe_set))]
    if probe_set.predicted is not None:
        texts = [f"{text} · predicted {label_names[p] if 0 <= p < len(label_names) else p}"
                 for text, p in zip(texts, probe_set.predicted[t])]
    elif probe_set.correct is not None:
        texts = [f"{text} · {'right' if ok else 'wrong'}" for text, ok in zip(texts, probe_set.correct[t])]
    return np.array(texts)


def _groups(probe_set: ProbeSet, colour_by: str) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Traces of fixed membership (one per label), or one trace of every probe with its colours
    changing per frame (prediction, right / wrong), with legend-only entries for the colours."""
    if colour_by == "label":
        members = [np.nonzero(probe_set.labels == g)[0] for g in range(len(probe_set.label_names))]
        keep = [g for g, m in enumerate(members) if len(m)]
        colours = palette(len(probe_set.label_names))
        return [members[g] for g in keep], [probe_set.label_names[g] for g in keep], \
            [colours[g % len(colours)] for g in keep]
    return [np.arange(len(probe_set))], ["probes"], ["#888888"]


def _frame_colours(probe_set: ProbeSet, colour_by: str, t: int) -> list[str] | None:
    if colour_by == "prediction":
        colours = palette(len(probe_set.label_names))
        return [colours[int(p) % len(colours)] for p in probe_set.predicted[t]]
    if colour_by == "right / wrong":
        return [RIGHT_WRONG[0] if ok else RIGHT_WRONG[1] for ok in probe_set.correct[t]]
    return None


def _coordinates(rows: np.ndarray) -> dict:
    """A frame's update of one trace (its type named, so Plotly checks it against the right trace)."""
    rows = np.asarray(rows, dtype=np.float32)
    if rows.shape[1] == 3:
        return {"type": "scatter3d", "x": rows[:, 0], "y": rows[:, 1], "z": rows[:, 2]}
    return {"type": "scattergl", "x": rows[:, 0], "y": rows[:, 1]}


def animation_figure(layouts: np.ndarray, steps: list[int], probe_set: ProbeSet, colour_by: str, title: str,
                     start: int = 0) -> go.Figure:
    """The map at every saved point (``layouts`` (T, N, 2 or 3), aligned and normalised), a frame
    per point named by its step, ``TWEENS`` in-between frames between two points, a slider over the
    points and Play / Pause. Shows point ``start`` first."""
    layouts = np.asarray(layouts, dtype=np.float32)
    flat = layouts.shape[2] == 2
    groups, names, group_colours = _groups(probe_set, colour_by)
    size = (6 if len(probe_set) <= 1000 else 4) if flat else (3 if len(probe_set) > 500 else 4)
    figure = go.Figure()
    colours = _frame_colours(probe_set, colour_by, start)
    for members, name, colour in zip(groups, names, group_colours):
        figure.add_trace(markers(layouts[start][members], webgl=True, mode="markers", name=name,
                                 hovertext=hover_texts(probe_set, start)[members], hoverinfo="text",
                                 customdata=members,
                                 marker=dict(size=size, color=colours if colours is not None else colour)))
    if colour_by != "label":  # legend entries for the colours of the single trace
        legend = (probe_set.label_names if colour_by == "prediction" else ["right", "wrong"])
        legend_colours = palette(len(legend)) if colour_by == "prediction" else RIGHT_WRONG
        for g, name in enumerate(legend):
            figure.add_trace(markers(np.full((1, layouts.shape[2]), np.nan), webgl=True, mode="markers", name=name,
                                     hoverinfo="skip", marker=dict(size=size + 2, color=legend_colours[g % len(legend_colours)])))
    if len(probe_set) <= 200:  # few points (the characters): their names ride along with them
        for trace, members in zip(figure.data, groups):
            trace.update(mode="markers+text", text=[probe_set.names[i] for i in members], textposition="top center")
    frames = []
    for t, step in enumerate(steps):
        texts, colours = hover_texts(probe_set, t), _frame_colours(probe_set, colour_by, t)
        data = []
        for members in groups:
            trace = {**_coordinates(layouts[t][members]), "hovertext": texts[members]}
            if colours is not None:
                trace["marker"] = {"color": [colours[i] for i in members], "size": size}
            data.append(trace)
        frames.append(go.Frame(name=str(step), data=data, traces=list(range(len(groups)))))
        if t + 1 < len(steps):
            for j in range(1, TWEENS + 1):
                mix = j / (TWEENS + 1)
                between = (1 - mix) * layouts[t] + mix * layouts[t + 1]
                frames.append(go.Frame(name=f"{step}+{j}", data=[_coordinates(between[m]) for m in groups],
                                       traces=list(range(len(groups)))))
    figure.frames = frames
    # Fixed ranges, so that the points move and the axes do not: each axis spans nearly every point of
    # every frame (the rare far-out one, common before training, may leave the view).
    low, high = np.percentile(layouts.reshape(-1, layouts.shape[2]), [0.2, 99.8], axis=0)
    pad = (high - low) * 0.04 + 1e-9
    axes = [dict(range=[float(lo - p), float(hi + p)], autorange=False, zeroline=False, showticklabels=False,
                 title="") for lo, hi, p in zip(low, high, pad)]
    if flat:  # one unit is as long across as up: distances on the map mean the same both ways
        figure.update_layout(xaxis=axes[0], yaxis={**axes[1], "scaleanchor": "x"})
    else:
        figure.update_layout(scene=dict(xaxis=axes[0], yaxis=axes[1], zaxis=axes[2], aspectmode="cube"))
    play = dict(label="▶ Play", method="animate",
                args=[None, {"frame": {"duration": FRAME_MS, "redraw": True}, "transition": {"duration": 0},
                             "fromcurrent": True, "mode": "immediate"}])
    pause = dict(label="❚❚ Pause", method="animate",
                 args=[[None], {"frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0},
                                "mode": "immediate"}])
    slider_steps = [dict(label=f"{step:,}", method="animate",
                         args=[[str(step)], {"frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0},
                                             "mode": "immediate"}]) for step in steps]
    figure.update_layout(
        title=title_under_toolbar(title), height=720, margin={**MARGIN, "t": TOP_MARGIN, "b": 200},
        uirevision="keep", dragmode="pan" if flat else "orbit", legend=KEY_BELOW,
        # Play / Pause on a row of their own under the map, the slider under them: side by side they
        # overlap on a phone.
        updatemenus=[dict(type="buttons", direction="left", showactive=False, buttons=[play, pause],
                          x=0, xanchor="left", y=0, yanchor="top", pad=dict(t=6))],
        sliders=[dict(active=start, steps=slider_steps, currentvalue=dict(prefix="step ", font=dict(size=13)),
                      x=0, len=1.0, y=0, yanchor="top", pad=dict(t=48, b=0))],
    )
    return figure


def separation_figure(steps: list[int], separation: np.ndarray, accuracy: np.ndarray | None,
                      accuracy_name: str, layer: str) -> go.Figure:
    """How apart the classes are at each saved point (k-NN accuracy in the layer's own space) and
    how often the network was right then."""
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=steps, y=separation, mode="lines+markers", name=f"classes apart ({layer})",
                                hovertemplate="step %{x:,}: %{y:.1%} of probes have mostly their own class "
                                              "among their 10 nearest<extra></extra>"))
    if accuracy is not None and np.isfinite(accuracy).any():
        figure.add_trace(go.Scatter(x=steps, y=accuracy, mode="lines+markers", name=accuracy_name,
                                    hovertemplate="step %{x:,}: %{y:.1%}<extra></extra>"))
    figure.update_layout(title=dict(text="Separation over training", x=0, xanchor="left"), height=320,
                         margin=dict(l=0, r=8, t=40, b=0), xaxis_title="training step",
                         yaxis=dict(tickformat=".0%", range=[0, 1.02]),
                         legend=dict(orientation="h", y=-0.35, yanchor="top", x=0))
    return figure
