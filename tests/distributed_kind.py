"""A tiny model kind for the multi-process tests (tests/test_distributed.py), without TensorFlow.

Like tests/fake_kind.py, but held and counted across processes through files in the folder
``$DLP_TEST_DIR``: each training start appends a line ``<pid> <time>`` to ``trainings`` (and its end,
however it ends, to ``ended``), and every
step waits until the file ``gate`` exists (checking Cancel meanwhile), so a test can hold a training
under way in a worker process while other processes look at it, kill it or cancel it.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from tests.fake_kind import FakeKind


def shared_dir() -> Path:
    return Path(os.environ["DLP_TEST_DIR"])


class GatedKind(FakeKind):
    name = "gated"

    def train(self, config: dict, reporter):
        with open(shared_dir() / "trainings", "a") as log:
            log.write(f"{os.getpid()} {time.time()}\n")
        try:
            self.steps(config, reporter)
        finally:
            with open(shared_dir() / "ended", "a") as log:
                log.write(f"{os.getpid()} {time.time()}\n")
        return self.model(config), {"metrics": {"accuracy": 0.5}}

    def steps(self, config: dict, reporter) -> None:
        reporter.set_total(config["size"], epochs=config["size"])
        reporter.log("started")
        for step in range(1, config["size"] + 1):
            while not (shared_dir() / "gate").exists():
                reporter.check()
                time.sleep(0.02)
            reporter.check()
            reporter.step(step, loss=1.0 / step)
            reporter.epoch_end(step, loss=1.0 / step)
            time.sleep(0.05)


KIND = GatedKind()


def register() -> None:
    """Make the kind known in this process (workers and app processes call it at start)."""
    import core.training.jobs

    core.training.jobs.KINDS["gated"] = "tests.distributed_kind:KIND"
