"""Keep TensorFlow's state alive between Streamlit script runs.

After every script run, including every tick of an ``st.fragment(run_every=...)``,
Streamlit calls ``keras.backend.clear_session()`` once Keras is imported. That
resets TensorFlow's default graph and clears the eager kernel cache of the whole
process, so the background training threads recompile their kernels after every
tick: a 40-step LSTM training that takes 8 s on its own took over 4 minutes
under a page that refreshed its progress once a second. Our models live in
``st.cache_resource`` and the model store, never in the script's globals, so
nothing needs clearing between runs; matplotlib figures are still closed.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

_run = threading.local()  # per script thread: is the current run going through app.py's navigation?


def keep_tensorflow_state() -> None:
    """Stop Streamlit's after-run Keras clean-up (idempotent; a no-op if Streamlit changes)."""
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:  # pragma: no cover - layout of a future Streamlit
        return
    if getattr(script_runner, "_dlp_keeps_tensorflow_state", False) \
            or not hasattr(script_runner, "_clean_problem_modules"):
        return

    def close_matplotlib_figures_only() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    script_runner._clean_problem_modules = close_matplotlib_figures_only
    script_runner._dlp_keeps_tensorflow_state = True


def plotly_without_throwaway_classes() -> None:
    """Give Plotly a ``chomp_empty_strings`` that does not define a class on every call (idempotent).

    Plotly 7.1 parses every property name it checks (``marker_color``, ``yaxis_range``...) with
    ``_plotly_utils.utils.chomp_empty_strings``, which defines a local class each time. A class
    is a reference cycle: only Python's rare full collections free it. Under a class's load the
    Draw page's bar charts made about 49,000 of them a minute; between full collections the
    server's live memory rose by 50-75 MB, and with it the heap it never gives back. This
    version returns the same lists (a property-based test compares the two) and makes no
    garbage that needs the cycle collector.
    """
    try:
        from _plotly_utils import utils
        from plotly import basedatatypes
    except ImportError:  # pragma: no cover - layout of a future Plotly
        return
    if getattr(utils.chomp_empty_strings, "_dlp_original", None) is not None:
        return
    original = utils.chomp_empty_strings

    def chomp_empty_strings(strings, c, reverse=False):
        if reverse:
            return [s[::-1] for s in chomp_empty_strings([s[::-1] for s in strings][::-1], c)][::-1]
        if not len(strings):
            return strings
        if sum(map(len, strings)) == 0:
            return [c * (len(strings) - 1)]
        chomped = [""]
        for string in strings:  # an empty string becomes a c joined to the string before it
            if len(string):
                chomped.append(string)
            else:
                chomped[-1] += c
        return [string for string in chomped if len(string)]

    chomp_empty_strings._dlp_original = original
    utils.chomp_empty_strings = basedatatypes.chomp_empty_strings = chomp_empty_strings


MALLOC_ARENAS = 2
MALLOC_MMAP_THRESHOLD = 64 * 1024  # bytes
_malloc_tuned = False


def tune_malloc() -> None:
    """Make glibc's malloc give freed memory back under a class's load (idempotent).

    - At most two arenas. Streamlit starts a new script thread for most reruns, and glibc gives
      busy threads arenas of their own, up to eight per core; freed memory stayed scattered over
      them. 4-minute load runs, once warm: about 7 MB a minute with the default, 1-5 with two.
    - A fixed mmap threshold of 64 kB. By default glibc raises the threshold each time a large
      block is freed, up to 32 MB (and trims the heap only past twice that), so the frames'
      pictures, messages and tensors of a few hundred kB moved into the heap, where they left
      holes that were never given back. Fixed, blocks this large that find no room in the heap
      are mapped and unmapped on their own: in 4-minute mixed load runs the heap stayed at
      ~167 MB with 20 MB free in it, against ~250 MB with 90 MB free. 256 kB was not low
      enough after a training in the server: the heap still crept up (233 to 245 MB in 4
      minutes, 45-53 MB free in it); at 64 kB it held at 206-210 MB with ~20 MB free
      (benchmarks/RESULTS.md).

    ``MALLOC_ARENA_MAX`` and ``MALLOC_MMAP_THRESHOLD_`` do the same, but only when set before
    ``streamlit run``.
    """
    global _malloc_tuned
    if _malloc_tuned or not sys.platform.startswith("linux"):
        return
    _malloc_tuned = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, MALLOC_ARENAS)  # M_ARENA_MAX in malloc.h
        libc.mallopt(-3, MALLOC_MMAP_THRESHOLD)  # M_MMAP_THRESHOLD (and no more raising it)
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        pass


@contextmanager
def through_app_navigation():
    """Mark the page run inside as started by app.py (``st.navigation``), not on its own."""
    _run.through_app = True
    try:
        yield
    finally:
        _run.through_app = False


def use_app_navigation() -> None:
    """Make a page run only through app.py, even on a freshly started server.

    Until app.py has called ``st.navigation`` once, Streamlit treats a ``pages/`` folder the
    old (v1) way and runs a linked page on its own, skipping app.py: its navigation, its
    store notice and its one-at-a-time import of TensorFlow, pandas and Plotly. When a class
    opens a fresh server at once, several sessions start that way; a page that went on would
    import those libraries beside app.py's import of them and get half-initialised modules.
    So a page run on its own switches the folder mode off and reruns, before it imports
    anything heavy (call this first in every page), and the rerun goes through app.py.
    """
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    keep_tensorflow_state()  # a page run on its own (AppTest) skips app.py
    if getattr(_run, "through_app", False):
        return
    PagesManager.uses_pages_directory = False
    # Once per session: AppTest runs a page on its own every time, and rerunning each
    # time would swallow the widget event that started the run.
    if not st.session_state.get("_dlp_navigation_fixed"):
        st.session_state["_dlp_navigation_fixed"] = True
        st.rerun()
