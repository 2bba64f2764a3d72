"""Pretrain models into the store from a terminal, through the app's own code path.

    python -m core.train digits --arch fast_cnn --epochs 3
    python -m core.train digits --set train_limit=2000 --set epochs=1
    python -m core.train --list
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from core.errors import AppError
from core.training.jobs import CANCELLED, DONE, KINDS, get_manager


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _bar(fraction: float, width: int = 30) -> str:
    filled = int(round(fraction * width))
    return "█" * filled + "·" * (width - filled)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", nargs="?", help=f"model kind: {', '.join(KINDS)}")
    parser.add_argument("--arch", help="architecture (digits kind)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any config value, e.g. --set learning_rate=0.001")
    parser.add_argument("--retrain", action="store_true", help="train even if the store has it")
    parser.add_argument("--list", action="store_true", help="list the models in the store")
    args = parser.parse_args(argv)

    manager = get_manager()
    if manager.queue_notice():
        print("warning:", manager.queue_notice(), file=sys.stderr)
    if manager.store.warning:
        print("warning:", manager.store.warning, file=sys.stderr)
    if args.list:
        for entry in manager.store.entries():
            record = entry.record
            print(f"{entry.key}  {record.get('kind'):10}  {record.get('title', '')}  "
                  f"{json.dumps(record.get('metrics', {}))}")
        return 0
    if not args.kind:
        parser.error("name a model kind, or use --list")

    config: dict = {}
    if args.arch:
        config["arch"] = args.arch
    if args.epochs is not None:
        config["epochs"] = args.epochs
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set takes KEY=VALUE, not {item!r}")
        config[key] = _parse_value(value)

    try:
        job = manager.request(args.kind, config, retrain=args.retrain)
    except AppError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if job.finished and not job.trained_here and job.status == DONE:
        print(f"{job.title} is already in the store ({job.key}): {json.dumps(job.entry.metrics)}")
        return 0
    try:
        while not job.wait(0.25):
            _print_progress(job)
    except KeyboardInterrupt:
        job.cancel()
        job.wait()
    _print_progress(job)
    print()
    if job.status == DONE:
        print(f"saved {job.title} as {job.key}: {json.dumps(job.entry.metrics)}")
        return 0
    print(f"{job.status}: {job.error}", file=sys.stderr)
    return 130 if job.status == CANCELLED else 1


def _print_progress(job) -> None:
    p = job.progress
    eta = f" eta {p.eta_seconds:5.0f}s" if p.eta_seconds is not None else ""
    loss = p.metrics.get("loss")
    loss_text = f" loss {loss:.4f}" if isinstance(loss, float) else ""
    status = p.phase or p.message or p.status
    # Step-counted trainings (the character LSTMs) have no epoch total: show no "epoch 2/0".
    epoch = f" epoch {p.epoch}/{p.epochs}" if p.epochs else ""
    sys.stdout.write(f"\r{job.title}: {_bar(p.fraction)} {p.fraction:4.0%}"
                     f"{epoch}{loss_text}{eta} {status:44.44}")
    sys.stdout.flush()
    time.sleep(0)


if __name__ == "__main__":
    sys.exit(main())
