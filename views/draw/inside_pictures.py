"""Pictures for "A look inside": pure functions of their arguments."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

HIGHLIGHT = (242, 107, 29)  # the page's orange: the patch, the receptive field
PLAIN = {"displayModeBar": False}  # small pictures: no toolbar over the numbers


def stretched(image: np.ndarray) -> np.ndarray:
    """``image`` scaled to [0, 1] by its own range (a flat image becomes black)."""
    low, high = float(np.min(image)), float(np.max(image))
    return (image - low) / (high - low) if high > low else np.zeros_like(image, dtype=float)


def outlined(image: np.ndarray, box: tuple[int, int, int, int], size: int = 196) -> Image.Image:
    """A grey picture (values stretched to its range) enlarged to about ``size`` pixels, with the
    rectangle ``box`` = (top, left, bottom, right), bottom and right exclusive, drawn on it."""
    grey = (stretched(image) * 255).round().astype(np.uint8)
    scale = max(1, size // max(grey.shape))
    picture = Image.fromarray(grey).convert("RGB").resize((grey.shape[1] * scale, grey.shape[0] * scale),
                                                          Image.NEAREST)
    top, left, bottom, right = box
    if bottom > top and right > left:
        ImageDraw.Draw(picture).rectangle(
            (left * scale, top * scale, right * scale - 1, bottom * scale - 1), outline=HIGHLIGHT,
            width=max(2, scale // 4))
    return picture


def signed_picture(values: np.ndarray, size: int = 196) -> Image.Image:
    """Positive values blue, negative red (as in the numbers and bars), zero white, scaled to the
    largest size; enlarged."""
    peak = float(np.abs(values).max()) or 1.0
    t = np.clip(values / peak, -1, 1)
    red = np.where(t > 0, 1 - t, 1.0)
    blue = np.where(t < 0, 1 + t, 1.0)
    green = 1 - np.abs(t)
    rgb = (np.stack([red, green, blue], axis=-1) * 255).round().astype(np.uint8)
    scale = max(1, size // max(values.shape))
    return Image.fromarray(rgb).resize((values.shape[1] * scale, values.shape[0] * scale), Image.NEAREST)


def numbers_figure(values: np.ndarray, title: str, signed: bool, inside: np.ndarray | None = None,
                   digits: int = 2) -> go.Figure:
    """A small k×k grid with each number written in its cell; cells in the padding are marked."""
    def written(value: float) -> str:
        text = f"{value:.{digits}f}"
        return text.lstrip("-") if float(text) == 0 else text.replace("-", "−")  # no "−0.00"

    text = np.vectorize(written, otypes=[object])(values)
    if inside is not None:
        text[~inside] = "pad"
    peak = float(np.abs(values).max()) or 1.0
    colours = dict(colorscale="RdBu", zmid=0, zmin=-peak, zmax=peak) if signed else \
        dict(colorscale="Greys", reversescale=True, zmin=min(0.0, float(values.min())), zmax=peak)
    figure = go.Figure(go.Heatmap(z=values, text=text, texttemplate="%{text}", showscale=False,
                                  hovertemplate="row %{y}, column %{x}: %{z:.4f}<extra></extra>",
                                  textfont=dict(size=11 if values.shape[0] <= 3 else 9), **colours))
    # A thin frame: the largest values of a patch are white, and would melt into the page.
    figure.add_shape(type="rect", x0=-0.5, y0=-0.5, x1=values.shape[1] - 0.5, y1=values.shape[0] - 0.5,
                     line=dict(color="#aaaaaa", width=1))
    side = 36 * values.shape[0] + 40
    figure.update_layout(title=dict(text=title, font=dict(size=13)), height=side,
                         margin=dict(l=4, r=4, t=30, b=4),
                         xaxis=dict(visible=False, constrain="domain"),
                         yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    return figure


def shares_figure(shares: np.ndarray, chosen: int, title: str) -> go.Figure:
    """Each input channel's share of a convolution's sum, the chosen one highlighted."""
    colours = ["#f26b1d" if i == chosen else ("#1f77b4" if v >= 0 else "#d62728") for i, v in enumerate(shares)]
    figure = go.Figure(go.Bar(x=list(range(len(shares))), y=shares, marker_color=colours,
                              hovertemplate="input map %{x}: %{y:.4f}<extra></extra>"))
    figure.update_layout(title=dict(text=title, font=dict(size=13)), height=200,
                         margin=dict(l=4, r=4, t=30, b=4), xaxis=dict(title="input map", dtick=4),
                         yaxis=dict(title="share of the sum"))
    return figure


def contributions_figure(labels: list[str], values: np.ndarray, title: str) -> go.Figure:
    """The largest contributions to a dense unit, largest on top; positive blue, negative red."""
    colours = ["#1f77b4" if v >= 0 else "#d62728" for v in values]
    figure = go.Figure(go.Bar(x=values[::-1], y=labels[::-1], orientation="h", marker_color=colours[::-1],
                              hovertemplate="%{y}: %{x:.4f}<extra></extra>"))
    figure.update_layout(title=dict(text=title, font=dict(size=13)), height=60 + 22 * len(labels),
                         margin=dict(l=4, r=4, t=30, b=4), xaxis=dict(title="input × weight"),
                         yaxis=dict(automargin=True))
    return figure


def grey_picture(image: np.ndarray, size: int = 224) -> Image.Image:
    """A [0, 1] grey picture enlarged pixel for pixel (no blur) to about ``size`` pixels."""
    grey = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    scale = max(1, size // max(grey.shape))
    return Image.fromarray(grey).convert("RGB").resize((grey.shape[1] * scale, grey.shape[0] * scale),
                                                      Image.NEAREST)


def side_by_side(pictures: list[Image.Image], gap: int = 12) -> Image.Image:
    """Pictures of equal height in one row, on white, each framed in grey (a picture that is
    mostly white keeps its edges): one image stays one row even on a phone."""
    width = sum(p.width for p in pictures) + gap * (len(pictures) - 1)
    row = Image.new("RGB", (width, max(p.height for p in pictures)), (255, 255, 255))
    frame = ImageDraw.Draw(row)
    left = 0
    for picture in pictures:
        row.paste(picture, (left, 0))
        frame.rectangle((left, 0, left + picture.width - 1, picture.height - 1), outline=(170, 170, 170))
        left += picture.width + gap
    return row
