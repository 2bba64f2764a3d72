"""Deep Learning Playground: entry point, navigation and the home page.

Run with ``streamlit run app.py``. This file imports no TensorFlow: the home
page must open fast, and each page loads what it needs when it is visited.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

import server_patches

server_patches.apply_all()

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "assets" / "images"

st.set_page_config(page_title="Deep Learning Playground", page_icon="🧠", layout="wide")

# (file, title, icon, picture, one-sentence introduction)
PAGES = [
    ("views/draw/page.py", "Draw", ":material/draw:", "draw.png",
     "Draw a digit and watch the networks from the talks classify it while you draw, "
     "then look inside them: feature maps, activations, filters and saliency."),
    ("views/playground/page.py", "Playground", ":material/hub:", "playground.png",
     "The TensorFlow Playground: add layers and neurons, change activation, noise and "
     "learning rate, and watch a small network bend its decision boundary around 2-D data."),
    ("views/text/page.py", "Text", ":material/notes:", "text.png",
     "A character LSTM written from scratch in TensorFlow: train it on Shakespeare or your "
     "own text, watch it learn to spell, and sample from your seed."),
    ("views/embeddings/page.py", "Embeddings", ":material/scatter_plot:", "embeddings.png",
     "What the networks learned, projected with PCA, t-SNE or UMAP into interactive 2-D or 3-D "
     "plots, with thumbnails, nearest neighbours and export to TensorBoard."),
    ("views/runs/page.py", "Runs", ":material/monitoring:", "runs.png",
     "Every training run as TensorBoard shows it: curves with smoothing, weight "
     "histograms over time, model summaries, and a button that opens TensorBoard itself."),
]


def home() -> None:
    st.title("Deep Learning Playground")
    st.markdown(
        "Everything from the live-coding talks — the 2017 stream's MNIST CNN (written there in raw "
        "TensorFlow, rebuilt here as a Keras model), a Keras MLP with TensorBoard, an LSTM text "
        "generator written from scratch in TensorFlow and the embedding projector — working, on your "
        "laptop, offline. Ready-made models come with the app; the others train on demand in the "
        "background and are kept in a local model store, so each trains once."
    )
    # Each card is one link: its page link is stretched over the whole card, picture included,
    # so a click anywhere on it navigates as the link does (within the app, session kept).
    cards = ", ".join(f".st-key-home_card_{Path(path).parent.name}" for path, *_ in PAGES)
    st.html(f"<style>{cards} {{position: relative;}} "
            f":is({cards}) [data-testid='stElementContainer']:has([data-testid='stPageLink']) {{position: static;}} "
            f":is({cards}) [data-testid='stPageLink'] a::after "
            "{content: ''; position: absolute; inset: 0; z-index: 1;}</style>")
    # One row of columns per three pages: on a phone the columns stack, and row by row keeps
    # the pages in order.
    for index, (path, title, icon, picture, blurb) in enumerate(PAGES):
        if index % 3 == 0:
            columns = st.columns(3)
        with columns[index % 3].container(border=True, key=f"home_card_{Path(path).parent.name}"):
            st.image(str(IMAGES / picture), width="stretch")
            st.page_link(path, label=title, icon=icon)
            st.caption(blurb)


def store_notice() -> None:
    """Say plainly, on every page, when the model store is degraded."""
    from core.training.jobs import get_manager  # no TensorFlow behind this import

    store = get_manager().store
    if store.warning:
        st.warning(store.warning, icon=":material/warning:")
    for problem in store.problems[-3:]:
        st.info(problem, icon=":material/build:")


pages = {Path(path).parent.name: st.Page(path, title=title, icon=icon, url_path=Path(path).parent.name)
         for path, title, icon, _, _ in PAGES}
navigation = st.navigation([st.Page(home, title="Home", icon=":material/home:", default=True), *pages.values()])
from core.training import bundled  # noqa: E402 (no TensorFlow behind this import)
from core.training.jobs import get_manager  # noqa: E402
from views import course_notices  # noqa: E402

bundled.check_once(get_manager())  # no TensorFlow: a damaged bundled file is reported even on Home
if navigation.url_path:  # any page but Home: the home page stays free of TensorFlow so it opens fast
    from core.imports import import_heavy

    with st.spinner("Loading TensorFlow (only the first page of a fresh server waits for this)…"):
        import_heavy()
        bundled.install_once(get_manager())  # the ready-made models, loaded with TensorFlow
# After the install: a bundled model that fails to load must be reported on this very page.
store_notice()
course_notices.show(get_manager())  # the shared queue away or refused; a session moved to this process
# The trainings this session started on other pages, with their progress and a link (views/state.py).
from views import keys  # noqa: E402  (after the server patches)
from views.state import trainings_panel  # noqa: E402

st.session_state[keys.CURRENT_PAGE] = navigation.url_path
trainings_panel(pages)
navigation.run()
