"""Keep the contributors' fast loop within its budget: measure it and mark its slowest tests.

    python -m tools.slow_tests [--budget 150]

Runs the fast loop without the list (unit and AppTest page tests: no browser, no Redis) with
``--durations=0``, adds up each test's setup, call and teardown, and writes ``tests/slow_tests.txt``:
the slowest tests, as few as leave the rest within ``--budget`` seconds of measured test time (a
shared fixture's setup counts for the first test that uses it). tests/conftest.py marks the listed
tests ``slow``; the fast loop leaves them out (``-m "not e2e and not services and not slow"``) and CI
runs everything. Measure on a quiet machine: a busy one makes every test look slow.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIST = REPO / "tests" / "slow_tests.txt"
DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S.*)$")


def measure() -> tuple[dict[str, float], float, str]:
    """Each test's seconds, the wall time of the run, and pytest's last line."""
    command = [sys.executable, "-m", "pytest", "-q", "-m", "not e2e and not services", "-p", "no:cacheprovider",
               "--durations=0", "--durations-min=0", "-o", "addopts="]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    seconds: dict[str, float] = defaultdict(float)
    for line in done.stdout.splitlines():
        found = DURATION.match(line.strip())
        if found:
            seconds[found[3].strip()] += float(found[1])
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    if done.returncode not in (0, 1) or not seconds:
        raise SystemExit(f"the test run did not finish ({done.returncode}): {summary}")
    return seconds, wall, summary


def slowest_within(seconds: dict[str, float], budget: float) -> list[str]:
    """The slowest tests, as few as leave the others' total within ``budget``."""
    total, chosen = sum(seconds.values()), []
    for test, spent in sorted(seconds.items(), key=lambda kv: -kv[1]):
        if total <= budget:
            break
        chosen.append(test)
        total -= spent
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.slow_tests", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=150.0,
                        help="seconds of measured test time the fast loop may take (default 150, under 3 minutes "
                             "with pytest's start-up and collection)")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    seconds, wall, summary = measure()
    slow = slowest_within(seconds, args.budget)
    kept = sum(seconds.values()) - sum(seconds[t] for t in slow)
    LIST.write_text(
        f"# Tests the fast loop leaves out (marked `slow` by tests/conftest.py); CI runs them all.\n"
        f"# Written by `python -m tools.slow_tests --budget {args.budget:.0f}` on {time.strftime('%Y-%m-%d %H:%M')}, "
        f"load average {load:.1f}:\n"
        f"# the whole loop took {wall:.0f} s ({summary}); without these {kept:.0f} s of test time.\n"
        + "".join(f"{test}\n" for test in sorted(slow)), encoding="utf-8")
    print(f"{len(slow)} of {len(seconds)} tests marked slow in {LIST.relative_to(REPO)}; the rest: {kept:.0f} s of "
          f"test time (whole run {wall:.0f} s at load {load:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
