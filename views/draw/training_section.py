"""Draw's "Training" section: the chosen network's settings, and what its training recorded."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.data import load_image_dataset
from core.digits.models import KIND, class_names, data_sizes, smoothed_targets
from core.errors import AppError
from core.training.jobs import CANCELLED, DONE, FAILED, Job
from views.common import image_dataset_picker
from views.draw.networks import SETTINGS, TITLES, config_for
from views.training_widget import format_seconds, history_figure

RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01]
GALLERY = 24  # misclassified test images shown


def smoothing_note(num_classes: int) -> str:
    true, other, floor = smoothed_targets(num_classes)
    return (f" The Fast CNN learns from softened labels (label smoothing: {true:.3g} for the true class, "
            f"{other:.2g} for each other), so its loss cannot fall below about {floor:.2f}, and a "
            f"confidence near {true:.0%} is as sure as its training asks it to be.")


def training_curve_note(arch: str, augment: bool) -> str:
    """Why the training line looks worse than the validation points, for this network."""
    note = ("The training line is the mean over the epoch so far, as Keras reports it: it still counts "
            "the early, worse batches, while the validation points measure the network as it is at the "
            "end of each epoch.")
    training_mode = {
        "fast_cnn": "batch normalisation uses each batch's own statistics (validation uses its running "
                    "averages)",
        "stream2017_cnn": "dropout sets each unit of the dense layer to zero independently with "
                          "probability 0.5 (about half of them, a different half for every image) and "
                          "doubles the others (validation uses every unit, unscaled)",
    }
    differences = [training_mode[arch]] if arch in training_mode else []
    if augment:
        differences.append("the images are randomly shifted and rotated (validation sees them as they are)")
    if not differences:
        return note + " This network has no dropout or batch normalisation and trained without " \
                      "augmentation, so the running mean is the only difference."
    return note + " It is also measured in training mode: " + "; ".join(differences) + "."


def settings_form(arch: str) -> None:
    """The training settings of ``arch``; changing one names a different model (trained once, kept)."""
    current = config_for(arch)
    st.markdown(f"Settings for **{TITLES[arch]}**. Changing them names a different model: "
                "it is trained once and kept, next to the others.")
    c1, c2, c3, c4 = st.columns(4)
    st.session_state.setdefault(f"draw_dataset_{arch}", current["dataset"])  # the picker starts on it
    chosen = {
        "epochs": c1.number_input("Epochs", 1, 30, current["epochs"], key=f"draw_epochs_{arch}"),
        "learning_rate": c2.select_slider(
            "Learning rate", RATES, key=f"draw_lr_{arch}",
            value=current["learning_rate"] if current["learning_rate"] in RATES else 0.001,
            help="Adam's step size. Fast CNN warms up to it and then decays it along a cosine."),
        "batch_size": c3.select_slider("Batch size", [16, 32, 64, 128, 256, 512], key=f"draw_batch_{arch}",
                                       value=current["batch_size"]),
        "augment": c4.toggle("Augmentation", value=current["augment"], key=f"draw_augment_{arch}",
                             help="Random small shifts and rotations of the training images, "
                                  "so the network copes with wobblier real drawings."),
        "dataset": image_dataset_picker(f"draw_dataset_{arch}"),
    }
    if KIND.normalize({**current, **chosen}) != current:
        settings = st.session_state.setdefault(SETTINGS, {})
        settings[arch] = {**settings.get(arch, {}), **chosen}
        st.rerun()


def duration_metric(record: dict) -> None:
    """The training time as measured: here, or for a ready-made model on the machine that built it."""
    seconds = record.get("duration_s")
    bundled = record.get("bundled")
    if isinstance(bundled, dict):
        st.metric("Training time (build machine)", format_seconds(seconds),
                  help="Measured when scripts/build_defaults.py trained this ready-made model on the "
                       f"machine that built the app's bundled models ({bundled.get('built') or 'date unknown'}), "
                       "not on this server.")
    else:
        st.metric("Training time", format_seconds(seconds), help="Measured while it trained on this server.")


def curves(record: dict, arch: str) -> None:
    history = record.get("history", [])
    if not history:
        return
    left, right = st.columns(2)
    for column, names, title in ((left, ("loss", "val_loss"), "Loss"),
                                 (right, ("accuracy", "val_accuracy"), "Accuracy")):
        figure = history_figure(history, names, title, curve=record.get("curve"))
        figure.update_xaxes(dtick=1, range=[0, max(h["epoch"] for h in history) + 0.05])
        # The legend under the plot: above it, Plotly's and Streamlit's toolbars cover it.
        figure.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=-0.3, yanchor="top"),
                             margin=dict(l=10, r=10, t=40, b=10), height=300)
        column.plotly_chart(figure, key=f"draw_curve_{title.lower()}", config={"displayModeBar": False})
    st.caption(training_curve_note(arch, record["config"].get("augment", False)))


def confusion_matrix(confusion: np.ndarray, names: list[str]) -> None:
    figure = go.Figure(go.Heatmap(z=confusion, x=names, y=names, colorscale="Blues", text=confusion,
                                  texttemplate="%{text}" if len(names) <= 12 else None,
                                  hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    figure.update_layout(title=f"Confusion matrix on the {int(confusion.sum()):,} test images", height=420,
                         xaxis=dict(title="predicted", type="category"),
                         yaxis=dict(title="true", type="category", autorange="reversed"),
                         margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(figure, key="draw_confusion", config={"displayModeBar": False})


def mistakes(record: dict, names: list[str]) -> None:
    """The most confidently wrong test images, from the network's own data set."""
    wrong = record.get("misclassified", [])[:GALLERY]
    if not wrong:
        return
    st.markdown("**Misclassified test images** (most confidently wrong first)")
    try:
        images = load_image_dataset(record["config"].get("dataset", "mnist")).x_test
    except AppError as error:
        st.caption(f"The test images cannot be shown: {error}")
        return
    for row in range(0, len(wrong), 8):
        for column, (index, true, predicted) in zip(st.columns(8), wrong[row:row + 8]):
            column.image(images[index], caption=f"true {names[true]}, said {names[predicted]}", width=72)


def training_section(arch: str, job: Job | None) -> None:
    settings_form(arch)
    if job is None or job.status != DONE:
        if job is not None and job.status not in (FAILED, CANCELLED):
            st.info("Training — the curves appear above as epochs finish.")
        else:
            st.info("Not trained yet — use the Train button above.")
        return
    record = job.entry.record
    names = class_names(record)
    metrics = record.get("metrics", {})
    m1, m2, m3 = st.columns(3)
    m1.metric("Test accuracy", f"{metrics.get('test_accuracy', 0):.2%}")
    m2.metric("Parameters", f"{metrics.get('params', 0):,}")
    with m3:
        duration_metric(record)
    sizes = data_sizes(record)
    if sizes:
        st.caption(f"Trained on {sizes['train']:,} training images, validated on {sizes['validation']:,} "
                   f"held-out training images (the validation curves), tested on the {sizes['test']:,} "
                   "test images." + (smoothing_note(len(names)) if arch == "fast_cnn" else ""))
    curves(record, arch)
    confusion = np.array(record.get("confusion", []))
    if confusion.size:
        confusion_matrix(confusion, names)
    mistakes(record, names)
