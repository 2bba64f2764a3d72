"""The Runs page's pictures (pure functions) and the page itself on a logged run, no training:
a RunLogger writes the event files a Keras training would."""
from __future__ import annotations

import json
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
    assert at.radio(key="runs_what_20260101-000000-digits-test").value == "weights"
    assert at.selectbox(key="runs_hist_20260101-000000-digits-test_weights").label == "Layer weights"
    assert not at.toggle(key="runs_skip0_20260101-000000-digits-test_weights").value
    assert any("distribution" in m.value for m in at.markdown)
    at.radio(key="runs_what_20260101-000000-digits-test").set_value("gradients").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="runs_hist_20260101-000000-digits-test_gradients").label.startswith("Gradients")
    assert at.toggle(key="runs_skip0_20260101-000000-digits-test_gradients").value  # step 0 left out
    assert any("Spread (standard deviation) of the gradients" in c.value and "at step 10" in c.value
               for c in at.caption)


def test_the_band_spans_each_points_trailing_window_instead_of_smoothing():
    from views.runs.pictures import rolling_band

    means, lows, highs = rolling_band([1.0, 3.0, 2.0, 6.0], window=2)
    assert means == [1.0, 2.0, 2.5, 4.0] and lows == [1.0, 1.0, 2.0, 2.0] and highs == [1.0, 3.0, 3.0, 6.0]
    line = {"label": "a", "colour": "#1f77b4", "split": "train", "steps": (1, 2, 3, 4), "walls": (0, 1, 2, 3),
            "values": (1.0, 3.0, 2.0, 6.0), "steps_per_epoch": None}
    figure = curves_figure([line], "loss", 0.6, "step", band=2)
    high, low, mean = figure.data
    assert low.fill == "tonexty" and list(low.y) == lows and list(high.y) == highs and list(mean.y) == means
    assert low.fillcolor == "rgba(31,119,180,0.2)"


def test_log_axes_on_steps_and_epochs_and_no_epoch_zero_on_them():
    lines = [{"label": "a", "colour": "#000000", "split": "train", "steps": tuple(range(1, 41)),
              "walls": tuple(range(40)), "values": tuple(1 / s for s in range(1, 41)), "steps_per_epoch": 10}]
    figure = curves_figure(lines, "loss", 0.0, "step", log_x=True, log_y=True)
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "log"
    assert figure.layout.xaxis2.type == "log" and figure.layout.xaxis2.tickvals[0] > 0
    assert curves_figure(lines, "loss", 0.0, "relative", log_x=True).layout.xaxis.type != "log"  # time starts at 0


def test_one_csv_holds_every_scalar_of_the_selected_runs(tmp_path):
    import csv
    import io

    from core.training.runs import read_scalars
    from views.runs.pictures import CSV_COLUMNS, scalars_csv

    folder = logged_run(tmp_path)
    run = {"name": folder.name, "title": "Test net (4 epochs)", "kind": "digits", "steps_per_epoch": 10}
    other = {"name": "b", "title": "Other", "kind": "charlstm"}
    text = scalars_csv([run, other], [read_scalars(folder), {"train/loss": [(5, 100.0, 0.25)]}])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == 40 + 4 + 1  # 40 training points, 4 validation points, the other run's one
    validation = [r for r in rows if r["split"] == "validation"]
    assert [(r["step"], r["epoch"]) for r in validation] == [("10", "1"), ("20", "2"), ("30", "3"), ("40", "4")]
    assert float(validation[0]["value"]) == pytest.approx(2 / 2)
    assert rows[-1] == {"run": "b", "network": "Other", "split": "train", "metric": "loss", "step": "5",
                        "epoch": "", "wall_time": "100.000", "value": "0.25"}


def test_delete_asks_first_then_deletes_the_run(isolated_cache):
    folder = logged_run(isolated_cache / "runs")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("views/runs/page.py").run()
    assert not at.exception, at.exception
    assert folder.exists()  # showing the page (and its popover) deletes nothing
    confirm = at.button(key=f"runs_delete_{folder.name}")
    assert confirm.label == "Delete for good"
    confirm.click().run()
    assert not folder.exists() and not at.exception
    assert any("Deleted Test net (4 epochs)" in s.value for s in at.success)


def test_the_playgrounds_test_loss_is_drawn_as_test_not_validation(isolated_cache):
    folder = isolated_cache / "runs" / "20260101-000000-playground-test"
    logger = RunLogger(folder, kind="playground", title="Playground: XOR", config={"dataset": "xor"})
    for epoch in range(1, 6):
        logger.scalars(epoch, split="train", loss=1 / epoch)
        logger.scalars(epoch, split="test", loss=1.2 / epoch)
    logger.close()
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("views/runs/page.py").run()
    assert not at.exception, at.exception
    names = [trace.get("name") for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert "Playground: XOR · test" in names and not any(n and "validation" in n for n in names)
