"""The Playground's pictures: the network, the output map and the loss curve.

Pure functions of their arguments (NumPy arrays, a Dataset, flags): no session state, no
Streamlit, so they can be tested alone and reused by a browser-side animation.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from core.playground import DOMAIN, FEATURES, Dataset

ORANGE, WHITE, BLUE = (245, 147, 34), (232, 234, 235), (8, 119, 189)
CLASS_COLOURS = ["#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
GRID = 50  # the pictures' resolution: GRID × GRID points of the plane


def colours_for(values: np.ndarray, discrete: bool = False) -> np.ndarray:
    """Values in [-1, 1] → the playground's orange-white-blue colours (one RGB triple each)."""
    v = np.clip(values, -1, 1)
    if discrete:
        v = np.sign(v)
    t = ((v + 1) / 2)[..., None]
    low = np.array(ORANGE) + (np.array(WHITE) - np.array(ORANGE)) * np.clip(t * 2, 0, 1)
    high = np.array(WHITE) + (np.array(BLUE) - np.array(WHITE)) * np.clip(t * 2 - 1, 0, 1)
    return np.where(t < 0.5, low, high).astype(np.uint8)


def colour_image(values: np.ndarray, size: int = GRID, discrete: bool = False) -> np.ndarray:
    """Values on the grid → a size×size picture."""
    return colours_for(values.reshape(size, size), discrete)


def class_image(probabilities: np.ndarray, size: int = GRID) -> np.ndarray:
    colours = np.array([tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in CLASS_COLOURS])
    winner = probabilities.argmax(1)
    confidence = probabilities.max(1)[:, None]
    rgb = np.array(WHITE) * (1 - confidence) + colours[winner] * confidence
    return rgb.reshape(size, size, 3).astype(np.uint8)


def point_colours(labels: np.ndarray, multiclass: bool) -> list[str]:
    """A CSS colour per data point (Plotly and PIL both read them): its class's, or the value's on the
    orange-white-blue scale."""
    if multiclass:
        return [CLASS_COLOURS[int(label) % 8] for label in labels]
    return [f"rgb({r}, {g}, {b})" for r, g, b in colours_for(np.asarray(labels, float)).tolist()]


def svg_uri(svg: str) -> str:
    """An SVG as an image source: Streamlit's HTML sanitiser drops inline <svg>."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def png_uri(picture: np.ndarray | Image.Image) -> str:
    buffer = io.BytesIO()
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    image.save(buffer, format="PNG", compress_level=1)  # tiny pictures: speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def network_svg(weights: list[tuple[np.ndarray, np.ndarray]], features: list[str], grid_features: np.ndarray,
                outputs: list[np.ndarray], multiclass: bool, discrete: bool) -> str:
    """The network as HTML: a picture per neuron (each input feature and each neuron over the grid),
    links coloured by sign and thickened by size.

    ``weights``: (kernel, bias) per layer, as ``PlaygroundNet.weight_arrays()``; ``features``: the
    input features' names; ``grid_features``: the features on the grid; ``outputs``: every layer's
    outputs on the grid, as ``PlaygroundNet.layer_outputs``; ``discrete``: the output map in two
    colours only."""
    hidden = [w.shape[1] for w, _ in weights[:-1]]
    layers = [list(features)] + [[f"{i}"] * n for i, n in enumerate(hidden)] + [["out"]]
    pictures = [[colour_image(grid_features[:, j] / (np.abs(grid_features[:, j]).max() or 1), discrete=False)
                 for j in range(grid_features.shape[1])]]
    for layer_out in outputs[:-1]:
        scale = np.abs(layer_out).max(0)
        pictures.append([colour_image(layer_out[:, j] / (scale[j] or 1)) for j in range(layer_out.shape[1])])
    final = outputs[-1]
    pictures.append([class_image(final) if multiclass else colour_image(final[:, 0], discrete=discrete)])
    width, node, gap_y = 700, 34, 44
    tallest = max(len(layer) for layer in layers)
    height = max(220, tallest * gap_y + 40)
    xs = np.linspace(50, width - 50, len(layers))

    def y_of(count, index):
        return height / 2 + (index - (count - 1) / 2) * gap_y

    links = []
    for index, (w, _) in enumerate(weights):
        scale = max(1e-6, np.abs(w).max())
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                value = w[i, j]
                if value == 0:  # an L1 clamp took this link out: draw it no more, as the TF Playground
                    continue
                colour = "#0877bd" if value > 0 else "#f59322"
                stroke = 0.5 + 5 * min(1.0, abs(value) / max(scale, 1.0))
                links.append(f'<line x1="{xs[index] + node / 2:.1f}" y1="{y_of(w.shape[0], i):.1f}" '
                             f'x2="{xs[index + 1] - node / 2:.1f}" y2="{y_of(w.shape[1], j):.1f}" '
                             f'stroke="{colour}" stroke-width="{stroke:.2f}" opacity="0.75"/>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">{"".join(links)}</svg>')
    # Streamlit's HTML sanitiser drops inline <svg>, so the links are an SVG image and the
    # neurons are positioned <img>s that CSS can enlarge on hover.
    parts = [f'<img src="{svg_uri(svg)}" '
             f'style="position:absolute;left:0;top:0;width:100%;height:100%" alt="">']
    for index, layer_pictures in enumerate(pictures):
        for j, picture in enumerate(layer_pictures):
            label = (FEATURES[features[j]] if index == 0 else
                     "output" if index == len(pictures) - 1 else f"layer {index}, neuron {j + 1}")
            left = (xs[index] - node / 2) / width * 100
            top = (y_of(len(layer_pictures), j) - node / 2) / height * 100
            parts.append(f'<img class="pg-neuron" src="{png_uri(picture)}" title="{label}" alt="{label}" '
                         f'style="position:absolute;left:{left:.2f}%;top:{top:.2f}%;width:{node / width * 100:.2f}%;'
                         f'border:1px solid #555;image-rendering:pixelated">')
            if index == 0:
                parts.append(f'<span style="position:absolute;right:{100 - left + 0.8:.2f}%;top:{top + 1:.2f}%;'
                             f'font-size:12px">{label}</span>')
    return (f'<style>.pg-neuron{{transition:transform .15s;transform-origin:center;z-index:1}}'
            f'.pg-neuron:hover{{transform:scale(3.5);z-index:5;box-shadow:0 2px 8px rgba(0,0,0,.4)}}</style>'
            f'<div class="pg-net" data-layers="{len(layers)}" style="position:relative;width:100%;'
            f'aspect-ratio:{width}/{height};margin:8px 0 8px 30px">{"".join(parts)}</div>')


def output_colours(final: np.ndarray, multiclass: bool, discrete: bool) -> np.ndarray:
    """The network's outputs on the grid as a picture: class colours, or the orange-white-blue scale."""
    return class_image(final) if multiclass else colour_image(final[:, 0], discrete=discrete)


def output_picture(final: np.ndarray, data: Dataset, multiclass: bool, discrete: bool, show_test: bool,
                   size: int = 340) -> Image.Image:
    """The output map as a picture: cheap enough to redraw five times a second."""
    image = Image.fromarray(output_colours(final, multiclass, discrete)).resize((size, size), Image.BILINEAR)
    draw = ImageDraw.Draw(image)

    def to_pixels(xy):
        return (xy[:, 0] + DOMAIN) / (2 * DOMAIN) * size, (DOMAIN - xy[:, 1]) / (2 * DOMAIN) * size

    sets = [(data.x_train, data.y_train, (255, 255, 255))]
    if show_test:
        sets.append((data.x_test, data.y_test, (0, 0, 0)))
    for xy, labels, outline in sets:
        for px, py, fill in zip(*to_pixels(xy), point_colours(labels, multiclass)):
            draw.ellipse([px - 3.5, py - 3.5, px + 3.5, py + 3.5], fill=fill, outline=outline)
    return image


def loss_curve_html(history: np.ndarray) -> str:
    """Training and test loss against epochs as a small SVG picture.

    A Plotly chart re-rendered five times a second cost the browser more than everything
    else on the page; a picture of two polylines costs next to nothing.
    """
    width, height, left, bottom = 300, 140, 40, 20  # about its size on screen, so the text stays legible
    epochs, curves = history[:, 0], {"training": (history[:, 1], "#555"), "test": (history[:, 2], "#0877bd")}
    finite = history[:, 1:][np.isfinite(history[:, 1:])]
    top = float(finite.max()) if finite.size else 1.0
    top = top if top > 0 else 1.0
    span = max(float(epochs[-1] - epochs[0]), 1.0)

    def x_of(epoch):
        return left + (epoch - epochs[0]) / span * (width - left - 8)

    def y_of(loss):
        return 8 + (1 - np.clip(loss, 0, top) / top) * (height - bottom - 8)

    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 8}" y2="{height - bottom}" stroke="#bbb"/>',
             f'<line x1="{left}" y1="8" x2="{left}" y2="{height - bottom}" stroke="#bbb"/>',
             f'<text x="{left - 4}" y="14" text-anchor="end">{top:.3g}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>',
             f'<text x="{left}" y="{height - 6}">epoch {epochs[0]:,.0f}</text>',
             f'<text x="{width - 8}" y="{height - 6}" text-anchor="end">{epochs[-1]:,.0f}</text>',
             f'<text x="{left - 30}" y="{(height - bottom) / 2}" transform="rotate(-90 {left - 30} '
             f'{(height - bottom) / 2})" text-anchor="middle">loss</text>']
    for index, (name, (values, colour)) in enumerate(curves.items()):
        ok = np.isfinite(values)
        points = " ".join(f"{x_of(e):.1f},{y_of(v):.1f}" for e, v in zip(epochs[ok], values[ok]))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{width - 8 - 60 * (1 - index)}" y="20" text-anchor="end" fill="{colour}">'
                     f'— {name}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="11" fill="#444">{"".join(parts)}</svg>')
    return (f'<img src="{svg_uri(svg)}" '
            f'style="width:100%" alt="training and test loss by epoch">')


def output_caption(show_test: bool) -> str:
    return "output: the network's prediction everywhere, with the training points" + \
        (" and test points (black outline)" if show_test else "")


def output_picture_html(picture: Image.Image, show_test: bool) -> str:
    """The output picture inline with its caption. Inline, not st.image: a picture fetched from the
    media endpoint is blank until it loads, and at several frames a second the browser showed a
    blank map most of the time."""
    caption = output_caption(show_test)
    return (f'<figure data-output-map="1" style="margin:0;text-align:center">'
            f'<img src="{png_uri(picture)}" alt="output map" '
            f'style="width:100%;max-width:340px"><figcaption style="font-size:.875rem;'
            f'color:rgba(49,51,63,.6)">{caption}</figcaption></figure>')
