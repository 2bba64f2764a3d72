"""Embeddings: what the networks learned, projected with PCA, t-SNE or UMAP in 2-D or 3-D."""
from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from core.errors import AppError
from core.training.jobs import get_kind
from core.embeddings.points import PointSet, playground_points
from core.embeddings.projection import (
    MAX_POINTS_3D, clamp_perplexity, default_perplexity, max_points, nearest_neighbours, pca, place_new_point,
    spherize, start,
)
from core.embeddings.sources import CHARS, DIGITS, PLAYGROUND, RAW, Source, digit_layers, drawing_features, source_points
from core.embeddings.sources import sources as all_sources
from views.common import manager
from views.embeddings.map import COLOUR_BY, map_view, scatter, scree_figure
from views.embeddings.memo import remembered
from views.embeddings.over_training import live_points, section
from views.embeddings.point import closer_look, export
from views.keys import CURRENT_DIGIT, PLAYGROUND_DATA, PLAYGROUND_NET
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


left, right = st.columns([1, 2.2], gap="large")
with left:
    source = by_id[st.selectbox("Vectors from", list(by_id), format_func=lambda i: by_id[i].title,
                                key="emb_source",
                                help="Digit networks trained on the Draw page, the character LSTM trained "
                                     "on the Text page and this session's Playground network appear here.")]
    if source.trained and source.kind in (DIGITS, CHARS):
        view = st.segmented_control("Show", ["Trained network", "Over training"], default="Trained network",
                                    key="emb_view", required=True,
                                    help="Over training: the map at the points the training saved, step 0 "
                                         "included, played as an animation.")
        if view == "Over training":
            section(source, left, right)
            st.stop()
    layer, points, problem = None, None, None
    if source.kind == DIGITS and source.trained:
        try:
            layers, default_layer = digit_layers(source, manager())
            layer = st.selectbox("Layer", layers, index=layers.index(default_layer), key=f"emb_layer_{source.id}",
                                 help="The last hidden dense layer (default) holds the features the "
                                      "output layer reads.")
        except Exception as error:  # a stored model that cannot be loaded is reported, not raised
            problem = f"Could not load this network: {error}"
    method = st.segmented_control("Method", ["PCA", "t-SNE", "UMAP"], default="PCA", key="emb_method", required=True)
    dims = 3 if st.toggle("3-D", value=True, key="emb_3d") else 2
    n = 0
    if source.has_images and source.trained:
        # Raw pixels: all 70,000 digits (t-SNE and UMAP in 3-D fewer); a network's activations: 10,000.
        try:  # a network's own data set (issue 29): MNIST, or e.g. EMNIST letters with fewer images
            max_n = (70_000 if method == "PCA" else max_points(dims, "tsne" if method == "t-SNE" else "umap")) \
                if source.kind == RAW else min(10_000, source.available_images())
        except AppError as error:
            right.error(str(error), icon=":material/error:")
            st.stop()
        if ss.get("emb_n", 0) > max_n:  # the limit just dropped (3-D, another method or source)
            ss["emb_n"] = max_n
        first = {} if "emb_n" in ss else {"value": min(2000, max_n)}  # a default beside a set state warns
        n = int(st.number_input("Points (test images first, then training images)", 100, max_n,
                                step=500, key="emb_n", **first,
                                help=f"Up to {max_n:,} for this method. TensorBoard's projector samples "
                                     "t-SNE down to 10,000 points and UMAP to 5,000; here raw pixels go "
                                     "up to all 70,000 digits in 2-D (on two cores a UMAP of them took 22 s, "
                                     "a t-SNE 87 s)."))
        if source.kind == RAW and method != "PCA" and dims == 3:
            st.caption(f"3-D maps stop at {MAX_POINTS_3D['tsne']:,} points for t-SNE and "
                       f"{MAX_POINTS_3D['umap']:,} for UMAP: beyond that a 3-D t-SNE takes minutes (Barnes-Hut "
                       "in 3-D: 203 s for 20,000 points here) and Plotly's 3-D scatter redraws every point "
                       "each time the view turns. Switch 3-D off for up to 70,000.")
    elif source.kind in (CHARS, PLAYGROUND) and source.trained and problem is None:
        try:
            points = points_of(source, None, 0) if source.kind == CHARS else \
                playground_points(ss.get(PLAYGROUND_NET), ss.get(PLAYGROUND_DATA))
            n = len(points)
            st.caption(f"{n:,} points, {points.features.shape[1]} numbers each.")
        except AppError as error:
            problem = str(error)
    params, axes = method_settings(method, n, dims)
    sphere = st.toggle("Spherize", key="emb_sphere", help="Centre the vectors and scale each to length 1 first.")
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
unspherized = points.features
if sphere:
    points = dataclasses.replace(points, features=spherize(points.features))
features = points.features

# ---- how the points are shown ----------------------------------------------------------------------
with display_options:
    st.divider()
    colour_by = st.radio("Colour by", COLOUR_BY, horizontal=True, key="emb_colour",
                         disabled=points.predicted is None,
                         help="What the network predicts needs a network that predicts (not raw pixels).")
    shown_labels = st.multiselect("Show points labelled", points.label_names, default=points.label_names,
                                  key=f"emb_filter_{source.kind}_{len(points.label_names)}",
                                  help="Filter by the true label. The legend hides colours too.")
    isolate = st.toggle("Isolate the selection", key="emb_isolate",
                        help="Show only the selected points: a box or lasso selection on a 2-D map, otherwise "
                             "the point under 'Look at one point' and its nearest neighbours.")

# The chosen point (clicked on a 2-D map, or picked below) and its neighbours in the original space.
index = min(int(ss.get("emb_point", 0)), len(points) - 1)
metric = ss.get("emb_metric", "cosine")
k = min(int(ss.get("emb_k", 8)), 24, len(points) - 1)
found, distances = nearest_neighbours(features, index, k=k, metric=metric)
lasso = ss.get("emb_lasso")  # points selected with a box or lasso on a 2-D map
selection = lasso if lasso else {index, *map(int, found)}
view = map_view(points, colour_by, shown_labels, index, selection if isolate else None)


def drawing_vector() -> np.ndarray | None:
    """The Draw page's current digit as this source's vector (digit sources only)."""
    digit = ss.get(CURRENT_DIGIT)
    if digit is None or not source.has_images:
        return None
    return drawing_features(source, manager(), layer, digit, unspherized if sphere else None)


def show_map(layout: np.ndarray, title: str, drawing: np.ndarray | None, key: str) -> None:
    """The map; on a 2-D map a click picks a point and a box or lasso selects a group."""
    figure = scatter(layout, title, view, drawing)
    if layout.shape[1] != 2:
        st.plotly_chart(figure, key=key)
        return
    event = st.plotly_chart(figure, key=key, on_select="rerun", selection_mode=("points", "box", "lasso"))
    picked = [p.get("customdata") for p in (event.selection.points if event else []) if "customdata" in p]
    picked = {int(i[0] if isinstance(i, list) else i) for i in picked}
    if picked != ss.get("emb_last_pick", set()):  # the selection changed (it persists across reruns)
        ss.emb_last_pick = picked
        ss.emb_lasso = picked if len(picked) > 1 else None
        if len(picked) == 1:
            ss.emb_point = picked.pop()
            ss.emb_point_version = ss.get("emb_point_version", 0) + 1  # remounts the picker at this point
        st.rerun()


with right:
    if method == "PCA":
        result = remembered("pca", (vectors_id, n), lambda: pca(features, 10))
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
        st.plotly_chart(scree_figure(variance), key="emb_scree")
    else:
        key = "tsne" if method == "t-SNE" else "umap"
        if key == "tsne":
            params["perplexity"], note = clamp_perplexity(params["perplexity"], len(features))
            if note:
                st.info(note, icon=":material/tune:")
        # t-SNE and UMAP start from the first 50 principal components; the drawing goes through the same PCA.
        reduction = remembered("pca50", (vectors_id, n), lambda: pca(features, 50)) \
            if features.shape[1] > 50 else None
        projection = start(vectors_id, reduction.coordinates if reduction else features, key, dims, params)

        if not projection.done:
            @st.fragment(run_every=0.5 if len(features) <= 10_000 else 2.0)  # 70,000 points: a large figure a frame
            def live_map():
                if projection.frame is None:
                    text = f"{method}: finding each point's neighbours…" + \
                        (" (the first UMAP run also compiles its optimiser, about half a minute)"
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
