"""Draw page (coming soon)."""
import streamlit as st

st.title("Draw")
st.info("This page is coming soon.", icon=":material/construction:")
