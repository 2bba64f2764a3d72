"""The server-wide patches of pages/runtime.py do what they say and change nothing else."""
import gc

import plotly.graph_objects as go
import pytest
from _plotly_utils import utils
from hypothesis import given
from hypothesis import strategies as st
from plotly import basedatatypes

from pages.runtime import plotly_without_throwaway_classes

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
