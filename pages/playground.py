"""Playground page (coming soon)."""
import streamlit as st

st.title("Playground")
st.info("This page is coming soon.", icon=":material/construction:")
