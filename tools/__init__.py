"""Helpers shared by the tests, the benchmarks and the deploy checks (not part of the app):

- ``tools.browser``: start the real app under ``streamlit run``, find Debian's Chromium, wait for a
  page to be idle;
- ``tools.drive``: drive the app's pages in Chromium (pen strokes on Draw's canvas, the Prediction,
  the Embeddings map's points);
- ``tools.streamlit_client``: a browser session without the browser (Streamlit's websocket protocol);
- ``tools.memory``: what a server process and its children hold, sampled in the background.
"""
