"""The Text page's "2 · Train" section: preset, settings, the training and how it learned."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import AppError
from core.text.charlstm import DEFAULTS, KIND, OPTIONS, PRESETS, preset_of
from core.text import corpus as corpora
from core.training.jobs import DONE, QUEUED, RUNNING
from views import keys
from views.common import manager
from views.text.pictures import quick_time_words
from views.state import kept, progress_text
from views.training_widget import evaluation_axis, history_figure, start_training, training_took, training_widget

UNIT_CHOICES = [32, 64, 128, 256, 384, 512, 1024]
LOSS_TITLE = "Loss (nats per character)"
SCHEDULES = {"constant": "constant", "cosine": "cosine, down to a tenth"}


def bundled_preset() -> str | None:
    """The preset whose model ships ready-made (from the bundled models' manifest), if any: the
    page opens on it (Quick when none ships or bundling is off)."""
    from core.training.bundled import enabled

    return manifest_preset() if enabled() else None  # bundling is read each run: only the manifest is cached


@st.cache_data(show_spinner=False)
def manifest_preset() -> str | None:
    from core.training.bundled import BundleProblem, read_manifest

    try:
        return preset_of(read_manifest().get("defaults", {}).get("charlstm_shakespeare", {}).get("request"))
    except (BundleProblem, AppError):
        return None


def preset_help() -> str:
    rnn, quick = PRESETS["char-rnn"], PRESETS["Quick"]
    ready = bundled_preset()
    return (f"char-rnn: {rnn['layers']} layers × {rnn['units']} units, dropout {rnn['dropout']:g}, the text read "
            f"as streams that carry the state, {rnn['steps']:,} steps"
            + (" — it comes ready-made with the app (how long it took to build is in its note)." if ready == "char-rnn"
               else " — hours on a laptop.")
            + f" Quick: 1 × {quick['units']} units, {quick['steps']} steps — {quick_time_words()}"
            + (" It comes ready-made with the app." if ready == "Quick" else "")
            + " As streamed: the 2017 stream's 50-character windows, stride 2, 1024 units and batch 512 (slow on "
              "a laptop). Custom: start from the defaults and change anything.")


def setting(column, widget: str, label: str, name: str, suffix: str, default, **options):
    """A settings widget whose value survives page switches and is in the URL when it differs from
    the preset's (``?text_<name>_<preset>=…``): a reload asks for the same model."""
    if widget == "radio":
        choices = options.pop("options")
        return column.radio(label, choices, index=choices.index(default), **kept(f"text_{name}_{suffix}", url=True),
                            **options)
    return getattr(column, widget)(label, value=default, **kept(f"text_{name}_{suffix}", url=True), **options)


def key_suffix(preset: str) -> str:
    """Each preset has its own widgets, so they restart from the preset's values when it changes."""
    return preset.replace(" ", "-").lower()


def settings_form(preset_name: str) -> dict:
    preset = {**DEFAULTS, **OPTIONS, **PRESETS.get(preset_name, {})}
    suffix = key_suffix(preset_name)
    cols = st.columns(4)
    values = {
        "window": setting(cols[0], "number_input", "Window (characters)", "window", suffix, preset["window"],
                          min_value=2, max_value=200,
                          help="How many characters the cell is unrolled over in one training example."),
        "stride": setting(cols[1], "number_input", "Window stride", "stride", suffix, preset["stride"],
                          min_value=1, max_value=200, disabled=bool(preset["carry_state"]),
                          help="Windows start every `stride` characters; batches are drawn at random from them "
                               "(not used when the state is carried: the streams are read window after window)."),
        "batch_size": setting(cols[2], "number_input", "Batch size", "batch_size", suffix, preset["batch_size"],
                              min_value=1, max_value=1024),
        "units": setting(cols[3], "select_slider", "Hidden units", "units", suffix, preset["units"],
                         options=UNIT_CHOICES, help="Size of h and c in each layer."),
    }
    cols = st.columns(4)
    values["layers"] = setting(cols[0], "radio", "Layers", "layers", suffix, preset["layers"],
                               options=[1, 2, 3], horizontal=True)
    values["learning_rate"] = setting(cols[1], "number_input", "Learning rate", "learning_rate", suffix,
                                      preset["learning_rate"], min_value=0.0001, max_value=0.1, step=0.0005,
                                      format="%.4f", help="Adam's step size (at the start, with a schedule).")
    values["steps"] = setting(cols[2], "number_input", "Training steps", "steps", suffix, preset["steps"],
                              min_value=1, max_value=100_000, help="One step = one batch of windows, one Adam update.")
    values["validation_split"] = setting(cols[3], "slider", "Validation split", "validation_split", suffix,
                                         preset["validation_split"], min_value=0.01, max_value=0.5,
                                         help="The end of the text is held out to measure the validation loss.")
    cols = st.columns(4)
    values["dropout"] = setting(cols[0], "slider", "Dropout", "dropout", suffix, preset["dropout"],
                                min_value=0.0, max_value=0.8, step=0.05,
                                help="While training, each layer's outputs (into the next layer and the readout) "
                                     "are zeroed with this probability and the rest scaled up; never the "
                                     "recurrent h·U path.")
    values["schedule"] = setting(cols[1], "radio", "Learning-rate schedule", "schedule", suffix,
                                 preset["schedule"], options=list(SCHEDULES), format_func=SCHEDULES.get)
    values["carry_state"] = setting(cols[2], "toggle", "Carry the state", "carry_state", suffix,
                                    preset["carry_state"],
                                    help="Read the text as batch-size contiguous streams, window after window, "
                                         "each window starting from the state the last one ended in (as "
                                         "char-rnn). Off: random windows, each from zero state.")
    values["seed"] = cols[3].number_input("Training seed", 0, 10_000, 0, **kept("text_train_seed", url=True),
                                          help="Sets the initial weights, the order of batches and the dropout masks.")
    values["evaluations"] = preset["evaluations"]
    values["storage"] = preset["storage"]
    return values


#: The settings a preset's widgets hold (``text_<name>_<preset>``); the training seed has one widget.
SETTINGS = ("window", "stride", "batch_size", "units", "layers", "learning_rate", "steps", "validation_split",
            "dropout", "schedule", "carry_state")


def preset_for(config: dict) -> str:
    """The preset whose widgets can show ``config``: the one it equals, else one with the same fixed
    settings (evaluations, storage: no widget changes them), else Custom."""
    def full(values: dict) -> dict:
        return {**DEFAULTS, **OPTIONS, **values}

    wanted = full(config)
    fixed = ("evaluations", "storage")
    for name, values in PRESETS.items():
        if all(full(values)[key] == wanted[key] for key in SETTINGS + fixed):
            return name
    for name, values in PRESETS.items():
        if all(full(values)[key] == wanted[key] for key in fixed):
            return name
    return "Custom"


def show_settings(config: dict) -> None:
    """A button's callback: set the preset and its widgets to ``config`` (before they are drawn)."""
    state = st.session_state
    preset = preset_for(config)
    suffix = key_suffix(preset)
    full = {**DEFAULTS, **OPTIONS, **config}
    state["text_preset"] = preset
    for name in SETTINGS:
        state[f"text_{name}_{suffix}"] = full[name]
    state["text_train_seed"] = full["seed"]
    if full["corpus"] in corpora.builtin_corpora():
        state["text_source"] = full["corpus"]


def running_elsewhere(shown: dict, corpus_name: str) -> None:
    """This session's character-LSTM trainings still under way with other settings than the ones
    shown: their progress, and a button that brings their settings back (a reload or a change of
    preset would otherwise hide them until the same settings are typed again)."""
    shown_key = manager().key_for("charlstm", shown)[1]
    mine = [t for t in st.session_state.get(keys.MY_TRAININGS, [])
            if t["kind"] == "charlstm" and t["key"] != shown_key]
    jobs = [(t, manager().find("charlstm", t["config"])) for t in mine]
    running = [(t, job) for t, job in jobs if job is not None and job.status in (QUEUED, RUNNING)]
    if not running:
        return

    @st.fragment(run_every=2.0)
    def panel() -> None:
        with st.container(border=True, key="text_running"):
            st.caption("Your trainings still running with other settings:")
            for training, job in running:
                text, button = st.columns([4, 1], vertical_alignment="center")
                text.progress(job.progress.fraction if job.status == RUNNING else 0.0,
                              text=f"**{training['title']}** — {progress_text(job.progress)}")
                config = training["config"]
                if "resume" in config or config["corpus"] not in (*corpora.builtin_corpora(), corpus_name):
                    continue  # its settings cannot all be brought back from here
                button.button("Show it", key=f"text_show_{training['key'][:12]}", icon=":material/visibility:",
                              on_click=show_settings, args=(config,))
            if all(job.finished for _, job in running):
                st.rerun()

    panel()


def learning_log(job) -> None:
    """The samples taken while training, folded (newest first): the page below stays in reach."""

    @st.fragment(run_every=2.0 if not job.finished else None)
    def body() -> None:
        log = job.progress.log
        if not log and job.entry is not None:
            log = job.entry.record.get("learning_log", [])
        if not log:
            if job.status in (QUEUED, RUNNING):
                st.caption("Samples appear here at every evaluation, from noise to words.")
            return
        with st.expander(f"How it learned ({len(log)} samples taken while training)", expanded=False):
            for entry in reversed(log[-12:]):
                header, _, text = entry["text"].partition("\n")
                st.markdown(f"**{header}**")
                st.code(text, language=None, wrap_lines=True)

    body()


def training_section(corpus_name: str, info: dict):
    """Settings, Train, progress; returns (job, model) once a model is trained, else None."""
    st.subheader("2 · Train")
    presets = list(PRESETS) + ["Custom"]
    preset_name = st.radio("Preset", presets, index=presets.index(bundled_preset() or "Quick"), horizontal=True,
                           help=preset_help(), **kept("text_preset", url=True))
    values = settings_form(preset_name)
    try:
        config = KIND.normalize({"corpus": corpus_name, **values})
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        return None
    if info["chars"] * (1 - config["validation_split"]) < config["window"] + 1 \
            or info["chars"] * config["validation_split"] < config["window"] + 1:
        st.warning(f"This text is too short for {config['window']}-character windows with a "
                   f"{config['validation_split']:.0%} validation split; add text or shorten the window.",
                   icon=":material/warning:")

    running_elsewhere(config, corpus_name)
    # "Train more" continues a trained model; follow this session's chain of continuations.
    continued = st.session_state.setdefault("text_continued", {})
    job = manager().find("charlstm", config)
    while job is not None and job.status == DONE and job.key in continued:
        later = manager().find("charlstm", continued[job.key])
        if later is None:
            break
        job, config = later, later.config
    job = training_widget("charlstm", config, "text_train", curve_title=LOSS_TITLE, per_evaluation=True,
                          not_trained="Not trained yet with these settings. Press **Train** (it runs in "
                                      "the background; you can keep using the app).")
    if job is None:
        return None
    st.caption(f"**{job.title}**")
    if job.status == DONE and job.progress.history:
        history = job.progress.history
        figure = history_figure(history, ("loss", "val_loss"), LOSS_TITLE, xaxis_title=evaluation_axis(history))
        st.plotly_chart(figure, key="text_curve_final", config={"displayModeBar": False})
    if job.status == DONE and st.button(
            f"Train {config['steps']:,} more steps", icon=":material/replay:", key="text_more",
            help="Continue from this model's weights (a fresh Adam state) on the same text; "
                 "the result is stored as a new model."):
        more = {**config, "resume": job.key}
        continued[job.key] = more  # followed above once it is stored (a refusal is said, and ignored there)
        start_training("charlstm", more)
    took = training_took(job.entry) if job.status == DONE else None
    if took:
        st.caption(f"Training it took {took} for {config['steps']:,} steps (its record); {config['steps']:,} more "
                   "take about as long on the same machine.")
    learning_log(job)
    if job.status != DONE:
        return None
    try:
        model = job.model()
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        return None
    metrics = job.entry.metrics if job.entry is not None else {}
    if metrics.get("val_loss") is not None:
        held = metrics.get("val_chars")
        over = f" over all {held:,} held-out characters" if held else ""
        st.caption(f"Validation loss {metrics['val_loss']:.3f} nats per character{over} "
                   f"(a uniform guess would be {np.log(model.vocab_size):.3f}) · {model.count_params():,} weights.")
    return job, model
