"""A playing session's loss history: kept bounded while it plays, saved as a run for the Runs page."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict

import numpy as np

from core.playground.datasets import DATASETS
from core.playground.network import PlaygroundNet
from core.playground.state import PlaygroundState

HISTORY_POINTS = 4000  # loss-curve points a playing session keeps
SNAPSHOTS = 20  # weight snapshots a playing session keeps, for the saved run's histograms
HISTOGRAM_ROWS = 10  # snapshots a saved run logs between its first and last weights


def thin_history(history: list, limit: int = HISTORY_POINTS) -> list:
    """Keep a playing session's loss history bounded: past ``limit`` points, every second one of
    the older half is dropped (the newest half stays whole, for the live curve). Playing for an
    hour at 25 frames a second would otherwise keep ~90,000 points per session."""
    if len(history) <= limit:
        return history
    recent = limit // 2
    return history[:-recent][::2] + history[-recent:]


def thin_snapshots(snapshots: list, limit: int = SNAPSHOTS) -> list:
    """Keep a session's (epoch, weights) snapshots bounded and spread over the whole run: past
    ``limit``, every second one is dropped, so however long it plays they stay about evenly spaced."""
    return snapshots[::2] if len(snapshots) > limit else snapshots


def save_run(state: PlaygroundState, net: PlaygroundNet, history: list[tuple[int, float, float]],
             snapshots: list[tuple[int, list]] = ()):
    """Log this network's training to the runs folder, for the Runs page and TensorBoard.

    ``snapshots`` are (epoch, weight arrays) taken while it trained (see :func:`thin_snapshots`);
    about ``HISTOGRAM_ROWS`` of them become histogram rows between the first and the last."""
    from core.paths import runs_dir
    from core.training.runs import LogSchedule, RunLogger

    digest = hashlib.sha256(json.dumps(asdict(state), sort_keys=True).encode()).hexdigest()[:8]
    run_dir = runs_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-playground-{digest}"
    title = f"Playground: {DATASETS[state.dataset]}, {'-'.join(map(str, state.hidden)) or 'no hidden layers'}"
    logger = RunLogger(run_dir, kind="playground", title=title, config=asdict(state))
    # The step axis counts epochs here, as the TensorFlow Playground does. About 100 of the
    # history's points, evenly spread over it (each a loss measured at that epoch, not a mean).
    schedule = LogSchedule(max(1, len(history)))
    for index, (epoch, train_loss, test_loss) in enumerate(history):
        if schedule.scalar_due(index + 1):
            logger.scalars(epoch, split="train", loss=train_loss)
            logger.scalars(epoch, split="test", loss=test_loss)  # held-out points, never trained on
    # The initial weights follow from the state's weight_seed alone: a new net has them.
    between = [(epoch, layers) for epoch, layers in snapshots if 0 < epoch < net.epoch]
    if len(between) > HISTOGRAM_ROWS:
        between = [between[int(i)] for i in np.linspace(0, len(between) - 1, HISTOGRAM_ROWS)]
    rows = [(0, PlaygroundNet(net.state).weight_arrays()), *between, (net.epoch, net.weight_arrays())]
    for epoch, layers in rows:
        arrays = {}
        for index, (w, b) in enumerate(layers):
            arrays[f"layer{index + 1}/kernel"] = w
            arrays[f"layer{index + 1}/bias"] = b
        logger.histograms(epoch, arrays)
    logger.close()
    return run_dir
