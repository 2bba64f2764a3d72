"""Text: train a character LSTM written from scratch, watch it learn to spell, sample from a seed."""
from __future__ import annotations

import html
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.text import corpus as corpora
from core.text.charlstm import DEFAULT_SEED_TEXT, DEFAULTS, KIND, MAX_SAMPLE_LENGTH, PRESETS, Sampler
from core.errors import AppError
from core.training.jobs import DONE, QUEUED, RUNNING
from views.common import manager
from views.training_widget import evaluation_axis, history_figure, training_widget
from views.text.sequences_tab import sequences_tab_body


state = st.session_state
UNIT_CHOICES = [32, 64, 128, 256, 512, 1024]
LOSS_TITLE = "Loss (nats per character)"

st.title("Text")
st.caption(
    "A character-level LSTM written from scratch in TensorFlow: it reads text one character at a "
    "time and learns to predict the next one. Train it on a corpus, watch it go from noise to "
    "words, then let it write from your own seed text.")

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
so the cell can add *and* subtract from its memory. The weights are plain `tf.Variable`s; the
window is unrolled inside one compiled `tf.function`; a softmax layer predicts the next character
at every step, and training minimises the average cross-entropy with Adam, clipping the gradient's
global norm at 5. A unit test checks the outputs match `keras.layers.LSTM` with the same weights.
""")


@st.cache_data(show_spinner=False, max_entries=8)
def corpus_info(name: str) -> dict:
    return corpora.describe(corpora.load_text(name))


characters_tab, sequences_tab = st.tabs(
    [":material/notes: Characters", ":material/show_chart: Sequences"], key="text-tab", on_change="rerun")
if sequences_tab.open:  # only the open tab runs: the other may have stopped the script early
    with sequences_tab:
        sequences_tab_body()
    st.stop()

with characters_tab:
    # ---- 1. corpus ------------------------------------------------------------------
    st.subheader("1 · Text to learn from")
    SOURCES = {**corpora.builtin_corpora(), "paste": "Paste text", "upload": "Upload a UTF-8 .txt file",
               "tfds": "tensorflow-datasets (download)"}
    source = st.radio("Corpus", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="text-source")

    corpus_name: str | None = None
    try:
        if source == "paste":
            pasted = st.text_area(
                "Your text", key="text-paste", height=160, max_chars=2_000_000,
                placeholder="Paste at least a few thousand characters for a result worth reading.",
                help="Kept in the app's cache under a name made from its hash, so training can find it.")
            if pasted:
                corpus_name = corpora.register_text(corpora.check_text(pasted, window=1))
        elif source == "upload":
            upload = st.file_uploader("A plain-text file (UTF-8, up to 20 MB)", type=["txt"], key="text-upload")
            if upload is not None:
                corpus_name = corpora.register_text(corpora.decode_upload(upload.getvalue()))
        elif source == "tfds":
            fetched = state.setdefault("text-tfds-fetched", {})
            choice = st.selectbox("Text set", list(corpora.TFDS_TEXT), key="text-tfds",
                                  format_func=lambda name: corpora.TFDS_TEXT[name][0],
                                  help=f"Downloaded once into the app's cache; the first "
                                       f"{corpora.TFDS_MAX_CHARS:,} characters are used.")
            problem = corpora.tfds_text_problem(choice)
            if problem:
                st.warning(problem, icon=":material/cloud_off:")
            elif choice in fetched:
                corpus_name = fetched[choice]
            elif st.button("Fetch it", icon=":material/download:", key="text-tfds-fetch"):
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
        st.caption("Vocabulary: " + " ".join(repr(ch)[1:-1] or "␠" for ch in info["vocab"][:300]))

    # ---- 2. settings and training ---------------------------------------------------------
    st.subheader("2 · Train")
    preset_name = st.radio(
        "Preset", list(PRESETS) + ["Custom"], key="text-preset", horizontal=True,
        help="Quick: a recognisable result in about a minute on 2 CPU cores. As streamed: the 2017 "
             "stream's 50-character windows, stride 2, 1024 units and batch 512 (slow on a laptop). "
             "Custom: start from the defaults and change anything.")
    preset = {**DEFAULTS, **PRESETS.get(preset_name, {})}
    suffix = preset_name.replace(" ", "-").lower()  # widgets restart from the preset when it changes

    cols = st.columns(4)
    window = cols[0].number_input("Window (characters)", 2, 200, preset["window"], key=f"text-window-{suffix}",
                                  help="How many characters the cell is unrolled over in one training example.")
    stride = cols[1].number_input("Window stride", 1, 200, preset["stride"], key=f"text-stride-{suffix}",
                                  help="Windows start every `stride` characters; "
                                       "batches are drawn at random from them.")
    batch_size = cols[2].number_input("Batch size", 1, 1024, preset["batch_size"], key=f"text-batch-{suffix}")
    units = cols[3].select_slider("Hidden units", UNIT_CHOICES, preset["units"], key=f"text-units-{suffix}",
                                  help="Size of h and c in each layer.")
    cols = st.columns(4)
    layers = cols[0].radio("Layers", [1, 2], index=preset["layers"] - 1, horizontal=True, key=f"text-layers-{suffix}")
    learning_rate = cols[1].number_input("Learning rate", 0.0001, 0.1, preset["learning_rate"], format="%.4f",
                                         key=f"text-lr-{suffix}", help="Adam's step size.")
    steps = cols[2].number_input("Training steps", 1, 100_000, preset["steps"], key=f"text-steps-{suffix}",
                                 help="One step = one batch of windows, one Adam update.")
    validation_split = cols[3].slider("Validation split", 0.01, 0.5, preset["validation_split"],
                                      key=f"text-val-{suffix}",
                                      help="The end of the text is held out to measure the validation loss.")
    train_seed = st.number_input("Training seed", 0, 10_000, 0, key="text-train-seed",
                                 help="Sets the initial weights and the order of batches.")

    try:
        config = KIND.normalize({
            "corpus": corpus_name, "window": window, "stride": stride, "batch_size": batch_size,
            "units": units, "layers": layers, "learning_rate": learning_rate, "steps": steps,
            "validation_split": validation_split, "seed": train_seed})
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        st.stop()

    if info["chars"] * (1 - config["validation_split"]) < config["window"] + 1 \
            or info["chars"] * config["validation_split"] < config["window"] + 1:
        st.warning(f"This text is too short for {config['window']}-character windows with a "
                   f"{config['validation_split']:.0%} validation split; add text or shorten the window.",
                   icon=":material/warning:")

    # "Train more" continues a trained model; follow this session's chain of continuations.
    continued = state.setdefault("text-continued", {})
    job = manager().find("charlstm", config)
    while job is not None and job.status == DONE and job.key in continued:
        later = manager().find("charlstm", continued[job.key])
        if later is None:
            break
        job, config = later, later.config
    job = training_widget("charlstm", config, "text-train", curve_title=LOSS_TITLE, per_evaluation=True,
                          not_trained="Not trained yet with these settings. Press **Train** (it runs in "
                                      "the background; you can keep using the app).")
    if job is None:
        st.stop()
    st.caption(f"**{job.title}**")

    if job.status == DONE and job.progress.history:
        history = job.progress.history
        st.plotly_chart(history_figure(history, ("loss", "val_loss"), LOSS_TITLE, xaxis_title=evaluation_axis(history)),
                        key="text-curve-final")
    if job.status == DONE:
        if st.button(f"Train {config['steps']} more steps", icon=":material/replay:", key="text-more",
                     help="Continue from this model's weights (a fresh Adam state) on the same text; "
                          "the result is stored as a new model."):
            more = {**config, "resume": job.key}
            try:
                manager().request("charlstm", more)
                continued[job.key] = more
                st.rerun()
            except AppError as error:
                st.error(str(error), icon=":material/error:")


    @st.fragment(run_every=2.0 if not job.finished else None)
    def learning_log() -> None:
        log = job.progress.log
        if not log and job.entry is not None:
            log = job.entry.record.get("learning_log", [])
        if not log:
            if job.status in (QUEUED, RUNNING):
                st.caption("Samples appear here at every evaluation, from noise to words.")
            return
        with st.expander(f"How it learned ({len(log)} samples taken while training)", expanded=True):
            for entry in reversed(log[-12:]):
                header, _, text = entry["text"].partition("\n")
                st.markdown(f"**{header}**")
                st.code(text, language=None, wrap_lines=True)


    learning_log()

    if job.status != DONE:
        st.stop()

    try:
        model = job.model()
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        st.stop()

    metrics = job.entry.metrics if job.entry is not None else {}
    if metrics.get("val_loss") is not None:
        st.caption(f"Final validation loss {metrics['val_loss']:.3f} nats per character "
                   f"(a uniform guess would be {np.log(model.vocab_size):.3f}) · {model.count_params():,} weights.")

    # ---- 3. sampling --------------------------------------------------------------------
    st.subheader("3 · Write")
    seed_text = st.text_area("Seed text", DEFAULT_SEED_TEXT, key="text-seed", height=80, max_chars=10_000,
                             help="The cell reads the seed character by character, then writes on from there. "
                                  "Leave it empty to start from a random character.")
    cols = st.columns(6)
    length = cols[0].number_input("Length", 1, MAX_SAMPLE_LENGTH, 300, key="text-length")
    temperature = cols[1].slider("Temperature", 0.1, 2.0, 0.8, 0.05, key="text-temperature",
                                 help="Divides the logits before the softmax: low = safe and repetitive, "
                                      "high = adventurous and misspelt.")
    top_k = cols[2].number_input("Top-k (0 = all)", 0, max(1, model.vocab_size), 0, key="text-topk",
                                 help="Only the k most likely characters can be drawn.")
    greedy = cols[3].toggle("Greedy", False, key="text-greedy",
                            help="Always take the most likely character (deterministic) instead of drawing one.")
    rng_seed = cols[4].number_input("Random seed", 0, 1_000_000, 0, key="text-rng",
                                    help="The same seed and settings give the same text.")
    count = cols[5].number_input("Samples", 1, 3, 1, key="text-count",
                                 help="Side by side, random seeds seed, seed+1, …")

    model_tag = job.key


    def stream_in_chunks(pieces, seconds: float = 0.03):
        """Group characters into chunks a browser can keep up with, escaping Markdown as it goes."""
        buffer, last = [], time.perf_counter()
        for piece in pieces:
            buffer.append(piece)
            now = time.perf_counter()
            if now - last >= seconds:
                yield markdown_escape("".join(buffer))
                buffer, last = [], now
        if buffer:
            yield markdown_escape("".join(buffer))


    def markdown_escape(text: str) -> str:
        escaped = "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~$" else ch for ch in text)
        return escaped.replace("\n", "  \n")


    if st.button("Generate", type="primary", icon=":material/edit_note:", key="text-generate"):
        samples = []
        columns = st.columns(int(count))
        for index, column in enumerate(columns):
            with column:
                try:
                    sampler = Sampler(model, seed_text, int(length), float(temperature), int(top_k),
                                      bool(greedy), int(rng_seed) + index)
                except AppError as error:
                    st.error(str(error), icon=":material/error:")
                    break
                for note in sampler.sample.notes:
                    st.info(note, icon=":material/info:")
                with st.container(border=True):
                    st.write_stream(stream_in_chunks(sampler.stream()))
                samples.append(sampler.sample)
        state["text-samples"] = {"model": model_tag, "samples": samples}
        st.rerun()

    generated = state.get("text-samples")
    if not generated or generated["model"] != model_tag or not generated["samples"]:
        st.stop()

    samples = generated["samples"]
    columns = st.columns(len(samples))
    for index, (column, sample) in enumerate(zip(columns, samples)):
        with column:
            for note in sample.notes:
                st.info(note, icon=":material/info:")
            st.code(sample.text[-20_000:], language=None, wrap_lines=True)
            rate = len(sample.generated) / sample.seconds if sample.seconds else 0
            st.caption(f"Sample {index + 1}: {len(sample.generated)} characters"
                       + (f" at {rate:,.0f} characters/s, including drawing them on the page" if rate else ""))

    # ---- 4. a look inside -------------------------------------------------------------------
    st.subheader("4 · A look inside")
    which = 0
    if len(samples) > 1:
        which = st.radio("Sample", range(len(samples)), format_func=lambda i: f"Sample {i + 1}",
                         horizontal=True, key="text-inside-sample")
    sample = samples[which]
    shown = min(len(sample.top), 60)  # more columns than this are unreadable
    if shown:
        st.markdown(f"**Top-5 candidates for the first {shown} generated characters** (hover for the probabilities; "
                    "the distribution it was drawn from, after temperature and top-k)")
        candidates = [row + [("", 0.0)] * (5 - len(row)) for row in sample.top[:shown]]
        z = np.array([[p for _, p in row] for row in candidates]).T
        def visible(ch: str) -> str:
            return "␠" if ch == " " else repr(ch)[1:-1]

        labels = np.array([[visible(ch) for ch, _ in row] for row in candidates]).T
        chosen = [visible(ch) for ch in sample.generated[:shown]]
        figure = go.Figure(go.Heatmap(
            z=z, text=labels, texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1,
            x=list(range(shown)), y=[f"#{rank}" for rank in range(1, 6)],
            customdata=np.array([chosen] * 5),
            hovertemplate="position %{x}: drew %{customdata}<br>candidate %{text}: p=%{z:.3f}<extra></extra>",
            colorbar=dict(title="p")))
        figure.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10),
                             xaxis=dict(tickmode="array", tickvals=list(range(shown)), ticktext=chosen,
                                        tickangle=0, tickfont=dict(size=10)),
                             yaxis=dict(autorange="reversed"))
        st.plotly_chart(figure, key="text-top5")

    matrix = sample.activation_matrix()
    if matrix.size:
        st.markdown("**The text coloured by one hidden unit** — red where the unit's $h$ is positive, "
                    "blue where negative. Hunt for units that track quotes, line ends or word boundaries.")
        lively = sample.liveliest_units(8)
        cols = st.columns([1, 3])
        unit = cols[0].number_input("Hidden unit (last layer)", 0, model.units - 1, lively[0] if lively else 0,
                                    key="text-unit")
        cols[1].caption("Units that vary most over this text: " + ", ".join(str(u) for u in lively))
        values = np.clip(matrix[:, int(unit)], -1, 1)
        spans = []
        for ch, value in zip(sample.inputs, values):
            colour = (f"rgba(220,50,47,{abs(value):.2f})" if value > 0 else f"rgba(38,139,210,{abs(value):.2f})")
            glyph = "↵<br>" if ch == "\n" else html.escape(ch).replace(" ", "&nbsp;")
            spans.append(f'<span title="h[{int(unit)}] = {value:+.2f}" style="background:{colour}">{glyph}</span>')
        st.html('<div style="font-family:monospace;line-height:1.7;word-wrap:break-word">'
                + "".join(spans) + "</div>")
        st.caption("Each character is coloured by the unit's value right after the cell read it.")
