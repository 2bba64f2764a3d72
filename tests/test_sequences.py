"""The Sequences tab's core: the from-scratch cell learns a wave and forecasts the held-out end."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import BadConfig
from core.training.jobs import DONE, JobManager
from core.text.sequences import KIND, SeriesLSTM, make_series, windows
from core.training.store import ModelStore


def test_series_are_the_named_waves_with_the_asked_noise():
    clean = make_series("sine", 400)
    assert np.allclose(clean[:3], np.sin(2 * np.pi * np.arange(3) / 40), atol=1e-6)
    assert np.allclose(make_series("cosine", 400)[0], 1.0)
    noisy = make_series("sum_of_sines", 4000, noise=0.2, seed=1)
    residual = noisy - make_series("sum_of_sines", 4000)
    assert abs(residual.std() - 0.2) < 0.01
    assert np.array_equal(noisy, make_series("sum_of_sines", 4000, noise=0.2, seed=1))


def test_windows_pair_each_point_with_the_next():
    series = np.arange(20, dtype=np.float32)
    x, y = windows(series, np.array([0, 5]), 4)
    assert x.tolist() == [[0, 1, 2, 3], [5, 6, 7, 8]]
    assert y.tolist() == [[1, 2, 3, 4], [6, 7, 8, 9]]


@pytest.mark.parametrize("series", ["sine", "sum_of_sines"])
def test_training_learns_the_wave_and_the_forecast_beats_guessing(tmp_path, series):
    config = KIND.normalize({"series": series, "noise": 0.05, "steps": 250, "units": 32, "horizon": 80})
    manager = JobManager(ModelStore(tmp_path / "store"))
    job = manager.request("sequence", config)
    assert job.wait(300)
    assert job.status == DONE, job.error
    losses = [h["loss"] for h in job.progress.history]
    assert losses[-1] < losses[0] / 5
    metrics = job.entry.metrics
    # Forecasting zero (the wave's mean) scores its variance, about 0.5; a learned rhythm far less.
    clean = make_series(series, config["length"])[-config["horizon"]:]
    assert metrics["forecast_mse_vs_clean"] < 0.25 * np.mean(clean ** 2), metrics
    # Stored as .npz + JSON and loaded without pickle: the same forecast.
    history = make_series(series, config["length"], 0.05)[:-config["horizon"]]
    loaded = KIND.load(job.entry.path)
    assert np.allclose(loaded.forecast(history[-40:], 80), job.model().forecast(history[-40:], 80), atol=1e-5)


def test_one_step_predictions_and_forecast_shapes():
    model = SeriesLSTM(8, seed=0)
    x = np.zeros((3, 10), np.float32)
    assert model.one_step_predictions(x).shape == (3, 10)
    assert model.forecast(np.zeros(10, np.float32), 25).shape == (25,)


@pytest.mark.parametrize("bad", [{"series": "square"}, {"noise": 2}, {"window": 1}, {"units": 1000},
                                 {"horizon": 5}, {"steps": "many"}, {"length": 200, "horizon": 100, "window": 150}])
def test_bad_settings_get_clear_messages(bad):
    with pytest.raises(BadConfig):
        KIND.normalize(bad)


def test_the_same_forecast_is_not_computed_twice_but_a_changed_model_recomputes(monkeypatch):
    """The page asks for the forecast on every rerun; only new inputs or new weights run the model."""
    model = SeriesLSTM(units=8, seed=1)
    history = np.sin(np.arange(30, dtype=np.float32) / 3)
    first = model.forecast(history, 12)
    runs = []
    run = model._run_forecast
    monkeypatch.setattr(model, "_run_forecast", lambda *args: runs.append(1) or run(*args))
    first[:] = 99  # the caller's copy: changing it must not change what is remembered
    again = model.forecast(history, 12)
    assert not runs and np.allclose(again, run(history, 12)) and not np.allclose(again, 99)
    model.forecast(history + 1, 12)
    assert len(runs) == 1
    x, y = history[None, :-1], history[None, 1:]
    model.train_step(x, y, 0.01)
    model.forecast(history + 1, 12)
    assert len(runs) == 2


def test_the_numpy_forecast_is_the_tensorflow_cell_fed_its_own_output():
    """Forecasting steps the cell in NumPy; TensorFlow's unrolled window over the history followed by
    the forecast must predict, at every step from the history's end, the forecast's next value."""
    rng = np.random.default_rng(0)
    model = SeriesLSTM(units=16, seed=2)
    for var in model.weights.values():  # larger, random weights so every gate matters
        var.assign(rng.normal(scale=0.5, size=var.shape).astype(np.float32))
    history = rng.normal(size=25).astype(np.float32)
    forecast = model.forecast(history, 15)
    fed_back = np.concatenate([history, forecast[:-1]])[None, :]
    predictions = model.one_step_predictions(fed_back)[0]
    np.testing.assert_allclose(forecast, predictions[len(history) - 1:], atol=1e-5)
    assert np.ptp(forecast) > 0.01  # not a flat line that would match anything


def test_models_saved_in_the_first_format_still_load(tmp_path):
    model = SeriesLSTM(units=8, seed=3)
    old = {"kernel_0": "kernel", "recurrent_0": "recurrent", "bias_0": "bias"}.get
    np.savez(tmp_path / "weights.npz", **{old(name, name): array for name, array in model.arrays().items()})
    (tmp_path / "meta.json").write_text('{"units": 8, "format": "sequence-1"}')
    history = np.sin(np.arange(20, dtype=np.float32) / 3)
    np.testing.assert_allclose(KIND.load(tmp_path).forecast(history, 10), model.forecast(history, 10), atol=1e-6)
