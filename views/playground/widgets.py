"""The Playground's widgets show the session's state: their values are set from it, not the reverse.

Streamlit forgets a widget's value when its page is left, and a callback may change fields other
widgets show (a new problem type picks its first data set, Advanced off trims the layers): before
the widgets are drawn, :func:`sync_widgets` gives every ``pg_*`` widget the state's value.
"""
from __future__ import annotations

from typing import Any, MutableMapping

from views.playground.session import PlaygroundSession


def widget_values(session: PlaygroundSession) -> dict[str, Any]:
    """Widget key → the value it shows."""
    state = session.state
    values = {f"pg_{name}": getattr(state, name) for name in (
        "learning_rate", "activation", "regularization", "regularization_rate", "problem", "dataset", "classes",
        "train_ratio", "noise", "batch_size", "discretize", "optimizer", "loss", "dropout", "advanced")}
    values["pg_features"] = list(state.features)
    values["pg_show_test"] = state.show_test or state.dataset == "custom"  # (your own points: all shown)
    values.update({f"pg_act_{index}": state.activation_of(index) for index in range(len(state.hidden))})
    return values


def sync_widgets(session_state: MutableMapping, session: PlaygroundSession) -> None:
    """Set each widget's value from the session where it differs (call before any widget is drawn)."""
    for key, value in widget_values(session).items():
        if key not in session_state or session_state[key] != value:
            session_state[key] = value
    if session_state.get("pg_paint_class") not in session.points.choosable():
        session_state["pg_paint_class"] = 0
