"""The Text page's pictures and words, as pure functions of their arguments."""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from views.images import png_uri

#: Seeds longer than this are shortened in the output (their end is kept: the model read it last).
SHOWN_SEED_CHARS = 300


def glyph(ch: str) -> str:
    """A character as one visible glyph: space ␣, newline ↵, tab ⇥, other controls ·."""
    if ch == " ":
        return "␣"
    if ch == "\n":
        return "↵"
    if ch == "\t":
        return "⇥"
    return "·" if not ch.isprintable() else ch


def sample_html(seed: str, generated: str) -> str:
    """The seed (shortened if long) in grey, then the generated text marked, wrapping as typed."""
    shown = seed
    dropped = 0
    if len(seed) > SHOWN_SEED_CHARS:
        dropped = len(seed) - SHOWN_SEED_CHARS
        shown = seed[-SHOWN_SEED_CHARS:]
    head = (f'<span class="dlp-seed-cut">[… {dropped:,} earlier characters of the seed]</span> '
            if dropped else "")
    return (f'<div class="dlp-sample" style="font-family:monospace;white-space:pre-wrap;line-height:1.5">'
            f'{head}<span class="dlp-seed" style="color:#888">{html.escape(shown)}</span>'
            f'<mark class="dlp-generated" style="background:#e8f1ff;color:inherit">{html.escape(generated)}</mark>'
            "</div>")


def top5_figure(top: list[list[tuple[str, float]]], generated: str, shown: int) -> go.Figure:
    """The five most likely next characters at each of the first ``shown`` generated positions."""
    candidates = [row + [("", 0.0)] * (5 - len(row)) for row in top[:shown]]
    z = np.array([[p for _, p in row] for row in candidates]).T
    labels = np.array([[glyph(ch) if ch else "" for ch, _ in row] for row in candidates]).T
    chosen = [glyph(ch) for ch in generated[:shown]]
    figure = go.Figure(go.Heatmap(
        z=z, text=labels, texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1,
        x=list(range(shown)), y=[f"#{rank}" for rank in range(1, 6)], customdata=np.array([chosen] * 5),
        hovertemplate="position %{x}: drew %{customdata}<br>candidate %{text}: p=%{z:.3f}<extra></extra>",
        colorbar=dict(title="p", thickness=10)))
    figure.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10),
                         xaxis=dict(tickmode="array", tickvals=list(range(shown)), ticktext=chosen,
                                    tickangle=0, tickfont=dict(size=10)),
                         yaxis=dict(autorange="reversed"))
    return figure


def _diverging(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """RGB of the page's strips: blue below 0, white at 0, red above (as char_strips.js)."""
    t = np.clip((values - low) / (high - low), 0.0, 1.0) * 2.0 - 1.0
    fade = np.rint(255 * (1.0 - np.abs(t))).astype(np.uint8)
    rgb = np.empty(values.shape + (3,), np.uint8)
    positive = t >= 0
    rgb[..., 0] = np.where(positive, 230, fade)
    rgb[..., 1] = fade
    rgb[..., 2] = np.where(positive, fade, 230)
    return rgb


def heatmap_uri(values: np.ndarray, low: float, high: float) -> str:
    """A units × characters picture (one pixel each) of ``values`` (characters, units)."""
    return png_uri(_diverging(np.asarray(values, np.float32).T, low, high))


def histogram_figure(stats, layer: int, saturated: float) -> go.Figure:
    """Each gate's distribution in one layer, with the near-0 and near-1 shares in the legend."""
    from core.text.gate_stats import BINS

    figure = go.Figure()
    names = {"i": "input i", "f": "forget f", "o": "output o", "g": "candidate g"}
    for name, label in names.items():
        counts = stats.histograms[name]
        bottom = -1.0 if name == "g" else 0.0
        centres = bottom + (np.arange(BINS) + 0.5) * (1.0 - bottom) / BINS
        share = counts / max(1, counts.sum())
        figure.add_trace(go.Scatter(
            x=centres, y=share, mode="lines", name=f"{label}: {stats.near_low[name]:.0%} near "
            f"{'−1' if name == 'g' else '0'}, {stats.near_high[name]:.0%} near 1",
            hovertemplate="value %{x:.2f}: %{y:.1%} of characters × units<extra></extra>"))
    figure.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), title=f"Layer {layer + 1}",
                         xaxis_title="gate value", yaxis=dict(title="share", tickformat=".0%"),
                         legend=dict(orientation="h", y=-0.3, x=0, font=dict(size=11)))
    return figure


def quick_time_words() -> str:
    """How long training the Quick preset takes, from the latest measurements (never typed)."""
    from core import figures

    phrase = figures.training_time_phrase("charlstm_quick")
    if phrase is None:
        return "the page shows how long it takes while it trains."
    return f"{phrase} on the project's 2-core machine (benchmarks: text, first_visit)."
