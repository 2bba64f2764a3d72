"""Text page (coming soon)."""
import streamlit as st

from pages.common import use_app_navigation

use_app_navigation()

st.title("Text")
st.info("This page is coming soon.", icon=":material/construction:")
