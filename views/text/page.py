"""Text: train a character LSTM written from scratch, watch it learn to spell, sample from a seed,
and look inside it: every gate per character, the cells that follow a pattern, gate statistics."""
from __future__ import annotations

import streamlit as st

from core.errors import AppError
from core.text import corpus as corpora
from views.text.inside import inside_section
from views.text.sequences_tab import sequences_tab_body
from views.state import kept
from views.text.training import training_section
from views.text.write import write_section

state = st.session_state
SOURCES = {**corpora.builtin_corpora(), "paste": "Paste text", "upload": "Upload a UTF-8 .txt file",
           "tfds": "tensorflow-datasets (download)"}

st.title("Text")
st.caption(
    "A character-level LSTM written from scratch in TensorFlow: it reads text one character at a "
    "time and learns to predict the next one. Train it on a corpus, watch it go from noise to "
    "words, let it write from your own seed text, then look inside: every gate at every character.")

with st.expander("How the cell works", icon=":material/memory:"):
    st.markdown(
        r"""
Each step takes the current character $x$ (one-hot) and the previous state $(h, c)$:

- input gate: $i = \sigma(W_i x + U_i h + b_i)$
- forget gate: $f = \sigma(W_f x + U_f h + b_f)$
- output gate: $o = \sigma(W_o x + U_o h + b_o)$
- candidate: $g = \tanh(W_g x + U_g h + b_g)$
- new memory: $c' = f \odot c + i \odot g$
- new output: $h' = o \odot \tanh(c')$

The 2017 stream used a *sigmoid* candidate $g$; this page uses the standard $\tanh$ (as Keras does),
so the cell can add *and* subtract from its memory. In a stacked model the next layer reads $h'$
where the first reads $x$. The weights are plain `tf.Variable`s; the window is unrolled inside one
compiled `tf.function`; a softmax layer predicts the next character at every step, and training
minimises the average cross-entropy with Adam, clipping the gradient's global norm at 5. Unit
tests check that `keras.layers.LSTM` with the same weights goes through the same $h$ and $c$.
""")


@st.cache_data(show_spinner=False, max_entries=8)
def corpus_info(name: str) -> dict:
    return corpora.describe(corpora.load_text(name))


characters_tab, sequences_tab = st.tabs(
    [":material/notes: Characters", ":material/show_chart: Sequences"], key="text_tab", on_change="rerun")
if sequences_tab.open:  # only the open tab runs: the other may have stopped the script early
    with sequences_tab:
        sequences_tab_body()
    st.stop()

with characters_tab:
    # ---- 1. corpus ------------------------------------------------------------------
    st.subheader("1 · Text to learn from")
    source = st.radio("Corpus", list(SOURCES), format_func=SOURCES.get, horizontal=True, **kept("text_source", url=True))

    corpus_name: str | None = None
    try:
        if source == "paste":
            pasted = st.text_area(
                "Your text", "", height=160, max_chars=2_000_000, **kept("text_paste"),
                placeholder="Paste at least a few thousand characters for a result worth reading.",
                help="Kept in the app's cache under a name made from its hash, so training can find it.")
            if pasted:
                corpus_name = corpora.register_text(corpora.check_text(pasted, window=1))
        elif source == "upload":
            upload = st.file_uploader("A plain-text file (UTF-8, up to 20 MB)", type=["txt"], key="text_upload")
            if upload is not None:
                corpus_name = corpora.register_text(corpora.decode_upload(upload.getvalue()))
        elif source == "tfds":
            fetched = state.setdefault("text_tfds_fetched", {})
            choice = st.selectbox("Text set", list(corpora.TFDS_TEXT), key="text_tfds",
                                  format_func=lambda name: corpora.TFDS_TEXT[name][0],
                                  help=f"Downloaded once into the app's cache; the first "
                                       f"{corpora.TFDS_MAX_CHARS:,} characters are used.")
            problem = corpora.tfds_text_problem(choice)
            if problem:
                st.warning(problem, icon=":material/cloud_off:")
            elif choice in fetched:
                corpus_name = fetched[choice]
            elif st.button("Fetch it", icon=":material/download:", key="text_tfds_fetch"):
                with st.spinner(f"Fetching {corpora.TFDS_TEXT[choice][0]} (the first time downloads it)…"):
                    corpus_name = fetched[choice] = corpora.fetch_tfds_text(choice)
        else:
            corpus_name = source
    except AppError as error:
        st.error(str(error), icon=":material/error:")

    if corpus_name is None:
        if source in ("paste", "upload"):
            st.info("Give the model some text to read.", icon=":material/info:")
        elif source == "tfds":
            st.info("Fetch a text set, or pick a bundled corpus: they work offline.", icon=":material/info:")
        st.stop()

    try:
        info = corpus_info(corpus_name)
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        st.stop()

    size_cols = st.columns(3)
    size_cols[0].metric("Characters", f"{info['chars']:,}")
    size_cols[1].metric("Vocabulary", f"{info['vocab_size']} characters",
                        help="Each distinct character is one input and one output of the network.")
    size_cols[2].metric("Lines", f"{info['lines']:,}")
    with st.expander("Sample and vocabulary"):
        st.code(info["sample"], language=None, wrap_lines=True)
        st.caption("Vocabulary: " + " ".join(repr(ch)[1:-1] or "␣" for ch in info["vocab"][:300]))

    # ---- 2. settings and training ------------------------------------------------------------
    trained = training_section(corpus_name, info)
    if trained is None:
        st.stop()
    job, model = trained

    # ---- 3. sampling ----------------------------------------------------------------------------
    samples = write_section(model, job.key)

    # ---- 4. a look inside -------------------------------------------------------------------------
    inside_section(model, job, samples)
