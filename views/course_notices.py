"""What every page says first when the course layout has trouble (README, "Serving a course"):
the shared training queue refused or unavailable, and a page that moved to another web process.

Not a page itself (app.py calls :func:`show` on every page, Home included).
"""
from __future__ import annotations

import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

#: When this session was found to be a reconnection to another process (time.time()).
MOVED_AT = "app_session_moved_at"
MOVED_NOTICE_SECONDS = 120  # long enough to be read, then out of the way


def show(manager) -> None:
    queue_notice(manager)
    moved_session_notice()


def queue_notice(manager) -> None:
    """The queue refused (a configuration to fix) or unavailable (Redis away: it retries)."""
    text = manager.queue_notice()
    if text and manager.queue_problem:
        st.error(text, icon=":material/lock:")
    elif text:
        st.warning(text, icon=":material/cloud_off:")


def previous_session_id() -> str:
    """The session this browser tab had before its websocket reconnected ('' on a first connection).

    Streamlit's frontend sends it as the third entry of the websocket's Sec-WebSocket-Protocol header;
    the process resumes that session if it holds it, else it starts a new one."""
    entries = [entry.strip() for entry in (st.context.headers.get("Sec-Websocket-Protocol") or "").split(",")]
    return entries[2] if len(entries) >= 3 else ""


def moved_session_notice() -> None:
    """After its web process stopped (a crash, a restart), the browser reconnects to another one
    (nginx's sticky route moves it), which does not know its session: say that settings may be gone."""
    if MOVED_AT not in st.session_state:
        ctx = get_script_run_ctx()
        previous = previous_session_id()
        moved = bool(previous) and ctx is not None and previous != ctx.session_id
        st.session_state[MOVED_AT] = time.time() if moved else None
    moved_at = st.session_state[MOVED_AT]
    if moved_at is not None and time.time() - moved_at < MOVED_NOTICE_SECONDS:
        st.info("This page reconnected to another server process (the one it was on stopped), so what "
                "you had set or drawn here may be gone. Trainings carry on, and trained models are kept.",
                icon=":material/sync_problem:")
