"""The latest results file and RESULTS.md's current table (benchmarks/record.py), and how core.figures
reads them and words durations."""
from __future__ import annotations

import json

from benchmarks import record
from benchmarks.harness import Result
from core import figures
from core.figures import Measurement


def rows(seconds: float) -> list[Result]:
    return [Result("Fast CNN training time to ≥ 99.0 % test accuracy", seconds, 98.0, "s", "≤ 30 s", True)]


def test_a_quick_run_never_replaces_a_full_one(tmp_path):
    latest = tmp_path / "latest.json"
    assert record.record("draw", rows(20.0), quick=True, when="2026-12-04 10:00:00", seconds=5, machine={}, path=latest)
    assert record.record("draw", rows(12.0), quick=False, when="2026-12-04 11:00:00", seconds=50, machine={},
                         path=latest)
    assert not record.record("draw", rows(30.0), quick=True, when="2026-12-04 12:00:00", seconds=5, machine={},
                             path=latest)
    kept = json.loads(latest.read_text())["benchmarks"]["draw"]
    assert (kept["quick"], kept["when"], kept["results"][0]["ours"]) == (False, "2026-12-04 11:00:00", 12.0)
    assert figures.result("draw", "Fast CNN training time", path=latest).value == 12.0
    assert figures.result("draw", "Fast CNN training time", reference=True, path=latest).value == 98.0
    assert figures.result("draw", "no such metric", path=latest) is None
    assert figures.result("text", "anything", path=latest) is None


def test_the_current_table_is_rewritten_between_its_markers_only(tmp_path):
    latest, results_md = tmp_path / "latest.json", tmp_path / "RESULTS.md"
    record.record("draw", rows(12.0), quick=False, when="2026-12-04 11:00:00", seconds=50, machine={}, path=latest)
    results_md.write_text(f"# Results\n\nintro\n\n{record.TABLE_START}\nold table\n{record.TABLE_END}\n\n## Diary\nkept\n")
    record.write_table(latest, results_md)
    text = results_md.read_text()
    assert "old table" not in text and text.startswith("# Results\n\nintro\n") and text.endswith("## Diary\nkept\n")
    assert "| draw | Fast CNN training time to ≥ 99.0 % test accuracy | 12 | 98 | s | 8.17 |" in text
    assert "| 2026-12-04, full, " in text  # when, and whether --quick
    record.write_table(latest, results_md)
    assert results_md.read_text() == text  # regenerating is stable


def test_a_missing_results_file_gives_no_figures(tmp_path):
    assert figures.result("draw", "Fast CNN", path=tmp_path / "none.json") is None
    assert figures.latest_results(tmp_path / "none.json") == {}


def test_durations_are_worded_as_a_span_that_holds_every_measurement():
    def phrase(*values):
        return figures.duration_phrase([Measurement(v, "s", "test") for v in values])

    assert phrase(11.9, 29.1, 72.0) == "12–72 s"
    assert phrase(40.2, 39.8) == "about 40 s"
    assert phrase(127, 143.2) == "2–2½ minutes"
    assert phrase(95, 100) == "about 1½ minutes"
    assert phrase(40, 130) == "40 s–2 minutes"
    assert phrase() is None


def test_the_bundled_models_training_time_comes_from_their_records():
    fast_cnn = figures.training_time("fast_cnn")
    record_seconds = figures.manifest()["fast_cnn"]["record"]["duration_s"]
    assert any(m.value == record_seconds and "record" in m.source for m in fast_cnn)
    assert figures.training_time_phrase("charlstm_quick").endswith(("s", "minutes", "minute"))
