"""Run benchmarks: ``python -m benchmarks [NAME ...] [--quick] [--json PATH] [--record]``.

Every ``benchmarks/bench_<name>.py`` is a benchmark called ``<name>``. ``--record`` keeps each
finished benchmark's rows as its latest in ``benchmarks/results/latest.json`` (a ``--quick`` run
never replaces a full one) and rewrites the current table at the top of ``benchmarks/RESULTS.md``
and the README's measured figures. ``python -m benchmarks --table [RUN.json ...]`` runs nothing: it
records runs saved with ``--json`` (if given) and rewrites the table and the README's figures.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import record  # noqa: E402
from benchmarks.harness import table  # noqa: E402

MACHINE = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"which to run (default all): {', '.join(available())}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--json", type=Path, help="also write this run's results to this JSON file")
    parser.add_argument("--record", action="store_true",
                        help=f"keep each finished benchmark's rows in {record.LATEST.relative_to(HERE.parent)} "
                             "and rewrite RESULTS.md's current table")
    parser.add_argument("--table", nargs="*", type=Path, metavar="RUN.json",
                        help="run nothing: record these runs saved with --json (if any), then rewrite RESULTS.md's "
                             "current table and the README's figures from the recorded results")
    args = parser.parse_args(argv)
    if args.table is not None:
        for run_file in args.table:
            kept = record.record_json_run(run_file)
            print(f"{run_file}: recorded {', '.join(kept) or 'nothing (quick rows never replace full ones)'}")
        return rewrite()
    names = args.names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available())}")

    rows, failures, runs = [], [], {}
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        summary = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())  # the first paragraph
        print(f"== {name}: {summary}", flush=True)
        when, started = time.strftime("%Y-%m-%d %H:%M:%S"), time.time()
        try:
            results = list(module.run(quick=args.quick))
        except Exception:  # report and go on with the other benchmarks
            traceback.print_exc()
            failures.append(name)
            results = None
        seconds = time.time() - started
        print(f"   ({seconds:.0f} s)", flush=True)
        if results is None:
            continue
        for result in results:
            rows.append((name, result))
            print(f"   {result.metric}: ours {result.ours:.4g} {result.unit}, reference "
                  f"{result.reference if result.reference is None else format(result.reference, '.4g')}", flush=True)
        runs[name] = {"when": when, "seconds": round(seconds)}
        if args.record:
            kept = record.record(name, results, quick=args.quick, when=when, seconds=seconds, machine=MACHINE)
            print(f"   recorded in {record.LATEST.name}" if kept else
                  "   not recorded: a --quick run does not replace the full run recorded for it", flush=True)

    print()
    print(table(rows))
    if args.record:
        rewrite()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": MACHINE,
            "quick": args.quick,
            "commit": record.commit(),
            "runs": runs,
            "results": [{"benchmark": n, **r.as_dict()} for n, r in rows],
            "failed": failures,
        }, indent=2))
    if failures:
        print(f"\nfailed to run: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


def rewrite() -> int:
    """RESULTS.md's current table and the README's figures, from the recorded results."""
    record.write_table()
    missing = record.write_readme()
    print(f"rewrote the current table in {record.RESULTS_MD} and the figures in {record.README}")
    if missing:
        print(f"no measurement for the README's figure(s) {', '.join(missing)}: their text is unchanged",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
