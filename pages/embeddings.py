"""Embeddings page (coming soon)."""
import streamlit as st

st.title("Embeddings")
st.info("This page is coming soon.", icon=":material/construction:")
