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

Loading needs TensorFlow, which the home page never imports, so :func:`install_once` (called by
``get_manager``) waits until a page has imported it, then installs once per manager; other
sessions asking meanwhile wait for it, so they find the model too. ``DLP_BUNDLED=0`` turns
bundling off (the tests do, to start from an empty store).
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

from .data import MNIST_PATH, file_sha256
from .paths import ASSETS

DEFAULTS_DIR = ASSETS / "defaults"
MANIFEST = DEFAULTS_DIR / "manifest.json"
ENV = "DLP_BUNDLED"
REBUILD_HINT = "rebuild it with `python scripts/build_defaults.py`"

#: What scripts/build_defaults.py trains: name -> kind, CLI arguments, the config the pages ask
#: for by default (before normalisation), and the pages that use it.
SPECS: dict[str, dict] = {
    "fast_cnn": {"kind": "digits", "cli": ["--arch", "fast_cnn"], "request": {"arch": "fast_cnn"},
                 "pages": ["draw", "embeddings"]},
    "charlstm_shakespeare": {"kind": "charlstm", "cli": [], "request": {}, "pages": ["text", "embeddings"]},
}

#: Store bookkeeping that belongs to the build machine's store, not to the shipped model.
RECORD_FIELDS_NOT_SHIPPED = ("format", "key", "created", "updated", "files", "run_dir")


class BundleProblem(Exception):
    """Why one bundled default was not installed (a sentence for the user)."""


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


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
        from . import corpus

        return corpus.fingerprint(corpus.load_text(config["corpus"]))
    return None


def bundled_note(item: dict) -> dict:
    """The record's ``"bundled"`` entry, which the pages show next to "train it yourself"."""
    metrics = item.get("metrics", {})
    accuracy = metrics.get("test_accuracy")
    if item["kind"] == "charlstm":
        detail = f"validation loss {metrics.get('val_loss', float('nan')):.2f} nats per character"
    else:
        detail = "MNIST's 10,000 test digits"
    return {"test_accuracy": None if accuracy is None else float(accuracy),
            "note": f"Ready-made: trained with `{item['built']['command']}` by scripts/build_defaults.py "
                    f"({detail}). Train it yourself to watch it learn.",
            "name": item.get("name"), "built": item["built"].get("date")}


def install_defaults(manager: Any, manifest_path: Path = MANIFEST) -> list[str]:
    """Install every bundled default the store lacks; return the keys installed.

    Problems are added to ``manager.store.problems``; nothing here raises for a bad bundle.
    """
    store = manager.store
    try:
        defaults = read_manifest(manifest_path)["defaults"]
    except BundleProblem as problem:
        _report(store, str(problem))
        return []
    installed = []
    for name, item in defaults.items():
        try:
            key = _install_one(manager, name, {**item, "name": name}, manifest_path.parent / name)
        except BundleProblem as problem:
            _report(store, str(problem))
        else:
            if key:
                installed.append(key)
    return installed


def _install_one(manager: Any, name: str, item: dict, folder: Path) -> str | None:
    from .errors import AppError
    from .jobs import get_kind

    title = item.get("title") or name
    try:
        config, key = manager.key_for(item["kind"], item["request"])
        kind = get_kind(item["kind"])
    except (AppError, KeyError, TypeError) as error:
        raise BundleProblem(f"The bundled model '{name}' does not fit this version of the app ({error}); "
                            f"{REBUILD_HINT}. Its page offers training instead.") from error
    if key != item.get("key"):
        raise BundleProblem(f"The bundled {title} was built for other settings than its page now uses by "
                            f"default (store key {item.get('key')}, the page asks for {key}), so it was not "
                            f"installed; {REBUILD_HINT}. The page offers training instead.")
    if manager.store.get(key) is not None:
        return None  # already trained (or installed earlier): never replaced
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
            raise BundleProblem(f"The bundled {title} is damaged: assets/defaults/{folder.name}/{file_name} "
                                "does not match its checksum in the manifest. It was not installed; its "
                                f"page offers training instead (or {REBUILD_HINT}).")
        contents[file_name] = data
    if not contents:
        raise BundleProblem(f"The bundled {title} lists no files; {REBUILD_HINT}.")

    def write_files(_model: Any, target: Path) -> None:
        for file_name, data in contents.items():
            (target / file_name).write_bytes(data)

    with tempfile.TemporaryDirectory(prefix="dlp-bundled-") as scratch:
        write_files(None, Path(scratch))
        try:
            kind.load(Path(scratch))  # the kind's own loader: Keras in safe mode, NumPy without pickle
        except Exception as error:  # whatever the loader raises, the page must go on
            raise BundleProblem(f"The bundled {title} could not be loaded ({type(error).__name__}: {error}); "
                                f"it was not installed, so its page offers training instead.") from error
    record = {**item["record"], "kind": item["kind"], "config": config, "bundled": bundled_note(item)}
    manager.store.put(key, None, record, write_files)
    return key


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _report(store: Any, message: str) -> None:
    if message not in store.problems:
        store.problems.append(message)


_done: "weakref.WeakSet[Any]" = weakref.WeakSet()
_lock = threading.Lock()


def install_once(manager: Any) -> Any:
    """Install the defaults into ``manager``'s store the first time a page has TensorFlow loaded;
    return ``manager``. Cheap on every later call."""
    if manager in _done or not enabled() or not _heavy_imports_done():
        return manager
    with _lock:  # a second session arriving meanwhile waits, then finds the models
        if manager not in _done:
            try:
                install_defaults(manager)
            finally:
                _done.add(manager)
    return manager


def _heavy_imports_done() -> bool:
    """Whether ``core.imports.import_heavy`` has loaded TensorFlow and Keras (every page but Home
    calls it first): loading a model then costs no import, and Home stays free of TensorFlow."""
    from . import imports

    return {"tensorflow", "keras"} <= imports._imported
