"""Every figure the README and the pages quote agrees with where it was measured or set.

The README and every string the pages show (string constants in app.py and views/, docstrings
left out) are scanned for figures: a number with a unit of time, size, rate or share ("12 s",
"2–2½ minutes", "9.3 kB", "25.0 pictures a second", "99 %") or a time in words ("about a minute").
Each one must be vouched for by a claim below, which finds it in its sentence and checks it against
its source: the latest benchmark results (benchmarks/results/latest.json), the bundled models'
manifest, or the code's own setting. A new figure without a claim fails, and so does a claim whose
figure disagrees with its source (after a new benchmark run, say): reword the sentence, or, for a
page, read the figure through ``core.figures`` instead of typing it.

The README's benchmark figures are generated instead: each sits between ``<!-- figure NAME -->``
and ``<!-- /figure -->`` and must read exactly ``core.figures.phrase(NAME)`` (which says "a --quick
run" when its row was measured with ``--quick``); ``python -m benchmarks --table`` rewrites them after
a run.
"""
from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from benchmarks import record
from core import figures
from core.figures import Measurement

REPO = Path(__file__).resolve().parent.parent
RESULTS_MD = REPO / "benchmarks" / "RESULTS.md"

# ---- what counts as a figure ------------------------------------------------------------------
_NUMBER = r"(?:\d[\d,]*(?:\.\d+)?½?|½)"
_UNIT = (r"(?:ms|s|seconds?|min|minutes?|hours?|[kMG]B(?:/min)?|kB/frame|%|x|× faster|"
         r"(?:pictures|frames|characters|chars|epochs|updates)/s|/s|"
         r"(?:(?:pictures|frames|times|characters|epochs|updates) )?(?:a|per) (?:second|minute))")
_WORDS = (r"(?:one|two|three|four|five|six|ten|twelve|fifteen|twenty|thirty|forty|sixty|ninety|a few|several|"
          r"a couple of|(?:about|within|in|under|over|nearly|half|once) an?)")
FIGURE = re.compile(
    rf"(?<![\w.:/-])(?:about |over |under |~)?{_NUMBER}(?:\s?[–-]\s?{_NUMBER})?\s?{_UNIT}(?![\w/])"
    rf"|\b{_WORDS} (?:seconds?|minutes?|hours?)\b"
    r"|\b(?:once|twice) a (?:second|minute)\b|\bevery (?:half a |half )?(?:second|minute)\b")


def figures_in(text: str) -> list[re.Match]:
    return list(FIGURE.finditer(text))


# ---- how a quoted figure is checked ----------------------------------------------------------
def _value(text: str) -> float:
    text = text.replace(",", "").strip()
    if text.endswith("½"):
        return (float(text[:-1]) if text[:-1] else 0.0) + 0.5
    return float(text)


def same(quoted: str, value: float | None, what: str = "") -> str | None:
    """The quoted number is the value, written at the quoted precision."""
    if value is None:
        return f"{what or 'the source'} has no value for {quoted!r}"
    decimals = len(quoted.split(".")[1]) if "." in quoted else 0
    if round(value, decimals) != round(_value(quoted), decimals):
        return f"{quoted!r} but {what or 'the source'} says {value:.{decimals + 2}g}"
    return None


def span_holds(quoted: str, measurements: list[Measurement]) -> str | None:
    """A quoted duration ("12–72 s", "about 40 s", "2–2½ minutes") holds every measurement, each
    rounded to the quoted resolution (whole seconds, half minutes)."""
    if not measurements:
        return f"{quoted!r}: nothing measured to check it against"
    match = re.fullmatch(rf"(?:about )?({_NUMBER})(?:–({_NUMBER}))? (s|minutes?)", quoted)
    if not match:
        return f"{quoted!r} is not a duration this test reads"
    scale, slack = (1, 0.5) if match[3] == "s" else (60, 15)
    low, high = _value(match[1]) * scale, _value(match[2] or match[1]) * scale
    outside = [m for m in measurements if not low - slack <= m.value <= high + slack]
    return f"{quoted!r} does not hold {', '.join(map(str, outside))}" if outside else None


def fast_cnn(field: str) -> float:
    return figures.manifest()["fast_cnn"]["metrics"][field]


# ---- the claims -------------------------------------------------------------------------------
@dataclass
class Claim:
    """A sentence that quotes figures: ``pattern`` finds it (its groups are the figures), ``check``
    gets the match and returns what disagrees, or None."""

    pattern: str
    check: Callable[[re.Match], str | None]
    where: str = "README.md"  # or a views/ or app.py path: the pattern is matched in its strings


def _setting(module: str, name: str):
    import importlib

    return getattr(importlib.import_module(module), name)


def _upload_limit_mb() -> float:
    import tomllib

    return tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]


def _lease_default() -> float:
    source = inspect.getsource(_setting("core.training.queue", "lease_seconds"))
    return float(re.search(r'LEASE_ENV, "([\d.]+)"', source)[1])


def _diary_says(phrase: str) -> str | None:
    return None if phrase in RESULTS_MD.read_text(encoding="utf-8") else f"RESULTS.md's diary does not say {phrase!r}"


def _all(*problems: str | None) -> str | None:
    found = [p for p in problems if p]
    return "; ".join(found) if found else None


CLAIMS = [
    # README: the pages section
    Claim(r"Fast CNN\*\* \(over (99) % on MNIST after one epoch",
          lambda m: None if fast_cnn("test_accuracy") > 0.99 else "the bundled Fast CNN is not over 99 %"),
    # README: how it works
    Claim(r"The Fast CNN \(([\d.]+) % on MNIST's test set\)", lambda m: same(m[1], 100 * fast_cnn("test_accuracy"))),
    Claim(r"ship in `assets/defaults/` \(([\d.]+) MB, with a manifest",
          lambda m: same(m[1], sum(f["bytes"] for item in figures.manifest().values()
                                   for f in item["files"].values()) / 1e6, "the manifest's file sizes")),
    Claim(r"\(2 layers of (\d+) units; ([\d.]+) nats per character on Tiny Shakespeare's held-out\s+(\d+) %",
          lambda m: _all(same(m[1], figures.manifest()["charlstm_shakespeare"]["config"]["units"]),
                         same(m[2], figures.manifest()["charlstm_shakespeare"]["metrics"]["val_loss"]),
                         same(m[3], 100 * figures.manifest()["charlstm_shakespeare"]["config"]["validation_split"]))),
    Claim(r"ours sends a small PNG at most every (\d+) ms\s+while the pen moves",
          lambda m: same(m[1], _setting("views.draw.canvas", "LIVE_EVERY_MS"))),
    Claim(r"the median was (\d+) ms with ours against (\d+) ms with the\s+package",
          lambda m: _all(_diary_says(f"median {m[1]} ms"), _diary_says(f"median {m[2]} ms"))),
    # README: serving a course
    Claim(r"uploads\s+limited to (\d+) MB", lambda m: same(m[1], _upload_limit_mb(), ".streamlit/config.toml")),
    Claim(r"which the server makes (\d+) a second \(Chromium showed",
          lambda m: same(m[1], 1 / _setting("core.playground.live_training", "FRAME_SECONDS"))),
    Claim(r"`python -m benchmarks load` runs (\d+) sessions .{0,80}?, (\d+) s to warm up and then (\d+) minutes measured",
          lambda m: _all(same(m[1], _setting("benchmarks.bench_load", "SESSIONS")),
                         same(m[2], _setting("benchmarks.bench_load", "WARM_UP_SECONDS")),
                         same(m[3], _setting("benchmarks.bench_load", "LOAD_SECONDS") / 60))),
    Claim(r"maps blocks over (\d+) kB on their own",
          lambda m: same(m[1], _setting("server_patches", "MALLOC_MMAP_THRESHOLD") / 1024)),
    Claim(r"\(`DLP_LEASE_SECONDS`,\s+default (\d+) s\)", lambda m: same(m[1], _lease_default())),
    Claim(r"a heartbeat renews (every half second) while it trains",
          lambda m: same("0.5", _setting("core.training.remote", "BEAT_SECONDS"))),
    Claim(r"so two attempts overlap for (half a second) at most",
          lambda m: same("0.5", _setting("core.training.remote", "BEAT_SECONDS"))),
    # The pages
    Claim(r"up to (\d+) MB\)", lambda m: same(m[1], _setting("core.text.corpus", "MAX_BYTES") / 2**20),
          where="views/text/page.py"),
]

#: Figures typed into pages that their owners are replacing with ``core.figures`` (issue 29):
#: (file, figure) -> owner. The test fails once one is gone, so that its entry goes too.
PENDING: dict[tuple[str, str], str] = {}


# ---- the texts --------------------------------------------------------------------------------
def readme_text() -> str:
    """The README with each generated figure (checked on its own) replaced by its name."""
    text = record.README_FIGURE.sub(lambda found: f"[figure {found[2]}]", (REPO / "README.md").read_text(encoding="utf-8"))
    return re.sub(r"\s*\n\s*", " ", text)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def page_strings(path: Path) -> list[str]:
    """The string constants of a page's source the user can see (docstrings left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


def page_files() -> list[Path]:
    return [REPO / "app.py", *sorted((REPO / "views").rglob("*.py"))]


def texts() -> dict[str, list[str]]:
    found = {"README.md": [readme_text()]}
    for path in page_files():
        found[str(path.relative_to(REPO))] = page_strings(path)
    return found


# ---- the tests --------------------------------------------------------------------------------
def test_every_quoted_figure_is_vouched_for_and_agrees_with_its_source():
    unvouched, wrong, pending_seen = [], [], set()
    for where, strings in texts().items():
        claims = [c for c in CLAIMS if c.where == where]
        for text in strings:
            vouched = []  # spans of figures a claim checked
            for claim in claims:
                for match in re.finditer(claim.pattern, text):
                    vouched += [match.span(g) for g in range(1, (match.lastindex or 0) + 1)]
                    problem = claim.check(match)
                    if problem:
                        wrong.append(f"{where}: “{match[0][:90]}…”: {problem}")
            for figure in figures_in(text):
                if any(start < figure.end() and figure.start() < end for start, end in vouched):  # overlaps
                    continue
                if (where, figure[0]) in PENDING:
                    pending_seen.add((where, figure[0]))
                    continue
                unvouched.append(f"{where}: {figure[0]!r} in “…{text[max(0, figure.start() - 60):figure.end() + 20]}…”")
    assert not wrong, "figures that disagree with their source:\n" + "\n".join(wrong)
    assert not unvouched, ("figures with no source (read them through core.figures, or add a Claim in "
                           "tests/test_figures.py that checks them):\n" + "\n".join(unvouched))
    gone = {key: owner for key, owner in PENDING.items() if key not in pending_seen}
    assert not gone, f"no longer on the page, remove from PENDING: {gone}"


def test_the_readmes_generated_figures_read_as_the_latest_results_word_them():
    found = record.readme_figures((REPO / "README.md").read_text(encoding="utf-8"))
    assert found, "the README has no generated figures"
    stale = []
    for name, text in found:
        assert name in figures.PHRASES, f"the README names a figure core.figures.PHRASES does not have: {name}"
        expected = figures.phrase(name)
        if expected is None:
            stale.append(f"{name}: nothing measured to word it (its benchmark row is missing from latest.json)")
        elif " ".join(text.split()) != expected:
            stale.append(f"{name}: the README says {text!r}, the latest results give {expected!r}")
    assert not stale, "run `python -m benchmarks --table` to rewrite them:\n" + "\n".join(stale)


def test_every_claim_finds_its_sentence():
    """A claim whose sentence was reworded would vouch for nothing: it must still match, once."""
    all_texts = texts()
    for claim in CLAIMS:
        count = sum(len(re.findall(claim.pattern, text)) for text in all_texts[claim.where])
        assert count == 1, f"{claim.where}: the claim {claim.pattern[:70]!r}… matched {count} times"


@pytest.mark.parametrize("text,found", [
    ("takes 12–72 s on two cores", ["12–72 s"]),
    ("in 2–2½ minutes", ["2–2½ minutes"]),
    ("9.3 kB per prediction, 2.65 MB a minute", ["9.3 kB", "2.65 MB"]),
    ("25.0 pictures a second and 30 a second", ["25.0 pictures a second", "30 a second"]),
    ("about a minute, a second one, half a second", ["about a minute", "half a second"]),
    ("renews every half second, once a second", ["every half second", "once a second"]),
    ("width:100%; 10 sessions; 2026-12-02; 28x28", []),
    ("over 99 % after one epoch", ["over 99 %"]),
])
def test_figure_pattern(text, found):
    assert [m[0] for m in figures_in(text)] == found


def test_span_holds_rounds_to_the_quoted_resolution():
    seconds = lambda *values: [Measurement(v, "s", "test") for v in values]  # noqa: E731
    assert span_holds("12–72 s", seconds(11.9, 72.4)) is None
    assert "11.4" in span_holds("12–72 s", seconds(11.4))
    assert span_holds("2–2½ minutes", seconds(127, 143)) is None
    assert span_holds("2–2½ minutes", seconds(170)) is not None
    assert span_holds("about 40 s", seconds(40.2)) is None
    assert span_holds("about 40 s", []) is not None
