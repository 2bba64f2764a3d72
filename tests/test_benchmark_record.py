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
    assert phrase(9249.6) == "about 2½ hours"
    assert phrase(7000, 9300) == "2–2½ hours"
    assert phrase(1500, 9300) == "25 minutes–2½ hours"
    assert phrase() is None


def test_the_bundled_models_training_time_comes_from_their_records():
    fast_cnn = figures.training_time("fast_cnn")
    record_seconds = figures.manifest()["fast_cnn"]["record"]["duration_s"]
    assert any(m.value == record_seconds and "record" in m.source for m in fast_cnn)
    assert figures.training_time_phrase("charlstm_quick").endswith(("s", "minutes", "minute"))


def live_rows(pictures: float) -> list[Result]:
    return [Result("output pictures per second seen by Chromium, one player", pictures, 6.8, "updates/s", "≥ 20 /s",
                   True, higher_is_better=True)]


def test_the_readmes_figures_are_rewritten_from_the_latest_results_and_say_quick(tmp_path, monkeypatch):
    latest, readme = tmp_path / "latest.json", tmp_path / "README.md"
    monkeypatch.setattr(figures, "LATEST_RESULTS", latest)
    record.record("playground_live", live_rows(21.04), quick=True, when="2026-12-04 10:00:00", seconds=5, machine={},
                  path=latest)
    readme.write_text("Chromium showed <!-- figure live_pictures -->25.0 pictures a second<!-- /figure --> here;\n"
                      "<!-- figure load_run -->2026-12-02, a full run<!-- /figure -->.\n")
    assert record.write_readme(readme) == ["load_run"]  # no load run recorded: its text stays
    assert record.readme_figures(readme.read_text()) == [
        ("live_pictures", "21.0 pictures a second (a --quick run)"), ("load_run", "2026-12-02, a full run")]
    record.record("playground_live", live_rows(24.96), quick=False, when="2026-12-04 11:00:00", seconds=5, machine={},
                  path=latest)
    record.write_readme(readme)
    assert record.readme_figures(readme.read_text())[0] == ("live_pictures", "25.0 pictures a second")


def test_a_run_saved_as_json_is_recorded_as_when_it_ran(tmp_path):
    latest, run_file = tmp_path / "latest.json", tmp_path / "run.json"
    run_file.write_text(json.dumps({
        "when": "2026-12-04 12:00:00", "machine": {"cpus": 2}, "quick": False, "commit": "abc1234",
        "runs": {"playground_live": {"when": "2026-12-04 11:30:00", "seconds": 600}},
        "results": [{"benchmark": "playground_live", **r.as_dict()} for r in live_rows(24.0)], "failed": []}))
    assert record.record_json_run(run_file, path=latest) == ["playground_live"]
    kept = json.loads(latest.read_text())["benchmarks"]["playground_live"]
    assert (kept["when"], kept["quick"], kept["commit"], kept["results"][0]["ours"]) == (
        "2026-12-04 11:30:00", False, "abc1234", 24.0)
