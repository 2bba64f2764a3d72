"""The Runs page's pictures (pure functions) and the page itself on a logged run, no training:
a RunLogger writes the event files a Keras training would."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.training.runs import LogSchedule, RunLogger, histogram_buckets
from views.runs.pictures import curves_figure, epoch_ticks, histogram_grid, settings_table, spread

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_histogram_buckets_follow_tensorboards_layout():
    values = np.array([0.0, 0.1, 0.5, 0.99, 1.0])
    buckets = histogram_buckets(values, bins=4)
    np.testing.assert_allclose(buckets[:, 0], [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(buckets[:, 1], [0.25, 0.5, 0.75, 1.0])
    assert buckets[:, 2].tolist() == [2, 0, 1, 2]  # the maximum counts in the last bucket
    same = histogram_buckets(np.full(7, 3.0), bins=5)
    assert same[:, 2].tolist() == [0, 0, 0, 0, 7] and (same[:, :2] == 3.0).all()


def test_rebinning_keeps_every_count_and_leaves_no_empty_stripes():
    rng = np.random.default_rng(0)
    wide, narrow = rng.normal(0, 1, 5000), rng.normal(0, 0.2, 5000)
    rows = [(0, histogram_buckets(wide)), (10, histogram_buckets(narrow))]
    grid, edges = histogram_grid(rows, bins=40)
    assert grid.shape == (2, 40) and len(edges) == 41
    np.testing.assert_allclose(grid.sum(axis=1), [5000, 5000])
    middle = grid[1][(edges[:-1] > -0.3) & (edges[1:] < 0.3)]
    assert (middle > 0).all()  # a narrow row's buckets span several shared bins: none left empty
    assert spread(rows[0][1]) == pytest.approx(wide.std(), rel=0.05)
    assert spread(rows[1][1]) == pytest.approx(narrow.std(), rel=0.05)


def test_epoch_ticks_suit_the_run_length():
    ticks, labels = epoch_ticks(430, 430)
    assert labels == ["0", "0.25", "0.5", "0.75", "1"] and ticks[-1] == 430
    assert epoch_ticks(16, 48)[1] == ["0", "0.5", "1", "1.5", "2", "2.5", "3"]
    assert epoch_ticks(10, 400)[1][-1] == "40" and len(epoch_ticks(10, 400)[1]) <= 11


def test_curves_put_epochs_over_the_step_axis_and_overlay_on_the_epoch_axis():
    lines = [{"label": "short", "colour": "#000", "split": "train", "steps": (1, 2, 3, 4), "walls": (0, 1, 2, 3),
              "values": (1.0, 0.8, 0.6, 0.5), "steps_per_epoch": 4},
             {"label": "short", "colour": "#000", "split": "validation", "steps": (4,), "walls": (3,),
              "values": (0.55,), "steps_per_epoch": 4}]
    on_steps = curves_figure(lines, "loss", 0.0, "step")
    assert on_steps.layout.xaxis2.ticktext == ("0", "0.25", "0.5", "0.75", "1")
    on_epochs = curves_figure(lines, "loss", 0.0, "epoch")
    assert on_epochs.data[1].x == (0.25, 0.5, 0.75, 1.0) and on_epochs.layout.xaxis.title.text == "epoch"
    assert on_epochs.data[3].marker.symbol == "diamond"  # the lone validation point stays visible


def test_settings_table_puts_runs_side_by_side():
    runs = [{"name": "a", "title": "A", "config": {"lr": 0.1, "epochs": 1}},
            {"name": "b", "title": "B", "config": {"lr": 0.01, "seed": 3}}]
    assert settings_table(runs) == [{"setting": "lr", "A": "0.1", "B": "0.01"},
                                    {"setting": "epochs", "A": "1", "B": ""},
                                    {"setting": "seed", "A": "", "B": "3"}]


def logged_run(runs_folder: Path) -> Path:
    """A run as the Keras callback writes it: 40 steps, 10 a epoch, shrinking gradients."""
    folder = runs_folder / "20260101-000000-digits-test"
    schedule = LogSchedule(40, histograms=4)
    logger = RunLogger(folder, kind="digits", title="Test net (4 epochs)", config={"arch": "test", "epochs": 4},
                       steps_per_epoch=10)
    rng = np.random.default_rng(0)
    for step in schedule.histogram_steps():
        logger.histograms(step, {"dense/kernel": rng.normal(0, 0.1 + step / 100, 500),
                                 "gradients/dense/kernel": rng.normal(0, 1 / (1 + step), 500)})
    for step in schedule.scalar_steps():
        logger.scalars(step, split="train", loss=2 / (1 + step / 10))
    for epoch in range(1, 5):
        logger.scalars(epoch * 10, split="validation", loss=2 / (1 + epoch))
    logger.close()
    return folder


def test_the_page_shows_weights_and_gradients_under_their_own_labels(isolated_cache):
    logged_run(isolated_cache / "runs")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("views/runs/page.py").run()
    assert not at.exception, at.exception
    assert at.radio(key="runs-what-20260101-000000-digits-test").value == "weights"
    assert at.selectbox(key="runs-hist-20260101-000000-digits-test-weights").label == "Layer weights"
    assert not at.toggle(key="runs-skip0-20260101-000000-digits-test-weights").value
    assert any("distribution" in m.value for m in at.markdown)
    at.radio(key="runs-what-20260101-000000-digits-test").set_value("gradients").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="runs-hist-20260101-000000-digits-test-gradients").label.startswith("Gradients")
    assert at.toggle(key="runs-skip0-20260101-000000-digits-test-gradients").value  # step 0 left out
    assert any("Spread (standard deviation) of the gradients" in c.value and "at step 10" in c.value
               for c in at.caption)
