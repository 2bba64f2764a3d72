"""Playground: the TensorFlow Playground in Streamlit — tweak a small net and watch it learn 2-D data.

The page reads top-down like the playground's screen. Everything it shows comes from one
:class:`~views.playground.session.PlaygroundSession`; every widget changes it in a callback, before
the page runs. The pictures are drawn by the browser (views/playground/component.py) from the data
views/playground/wire.py builds; the frames of a playing network come through a fragment.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import AppError
from core.playground import (
    ACTIVATIONS, CLASSIFICATION_SETS, CSV_HELP, DATASETS, FEATURES, LEARNING_RATES, MULTICLASS_SETS,
    REGRESSION_SETS, REGULARIZATION_RATES, keras_code, save_run,
)
from views.keys import PLAYGROUND_DATA, PLAYGROUND_NET
from views.playground import component, wire
from views.playground.session import PlaygroundSession
from views.playground.widgets import sync_widgets

PAGE_CSS = (Path(__file__).with_name("page.css")).read_text(encoding="utf-8")
FRAME_WAIT_SECONDS = 0.02  # a run of the frames fragment waits this long at most for a new frame

ss = st.session_state
if "pg_session" not in ss:
    ss.pg_session = PlaygroundSession.from_link(st.query_params.to_dict())
session: PlaygroundSession = ss.pg_session
session.page_runs += 1
state = session.state
ss[PLAYGROUND_NET], ss[PLAYGROUND_DATA] = session.net, session.data  # (the Embeddings page projects them)
sync_widgets(ss, session)  # (Streamlit forgets widgets' values on a page switch: they follow the session)
if st.query_params.to_dict() != state.to_query():  # the link, also when the page is shown again
    st.query_params.from_dict(state.to_query())


def changed(name: str):
    """A callback: the widget ``pg_<name>`` sets the state's field ``name``, new network."""
    return lambda: session.change(**{name: ss[f"pg_{name}"]})


def picked() -> None:
    point = ss.pg_live_output.get("picked") or {}
    try:
        session.add_point(float(point["x"]), float(point["y"]), int(ss.get("pg_paint_class", 0)))
    except (KeyError, TypeError, ValueError, AppError):
        pass  # not a point (nothing to add)


def csv_chosen() -> None:
    session.csv_problem = None
    if ss.pg_csv is not None:
        try:
            session.load_points(ss.pg_csv.getvalue())
        except AppError as error:
            session.csv_problem = str(error)


# ---- page --------------------------------------------------------------------------------
st.title("Playground")
st.html(f"<style>{PAGE_CSS}</style>")  # (style only: takes no room on the page)
st.caption("The TensorFlow Playground, trained by TensorFlow: choose data, features and layers, press Play "
           "and watch the decision boundary bend. Blue is +1, orange −1 (multiclass data: a colour per class). "
           "The whole setup except your own points is in the URL — copy it to share.")
for note in session.link_notes:
    st.warning(note, icon=":material/link_off:")
session.link_notes = []  # (shown once)

# Top bar, as in the playground: run controls and the main hyperparameters. The run controls are
# in a horizontal container, not columns: on a phone the three buttons stay in one row (the epoch
# wraps below them) instead of stacking one per line.
run_bar = st.container(horizontal=True, vertical_alignment="center", gap="medium")
playing, no_net = session.playing, session.trainer is None
run_bar.button("Pause" if playing else "Play", type="primary", key="pg_play", disabled=no_net, width=100,
               icon=":material/pause:" if playing else ":material/play_arrow:",
               on_click=session.pause if playing else session.play)
run_bar.button("Step", icon=":material/skip_next:", key="pg_step", disabled=no_net or playing,
               on_click=session.step,
               help="Train one epoch: the training points are shuffled and cut into ⌈n / batch size⌉ "
                    "batches. The last batch is filled up from the start of the shuffle, so "
                    "when the batch size does not divide n, a few points are seen twice.")
run_bar.button("Reset", icon=":material/restart_alt:", key="pg_reset", on_click=session.reset,
               help="New random weights, epoch 0; the data stay. The new weights' seed goes into the URL, "
                    "so a copied link starts from these same weights.")
epoch_slot = run_bar.empty()

# The hyperparameters, then the board of three columns (data, network, output). On a phone the
# columns stack; page.css then shows the map first, the network, the data, and these
# hyperparameters last, so that the map is right under Play.
main = st.container(key="pg_main")
bar = main.container(key="pg_settings").columns(5)

bar[0].selectbox("Learning rate", LEARNING_RATES, key="pg_learning_rate",
                 on_change=lambda: session.set_learning_rate(ss.pg_learning_rate))
bar[1].selectbox("Activation", ACTIVATIONS, format_func=str.capitalize, key="pg_activation",
                 on_change=lambda: session.change_activation(ss.pg_activation))
bar[2].selectbox("Regularization", ["none", "L1", "L2"], key="pg_regularization",
                 format_func=lambda r: "None" if r == "none" else r, on_change=changed("regularization"),
                 help="Penalties on the weights (not the biases); the losses shown leave them out. L1: after "
                      "each step every weight moves learning rate × rate towards 0 and stops at exactly 0, "
                      "where its link disappears. L2 adds rate × ½Σw² to the loss, whose gradient is rate × w: "
                      "with SGD each step shrinks every weight by learning rate × rate × w, in proportion to "
                      "its size; with Adam that gradient is rescaled per weight with the rest (divided by the "
                      "root of the running mean of the weight's squared gradient), so the shrinking is no "
                      "longer proportional.")
bar[3].selectbox("Regularization rate", REGULARIZATION_RATES, key="pg_regularization_rate",
                 on_change=changed("regularization_rate"))
bar[4].selectbox("Problem type", ["classification", "regression"], format_func=str.capitalize, key="pg_problem",
                 on_change=lambda: session.change_problem(ss.pg_problem))

data_col, net_col, out_col = main.container(key="pg_board").columns([1, 2.3, 1.6], gap="medium")

# ---- data column ---------------------------------------------------------------------------
with data_col:
    st.markdown("**Data**")
    choices = list(REGRESSION_SETS) if state.problem == "regression" else \
        list(CLASSIFICATION_SETS) + list(MULTICLASS_SETS) + ["custom"]
    st.radio("Which dataset do you want to use?", choices, format_func=DATASETS.get, key="pg_dataset",
             on_change=changed("dataset"))
    if state.multiclass and state.dataset != "custom":
        st.slider("Classes", 3, 8, key="pg_classes", on_change=changed("classes"))
    st.slider("Ratio of training to test data", 10, 90, step=10, format="%d%%", key="pg_train_ratio",
              on_change=changed("train_ratio"),
              help="The share of the points used for training; the rest are test points.")
    st.slider("Noise", 0, 50, step=5, key="pg_noise", on_change=changed("noise"),
              help="As in the TF Playground (noise 50 is 0.5): for Circle, Exclusive or, Plane and Multi-Gaussian "
                   "each point stays where it was drawn and its label is read at a copy of it moved at random by "
                   "up to noise × 5 (Circle, Exclusive or) or noise × 6 (Plane, Multi-Gaussian) along each axis, "
                   "so labels near a boundary flip; Spiral's points move by up to noise along each axis; "
                   "Gaussian's variance grows from 0.5 to 4. Of our own sets, Blobs spread wider and Spiral arms' "
                   "points move by up to 2 × noise. Points that land outside the map are not drawn (as in the "
                   "playground; the caption counts them).")
    st.slider("Batch size", 1, state.max_batch, key="pg_batch_size", on_change=changed("batch_size"))
    st.button("Regenerate", icon=":material/refresh:", key="pg_regenerate", on_click=session.regenerate,
              help="New random points from the same distribution.")
    if state.dataset == "custom":
        st.markdown("**Your own points**")
        st.file_uploader("Upload a CSV of x, y, label (or click the map)", type=["csv", "txt"], key="pg_csv",
                         help=CSV_HELP, on_change=csv_chosen)
        if session.csv_problem:
            st.error(session.csv_problem, icon=":material/error:")
        if len(session.points):
            st.button("Remove all points", icon=":material/delete:", key="pg_clear_points",
                      on_click=session.remove_points)

# ---- network column: features, layers, the picture of the net ------------------------------
with net_col:
    st.pills("Features", list(FEATURES), selection_mode="multi", format_func=FEATURES.get, key="pg_features",
             help="Which properties of each point the network is given as input.",
             on_change=lambda: session.change(features=[f for f in FEATURES if f in ss.pg_features]))
    # Horizontal containers, not columns: on a phone columns stack, and a lone + or − says nothing.
    # The + and − show only their icon; their label is their name for screen readers (CSS hides it).
    layer_bar = st.container(horizontal=True, vertical_alignment="center")
    layer_bar.button("Add a hidden layer", icon=":material/add:", key="pg_add_layer", help="Add a hidden layer",
                     disabled=len(state.hidden) >= state.max_layers, on_click=session.change,
                     kwargs={"hidden": state.hidden + [min(4, state.max_neurons)], "layer_activations": []})
    layer_bar.button("Remove the last hidden layer", icon=":material/remove:", key="pg_remove_layer",
                     help="Remove the last hidden layer", disabled=not state.hidden, on_click=session.change,
                     kwargs={"hidden": state.hidden[:-1], "layer_activations": state.layer_activations[:-1]})
    layer_bar.markdown(f"**{len(state.hidden)} hidden layer{'s' if len(state.hidden) != 1 else ''}**")
    if state.hidden:
        for index, (column, size) in enumerate(zip(st.columns(len(state.hidden)), state.hidden)):
            # The caption beside the buttons where it fits (a phone, where the layers stack), else below.
            buttons = column.container(horizontal=True, gap="small", vertical_alignment="center")
            more = [n + (i == index) for i, n in enumerate(state.hidden)]
            fewer = [n - (i == index) for i, n in enumerate(state.hidden)]
            buttons.button(f"One more neuron in layer {index + 1}", icon=":material/add:", key=f"pg_add_{index}",
                           help=f"One more neuron in layer {index + 1}", disabled=size >= state.max_neurons,
                           on_click=session.change, kwargs={"hidden": more})
            buttons.button(f"One neuron fewer in layer {index + 1}", icon=":material/remove:",
                           key=f"pg_remove_{index}", help=f"One neuron fewer in layer {index + 1}",
                           disabled=size <= 1, on_click=session.change, kwargs={"hidden": fewer})
            buttons.caption(f"Layer {index + 1}: {size} neuron{'s' if size != 1 else ''}", width="content")
    network_slot = st.empty()

# ---- output column ----------------------------------------------------------------------------
with out_col:
    st.markdown("**Output**")
    loss_slot = st.empty()
    if state.dataset == "custom":  # (right above the map: on a phone too, the class is where you tap)
        st.radio("Click or tap the map to add a point of class", session.points.choosable(), horizontal=True,
                 key="pg_paint_class", format_func=lambda c: {0: "orange", 1: "blue"}.get(c, f"class {c}"))
    map_slot = st.empty()
    st.toggle("Show test data", key="pg_show_test", disabled=state.dataset == "custom",
              on_change=lambda: session.show(show_test=ss.pg_show_test),
              help="Your own points are always all shown: training and test." if state.dataset == "custom" else None)
    st.toggle("Discretize output", key="pg_discretize", disabled=state.problem == "regression",
              on_change=lambda: session.show(discretize=ss.pg_discretize))
    curve_slot = st.empty()

# ---- the pictures, and the frames of the network as it trains -------------------------------
pictures = wire.pictures(session.network, state, session.data, session.trainer and session.trainer.grid_features,
                         session.net.outputs if session.net else 1, pick=state.dataset == "custom")
diverged = session.trainer is not None and session.trainer.frame().diverged
for view, slot in (("epoch", epoch_slot), ("loss", loss_slot), ("curve", curve_slot)):
    with slot:
        component.picture(pictures[view], key=f"pg_live_{view}")
with network_slot:
    if session.error:
        st.error(session.error, icon=":material/error:")
    elif diverged:
        st.error("Training diverged — lower the learning rate, then press Reset.", icon=":material/error:")
    else:
        component.picture(pictures["network"], key="pg_live_network")
if not session.error or state.dataset == "custom":
    with map_slot:
        component.picture(pictures["output"], key="pg_live_output", on_picked=picked)
session.redraw = False  # the page as drawn in this run is up to date


@st.fragment
def frames() -> None:
    """The frames made since the last run (while playing, waiting for one if there is none yet)."""
    if session.redraw:
        # A click that Streamlit's browser side sent together with the pictures' ask for frames
        # comes as a run of this fragment alone: its callback has run, but only a run of the whole
        # page shows what it changed (the pictures hold back their asks around a click; a keyboard's
        # or a script's click can still coincide with one).
        st.rerun(scope="app")
    if session.trainer is None:
        return
    session.keep_playing()  # (it stopped while the tab was hidden and no frames were asked for)
    batch = session.trainer.frames(session.shown, timeout=FRAME_WAIT_SECONDS if session.playing else 0.0)
    session.shown, session.tick = batch[-1].serial, session.tick + 1
    if session.stopped_by_divergence():
        st.rerun(scope="app")  # the Play button and the message, outside this fragment
    component.frames(wire.frames(batch, session.network, state.multiclass, session.tick, session.playing,
                                 session.page_runs), key="pg_live_frames")


frames()

# ---- beyond the playground --------------------------------------------------------------------
with st.expander("Beyond the playground: optimizer, loss, dropout, per-layer activations, limits",
                 icon=":material/tune:"):
    c1, c2, c3, c4 = st.columns(4)
    c1.radio("Optimizer", ["sgd", "adam"], key="pg_optimizer", on_change=changed("optimizer"),
             format_func={"sgd": "SGD (as the playground)", "adam": "Adam"}.get)
    c2.radio("Loss (two classes)", ["squared", "crossentropy"], key="pg_loss", on_change=changed("loss"),
             format_func={"squared": "Squared error (as the playground)", "crossentropy": "Cross-entropy"}.get,
             disabled=state.problem == "regression" or state.multiclass,
             help="Regression always uses squared error; multiclass data always softmax with cross-entropy.")
    c3.slider("Dropout", 0.0, 0.5, step=0.05, key="pg_dropout", on_change=changed("dropout"),
              help="During training, each hidden neuron's output is zeroed with this probability p, "
                   "independently for every point of every batch, and the survivors are scaled "
                   "by 1/(1 − p) so that the next layer's input keeps its expected value. Nothing "
                   "is dropped when the losses are measured or the pictures drawn.")
    c4.toggle("Advanced limits", key="pg_advanced", on_change=lambda: session.change_advanced(ss.pg_advanced),
              help="Up to 8 layers of 32 neurons and batches of 256.")
    if state.hidden:
        st.markdown("Activation per hidden layer")
        layers = range(len(state.hidden))
        for index, column in zip(layers, st.columns(len(state.hidden))):
            column.selectbox(f"Layer {index + 1}", ACTIVATIONS, key=f"pg_act_{index}", on_change=lambda: session.change(
                layer_activations=[ss[f"pg_act_{i}"] for i in layers]
                if any(ss[f"pg_act_{i}"] != state.activation for i in layers) else []))

with st.expander("Export as Keras code", icon=":material/code:"):
    st.code(keras_code(state, session.points), language="python", wrap_lines=True)  # (a phone: no long lines)

st.button("Save run to the Runs page", icon=":material/save:", key="pg_save",
          disabled=session.net is None or session.net.epoch == 0,
          on_click=lambda: setattr(session, "saved_as", save_run(state, session.net, session.trainer.history,
                                                                  session.trainer.snapshots).name))
if getattr(session, "saved_as", None):
    st.success(f"Saved as run {session.saved_as}.", icon=":material/check:")
    session.saved_as = None

session.prepare()  # (last: the trace of a new network's program would slow this run down)
