"""The server-wide patches of server_patches.py take effect, do what they say and change nothing else."""
import gc
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest
from _plotly_utils import utils
from hypothesis import given
from hypothesis import strategies as st
from plotly import basedatatypes

import server_patches
from server_patches import plotly_without_throwaway_classes

plotly_without_throwaway_classes()
ORIGINAL = utils.chomp_empty_strings._dlp_original


@given(st.lists(st.text(alphabet="ab_", max_size=4), max_size=8), st.sampled_from("_-"), st.booleans())
def test_chomping_gives_what_plotly_gives(strings, joiner, reverse):
    assert utils.chomp_empty_strings(strings, joiner, reverse) == ORIGINAL(strings, joiner, reverse)


def test_plotly_uses_the_patched_chomping():
    assert basedatatypes.chomp_empty_strings is utils.chomp_empty_strings is not ORIGINAL


def classes_left_behind(build) -> int:
    """Classes that become cyclic garbage while ``build`` runs."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        build()
        gc.collect()
        return sum(isinstance(o, type) for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def probability_chart() -> None:
    # As on the Draw page: property names with underscores, each parsed by chomp_empty_strings.
    figure = go.Figure(go.Bar(x=[str(d) for d in range(10)], y=[0.1] * 10, marker_color=["#1f77b4"] * 10))
    figure.update_layout(height=220, margin_t=10, yaxis_range=[0, 1], xaxis_title="digit")
    figure.to_plotly_json()


def test_a_chart_leaves_no_classes_for_the_cycle_collector(monkeypatch):
    monkeypatch.setattr(basedatatypes, "chomp_empty_strings", ORIGINAL)
    monkeypatch.setattr(utils, "chomp_empty_strings", ORIGINAL)
    unpatched = classes_left_behind(probability_chart)
    monkeypatch.undo()
    if unpatched == 0:
        pytest.skip("this Plotly no longer defines classes while parsing names: the patch can go")
    assert classes_left_behind(probability_chart) == 0, f"unpatched, the chart left {unpatched} classes"


MAPPED_GROWTH = """
import ctypes, sys
from server_patches import tune_malloc

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "tuned":
    tune_malloc()
freed = bytearray(8 * 2**20)  # glibc's default now raises its threshold to 8 MB...
del freed
mapped = libc.mallinfo2().hblkhd
# ...and takes these from the heap, where they would leave holes. Eight of them, more than a fresh
# heap has free, so that the tuned run must map most of them whatever the heap's layout.
blocks = [bytearray(96 * 1024) for _ in range(8)]
print(libc.mallinfo2().hblkhd - mapped)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_large_blocks_are_mapped_on_their_own_after_tuning():
    # In a fresh process, whose heap has no room for the block: a big heap would serve it from
    # free space either way.
    def mapped_growth(mode: str) -> int:
        run = subprocess.run([sys.executable, "-c", MAPPED_GROWTH, mode], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parents[2])
        if run.returncode:
            pytest.skip(f"no glibc 2.33+ here: {run.stderr.strip().splitlines()[-1]}")
        return int(run.stdout)

    assert mapped_growth("default") < 96 * 1024, "glibc's default took the blocks from the heap"
    assert mapped_growth("tuned") >= 4 * 96 * 1024, "tuned, blocks over 64 kB are mapped on their own"


def keras_sessions_cleared_by_a_run(monkeypatch) -> int:
    """Run a tiny app that has Keras imported; count Streamlit's calls of clear_session after it."""
    import keras
    from streamlit.testing.v1 import AppTest

    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *args, **kwargs: calls.append(1))
    AppTest.from_string("import keras\nimport streamlit as st\nst.write('hi')").run()
    return len(calls)


def test_streamlit_no_longer_clears_the_keras_session_after_a_run(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    server_patches.keep_tensorflow_state()
    patched = script_runner._clean_problem_modules
    assert keras_sessions_cleared_by_a_run(monkeypatch) == 0, "Streamlit still clears the Keras session"
    # And the hook is live: with Streamlit's own clean-up back, a run does clear it. If this fails,
    # Streamlit no longer calls the hook and the slowdown may be back some other way.
    monkeypatch.setattr(script_runner, "_clean_problem_modules", patched._dlp_original)
    assert keras_sessions_cleared_by_a_run(monkeypatch) >= 1, \
        "Streamlit no longer calls _clean_problem_modules after a run: re-check keep_tensorflow_state"


def test_a_missing_streamlit_hook_fails_loudly(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    monkeypatch.delattr(script_runner, "_dlp_keeps_tensorflow_state", raising=False)
    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    with pytest.raises(server_patches.PatchNotApplied):
        server_patches.keep_tensorflow_state()


def test_apply_all_logs_a_patch_that_no_longer_applies(monkeypatch, caplog):
    def tune_malloc():
        raise server_patches.PatchNotApplied("gone")

    monkeypatch.setattr(server_patches, "tune_malloc", tune_malloc)
    server_patches.apply_all()
    assert "tune_malloc not applied: gone" in caplog.text
