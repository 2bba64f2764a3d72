"""Which networks Draw shows and with which settings.

A network is one of the talks' architectures (its id is the architecture, e.g. ``fast_cnn``; trained
under the settings of the Training section) or a network fine-tuned on someone's handwriting (its id
is ``tuned:<store key>``), listed right after its base.

The choice survives a page switch (the picker keeps its value for the session) and a reload or a
shared link (it is bound to the URL). Training settings chosen in the Training section live in
``draw_settings``, a plain session key.
"""
from __future__ import annotations

import streamlit as st

from core.digits.finetune import NAME as TUNED_KIND
from core.digits.finetune import fine_tuned_networks
from core.digits.look_inside import DigitReader, reader_for
from core.digits.models import ARCHITECTURES, KIND, class_names, class_noun
from core.training.jobs import DONE, QUEUED, RUNNING, Job
from core.training.store import Entry
from views import keys
from views.common import manager
from views.state import progress_text

TITLES = {arch: title for arch, (title, _) in ARCHITECTURES.items()}
DEFAULT = ["fast_cnn"]
CHOSEN = "draw_networks"  # the picker's key, and its name in the URL
SETTINGS = "draw_settings"  # arch -> the training settings changed in the Training section
TUNED = "tuned:"
_tuned: dict[str, Entry] = {}  # this run's fine-tuned networks by id, read once per page run


def tuned_entry(network: str) -> Entry | None:
    return _tuned.get(network)


def title(network: str) -> str:
    entry = tuned_entry(network)
    if entry is None:
        return TITLES.get(network, network)
    return f"{entry.record.get('title', 'Fine-tuned')} ({entry.record.get('finetune', {}).get('drawings', '?')} drawings)"


def arch_of(network: str) -> str:
    entry = tuned_entry(network)
    return entry.config.get("arch", "fast_cnn") if entry is not None else network


def choose_networks() -> list[str]:
    """The Networks picker; returns the chosen networks' ids, the first being the one that reads.

    Kept for the session across page switches and bound to the URL (``?draw_networks=…``), so a
    reload or a shared link shows the same networks."""
    _tuned.clear()
    _tuned.update({TUNED + entry.key: entry for entry in fine_tuned_networks(manager().store)})
    options = []
    for arch in ARCHITECTURES:  # each base, then the networks fine-tuned from it
        options += [arch] + [key for key, entry in _tuned.items() if entry.config.get("arch") == arch]
    kept = st.session_state.get(CHOSEN)
    if isinstance(kept, list) and any(network not in options for network in kept):  # deleted meanwhile
        st.session_state[CHOSEN] = [network for network in kept if network in options]
    return list(st.multiselect(
        "Networks", options, default=DEFAULT, key=CHOSEN, format_func=title,
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


def kind_and_config(network: str) -> tuple[str, dict]:
    """The job kind and config that train ``network``."""
    entry = tuned_entry(network)
    return (TUNED_KIND, entry.config) if entry is not None else ("digits", config_for(network))


def trained_job(network: str) -> Job | None:
    """The finished training of ``network`` (for an architecture: under its current settings), or None."""
    job = manager().find(*kind_and_config(network))
    return job if job is not None and job.status == DONE else None


def reader_of(job: Job | None) -> DigitReader | None:
    return reader_for(job.model()) if job is not None else None


def classes_of(job: Job | None, network: str) -> tuple[list[str], str]:
    """The class names (one per output) and what one class is, for a trained job or, before
    training, for the data set it will learn."""
    record = job.entry.record if job is not None and job.entry is not None else {"config": config_for(arch_of(network))}
    return class_names(record), class_noun(record)


def _show(config: dict) -> None:
    """Make the network a training of this page is training the one that reads, under its settings."""
    arch = config["arch"]
    st.session_state.setdefault(SETTINGS, {})[arch] = {
        name: config[name] for name in ("epochs", "batch_size", "learning_rate", "augment", "dataset",
                                        "train_limit", "seed") if name in config}
    st.session_state[CHOSEN] = [arch] + [n for n in st.session_state.get(CHOSEN, []) if n != arch]


def other_trainings(shown: set[str], fine_tuning_shown: bool = False) -> None:
    """This session's trainings started on Draw that the page is not showing now (another network
    is first, or its settings changed): their progress, and a button to show one. Other pages'
    trainings are in the app's panel above every page (views/state.py)."""
    mine = [t for t in st.session_state.get(keys.MY_TRAININGS, [])
            if t.get("page") == "draw" and t["key"] not in shown
            and not (fine_tuning_shown and t["kind"] == TUNED_KIND)]
    running = [t for t in mine if (job := manager().find(t["kind"], t["config"])) is not None
               and job.status in (QUEUED, RUNNING)]
    if not running:
        return

    @st.fragment(run_every=2.0)
    def panel() -> None:
        jobs = [(training, manager().find(training["kind"], training["config"])) for training in running]
        if not any(job is not None and job.status in (QUEUED, RUNNING) for _, job in jobs):
            st.rerun(scope="app")  # all ended: the page shows the finished networks
        for index, (training, job) in enumerate(jobs):
            if job is None or job.status not in (QUEUED, RUNNING):
                continue
            progress = job.progress
            text, action = st.columns([4, 1], vertical_alignment="center")
            text.progress(progress.fraction if progress.status == RUNNING else 0.0,
                          text=f"Also training for you: **{training['title']}** — {progress_text(progress)}")
            if training["kind"] == KIND.name and action.button(
                    "Show it", key=f"draw_show_training_{index}", on_click=_show, args=(training["config"],),
                    help="Make it the network that reads, first in Networks."):
                st.rerun(scope="app")

    panel()
