"""Embeddings: what the networks learned, projected with PCA, t-SNE or UMAP in 2-D or 3-D."""
from __future__ import annotations

import dataclasses
import io
import tempfile

import numpy as np
import plotly.graph_objects as go
import streamlit as st


from core.charlstm import KIND as CHAR_KIND
from core.digits import ARCHITECTURES, KIND as DIGIT_KIND
from core.errors import AppError
from core.points import PointSet, character_points, digit_points, playground_points
from core.projection import (
    clamp_perplexity, default_perplexity, nearest_neighbours, pca, place_new_point,
    spherize, start,
)
from core.projector_bundle import write_projector_bundle, zip_folder
from views.common import manager
from views.training_widget import training_widget

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
RIGHT_WRONG = ["#2ca02c", "#d62728"]
ss = st.session_state

st.title("Embeddings")
st.caption("Each point becomes a vector — a digit's raw pixels or a layer's activations inside a trained "
           "network, a character's learned embedding in the text LSTM, a playground point's last hidden "
           "layer — and PCA, t-SNE or UMAP lays those vectors out in 2-D or 3-D, as TensorBoard's projector "
           "does. PCA projects onto the directions along which the vectors vary most; t-SNE and UMAP try "
           "to keep each point's nearest neighbours near it.")

# ---- which vectors ------------------------------------------------------------------------
store = manager().store
digit_entries = {e.key: e for e in store.entries(kind="digits")}
char_entries = {e.key: e for e in store.entries(kind="charlstm")}
trained_archs = {e.config.get("arch") for e in digit_entries.values()}
sources = {"raw": "Raw pixels of MNIST digits (784 numbers each)"}
sources.update({f"digits:{k}": e.record.get("title", k) for k, e in digit_entries.items()})
sources.update({f"train-digits:{arch}": f"{title} — not trained yet" for arch, (title, _) in ARCHITECTURES.items()
                if arch not in trained_archs})
sources.update({f"chars:{k}": "Characters: " + e.record.get("title", k) for k, e in char_entries.items()})
if not char_entries:
    sources["train-chars"] = "Characters of the text LSTM — not trained yet"
sources["playground"] = "Playground network: last hidden layer (this session)"

if "emb_next_source" in ss:  # a training started here has just finished: show its network
    ss["emb-source"] = ss.pop("emb_next_source")
if ss.get("emb-source") not in sources:
    ss.pop("emb-source", None)


@st.cache_resource(show_spinner=False, max_entries=6)
def stored_points(source: str, updated: float, layer: str | None, n: int) -> PointSet:
    """The vectors of a stored network (shared by every session; ``updated`` invalidates)."""
    kind, _, key = source.partition(":")
    if kind == "raw":
        return digit_points(n)
    entry = (digit_entries if kind == "digits" else char_entries)[key]
    model = manager().load_entry("digits" if kind == "digits" else "charlstm", entry)
    if kind == "digits":
        return digit_points(n, model, layer, f"{sources[source]}, layer {layer}")
    return character_points(model, sources[source])


def stamp(source: str) -> float:
    """When the source's network was last trained (0 for raw pixels)."""
    kind, _, key = source.partition(":")
    entries = {"digits": digit_entries, "chars": char_entries}.get(kind)
    return float(entries[key].record.get("updated", 0)) if entries else 0.0


def remembered(name: str, key: tuple, compute):
    """This session's last result for ``name``: reruns (a click, a filter) reuse it while ``key`` holds."""
    memo = ss.setdefault("emb_memo", {})
    if name not in memo or memo[name][0] != key:
        memo[name] = (key, compute())
    return memo[name][1]


def digit_layers(key: str) -> tuple[list[str], str]:
    from core.digits import penultimate_layer

    model = manager().load_entry("digits", digit_entries[key])
    return [l.name for l in model.layers[1:] if not l.name.startswith("augment")], penultimate_layer(model)


left, right = st.columns([1, 2.2], gap="large")
with left:
    source = st.selectbox("Vectors from", list(sources), format_func=sources.get, key="emb-source",
                          help="Digit networks trained on the Draw page, the character LSTM trained on "
                               "the Text page and this session's Playground network appear here.")
    kind = source.split(":")[0]
    layer, points, problem = None, None, None
    if kind == "digits":
        try:
            layers, default_layer = digit_layers(source.split(":", 1)[1])
            layer = st.selectbox("Layer", layers, index=layers.index(default_layer), key=f"emb-layer-{source}",
                                 help="The last hidden dense layer (default) holds the features the "
                                      "output layer reads.")
        except Exception as error:  # a stored model that cannot be loaded is reported, not raised
            problem = f"Could not load this network: {error}"
    method = st.segmented_control("Method", ["PCA", "t-SNE", "UMAP"], default="PCA", key="emb-method", required=True)
    dims = 3 if st.toggle("3-D", value=True, key="emb-3d") else 2
    if kind in ("raw", "digits"):
        max_n = 70_000 if kind == "raw" and method == "PCA" else 10_000
        n = int(st.number_input("Points (test images first, then training images)", 100, max_n,
                                min(2000, max_n), step=500, key="emb-n", help=f"Up to {max_n:,} for this method."))
    elif kind in ("chars", "playground") and problem is None:
        try:
            if kind == "chars":
                points = stored_points(source, stamp(source), None, 0)
            else:
                points = playground_points(ss.get("pg_net"), ss.get("pg_data"))
        except AppError as error:
            problem = str(error)
        n = len(points) if points is not None else 0
        if points is not None:
            st.caption(f"{n:,} points, {points.features.shape[1]} numbers each.")
    else:
        n = 0
    params: dict = {}
    axes: list[int] = []
    if method == "PCA":
        axes = st.multiselect("Components on X, Y(, Z)", list(range(1, 11)), default=[1, 2, 3][:dims],
                              max_selections=dims, key=f"emb-axes-{dims}")
    elif method == "t-SNE":
        perplexity = st.slider("Perplexity", 2, 100, int(default_perplexity(max(n, 3))), key="emb-perplexity",
                               help="Roughly how many neighbours each point tries to keep close. "
                                    "Default max(5, ⌈√N/4⌉) as in the projector; it must stay below N/3.")
        params = {"perplexity": perplexity,
                  "learning_rate": st.select_slider("Learning rate", ["auto", 10, 100, 200, 500, 1000],
                                                    value="auto", key="emb-lr",
                                                    help="'auto' is openTSNE's rule, N divided by the "
                                                         "exaggeration: N/12 during the early-exaggeration "
                                                         "phase (at the default 12), then N. scikit-learn's "
                                                         "'auto' differs: max(N / early exaggeration / 4, 50)."),
                  "iterations": st.slider("Iterations", 100, 2000, 500, step=50, key="emb-iter",
                                          help="Iterations after the early-exaggeration phase."),
                  "early_exaggeration": st.slider("Early exaggeration", 1.0, 30.0, 12.0, key="emb-exag",
                                                  help="How much the attraction between neighbours is "
                                                       "multiplied in the first phase, so clusters form "
                                                       "early and can move apart.")}
    else:
        params = {"neighbors": st.slider("Neighbours", 5, 50, 15, key="emb-nb",
                                         help="How many neighbours UMAP's graph links each point to: "
                                              "few keep fine local detail, many more of the overall shape."),
                  "min_dist": st.slider("Minimum distance", 0.0, 0.99, 0.1, key="emb-md",
                                        help="How tightly UMAP may pack points together.")}
    sphere = st.toggle("Spherize", key="emb-sphere", help="Centre the vectors and scale each to length 1 first.")
    run = st.button("Run", type="primary", icon=":material/play_arrow:", disabled=kind.startswith("train-"))
    display_options = st.container()

# ---- a network that is not trained yet: offer to train it -------------------------------------
if kind.startswith("train-"):
    if kind == "train-chars":
        train_kind, config = "charlstm", CHAR_KIND.normalize({})
        title, later_prefix = CHAR_KIND.title(config), "chars"
    else:
        train_kind, config = "digits", DIGIT_KIND.normalize({"arch": source.split(":", 1)[1]})
        title, later_prefix = DIGIT_KIND.title(config), "digits"
    with right:
        training_widget(
            train_kind, config, "emb-train", label=f"Train {title}",
            not_trained=f"**{title}** is not trained yet, so it has no embeddings to show. Train it here with "
                        f"the default settings (it runs in the background and is kept in the model store), "
                        f"or on the {'Text' if train_kind == 'charlstm' else 'Draw'} page with your own.",
            on_done=lambda done: ss.__setitem__("emb_next_source", f"{later_prefix}:{done.key}"))
    st.stop()

if problem:
    right.error(problem, icon=":material/error:")
    st.stop()

if kind == "playground":  # its vectors change as it trains on the Playground page
    source_id = f"playground/{id(ss.pg_net)}/{ss.pg_net.epoch}"
else:  # a network retrained under the same key has new vectors: its record's time tells them apart
    source_id = f"{source}/{layer}/{stamp(source)}"
source_id += "/sphere" if sphere else "/plain"
settings = (source_id, int(n), method, dims, tuple(sorted(params.items())), tuple(axes))
if run:
    ss.emb_settings = settings
    ss.emb_lasso, ss.emb_last_pick = None, set()
if ss.get("emb_settings") != settings:
    with right:
        st.info("Choose the vectors and a method, then press **Run**.", icon=":material/scatter_plot:")
    st.stop()

if points is None:
    try:
        with right, st.spinner("Computing the vectors…"):
            points = stored_points(source, stamp(source), layer, n)
    except AppError as error:
        right.error(str(error), icon=":material/error:")
        st.stop()
if sphere:
    points = dataclasses.replace(points, features=spherize(points.features))
features = points.features
has_digits = points.images is not None

# ---- how the points are shown ----------------------------------------------------------------------
with display_options:
    st.divider()
    colour_by = st.radio("Colour by", ["label", "prediction", "right / wrong"], horizontal=True, key="emb-colour",
                         disabled=points.predicted is None,
                         help="What the network predicts needs a network that predicts (not raw pixels).")
    shown_labels = st.multiselect("Show points labelled", points.label_names, default=points.label_names,
                                  key=f"emb-filter-{kind}-{len(points.label_names)}",
                                  help="Filter by the true label. The legend hides colours too.")
    isolate = st.toggle("Isolate the selection", key="emb-isolate",
                        help="Show only the selected points: a box or lasso selection on a 2-D map, otherwise "
                             "the point under 'Look at one point' and its nearest neighbours.")

if colour_by == "prediction" and points.predicted is not None:
    groups, names, palette = points.predicted, points.label_names, points.colours or COLOURS
elif colour_by == "right / wrong" and points.predicted is not None:
    groups, names, palette = (points.predicted != points.labels).astype(int), ["right", "wrong"], RIGHT_WRONG
else:
    groups, names, palette = points.labels, points.label_names, points.colours or COLOURS
hover = np.array(points.hover())

# The chosen point (clicked on a 2-D map, or picked below) and its neighbours in the original space.
index = min(int(ss.get("emb_point", 0)), len(points) - 1)
metric = ss.get("emb-metric", "cosine")
k = min(int(ss.get("emb-k", 8)), 24, len(points) - 1)
found, distances = nearest_neighbours(features, index, k=k, metric=metric)
lasso = ss.get("emb_lasso")  # points selected with a box or lasso on a 2-D map
selection = lasso if lasso else {index, *map(int, found)}
visible = np.isin(points.labels, [points.label_names.index(name) for name in shown_labels])
if isolate:
    visible &= np.isin(np.arange(len(points)), sorted(selection))

def markers(rows: np.ndarray, webgl: bool = False, **settings) -> go.Scatter | go.Scattergl | go.Scatter3d:
    """A marker trace for (n, 2) or (n, 3) coordinates, or one point: 3-D or 2-D to match."""
    rows = np.atleast_2d(rows)
    if rows.shape[1] == 3:
        return go.Scatter3d(x=rows[:, 0], y=rows[:, 1], z=rows[:, 2], **settings)
    return (go.Scattergl if webgl else go.Scatter)(x=rows[:, 0], y=rows[:, 1], **settings)


def scatter(layout: np.ndarray, title: str, drawing: np.ndarray | None = None) -> go.Figure:
    figure = go.Figure()
    flat, many = layout.shape[1] == 2, len(layout) > 500
    for g, name in enumerate(names):
        mask = (groups == g) & visible
        if not mask.any():
            continue
        size = (5 if many else 9) if flat else (2.5 if many else 5)
        figure.add_trace(markers(layout[mask], webgl=True, mode="markers", name=name, text=hover[mask],
                                 hoverinfo="text", customdata=np.nonzero(mask)[0],
                                 marker=dict(size=size, color=palette[g % len(palette)])))
    if not has_digits and len(layout) <= 200:  # few points without pictures: write their names
        for trace in figure.data:
            trace.update(mode="markers+text", text=[points.names[i] for i in trace.customdata],
                         hovertext=hover[trace.customdata], hoverinfo="text", textposition="top center")
    if visible[index]:  # ring the point under "Look at one point"
        figure.add_trace(markers(layout[index], mode="markers", name=f"chosen: {points.names[index]}",
                                 hoverinfo="name",
                                 marker=dict(size=18 if flat else 10, color="black", symbol="circle-open")))
    if drawing is not None:
        figure.add_trace(markers(drawing, mode="markers", name="your drawing", hoverinfo="name",
                                 marker=dict(size=14 if flat else 8, color="black", symbol="diamond")))
    figure.update_layout(title=title, height=620, margin=dict(l=0, r=0, t=40, b=0), uirevision="keep",
                         legend=dict(itemsizing="constant", title="click to hide"))
    if flat:
        figure.update_layout(dragmode="lasso" if isolate else "zoom", clickmode="event+select")
    return figure


def drawing_vector() -> np.ndarray | None:
    """The Draw page's current digit as this source's vector (digit sources only)."""
    digit = ss.get("current_digit")
    if digit is None or not has_digits:
        return None
    vector = digit[None].astype(np.float32)
    if kind == "raw":
        mine = vector.reshape(1, -1)
    else:
        import keras

        # One image: layer_activations insists on the three points a projection needs.
        model = manager().load_entry("digits", digit_entries[source.split(":", 1)[1]])
        probe = keras.Model(model.inputs, model.get_layer(layer).output)
        mine = np.asarray(probe(vector[..., None], training=False)).reshape(1, -1)
    return spherize(np.concatenate([stored_points(source, stamp(source), layer, n).features, mine]))[-1:] \
        if sphere else mine


def show_map(layout: np.ndarray, title: str, drawing: np.ndarray | None, key: str) -> None:
    """The map; on a 2-D map a click picks a point and a box or lasso selects a group."""
    figure = scatter(layout, title, drawing)
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
        result = remembered("pca", (source_id, n), lambda: pca(features, 10))
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
        show_map(layout, f"PCA of {len(features):,} vectors", drawing, "emb-plot")
        st.caption(f"The components shown explain {variance[chosen_axes].sum():.1%} of the variance.")
        scree = go.Figure(go.Bar(x=[f"PC{i + 1}" for i in range(len(variance))], y=variance,
                                 hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
        scree.update_layout(title="Scree plot: variance explained by each component", height=220,
                            yaxis_tickformat=".0%", margin=dict(l=0, r=0, t=40, b=0))
        st.plotly_chart(scree, key="emb-scree")
    else:
        key = "tsne" if method == "t-SNE" else "umap"
        if key == "tsne":
            params["perplexity"], note = clamp_perplexity(params["perplexity"], len(features))
            if note:
                st.info(note, icon=":material/tune:")
        # t-SNE and UMAP start from the first 50 principal components; the drawing goes through the same PCA.
        reduction = remembered("pca50", (source_id, n), lambda: pca(features, 50)) \
            if features.shape[1] > 50 else None
        run_features = reduction.coordinates if reduction else features
        projection = start(source_id, run_features, key, dims, params)

        if not projection.done:
            @st.fragment(run_every=0.5)
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
                    st.plotly_chart(scatter(projection.frame, f"{method} of {len(features):,} vectors", None),
                                    key="emb-plot-live")
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
        show_map(layout, f"{method} of {len(features):,} vectors", drawing, "emb-plot")
        st.caption(f"On a {method} map only the local neighbourhoods mean something: which points sit next "
                   "to which. The sizes of the clusters and the gaps between them do not measure anything, "
                   "so compare several " + ("perplexities" if key == "tsne" else "neighbour counts")
                   + " before reading a pattern into them.")
    if drawing is not None:
        st.caption("◆ Your drawing from the Draw page is the black diamond.")

# ---- a closer look at one point ------------------------------------------------------------------
st.subheader("Look at one point")
st.caption("Click a point on a 2-D map, or choose it here.")
pick_left, pick_right = st.columns([1, 3])
with pick_left:
    picker_key = f"emb-point-{ss.get('emb_point_version', 0)}"

    def point_picked() -> None:
        ss.emb_point, ss.emb_lasso = int(ss[picker_key]), None

    if len(points) <= 300:
        st.selectbox("Point", range(len(points)), index, format_func=lambda i: points.names[i], key=picker_key,
                     on_change=point_picked)
    else:
        st.number_input("Point index (see the hover text)", 0, len(points) - 1, index, key=picker_key,
                        on_change=point_picked)
    st.radio("Distance in the original space", ["cosine", "euclidean"], horizontal=True, key="emb-metric")
    if len(points) > 2:
        st.slider("Neighbours", 1, min(24, len(points) - 1), k, key="emb-k")
    if lasso:
        st.caption(f"{len(lasso)} points selected on the map; double-click the map to clear the selection.")
    label_text = points.label_names[points.labels[index]]
    predicted_text = ("" if points.predicted is None
                      else f", predicted {points.label_names[points.predicted[index]]}")
    if has_digits:
        st.image(points.images[index], caption=f"{points.names[index]}: label {label_text}{predicted_text}", width=112)
    else:
        st.markdown(f"**{points.names[index]}** — {label_text}{predicted_text}")
with pick_right:
    st.markdown(f"**Its {k} nearest neighbours** in the {metric} distance between the original vectors, "
                "not on the map: no 2-D or 3-D map keeps every distance (PCA drops the other components, "
                "t-SNE and UMAP keep mainly each point's neighbourhood).")
    if has_digits:
        for row in range(0, len(found), 8):
            for column, (j, d) in zip(st.columns(8), list(zip(found, distances))[row:row + 8]):
                column.image(points.images[j], caption=f"{points.names[j]} ({points.labels[j]}) d={d:.3f}", width=64)
    else:
        st.dataframe({"point": [points.names[j] for j in found],
                      "label": [points.label_names[points.labels[j]] for j in found],
                      "distance": [round(float(d), 4) for d in distances]}, hide_index=True)

# ---- export ---------------------------------------------------------------------------------------
st.subheader("Export")
e1, e2, e3 = st.columns(3)
csv = io.StringIO()
columns = ["x", "y", "z"][:layout.shape[1]]
csv.write("index,name,label," + ("predicted," if points.predicted is not None else "") + ",".join(columns) + "\n")
for i, (row, meta) in enumerate(zip(layout, points.metadata())):
    name = '"' + meta["name"].replace('"', '""') + '"'
    extra = f"{meta['predicted']}," if points.predicted is not None else ""
    csv.write(f"{i},{name},{meta['label']},{extra}" + ",".join(f"{v:.6g}" for v in row) + "\n")
e1.download_button("Coordinates (CSV)", csv.getvalue(), "coordinates.csv", "text/csv", icon=":material/download:")
if len(features) <= 10_000 and e2.button("Prepare a TensorBoard projector bundle", icon=":material/inventory_2:"):
    folder = tempfile.mkdtemp(prefix="projector-")
    write_projector_bundle(folder, features, points.metadata(), points.images, tensor_name=points.title)
    ss.emb_bundle = zip_folder(folder)
if ss.get("emb_bundle"):
    e2.download_button("Projector bundle (zip)", ss.emb_bundle, "projector.zip", "application/zip",
                       icon=":material/download:", help="Unzip into a folder and run "
                       "`tensorboard --logdir <folder>`, then open the Projector tab.")
figure_html = scatter(layout, "Embedding").to_html(include_plotlyjs="cdn")
e3.download_button("Figure (HTML)", figure_html, "embedding.html", "text/html", icon=":material/download:")
