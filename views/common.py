"""What several pages share: the job manager and the image-dataset picker.

The training flow (Train, progress, Cancel) is in views/training_widget.py.

Not a page itself (app.py does not list it).
"""
from __future__ import annotations

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
