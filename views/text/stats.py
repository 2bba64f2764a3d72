"""The Text page's gate statistics (issue 32 §3): each gate's spread per layer, the forget gate's
trained bias against its initial 1, and how long the cells keep what they hold."""
from __future__ import annotations

import streamlit as st

from core.text import corpus as corpora
from core.text.finder import corpus_passages
from core.text.gate_stats import SATURATED, gate_stats, statements
from core.text.gates import text_ids
from views.text.pictures import histogram_figure

STATS_CHARS = 3_000


@st.cache_resource(max_entries=2, show_spinner=False)
def cached_stats(_model, model_tag: str, corpus_name: str, validation_split: float):
    held_out = corpus_passages(corpora.load_text(corpus_name), validation_split, held_chars=STATS_CHARS).held_out
    _, ids, _ = text_ids(_model.vocab, held_out)
    return gate_stats(_model.arrays(), ids)


def stats_section(model, job) -> None:
    st.markdown("#### Gate statistics")
    if not st.toggle("Show the gate statistics", key="text_stats_show",
                     help=f"Every gate of every unit over the first {STATS_CHARS:,} held-out characters."):
        return
    with st.spinner("Reading the held-out text…"):
        stats = cached_stats(model, job.key, job.config["corpus"], float(job.config["validation_split"]))
    st.caption(f"Over the first {stats.characters:,} characters held out from training, read from zero state. "
               f"“Near 0” is below {SATURATED:g}, “near 1” above {1 - SATURATED:g} (for g: within {SATURATED * 2:g} "
               "of −1 or +1). A gate near 0 or 1 acts as a switch; in between it scales.")
    columns = st.columns(min(2, len(stats.layers)))
    for layer, column in zip(stats.layers, columns * len(stats.layers)):
        column.plotly_chart(histogram_figure(layer, layer.layer, SATURATED), key=f"text_stats_{layer.layer}",
                            config={"displayModeBar": False})
    st.markdown("In this cell $c' = f \\odot c + i \\odot g$: whatever the cell holds is multiplied by the "
                "forget gate at every following character, so after $k$ characters a share "
                "$f_1 f_2 \\cdots f_k$ of it is left (what $i \\odot g$ adds meanwhile comes on top). A unit's "
                "*half-life* below is the number of characters after which half is left at its typical "
                "(geometric-mean) forget gate on this passage: $\\ln 2 / (-\\overline{\\ln f})$.")
    for sentence in statements(stats):
        st.markdown(f"- {sentence}")
