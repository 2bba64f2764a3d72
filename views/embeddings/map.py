"""The Embeddings page's pictures and exports, as pure functions of their arguments.

Not a page itself (app.py does not list it). Nothing here reads session state or page globals:
whatever a picture shows comes in through :class:`MapView` and the arguments.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from core.embeddings.points import PointSet

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
# Plotly's 26-colour "Alphabet" set, for data sets with more than ten classes (EMNIST letters).
MANY_COLOURS = list(plotly.colors.qualitative.Alphabet)
RIGHT_WRONG = ["#2ca02c", "#d62728"]


def palette(classes: int) -> list[str]:
    """One colour per class: ten well-told-apart colours, or 26 for more classes (repeating beyond)."""
    return COLOURS if classes <= len(COLOURS) else MANY_COLOURS
COLOUR_BY = ["label", "prediction", "right / wrong"]


@dataclass
class MapView:
    """How the points are drawn: one colour group per point, which are shown, which is chosen."""
    points: PointSet
    groups: np.ndarray  # (N,) index into names
    names: list[str]  # one legend entry per group
    palette: list[str]
    visible: np.ndarray  # (N,) bool: passes the label filter (and the isolated selection)
    chosen: int  # the point under "Look at one point", ringed
    lasso: bool = False  # a drag on a 2-D map selects points (Isolate is on) instead of zooming
    found: np.ndarray | None = None  # the points a search found, ringed


# A little right margin: plotly's invisible corner drag handles stick out of a zero one, past a
# phone's screen.
MARGIN = dict(l=0, r=8, t=40, b=0)
# Plotly's toolbar sits in the top-right corner, and on a phone (always shown on touch) it reaches
# across most of a title's line: titles go on a line of their own under it (issue 30 #9).
UNDER_TOOLBAR = 32
TOP_MARGIN = UNDER_TOOLBAR + 32


def title_under_toolbar(text: str) -> dict:
    return dict(text=text, x=0, xanchor="left", yref="container", y=1, yanchor="top", pad=dict(t=UNDER_TOOLBAR))


# The colour key across the bottom of the figure: at the side it took a quarter of a phone's width.
KEY_BELOW = dict(itemsizing="constant", orientation="h", x=0, xanchor="left", yref="container", y=0,
                 yanchor="bottom")


def map_view(points: PointSet, colour_by: str, shown_labels: list[str], chosen: int,
             isolated: set[int] | None = None, found: np.ndarray | None = None) -> MapView:
    """Colour groups for ``colour_by``; only ``shown_labels`` are visible, and only ``isolated`` if given."""
    if colour_by == "prediction" and points.predicted is not None:
        groups, names, colours = points.predicted, points.label_names, points.colours or palette(len(points.label_names))
    elif colour_by == "right / wrong" and points.predicted is not None:
        groups, names, colours = (points.predicted != points.labels).astype(int), ["right", "wrong"], RIGHT_WRONG
    else:
        groups, names, colours = points.labels, points.label_names, points.colours or palette(len(points.label_names))
    visible = np.isin(points.labels, [points.label_names.index(name) for name in shown_labels])
    if isolated is not None:
        visible &= np.isin(np.arange(len(points)), sorted(isolated))
    return MapView(points, np.asarray(groups), names, colours, visible, chosen, lasso=isolated is not None,
                   found=found)


def markers(rows: np.ndarray, webgl: bool = False, **settings) -> go.Scatter | go.Scattergl | go.Scatter3d:
    """A marker trace for (n, 2) or (n, 3) coordinates, or one point: 3-D or 2-D to match."""
    rows = np.atleast_2d(rows)
    if rows.shape[1] == 3:
        return go.Scatter3d(x=rows[:, 0], y=rows[:, 1], z=rows[:, 2], **settings)
    return (go.Scattergl if webgl else go.Scatter)(x=rows[:, 0], y=rows[:, 1], **settings)


def scatter(layout: np.ndarray, title: str, view: MapView, drawing: np.ndarray | None = None) -> go.Figure:
    """The map: one trace per colour group, the chosen point ringed, the drawing as a diamond."""
    points, visible, index = view.points, view.visible, view.chosen
    hover = np.array(points.hover())
    figure = go.Figure()
    flat, many = layout.shape[1] == 2, len(layout) > 500
    for g, name in enumerate(view.names):
        mask = (view.groups == g) & visible
        if not mask.any():
            continue
        size = (5 if many else 9) if flat else (2.5 if many else 5)
        figure.add_trace(markers(layout[mask], webgl=True, mode="markers", name=name, text=hover[mask],
                                 hoverinfo="text", customdata=np.nonzero(mask)[0],
                                 marker=dict(size=size, color=view.palette[g % len(view.palette)])))
    if points.images is None and len(layout) <= 200:  # few points without pictures: write their names
        for trace in figure.data:
            trace.update(mode="markers+text", text=[points.names[i] for i in trace.customdata],
                         hovertext=hover[trace.customdata], hoverinfo="text", textposition="top center")
    if view.found is not None and len(view.found):
        shown = view.found[visible[view.found]]
        figure.add_trace(markers(layout[shown], webgl=True, mode="markers", name=f"found: {len(view.found):,}",
                                 hoverinfo="skip",
                                 marker=dict(size=(11 if many else 15) if flat else 6, color="rgba(0,0,0,0)",
                                             line=dict(width=1.5, color="black"))))
    if visible[index]:
        figure.add_trace(markers(layout[index], mode="markers", name=f"chosen: {points.names[index]}",
                                 hoverinfo="name",
                                 marker=dict(size=18 if flat else 10, color="black", symbol="circle-open")))
    if drawing is not None:
        figure.add_trace(markers(drawing, mode="markers", name="your drawing", hoverinfo="name",
                                 marker=dict(size=14 if flat else 8, color="black", symbol="diamond")))
    figure.update_layout(title=title_under_toolbar(title), height=660, margin={**MARGIN, "t": TOP_MARGIN, "b": 40},
                         uirevision="keep", legend=KEY_BELOW)
    if flat:
        figure.update_layout(dragmode="lasso" if view.lasso else "zoom", clickmode="event+select")
    return figure


def scree_figure(variance: np.ndarray) -> go.Figure:
    """The share of the variance each principal component explains."""
    figure = go.Figure(go.Bar(x=[f"PC{i + 1}" for i in range(len(variance))], y=variance,
                              hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    figure.update_layout(title="Scree plot: variance explained by each component", height=220,
                         yaxis_tickformat=".0%", margin=MARGIN)
    return figure


def coordinates_csv(layout: np.ndarray, points: PointSet) -> str:
    """The map's coordinates with each point's name, label and (if any) prediction."""
    csv = io.StringIO()
    columns = ["x", "y", "z"][:layout.shape[1]]
    predicted = points.predicted is not None
    csv.write("index,name,label," + ("predicted," if predicted else "") + ",".join(columns) + "\n")
    for i, (row, meta) in enumerate(zip(layout, points.metadata())):
        name = '"' + meta["name"].replace('"', '""') + '"'
        extra = f"{meta['predicted']}," if predicted else ""
        csv.write(f"{i},{name},{meta['label']},{extra}" + ",".join(f"{v:.6g}" for v in row) + "\n")
    return csv.getvalue()
