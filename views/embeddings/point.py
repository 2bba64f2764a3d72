"""The Embeddings page's lower half: a closer look at one point and its neighbours, and the exports.

Not a page itself (app.py does not list it); views/embeddings/page.py calls both functions.
"""
from __future__ import annotations

import shutil
import tempfile

import numpy as np
import streamlit as st

from core.embeddings.points import PointSet
from core.embeddings.projector_bundle import write_projector_bundle, zip_folder
from views.embeddings.map import MapView, coordinates_csv, scatter

ss = st.session_state
MAX_BUNDLE_NUMBERS = 8_000_000  # 10,000 digits' raw pixels: up to 9 bytes each as text, before zipping


def closer_look(points: PointSet, index: int, found: np.ndarray, distances: np.ndarray, metric: str, k: int,
                lasso: set[int] | None) -> None:
    """Pick a point (also by clicking a 2-D map), choose the distance, see its nearest neighbours."""
    st.subheader("Look at one point")
    st.caption("Click a point on the map, or choose it here.")
    pick_left, pick_right = st.columns([1, 3])
    with pick_left:
        picker_key = f"emb_point_{ss.get('emb_point_version', 0)}"

        def point_picked() -> None:
            ss.emb_point, ss.emb_lasso = int(ss[picker_key]), None

        if len(points) <= 300:
            st.selectbox("Point", range(len(points)), index, format_func=lambda i: points.names[i],
                         key=picker_key, on_change=point_picked)
        else:
            st.number_input("Point index (see the hover text)", 0, len(points) - 1, index, key=picker_key,
                            on_change=point_picked)
        st.radio("Distance in the original space", ["cosine", "euclidean"], horizontal=True, key="emb_metric")
        if len(points) > 2:
            st.slider("Neighbours", 1, min(24, len(points) - 1), k, key="emb_k")
        if lasso:
            st.caption(f"{len(lasso)} points selected on the map; double-click the map to clear the selection.")
        label_text = points.label_names[points.labels[index]]
        predicted_text = ("" if points.predicted is None
                          else f", predicted {points.label_names[points.predicted[index]]}")
        if points.images is not None:
            st.image(points.images[index], caption=f"{points.names[index]}: label {label_text}{predicted_text}",
                     width=112)
        else:
            st.markdown(f"**{points.names[index]}** — {label_text}{predicted_text}")
    with pick_right:
        st.markdown(f"**Its {k} nearest neighbours** in the {metric} distance between the original vectors, "
                    "not on the map: no 2-D or 3-D map keeps every distance (PCA drops the other components, "
                    "t-SNE and UMAP keep mainly each point's neighbourhood).")
        if points.images is not None:
            for row in range(0, len(found), 8):
                for column, (j, d) in zip(st.columns(8), list(zip(found, distances))[row:row + 8]):
                    column.image(points.images[j], caption=f"{points.names[j]} ({points.label_names[points.labels[j]]}) d={d:.3f}",
                                 width=64)
        else:
            st.dataframe({"point": [points.names[j] for j in found],
                          "label": [points.label_names[points.labels[j]] for j in found],
                          "distance": [round(float(d), 4) for d in distances]}, hide_index=True)


def export(points: PointSet, layout: np.ndarray, view: MapView) -> None:
    """The map's coordinates as CSV, a TensorBoard projector bundle of the vectors, the figure as HTML."""
    st.subheader("Export")
    e1, e2, e3 = st.columns(3)
    e1.download_button("Coordinates (CSV)", coordinates_csv(layout, points), "coordinates.csv", "text/csv",
                       icon=":material/download:")
    numbers = points.features.size
    if numbers > MAX_BUNDLE_NUMBERS:  # say why there is no button (issue 30 #10)
        e2.caption(f"No projector bundle for {len(points):,} points × {points.features.shape[1]:,} numbers: the "
                   "bundle keeps every number as text (tensors.tsv), several characters each, and is built in this "
                   f"server's memory, so it is offered up to {MAX_BUNDLE_NUMBERS / 1e6:g} million numbers (e.g. "
                   f"{MAX_BUNDLE_NUMBERS // points.features.shape[1]:,} of these points). Choose fewer points, or "
                   "export the coordinates.")
    elif e2.button("Prepare a TensorBoard projector bundle", icon=":material/inventory_2:"):
        folder = tempfile.mkdtemp(prefix="projector-")
        try:
            write_projector_bundle(folder, points.vectors(), points.metadata(), points.images,
                                   tensor_name=points.title)
            ss.emb_bundle = zip_folder(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if ss.get("emb_bundle"):
        e2.download_button("Projector bundle (zip)", ss.emb_bundle, "projector.zip", "application/zip",
                           icon=":material/download:", help="Unzip into a folder and run "
                           "`tensorboard --logdir <folder>`, then open the Projector tab.")
    figure_html = scatter(layout, "Embedding", view).to_html(include_plotlyjs="cdn")
    e3.download_button("Figure (HTML)", figure_html, "embedding.html", "text/html", icon=":material/download:")
