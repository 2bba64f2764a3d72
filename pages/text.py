"""Text page (coming soon)."""
import streamlit as st

st.title("Text")
st.info("This page is coming soon.", icon=":material/construction:")
