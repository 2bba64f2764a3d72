"""What several pages share: the job manager and the image-dataset picker.

The training flow (Train, progress, Cancel) is in views/training_widget.py.

Not a page itself (app.py does not list it).
"""
from __future__ import annotations

import math

import streamlit as st

from core.data import IMAGE_DATASETS, image_dataset_problem
from core.training.jobs import get_manager


@st.cache_resource(show_spinner=False)
def manager():
    """The process-wide job manager (one per server, shared by every session)."""
    return get_manager()


def image_dataset_picker(key: str, label: str = "Training data") -> str:
    """Pick an image dataset; a download-only one while offline falls back to MNIST, saying so."""
    choice = st.selectbox(label, list(IMAGE_DATASETS), key=key,
                          format_func=lambda name: IMAGE_DATASETS[name][0],
                          help="MNIST ships with the app. The others come from tensorflow-datasets "
                               "and are downloaded once, when the machine is online.")
    problem = image_dataset_problem(choice)
    if problem:
        st.warning(problem + " Using MNIST for now.", icon=":material/cloud_off:")
        return "mnist"
    return choice


def format_seconds(seconds: float | None) -> str:
    """A duration as people say it: "45 s", "2 min 05 s"; "–" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
