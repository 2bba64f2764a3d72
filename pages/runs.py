"""Runs page (coming soon)."""
import streamlit as st

st.title("Runs")
st.info("This page is coming soon.", icon=":material/construction:")
