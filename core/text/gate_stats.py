"""Gate statistics over a passage (issue 32 §3): how each gate's values are spread per layer, how
often they sit near 0 or 1, the forget gate's trained bias against its initial 1, and what that
means for how long the cell keeps what it holds.

In this cell c' = f·c + i·g, so what the cell holds now is multiplied by f at every following
character: after k characters a share f₁·f₂·…·f_k of it is left (what i·g adds meanwhile comes on
top). The *half-life* of a unit on a passage is the number of characters after which half is left
at that unit's typical (geometric-mean) forget gate: ln 2 / (−mean ln f).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.text.gates import trace

#: "Near 0" and "near 1" (for g and h: near −1 and +1).
SATURATED = 0.05
BINS = 20
INITIAL_FORGET_BIAS = 1.0


def half_life(mean_log_f: np.ndarray) -> np.ndarray:
    """Characters until half is left, for a forget gate whose mean ln f is ``mean_log_f`` (< 0)."""
    return np.log(2.0) / np.maximum(-mean_log_f, 1e-12)


@dataclass
class LayerStats:
    layer: int
    histograms: dict[str, np.ndarray]  # gate -> counts over BINS equal bins of its range
    near_low: dict[str, float]  # share of values within SATURATED of the low end (0, or −1 for g)
    near_high: dict[str, float]
    forget_bias: np.ndarray  # b_f per unit, trained
    half_lives: np.ndarray  # per unit, on the passage (characters)


@dataclass
class GateStats:
    characters: int
    layers: list[LayerStats]

    @property
    def initial_half_life(self) -> float:
        """With the input and h contributing nothing, f = σ(b_f): the untrained bias gives this."""
        return float(half_life(np.log(1.0 / (1.0 + np.exp(-INITIAL_FORGET_BIAS)))))


def gate_stats(arrays: dict[str, np.ndarray], ids: np.ndarray) -> GateStats:
    """Statistics of every gate of every layer over the character ids (read from zero state)."""
    replay = trace(arrays, ids)
    layers = []
    for layer in range(replay.layers):
        units = replay.units
        histograms, low, high = {}, {}, {}
        for name in ("i", "f", "g", "o"):
            values = replay.signal(layer, name)
            bottom = -1.0 if name == "g" else 0.0
            histograms[name] = np.histogram(values, bins=BINS, range=(bottom, 1.0))[0]
            low[name] = float((values < bottom + SATURATED * (1.0 - bottom)).mean())
            high[name] = float((values > 1.0 - SATURATED * (1.0 - bottom)).mean())
        log_f = np.log(np.maximum(replay.signal(layer, "f"), 1e-12)).mean(axis=0)
        layers.append(LayerStats(layer, histograms, low, high,
                                 arrays[f"bias_{layer}"][units:2 * units].astype(np.float64), half_life(log_f)))
    return GateStats(len(ids), layers)


def statements(stats: GateStats) -> list[str]:
    """Plain sentences about each layer, each computed from the numbers it quotes."""
    out = []
    for layer in stats.layers:
        name = f"Layer {layer.layer + 1}"
        bias = layer.forget_bias
        lives = layer.half_lives
        out.append(
            f"{name}: the forget gate is above {1 - SATURATED:g} for {layer.near_high['f']:.0%} of "
            f"characters × units and below {SATURATED:g} for {layer.near_low['f']:.0%}; the input gate is "
            f"above {1 - SATURATED:g} for {layer.near_high['i']:.0%} and below {SATURATED:g} for "
            f"{layer.near_low['i']:.0%}; the output gate above {1 - SATURATED:g} for {layer.near_high['o']:.0%}.")
        out.append(
            f"{name}: the forget-gate biases b_f started at {INITIAL_FORGET_BIAS:g} for every unit; trained, their "
            f"median is {np.median(bias):.2f} (middle half {np.quantile(bias, 0.25):.2f} to "
            f"{np.quantile(bias, 0.75):.2f}), and {int((bias > INITIAL_FORGET_BIAS).sum())} of {len(bias)} "
            f"units moved above 1. A bias alone sets f = σ(b_f) only when x·W and h·U add nothing to it; "
            f"at the initial 1 that is f = {1 / (1 + np.exp(-1)):.2f}, which keeps half of the cell for "
            f"{stats.initial_half_life:.1f} characters.")
        out.append(
            f"{name}, measured on this passage: the median unit keeps half of its cell for "
            f"{np.median(lives):.1f} characters; {int((lives >= 20).sum())} units keep half for 20 characters "
            f"or more, {int((lives >= 100).sum())} for 100 or more, and {int((lives < 2).sum())} for under 2 "
            f"(they forget almost at once).")
    return out
