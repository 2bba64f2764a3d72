"""Runs page in a real browser: a tiny training appears with its curve and weight distributions."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.e2e.conftest import REPO, open_page, screenshot


def test_a_tiny_training_appears_with_its_curve(page, app_server):
    done = subprocess.run(
        [sys.executable, "-m", "core.train", "digits", "--arch", "dense2019", "--epochs", "3",
         "--set", "train_limit=500"],
        cwd=REPO, env={**os.environ, "DLP_CACHE_DIR": str(app_server.cache)}, capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    open_page(page, "runs", wait_for_text="Smoothing")
    assert page.get_by_text("2019 dense net (3 epochs, 500 images)").count() >= 1
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.data && "
                           "p.data.some(t => t.name && t.name.includes('2019 dense net') && t.y.length === 3))")
    page.get_by_text("How the weights moved during training").wait_for()
    page.get_by_text("Model summary").wait_for()
    screenshot(page, "runs")
