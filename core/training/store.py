"""The model store: trained models on disk, keyed by a hash of their config.

Each entry is a folder ``<root>/<key>/`` holding the model's files (for Keras
models a ``model.keras``) and ``record.json``: config, data fingerprint,
metrics, history, duration, timestamps and the sha256 of every file.

Writes are atomic: an entry is built in a ``.tmp-*`` folder and renamed into
place, so a process killed mid-save leaves at most a ``.tmp-*`` folder, which
readers ignore and the next store cleans up. An entry whose record is missing,
unreadable or does not match its files is reported as a problem and treated
as absent, so it is rebuilt. Nothing is pickled: Keras models are saved in the
``.keras`` format and loaded with ``safe_mode=True``.

Several processes (on one machine, or several sharing the folder) can use one store: an entry
is swapped into place under an exclusive lock on ``<root>/.lock`` (``flock``; over NFS the
kernel turns it into a POSIX lock), and read under a shared one, so two writers of one key
leave one whole entry (the last) and a reader never sees the gap between the old entry and
the new one, or a record with the other version's files.

When the cache folder cannot be written, the store keeps entries in memory for
the life of the process and says so in :attr:`ModelStore.warning`. A write that fails
midway (the disk full, say) removes what it had written and raises; the entries already
on disk stay readable, and the caller may keep that model in memory (:meth:`keep_in_memory`).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from core.paths import store_dir

RECORD = "record.json"
LOCK = ".lock"  # the lock file that processes sharing the store take turns on
FORMAT_VERSION = 1
STALE_TMP_SECONDS = 3600.0

Saver = Callable[[Any, Path], None]
Loader = Callable[[Path], Any]


def config_key(config: dict) -> str:
    """A stable 16-hex-digit key for a JSON-able config."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


_checked: dict[tuple, str] = {}  # file identity -> digest: every page rerun looks models up
SETTLED_SECONDS = 2.0  # younger files are always hashed again


def _sha256(path: Path) -> str:
    """The file's sha256, remembered for files that have settled.

    File times come from the kernel's coarse clock (a few ms per tick), so two writers of one key
    can leave files of equal size and mtime: a digest remembered by (path, size, mtime) was then
    the other version's. A file's inode tells apart files that coexisted; one written after an
    older one was deleted (which may reuse its inode) is at least ``SETTLED_SECONDS`` younger,
    so only files older than that are remembered."""
    stat = path.stat()
    identity = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if identity in _checked:
        return _checked[identity]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if time.time() - stat.st_mtime > SETTLED_SECONDS:
        if len(_checked) > 1000:
            _checked.clear()
        _checked[identity] = digest.hexdigest()
    return digest.hexdigest()


@dataclass
class Entry:
    key: str
    record: dict
    path: Path | None  # None for in-memory entries
    obj: Any = None  # the live object, for in-memory entries

    @property
    def config(self) -> dict:
        return self.record.get("config", {})

    @property
    def metrics(self) -> dict:
        return self.record.get("metrics", {})


@dataclass
class ModelStore:
    root: Path = field(default_factory=store_dir)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.problems: list[str] = []
        self.warning: str | None = None
        self._memory: dict[str, Entry] = {}
        self._lock = threading.Lock()
        self.writable = self._check_writable()
        if self.writable:
            self._clean_stale_tmp()

    # ---- health ---------------------------------------------------------
    def _check_writable(self) -> bool:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"ok")
            probe.unlink()
            return True
        except OSError as error:
            self.warning = (
                f"The model cache folder {self.root} cannot be written ({error.strerror or error}). "
                "Trained models are kept in memory only and will be lost when the app stops."
            )
            return False

    def _clean_stale_tmp(self) -> None:
        now = time.time()
        for tmp in self.root.glob(".tmp-*"):
            try:
                if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                    shutil.rmtree(tmp, ignore_errors=True)
            except OSError:
                pass

    def _problem(self, message: str) -> None:
        with self._lock:
            if message not in self.problems:
                self.problems.append(message)

    @contextlib.contextmanager
    def _locked(self, exclusive: bool):
        """The store's lock across processes, and across threads too: each call opens its own
        descriptor (flock locks belong to one open file, which threads sharing it would share).
        A store whose folder is read-only is read without the lock: nobody can swap entries in it."""
        try:
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            if exclusive or not self.root.is_dir():
                raise
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    # ---- reading --------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        """The entry for ``key`` if it exists and is intact, else None."""
        if key in self._memory:
            return self._memory[key]
        if not self.root.is_dir():
            return None
        with self._locked(exclusive=False):
            return self._read(key)

    def _read(self, key: str) -> Entry | None:
        folder = self.root / key
        record_path = folder / RECORD
        if not folder.is_dir():
            return None
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or record.get("key") != key:
                raise ValueError("the record does not belong to this entry")
            for name, digest in record.get("files", {}).items():
                if _sha256(folder / name) != digest:
                    raise ValueError(f"{name} does not match its checksum")
        except FileNotFoundError:
            self._problem(f"Store entry {key} is incomplete (no record); it will be rebuilt.")
            return None
        except (OSError, ValueError) as error:
            self._problem(f"Store entry {key} is corrupt ({error}); it will be rebuilt.")
            return None
        return Entry(key, record, folder)

    def entries(self, kind: str | None = None) -> list[Entry]:
        """Every intact entry, newest first."""
        found: dict[str, Entry] = dict(self._memory)
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.is_dir() and not folder.name.startswith("."):
                    entry = self.get(folder.name)
                    if entry is not None:
                        found[entry.key] = entry
        chosen = [e for e in found.values() if kind is None or e.record.get("kind") == kind]
        return sorted(chosen, key=lambda e: e.record.get("created", 0), reverse=True)

    def load(self, entry: Entry, loader: Loader) -> Any:
        if entry.obj is not None:
            return entry.obj
        assert entry.path is not None
        with self._locked(exclusive=False):  # not while another process swaps the folder
            if entry.path.parent == self.root:
                current = self._read(entry.key)
                if current is not None and current.record.get("updated") != entry.record.get("updated"):
                    entry.record = current.record  # replaced since it was read: describe what is loaded
            return loader(entry.path)

    # ---- writing --------------------------------------------------------
    def put(self, key: str, obj: Any, record: dict, saver: Saver) -> Entry:
        """Save ``obj`` with ``saver(obj, folder)`` and its record, atomically."""
        now = time.time()
        record = {"format": FORMAT_VERSION, "key": key, "created": now, **record, "updated": now}
        if not self.writable:
            return self.keep_in_memory(key, obj, record)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        try:
            saver(obj, tmp)
            record["files"] = {
                p.name: _sha256(p) for p in sorted(tmp.iterdir()) if p.name != RECORD
            }
            record_tmp = tmp / (RECORD + ".partial")
            record_tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
            os.replace(record_tmp, tmp / RECORD)
            _fsync_dir(tmp)
            self._swap_into_place(tmp, self.root / key)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Entry(key, record, self.root / key)

    def keep_in_memory(self, key: str, obj: Any, record: dict) -> Entry:
        """An entry that lives in this process only (the disk refused it); it hides a disk entry
        of the same key for the life of the process."""
        now = time.time()
        entry = Entry(key, {"format": FORMAT_VERSION, "key": key, "created": now, **record, "updated": now}, None, obj)
        self._memory[key] = entry
        return entry

    def _swap_into_place(self, tmp: Path, final: Path) -> None:
        with self._locked(exclusive=True):
            trash = None
            if final.exists():
                trash = self.root / f".tmp-old-{uuid.uuid4().hex}"
                os.rename(final, trash)
            os.rename(tmp, final)
            _fsync_dir(self.root)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)

    def update_record(self, key: str, **changes: Any) -> None:
        """Rewrite an entry's record (for example after more training)."""
        entry = self.get(key)
        if entry is None:
            return
        entry.record.update(changes, updated=time.time())
        if entry.path is None:
            return
        with self._locked(exclusive=True):  # not into a folder another process swaps out
            tmp = entry.path / (RECORD + f".{uuid.uuid4().hex}.partial")
            try:
                tmp.write_text(json.dumps(entry.record, indent=2, default=str), encoding="utf-8")
                os.replace(tmp, entry.path / RECORD)
            except OSError:  # the disk full, say: the old record stays, nothing half-written is left
                tmp.unlink(missing_ok=True)
                raise

    def delete(self, key: str) -> None:
        self._memory.pop(key, None)
        folder = self.root / key
        if not self.writable:
            return
        trash = self.root / f".tmp-del-{uuid.uuid4().hex}"
        with self._locked(exclusive=True):
            try:
                os.rename(folder, trash)
            except FileNotFoundError:  # not there, or another process deleted it first
                return
        shutil.rmtree(trash, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- Keras helpers ---------------------------------------------------------

KERAS_FILE = "model.keras"


def save_keras(model: Any, folder: Path) -> None:
    """The model's architecture and weights, without its optimizer's state: :func:`load_keras`
    never compiles (``compile=False``), and Adam's two moments per weight would triple the file
    (the bundled Fast CNN: 7.5 MB with them, 2.5 MB without)."""
    if getattr(model, "optimizer", None) is not None:
        # The same layers and names from the config, never compiled (keras.models.clone_model
        # would compile the copy with the optimizer again).
        bare = model.__class__.from_config(model.get_config())
        bare.set_weights(model.get_weights())
        model = bare
    model.save(folder / KERAS_FILE)


def load_keras(folder: Path) -> Any:
    import keras

    return keras.saving.load_model(folder / KERAS_FILE, safe_mode=True, compile=False)
