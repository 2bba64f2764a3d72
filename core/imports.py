"""The first imports of the heavy libraries, one thread at a time.

A class opening a freshly started server runs ten page scripts at once, each in its own
thread, and each starts importing TensorFlow, pandas and Plotly. Python breaks the lock
cycles between such concurrent imports by handing one thread a module that is still
half-initialised, seen here as "partially initialized module 'pandas'" and "module
'tensorflow' has no attribute 'Variable'". Importing them once, under one lock, before any
page runs makes every later import a dictionary lookup.
"""
from __future__ import annotations

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
        for name in names:
            if name not in _imported:
                importlib.import_module(name)
                _imported.add(name)
