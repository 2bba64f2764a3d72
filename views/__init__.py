"""Streamlit pages (run through ``st.navigation`` in app.py) and their shared widgets."""
