"""The Embeddings page's controls: how many points, each method's settings, and how the points are
shown (colours, label filter, the projector's search, isolating the selection).

Not a page itself (app.py does not list it); views/embeddings/page.py calls these in its left column.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from core import figures
from core.embeddings.points import SEARCH_FIELDS, PointSet, search
from core.embeddings.projection import MAX_POINTS_3D, default_perplexity, max_points
from core.embeddings.sources import MAX_LAYER_NUMBERS, RAW, Source, max_layer_points
from core.errors import AppError
from views.embeddings.map import COLOUR_BY
from views.state import kept

ss = st.session_state


def seconds(metric: str) -> str | None:
    """The latest embeddings benchmark's time for ``metric``, e.g. "87 s", or None if not measured."""
    measured = figures.result("embeddings", metric)
    return f"{measured.value:.0f} s" if measured else None


def all_digits_timing() -> str:
    umap, tsne = (seconds(f"{method} 2-D of 70,000 points, from raw pixels") for method in ("UMAP", "t-SNE"))
    return f" (on two cores a UMAP of them took {umap}, a t-SNE {tsne})" if umap and tsne else ""


def points_count(source: Source, method: str, dims: int, where, layer_numbers: int = 0) -> int:
    """How many images to project (test images first): up to all 70,000 MNIST digits for raw pixels
    (t-SNE and UMAP in 3-D fewer), 10,000 of a network's activations, fewer of a layer wider than
    ``MAX_LAYER_NUMBERS`` allows (``layer_numbers`` per image). A data set that cannot be loaded is
    said in ``where`` and stops the page."""
    try:  # a network's own data set (issue 29): MNIST, or e.g. EMNIST letters with fewer images
        max_n = (70_000 if method == "PCA" else max_points(dims, "tsne" if method == "t-SNE" else "umap")) \
            if source.kind == RAW else min(10_000, source.available_images())
    except AppError as error:
        where.error(str(error), icon=":material/error:")
        st.stop()
    by_width = max_layer_points(layer_numbers) if layer_numbers else max_n
    if by_width < max_n:
        max_n = by_width
        st.caption(f"This layer gives {layer_numbers:,} numbers per image, so its map stops at {max_n:,} points "
                   f"({MAX_LAYER_NUMBERS / 1e6:.2f} million numbers, {MAX_LAYER_NUMBERS * 4 / 2**20:.0f} MB, the most "
                   "one map of a layer keeps).")
    if ss.get("emb_n", 0) > max_n:  # the limit just dropped (3-D, another method or source)
        ss["emb_n"] = max_n
    first = {} if "emb_n" in ss else {"value": min(2000, max_n)}  # a default beside a set state warns
    n = int(st.number_input("Points (test images first, then training images)", 100, max_n,
                            step=500, **first, **kept("emb_n"),
                            help=f"Up to {max_n:,} for this method. TensorBoard's projector samples "
                                 "t-SNE down to 10,000 points and UMAP to 5,000; here raw pixels go "
                                 f"up to all 70,000 digits in 2-D{all_digits_timing()}."))
    if source.kind == RAW and method != "PCA" and dims == 3:
        measured = seconds("t-SNE 3-D of 20,000 points")
        st.caption(f"3-D maps stop at {MAX_POINTS_3D['tsne']:,} points for t-SNE and "
                   f"{MAX_POINTS_3D['umap']:,} for UMAP: beyond that a 3-D t-SNE takes minutes"
                   + (f" (Barnes-Hut in 3-D: {measured} for 20,000 points here)" if measured else "")
                   + " and Plotly's 3-D scatter redraws every point each time the view turns. Switch 3-D off "
                   "for up to 70,000.")
    return n


def method_settings(method: str, n: int, dims: int) -> tuple[dict, list[int]]:
    """The chosen method's settings, and the PCA components to show."""
    if method == "PCA":
        return {}, st.multiselect("Components on X, Y(, Z)", list(range(1, 11)), default=[1, 2, 3][:dims],
                                  max_selections=dims, key=f"emb_axes_{dims}")
    if method == "t-SNE":
        perplexity = st.slider("Perplexity", 2, 100, int(default_perplexity(max(n, 3))), key="emb_perplexity",
                               help="Roughly how many neighbours each point tries to keep close. "
                                    "Default max(5, ⌈√N/4⌉) as in the projector (which stops at 10,000 "
                                    "points), at most 30, openTSNE's and scikit-learn's default: t-SNE "
                                    "looks at the 3 × perplexity nearest neighbours of every point, so the "
                                    "cost grows with it. It must stay below (N − 1)/3.")
        return {"perplexity": perplexity,
                "learning_rate": st.select_slider("Learning rate", ["auto", 10, 100, 200, 500, 1000],
                                                  value="auto", key="emb_lr",
                                                  help="'auto' is openTSNE's rule, N divided by the "
                                                       "exaggeration: N/12 during the early-exaggeration "
                                                       "phase (at the default 12), then N. scikit-learn's "
                                                       "'auto' differs: max(N / early exaggeration / 4, 50)."),
                "iterations": st.slider("Iterations", 100, 2000, 500, step=50, key="emb_iter",
                                        help="Iterations after the early-exaggeration phase."),
                "early_exaggeration": st.slider("Early exaggeration", 1.0, 30.0, 12.0, key="emb_exag",
                                                help="How much the attraction between neighbours is "
                                                     "multiplied in the first phase, so clusters form "
                                                     "early and can move apart.")}, []
    return {"neighbors": st.slider("Neighbours", 5, 50, 15, key="emb_nb",
                                   help="How many neighbours UMAP's graph links each point to: "
                                        "few keep fine local detail, many more of the overall shape."),
            "min_dist": st.slider("Minimum distance", 0.0, 0.99, 0.1, key="emb_md",
                                  help="How tightly UMAP may pack points together.")}, []


def display_settings(points: PointSet, source: Source) -> tuple[str, list[str], np.ndarray | None, bool]:
    """(colour by, the labels shown, the points a search found or None, isolate the selection)."""
    st.divider()
    colour_by = st.radio("Colour by", COLOUR_BY, horizontal=True, **kept("emb_colour"),
                         disabled=points.predicted is None,
                         help="What the network predicts needs a network that predicts (not raw pixels).")
    # Pills, not a multiselect: its box clipped the last of six long names (the characters' classes).
    shown_labels = st.pills("Show points labelled", points.label_names, selection_mode="multi",
                            default=points.label_names, key=f"emb_filter_{source.kind}_{len(points.label_names)}",
                            help="Filter by the true label: click one to hide or show it. A click on a colour in "
                                 "the map's key hides that colour too.") or []
    query = st.text_input("Search", key="emb_search", placeholder="e.g. 7",
                          help="Rings the points whose label, name or prediction contains this text (case is "
                               "ignored), or matches it as a regular expression, as the projector's search does. "
                               "They become the selection.")
    search_by = st.radio("Search in", [f for f in SEARCH_FIELDS if f != "predicted" or points.predicted is not None],
                         horizontal=True, key="emb_search_by")
    regex = st.toggle("Regular expression", key="emb_search_regex", help="e.g. ^[0-3]$ or 1|7")
    matches = None
    if query:
        try:
            matches = search(points, query, search_by, regex)
            st.caption(f"{len(matches):,} of {len(points):,} points match." if len(matches) else "No point matches.")
        except AppError as error:
            st.error(str(error), icon=":material/error:")
    isolate = st.toggle("Isolate the selection", key="emb_isolate",
                        help="Show only the selected points: a box or lasso selection on a 2-D map, else what "
                             "the search found, otherwise the point under 'Look at one point' and its nearest "
                             "neighbours.")
    return colour_by, shown_labels, matches, isolate
