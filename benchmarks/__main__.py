"""Run benchmarks: ``python -m benchmarks [NAME ...] [--quick] [--json PATH]``.

Every ``benchmarks/bench_<name>.py`` is a benchmark called ``<name>``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.harness import table  # noqa: E402


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"which to run (default all): {', '.join(available())}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available())}")

    rows, failures = [], []
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        summary = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())  # the first paragraph
        print(f"== {name}: {summary}", flush=True)
        started = time.time()
        try:
            for result in module.run(quick=args.quick):
                rows.append((name, result))
                print(f"   {result.metric}: ours {result.ours:.4g} {result.unit}, reference "
                      f"{result.reference if result.reference is None else format(result.reference, '.4g')}",
                      flush=True)
        except Exception:  # report and go on with the other benchmarks
            traceback.print_exc()
            failures.append(name)
        print(f"   ({time.time() - started:.0f} s)", flush=True)

    print()
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(),
                        "platform": platform.platform()},
            "quick": args.quick,
            "results": [{"benchmark": n, **r.as_dict()} for n, r in rows],
            "failed": failures,
        }, indent=2))
    if failures:
        print(f"\nfailed to run: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
