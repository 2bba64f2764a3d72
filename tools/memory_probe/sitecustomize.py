"""A memory probe inside a server started by tools.memory.probe_env (Python imports ``sitecustomize``
from the path at start-up). Without ``DLP_MEMORY_PROBE`` it does nothing.

A daemon thread watches the folder ``$DLP_MEMORY_PROBE`` for ``request-<name>`` files and answers each
with ``report-<name>.json``: the process's size by kind of mapping, glibc's heap, Python's object counts
by type after a full collection, and the app's own holders — the job manager's loaded models,
projections, ``st.cache_resource`` entries, each session's state, Streamlit's media files — each with
an estimate of the bytes it holds (NumPy arrays, Keras weights, bytes and strings, walked to a depth).
With ``DLP_MEMORY_TRACE=1``, tracemalloc's largest allocation sites too.
"""
from __future__ import annotations

import os
import threading

if os.environ.get("DLP_MEMORY_PROBE"):
    # Only this process answers: the processes it starts (TensorBoard, say) must not inherit the probe.
    _FOLDER = os.environ.pop("DLP_MEMORY_PROBE")
    _TRACE = os.environ.pop("DLP_MEMORY_TRACE", "") == "1"
    if _TRACE:
        import tracemalloc

        tracemalloc.start(1)

    def _serve() -> None:
        import json
        import time
        from pathlib import Path

        folder = Path(_FOLDER)
        while True:
            for request in sorted(folder.glob("request-*")):
                name = request.name.removeprefix("request-")
                request.unlink(missing_ok=True)
                try:
                    from memory_report import report

                    data = report()
                except Exception as error:  # a probe must not take the server down
                    data = {"error": f"{type(error).__name__}: {error}"}
                partial = folder / f".report-{name}.json"
                partial.write_text(json.dumps(data, indent=1, default=str))
                partial.rename(folder / f"report-{name}.json")
            time.sleep(0.2)

    threading.Thread(target=_serve, name="dlp-memory-probe", daemon=True).start()
