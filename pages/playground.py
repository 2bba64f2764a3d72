"""Playground page (coming soon)."""
import streamlit as st

from pages.common import use_app_navigation

use_app_navigation()

st.title("Playground")
st.info("This page is coming soon.", icon=":material/construction:")
