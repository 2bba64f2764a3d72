"""Draw: classify a hand-drawn digit live with the talks' networks, and look inside them."""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.data import load_mnist
from core.digits.models import ARCHITECTURES, KIND
from core.errors import AppError
from core.digits.look_inside import is_unsure, reader_for
from core.training.jobs import DONE, FAILED, CANCELLED
from core.digits.preprocess import load_image_bytes, preprocess
from views.common import image_dataset_picker, manager
from views.draw.canvas import digit_canvas
from views.draw.inside import look_inside_section
from views.keys import CURRENT_DIGIT
from views.training_widget import history_figure, training_widget


CANVAS_SIZE = 280
TITLES = {arch: title for arch, (title, _) in ARCHITECTURES.items()}

st.title("Draw")
st.caption("Draw a digit with the mouse (or a finger). Every time you lift the pen, the networks "
           "below read it — the same preprocessing that made MNIST, then one forward pass.")

state = st.session_state
state.setdefault("draw_canvas_id", 0)
state.setdefault("draw_settings", {})

# ---- which networks ---------------------------------------------------------
chosen = st.multiselect(
    "Networks", list(ARCHITECTURES), default=["fast_cnn"], format_func=TITLES.get,
    help="The first one gives the Prediction and is the one you look inside; the others are "
         "compared with it on the same drawing.")
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


def config_for(arch: str) -> dict:
    """The training settings the user chose for ``arch`` (defaults until changed)."""
    settings = state["draw_settings"].get(arch, {})
    limit = st.query_params.get("limit")  # e.g. ?limit=10000 for a quick demo model
    if limit and "train_limit" not in settings and limit.isdigit():
        settings = {**settings, "train_limit": int(limit)}
    return KIND.normalize({"arch": arch, **settings})


def square(image: np.ndarray) -> np.ndarray:
    """Pad a tall or wide crop with black to a square, so the four stages line up in a row."""
    height, width = image.shape
    size = max(height, width)
    top, left = (size - height) // 2, (size - width) // 2
    return np.pad(image, ((top, size - height - top), (left, size - width - left)))


def trained_reader(arch: str):
    """The network for its current config, ready to read digits; None until it is trained."""
    job = manager().find("digits", config_for(arch))
    return reader_for(job.model()) if job is not None and job.status == DONE else None


def training_curve_note(arch: str, augment: bool) -> str:
    """Why the training line looks worse than the validation points, for this network."""
    note = ("The training line is the mean over the epoch so far, as Keras reports it: it still counts "
            "the early, worse batches, while the validation points measure the network as it is at the "
            "end of each epoch.")
    training_mode = {
        "fast_cnn": "batch normalisation uses each batch's own statistics (validation uses its running "
                    "averages)",
        "stream2017_cnn": "dropout switches off half of the dense layer's units (validation uses them all)",
    }
    differences = [training_mode[arch]] if arch in training_mode else []
    if augment:
        differences.append("the images are randomly shifted and rotated (validation sees them as they are)")
    if not differences:
        return note + " This network has no dropout or batch normalisation and trained without " \
                      "augmentation, so the running mean is the only difference."
    return note + " It is also measured in training mode: " + "; ".join(differences) + "."


# ---- input: canvas or upload ---------------------------------------------------
left, right = st.columns([1, 1.25], gap="large")
with left:
    stroke = st.slider("Stroke width", 4, 60, 22, help="The preprocessing scales the digit to fit "
                       "MNIST's 20×20 box: that fixes the digit's size, not the stroke's thickness "
                       "relative to it, so a thick pen on a small digit becomes a blob. Draw big, or "
                       "use a thinner pen for small digits.")
    drawing = digit_canvas(stroke_width=stroke, size=CANVAS_SIZE, instance=state["draw_canvas_id"],
                           key=f"draw_canvas_{state['draw_canvas_id'] % 2}")
    if st.button("Clear", icon=":material/ink_eraser:"):
        # A new key forgets the drawing sent, a new instance empties the canvas. Two keys in turn,
        # not a new one each time: Streamlit keeps every widget's metadata for the session's life,
        # and under a class's load a key per Clear kept ~2 records (with their closures) per prediction.
        state["draw_canvas_id"] += 1
        state[CURRENT_DIGIT] = None
        st.rerun()
    # Folded, so that on a phone, where the columns stack, the Prediction follows the canvas closely.
    with st.expander("…or upload a picture of a digit", icon=":material/upload:"):
        upload = st.file_uploader("A picture of one digit", type=None,
                                  help="PNG or JPEG, any size and colours: dark ink on paper works "
                                       "as well as light on dark.")

source, problem = None, None
if upload is not None:
    try:
        source = load_image_bytes(upload.getvalue())
        st.caption("Reading the uploaded picture — remove it to use the canvas again.")
    except AppError as error:
        problem = str(error)
elif drawing is not None:
    source = drawing

result = None
if source is not None:
    try:
        result = preprocess(source)
    except AppError as error:
        problem = str(error)
    except Exception as error:  # an input nobody foresaw: explain, do not crash the page
        problem = f"This picture could not be read ({type(error).__name__}: {error})."
state[CURRENT_DIGIT] = None if result is None or result.empty else result.digit

# ---- prediction -------------------------------------------------------------------
job, reader = None, None
with right, friendly("reading the drawing"):
    if problem:
        st.error(problem, icon=":material/error:")
    job = training_widget(
        "digits", config_for(primary), f"draw-train-{primary}", label=f"Train {TITLES[primary]}",
        heading=f"{TITLES[primary]} is not trained yet",
        not_trained=f"Training takes about {'half a minute' if primary == 'fast_cnn' else 'a few minutes'} "
                    "on two CPU cores and happens once: the model is kept in the model store.",
        curve_title="Loss and accuracy", curve_metrics=("loss", "val_loss", "accuracy", "val_accuracy"))
    if job is not None and job.status == DONE:
        reader = reader_for(job.model())
    # (Until the network is trained, the training widget above says what is going on.)
    if reader is not None and (result is None or result.empty):
        st.metric("Prediction", "–", help="Draw a digit on the black square.")
        st.info("Draw a digit on the black canvas" + (" — " + result.notes[0] if result and result.notes else "."),
                icon=":material/draw:")
    elif reader is not None:
        probabilities = reader.probabilities(result.digit)
        best = int(np.argmax(probabilities))
        st.metric("Prediction", str(best), help=f"What {TITLES[primary]} reads, with its confidence below.")
        st.caption(f"{TITLES[primary]} · confidence {probabilities[best]:.1%}")
        for note in result.notes:
            st.warning(note, icon=":material/help:")
        if is_unsure(probabilities):
            runner_up = int(np.argsort(probabilities)[-2])
            st.warning(f"The network is unsure: {best} ({probabilities[best]:.0%}) or "
                       f"{runner_up} ({probabilities[runner_up]:.0%})?", icon=":material/help:")
        colours = ["#f26b1d" if d == best else "#9aa5b8" for d in range(10)]
        figure = go.Figure(go.Bar(x=[str(d) for d in range(10)], y=probabilities, marker_color=colours,
                                  hovertemplate="digit %{x}: %{y:.1%}<extra></extra>"))
        figure.update_layout(height=230, margin=dict(l=10, r=10, t=10, b=10),
                             yaxis=dict(range=[0, 1], tickformat=".0%", title="probability"),
                             xaxis=dict(title="digit", type="category"))
        st.plotly_chart(figure, key="draw-probabilities")

        others = [arch for arch in chosen[1:]]
        if others:
            st.markdown("**The other networks on the same drawing**")
            columns = st.columns(len(others))
            for column, arch in zip(columns, others):
                other_reader = trained_reader(arch)
                with column:
                    if other_reader is None:
                        st.metric(TITLES[arch], "–", help="Not trained yet: pick it first in Networks to train it.")
                        st.caption("not trained yet")
                    else:
                        p = other_reader.probabilities(result.digit)
                        st.metric(TITLES[arch], str(int(np.argmax(p))))
                        st.caption(f"confidence {p.max():.1%}")

# ---- details -------------------------------------------------------------------------
# Only the chosen section is computed: a stroke reruns the page, and the live
# prediction must not wait for feature maps nobody is looking at.
section = st.segmented_control("Details", ["What the network sees", "A look inside", "Training"],
                               default="What the network sees", key="draw-section", required=True,
                               label_visibility="collapsed")

with friendly("showing the details"):
    if section == "What the network sees":
        if result is None or result.empty:
            st.info("Draw something to see the preprocessing stages.")
        else:
            st.markdown("MNIST digits were made by cropping each digit to its bounding box, scaling it "
                        "into a 20×20 box keeping the aspect ratio (anti-aliasing gives the grey edges), "
                        "and pasting it into a 28×28 field so that its **centre of mass** is at the "
                        "centre. Your drawing goes through the same steps.")
            stages = [("Ink", result.stages["ink"]), ("Cropped to the digit", square(result.stages["cropped"])),
                      ("Fitted into 20×20", result.stages["20×20"]), ("What the network sees (28×28)", result.digit)]
            for column, (caption, image) in zip(st.columns(4), stages):
                column.image(np.clip(image, 0, 1), caption=caption, clamp=True, width="stretch")

    elif section == "A look inside":
        look_inside_section(reader, None if result is None or result.empty else result.digit)

    elif section == "Training":
        current = config_for(primary)
        st.markdown(f"Settings for **{TITLES[primary]}**. Changing them names a different model: "
                    "it is trained once and kept, next to the others.")
        c1, c2, c3, c4 = st.columns(4)
        rates = [0.0001, 0.0003, 0.001, 0.003, 0.01]
        chosen_settings = {
            "epochs": c1.number_input("Epochs", 1, 30, current["epochs"], key=f"draw-epochs-{primary}"),
            "learning_rate": c2.select_slider(
                "Learning rate", rates, key=f"draw-lr-{primary}",
                value=current["learning_rate"] if current["learning_rate"] in rates else 0.001,
                help="Adam's step size. Fast CNN warms up to it and then decays it along a cosine."),
            "batch_size": c3.select_slider("Batch size", [16, 32, 64, 128, 256, 512], key=f"draw-batch-{primary}",
                                           value=current["batch_size"]),
            "augment": c4.toggle("Augmentation", value=current["augment"], key=f"draw-augment-{primary}",
                                 help="Random small shifts and rotations of the training images, "
                                      "so the network copes with wobblier real drawings."),
            "dataset": image_dataset_picker(f"draw-dataset-{primary}"),
        }
        if KIND.normalize({**current, **chosen_settings}) != current:
            state["draw_settings"][primary] = {**state["draw_settings"].get(primary, {}), **chosen_settings}
            st.rerun()
        if job is not None and job.status == DONE:
            record = job.entry.record
            metrics = record.get("metrics", {})
            m1, m2, m3 = st.columns(3)
            m1.metric("Test accuracy", f"{metrics.get('test_accuracy', 0):.2%}")
            m2.metric("Parameters", f"{metrics.get('params', 0):,}")
            m3.metric("Training time", f"{record.get('duration_s', 0):.0f} s")
            limit = record["config"].get("train_limit")
            smoothing = (" The Fast CNN learns from softened labels (label smoothing: 0.91 for the true "
                         "digit, 0.01 for each other), so its loss cannot fall below about 0.50, and a "
                         "confidence near 91 % is as sure as its training asks it to be.")
            confusion = np.array(record.get("confusion", []))
            trained_on = f"the first {limit:,}" if limit else "all but the last 5,000"
            st.caption(f"Trained on {trained_on} training images, validated on "
                       f"{max(100, limit // 5) if limit else 5_000:,} held-out training images "
                       f"(the validation curves), tested on the {int(confusion.sum()):,} test images."
                       + (smoothing if primary == "fast_cnn" else ""))
            history = record.get("history", [])
            if history:
                h1, h2 = st.columns(2)
                for column, names, title in ((h1, ("loss", "val_loss"), "Loss"),
                                             (h2, ("accuracy", "val_accuracy"), "Accuracy")):
                    curves = history_figure(history, names, title, curve=record.get("curve"))
                    curves.update_xaxes(dtick=1, range=[0, max(h["epoch"] for h in history) + 0.05])
                    column.plotly_chart(curves, key=f"draw-{title.lower()}")
                st.caption(training_curve_note(primary, record["config"].get("augment", False)))
            if confusion.size:
                classes = list(range(len(confusion)))
                figure = go.Figure(go.Heatmap(z=confusion, x=classes, y=classes,
                                              colorscale="Blues", text=confusion, texttemplate="%{text}",
                                              hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
                figure.update_layout(title=f"Confusion matrix on the {int(confusion.sum()):,} test images",
                                     height=420,
                                     xaxis=dict(title="predicted", dtick=1),
                                     yaxis=dict(title="true", dtick=1, autorange="reversed"),
                                     margin=dict(l=10, r=10, t=40, b=10))
                st.plotly_chart(figure, key="draw-confusion")
            wrong = record.get("misclassified", [])[:24]
            if wrong and record["config"].get("dataset", "mnist") == "mnist":
                st.markdown("**Misclassified test digits** (most confidently wrong first)")
                images = load_mnist().x_test
                for row in range(0, len(wrong), 8):
                    for column, (index, true, predicted) in zip(st.columns(8), wrong[row:row + 8]):
                        column.image(images[index], caption=f"true {true}, said {predicted}", width=72)
        elif job is not None and job.status not in (FAILED, CANCELLED):
            st.info("Training — the curves appear above as epochs finish.")
        else:
            st.info("Not trained yet — use the Train button above.")
