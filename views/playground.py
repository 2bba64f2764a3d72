"""Playground: the TensorFlow Playground in Streamlit — tweak a small net and watch it learn 2-D data."""
from __future__ import annotations

import base64
import io
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image, ImageDraw

from core.errors import AppError
from core.playground import (
    ACTIVATIONS, CLASSIFICATION_SETS, DATASETS, DOMAIN, FEATURES, LEARNING_RATES,
    CALM_FRAMES, MULTICLASS_SETS, PLAYERS, REGRESSION_SETS, REGULARIZATION_RATES, PlaygroundNet, PlaygroundState,
    featurize, frame_interval, grid, keras_code, make_dataset, paced_interval, parse_points_csv, save_run,
    thin_history,
)


ORANGE, WHITE, BLUE = (245, 147, 34), (232, 234, 235), (8, 119, 189)
CLASS_COLOURS = ["#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
GRID = 50
FRAME_SECONDS = 0.1  # the shortest time between pictures; aim for five or more a second
TRAIN_BUDGET_SECONDS = 0.045  # training time per picture (shared out among players); the rest is drawing
MIN_EPOCHS_PER_FRAME = 10  # each call into TensorFlow has a fixed cost; never pay it for one epoch
MAX_EPOCHS_PER_FRAME = 60  # fast enough to converge in seconds, slow enough to watch

ss = st.session_state

# ---- state: one object, mirrored in the URL ------------------------------------------
if "pg_state" not in ss:
    state, problems = PlaygroundState.from_query(st.query_params.to_dict())
    ss.pg_state, ss.pg_link_problems = state, problems
    ss.pg_custom = (np.zeros((0, 2)), np.zeros(0))
state: PlaygroundState = ss.pg_state
ss.pg_frame_open = False  # a full run: no frame of the live fragment is under way
ss.pg_full_run = True  # live() below runs inline; only its own reruns measure and adapt the pace
ss.setdefault("pg_player", f"{id(ss)}-{time.time()}")  # names this session among the players


def reset_network() -> None:
    """A fresh network and data for the current state (Reset, or any structural change)."""
    ss.pg_playing = False
    ss.pg_history = []
    ss.pg_error = None
    ss.pg_net = None
    try:
        ss.pg_data = make_dataset(state, ss.pg_custom)
        ss.pg_net = PlaygroundNet(state)
    except AppError as error:
        ss.pg_data = None
        ss.pg_error = str(error)
    st.query_params.from_dict(state.to_query())


def change(**values) -> None:
    for name, value in values.items():
        setattr(state, name, value)
    reset_network()


if "pg_net" not in ss:
    reset_network()

# ---- page --------------------------------------------------------------------------------
st.title("Playground")
st.caption("The TensorFlow Playground, trained by TensorFlow: choose data, features and layers, press Play "
           "and watch the decision boundary bend. Blue is +1, orange −1 (multiclass data: a colour per class). "
           "The whole setup except your own points is in the URL — copy it to share.")
for problem in ss.pop("pg_link_problems", []):
    st.warning(problem, icon=":material/link_off:")

# Top bar, as in the playground: run controls and the main hyperparameters.
run_bar = st.columns([1, 1, 1, 1, 4], vertical_alignment="center")
bar = [None] * 4 + list(st.columns(5))
playing = ss.get("pg_playing", False)
if run_bar[0].button("Pause" if playing else "Play", type="primary", icon=":material/pause:" if playing else
                 ":material/play_arrow:", disabled=ss.pg_net is None, key="pg-play"):
    ss.pg_playing = not playing
    PLAYERS.stop(ss.pg_player)
    ss.pg_frame_every = paced_interval(FRAME_SECONDS, [FRAME_SECONDS * max(1, PLAYERS.count())])  # a first guess
    st.rerun()
step_clicked = run_bar[1].button("Step", icon=":material/skip_next:", disabled=ss.pg_net is None or playing,
                             help="Train one epoch: the training points are shuffled and cut into ⌈n / batch size⌉ "
                                  "batches. The last batch is filled up from the start of the shuffle, so "
                                  "when the batch size does not divide n, a few points are seen twice.")
if run_bar[2].button("Reset", icon=":material/restart_alt:",
                     help="New random weights, epoch 0; the data stay. The new weights' seed goes into the URL, "
                          "so a copied link starts from these same weights."):
    state.reseed()
    reset_network()
    st.rerun()
epoch_slot = run_bar[3].empty()

learning_rate = bar[4].selectbox("Learning rate", LEARNING_RATES, index=LEARNING_RATES.index(state.learning_rate)
                                 if state.learning_rate in LEARNING_RATES else 5, key="pg-lr")
if learning_rate != state.learning_rate:  # the playground keeps the weights when only the rate changes
    state.learning_rate = learning_rate
    if ss.pg_net is not None:
        ss.pg_net.learning_rate.assign(learning_rate)
    st.query_params.from_dict(state.to_query())
activation = bar[5].selectbox("Activation", ACTIVATIONS, index=ACTIVATIONS.index(state.activation),
                              format_func=str.capitalize, key="pg-activation")
regularization = bar[6].selectbox("Regularization", ["none", "L1", "L2"],
                                  index=["none", "L1", "L2"].index(state.regularization), key="pg-reg",
                                  format_func=lambda r: "None" if r == "none" else r,
                                  help="Penalties on the weights (not the biases). L1: after each step every weight "
                                       "moves learning rate × rate towards 0 and stops at exactly 0, where its "
                                       "link disappears. L2 adds rate × ½Σw² to the loss, which shrinks each "
                                       "weight in proportion to its size. The losses shown leave the penalty out.")
regularization_rate = bar[7].selectbox("Regularization rate", REGULARIZATION_RATES,
                                       index=REGULARIZATION_RATES.index(state.regularization_rate)
                                       if state.regularization_rate in REGULARIZATION_RATES else 0, key="pg-regrate")
problem = bar[8].selectbox("Problem type", ["classification", "regression"],
                           index=["classification", "regression"].index(state.problem),
                           format_func=str.capitalize, key="pg-problem")
if (activation, regularization, regularization_rate, problem) != (
        state.activation, state.regularization, state.regularization_rate, state.problem):
    dataset = state.dataset
    if problem != state.problem:  # each problem type has its own data sets
        dataset = "reg-plane" if problem == "regression" else "circle"
    change(activation=activation, regularization=regularization, regularization_rate=regularization_rate,
           problem=problem, dataset=dataset, layer_activations=[])
    st.rerun()

data_col, net_col, out_col = st.columns([1, 2.3, 1.6], gap="medium")

# ---- data column ---------------------------------------------------------------------------
with data_col:
    st.markdown("**Data**")
    if state.problem == "regression":
        choices = list(REGRESSION_SETS)
    else:
        choices = list(CLASSIFICATION_SETS) + list(MULTICLASS_SETS) + ["custom"]
    dataset = st.radio("Which dataset do you want to use?", choices, format_func=DATASETS.get,
                       index=choices.index(state.dataset) if state.dataset in choices else 0, key="pg-dataset")
    if state.multiclass and state.dataset != "custom":
        classes = st.slider("Classes", 3, 8, state.classes, key="pg-classes")
    else:
        classes = state.classes
    ratio = st.slider("Ratio of training to test data", 10, 90, state.train_ratio, step=10, format="%d%%",
                      key="pg-ratio", help="The share of the points used for training; the rest are test points.")
    noise = st.slider("Noise", 0, 50, state.noise, step=5, key="pg-noise")
    batch = st.slider("Batch size", 1, state.max_batch, min(state.batch_size, state.max_batch), key="pg-batch")
    if (dataset, classes, ratio, noise, batch) != (state.dataset, state.classes, state.train_ratio, state.noise,
                                                   state.batch_size):
        change(dataset=dataset, classes=classes, train_ratio=ratio, noise=noise, batch_size=batch)
        st.rerun()
    if st.button("Regenerate", icon=":material/refresh:", help="New random points from the same distribution."):
        change(seed=state.seed + 1)
        st.rerun()
    if state.dataset == "custom":
        st.markdown("**Your own points**")
        ss.pg_paint = st.radio("Click the output map to add a point of class",
                               list(range(max(2, state.custom_classes + 1)))[:8],
                               horizontal=True, key="pg-paint-class",
                               format_func=lambda c: {0: "orange", 1: "blue"}.get(c, f"class {c}"))
        upload = st.file_uploader("…or upload a CSV of x, y, label", type=["csv", "txt"], key="pg-csv",
                                  help="One point per row: x and y in [-6, 6] (values outside are clipped to the edge) and a "
                                       "label (any two values such as 0/1, or up to 8 whole class numbers).")
        if upload is not None and ss.get("pg_csv_seen") != upload.file_id:
            ss.pg_csv_seen = upload.file_id
            try:
                xy, labels = parse_points_csv(upload.getvalue())
                ss.pg_custom = (xy, labels)
                change(custom_classes=int(len(np.unique(labels))))
                st.rerun()
            except AppError as error:
                st.error(str(error), icon=":material/error:")
        if len(ss.pg_custom[0]) and st.button("Remove all points", icon=":material/delete:"):
            ss.pg_custom = (np.zeros((0, 2)), np.zeros(0))
            change(custom_classes=2)
            st.rerun()

# ---- network column: features, layers, the picture of the net ------------------------------
with net_col:
    features = st.pills("Features", list(FEATURES), selection_mode="multi", default=state.features,
                        format_func=FEATURES.get, key="pg-features",
                        help="Which properties of each point the network is given as input.")
    if list(features) != state.features:
        change(features=[f for f in FEATURES if f in features])
        st.rerun()
    layer_bar = st.columns([1, 1, 4])
    if layer_bar[0].button("", icon=":material/add:", key="pg-add-layer", help="Add a hidden layer",
                           disabled=len(state.hidden) >= state.max_layers):
        change(hidden=state.hidden + [min(4, state.max_neurons)], layer_activations=[])
        st.rerun()
    if layer_bar[1].button("", icon=":material/remove:", key="pg-remove-layer", help="Remove the last hidden layer",
                           disabled=not state.hidden):
        change(hidden=state.hidden[:-1], layer_activations=[])
        st.rerun()
    layer_bar[2].markdown(f"**{len(state.hidden)} hidden layer{'s' if len(state.hidden) != 1 else ''}**")
    if state.hidden:
        neuron_columns = st.columns(len(state.hidden))
        for index, (column, size) in enumerate(zip(neuron_columns, state.hidden)):
            plus, minus = column.columns(2)
            if plus.button("", icon=":material/add:", key=f"pg-add-{index}", disabled=size >= state.max_neurons,
                           help=f"One more neuron in layer {index + 1}"):
                change(hidden=[n + (i == index) for i, n in enumerate(state.hidden)])
                st.rerun()
            if minus.button("", icon=":material/remove:", key=f"pg-remove-{index}", disabled=size <= 1,
                            help=f"One neuron fewer in layer {index + 1}"):
                change(hidden=[n - (i == index) for i, n in enumerate(state.hidden)])
                st.rerun()
            column.caption(f"{size} neuron{'s' if size != 1 else ''}")
    network_slot = st.empty()

# ---- output column ----------------------------------------------------------------------------
with out_col:
    st.markdown("**Output**")
    loss_slot = st.empty()
    map_slot = st.empty()
    show_test = st.toggle("Show test data", value=state.show_test, key="pg-show-test")
    discretize = st.toggle("Discretize output", value=state.discretize, key="pg-discretize",
                           disabled=state.problem == "regression")
    if (show_test, discretize) != (state.show_test, state.discretize):
        state.show_test, state.discretize = show_test, discretize
        st.query_params.from_dict(state.to_query())
    curve_slot = st.empty()

# ---- drawing helpers ----------------------------------------------------------------------------


def colours_for(values: np.ndarray, discrete: bool = False) -> np.ndarray:
    """Values in [-1, 1] → the playground's orange-white-blue colours (one RGB triple each)."""
    v = np.clip(values, -1, 1)
    if discrete:
        v = np.sign(v)
    t = ((v + 1) / 2)[..., None]
    low = np.array(ORANGE) + (np.array(WHITE) - np.array(ORANGE)) * np.clip(t * 2, 0, 1)
    high = np.array(WHITE) + (np.array(BLUE) - np.array(WHITE)) * np.clip(t * 2 - 1, 0, 1)
    return np.where(t < 0.5, low, high).astype(np.uint8)


def colour_image(values: np.ndarray, size: int = GRID, discrete: bool = False) -> np.ndarray:
    """Values on the grid → a size×size picture."""
    return colours_for(values.reshape(size, size), discrete)


def class_image(probabilities: np.ndarray, size: int = GRID) -> np.ndarray:
    colours = np.array([tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in CLASS_COLOURS])
    winner = probabilities.argmax(1)
    confidence = probabilities.max(1)[:, None]
    rgb = np.array(WHITE) * (1 - confidence) + colours[winner] * confidence
    return rgb.reshape(size, size, 3).astype(np.uint8)


def point_colours(labels: np.ndarray) -> list[str]:
    """A CSS colour per data point (Plotly and PIL both read them): its class's, or the value's on the
    orange-white-blue scale."""
    if state.multiclass:
        return [CLASS_COLOURS[int(label) % 8] for label in labels]
    return [f"rgb({r}, {g}, {b})" for r, g, b in colours_for(np.asarray(labels, float)).tolist()]


def svg_uri(svg: str) -> str:
    """An SVG as an image source: Streamlit's HTML sanitiser drops inline <svg>."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def png_uri(picture: np.ndarray | Image.Image) -> str:
    buffer = io.BytesIO()
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    image.save(buffer, format="PNG", compress_level=1)  # tiny pictures: speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def network_svg(net: PlaygroundNet, grid_features: np.ndarray, outputs: list[np.ndarray]) -> str:
    """The network: a picture per neuron, links coloured by sign and thickened by size."""
    layers = [list(state.features)] + [[f"{i}"] * n for i, n in enumerate(state.hidden)] + [["out"]]
    pictures = [[colour_image(grid_features[:, j] / (np.abs(grid_features[:, j]).max() or 1), discrete=False)
                 for j in range(grid_features.shape[1])]]
    for layer_out in outputs[:-1]:
        scale = np.abs(layer_out).max(0)
        pictures.append([colour_image(layer_out[:, j] / (scale[j] or 1)) for j in range(layer_out.shape[1])])
    final = outputs[-1]
    pictures.append([class_image(final) if state.multiclass else colour_image(final[:, 0], discrete=state.discretize)])
    width, node, gap_y = 700, 34, 44
    tallest = max(len(layer) for layer in layers)
    height = max(220, tallest * gap_y + 40)
    xs = np.linspace(50, width - 50, len(layers))

    def y_of(count, index):
        return height / 2 + (index - (count - 1) / 2) * gap_y

    links = []
    for index, (w, _) in enumerate(net.weight_arrays()):
        scale = max(1e-6, np.abs(w).max())
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                value = w[i, j]
                if value == 0:  # an L1 clamp took this link out: draw it no more, as the TF Playground
                    continue
                colour = "#0877bd" if value > 0 else "#f59322"
                stroke = 0.5 + 5 * min(1.0, abs(value) / max(scale, 1.0))
                links.append(f'<line x1="{xs[index] + node / 2:.1f}" y1="{y_of(w.shape[0], i):.1f}" '
                             f'x2="{xs[index + 1] - node / 2:.1f}" y2="{y_of(w.shape[1], j):.1f}" '
                             f'stroke="{colour}" stroke-width="{stroke:.2f}" opacity="0.75"/>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">{"".join(links)}</svg>')
    # Streamlit's HTML sanitiser drops inline <svg>, so the links are an SVG image and the
    # neurons are positioned <img>s that CSS can enlarge on hover.
    parts = [f'<img src="{svg_uri(svg)}" '
             f'style="position:absolute;left:0;top:0;width:100%;height:100%" alt="">']
    for index, layer_pictures in enumerate(pictures):
        for j, picture in enumerate(layer_pictures):
            label = (FEATURES[state.features[j]] if index == 0 else
                     "output" if index == len(pictures) - 1 else f"layer {index}, neuron {j + 1}")
            left = (xs[index] - node / 2) / width * 100
            top = (y_of(len(layer_pictures), j) - node / 2) / height * 100
            parts.append(f'<img class="pg-neuron" src="{png_uri(picture)}" title="{label}" alt="{label}" '
                         f'style="position:absolute;left:{left:.2f}%;top:{top:.2f}%;width:{node / width * 100:.2f}%;'
                         f'border:1px solid #555;image-rendering:pixelated">')
            if index == 0:
                parts.append(f'<span style="position:absolute;right:{100 - left + 0.8:.2f}%;top:{top + 1:.2f}%;'
                             f'font-size:12px">{label}</span>')
    return (f'<style>.pg-neuron{{transition:transform .15s;transform-origin:center;z-index:1}}'
            f'.pg-neuron:hover{{transform:scale(3.5);z-index:5;box-shadow:0 2px 8px rgba(0,0,0,.4)}}</style>'
            f'<div class="pg-net" data-layers="{len(layers)}" style="position:relative;width:100%;'
            f'aspect-ratio:{width}/{height};margin:8px 0 8px 30px">{"".join(parts)}</div>')


def output_map(net: PlaygroundNet, final: np.ndarray) -> go.Figure:
    data = ss.pg_data
    axis = np.linspace(-DOMAIN, DOMAIN, GRID)
    if state.multiclass:
        picture = class_image(final)
    else:
        picture = colour_image(final[:, 0], discrete=state.discretize and state.problem == "classification")
    figure = go.Figure(go.Image(z=picture, x0=-DOMAIN, dx=axis[1] - axis[0], y0=DOMAIN, dy=-(axis[1] - axis[0]),
                                hoverinfo="skip", name="output"))

    def points(xy, labels, outline, name):
        figure.add_trace(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", name=name,
                                    marker=dict(color=point_colours(labels), size=6,
                                                line=dict(color=outline, width=1)),
                                    hovertemplate="(%{x:.2f}, %{y:.2f})<extra>" + name + "</extra>"))

    points(data.x_train, data.y_train, "white", "training points")
    if state.show_test:
        points(data.x_test, data.y_test, "black", "test points")
    if state.dataset == "custom":  # an invisible grid to click on
        gx, gy = np.meshgrid(np.linspace(-5.8, 5.8, 30), np.linspace(-5.8, 5.8, 30))
        figure.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="add a point here",
                                    marker=dict(size=11, opacity=0.01), hoverinfo="none"))
    figure.update_layout(height=330, width=330, margin=dict(l=0, r=0, t=0, b=0), showlegend=False,
                         xaxis=dict(range=[-DOMAIN, DOMAIN], showgrid=False, zeroline=False),
                         yaxis=dict(range=[-DOMAIN, DOMAIN], showgrid=False, zeroline=False, scaleanchor="x"),
                         dragmode=False, clickmode="event+select")
    return figure


def output_picture(final: np.ndarray, size: int = 340) -> Image.Image:
    """The output map as a picture: cheap enough to redraw five times a second."""
    data = ss.pg_data
    if state.multiclass:
        picture = class_image(final)
    else:
        picture = colour_image(final[:, 0], discrete=state.discretize and state.problem == "classification")
    image = Image.fromarray(picture).resize((size, size), Image.BILINEAR)
    draw = ImageDraw.Draw(image)

    def to_pixels(xy):
        return (xy[:, 0] + DOMAIN) / (2 * DOMAIN) * size, (DOMAIN - xy[:, 1]) / (2 * DOMAIN) * size

    sets = [(data.x_train, data.y_train, (255, 255, 255))]
    if state.show_test:
        sets.append((data.x_test, data.y_test, (0, 0, 0)))
    for xy, labels, outline in sets:
        for px, py, fill in zip(*to_pixels(xy), point_colours(labels)):
            draw.ellipse([px - 3.5, py - 3.5, px + 3.5, py + 3.5], fill=fill, outline=outline)
    return image


def loss_curve_html(history: np.ndarray) -> str:
    """Training and test loss against epochs as a small SVG picture.

    A Plotly chart re-rendered five times a second cost the browser more than everything
    else on the page; a picture of two polylines costs next to nothing.
    """
    width, height, left, bottom = 300, 140, 40, 20  # about its size on screen, so the text stays legible
    epochs, curves = history[:, 0], {"training": (history[:, 1], "#555"), "test": (history[:, 2], "#0877bd")}
    finite = history[:, 1:][np.isfinite(history[:, 1:])]
    top = float(finite.max()) if finite.size else 1.0
    top = top if top > 0 else 1.0
    span = max(float(epochs[-1] - epochs[0]), 1.0)

    def x_of(epoch):
        return left + (epoch - epochs[0]) / span * (width - left - 8)

    def y_of(loss):
        return 8 + (1 - np.clip(loss, 0, top) / top) * (height - bottom - 8)

    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 8}" y2="{height - bottom}" stroke="#bbb"/>',
             f'<line x1="{left}" y1="8" x2="{left}" y2="{height - bottom}" stroke="#bbb"/>',
             f'<text x="{left - 4}" y="14" text-anchor="end">{top:.3g}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>',
             f'<text x="{left}" y="{height - 6}">epoch {epochs[0]:,.0f}</text>',
             f'<text x="{width - 8}" y="{height - 6}" text-anchor="end">{epochs[-1]:,.0f}</text>',
             f'<text x="{left - 30}" y="{(height - bottom) / 2}" transform="rotate(-90 {left - 30} '
             f'{(height - bottom) / 2})" text-anchor="middle">loss</text>']
    for index, (name, (values, colour)) in enumerate(curves.items()):
        ok = np.isfinite(values)
        points = " ".join(f"{x_of(e):.1f},{y_of(v):.1f}" for e, v in zip(epochs[ok], values[ok]))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{width - 8 - 60 * (1 - index)}" y="20" text-anchor="end" fill="{colour}">'
                     f'— {name}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="11" fill="#444">{"".join(parts)}</svg>')
    return (f'<img src="{svg_uri(svg)}" '
            f'style="width:100%" alt="training and test loss by epoch">')


def losses(net: PlaygroundNet) -> tuple[float, float]:
    data = ss.pg_data
    return (net.loss(featurize(data.x_train, state.features), data.y_train),
            net.loss(featurize(data.x_test, state.features), data.y_test))


# ---- the live part: trains while playing and redraws everything that moves -------------------


@st.fragment(run_every=ss.get("pg_frame_every", FRAME_SECONDS) if ss.get("pg_playing") else None)
def live() -> None:
    frame_started = time.perf_counter()
    adapt = ss.get("pg_playing") and not ss.pg_full_run and frame_started - ss.get("pg_paced_at", 0.0) > 1.0
    ss.pg_full_run = False
    if ss.pg_frame_open and adapt:
        # The browser asked for this frame before the last one ended, and Streamlit abandoned that
        # one half drawn: lengthen the interval (it is set where the fragment is declared).
        current = ss.get("pg_frame_every", FRAME_SECONDS)
        longer = paced_interval(current, [current * 1.4])  # the next step up (the ladder ends at the longest)
        if longer != current:  # (at the longest step already, a full rerun would change nothing)
            pace(longer)
    ss.pg_frame_open = True
    players = PLAYERS.frame(ss.pg_player) if ss.get("pg_playing") else 1
    net: PlaygroundNet | None = ss.pg_net
    if ss.pg_error:
        epoch_slot.metric("Epoch", "0")
        network_slot.error(ss.pg_error, icon=":material/error:")
        return
    data = ss.pg_data
    x_train = featurize(data.x_train, state.features)
    epochs = 0
    if ss.get("pg_playing") or ss.pop("pg_step", False):
        epochs = 1 if not ss.get("pg_playing") else ss.get("pg_epochs_per_frame", MIN_EPOCHS_PER_FRAME)
        started = time.perf_counter()
        net.train(x_train, data.y_train, epochs)
        spent = time.perf_counter() - started
        if ss.get("pg_playing") and net.epoch > epochs:  # aim the next frame at the time budget
            rate = epochs / max(spent, 1e-4)  # (the first call traces the graph; ignore it)
            ss.pg_epochs_per_frame = int(np.clip(rate * TRAIN_BUDGET_SECONDS / players, MIN_EPOCHS_PER_FRAME,
                                                 MAX_EPOCHS_PER_FRAME))
    train_loss, test_loss = losses(net)
    if epochs and net.diverged(train_loss, test_loss):
        ss.pg_playing = False
        network_slot.error("Training diverged — lower the learning rate, then press Reset.", icon=":material/error:")
        epoch_slot.metric("Epoch", f"{net.epoch:,}")
        st.rerun(scope="app")
    if epochs or not ss.pg_history:
        ss.pg_history.append((net.epoch, train_loss, test_loss))
        ss.pg_history = thin_history(ss.pg_history)
    epoch_slot.metric("Epoch", f"{net.epoch:,}")
    grid_xy = grid(GRID)
    grid_features = featurize(grid_xy, state.features)
    outputs = net.layer_outputs(grid_features)
    network_slot.html(network_svg(net, grid_features, outputs))
    loss_slot.markdown(f"Test loss **{test_loss:.3f}** · Training loss **{train_loss:.3f}**"
                       if np.isfinite(test_loss) else "Loss is not a number — training diverged.")
    if state.dataset == "custom" and not ss.get("pg_playing"):
        figure = output_map(net, outputs[-1])
        event = map_slot.plotly_chart(figure, on_select="rerun", selection_mode="points", key="pg-map",
                                      config={"displayModeBar": False})
        picked = event.selection.points if event and event.selection else []
        if picked and ss.get("pg_last_pick") != picked:
            ss.pg_last_pick = picked
            xy, labels = ss.pg_custom
            new = np.array([[p["x"], p["y"]] for p in picked])
            label = ss.get("pg_paint", 0)
            value = (1.0 if label == 1 else -1.0) if label < 2 and state.custom_classes <= 2 else float(label)
            ss.pg_custom = (np.concatenate([xy, new]), np.concatenate([labels, np.full(len(new), value)]))
            change(custom_classes=max(state.custom_classes, label + 1))
            st.rerun(scope="app")
    else:
        # Inline, not st.image: a picture fetched from the media endpoint is blank until it loads,
        # and at several frames a second the browser showed a blank map most of the time.
        caption = "output: the network's prediction everywhere, with the training points" + \
            (" and test points (black outline)" if state.show_test else "")
        map_slot.html(f'<figure data-output-map="1" style="margin:0;text-align:center">'
                      f'<img src="{png_uri(output_picture(outputs[-1]))}" alt="output map" '
                      f'style="width:100%;max-width:340px"><figcaption style="font-size:.875rem;'
                      f'color:rgba(49,51,63,.6)">{caption}</figcaption></figure>')
    curve_slot.html(loss_curve_html(np.array(ss.pg_history[-400:])))
    ss.pg_frame_open = False
    if adapt and net.epoch > epochs:  # (the first frame traces the graph; ignore it)
        current = ss.get("pg_frame_every", FRAME_SECONDS)
        wanted = frame_interval(time.perf_counter() - frame_started, players, FRAME_SECONDS)
        ss.pg_wanted = [*ss.get("pg_wanted", [])[1 - CALM_FRAMES:], wanted]
        paced = paced_interval(current, ss.pg_wanted)
        if paced != current:
            pace(paced)


def pace(interval: float) -> None:
    """A new time between frames. It takes a full rerun (where the fragment is declared with its
    ``run_every``), which costs about a frame, so ``live`` changes it at most once a second."""
    ss.pg_frame_every, ss.pg_paced_at, ss.pg_frame_open = interval, time.perf_counter(), False
    ss.pg_wanted = []  # the frames measured at the old pace say nothing about coming down from the new one
    st.rerun(scope="app")


if step_clicked:
    ss.pg_step = True
live()

# ---- beyond the playground --------------------------------------------------------------------
with st.expander("Beyond the playground: optimizer, loss, dropout, per-layer activations, limits",
                 icon=":material/tune:"):
    c1, c2, c3, c4 = st.columns(4)
    optimizer = c1.radio("Optimizer", ["sgd", "adam"], index=["sgd", "adam"].index(state.optimizer),
                         format_func={"sgd": "SGD (as the playground)", "adam": "Adam"}.get, key="pg-opt")
    loss = c2.radio("Loss (two classes)", ["squared", "crossentropy"],
                    index=["squared", "crossentropy"].index(state.loss),
                    format_func={"squared": "Squared error (as the playground)", "crossentropy": "Cross-entropy"}.get,
                    key="pg-loss", disabled=state.problem == "regression" or state.multiclass,
                    help="Regression always uses squared error; multiclass data always softmax with cross-entropy.")
    dropout = c3.slider("Dropout", 0.0, 0.5, state.dropout, step=0.05, key="pg-dropout",
                        help="During training, each hidden neuron's output is zeroed with this probability p, "
                             "independently for every point of every batch, and the survivors are scaled "
                             "by 1/(1 − p) so that the next layer's input keeps its expected value. Nothing "
                             "is dropped when the losses are measured or the pictures drawn.")
    advanced = c4.toggle("Advanced limits", value=state.advanced, key="pg-advanced",
                         help="Up to 8 layers of 32 neurons and batches of 256.")
    per_layer = []
    if state.hidden:
        st.markdown("Activation per hidden layer")
        for index, column in enumerate(st.columns(len(state.hidden))):
            per_layer.append(column.selectbox(f"Layer {index + 1}", ACTIVATIONS,
                                              index=ACTIVATIONS.index(state.activation_of(index)),
                                              key=f"pg-act-{index}-{state.activation}"))
    per_layer = per_layer if any(a != state.activation for a in per_layer) else []
    if (optimizer, loss, dropout, advanced, per_layer) != (state.optimizer, state.loss, state.dropout,
                                                          state.advanced, state.layer_activations):
        batch = min(state.batch_size, 256 if advanced else 30)
        hidden = [min(n, 32 if advanced else 8) for n in state.hidden][: 8 if advanced else 6]
        change(optimizer=optimizer, loss=loss, dropout=dropout, advanced=advanced, layer_activations=per_layer,
               batch_size=batch, hidden=hidden)
        st.rerun()

with st.expander("Export as Keras code", icon=":material/code:"):
    st.code(keras_code(state), language="python")

if st.button("Save run to the Runs page", icon=":material/save:",
             disabled=ss.pg_net is None or not ss.get("pg_history")):
    path = save_run(state, ss.pg_net, ss.pg_history)
    st.success(f"Saved as run {path.name}.", icon=":material/check:")
