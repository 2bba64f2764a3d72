"""Start the real TensorBoard on the runs folder, on a free localhost port, once per app."""
from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from core.errors import AppError
from core.paths import runs_dir

_process: subprocess.Popen | None = None
_url: str | None = None
_lock = threading.Lock()


def installed() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_running(logdir: Path | None = None, timeout: float = 60.0) -> str:
    """The URL of a running TensorBoard (started now if needed)."""
    global _process, _url
    if not installed():
        raise AppError("TensorBoard is not installed: `pip install tensorboard`, then try again.")
    with _lock:
        if _process is not None and _process.poll() is None and _url:
            return _url
        logdir = Path(logdir or runs_dir())
        logdir.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        _process = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1",
             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + timeout
        while time.time() < deadline:
            if _process.poll() is not None:
                raise AppError("TensorBoard exited as it started; run "
                                      f"`tensorboard --logdir {logdir}` in a terminal to see why.")
            try:
                with urllib.request.urlopen(url, timeout=1):
                    _url = url
                    return url
            except OSError:
                time.sleep(0.3)
        _process.kill()
        raise AppError("TensorBoard did not answer within a minute.")


def stop() -> None:
    global _process, _url
    with _lock:
        if _process is not None:
            _process.terminate()
        _process, _url = None, None


def write_latest_projector(manager, points: int = 2000) -> Path | None:
    """A projector bundle (penultimate layer of the newest digit network on test digits) in
    ``<runs>/projector``, where TensorBoard's Projector tab finds it. None if nothing is trained."""
    import numpy as np

    from core.data import load_mnist
    from core.digits.models import penultimate_layer
    from core.embeddings.projection import layer_activations
    from core.embeddings.projector_bundle import write_projector_bundle

    entries = manager.store.entries(kind="digits")
    if not entries:
        return None
    entry = entries[0]
    model = manager.load_entry("digits", entry)
    mnist = load_mnist()
    images = mnist.x_test[:points]
    layer = penultimate_layer(model)
    vectors = layer_activations(model, layer, images.astype(np.float32) / 255)
    metadata = [{"label": int(y)} for y in mnist.y_test[:points]]
    name = f"{entry.record.get('title', entry.key)} — {layer}"
    return write_projector_bundle(runs_dir() / "projector", vectors, metadata, images, tensor_name=name)
