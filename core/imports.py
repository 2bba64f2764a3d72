"""The first imports of the heavy libraries, one thread at a time.

A class opening a freshly started server runs ten page scripts at once, each in its own
thread, and each starts importing TensorFlow, pandas and Plotly. Python breaks the lock
cycles between such concurrent imports by handing one thread a module that is still
half-initialised, seen here as "partially initialized module 'pandas'" and "module
'tensorflow' has no attribute 'Variable'". Importing them once, under one lock, before any
page runs makes every later import a dictionary lookup.

Once imported, the objects the cycle collector tracks (about 416,000 on a server) are moved out
of its sight with ``gc.freeze``: they live as long as the process. Otherwise Python runs a full
collection only once the objects that survived since the last one outnumber a quarter of all
long-lived ones, and each such collection walks them all. Under a class's load the garbage in
reference cycles (Streamlit's and Plotly's) piled up by 50-75 MB between those rare collections,
and the server's heap grew with every new peak. Frozen, full collections run every few seconds
and the saw-tooth is gone; see benchmarks/RESULTS.md for the 4-minute load runs before and after.
"""
from __future__ import annotations

import gc
import importlib
import threading

HEAVY = ("pandas", "plotly.graph_objects", "tensorflow", "keras")

_lock = threading.Lock()
_imported: set[str] = set()  # fully imported through here (sys.modules also holds half-done ones)


def import_heavy(names: tuple[str, ...] = HEAVY) -> None:
    """Import ``names`` unless done; a thread arriving meanwhile waits for the first to finish."""
    if _imported.issuperset(names):
        return
    with _lock:
        new = [name for name in names if name not in _imported]
        for name in new:
            importlib.import_module(name)
            _imported.add(name)
        if new:
            gc.collect()  # what is garbage now must not be frozen with the rest
            gc.freeze()
