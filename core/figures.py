"""Figures the app and the README quote, read from where they were measured.

Two places hold measurements: the bundled models' manifest (``assets/defaults/manifest.json``: each
ready-made model's training record, made by ``scripts/build_defaults.py`` on the project's machine)
and the latest benchmark results (``benchmarks/results/latest.json``: per benchmark, the latest run
recorded with ``python -m benchmarks NAME --record``, saying when and whether ``--quick``). A page
that quotes a time, a speed or a size reads it here; nobody types a measured figure into a page or
the README (``tests/test_figures.py`` checks both).

A missing or unreadable file gives ``None``/no sources, never an error: a page then words its
sentence without the figure.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.paths import ASSETS, REPO_ROOT

MANIFEST = ASSETS / "defaults" / "manifest.json"
LATEST_RESULTS = REPO_ROOT / "benchmarks" / "results" / "latest.json"


@dataclass(frozen=True)
class Measurement:
    value: float
    unit: str
    source: str  # where it was measured, in words: "benchmark draw, 2026-12-01", "the bundled model's build"
    quick: bool = False  # measured by a ``--quick`` run (smaller sizes): a sentence quoting it must say so

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit} ({self.source})"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=4)
def _cached_json(path: Path, mtime: float) -> dict:
    return _read_json(path)


def _load(path: Path) -> dict:
    """The file's content, re-read when it changes (a new benchmark run while the app runs)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    return _cached_json(path, mtime)


def manifest(path: Path | None = None) -> dict:
    return _load(path or MANIFEST).get("defaults", {})


def latest_results(path: Path | None = None) -> dict:
    """``{benchmark name: {"when", "quick", "commit", "results": [Result.as_dict(), ...]}}``."""
    return _load(path or LATEST_RESULTS).get("benchmarks", {})


def result(benchmark: str, metric: str, *, reference: bool = False,
           path: Path | None = None) -> Measurement | None:
    """The latest recorded value of one benchmark row: ours (or the reference's), matched by the
    metric's opening words (metrics that name their run's length, e.g. "… over 10 min of Play",
    are matched by what comes before)."""
    run = latest_results(path).get(benchmark)
    if not run:
        return None
    for row in run.get("results", []):
        if row.get("metric", "").startswith(metric):
            value = row.get("reference" if reference else "ours")
            if value is None or not math.isfinite(value) or value < 0:
                return None  # not measured, or a benchmark's "did not happen" marker (-1)
            side = "reference" if reference else "ours"
            kind = "--quick" if run.get("quick") else "full run"
            return Measurement(float(value), row.get("unit", ""),
                               f"benchmark {benchmark} ({side}), {run.get('when', '?')[:10]}, {kind}",
                               quick=bool(run.get("quick")))
    return None


def bundled_training_seconds(name: str, path: Path | None = None) -> Measurement | None:
    """How long the bundled model ``name`` took to train, from its record (the build's own clock)."""
    entry = manifest(path).get(name, {})
    seconds = entry.get("record", {}).get("duration_s")
    if seconds is None:
        return None
    return Measurement(float(seconds), "s", f"the bundled model's record, built {entry.get('built', {}).get('date', '?')}")


#: Where the training time of a network was measured: (benchmark, metric, reference?). The Draw
#: benchmark trains the Fast CNN alone; the first-visit benchmark's reference clicks Train on a
#: store without the bundled models and waits for the page's first result (Text: the Quick preset).
TRAINING_TIME_SOURCES: dict[str, list[tuple[str, str, bool]]] = {
    "fast_cnn": [("draw", "Fast CNN training time", False),
                 ("first_visit", "draw: first prediction", True)],
    "charlstm_quick": [("text", "Quick preset: training time", False),
                       ("first_visit", "text: first sample", True)],
}


def training_time(name: str) -> list[Measurement]:
    """Every measurement of how long training ``name`` takes: the benchmarks above, and the record
    of the bundled model of that name if there is one."""
    found = [result(benchmark, metric, reference=reference)
             for benchmark, metric, reference in TRAINING_TIME_SOURCES.get(name, [])]
    found.append(bundled_training_seconds(name))
    return [m for m in found if m is not None]


def _minutes(seconds: float) -> float:
    """To the nearest half minute (at least half a minute)."""
    return max(0.5, math.floor(seconds / 30 + 0.5) / 2)


def _half(value: float) -> str:
    whole, half = int(value), value % 1 >= 0.5
    return ("½" if half else "0") if whole == 0 else f"{whole}{'½' if half else ''}"


def _span_end(seconds: float) -> str:
    """The shorter end of a span whose longer end is in larger units: "40 s", "25 minutes"."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{_half(_minutes(seconds))} minutes"


def _hours(seconds: float) -> float:
    """To the nearest half hour."""
    return math.floor(seconds / 1800 + 0.5) / 2


def duration_phrase(measurements: list[Measurement]) -> str | None:
    """The span of some durations in seconds as a reader would say it: "12–72 s", "about 40 s",
    "2–2½ minutes" (minutes once the longest is 90 s or more, each end to the nearest half minute),
    "about 2½ hours" (hours once the longest is 90 minutes or more, to the nearest half hour).
    ``None`` without measurements."""
    seconds = [m.value for m in measurements if m.unit == "s"]
    if not seconds:
        return None
    low, high = min(seconds), max(seconds)
    if high >= 5400:
        if low < 5400:
            return f"{_span_end(low)}–{_half(_hours(high))} hours"
        low_hours, high_hours = _hours(low), _hours(high)
        if low_hours == high_hours:
            return f"about {_half(low_hours)} hours"
        return f"{_half(low_hours)}–{_half(high_hours)} hours"
    if high < 90:
        low_text, high_text = f"{low:.0f}", f"{high:.0f}"
        return f"about {low_text} s" if low_text == high_text else f"{low_text}–{high_text} s"
    low_minutes, high_minutes = _minutes(low), _minutes(high)
    if low < 90:
        return f"{_span_end(low)}–{_half(high_minutes)} minutes"
    if low_minutes == high_minutes:
        return f"about {_half(low_minutes)} minute{'s' if low_minutes > 1 else ''}"
    return f"{_half(low_minutes)}–{_half(high_minutes)} minutes"


def training_time_phrase(name: str) -> str | None:
    """E.g. "12–72 s" for the Fast CNN: what a page says training the default ``name`` takes."""
    return duration_phrase(training_time(name))


# ---- sentences the README quotes, made from the latest results -------------------------------
#: The README's measured figures sit between ``<!-- figure NAME -->`` and ``<!-- /figure -->``;
#: ``python -m benchmarks --table`` (and every ``--record`` run) rewrites each with ``phrase(NAME)``,
#: and tests/test_figures.py fails while one differs. A figure from a ``--quick`` run says so.
QUICK_NOTE = " (a --quick run)"


def _row(benchmark: str, metric: str) -> dict | None:
    for row in latest_results().get(benchmark, {}).get("results", []):
        if row.get("metric", "").startswith(metric):
            return row
    return None


def _tagged(text: str, *measurements: Measurement) -> str:
    return text + (QUICK_NOTE if any(m.quick for m in measurements) else "")


def _training_time(name: str) -> str | None:
    found = training_time(name)
    phrase = duration_phrase(found)
    return None if phrase is None else _tagged(phrase, *found)


def _live_pictures() -> str | None:
    found = result("playground_live", "output pictures per second seen by Chromium, one player")
    return None if found is None else _tagged(f"{found.value:.1f} pictures a second", found)


def _load_growth() -> str | None:
    found = result("load", "server memory growth once warm")
    per_prediction = re.search(r"([\d.]+) kB per prediction", (_row("load", "server memory growth once warm") or {})
                               .get("note", ""))
    if found is None:
        return None
    each = f", {per_prediction[1]} kB per prediction" if per_prediction else ""
    return _tagged(f"{found.value:.2f} MB a minute once warm{each}", found)


def _load_hour() -> str | None:
    found = result("load", "server memory growth once warm")
    return None if found is None else f"about {round(60 * found.value, -1):.0f} MB over an hour of class"


def _load_run() -> str | None:
    run = latest_results().get("load")
    if not run:
        return None
    return f"{run.get('when', '?')[:10]}, {'a --quick run' if run.get('quick') else 'a full run'}"


def _course_figures() -> str | None:
    shared = result("load", "course: sessions served by one shared training")
    course, single = result("load", "course: prediction p95"), result("load", "course: prediction p95", reference=True)
    memory = result("load", "course: memory per web process")
    if None in (shared, course, single, memory):
        return None
    return (f"{shared.value:.0f} of 10 sessions over the 3 processes asking for one untrained network got it from "
            f"one training by the worker; prediction p95 was {course.value:.0f} ms for 30 sessions over 3 "
            f"processes against {single.value:.0f} ms for 10 on one, and each web process held "
            f"{memory.value:,.0f} MB")


def _load_errors() -> str | None:
    single, course = result("load", "errors during the load run"), result("load", "course: errors during the load run")
    if single is None or course is None:
        return None
    if single.value == 0 and course.value == 0:
        return "It met its error target: no errors in either layout."
    return (f"It missed its error target (0): {single.value:.0f} errors in the single process and "
            f"{course.value:.0f} in the course (benchmarks/RESULTS.md says where they came from).")


PHRASES = {
    "fast_cnn_training": lambda: _training_time("fast_cnn"),
    "quick_training": lambda: _training_time("charlstm_quick"),
    "live_pictures": _live_pictures,
    "load_growth": _load_growth,
    "load_hour": _load_hour,
    "load_run": _load_run,
    "course_figures": _course_figures,
    "load_errors": _load_errors,
}


def phrase(name: str) -> str | None:
    """The README's sentence part ``name`` from the latest results, or None when unmeasured."""
    return PHRASES[name]()
