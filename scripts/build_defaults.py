"""Rebuild the ready-made models in assets/defaults/ with the project's own CLI.

    .venv/bin/python scripts/build_defaults.py            # every default
    .venv/bin/python scripts/build_defaults.py fast_cnn   # just one
    .venv/bin/python scripts/build_defaults.py --readme   # assets/README.md's table from the manifest
    nohup nice -n 10 .venv/bin/python scripts/build_defaults.py charlstm_shakespeare > build.log 2>&1 &
                                                          # the text model: hours on 2 shared cores
    .venv/bin/python scripts/build_defaults.py charlstm_shakespeare --adopt /tmp/dlp-defaults-XXXX
                                                          # bundle what an interrupted build trained

Each default is trained by ``python -m core.train ...`` (the app's own training code path) into a
throw-away store, with bundling off (so the CLI trains instead of installing the old default) and
the config's fixed seed (``seed=0``); its files are copied to ``assets/defaults/<name>/`` and
``assets/defaults/manifest.json`` gets its kind, config, store key, data fingerprint, metrics,
files (sha256 and size), record and how it was built (command, date, wall-clock and CPU seconds of
the whole CLI run, machine, library versions). TensorFlow's ops are made deterministic
(``TF_DETERMINISTIC_OPS=1``) and the threads pinned, so a rebuild on the same machine and versions
gives the same metrics; other CPUs or library versions may differ in the last digits.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from core.training.bundled import (  # noqa: E402
    DEFAULTS_DIR, MANIFEST, README, RECORD_FIELDS_NOT_SHIPPED, SPECS, file_sha256, readme_with_table,
    spec as resolved_spec)


def library_versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("tensorflow", "keras", "numpy")} | {
        "python": platform.python_version()}


def train(name: str, spec: dict, cache: Path) -> dict:
    """Train one default through the CLI into ``cache`` and return its manifest entry."""
    command = [sys.executable, "-m", "core.train", spec["kind"], *spec["cli"]]
    env = {**os.environ, "DLP_CACHE_DIR": str(cache), "DLP_BUNDLED": "0", "TF_DETERMINISTIC_OPS": "1",
           "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.time()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=REPO, env=env, check=True)
    seconds = time.time() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    times = {"seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1),
             "date": time.strftime("%Y-%m-%d", time.gmtime())}
    return bundle(name, spec, cache, lambda record: times)


def adopt(name: str, spec: dict, cache: Path) -> dict:
    """Bundle a default the CLI already trained into ``cache`` (a build interrupted after its
    training finished, e.g. when the machine's session ended during the copy). Its times are the
    training's own, from the store record: wall-clock and CPU seconds of the training job, without
    the CLI's start-up."""
    return bundle(name, spec, cache, lambda record: {
        "seconds": round(record["duration_s"], 1), "cpu_seconds": record.get("metrics", {}).get("train_cpu_seconds"),
        "date": time.strftime("%Y-%m-%d", time.gmtime(record["created"])),
        "adopted": "trained by the CLI into a build's store, bundled from it by --adopt (times: the training job's)"})


def bundle(name: str, spec: dict, cache: Path, times: Callable[[dict], dict]) -> dict:
    """Copy the store's model for ``spec`` to assets/defaults/<name>/ and return its manifest entry;
    ``times`` gives the build's date and seconds from the store record."""
    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    store = ModelStore(cache / "models")
    _, key = JobManager(store).key_for(spec["kind"], spec["request"])
    entry = store.get(key)
    if entry is None:
        raise SystemExit(f"{name}: the CLI finished but the store has no entry {key}")
    folder = DEFAULTS_DIR / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = {}
    for file_name in entry.record["files"]:
        shutil.copyfile(entry.path / file_name, folder / file_name)
        files[file_name] = {"sha256": file_sha256(folder / file_name), "bytes": (folder / file_name).stat().st_size}
    record = {k: v for k, v in entry.record.items() if k not in RECORD_FIELDS_NOT_SHIPPED}
    return {
        "kind": spec["kind"],
        "title": record.get("title"),
        "request": spec["request"],
        "config": record["config"],
        "key": key,
        "pages": spec["pages"],
        "data_fingerprint": record.get("data_fingerprint") or record.get("corpus_fingerprint"),
        "metrics": record.get("metrics", {}),
        "files": files,
        "built": {"command": " ".join(["python -m core.train", spec["kind"], *spec["cli"]]),
                  "by": "scripts/build_defaults.py", **times(entry.record),
                  "machine": platform.machine(), "cores": os.cpu_count(), **library_versions()},
        "record": record,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"defaults to rebuild (all by default): {', '.join(SPECS)}")
    parser.add_argument("--readme", action="store_true",
                        help="only rewrite assets/README.md's table of the bundled models from the manifest")
    parser.add_argument("--adopt", metavar="CACHE", type=Path,
                        help="bundle models a build's CLI already trained into the store under CACHE "
                             "(the dlp-defaults-* folder of an interrupted build) instead of training")
    arguments = parser.parse_args(argv)
    if arguments.readme:
        write_readme(json.loads(MANIFEST.read_text(encoding="utf-8")))
        return 0
    names = arguments.names or list(SPECS)
    unknown = set(names) - set(SPECS)
    if unknown:
        parser.error(f"unknown default(s): {', '.join(sorted(unknown))}")
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {"defaults": {}}
    if arguments.adopt:
        for name in names:
            manifest["defaults"][name] = adopt(name, resolved_spec(name), arguments.adopt)
    else:
        with tempfile.TemporaryDirectory(prefix="dlp-defaults-") as cache:
            for name in names:
                item = resolved_spec(name)
                print(f"== {name}: python -m core.train {item['kind']} {' '.join(item['cli'])}", flush=True)
                manifest["defaults"][name] = train(name, item, Path(cache))
    manifest["format"] = 1
    manifest["defaults"] = {name: manifest["defaults"][name] for name in SPECS if name in manifest["defaults"]}
    total = sum(f["bytes"] for d in manifest["defaults"].values() for f in d["files"].values())
    manifest["total_bytes"] = total
    MANIFEST.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {MANIFEST.relative_to(REPO)}: {len(manifest['defaults'])} defaults, {total / 1e6:.2f} MB of files")
    write_readme(manifest)
    return 0


def write_readme(manifest: dict) -> None:
    README.write_text(readme_with_table(README.read_text(encoding="utf-8"), manifest), encoding="utf-8")
    print(f"wrote {README.relative_to(REPO)}: the table of bundled models")


if __name__ == "__main__":
    sys.exit(main())
