"""The shared shape of a benchmark result, the table it prints, and the statistics benchmarks share.

A benchmark module is ``benchmarks/bench_<name>.py`` with a docstring and
``run(quick: bool) -> list[Result]``. It measures ours and the named reference
in the same run, so the ratio is fair even on a noisy machine.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass


@dataclass
class Result:
    metric: str
    ours: float
    reference: float | None
    unit: str
    target: str  # in words, e.g. "≤ 5 s" or "≥ 6× faster"
    met: bool | None  # None when there is no target to meet
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """How many times better ours is than the reference (>1 is better)."""
        if self.reference is None or not self.ours or not self.reference:
            return None
        ratio = self.ours / self.reference if self.higher_is_better else self.reference / self.ours
        return ratio if math.isfinite(ratio) else None

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(rows: list[tuple[str, Result]]) -> str:
    """A Markdown table (readable in a terminal and pasteable into RESULTS.md)."""
    lines = [
        "| benchmark | metric | ours | reference | unit | ratio (×, >1 is better) | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows:
        met = {True: "yes", False: "**no**", None: "–"}[r.met]
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "–"
        lines.append(f"| {name} | {r.metric} | {number(r.ours)} | {number(r.reference)} | "
                     f"{r.unit} | {ratio} | {r.target} | {met} |")
    notes = [f"- {name} / {r.metric}: {r.note}" for name, r in rows if r.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def p95(values: list[float]) -> float:
    """The 95th percentile (nan for fewer than two values)."""
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else float("nan")


def growth_per_minute(samples: list[tuple[float, float]]) -> float:
    """The trend of a size in MB a minute: a least-squares line through the samples (seconds, MB),
    so the allocator's ups and downs of tens of MB average out."""
    import numpy as np

    if len(samples) < 3:
        return float("nan")
    points = np.array(samples)
    return float(np.polyfit(points[:, 0], points[:, 1], 1)[0] * 60)


def minute_means(samples: list[tuple[float, float]]) -> list[float]:
    """The mean size in each whole minute of the samples (seconds, MB): a level line is what no
    growth looks like."""
    return [statistics.mean(mb for t, mb in samples if minute * 60 <= t < (minute + 1) * 60)
            for minute in range(int(max((t for t, _ in samples), default=0) // 60))]
