"""Ready-made models shipped in ``assets/defaults/``, installed into a fresh model store.

A page opened for the first time finds its default model already trained: the Fast CNN for Draw
and Embeddings, the character LSTM on Tiny Shakespeare for Text. ``scripts/build_defaults.py``
makes them with the app's own CLI and writes ``assets/defaults/manifest.json`` (config, store key,
data fingerprint, metrics, sha256 and size of every file, how they were built).

Installing one checks, in order: the page still asks for the config it was built with (same
store key), the data it learned from is the data the app ships (same fingerprint), every file
matches its manifest checksum, and the kind's own loader reads it (Keras in safe mode). Only
then are the verified bytes written into the store, atomically, through ``ModelStore.put``, with
a ``"bundled"`` note in the record, which the pages show ("Bundled model — train it yourself").
A store entry that already exists is never replaced. Anything wrong is reported in
``store.problems`` (shown on every page) and that default is left out: the page then offers
training as on any fresh store.

The checks that need no TensorFlow (all but the load) are cheap: :func:`check_once` runs on every page, Home
included, and a damaged file is reported at once. Loading needs TensorFlow, which Home never
imports: :func:`install_once` is called explicitly once a page has loaded it (app.py, after
``import_heavy``; about 0.7 s, once per server); sessions asking meanwhile wait, then find the
models. ``DLP_BUNDLED=0`` turns bundling off (the test suite does, to start from an empty store).
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.data import MNIST_PATH, file_sha256
from core.paths import ASSETS

DEFAULTS_DIR = ASSETS / "defaults"
MANIFEST = DEFAULTS_DIR / "manifest.json"
ENV = "DLP_BUNDLED"
REBUILD_HINT = "rebuild it with `python scripts/build_defaults.py`"

#: What scripts/build_defaults.py trains: name -> kind, CLI arguments, the config the pages ask
#: for by default (before normalisation), and the pages that use it.
SPECS: dict[str, dict] = {
    "fast_cnn": {"kind": "digits", "cli": ["--arch", "fast_cnn"], "request": {"arch": "fast_cnn"},
                 "pages": ["draw", "embeddings"]},
    # The Text page's first preset ("char-rnn"); a function, so this module imports no model code.
    "charlstm_shakespeare": {"kind": "charlstm", "request": "core.text.charlstm:bundled_request",
                             "pages": ["text", "embeddings"]},
}


def spec(name: str) -> dict:
    """SPECS[name] with its request resolved and the CLI arguments that train it."""
    import importlib
    import json as json_module

    item = dict(SPECS[name])
    if isinstance(item["request"], str):
        module, _, function = item["request"].partition(":")
        item["request"] = getattr(importlib.import_module(module), function)()
    if "cli" not in item:
        item["cli"] = [part for key, value in item["request"].items()
                       for part in ("--set", f"{key}={value if isinstance(value, str) else json_module.dumps(value)}")]
    return item

#: Store bookkeeping that belongs to the build machine's store, not to the shipped model.
RECORD_FIELDS_NOT_SHIPPED = ("format", "key", "created", "updated", "files", "run_dir")


class BundleProblem(Exception):
    """Why one bundled default was not installed (a sentence for the user)."""


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def manifest_location() -> Path:
    """``assets/defaults/manifest.json``, or the one in ``$DLP_DEFAULTS_DIR`` (tests point it at a
    damaged copy)."""
    folder = os.environ.get("DLP_DEFAULTS_DIR")
    return Path(folder) / MANIFEST.name if folder else MANIFEST


def read_manifest(path: Path = MANIFEST) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest.get("defaults"), dict):
            raise ValueError("it has no 'defaults'")
        return manifest
    except FileNotFoundError:
        return {"defaults": {}}  # a checkout without defaults: every page offers training
    except (OSError, ValueError, AttributeError) as error:
        raise BundleProblem(f"The list of bundled models ({path.name}) cannot be read ({error}); "
                            "no ready-made model was installed, so the pages offer training.") from error


def current_fingerprint(kind: str, config: dict) -> str | None:
    """The fingerprint of the data this config trains on, as the kind's training records it."""
    if kind == "digits" and config.get("dataset") == "mnist":
        return "sha256:" + file_sha256(MNIST_PATH)
    if kind == "charlstm":
        from core.text import corpus
        return corpus.fingerprint(corpus.load_text(config["corpus"]))
    return None


def bundled_note(item: dict) -> dict:
    """The record's ``"bundled"`` entry, which the pages show next to "train it yourself"."""
    metrics = item.get("metrics", {})
    accuracy = metrics.get("test_accuracy")
    if item["kind"] == "charlstm":
        held = metrics.get("val_chars")
        detail = (f"validation loss {metrics.get('val_loss', float('nan')):.2f} nats per character"
                  + (f" over the {held:,} held-out characters" if held else ""))
    else:
        detail = "MNIST's 10,000 test digits"
    built = item["built"]
    took = ""
    if built.get("seconds"):
        cpu = f", {_duration(built['cpu_seconds'])} of CPU time" if built.get("cpu_seconds") else ""
        took = f" in {_duration(built['seconds'])}{cpu} on {built.get('cores', 'the build machine’s')} cores"
    return {"test_accuracy": None if accuracy is None else float(accuracy),
            "note": f"Ready-made: trained with `{built['command']}` by scripts/build_defaults.py{took} "
                    f"({detail}). Train it yourself to watch it learn.",
            "name": item.get("name"), "built": item["built"].get("date")}


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{max(1, minutes)} min"


README = DEFAULTS_DIR.parent / "README.md"
#: The part of assets/README.md written from the manifest by :func:`readme_table` (never by hand).
README_BEGIN = "<!-- bundled models: written by scripts/build_defaults.py from manifest.json -->"
README_END = "<!-- end of bundled models -->"
BUDGET_MB = 25


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


def readme_table(manifest: dict) -> str:
    """The bundled models as assets/README.md lists them: every figure (sizes, scores, build
    times) read from the manifest, so the two cannot disagree."""
    lines = ["| folder | model | score | files | built |", "| --- | --- | --- | --- | --- |"]
    total = 0
    for name, item in manifest["defaults"].items():
        metrics, built = item.get("metrics", {}), item.get("built", {})
        if metrics.get("test_accuracy") is not None:
            score = f"test accuracy {100 * metrics['test_accuracy']:.2f} % (MNIST's 10,000 test digits)"
        else:
            held = metrics.get("val_chars")
            score = (f"held-out loss {metrics.get('val_loss', float('nan')):.3f} nats per character"
                     + (f" ({held:,} characters)" if held else ""))
        files = ", ".join(f"`{file}` {_megabytes(info['bytes'])}" for file, info in item["files"].items())
        total += sum(info["bytes"] for info in item["files"].values())
        took = ""
        if built.get("seconds"):
            cpu = f", {_duration(built['cpu_seconds'])} of CPU" if built.get("cpu_seconds") else ""
            cores = f" on {built['cores']} cores" if built.get("cores") else ""
            took = f" in {_duration(built['seconds'])}{cpu}{cores}"
        params = f", {metrics['params']:,} parameters" if metrics.get("params") else ""
        lines.append(f"| `defaults/{name}/` | {item.get('title', name)}{params} | {score} | {files} | "
                     f"`{built.get('command', '?')}`, {built.get('date', '?')}{took} |")
    lines.append("")
    lines.append(f"Together {_megabytes(total)} (budget {BUDGET_MB} MB).")
    return "\n".join(lines)


def readme_with_table(readme: str, manifest: dict) -> str:
    """``readme`` with the part between the markers replaced by :func:`readme_table`."""
    head, found, rest = readme.partition(README_BEGIN)
    _, found_end, tail = rest.partition(README_END)
    if not found or not found_end:
        raise ValueError(f"{README} lacks the markers {README_BEGIN!r} … {README_END!r}")
    return f"{head}{README_BEGIN}\n{readme_table(manifest)}\n{README_END}{tail}"


@dataclass
class Checked:
    """A bundled default that passed the checks that need no TensorFlow, with its verified bytes."""

    name: str
    title: str
    kind: str
    key: str
    config: dict
    contents: dict[str, bytes]
    record: dict


def check_defaults(manager: Any, manifest_path: Path | None = None) -> list[Checked]:
    """The bundled defaults that fit this app and are intact (no TensorFlow needed: cheap enough
    for the home page, so a damaged file is reported on the very first page).

    Problems are added to ``manager.store.problems``; nothing here raises for a bad bundle.
    """
    manifest_path = manifest_path or manifest_location()
    try:
        defaults = read_manifest(manifest_path)["defaults"]
    except BundleProblem as problem:
        _report(manager.store, str(problem))
        return []
    checked = []
    for name, item in defaults.items():
        try:
            checked.append(_check_one(manager, name, item, manifest_path.parent / name))
        except BundleProblem as problem:
            _report(manager.store, str(problem))
    return checked


def install_checked(manager: Any, checked: list[Checked]) -> list[str]:
    """Load each checked default with its kind's loader and write it into the store unless the
    store has that key already; return the keys installed."""
    installed = []
    for item in checked:
        try:
            if _install_one(manager, item):
                installed.append(item.key)
        except BundleProblem as problem:
            _report(manager.store, str(problem))
    return installed


def install_defaults(manager: Any, manifest_path: Path | None = None) -> list[str]:
    """Check and install every bundled default the store lacks; return the keys installed."""
    return install_checked(manager, check_defaults(manager, manifest_path))


def _check_one(manager: Any, name: str, item: dict, folder: Path) -> Checked:
    from core.errors import AppError

    title = item.get("title") or name
    try:
        config, key = manager.key_for(item["kind"], item["request"])
    except (AppError, KeyError, TypeError) as error:
        raise BundleProblem(f"The bundled model '{name}' does not fit this version of the app ({error}); "
                            f"{REBUILD_HINT}. Its page offers training instead.") from error
    if key != item.get("key"):
        raise BundleProblem(f"The bundled {title} was built for other settings than its page now uses by "
                            f"default (store key {item.get('key')}, the page asks for {key}), so it was not "
                            f"installed; {REBUILD_HINT}. The page offers training instead.")
    if current_fingerprint(item["kind"], config) != item.get("data_fingerprint"):
        raise BundleProblem(f"The bundled {title} was trained on other data than the app now ships "
                            f"(data fingerprint differs), so it was not installed; {REBUILD_HINT}.")
    contents = {}
    for file_name, expected in item.get("files", {}).items():
        try:
            data = (folder / file_name).read_bytes()
        except OSError as error:
            raise BundleProblem(f"The bundled {title} is incomplete ({folder.name}/{file_name}: "
                                f"{error.strerror or error}); it was not installed, so its page offers "
                                "training instead.") from error
        if _digest(data) != expected.get("sha256") or len(data) != expected.get("bytes"):
            raise BundleProblem(f"The bundled {title} is damaged: {folder.name}/{file_name} in "
                                f"{folder.parent} does not match its checksum in the manifest. It was not "
                                f"installed; its page offers training instead (or {REBUILD_HINT}).")
        contents[file_name] = data
    if not contents:
        raise BundleProblem(f"The bundled {title} lists no files; {REBUILD_HINT}.")
    record = {**item["record"], "kind": item["kind"], "config": config,
              "bundled": bundled_note({**item, "name": name})}
    return Checked(name, title, item["kind"], key, config, contents, record)


def _install_one(manager: Any, item: Checked) -> bool:
    from core.training.kinds import get_kind

    if manager.store.get(item.key) is not None:
        return False  # already trained (or installed earlier): never replaced

    def write_files(_model: Any, target: Path) -> None:
        for file_name, data in item.contents.items():
            (target / file_name).write_bytes(data)

    with tempfile.TemporaryDirectory(prefix="dlp-bundled-") as scratch:
        write_files(None, Path(scratch))
        try:
            get_kind(item.kind).load(Path(scratch))  # the kind's own loader: Keras in safe mode, no pickle
        except Exception as error:  # whatever the loader raises, the page must go on
            raise BundleProblem(f"The bundled {item.title} could not be loaded ({type(error).__name__}: "
                                f"{error}); it was not installed, so its page offers training instead.") from error
    manager.store.put(item.key, None, item.record, write_files)
    return True


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _report(store: Any, message: str) -> None:
    if message not in store.problems:
        store.problems.append(message)


_checked: "weakref.WeakKeyDictionary[Any, list[Checked]]" = weakref.WeakKeyDictionary()
_done: "weakref.WeakSet[Any]" = weakref.WeakSet()
_lock = threading.Lock()


def check_once(manager: Any) -> Any:
    """Check the bundled defaults for ``manager``'s store the first time (no TensorFlow: cheap
    enough for the home page, whose notice then shows a damaged file), and return ``manager``."""
    if manager in _done or not enabled():
        return manager
    with _lock:
        if manager not in _done and manager not in _checked:
            _checked[manager] = check_defaults(manager)
    return manager


def install_once(manager: Any) -> Any:
    """Install the checked defaults the store lacks, the first time (call it once TensorFlow is
    loaded: the kinds' loaders need it), and return ``manager``. Cheap on every later call; a
    second session arriving meanwhile waits, then finds the models."""
    if manager in _done or not enabled():
        return manager
    check_once(manager)
    with _lock:
        if manager not in _done:
            try:
                install_checked(manager, _checked.pop(manager, []))
            finally:
                _done.add(manager)
    return manager
