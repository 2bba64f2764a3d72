"""Draw: the talks' networks read a hand-drawn digit while you draw; look inside them."""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import streamlit as st

from core.digits.models import measured_training_time
from core.digits.preprocess import load_image_bytes, preprocess
from core.errors import AppError
from views.common import manager
from views.draw import canvas
from views.draw.attack import attack_section
from views.draw.inside import look_inside_section
from views.draw.networks import (TITLES, choose_networks, classes_of, config_for, kind_and_config,
                                 other_trainings, reader_of, title, trained_job, tuned_entry)
from views.draw.reading import show_others, show_prompt, show_reading
from views.draw.stages import stages_section
from views.draw.teach import correction_row, finetune_report, show_message, teach_section
from views.draw.training_section import training_section
from views.keys import CURRENT_DIGIT
from views.training_widget import format_seconds, training_widget

CANVAS_SIZE = 280
RESULT = "draw_result"  # the preprocessed current drawing (or upload), for the sections below
FULL_RUN = "draw_full_run"  # set while the whole page runs (not only the live reading)
FINAL_READ = "draw_final_read"  # the number of the last pen-up picture the whole page has shown
READING = "draw_reading"  # (digit, predicted class) of a finished reading that can be labelled, or None

state = st.session_state
state.setdefault("draw_canvas_id", 0)

st.title("Draw")
st.caption("Draw a digit with the mouse, a pen or a finger. The networks below read it while you draw "
           f"(a small picture up to {1000 // canvas.LIVE_EVERY_MS} times a second) and once more when you lift "
           "the pen — the same preprocessing that made MNIST, then one forward pass.")

chosen = choose_networks()
if not chosen:
    st.info("Pick at least one network.", icon=":material/info:")
    st.stop()
primary = chosen[0]


@contextmanager
def friendly(doing: str):
    """Show a failure in this section as a message instead of a stack trace."""
    try:
        yield
    except AppError as error:
        st.error(str(error), icon=":material/error:")
    except Exception as error:  # anything else: say what failed, keep the rest of the page
        st.error(f"Something went wrong while {doing}: {type(error).__name__}: {error}",
                 icon=":material/error:")


def not_trained_note(arch: str) -> str:
    """How long training will take, as measured, never guessed."""
    note = "Training happens once, in the background: the model is then kept in the model store."
    measured = measured_training_time(config_for(arch), manager().store)
    if measured is None:
        return note + " The progress bar will say how long it has left."
    seconds, where = measured
    place = ("on this server" if where == "here" else
             "on the machine that built the app's ready-made models (scripts/build_defaults.py)")
    return note + (f" {TITLES[arch]} with these epochs, batch size and data took {format_seconds(seconds)} "
                   f"{place}.")


# ---- input: canvas or upload ------------------------------------------------------------
left, right = st.columns([1, 1.25], gap="large")
with left:
    stroke = st.slider("Stroke width", 4, 60, 22, key="draw_stroke", persist_state="session",
                       help="The preprocessing scales the digit to fit MNIST's 20×20 box: that fixes the "
                            "digit's size, not the stroke's thickness relative to it, so a thick pen on a "
                            "small digit becomes a blob. Draw big, or use a thinner pen for small digits.")
    canvas_slot = st.empty()
    with st.container(horizontal=True, vertical_alignment="center"):
        cleared = st.button("Clear", icon=":material/ink_eraser:")
        with st.popover("Upload", icon=":material/upload:", help="Read a picture of a digit instead"):
            upload = st.file_uploader("A picture of one digit", type=None, key="draw_upload",
                                      help="PNG or JPEG, any size and colours: dark ink on paper works "
                                           "as well as light on dark.")
        live = st.toggle("Read while drawing", value=True, key="draw_live", bind="query-params",
                         persist_state="session",
                         help="Off: the networks read your drawing only when you lift the pen.")
if cleared:
    # A new instance empties the canvas; two keys in turn forget what the old one sent. Not a new key
    # each time: Streamlit keeps every widget's metadata for the session's life.
    state["draw_canvas_id"] += 1
    canvas.forget_frame()

uploaded, problem = None, None
if upload is not None:
    try:
        uploaded = load_image_bytes(upload.getvalue())
    except AppError as error:
        problem = str(error)

job = trained_job(primary)
reader = reader_of(job)
names, noun = classes_of(job, primary)
others = []
for network in chosen[1:]:
    other_job = trained_job(network)
    others.append((title(network), reader_of(other_job), classes_of(other_job, network)[0]))
reading_slot = right.container()


@st.fragment
def live_reading(uploaded: np.ndarray | None, problem: str | None, stroke: int, live: bool) -> None:
    """Read the newest picture and show it; then mount the canvas, telling it which picture was read.

    Runs alone (a fragment) for every picture the canvas sends. For a pen-up picture the whole page
    runs once more, so the sections below show the finished drawing — but only after the browser says
    this run's reading is on screen: a whole run started from here would drop the reading this run
    had not yet sent, and the reading would wait for the whole page."""
    frame = canvas.current_frame()
    full_run = state.pop(FULL_RUN, False)
    # A pen-up picture the whole page has not shown yet.
    unsettled = frame is not None and frame.final and state.get(FINAL_READ) != frame.number
    if canvas.shown(frame) and unsettled and not full_run:
        state[FINAL_READ] = frame.number
        st.rerun(scope="app")
    state[READING] = None
    try:
        with reading_slot, friendly("reading the drawing"):
            source = uploaded if uploaded is not None else (frame.image if frame is not None else None)
            result = preprocess(source) if source is not None and problem is None else None
            state[RESULT] = result
            state[CURRENT_DIGIT] = None if result is None or result.empty else result.digit
            if problem:
                st.error(problem, icon=":material/error:")
            elif reader is not None and (result is None or result.empty):
                show_prompt(result, uploaded is not None, noun)
            elif reader is not None:
                if uploaded is not None:
                    st.caption("Reading the uploaded picture — remove it to use the canvas again.")
                live_frame = uploaded is None and frame is not None and not frame.final
                probabilities = show_reading(reader, title(primary), names, noun, result, live=live_frame)
                if not live_frame and noun == "digit":
                    state[READING] = (result.digit, int(np.argmax(probabilities)))
                show_others(others, result.digit)
    finally:
        with canvas_slot:
            canvas.digit_canvas(stroke_width=stroke, size=CANVAS_SIZE, instance=state["draw_canvas_id"],
                                key=f"draw_canvas_{state['draw_canvas_id'] % 2}", live=live,
                                answered=frame.number if frame is not None else 0,
                                restore=frame.png if frame is not None and frame.final else None,
                                settle=unsettled and not full_run)
    if unsettled and full_run:
        state[FINAL_READ] = frame.number


state[FULL_RUN] = True
live_reading(uploaded, problem, stroke, live)
result = state.get(RESULT)

with right, friendly("showing the network"):
    show_message()
    if state.get(READING) is not None:
        correction_row(*state[READING])
    kind, config = kind_and_config(primary)
    job = training_widget(
        kind, config, f"draw_train_{primary}", label=f"Train {title(primary)}",
        heading=f"{title(primary)} is not trained yet",
        not_trained=not_trained_note(primary) if tuned_entry(primary) is None else "",
        curve_title="Loss and accuracy", curve_metrics=("loss", "val_loss", "accuracy", "val_accuracy"))

# ---- details ------------------------------------------------------------------------------
# Only the chosen section is computed, and only when the whole page runs (pen up, a click): the
# live reading must not wait for feature maps nobody is looking at.
section = st.segmented_control("Details", ["What the network sees", "A look inside", "Make it fail", "Training",
                                          "Your handwriting"],
                               default="What the network sees", key="draw_section", required=True,
                               persist_state="session", label_visibility="collapsed")
with right, friendly("showing your other trainings"):  # under the primary network's training widget
    other_trainings(shown={job.key} if job is not None else set(), fine_tuning_shown=section == "Your handwriting")
with friendly("showing the details"):
    if section == "What the network sees":
        stages_section(result)
    elif section == "A look inside":
        look_inside_section(reader, None if result is None or result.empty else result.digit, class_names=names)
    elif section == "Make it fail":
        attack_section(chosen, None if result is None or result.empty else result.digit)
    elif section == "Training" and tuned_entry(primary) is not None and job is not None and job.entry:
        st.markdown(f"**{title(primary)}** is its base fine-tuned on someone's handwriting.")
        finetune_report(job.entry.record)
    elif section == "Training":
        training_section(primary, job)
    elif section == "Your handwriting":
        teach_section(primary, noun)
