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
