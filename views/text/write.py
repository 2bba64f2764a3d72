"""The Text page's "3 · Write" section: a seed, sampling settings, the samples as they are written."""
from __future__ import annotations

import time

import streamlit as st

from core.errors import AppError
from core.text.sampling import DEFAULT_SEED_TEXT, MAX_SAMPLE_LENGTH, MAX_SAMPLES, Sampler
from views.text.pictures import sample_html
from views.state import kept

SAMPLES = "text_samples"


def kept_input(widget, label: str, key: str, default, **options):
    return widget(label, value=default, **kept(key), **options)


def write_section(model, model_tag: str) -> list | None:
    """Seed and settings, Generate, and the samples of this model (None before the first)."""
    st.subheader("3 · Write")
    seed_text = kept_input(st.text_area, "Seed text", "text_seed", DEFAULT_SEED_TEXT, height=80,
                           max_chars=10_000,
                           help="The cell reads the seed character by character, then writes on from there. "
                                "Leave it empty to start from a character drawn at random.")
    cols = st.columns(6)
    length = kept_input(cols[0].number_input, "Length", "text_length", 300,
                        min_value=1, max_value=MAX_SAMPLE_LENGTH)
    temperature = kept_input(cols[1].slider, "Temperature", "text_temperature", 0.8,
                             min_value=0.1, max_value=2.0, step=0.05,
                             help="Divides the logits before the softmax: low = safe and repetitive, "
                                  "high = adventurous and misspelt.")
    top_k = kept_input(cols[2].number_input, "Top-k (0 = all)", "text_topk", 0,
                       min_value=0, max_value=max(1, model.vocab_size),
                       help="Only the k most likely characters can be drawn.")
    greedy = kept_input(cols[3].toggle, "Greedy", "text_greedy", False,
                        help="Always take the most likely character (deterministic) instead of drawing one.")
    rng_seed = kept_input(cols[4].number_input, "Random seed", "text_rng", 0,
                          min_value=0, max_value=1_000_000, help="The same seed and settings give the same text.")
    count = kept_input(cols[5].number_input, "Samples", "text_count", 1, min_value=1, max_value=MAX_SAMPLES,
                       help="Written side by side in one batch, with random seeds seed, seed+1, …")

    if st.button("Generate", type="primary", icon=":material/edit_note:", key="text_generate"):
        try:
            sampler = Sampler(model, seed_text, int(length), float(temperature), int(top_k), bool(greedy),
                              int(rng_seed), int(count))
        except AppError as error:
            st.error(str(error), icon=":material/error:")
            return None
        for note in sampler.sample.notes:
            st.info(note, icon=":material/info:")
        places = [column.empty() for column in st.columns(int(count))]
        shown_at = 0.0
        for _ in sampler.steps():  # the browser is sent the text so far every 50 ms
            if time.perf_counter() - shown_at >= 0.05:
                for place, sample in zip(places, sampler.samples):
                    place.html(sample_html(sample.seed, sample.generated))
                shown_at = time.perf_counter()
        st.session_state[SAMPLES] = {"model": model_tag, "samples": sampler.samples}
        st.rerun()

    generated = st.session_state.get(SAMPLES)
    if not generated or generated["model"] != model_tag or not generated["samples"]:
        return None
    samples = generated["samples"]
    for note in samples[0].notes:
        st.info(note, icon=":material/info:")
    for index, (column, sample) in enumerate(zip(st.columns(len(samples)), samples)):
        with column:
            with st.container(border=True):
                st.html(sample_html(sample.seed, sample.generated))
            st.caption(f"Sample {index + 1}: {len(sample.generated)} new characters (shaded) after the seed (grey).")
            with st.expander("The whole text, to copy"):
                st.code(sample.text[-20_000:], language=None, wrap_lines=True)
    seconds = samples[0].seconds
    if seconds:
        total = sum(len(sample.generated) for sample in samples)
        st.caption(f"Written at {total / seconds:,.0f} characters/s ({total:,} characters in {seconds:.2f} s, "
                   "including sending them to the page as they came).")
    return samples
