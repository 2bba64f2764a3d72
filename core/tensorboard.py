"""The real TensorBoard on the runs folder, one per app process, stopped with it; and the
projector run its Projector tab shows.

TensorBoard serves under ``/tensorboard`` (``--path_prefix``), so a reverse proxy can pass that
path to it beside the app (README, "Serving a course"). Settings, from the environment:
``DLP_TENSORBOARD_PORT`` (default: a free port), ``DLP_TENSORBOARD_HOST`` (the address it listens
on, default 127.0.0.1) and ``DLP_TENSORBOARD_URL`` (the address the Runs page links to, e.g.
``/tensorboard/`` behind a proxy; default ``http://127.0.0.1:<port>/tensorboard/``).

TensorBoard runs as ``python -m core.tensorboard``: TensorBoard itself, plus a thread that reads
its standard input, a pipe from the app, and exits when the pipe closes, which happens whenever the
app's process ends (Ctrl+C, SIGTERM or SIGKILL). TensorBoard's data server, its own child, exits
the same way when TensorBoard does (``--die-after-stdin``).
"""
from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from core.errors import AppError
from core.paths import cache_dir, runs_dir

PATH_PREFIX = "/tensorboard"
ROOT = Path(__file__).resolve().parents[1]

_process: subprocess.Popen | None = None
_url: str | None = None
_lock = threading.Lock()


def installed() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _public_url(port: int) -> str:
    url = os.environ.get("DLP_TENSORBOARD_URL") or f"http://127.0.0.1:{port}{PATH_PREFIX}/"
    return url if url.endswith("/") else url + "/"


def _serving(port: int, logdir: Path) -> bool | None:
    """True if a TensorBoard on ``port`` serves ``logdir``; False if something else answers or
    it serves another folder; None if nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH_PREFIX}/data/environment",
                                    timeout=2) as response:
            environment = json.loads(response.read())
    except (OSError, ValueError):
        with socket.socket() as sock:
            return False if sock.connect_ex(("127.0.0.1", port)) == 0 else None
    return Path(str(environment.get("data_location", ""))).resolve() == logdir.resolve()


def ensure_running(logdir: Path | None = None, timeout: float = 60.0) -> str:
    """The URL the Runs page links to, once a TensorBoard answers on this machine: ours (started
    now if needed) or, on a fixed port, one another app process started on the same folder."""
    global _process, _url
    if not installed():
        raise AppError("TensorBoard is not installed: `pip install tensorboard`, then try again.")
    with _lock:
        if _process is not None and _process.poll() is None and _url:
            return _url
        logdir = Path(logdir or runs_dir())
        logdir.mkdir(parents=True, exist_ok=True)
        fixed = os.environ.get("DLP_TENSORBOARD_PORT")
        port = int(fixed) if fixed else _free_port()
        found = _serving(port, logdir) if fixed else None
        if found:  # another process of this app, on the same runs folder: share it
            return _public_url(port)
        if found is False:
            raise AppError(f"Port {port} (DLP_TENSORBOARD_PORT) is taken by another program; "
                           "choose another port.")
        host = os.environ.get("DLP_TENSORBOARD_HOST", "127.0.0.1")
        log = cache_dir() / "tensorboard.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as output:
            _process = subprocess.Popen(
                [sys.executable, "-m", "core.tensorboard", "--logdir", str(logdir), "--host", host,
                 "--port", str(port), "--path_prefix", PATH_PREFIX],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if _process.poll() is not None:
                _process = None
                if fixed and _serving(port, logdir):  # another app process started it just now
                    return _public_url(port)
                raise AppError(f"TensorBoard exited as it started; its messages are in {log}.")
            if _serving(port, logdir):
                _url = _public_url(port)
                return _url
            time.sleep(0.3)
        stop()
        raise AppError("TensorBoard did not answer within a minute.")


def running_url() -> str | None:
    """The URL of the TensorBoard this process started, while it runs."""
    with _lock:
        return _url if _process is not None and _process.poll() is None else None


def pid() -> int | None:
    """The process id of the TensorBoard this process started (None if none)."""
    with _lock:
        return _process.pid if _process is not None else None


def stop() -> None:
    """Stop our TensorBoard (its data server follows), waiting a few seconds for it."""
    global _process, _url
    with _lock:
        process, _process, _url = _process, None, None
    if process is not None and process.poll() is None:
        process.stdin.close()  # the watchdog's signal; terminate in case it is stuck
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


atexit.register(stop)


def _exit_when_the_app_ends() -> None:
    """In the TensorBoard process: the app holds our standard input open; end with it."""
    sys.stdin.buffer.read()
    os._exit(0)


PROJECTOR_RUN = "projector"


def write_projector(manager, points: int = 2000, root: Path | None = None) -> tuple[Path | None, list[str]]:
    """The TensorBoard run ``<runs>/projector`` that TensorBoard's Projector tab shows: one
    embedding per stored digit network, named by its title and layer (the last hidden layer's
    activations on ``points`` test images, labelled, with the network's prediction and thumbnails).

    TensorBoard's projector lists a run only if its data provider knows the folder as a run (it
    holds an event file) and its ``projector_config.pbtxt`` names a checkpoint or, as here, tensor
    files (``tensor_path``). Each network's bundle sits in a subfolder, rewritten only when the
    network was retrained; the run's config lists them all, newest network first.

    Returns the run's folder (None if no digit network is stored) and a sentence for each network
    left out (e.g. its data set cannot be loaded offline).
    """
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    from core.embeddings.projector_bundle import write_projector_bundle
    from core.embeddings.sources import DIGITS, digit_layers, source_points, stored_source

    entries = manager.store.entries(kind="digits")
    if not entries:
        return None, []
    run = Path(root or runs_dir()) / PROJECTOR_RUN
    run.mkdir(parents=True, exist_ok=True)
    combined, left_out = ProjectorConfig(), []
    for entry in entries:
        folder = run / entry.key[:16]
        stamp = {"updated": entry.record.get("updated"), "points": points}
        config_path, stamp_path = folder / "projector_config.pbtxt", folder / "written.json"
        if not (config_path.exists() and stamp_path.exists() and json.loads(stamp_path.read_text()) == stamp):
            source = stored_source(DIGITS, entry)
            try:
                layer = digit_layers(source, manager)[1]
                vectors = source_points(source, manager, layer, points)
            except AppError as error:
                left_out.append(f"{source.title}: {error}")
                continue
            # Not the points' names ("#17"): the Projector would label points by them.
            metadata = [{k: v for k, v in row.items() if k != "name"} for row in vectors.metadata()]
            write_projector_bundle(folder, vectors.vectors(), metadata, vectors.images,
                                   tensor_name=f"{source.title} — {layer}")
            stamp_path.write_text(json.dumps(stamp))
        for embedding in text_format.Parse(config_path.read_text(), ProjectorConfig()).embeddings:
            for holder, field in ((embedding, "tensor_path"), (embedding, "metadata_path"),
                                  (embedding.sprite, "image_path")):
                if getattr(holder, field):
                    setattr(holder, field, f"{folder.name}/{getattr(holder, field)}")
            combined.embeddings.append(embedding)
    kept = {entry.key[:16] for entry in entries}
    for folder in run.iterdir():  # networks deleted from the store
        if folder.is_dir() and folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
    _atomic_write(run / "projector_config.pbtxt", text_format.MessageToString(combined))
    if not any(run.glob("events.out.tfevents.*")):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        writer = EventFileWriter(str(run))  # an event file with no data: it makes the folder a run
        writer.close()
    return run, left_out


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


if __name__ == "__main__":  # the TensorBoard process that ensure_running starts
    threading.Thread(target=_exit_when_the_app_ends, name="exit-with-the-app", daemon=True).start()
    from tensorboard import main as tensorboard_main

    sys.argv = ["tensorboard", *sys.argv[1:]]
    tensorboard_main.run_main()
