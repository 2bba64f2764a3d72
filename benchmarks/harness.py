"""The shared shape of a benchmark result and the table it prints.

A benchmark module is ``benchmarks/bench_<name>.py`` with a docstring and
``run(quick: bool) -> list[Result]``. It measures ours and the named reference
in the same run, so the ratio is fair even on a noisy machine.
"""
from __future__ import annotations

import math
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


def _number(value: float | None) -> str:
    if value is None:
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
        lines.append(f"| {name} | {r.metric} | {_number(r.ours)} | {_number(r.reference)} | "
                     f"{r.unit} | {ratio} | {r.target} | {met} |")
    notes = [f"- {name} / {r.metric}: {r.note}" for name, r in rows if r.note]
    return "\n".join(lines + ([""] + notes if notes else []))
