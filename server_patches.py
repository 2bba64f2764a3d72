"""Patches to Streamlit, Plotly and glibc's malloc that the server needs, applied once by app.py.

Each one works around an upstream behaviour measured to hurt this app (figures in
benchmarks/RESULTS.md). Each raises :class:`PatchNotApplied` when the library it patches has
changed so that the patch would do nothing, so an upgrade cannot silently bring the problem back;
tests/pages/test_server_patches.py checks that each one takes effect.
"""
from __future__ import annotations

import sys


class PatchNotApplied(RuntimeError):
    """A library changed so that a patch no longer takes effect: look at the patch again."""


def apply_all() -> None:
    """Every patch, idempotent: app.py calls it first thing on every run.

    A patch that no longer applies is logged, not raised: the app still works, only slower or
    bigger; the tests are where it fails loudly.
    """
    for patch in (keep_tensorflow_state, tune_malloc, plotly_without_throwaway_classes):
        try:
            patch()
        except PatchNotApplied as problem:
            import logging  # here, not at the top: a fresh process's heap stays as the malloc test expects

            logging.getLogger(__name__).warning("server patch %s not applied: %s", patch.__name__, problem)


def keep_tensorflow_state() -> None:
    """Stop Streamlit's after-run ``keras.backend.clear_session()``.

    Streamlit calls it after every script run, fragment ticks included. It clears TensorFlow's
    kernel cache process-wide, so background trainings recompile after every tick and run about
    twenty times slower. Our models live in ``st.cache_resource`` and the model store, never in
    script globals, so nothing needs clearing; matplotlib figures are still closed.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if getattr(script_runner, "_dlp_keeps_tensorflow_state", False):
        return
    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        raise PatchNotApplied("streamlit.runtime.scriptrunner.script_runner._clean_problem_modules is gone: "
                              "check whether Streamlit still clears the Keras session after each run")

    def close_matplotlib_figures_only() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    close_matplotlib_figures_only._dlp_original = script_runner._clean_problem_modules
    script_runner._clean_problem_modules = close_matplotlib_figures_only
    script_runner._dlp_keeps_tensorflow_state = True


def plotly_without_throwaway_classes() -> None:
    """Give Plotly a ``chomp_empty_strings`` that does not define a class on every call.

    Plotly parses every property name it checks with it, and a class per call is a reference
    cycle that only Python's rare full collections free: under a class's load the heap grew by
    tens of MB between them. This version returns the same lists (a property-based test compares).
    """
    from _plotly_utils import utils
    from plotly import basedatatypes

    if getattr(utils.chomp_empty_strings, "_dlp_original", None) is not None:
        return
    if getattr(basedatatypes, "chomp_empty_strings", None) is not utils.chomp_empty_strings:
        raise PatchNotApplied("plotly.basedatatypes no longer uses _plotly_utils.utils.chomp_empty_strings")
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


# mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MALLOC_ARENAS = 2
MALLOC_MMAP_THRESHOLD = 64 * 1024  # bytes
_malloc_tuned = False


def tune_malloc() -> None:
    """Make glibc's malloc give freed memory back under a class's load.

    - At most two arenas: Streamlit runs most reruns on a new thread, and glibc would give busy
      threads arenas of their own (up to eight per core), scattering freed memory over them.
    - A fixed 64-kB mmap threshold: glibc's default raises it each time a large block is freed,
      so frame-sized pictures and tensors moved into the heap and left holes never given back.

    ``MALLOC_ARENA_MAX`` and ``MALLOC_MMAP_THRESHOLD_`` do the same, but only when set before
    ``streamlit run``. Not glibc (macOS, musl): nothing to tune.
    """
    global _malloc_tuned
    if _malloc_tuned or not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        _malloc_tuned = True
        return
    if not (mallopt(M_ARENA_MAX, MALLOC_ARENAS) and mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)):
        raise PatchNotApplied("glibc's mallopt refused the arena or mmap-threshold setting")
    _malloc_tuned = True
