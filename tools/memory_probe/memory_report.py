"""What holds a running server's memory: the report the probe (sitecustomize.py) writes on request.

Every part is guarded: a holder the app no longer has (renamed in a refactor) reports its error
instead of failing the whole report. Sizes are estimates: NumPy arrays by ``nbytes``, Keras models by
their weights, bytes and strings by length, containers and objects walked to a bounded depth, each
object counted once per holder.
"""
from __future__ import annotations

import collections
import ctypes
import gc
import re
import sys
import time

MB = 2**20


def _size(value, seen: set, depth: int = 0) -> int:
    if id(value) in seen or depth > 8:
        return 0
    seen.add(id(value))
    kind = type(value)
    module = kind.__module__ or ""
    if kind.__name__ in ("ndarray", "memmap"):  # a view holds its base: count the base, once
        return int(value.nbytes) if value.base is None else _size(value.base, seen, depth)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, str):
        return len(value)
    if module.startswith(("keras", "tensorflow")):
        total = 0
        for weight in getattr(value, "weights", None) or []:
            if id(weight) not in seen:
                seen.add(id(weight))
                total += _prod(weight.shape) * getattr(weight.dtype, "size", 4)
        return total
    if isinstance(value, dict):
        return sum(_size(k, seen, depth + 1) + _size(v, seen, depth + 1) for k, v in list(value.items()))
    if isinstance(value, (list, tuple, set, frozenset, collections.deque)):
        return sum(_size(v, seen, depth + 1) for v in list(value))
    if module.startswith("plotly"):
        return _size(getattr(value, "_data", None), seen, depth + 1) + _size(getattr(value, "_layout", None), seen,
                                                                               depth + 1)
    attributes = getattr(value, "__dict__", None)
    if attributes is not None and not isinstance(value, type):
        return _size(attributes, seen, depth + 1)
    slots = getattr(kind, "__slots__", ())
    return sum(_size(getattr(value, s, None), seen, depth + 1) for s in slots if isinstance(s, str))


def _prod(shape) -> int:
    total = 1
    for n in shape:
        total *= int(n or 0)
    return total


def size_mb(value) -> float:
    return round(_size(value, set()) / MB, 1)


def _guarded(function):
    try:
        return function()
    except Exception as error:  # a holder renamed or gone: say so, keep the rest of the report
        return {"error": f"{type(error).__name__}: {error}"}


def process() -> dict:
    """Resident size by kind of mapping (/proc/self/smaps): heap, anonymous, files (shared libraries)."""
    groups: dict[str, float] = collections.defaultdict(float)
    name = "?"
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                path = parts[5] if len(parts) > 5 else ""
                if not path:
                    name = "anonymous"
                elif path.startswith("["):
                    name = path
                elif ".so" in path:
                    name = "shared libraries"
                else:
                    name = "other files"
            elif line.startswith("Rss:"):
                groups[name] += int(line.split()[1]) / 1024
    with open("/proc/self/status") as status:
        rss = next(int(l.split()[1]) / 1024 for l in status if l.startswith("VmRSS:"))
    return {"rss_mb": round(rss, 1), "rss_by_mapping_mb": {k: round(v, 1) for k, v in sorted(
        groups.items(), key=lambda kv: -kv[1]) if v >= 1}, "threads": len(sys._current_frames())}


def malloc() -> dict:
    class Mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                     "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Mallinfo2
    info = libc.mallinfo2()
    return {"heap_mb": round(info.arena / MB, 1), "in_use_mb": round(info.uordblks / MB, 1),
            "free_in_heap_mb": round(info.fordblks / MB, 1), "mmapped_mb": round(info.hblkhd / MB, 1)}


def objects() -> dict:
    counts = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    return {"tracked_objects": sum(counts.values()), "frozen_objects": gc.get_freeze_count(),
            "by_type": dict(counts.most_common(25))}


def job_manager() -> dict:
    import core.training.jobs as jobs

    manager = jobs._manager
    if manager is None:
        return {"manager": None}
    loaded = list(getattr(manager, "_loaded", {}).items())
    return {"loaded_models": [{"key": str(key[0]), "type": type(model).__name__, "mb": size_mb(model)}
                              for key, model in loaded],
            "loaded_mb": round(sum(size_mb(model) for _, model in loaded), 1),
            "jobs": len(getattr(manager, "_jobs", {}) or {})}


def projections() -> dict:
    from core.embeddings import projection

    items = list(projection._cache.items())
    seen: set = set()
    return {"count": len(items), "mb": round(sum(_size(p, seen) for _, p in items) / MB, 1),
            "each": [{"key": str(k)[:80], "mb": size_mb(p)} for k, p in items]}


def resource_caches() -> dict:
    from streamlit.runtime.caching import cache_resource_api

    caches = cache_resource_api._resource_caches
    found = []
    for per_session in list(caches._function_caches.values()):
        for cache in list(per_session.values()):
            entries = list(cache._mem_cache.values())
            seen: set = set()  # entries may share arrays (views of one set of pixels): each counted once
            found.append({"function": cache.display_name, "entries": len(entries),
                          "mb": round(sum(_size(e, seen) for e in entries) / MB, 1)})
    return {"caches": found, "mb": round(sum(c["mb"] for c in found), 1)}


def data_caches() -> dict:
    from streamlit.runtime.caching import cache_data_api

    stats = cache_data_api._data_caches.get_stats()
    return {family: [(s.cache_name, s.byte_length) for s in values] for family, values in stats.items()}


def sessions() -> dict:
    from streamlit.runtime import Runtime

    runtime = Runtime.instance()
    out = []
    for info in runtime._session_mgr.list_sessions():
        state = info.session._session_state
        values: dict[str, float] = {}
        for mapping in (state._old_state, state._new_session_state):
            for key in list(mapping):
                values[str(key)] = max(values.get(str(key), 0.0), size_mb(mapping.get(key)))
        big = {k: v for k, v in sorted(values.items(), key=lambda kv: -kv[1]) if v >= 0.5}
        out.append({"active": runtime._session_mgr.is_active_session(info.session.id), "keys": len(values),
                    "mb": round(sum(values.values()), 1), "largest": dict(list(big.items())[:8]),
                    "widget_metadata": len(state._new_widget_state.widget_metadata)})
    return {"count": len(out), "mb": round(sum(s["mb"] for s in out), 1), "each": out}


def media() -> dict:
    from streamlit.runtime import Runtime

    storage = Runtime.instance().media_file_mgr._storage
    files = list(getattr(storage, "_files_by_id", {}).values())
    return {"files": len(files), "mb": round(sum(len(f.content) for f in files) / MB, 1)}


def tracemalloc_top() -> dict:
    import tracemalloc

    if not tracemalloc.is_tracing():
        return {}
    snapshot = tracemalloc.take_snapshot()
    stats = snapshot.statistics("lineno")
    return {"traced_mb": round(sum(s.size for s in stats) / MB, 1),
            "top": [{"where": str(s.traceback[0]), "mb": round(s.size / MB, 2), "blocks": s.count}
                    for s in stats[:25]]}


def report() -> dict:
    started = time.perf_counter()
    gc.collect()
    data = {"process": _guarded(process), "malloc": _guarded(malloc), "objects": _guarded(objects),
            "job_manager": _guarded(job_manager), "projections": _guarded(projections),
            "cache_resource": _guarded(resource_caches), "cache_data": _guarded(data_caches),
            "sessions": _guarded(sessions), "media_files": _guarded(media), "tracemalloc": _guarded(tracemalloc_top)}
    data["seconds"] = round(time.perf_counter() - started, 2)
    return data
