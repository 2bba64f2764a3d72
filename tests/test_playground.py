"""The playground engine: its data, features, network, URL state, CSV parser and Keras export."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import BadConfig, BadInput
from core.playground import (
    PlaygroundNet, PlaygroundState, featurize, generate, keras_code, make_dataset, parse_points_csv,
)


def trained(state: PlaygroundState, epochs: int):
    data = make_dataset(state)
    net = PlaygroundNet(state)
    x_train, x_test = featurize(data.x_train, state.features), featurize(data.x_test, state.features)
    net.train(x_train, data.y_train, epochs)
    return net, net.loss(x_train, data.y_train), net.loss(x_test, data.y_test)


def test_xor_is_learned_from_the_product_feature_alone():
    state = PlaygroundState(dataset="xor", features=["xTimesY"], hidden=[], learning_rate=0.03)
    _, _, test_loss = trained(state, 300)
    assert test_loss < 0.05


def test_spiral_is_learned_with_two_layers_of_eight_and_sine_features():
    state = PlaygroundState(dataset="spiral", features=["x", "y", "sinX", "sinY"], hidden=[8, 8],
                            learning_rate=0.03, activation="tanh", batch_size=10)
    net, train_loss, test_loss = trained(state, 400)
    data = make_dataset(state)
    accuracy = (np.sign(net.predict(featurize(data.x_test, state.features))) == data.y_test).mean()
    assert accuracy > 0.9 and test_loss < 0.1


def test_zero_hidden_layers_is_logistic_regression_and_learns_gauss():
    state = PlaygroundState(dataset="gauss", hidden=[])
    net, _, test_loss = trained(state, 50)
    assert len(net.weights) == 1 and test_loss < 0.1


def test_multiclass_blobs_with_softmax():
    state = PlaygroundState(dataset="blobs", classes=4, hidden=[8], optimizer="adam", learning_rate=0.03)
    net, _, test_loss = trained(state, 100)
    data = make_dataset(state)
    probabilities = net.predict(featurize(data.x_test, state.features))
    assert probabilities.shape[1] == 4 and np.allclose(probabilities.sum(1), 1, atol=1e-5)
    assert (probabilities.argmax(1) == data.y_test).mean() > 0.9


def test_learning_rate_ten_diverges_and_is_detected():
    state = PlaygroundState(dataset="circle", problem="regression", learning_rate=10.0, hidden=[8, 8],
                            activation="relu", features=["x", "y", "xSquared", "ySquared"])
    net, train_loss, test_loss = trained(state, 20)
    assert net.diverged(train_loss, test_loss)


def test_no_feature_and_too_many_layers_give_clear_messages():
    with pytest.raises(BadConfig, match="at least one input feature"):
        PlaygroundState(features=[]).validate()
    with pytest.raises(BadConfig, match="Advanced"):
        PlaygroundState(hidden=[2] * 7).validate()
    PlaygroundState(hidden=[32] * 8, advanced=True, batch_size=256).validate()


def test_state_round_trips_through_the_url():
    state = PlaygroundState(dataset="spiral", noise=20, hidden=[8, 3, 1], features=["x", "sinY"],
                            learning_rate=0.1, regularization="L2", regularization_rate=0.003, show_test=True)
    query = state.to_query()
    assert all(isinstance(v, str) for v in query.values()) and "points" not in query
    assert PlaygroundState.from_query(query) == (state, [])
    assert PlaygroundState.from_query({}) == (PlaygroundState(), [])
    broken, problems = PlaygroundState.from_query({"hidden": "9,9,x", "noise": "loud"})
    assert broken == PlaygroundState() and len(problems) == 2


def test_datasets_have_the_playgrounds_shapes():
    for name in ("circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss", "blobs", "spiral-arms"):
        xy, labels = generate(name, 200, 0.1)
        assert xy.shape == (200, 2) and labels.shape == (200,)
        assert np.abs(xy).max() < 12
    assert set(generate("circle", 100)[1]) == {-1.0, 1.0}
    assert np.abs(generate("reg-plane", 100)[1]).max() <= 1


def test_csv_parser_accepts_good_files_and_explains_bad_ones():
    xy, labels = parse_points_csv(b"x,y,label\n1,2,0\n-1,-2,1\n3,3,1\n")
    assert xy.shape == (3, 2) and sorted(labels) == [-1.0, 1.0, 1.0]
    cases = {
        b"": "empty", b"x,y\n1,2\n": "needs x, y and a label", b"1,2,a\n3,4,b\n": "text where a number",
        b"1,2,1\n3,4,1\n": "same label", b"x,y,label\n": "no points", b"\xff\xfe\x00bad": "UTF-8",
        b"1,2,nan\n3,4,1\n": "finite",
    }
    for data, message in cases.items():
        with pytest.raises(BadInput, match=message):
            parse_points_csv(data)
    with pytest.raises(BadInput, match="at most|MB"):
        parse_points_csv(b"1,2,0\n" * 1_000_000)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=400))
def test_csv_parser_never_crashes_on_arbitrary_bytes(data):
    try:
        xy, labels = parse_points_csv(data)
    except BadInput as error:
        assert str(error)
        return
    assert xy.shape == (len(labels), 2) and np.isfinite(xy).all()


def test_exported_keras_code_runs_as_a_script(tmp_path):
    state = PlaygroundState(hidden=[4, 2], features=["x", "y", "xSquared"], regularization="L1",
                            regularization_rate=0.001, dropout=0.1)
    code = keras_code(state)
    assert "EPOCHS = 100" in code
    script = tmp_path / "export.py"
    script.write_text(code.replace("EPOCHS = 100", "EPOCHS = 2"))
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


EXPORTED = {
    "squared error, tanh": dict(learning_rate=0.3),
    "cross-entropy": dict(loss="crossentropy", learning_rate=3.0),
    "regression": dict(problem="regression", dataset="reg-plane", learning_rate=0.03, activation="relu"),
    "L2": dict(regularization="L2", regularization_rate=0.3, learning_rate=0.3),
    "L1": dict(regularization="L1", regularization_rate=0.1, learning_rate=0.3),  # some weights reach 0
    "multiclass, Adam": dict(dataset="blobs", classes=4, optimizer="adam", learning_rate=0.03),
    "no hidden layer": dict(hidden=[], features=["x", "y", "xSquared", "ySquared"], learning_rate=0.3),
}


@pytest.mark.parametrize("name", list(EXPORTED))
def test_exported_keras_code_trains_the_pages_objective_from_its_start(name):
    import keras

    # Full batches (every training point in one, 250 < 256) make the batch order irrelevant.
    state = PlaygroundState(advanced=True, batch_size=256, **EXPORTED[name])
    exported = {"__name__": "exported"}
    exec(keras_code(state), exported)  # defines features_of, targets_of, LOSS, build_model; trains nothing
    data = make_dataset(state)
    features, targets = exported["features_of"](data.x_train), exported["targets_of"](data.y_train)
    assert np.array_equal(features, featurize(data.x_train, state.features))
    model = exported["build_model"]()
    for layer in (layer for layer in model.layers if isinstance(layer, keras.layers.Dense)):
        start = layer.kernel_initializer.get_config()
        assert (type(layer.kernel_initializer).__name__, start["minval"], start["maxval"]) == \
            ("RandomUniform", -0.5, 0.5), "the page's U(-0.5, 0.5) weights"
        assert np.abs(layer.kernel.numpy()).max() <= 0.5 and np.allclose(layer.bias.numpy(), 0.1), \
            "the page's 0.1 biases"

    net = PlaygroundNet(state)
    start = [array for layer in net.weight_arrays() for array in layer]
    model.set_weights(start)
    page_curve, keras_curve = [], []
    for _ in range(5):
        net.train(features, data.y_train, 1)
        model.fit(features, targets, batch_size=state.batch_size, epochs=1, shuffle=False, verbose=0)
        page_curve.append(net.loss(features, data.y_train))
        keras_curve.append(float(keras.ops.mean(exported["LOSS"](targets, model(features)))))
    page_weights = [array for layer in net.weight_arrays() for array in layer]
    assert max(np.abs(a - b).max() for a, b in zip(page_weights, start)) > 0.02, "training must move the weights"
    np.testing.assert_allclose(keras_curve, page_curve, rtol=1e-3)
    for page_array, keras_array in zip(page_weights, model.get_weights()):
        np.testing.assert_allclose(keras_array, page_array, atol=1e-4)
    if state.regularization == "L1":
        page_zeros = [w == 0 for w in page_weights[::2]]
        assert any(z.any() for z in page_zeros)
        assert all(np.array_equal(k == 0, z) for k, z in zip(model.get_weights()[::2], page_zeros))


def test_exported_code_says_what_a_network_without_hidden_layers_is():
    squared = keras_code(PlaygroundState(hidden=[]))
    assert "logistic" not in squared and "least squares" in squared
    assert "logistic regression" in keras_code(PlaygroundState(hidden=[], loss="crossentropy"))


def test_a_long_play_keeps_a_bounded_history_with_the_newest_half_whole():
    from core.playground import thin_history

    history = []
    for epoch in range(1, 20_001):
        history.append((epoch, 1.0 / epoch, 1.0 / epoch))
        history = thin_history(history, limit=1000)
    assert len(history) <= 1000
    epochs = [point[0] for point in history]
    assert epochs == sorted(epochs) and epochs[-1] == 20_000 and epochs[0] <= 40
    assert epochs[-500:] == list(range(19_501, 20_001))  # the live curve's points are all there
    assert thin_history(history[:10], limit=1000) == history[:10]


def initial_weights(state: PlaygroundState) -> list[np.ndarray]:
    return [array for layer in PlaygroundNet(state).weight_arrays() for array in layer]


def test_reset_draws_new_weights_and_a_link_replays_its_run():
    state = PlaygroundState(dropout=0.2)  # dropout too: its masks come from the same seed
    first = initial_weights(state)
    state.reseed()
    second = initial_weights(state)
    state.reseed()
    third = initial_weights(state)
    assert not np.allclose(first[0], second[0]) and not np.allclose(second[0], third[0])
    # The reseeded state goes into the URL; a page opened from that link starts and trains the same.
    linked, problems = PlaygroundState.from_query(state.to_query())
    assert problems == [] and linked.weight_seed == state.weight_seed
    assert all(np.array_equal(a, b) for a, b in zip(initial_weights(linked), third))
    (net_a, train_a, test_a), (net_b, train_b, test_b) = trained(state, 30), trained(linked, 30)
    assert (train_a, test_a) == (train_b, test_b)
    assert all(np.array_equal(a, b) for a, b in zip(net_a.weights, net_b.weights))
    assert make_dataset(state).x_train.tolist() == make_dataset(PlaygroundState()).x_train.tolist(), \
        "Reset keeps the data"


def test_l1_sets_weights_to_exactly_zero_and_l2_only_shrinks_them():
    def zero_share(regularization: str) -> float:
        state = PlaygroundState(dataset="xor", features=["x", "y", "xTimesY", "xSquared", "ySquared"],
                                hidden=[8, 8], regularization=regularization, regularization_rate=0.01)
        net, _, test_loss = trained(state, 150)
        weights = np.concatenate([w.numpy().ravel() for w in net.weights])
        assert test_loss < 0.2, f"{regularization}: XOR still learned ({test_loss:.3f})"
        return float((weights == 0).mean())

    assert zero_share("L1") > 0.3
    assert zero_share("L2") == 0.0


def test_the_network_picture_shows_every_neuron_and_no_link_an_l1_clamp_removed():
    import base64
    import re

    from views.playground.pictures import network_svg

    weights = [(np.array([[0.3, 0.0], [-0.2, 0.4]]), np.zeros(2)), (np.array([[0.5], [0.0]]), np.zeros(1))]
    grid_features = np.random.default_rng(0).uniform(-1, 1, (2500, 2))
    outputs = [np.tanh(grid_features @ weights[0][0]), np.tanh(np.tanh(grid_features @ weights[0][0]) @ weights[1][0])]
    html = network_svg(weights, ["x", "y"], grid_features, outputs, multiclass=False, discrete=False)
    assert html.count('class="pg-neuron"') == 2 + 2 + 1 and 'data-layers="3"' in html
    links = base64.b64decode(re.search(r"data:image/svg\+xml;base64,([^\"]+)", html).group(1)).decode()
    assert links.count("<line") == 4, "six weights, two of them exactly 0"


def test_untraced_outputs_and_loss_match_the_traced_ones():
    """A new network's first picture is computed op by op (no trace to wait for): the same numbers."""
    from core.playground import PlaygroundNet, PlaygroundState, featurize, grid, make_dataset

    state = PlaygroundState(hidden=[3, 2], dropout=0.2)
    data = make_dataset(state)
    net = PlaygroundNet(state)
    net.train(featurize(data.x_train, state.features), data.y_train, 3)
    points = featurize(grid(20), state.features)
    for traced, eager in zip(net.layer_outputs(points), net.layer_outputs(points, traced=False)):
        np.testing.assert_allclose(eager, traced, rtol=1e-5, atol=1e-6)
    x, y = featurize(data.x_test, state.features), data.y_test
    assert net.loss(x, y, traced=False) == pytest.approx(net.loss(x, y), rel=1e-5)
