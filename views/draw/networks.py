"""Which networks Draw shows and with which settings.

The choice survives a page switch (the picker keeps its value for the session) and a reload or a
shared link (it is bound to the URL). Training settings chosen in the Training section live in
``draw_settings``, a plain session key.
"""
from __future__ import annotations

import streamlit as st

from core.digits.look_inside import DigitReader, reader_for
from core.digits.models import ARCHITECTURES, KIND, class_names, class_noun
from core.training.jobs import DONE, Job
from views.common import manager

TITLES = {arch: title for arch, (title, _) in ARCHITECTURES.items()}
DEFAULT = ["fast_cnn"]
CHOSEN = "draw_networks"  # the picker's key, and its name in the URL
SETTINGS = "draw_settings"  # arch -> the training settings changed in the Training section


def choose_networks() -> list[str]:
    """The Networks picker; returns the chosen architectures, the first being the one that reads.

    Kept for the session across page switches and bound to the URL (``?draw_networks=…``), so a
    reload or a shared link shows the same networks."""
    return list(st.multiselect(
        "Networks", list(ARCHITECTURES), default=DEFAULT, key=CHOSEN, format_func=TITLES.get,
        bind="query-params", persist_state="session",
        help="The first one gives the Prediction and is the one you look inside; the others are "
             "compared with it on the same drawing."))


def config_for(arch: str) -> dict:
    """The training settings the user chose for ``arch`` (defaults until changed)."""
    settings = st.session_state.get(SETTINGS, {}).get(arch, {})
    limit = st.query_params.get("limit")  # e.g. ?limit=10000 for a quick demo model
    if limit and "train_limit" not in settings and limit.isdigit():
        settings = {**settings, "train_limit": int(limit)}
    return KIND.normalize({"arch": arch, **settings})


def trained_job(arch: str) -> Job | None:
    """The finished training of ``arch`` under its current settings, or None."""
    job = manager().find("digits", config_for(arch))
    return job if job is not None and job.status == DONE else None


def reader_of(job: Job | None) -> DigitReader | None:
    return reader_for(job.model()) if job is not None else None


def classes_of(job: Job | None, arch: str) -> tuple[list[str], str]:
    """The class names (one per output) and what one class is, for a trained job or, before
    training, for the data set it will learn."""
    record = job.entry.record if job is not None and job.entry is not None else {"config": config_for(arch)}
    return class_names(record), class_noun(record)
