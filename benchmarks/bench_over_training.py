"""The map over training (issue 33): an aligned PCA animation of 11 saved points × 2,000 probes
(target ≤ 2 s, against the same PCAs unaligned), the t-SNE chain over those points in 2-D (≤ 60 s,
the first layout ≤ 10 s), how far points move between consecutive frames with alignment against
without it (PCA: each point's own PCA as it comes; t-SNE: each point's t-SNE from scratch), and the
animation's frame rate in Chromium (≥ 10 frames/s for 2,000 points in 2-D; reference: the rate the
Play button asks for).

The probes are real: a Fast CNN trained here records 2,000 test digits through its Dense layers at
its 11 log points (the app records 700, PROBE_IMAGES), and the maps use its dense1 layer (256 numbers). The
frame rate plays the page's own figure (views/embeddings/animation.py) in a static HTML file with
Plotly's bundled plotly.js, counting Plotly's "plotly_animatingframe" events. ``--quick`` trains on
10,000 images and compares t-SNE from scratch on 3 points only; the full run on all of them.
"""
from __future__ import annotations

import functools
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import Result

PROBES = 2000


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def recorded_probes(quick: bool):
    """A Fast CNN's probes: 11 points × 2,000 test digits (trained in a throw-away store)."""
    import core.digits.models as models
    from core.embeddings.probes import keras_probes, read_probes
    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    original = models.keras_probes
    models.keras_probes = functools.partial(keras_probes, count=PROBES)
    cache = tempfile.mkdtemp(prefix="bench-over-training-")
    os.environ["DLP_CACHE_DIR"], os.environ["DLP_BUNDLED"] = cache, "0"
    try:
        job = JobManager(ModelStore(Path(cache) / "store")).request(
            "digits", {"arch": "fast_cnn", **({"train_limit": 10_000} if quick else {})})
        job.wait()
    finally:
        models.keras_probes = original
    if job.status != "done":
        raise RuntimeError(f"training failed: {job.error}")
    return read_probes(job.entry.path).sets["images"], [int(s) for s in read_probes(job.entry.path).steps]


def frame_rate(figure, seconds: float = 6.0) -> float:
    """Frames per second Plotly draws while playing ``figure`` in headless Chromium."""
    from playwright.sync_api import sync_playwright

    from tools.browser import CHROMIUM_ARGS, chromium_path

    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "animation.html"
        page_file.write_text(figure.to_html(include_plotlyjs=True, full_html=True, div_id="map",
                                            auto_play=False), encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.goto(page_file.as_uri())
            page.wait_for_function("() => document.getElementById('map') && document.getElementById('map')._fullLayout")
            page.evaluate("""() => { const gd = document.getElementById('map'); window.frames_seen = [];
                gd.on('plotly_animatingframe', () => window.frames_seen.push(performance.now())); }""")
            page.get_by_text("Play").first.click()
            time.sleep(seconds)
            stamps = page.evaluate("() => window.frames_seen")
            browser.close()
    if len(stamps) < 3:
        return 0.0
    return (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1000)


def run(quick: bool = False) -> list[Result]:
    from core.embeddings.over_training import mean_displacement, normalised, pca_frames, procrustes, tsne_step, reduced
    from views.embeddings.animation import FRAME_MS, animation_figure

    probe_set, steps = recorded_probes(quick)
    frames = probe_set.layers["dense1"]
    results = []

    started, cpu = time.perf_counter(), cpu_seconds()
    aligned = pca_frames(frames, 2)
    figure = animation_figure(aligned, steps, probe_set, "label", "PCA · dense1")
    figure.to_json()  # what Streamlit sends
    pca_seconds, pca_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    started = time.perf_counter()
    unaligned = pca_frames(frames, 2, align=False)
    unaligned_seconds = time.perf_counter() - started
    results.append(Result(f"aligned PCA animation, {len(steps)} points × {PROBES:,} probes", pca_seconds,
                          unaligned_seconds, "s", "≤ 2 s", pca_seconds <= 2,
                          note=f"{pca_cpu:.2f} CPU-s; PCA per point, Procrustes-aligned, normalised, figure with "
                               "in-between frames and JSON; reference: the PCAs alone, unaligned, no figure"))
    results.append(Result("PCA: mean movement between consecutive frames", float(mean_displacement(aligned).mean()),
                          float(mean_displacement(unaligned).mean()), "map radii", "less than unaligned",
                          bool(mean_displacement(aligned).mean() < mean_displacement(unaligned).mean())))

    layouts, seconds, previous, cpu = [], [], None, cpu_seconds()
    for features in frames:
        began = time.perf_counter()
        layout = tsne_step(reduced(features), 2, previous, {})
        previous = layout
        shown = normalised(layout)
        layouts.append(procrustes(layouts[-1], shown) if layouts else shown)
        seconds.append(time.perf_counter() - began)
    chain, chain_cpu = np.stack(layouts), cpu_seconds() - cpu
    results.append(Result(f"t-SNE chain, {len(steps)} points × {PROBES:,} probes, 2-D", sum(seconds), None, "s",
                          "≤ 60 s", sum(seconds) <= 60, note=f"{chain_cpu:.0f} CPU-s; each layout started from the previous "
                          f"one; later layouts {np.mean(seconds[1:]):.1f} s on average"))
    results.append(Result("t-SNE chain: first layout", seconds[0], None, "s", "≤ 10 s", seconds[0] <= 10))
    compared = 3 if quick else len(steps)
    scratch = np.stack([normalised(tsne_step(reduced(f), 2, None, {})) for f in frames[:compared]])
    chained, independent = mean_displacement(chain[:compared]).mean(), mean_displacement(scratch).mean()
    results.append(Result("t-SNE: mean movement between consecutive frames", float(chained), float(independent),
                          "map radii", "less than from scratch", bool(chained < independent),
                          note=f"first {compared} points; reference: each point's t-SNE from scratch, not aligned"))

    fps = frame_rate(animation_figure(aligned, steps, probe_set, "label", "PCA · dense1"))
    results.append(Result(f"animation in Chromium, {PROBES:,} points, 2-D", fps, 1000 / FRAME_MS, "frames/s",
                          "≥ 10 frames/s", fps >= 10, higher_is_better=True,
                          note="headless Chromium (software WebGL); reference: the rate Play asks for"))
    return results
