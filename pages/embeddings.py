"""Embeddings: what the networks learned, projected with PCA, t-SNE or UMAP in 2-D or 3-D."""
from __future__ import annotations

import io
import tempfile

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages.common import use_app_navigation

use_app_navigation()

from core.data import load_mnist  # noqa: E402
from core.errors import PlaygroundError  # noqa: E402
from core.projection import (  # noqa: E402
    clamp_perplexity, default_perplexity, layer_activations, nearest_neighbours, pca, place_new_point,
    spherize, start,
)
from core.projector import write_projector_bundle, zip_folder  # noqa: E402
from pages.common import manager  # noqa: E402

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
ss = st.session_state

st.title("Embeddings")
st.caption("Each test digit becomes a vector — raw pixels, or a layer's activations inside a trained "
           "network — and PCA, t-SNE or UMAP lays those vectors out in 2-D or 3-D so that similar "
           "ones sit together. Like TensorBoard's projector, without its sampling caps.")

# ---- source ------------------------------------------------------------------------------
entries = manager().store.entries(kind="digits")
sources = {"raw": "Raw pixels (784 numbers per digit)"}
sources.update({e.key: e.record.get("title", e.key) for e in entries})
left, right = st.columns([1, 2.2], gap="large")
with left:
    source = st.selectbox("Vectors from", list(sources), format_func=sources.get, key="emb-source",
                          help="Train digit networks on the Draw page; each appears here.")
    if not entries:
        st.caption("No trained digit network yet — raw pixels only. Train one on the Draw page.")
    model, layer = None, None
    if source != "raw":
        entry = next(e for e in entries if e.key == source)
        try:
            model = manager().load_entry("digits", entry)
        except Exception as error:  # a model that cannot be loaded is reported, not raised
            st.error(f"Could not load this network: {error}", icon=":material/error:")
            st.stop()
        from core.digits import penultimate_layer

        layers = [l.name for l in model.layers[1:] if not l.name.startswith("augment")]
        default = penultimate_layer(model)
        layer = st.selectbox("Layer", layers, index=layers.index(default), key=f"emb-layer-{source}",
                             help="The penultimate layer (default) holds the features the output reads.")
    method = st.segmented_control("Method", ["PCA", "t-SNE", "UMAP"], default="PCA", key="emb-method")
    method = method or "PCA"
    dims = 3 if st.toggle("3-D", value=True, key="emb-3d") else 2
    max_n = 10_000 if source != "raw" or method != "PCA" else 70_000
    n = st.number_input("Points (test images first, then training images)", 100, max_n,
                        min(2000, max_n), step=500, key="emb-n",
                        help=f"Up to {max_n:,} for this method.")
    params: dict = {}
    if method == "PCA":
        axes = st.multiselect("Components on X, Y(, Z)", list(range(1, 11)), default=[1, 2, 3][:dims],
                              max_selections=dims, key=f"emb-axes-{dims}")
    elif method == "t-SNE":
        perplexity = st.slider("Perplexity", 2, 100, int(default_perplexity(int(n))), key="emb-perplexity",
                               help="Roughly how many neighbours each point tries to keep close. "
                                    "Default max(5, ⌈√N/4⌉) as in the projector; it must stay below N/3.")
        params = {"perplexity": perplexity,
                  "learning_rate": st.select_slider("Learning rate", ["auto", 10, 100, 200, 500, 1000],
                                                    value="auto", key="emb-lr"),
                  "iterations": st.slider("Iterations", 100, 2000, 500, step=50, key="emb-iter"),
                  "early_exaggeration": st.slider("Early exaggeration", 1.0, 30.0, 12.0, key="emb-exag")}
    else:
        params = {"neighbors": st.slider("Neighbours", 5, 50, 15, key="emb-nb",
                                         help="How local the structure UMAP keeps: few for fine detail."),
                  "min_dist": st.slider("Minimum distance", 0.0, 0.99, 0.1, key="emb-md",
                                        help="How tightly UMAP may pack points together.")}
    sphere = st.toggle("Spherize", key="emb-sphere", help="Centre the vectors and scale each to length 1 first.")
    colour_by = st.radio("Colour by", ["true label", "predicted label", "right / wrong"], horizontal=True,
                         key="emb-colour", disabled=model is None)
    run = st.button("Run", type="primary", icon=":material/play_arrow:")


@st.cache_data(show_spinner=False, max_entries=8)
def mnist_images(n: int):
    mnist = load_mnist()
    images = np.concatenate([mnist.x_test, mnist.x_train])[:n]
    labels = np.concatenate([mnist.y_test, mnist.y_train])[:n]
    return images, labels


def vectors_for(n: int):
    images, labels = mnist_images(n)
    x = images.astype(np.float32) / 255
    if model is None:
        features, predicted = x.reshape(len(x), -1), None
    else:
        features = layer_activations(model, layer, x)
        from core.inspect import reader_for

        predicted = reader_for(model).probabilities(x).argmax(1)
    if sphere:
        features = spherize(features)
    return images, labels, features, predicted


source_id = f"{source}/{layer}/{'sphere' if sphere else 'plain'}"
settings = (source_id, int(n), method, dims, tuple(sorted(params.items())), tuple(axes) if method == "PCA" else ())
if run:
    ss.emb_settings = settings
    ss.emb_selected = None
if ss.get("emb_settings") != settings:
    with right:
        st.info("Choose the vectors and a method, then press **Run**.", icon=":material/scatter_plot:")
    st.stop()

try:
    with right, st.spinner("Computing the vectors…"):
        images, labels, features, predicted = vectors_for(int(n))
except PlaygroundError as error:
    right.error(str(error), icon=":material/error:")
    st.stop()

# ---- colouring -----------------------------------------------------------------------------
if colour_by == "predicted label" and predicted is not None:
    groups, names = predicted, [str(d) for d in range(10)]
elif colour_by == "right / wrong" and predicted is not None:
    groups, names = (predicted != labels).astype(int), ["right", "wrong"]
else:
    groups, names = labels, [str(d) for d in range(10)]
palette = COLOURS if len(names) == 10 else ["#2ca02c", "#d62728"]
hover = [f"#{i} · label {labels[i]}" + (f" · predicted {predicted[i]}" if predicted is not None else "")
         for i in range(len(labels))]


def scatter(layout: np.ndarray, title: str, drawing: np.ndarray | None = None) -> go.Figure:
    figure = go.Figure()
    for g, name in enumerate(names):
        mask = groups == g
        if not mask.any():
            continue
        coords = [layout[mask, k] for k in range(layout.shape[1])]
        common = dict(mode="markers", name=name, text=np.array(hover)[mask], hoverinfo="text",
                      customdata=np.nonzero(mask)[0])
        if layout.shape[1] == 3:
            figure.add_trace(go.Scatter3d(x=coords[0], y=coords[1], z=coords[2],
                                          marker=dict(size=2.5, color=palette[g]), **common))
        else:
            figure.add_trace(go.Scattergl(x=coords[0], y=coords[1], marker=dict(size=5, color=palette[g]), **common))
    if drawing is not None:
        point = dict(mode="markers", name="your drawing", hoverinfo="name",
                     marker=dict(size=14 if layout.shape[1] == 2 else 8, color="black", symbol="diamond"))
        if layout.shape[1] == 3:
            figure.add_trace(go.Scatter3d(x=[drawing[0]], y=[drawing[1]], z=[drawing[2]], **point))
        else:
            figure.add_trace(go.Scatter(x=[drawing[0]], y=[drawing[1]], **point))
    figure.update_layout(title=title, height=620, margin=dict(l=0, r=0, t=40, b=0),
                         legend=dict(itemsizing="constant", title="click to hide"), uirevision="keep")
    return figure


def drawing_vector():
    digit = ss.get("current_digit")
    if digit is None:
        return None
    vector = digit[None].astype(np.float32)
    features_ = vector.reshape(1, -1) if model is None else layer_activations(model, layer, vector)
    return spherize(np.concatenate([features, features_]))[-1:] if sphere else features_


with right:
    if method == "PCA":
        result = pca(features, 10)
        chosen_axes = [a - 1 for a in axes] if len(axes) == dims else list(range(dims))
        layout = result.coordinates[:, chosen_axes]
        mine = drawing_vector()
        drawing = result.transform(mine)[0, chosen_axes] if mine is not None else None
        variance = result.explained_variance_ratio
        st.plotly_chart(scatter(layout, f"PCA of {len(features):,} vectors — the shown components explain "
                                f"{variance[chosen_axes].sum():.1%} of the variance", drawing), key="emb-plot")
        scree = go.Figure(go.Bar(x=[f"PC{i + 1}" for i in range(len(variance))], y=variance,
                                 hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
        scree.update_layout(title="Scree plot: variance explained by each component", height=220,
                            yaxis_tickformat=".0%", margin=dict(l=0, r=0, t=40, b=0))
        st.plotly_chart(scree, key="emb-scree")
        ss.emb_layout = layout
    else:
        key = "tsne" if method == "t-SNE" else "umap"
        if key == "tsne":
            params["perplexity"], note = clamp_perplexity(params["perplexity"], len(features))
            if note:
                st.info(note, icon=":material/tune:")
        run_features = pca(features, 50).coordinates if features.shape[1] > 50 else features
        projection = start(source_id, run_features, key, dims, params)

        @st.fragment(run_every=0.5 if not projection.done else None)
        def live_map():
            if projection.error:
                st.error(projection.error, icon=":material/error:")
                return
            if projection.frame is None:
                st.progress(0.0, text=f"{method}: finding each point's neighbours…")
                return
            layout = projection.frame
            if projection.done:
                text = f"{method} finished: {projection.total} iterations in " \
                       f"{(projection.finished or 0) - projection.started:.1f} s"
            else:
                text = f"{method} optimising: iteration {projection.iteration} of {projection.total}"
            st.progress(min(1.0, projection.iteration / max(1, projection.total)), text=text)
            drawing = None
            if projection.done and ss.get("current_digit") is not None:
                mine = drawing_vector()
                if features.shape[1] > 50:
                    mine = pca(features, 50).transform(mine)
                placed = place_new_point(projection, mine)
                drawing = placed if placed is not None else None
            st.plotly_chart(scatter(layout, f"{method} of {len(features):,} vectors", drawing), key="emb-plot-live")
            ss.emb_layout = layout
            if projection.done and not ss.get("emb_seen_done") == id(projection):
                ss.emb_seen_done = id(projection)
                st.rerun(scope="app")

        live_map()
        if not projection.done:
            st.stop()
        layout = projection.frame
    if ss.get("current_digit") is not None:
        st.caption("◆ Your drawing from the Draw page is the black diamond.")

# ---- a closer look at one point ------------------------------------------------------------------
st.subheader("Look at one point")
pick_left, pick_right = st.columns([1, 3])
with pick_left:
    index = st.number_input("Point index (see the hover text)", 0, len(features) - 1, 0, key="emb-index")
    metric = st.radio("Distance in the original space", ["cosine", "euclidean"], horizontal=True, key="emb-metric")
    k = st.slider("Neighbours", 1, 24, 8, key="emb-k")
    st.image(images[index], caption=f"#{index}: label {labels[index]}"
             + (f", predicted {predicted[index]}" if predicted is not None else ""), width=112)
with pick_right:
    found, distances = nearest_neighbours(features, int(index), k=k, metric=metric)
    st.markdown(f"**Its {k} nearest neighbours** in the {metric} distance between the original vectors "
                "(not on the map: t-SNE and UMAP distort distances).")
    for row in range(0, len(found), 8):
        for column, (j, d) in zip(st.columns(8), list(zip(found, distances))[row:row + 8]):
            column.image(images[j], caption=f"#{j} ({labels[j]}) d={d:.3f}", width=64)

# ---- export ---------------------------------------------------------------------------------------
st.subheader("Export")
e1, e2, e3 = st.columns(3)
coordinates = ss.get("emb_layout")
if coordinates is not None and len(coordinates) == len(labels):
    csv = io.StringIO()
    columns = ["x", "y", "z"][:coordinates.shape[1]]
    csv.write("index,label," + ("predicted," if predicted is not None else "") + ",".join(columns) + "\n")
    for i, row in enumerate(coordinates):
        extra = f"{predicted[i]}," if predicted is not None else ""
        csv.write(f"{i},{labels[i]},{extra}" + ",".join(f"{v:.6g}" for v in row) + "\n")
    e1.download_button("Coordinates (CSV)", csv.getvalue(), "coordinates.csv", "text/csv", icon=":material/download:")
if len(features) <= 10_000 and e2.button("Prepare a TensorBoard projector bundle", icon=":material/inventory_2:"):
    folder = tempfile.mkdtemp(prefix="projector-")
    metadata = [{"label": int(labels[i]), **({"predicted": int(predicted[i])} if predicted is not None else {})}
                for i in range(len(labels))]
    write_projector_bundle(folder, features, metadata, images, tensor_name=sources[source])
    ss.emb_bundle = zip_folder(folder)
if ss.get("emb_bundle"):
    e2.download_button("Projector bundle (zip)", ss.emb_bundle, "projector.zip", "application/zip",
                       icon=":material/download:", help="Unzip into a folder and run "
                       "`tensorboard --logdir <folder>`, then open the Projector tab.")
if coordinates is not None and len(coordinates) == len(labels):
    figure_html = scatter(coordinates, "Embedding").to_html(include_plotlyjs="cdn")
    e3.download_button("Figure (HTML)", figure_html, "embedding.html", "text/html", icon=":material/download:")
