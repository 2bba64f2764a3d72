"""A playing session's loss history: kept bounded while it plays, saved as a run for the Runs page."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict

from .datasets import DATASETS
from .network import PlaygroundNet
from .state import PlaygroundState

HISTORY_POINTS = 4000  # loss-curve points a playing session keeps


def thin_history(history: list, limit: int = HISTORY_POINTS) -> list:
    """Keep a playing session's loss history bounded: past ``limit`` points, every second one of
    the older half is dropped (the newest half stays whole, for the live curve). Playing for an
    hour at 25 frames a second would otherwise keep ~90,000 points per session."""
    if len(history) <= limit:
        return history
    recent = limit // 2
    return history[:-recent][::2] + history[-recent:]


def save_run(state: PlaygroundState, net: PlaygroundNet, history: list[tuple[int, float, float]]):
    """Log this network's training to the runs folder, for the Runs page and TensorBoard."""
    from ..paths import runs_dir
    from ..runs import LogSchedule, RunLogger

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
            logger.scalars(epoch, split="validation", loss=test_loss)
    # The initial weights follow from the state's weight_seed alone: a new net has them.
    for epoch, layers in ((0, PlaygroundNet(net.state).weight_arrays()), (net.epoch, net.weight_arrays())):
        arrays = {}
        for index, (w, b) in enumerate(layers):
            arrays[f"layer{index + 1}/kernel"] = w
            arrays[f"layer{index + 1}/bias"] = b
        logger.histograms(epoch, arrays)
    logger.close()
    return run_dir
