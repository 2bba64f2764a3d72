"""State a user expects to keep: settings across page switches and in the URL, and the trainings
this session started, shown on every other page while they run.

Streamlit forgets the value of a widget whose page is not rendered, so Draw → Text → Draw would
reset Draw's networks. Streamlit 1.67 keeps it when the widget asks: ``persist_state="session"``
keeps the value for the whole session, across page switches; ``bind="query-params"`` also writes
it into the URL under the widget's key (removed while it equals the default), so a reload or a
shared link reproduces it. :func:`kept` gives a widget those arguments::

    chosen = st.multiselect("Networks", options, default=["fast_cnn"], **kept("draw_networks"))
    preset = st.radio("Preset", presets, **kept("text_preset", url=True))

For what is not a widget value (a custom component's output, a table selection), ordinary
``st.session_state`` keys already survive page switches; :func:`url_value` and
:func:`set_url_value` put such a value in the URL. A bound widget's parameter belongs to the
widget: never set it through ``st.query_params`` (Streamlit refuses).

Not a page itself (app.py does not list it).
"""
from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

from core.training.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING
from views import keys
from views.common import format_seconds, manager

T = TypeVar("T")


def kept(key: str, *, url: bool = False) -> dict:
    """Keyword arguments for a widget whose value survives page switches (and, with ``url``,
    reloads and shared links, as ``?<key>=<value>``)."""
    return {"key": key, "persist_state": "session", **({"bind": "query-params"} if url else {})}


def url_value(name: str, default: T, parse: Callable[[str], T] = str) -> T:
    """The URL's ``?<name>=`` parsed, or ``default`` when it is missing or does not parse."""
    raw = st.query_params.get(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except (TypeError, ValueError):
        return default


def set_url_value(name: str, value, default=None) -> None:
    """Put ``value`` in the URL as ``?<name>=`` (removed when it equals ``default``)."""
    if value == default or value is None:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != str(value):
        st.query_params[name] = str(value)


# ---- the trainings this session started ----------------------------------------------------------

STATUS_WORDS = {DONE: "finished", FAILED: "failed", CANCELLED: "was cancelled"}


def current_page() -> str:
    """The url path of the page this run shows ("" for Home), as app.py recorded it."""
    return st.session_state.get(keys.CURRENT_PAGE, "")


def remember_training(kind: str, config: dict, key: str, title: str) -> None:
    """Note that this session asked for a training (``key``: the job's store key), on this page and
    with this page's URL parameters (e.g. Draw's ``?limit=3000``, which its settings depend on), so
    the link back shows the same training."""
    mine = [t for t in st.session_state.get(keys.MY_TRAININGS, []) if t["key"] != key]
    mine.append({"kind": kind, "config": config, "key": key, "title": title, "page": current_page(),
                 "query": st.query_params.to_dict()})
    st.session_state[keys.MY_TRAININGS] = mine


def progress_text(progress) -> str:
    """One line: where a queued or running training is."""
    if progress.status == QUEUED:
        where = f" (position {progress.queue_position})" if progress.queue_position else ""
        return f"waiting in the queue{where}"
    if not progress.total_steps:
        return progress.message or "starting (loading TensorFlow)…"
    epoch = f"epoch {progress.epoch}/{progress.epochs} · " if progress.epochs else ""
    return (f"{progress.message or 'training'}: {epoch}step {progress.step}/{progress.total_steps}, "
            f"about {format_seconds(progress.eta_seconds)} left")


def trainings_panel(pages: dict) -> None:
    """The trainings this session started on other pages: progress while they run, then one
    line saying how they ended, each with a link to its page (``pages``: url path → ``st.Page``).
    Seen on their own page (where the training widget shows them), finished ones are forgotten."""
    here = current_page()
    mine = st.session_state.get(keys.MY_TRAININGS, [])
    jobs = {t["key"]: manager().find(t["kind"], t["config"]) for t in mine}
    # A training whose page is open is shown there; once finished, it has been seen.
    mine = [t for t in mine if jobs[t["key"]] is not None
            and not (t["page"] == here and jobs[t["key"]].finished)]
    st.session_state[keys.MY_TRAININGS] = mine
    elsewhere = [t for t in mine if t["page"] != here]
    if not elsewhere:
        return
    running = any(not jobs[t["key"]].finished for t in elsewhere)

    @st.fragment(run_every=2.0 if running else None)
    def panel() -> None:
        with st.container(border=True, key="trainings_panel"):
            for training in elsewhere:
                job = manager().find(training["kind"], training["config"])
                if job is None:
                    continue
                page = training["page"]
                text, link = st.columns([4, 1], vertical_alignment="center")
                if job.status in (QUEUED, RUNNING):
                    progress = job.progress
                    text.progress(progress.fraction if progress.status == RUNNING else 0.0,
                                  text=f"**{training['title']}** — {progress_text(progress)}")
                else:
                    text.markdown(f"**{training['title']}** {STATUS_WORDS.get(job.status, 'stopped')}.")
                if page in pages:
                    link.page_link(pages[page], label=f"Open {pages[page].title}",
                                   icon=":material/arrow_forward:", query_params=training.get("query") or None)

    panel()
