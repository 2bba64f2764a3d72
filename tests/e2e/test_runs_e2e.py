"""Runs page in a real browser: the default Fast CNN (one epoch) shows how it learned — a loss
curve of many points and weight and gradient histograms of several rows — at desktop and
phone widths; a second, three-epoch run overlays it on the epoch axis."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.e2e.conftest import REPO, open_page, screenshot

FAST_CNN = "Fast CNN (1 epoch)"
SMALL_MLP = "2019 dense net (3 epochs, 500 images)"


def train(app_server, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "core.train", "digits", *args], cwd=REPO,
                          env={**os.environ, "DLP_CACHE_DIR": str(app_server.cache)},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def trace_points(page, name_part: str) -> int:
    """Points on the longest plotted line whose legend name contains ``name_part``."""
    return page.evaluate("""(part) => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')]
        .flatMap(p => p.data || []).filter(t => t.name && t.name.includes(part)).map(t => t.y.length))""", name_part)


def heatmap_rows(page) -> int:
    return page.evaluate("""() => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')]
        .flatMap(p => p.data || []).filter(t => t.type === "heatmap").map(t => t.y.length))""")


def colour_bar_title(page) -> str:
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .filter(t => t.type === 'heatmap').map(t => t.colorbar.title.text)[0] || ''""")


def whole_page_screenshot(page, name: str, height: int = 3400) -> None:
    """Streamlit scrolls inside its own container, so a full-page screenshot would stop at the
    viewport: make the viewport tall (same width) for the picture, then put it back."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_timeout(1500)  # Plotly redraws to the new size
    screenshot(page, name)
    page.set_viewport_size(size)


def test_a_one_epoch_fast_cnn_shows_its_curve_and_histograms_over_time(page, app_server):
    train(app_server, "--arch", "dense2019", "--epochs", "3", "--set", "train_limit=500")
    train(app_server, "--arch", "fast_cnn")  # the default: one epoch over 55,000 digits, ~20 s of CPU
    open_page(page, "runs", wait_for_text="Smoothing")
    assert page.get_by_text(FAST_CNN).count() >= 1  # the newest run, shown when none is selected
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2")
    # 430 optimiser steps, 100 points: a curve, not one dot per epoch.
    assert trace_points(page, f"{FAST_CNN} · train") == 100
    assert trace_points(page, f"{FAST_CNN} · validation") == 1
    assert heatmap_rows(page) == 11  # the initial weights and ten moments of the run
    assert "weights" in colour_bar_title(page)
    page.get_by_text("A band that stays put means the").wait_for()
    whole_page_screenshot(page, "runs-fast-cnn")

    page.get_by_text("Gradients", exact=True).click()
    page.get_by_text("The gradients the optimiser saw").wait_for()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .some(t => t.type === 'heatmap' && t.colorbar.title.text.includes('gradients'))""")
    assert heatmap_rows(page) == 10  # "Leave out step 0" is on for gradients: the start dwarfs the rest
    page.get_by_text("Leave out step 0").click()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .some(t => t.type === 'heatmap' && t.y.length === 11)""")
    page.get_by_text("Leave out step 0").click()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .some(t => t.type === 'heatmap' && t.y.length === 10)""")
    whole_page_screenshot(page, "runs-fast-cnn-gradients")

    page.get_by_text("All settings of the shown runs").click()
    # Streamlit's data grid draws on a canvas; its cells are in the DOM for screen readers.
    settings = page.locator("[data-testid='stExpander'] [data-testid='stDataFrame']")
    settings.get_by_text("learning_rate", exact=True).first.wait_for(state="attached")
    settings.get_by_text("fast_cnn", exact=True).first.wait_for(state="attached")

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_text("Layer weights", exact=True).first.click()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .some(t => t.type === 'heatmap' && t.colorbar.title.text.includes('weights'))""")
    page.wait_for_timeout(1500)  # Plotly redraws to the new width
    screenshot(page, "runs-fast-cnn-phone-top")  # what a 390x844 phone shows first
    whole_page_screenshot(page, "runs-fast-cnn-phone")


def test_runs_of_different_lengths_overlay_on_the_epoch_axis(page, app_server):
    """Relies on the two runs trained above (the e2e server is shared within this module)."""
    open_page(page, "runs", wait_for_text="Smoothing")
    # Select both rows of the runs table (the first column of Streamlit's data grid holds the checkboxes).
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    box = grid.bounding_box()
    for row in (1, 2):  # header is row 0; rows are about 35 px high
        page.mouse.click(box["x"] + 15, box["y"] + 35 * row + 18)
        page.wait_for_timeout(800)
    page.wait_for_function(f"() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])"
                           f".some(t => t.name && t.name.includes('{SMALL_MLP}'))")
    page.get_by_text("Epoch (fractional)").click()
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.layout && "
                           "p.layout.xaxis && p.layout.xaxis.title && p.layout.xaxis.title.text === 'epoch')")
    assert trace_points(page, f"{SMALL_MLP} · train") == 48  # 16 steps an epoch, 3 epochs: every step
    assert trace_points(page, f"{SMALL_MLP} · validation") == 3
    assert trace_points(page, f"{FAST_CNN} · train") == 100
    last_x = page.evaluate("""(part) => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data || [])
        .filter(t => t.name && t.name.includes(part)).map(t => t.x[t.x.length - 1])[0]""", f"{SMALL_MLP} · train")
    assert abs(last_x - 3.0) < 1e-9  # the three-epoch run ends at epoch 3, the Fast CNN at 1
    whole_page_screenshot(page, "runs-overlay-epochs")
