"""This session's last result per name, reused while its key holds (a click or a filter reruns the
page without recomputing a projection). Not a page itself (app.py does not list it)."""
from __future__ import annotations

import streamlit as st


def remembered(name: str, key: tuple, compute):
    """This session's last result for ``name``: reruns (a click, a filter) reuse it while ``key`` holds."""
    memo = st.session_state.setdefault("emb_memo", {})
    if name not in memo or memo[name][0] != key:
        memo[name] = (key, compute())
    return memo[name][1]
