"""Embeddings: what the networks learned, projected with PCA, t-SNE or UMAP in 2-D or 3-D."""
from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from core.errors import AppError
from core.training.jobs import get_kind
from core.embeddings.points import PointSet, playground_points
from core.embeddings.projection import clamp_perplexity, nearest_neighbours, pca, place_new_point, spherize, start
from core.embeddings.sources import (CHARS, DIGITS, PLAYGROUND, Source, digit_layers, drawing_features, layer_width,
                                     source_points)
from core.embeddings.sources import sources as all_sources
from views.common import manager
from views.embeddings.controls import display_settings, method_settings, points_count
from views.embeddings.map import map_view, scatter, scree_figure
from views.embeddings.memo import remembered
from views.embeddings.over_training import live_points, section
from views.embeddings.pick import picked_index
from views.embeddings.point import closer_look, export
from views.keys import CURRENT_DIGIT, PLAYGROUND_DATA, PLAYGROUND_NET
from views.state import kept
from views.training_widget import training_widget

ss = st.session_state

st.title("Embeddings")
st.caption("Each point becomes a vector — a digit's raw pixels or a layer's activations inside a trained "
           "network, a character's learned embedding in the text LSTM, a playground point's last hidden "
           "layer — and PCA, t-SNE or UMAP lays those vectors out in 2-D or 3-D, as TensorBoard's projector "
           "does. PCA projects onto the directions along which the vectors vary most; t-SNE and UMAP try "
           "to keep each point's nearest neighbours near it.")

# ---- which vectors ------------------------------------------------------------------------
by_id = {source.id: source for source in all_sources(manager().store)}
if "emb_next_source" in ss:  # a training started here has just finished: show its network
    ss["emb_source"] = ss.pop("emb_next_source")
if ss.get("emb_source") not in by_id:
    ss.pop("emb_source", None)
if "emb_source" not in ss:  # open on the default network's map when it is stored (e.g. the bundled one)
    _, default_key = manager().key_for("digits", {"arch": "fast_cnn"})
    for candidate in by_id.values():
        if candidate.kind == DIGITS and candidate.key == default_key:
            ss["emb_source"] = candidate.id


@st.cache_resource(show_spinner=False, max_entries=6)
def stored_points(source_id: str, updated: float, layer: str | None, n: int, _source: Source) -> PointSet:
    """The vectors of raw pixels or a stored network, shared by every session (keyed by the source's
    id and the time its network was trained: a retrained network has new vectors)."""
    return source_points(_source, manager(), layer, n)


def points_of(source: Source, layer: str | None, n: int) -> PointSet:
    return stored_points(source.id, source.updated, layer, n, source)


left, right = st.columns([1, 2.2], gap="large")
with left:
    source = by_id[st.selectbox("Vectors from", list(by_id), format_func=lambda i: by_id[i].title,
                                **kept("emb_source"),
                                help="Digit networks trained on the Draw page, the character LSTM trained "
                                     "on the Text page and this session's Playground network appear here.")]
    if source.over_training:
        view = st.segmented_control("Show", ["Trained network", "Over training"], default="Trained network",
                                    required=True, **kept("emb_view"),
                                    help="Over training: the map at the points the training saved, step 0 "
                                         "included, played as an animation.")
        if view == "Over training":
            section(source, left, right)
            st.stop()
    layer, points, problem, layer_numbers = None, None, None, 0
    if source.kind == DIGITS and source.trained:
        try:
            layers, default_layer = digit_layers(source, manager())
            layer = st.selectbox("Layer", layers, index=layers.index(default_layer), key=f"emb_layer_{source.id}",
                                 help="The last hidden dense layer (default) holds the features the "
                                      "output layer reads.")
            layer_numbers = layer_width(source, manager(), layer)
        except Exception as error:  # a stored model that cannot be loaded is reported, not raised
            problem = f"Could not load this network: {error}"
    method = st.segmented_control("Method", ["PCA", "t-SNE", "UMAP"], default="PCA", required=True, **kept("emb_method"))
    dims = 3 if st.toggle("3-D", value=True, **kept("emb_3d")) else 2
    n = 0
    if source.has_images and source.trained:
        n = points_count(source, method, dims, right, layer_numbers)
    elif source.kind in (CHARS, PLAYGROUND) and source.trained and problem is None:
        try:
            points = points_of(source, None, 0) if source.kind == CHARS else \
                playground_points(ss.get(PLAYGROUND_NET), ss.get(PLAYGROUND_DATA))
            n = len(points)
            st.caption(f"{n:,} points, {points.features.shape[1]} numbers each.")
        except AppError as error:
            problem = str(error)
    params, axes = method_settings(method, n, dims)
    sphere = st.toggle("Spherize", **kept("emb_sphere"), help="Centre the vectors and scale each to length 1 first.")
    run = st.button("Run", type="primary", icon=":material/play_arrow:", disabled=not source.trained)
    display_options = st.container()

# ---- a network that is not trained yet: offer to train it -------------------------------------
if not source.trained:
    config = source.training_config()
    title = get_kind(source.job_kind).title(config)
    with right:
        job = training_widget(
            source.job_kind, config, "emb_train", label=f"Train {title}",
            not_trained=f"**{title}** is not trained yet, so it has no embeddings to show. Train it here with "
                        f"the default settings (it runs in the background and is kept in the model store), "
                        f"or on the {'Text' if source.kind == CHARS else 'Draw'} page with your own.",
            on_done=lambda done: ss.__setitem__("emb_next_source", source.trained_as(done.key).id))
        if job is not None and not job.finished:
            live_points(job)
    st.stop()

if problem:
    right.error(problem, icon=":material/error:")
    st.stop()

if source.kind == PLAYGROUND:  # its vectors change as it trains on the Playground page
    net = ss[PLAYGROUND_NET]
    vectors_id = f"playground/{id(net)}/{net.epoch}"
else:  # a network retrained under the same key has new vectors: its record's time tells them apart
    vectors_id = f"{source.id}/{layer}/{source.updated}"
vectors_id += "/sphere" if sphere else "/plain"
settings = (vectors_id, int(n), method, dims, tuple(sorted(params.items())), tuple(axes))
if run or (method == "PCA" and ss.get("emb_settings") != settings):  # PCA takes a second: no Run needed
    ss.emb_settings = settings
    ss.emb_lasso, ss.emb_last_pick = None, set()
if ss.get("emb_settings") != settings:
    with right:
        st.info("Choose the vectors and a method, then press **Run**.", icon=":material/scatter_plot:")
    st.stop()

if points is None:
    try:
        with right, st.spinner("Computing the vectors…"):
            points = points_of(source, layer, n)
    except AppError as error:
        right.error(str(error), icon=":material/error:")
        st.stop()
unspherized = None
if sphere:  # floats for this run only
    unspherized = points.vectors()
    points = dataclasses.replace(points, features=spherize(unspherized), scale=1.0)
# The vectors are ``features`` times ``scale``: raw pixels stay their cached bytes (1/255), and the
# neighbours and PCA read them a block at a time, so a rerun (a click, a filter) of all 70,000 digits
# makes no float copy of them.
features, scale = points.features, points.scale

# ---- how the points are shown ----------------------------------------------------------------------
with display_options:
    colour_by, shown_labels, matches, isolate = display_settings(points, source)

# The chosen point (clicked on a 2-D map, or picked below) and its neighbours in the original space.
index = min(int(ss.get("emb_point", 0)), len(points) - 1)
metric = ss.get("emb_metric", "cosine")
k = min(int(ss.get("emb_k", 8)), 24, len(points) - 1)
found, distances = nearest_neighbours(features, index, k=k, metric=metric, scale=scale)
lasso = ss.get("emb_lasso")  # points selected with a box or lasso on a 2-D map
selection = lasso if lasso else set(map(int, matches)) if matches is not None else {index, *map(int, found)}
view = map_view(points, colour_by, shown_labels, index, selection if isolate else None, matches)


def drawing_vector() -> np.ndarray | None:
    """The Draw page's current digit as this source's vector (digit sources only)."""
    digit = ss.get(CURRENT_DIGIT)
    if digit is None or not source.has_images:
        return None
    return drawing_features(source, manager(), layer, digit, unspherized)


def show_map(layout: np.ndarray, title: str, drawing: np.ndarray | None, key: str) -> None:
    """The map; on a 2-D map a click picks a point and a box or lasso selects a group."""
    figure = scatter(layout, title, view, drawing)
    if layout.shape[1] != 2:  # 3-D: Plotly has no selection there; a click is caught by views/embeddings/pick.py
        with st.container(key="emb_map3d"):
            st.plotly_chart(figure, key=key)
        index = picked_index("emb_map3d", len(layout), "emb_pick3d")
        if index is not None:
            pick_point(index)
            st.rerun()
        return
    event = st.plotly_chart(figure, key=key, on_select="rerun", selection_mode=("points", "box", "lasso"))
    picked = [p.get("customdata") for p in (event.selection.points if event else []) if "customdata" in p]
    picked = {int(i[0] if isinstance(i, list) else i) for i in picked}
    if picked != ss.get("emb_last_pick", set()):  # the selection changed (it persists across reruns)
        ss.emb_last_pick = picked
        ss.emb_lasso = picked if len(picked) > 1 else None
        if len(picked) == 1:
            pick_point(picked.pop())
        st.rerun()


def pick_point(index: int) -> None:
    """Make ``index`` the point under "Look at one point" (a click on the map)."""
    ss.emb_point, ss.emb_lasso = index, None
    ss.emb_point_version = ss.get("emb_point_version", 0) + 1  # remounts the picker at this point


with right:
    if method == "PCA":
        result = remembered("pca", (vectors_id, n), lambda: pca(features, 10, scale))
        width = result.coordinates.shape[1]
        chosen_axes = [a - 1 for a in axes if a <= width] if len(axes) == dims else list(range(min(dims, width)))
        layout = result.coordinates[:, chosen_axes]
        if layout.shape[1] < dims:
            st.info(f"These vectors have only {width} number{'s' if width > 1 else ''} each, so PCA has only "
                    f"{width} component{'s' if width > 1 else ''}; the missing axes are set to 0.",
                    icon=":material/info:")
            layout = np.pad(layout, ((0, 0), (0, dims - layout.shape[1])))
        mine = drawing_vector()
        drawing = None
        if mine is not None:
            drawing = np.pad(result.transform(mine)[0, chosen_axes], (0, dims - len(chosen_axes)))
        variance = result.explained_variance_ratio
        # A short title: Plotly's mode bar covers the right end of a long one.
        show_map(layout, f"PCA of {len(features):,} vectors", drawing, "emb_plot")
        st.caption(f"The components shown explain {variance[chosen_axes].sum():.1%} of the variance.")
        st.plotly_chart(scree_figure(variance), key="emb_scree", config={"displayModeBar": False})
    else:
        key = "tsne" if method == "t-SNE" else "umap"
        if key == "tsne":
            params["perplexity"], note = clamp_perplexity(params["perplexity"], len(features))
            if note:
                st.info(note, icon=":material/tune:")
        # t-SNE and UMAP start from the first 50 principal components; the drawing goes through the same PCA.
        reduction = remembered("pca50", (vectors_id, n), lambda: pca(features, 50, scale)) \
            if features.shape[1] > 50 else None
        projection = start(vectors_id, reduction.coordinates if reduction else points.vectors(), key, dims, params)

        if not projection.done:
            @st.fragment(run_every=0.5 if len(features) <= 10_000 else 2.0)  # 70,000 points: a large figure a frame
            def live_map():
                if projection.frame is None:
                    text = f"{method}: finding each point's neighbours…" + \
                        (" (the first UMAP run in this server also compiles its optimiser first)"
                         if key == "umap" else "")
                    st.progress(0.0, text=text)
                else:
                    text = f"{method} optimising: iteration {projection.iteration} of {projection.total}" \
                        if projection.stage == "optimising" else \
                        f"{method}: finding each point's neighbours; the map shows the starting layout…"
                    st.progress(min(1.0, projection.iteration / max(1, projection.total)), text=text)
                    st.plotly_chart(scatter(projection.frame, f"{method} of {len(features):,} vectors", view),
                                    key="emb_plot_live")
                if projection.done:
                    st.rerun(scope="app")

            live_map()
            st.stop()
        if projection.error:
            st.error(projection.error, icon=":material/error:")
            st.stop()
        layout = projection.frame
        st.progress(1.0, text=f"{method} finished: {projection.total} iterations in "
                              f"{(projection.finished or 0) - projection.started:.1f} s")
        drawing = None
        mine = drawing_vector()
        if mine is not None:
            drawing = place_new_point(projection, reduction.transform(mine) if reduction else mine)
        show_map(layout, f"{method} of {len(features):,} vectors", drawing, "emb_plot")
        st.caption(f"On a {method} map only the local neighbourhoods mean something: which points sit next "
                   "to which. The sizes of the clusters and the gaps between them do not measure anything, "
                   "so compare several " + ("perplexities" if key == "tsne" else "neighbour counts")
                   + " before reading a pattern into them.")
    if drawing is not None:
        st.caption("◆ Your drawing from the Draw page is the black diamond.")

closer_look(points, index, found, distances, metric, k, lasso)
export(points, layout, view)
