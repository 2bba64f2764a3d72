"""Fixtures for the AppTest page tests."""
from __future__ import annotations

import pytest
import streamlit as st


@pytest.fixture
def fresh_manager():
    st.cache_resource.clear()  # views.common.manager() must see this test's store
    yield
    st.cache_resource.clear()
