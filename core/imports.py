"""The first imports of the heavy libraries, one thread at a time.

A class opening a freshly started server runs ten page scripts at once, each in its own
thread, and each starts importing TensorFlow, pandas and Plotly. Python breaks the lock
cycles between such concurrent imports by handing one thread a module that is still
half-initialised, seen here as "partially initialized module 'pandas'" and "module
'tensorflow' has no attribute 'Variable'". Importing them once, under one lock, before any
page runs makes every later import a dictionary lookup.

Once imported, their objects (about two million) are moved out of the cycle collector's sight
with ``gc.freeze``: they live as long as the process. Otherwise Python runs a full collection
only once the objects that survived since the last one outnumber a quarter of all long-lived
objects, here some 500,000, and each such collection walks all two million. Under a class's
load the garbage in reference cycles (Streamlit's and Plotly's) then piled up by 50-75 MB
between collections, and the server's heap grew with every new peak: 5-9 MB a minute in
4-minute load runs, against about 1 MB a minute once frozen (benchmarks/RESULTS.md).
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
