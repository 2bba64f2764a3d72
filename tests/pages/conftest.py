"""Fixtures for the AppTest page tests."""
from __future__ import annotations

import pytest
import streamlit as st


@pytest.fixture
def fresh_manager(monkeypatch):
    st.cache_resource.clear()  # pages.common.manager() must see this test's store
    # AppTest resets Streamlit's "pages/ folder" flag before every run, so the page's
    # use_app_navigation() would rerun every run and swallow each button click.
    # A real server flips it once (the e2e test covers that path).
    import pages.runtime

    monkeypatch.setattr(pages.runtime, "use_app_navigation", lambda: None)
    yield
    st.cache_resource.clear()
