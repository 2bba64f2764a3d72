"""Playground: the TensorFlow Playground in Streamlit — tweak a small net and watch it learn 2-D data."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import AppError
from core.playground.live_training import LiveTrainer, encode_frame, encode_setup
from core.playground import (
    ACTIVATIONS, CLASSIFICATION_SETS, DATASETS, DOMAIN, FEATURES, LEARNING_RATES, MULTICLASS_SETS, REGRESSION_SETS,
    REGULARIZATION_RATES, Dataset, PlaygroundNet, PlaygroundState, featurize, grid, keras_code, make_dataset,
    parse_points_csv, save_run,
)
from views.playground import live_pictures as live_pictures
from views.keys import PLAYGROUND_DATA, PLAYGROUND_NET
from views.playground.point_picker import point_picker
from views.playground.pictures import (
    GRID, loss_curve_html, network_svg, output_caption, output_picture, output_picture_html,
)

ss = st.session_state

# ---- state: one object, mirrored in the URL ------------------------------------------
if "pg_state" not in ss:
    state, problems = PlaygroundState.from_query(st.query_params.to_dict())
    ss.pg_state, ss.pg_link_problems = state, problems
    ss.pg_custom = (np.zeros((0, 2)), np.zeros(0))
state: PlaygroundState = ss.pg_state
FRAME_WAIT_SECONDS = 0.02  # a run of live() waits this long at most for a new frame (a click waits as long)
LIVE = live_pictures.available()  # pictures drawn by the browser; server-drawn ones where it cannot (AppTest)


def controls_changed() -> None:
    """Note that a control changed what the whole page shows (see ``live``)."""
    ss.pg_controls_version = ss.get("pg_controls_version", 0) + 1


def reset_network() -> None:
    """A fresh network and data for the current state (Reset, or any structural change)."""
    controls_changed()
    if ss.get("pg_trainer") is not None:
        ss.pg_trainer.close()
    ss.pg_playing = False  # Play was pressed and not Pause: the trainer plays (and resumes after a hidden tab)
    ss.pg_trainer = ss.pg_error = None
    ss[PLAYGROUND_NET] = None
    ss.pg_network_number = ss.get("pg_network_number", 0) + 1  # the browser draws frames of this network only
    try:
        ss[PLAYGROUND_DATA] = data = make_dataset(state, ss.pg_custom)
        ss[PLAYGROUND_NET] = net = PlaygroundNet(state)
        grid_features = featurize(grid(GRID), state.features)
        ss.pg_trainer = LiveTrainer(net, featurize(data.x_train, state.features), data.y_train,
                                    featurize(data.x_test, state.features), data.y_test, grid_features)
        test = np.r_[np.zeros(len(data.x_train)), np.ones(len(data.x_test))]
        ss.pg_setup = encode_setup(grid_features, data.points, data.labels, test, state.multiclass, DOMAIN)
    except AppError as error:
        ss[PLAYGROUND_DATA] = None
        ss.pg_error = str(error)
    st.query_params.from_dict(state.to_query())


def change(**values) -> None:
    for name, value in values.items():
        setattr(state, name, value)
    reset_network()


# The buttons act in on_click callbacks, which run before the page does: one page run per click
# rather than a run up to the button and an st.rerun() (a click reaches the pictures sooner).
def play_or_pause() -> None:
    controls_changed()
    ss.pg_playing = not ss.get("pg_playing", False)
    ss.pg_trainer.play() if ss.pg_playing else ss.pg_trainer.pause()


def reset() -> None:
    state.reseed()
    reset_network()


if PLAYGROUND_NET not in ss:
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
run_bar[0].button("Pause" if playing else "Play", type="primary", icon=":material/pause:" if playing else
                  ":material/play_arrow:", disabled=ss[PLAYGROUND_NET] is None, key="pg-play", on_click=play_or_pause)
step_clicked = run_bar[1].button("Step", icon=":material/skip_next:", disabled=ss[PLAYGROUND_NET] is None or playing,
                             help="Train one epoch: the training points are shuffled and cut into ⌈n / batch size⌉ "
                                  "batches. The last batch is filled up from the start of the shuffle, so "
                                  "when the batch size does not divide n, a few points are seen twice.")
run_bar[2].button("Reset", icon=":material/restart_alt:", on_click=reset,
                  help="New random weights, epoch 0; the data stay. The new weights' seed goes into the URL, "
                       "so a copied link starts from these same weights.")
epoch_slot = run_bar[3].empty()

learning_rate = bar[4].selectbox("Learning rate", LEARNING_RATES, index=LEARNING_RATES.index(state.learning_rate)
                                 if state.learning_rate in LEARNING_RATES else 5, key="pg-lr")
if learning_rate != state.learning_rate:  # the playground keeps the weights when only the rate changes
    state.learning_rate = learning_rate
    if ss[PLAYGROUND_NET] is not None:
        ss[PLAYGROUND_NET].learning_rate.assign(learning_rate)
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
    st.button("Regenerate", icon=":material/refresh:", help="New random points from the same distribution.",
              on_click=change, kwargs={"seed": state.seed + 1})
    if state.dataset == "custom":
        st.markdown("**Your own points**")
        ss.pg_paint = st.radio("Click or tap the output map to add a point of class",
                               list(range(max(2, state.custom_classes + 1)))[:8],
                               horizontal=True, key="pg-paint-class",
                               format_func=lambda c: {0: "orange", 1: "blue"}.get(c, f"class {c}"))
        upload = st.file_uploader("…or upload a CSV of x, y, label", type=["csv", "txt"], key="pg-csv",
                                  help="One point per row: x and y in [-6, 6] (values outside are clipped to "
                                       "the edge) and a label (any two values such as 0/1, or up to 8 whole "
                                       "class numbers).")
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
    # Horizontal containers, not columns: on a phone columns stack, and a lone + or − says nothing.
    layer_bar = st.container(horizontal=True, vertical_alignment="center")
    layer_bar.button("", icon=":material/add:", key="pg-add-layer", help="Add a hidden layer",
                     disabled=len(state.hidden) >= state.max_layers, on_click=change,
                     kwargs={"hidden": state.hidden + [min(4, state.max_neurons)], "layer_activations": []})
    layer_bar.button("", icon=":material/remove:", key="pg-remove-layer", help="Remove the last hidden layer",
                     disabled=not state.hidden, on_click=change,
                     kwargs={"hidden": state.hidden[:-1], "layer_activations": []})
    layer_bar.markdown(f"**{len(state.hidden)} hidden layer{'s' if len(state.hidden) != 1 else ''}**")
    if state.hidden:
        neuron_columns = st.columns(len(state.hidden))
        for index, (column, size) in enumerate(zip(neuron_columns, state.hidden)):
            buttons = column.container(horizontal=True, gap="small")
            buttons.button("", icon=":material/add:", key=f"pg-add-{index}", disabled=size >= state.max_neurons,
                           help=f"One more neuron in layer {index + 1}", on_click=change,
                           kwargs={"hidden": [n + (i == index) for i, n in enumerate(state.hidden)]})
            buttons.button("", icon=":material/remove:", key=f"pg-remove-{index}", disabled=size <= 1,
                           help=f"One neuron fewer in layer {index + 1}", on_click=change,
                           kwargs={"hidden": [n - (i == index) for i, n in enumerate(state.hidden)]})
            column.caption(f"Layer {index + 1}: {size} neuron{'s' if size != 1 else ''}")
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

# ---- the live part: the pictures of the network as it trains --------------------------------


def live_pictures_mounted() -> None:
    """The browser-drawn pictures, mounted with the page; the frames come through ``live``."""
    setup, number = ss.pg_setup, ss.pg_network_number
    discrete = state.discretize and state.problem == "classification"
    options = dict(grid=GRID, classes=state.num_classes if state.multiclass else 2, discretize=discrete)
    with epoch_slot:
        live_pictures.picture("epoch", number, key="pg-live-epoch")
    with loss_slot:
        live_pictures.picture("loss", number, key="pg-live-loss")
    with network_slot:
        live_pictures.picture("network", number, key="pg-live-network", inputs=setup["inputs"],
                              sizes=[len(state.features), *state.hidden, ss[PLAYGROUND_NET].outputs],
                              labels=[FEATURES[f] for f in state.features], **options)
    if not (state.dataset == "custom" and not playing):  # (your own points: a map to click on, below)
        with map_slot:
            live_pictures.picture("output", number, key="pg-live-output", points=setup["points"],
                                  showTest=state.show_test, caption=output_caption(state.show_test), **options)
    with curve_slot:
        live_pictures.picture("curve", number, key="pg-live-curve")


@st.fragment
def live() -> None:
    """The frames made since the last run (while playing, waiting for one if there is none yet)."""
    if ss.get("pg_controls_version", 0) != ss.get("pg_page_version", 0):
        # A click that Streamlit's browser side sent together with the pictures' ask for frames
        # comes as a run of this fragment alone (about one click in 20-40 while playing): its
        # callback has run, but only a run of the whole page shows what it changed.
        st.rerun(scope="app")
    trainer: LiveTrainer = ss.pg_trainer
    if ss.pg_playing and not trainer.playing and not trainer.frame().diverged:
        trainer.play()  # it stopped while the tab was hidden (no frames asked for): carry on
    batch = trainer.frames(ss.get("pg_shown", -1), timeout=FRAME_WAIT_SECONDS if ss.pg_playing else 0.0)
    frame = batch[-1]
    ss.pg_shown, ss.pg_tick = frame.serial, ss.get("pg_tick", 0) + 1
    if frame.diverged and ss.pg_playing:
        ss.pg_playing = False
        st.rerun(scope="app")  # the Play button and the message, outside this fragment
    if LIVE:
        encoded = [encode_frame(f, state.multiclass, curve=f is frame) for f in batch]
        live_pictures.frames(encoded, ss.pg_network_number, key="pg-live-frames", tick=ss.pg_tick,
                             playing=ss.pg_playing)
    else:
        server_pictures(frame)


def server_pictures(frame) -> None:
    """The frame as server-drawn pictures: where the browser runs no component (AppTest)."""
    data, discrete = ss[PLAYGROUND_DATA], state.discretize and state.problem == "classification"
    epoch_slot.metric("Epoch", f"{frame.epoch:,}")
    if frame.diverged:
        return
    grid_features = featurize(grid(GRID), state.features)
    network_slot.html(network_svg(frame.weights, state.features, grid_features, frame.outputs,
                                  state.multiclass, discrete))
    loss_slot.markdown(f"Test loss **{frame.test_loss:.3f}** · Training loss **{frame.train_loss:.3f}**")
    if not (state.dataset == "custom" and not playing):
        picture = output_picture(frame.outputs[-1], data, state.multiclass, discrete, state.show_test)
        map_slot.html(output_picture_html(picture, state.show_test))
    curve_slot.html(loss_curve_html(np.array(frame.history[-400:])))


def clickable_map(final: np.ndarray, data: Dataset) -> None:
    """Your own points, paused: the output map to click or tap on, adding a point each time."""
    discrete = state.discretize and state.problem == "classification"
    with map_slot.container():
        picked = point_picker(output_picture(final, data, state.multiclass, discrete, state.show_test),
                              domain=DOMAIN, key="pg-map")
        st.caption(output_caption(state.show_test) + ". Click or tap the map to add a point.")
    if picked:
        add_point(*picked)
        st.rerun()


def add_point(x: float, y: float) -> None:
    """A point clicked or tapped on the map joins your own, in the class chosen above it."""
    xy, labels = ss.pg_custom
    label = ss.get("pg_paint", 0)
    value = (1.0 if label == 1 else -1.0) if label < 2 and state.custom_classes <= 2 else float(label)
    ss.pg_custom = (np.concatenate([xy, [[x, y]]]), np.concatenate([labels, [value]]))
    change(custom_classes=max(state.custom_classes, label + 1))


if ss.pg_error:
    epoch_slot.metric("Epoch", "0")
    network_slot.error(ss.pg_error, icon=":material/error:")
    if state.dataset == "custom":  # too few points of your own yet: a blank map to click them on
        xy, labels = ss.pg_custom
        blank = np.full((GRID * GRID, state.num_classes if state.multiclass else 1),
                        1 / state.num_classes if state.multiclass else 0.0)
        clickable_map(blank, Dataset(xy, labels, np.zeros((0, 2)), np.zeros(0)))
else:
    if step_clicked:
        ss.pg_trainer.step()
    shown = ss.pg_trainer.frame()
    if shown.diverged:
        network_slot.error("Training diverged — lower the learning rate, then press Reset.", icon=":material/error:")
    elif LIVE:
        live_pictures_mounted()
    if state.dataset == "custom" and not playing and not shown.diverged:
        clickable_map(shown.outputs[-1], ss[PLAYGROUND_DATA])
    ss.pg_page_version = ss.get("pg_controls_version", 0)  # the page as drawn in this run is up to date
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
    st.code(keras_code(state), language="python", wrap_lines=True)  # (long lines would run off a phone)

if st.button("Save run to the Runs page", icon=":material/save:",
             disabled=ss.pg_trainer is None or ss.pg_trainer.net.epoch == 0):
    path = save_run(state, ss[PLAYGROUND_NET], ss.pg_trainer.history, ss.pg_trainer.snapshots)
    st.success(f"Saved as run {path.name}.", icon=":material/check:")
