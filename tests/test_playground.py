"""The playground engine: its data, features, network, URL state, CSV parser and Keras export."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import BadConfig, BadInput
from core.playground import (
    CustomPoints, PlaygroundNet, PlaygroundState, featurize, generate, keras_code, make_dataset, parse_points_csv,
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


@pytest.mark.parametrize("bad,kept", [
    ({"noise": "1000"}, {"noise": 50}), ({"train_ratio": "0"}, {"train_ratio": 10}),
    ({"train_ratio": "150"}, {"train_ratio": 90}), ({"classes": "100"}, {"classes": 8}),
    ({"features": "x,x,x"}, {"features": ["x"]}), ({"noise": "loud"}, {"noise": 0}),
    ({"hidden": "9,9,x"}, {"hidden": [4, 2]}), ({"hidden": "40,3"}, {"hidden": [8, 3]}),
    ({"learning_rate": "0.05"}, {"learning_rate": 0.03}), ({"activation": "swish"}, {"activation": "tanh"}),
    ({"batch_size": "500"}, {"batch_size": 30}), ({"features": "x,q"}, {"features": ["x"]}),
])
def test_each_link_value_is_checked_on_its_own_and_the_rest_of_the_link_stays(bad, kept):
    good = {"dataset": "blobs", "optimizer": "adam", "regularization": "L2", "regularization_rate": "0.01"}
    state, notes = PlaygroundState.from_query({**good, **bad})
    assert len(notes) == 1 and next(iter(bad)) in notes[0], notes
    assert (state.dataset, state.optimizer, state.regularization, state.regularization_rate) == \
        ("blobs", "adam", "L2", 0.01), "the valid parts of the link are kept"
    assert {name: getattr(state, name) for name in kept} == kept
    state.validate()


def test_a_links_problem_follows_its_data_set_and_old_links_still_open():
    state, notes = PlaygroundState.from_query({"dataset": "reg-gauss", "problem": "classification"})
    assert state.problem == "regression" and len(notes) == 1
    state, notes = PlaygroundState.from_query({"dataset": "custom", "custom_classes": "3"})
    assert state.dataset == "custom" and notes == [] and "custom_classes" not in state.to_query()


def test_datasets_have_the_playgrounds_shapes():
    for name in ("circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss", "blobs", "spiral-arms"):
        xy, labels = generate(name, 200, 0.1)
        assert xy.shape == (200, 2) and labels.shape == (200,)
        assert np.abs(xy).max() < 12
    assert set(generate("circle", 100)[1]) == {-1.0, 1.0}
    assert PlaygroundState(dataset="reg-plane", problem="regression").point_count == 1200, "as the playground"


@pytest.mark.parametrize("name", ["circle", "xor", "reg-plane", "reg-gauss"])
def test_noise_labels_a_jittered_copy_and_leaves_the_point_where_it_was_as_the_tf_playground(name):
    clean_xy, clean_labels = generate(name, 500, 0.0, seed=3)
    noisy_xy, noisy_labels = generate(name, 500, 0.5, seed=3)
    np.testing.assert_array_equal(noisy_xy, clean_xy)
    assert (noisy_labels != clean_labels).mean() > 0.05, "noise changes labels"
    assert np.abs(noisy_xy).max() <= 6, "so the points stay on the map"


def test_plane_and_multi_gaussian_labels_follow_the_tf_playground():
    xy, labels = generate("reg-plane", 2000, 0.0)
    np.testing.assert_allclose(labels, xy.sum(1) / 10)  # unclipped: up to ±1.2
    assert 1.0 < np.abs(labels).max() <= 1.2
    xy, labels = generate("reg-gauss", 2000, 0.0)
    cones = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])
    heights = np.stack([sign * np.maximum(0, 1 - np.hypot(*(xy - [cx, cy]).T) / 2) for cx, cy, sign in cones], 1)
    np.testing.assert_allclose(np.abs(labels), np.abs(heights).max(1))
    assert (labels == 0).mean() > 0.2, "max(0, 1 − d/2): zero beyond radius 2 of every centre"


def test_csv_parser_accepts_good_files_and_explains_bad_ones():
    points = parse_points_csv(b"x,y,label\n1,2,0\n-1,-2,1\n3,3,1\n")
    assert points.xy.shape == (3, 2) and sorted(points.labels()) == [-1.0, 1.0, 1.0]
    cases = {
        b"": "empty", b"x,y\n1,2\n": "needs x, y and a label", b"1,2,0\n3,b,1\n": "text where x and y",
        b"1,2,1\n3,4,1\n": "same label", b"x,y,label\n": "no points", b"\xff\xfe\x00bad": "UTF-8",
        b"1,2,nan\n3,4,1\n": "finite", b"1,2,\n3,4,1\n": "no label",
        "".join(f"{i},{i},{i}\n" for i in range(9)).encode(): "up to 8 classes",
    }
    for data, message in cases.items():
        with pytest.raises(BadInput, match=message):
            parse_points_csv(data)
    with pytest.raises(BadInput, match="at most|MB"):
        parse_points_csv(b"1,2,0\n" * 1_000_000)


def test_csv_labels_are_any_two_to_eight_values_numbers_or_words_as_the_help_says():
    from core.playground import CSV_HELP

    assert "words" in CSV_HELP and "2 to 8" in CSV_HELP
    two_words = parse_points_csv(b"1,1,dog\n2,2,cat\n3,3,dog\n")
    assert two_words.labels().tolist() == [1.0, -1.0, 1.0], "alphabetical: cat orange, dog blue"
    minus_one = parse_points_csv(b"1,1,1\n2,2,-1\n")
    assert minus_one.labels().tolist() == [1.0, -1.0], "the lower value is orange (−1)"
    three = parse_points_csv(b"0,0,red\n1,1,green\n2,2,blue\n3,3,red\n")
    assert three.classes.tolist() == [2, 1, 0, 2] and three.num_classes == 3
    numbers = parse_points_csv(b"0,0,10\n1,1,2\n2,2,7.5\n")
    assert numbers.classes.tolist() == [2, 0, 1], "numbers in numeric order, not as text"


@pytest.mark.parametrize("classes", [3, 4])
def test_a_new_class_of_your_own_points_joins_the_others_and_trains(classes):
    """Two classes of your own, then "class 2" (then "class 3"): the labels become class numbers for
    softmax (they were −1/+1/2, and sparse cross-entropy raised InvalidArgumentError on −1)."""
    points = CustomPoints()
    rng = np.random.default_rng(0)
    for point_class in range(classes):
        assert point_class in points.choosable()
        for _ in range(6):
            points = points.add(*rng.uniform(-5, 5, 2), point_class)
        state = PlaygroundState(dataset="custom", custom_classes=points.num_classes, hidden=[4])
        data = make_dataset(state, (points.xy, points.labels()))
        net = PlaygroundNet(state)
        x = featurize(data.x_train, state.features)
        net.train(x, data.y_train, 5)
        assert np.isfinite(net.loss(x, data.y_train)) and net.outputs == (points.num_classes if point_class >= 2 else 1)
    assert points.num_classes == classes and sorted(set(points.labels())) == list(range(classes))
    assert points.choosable() == list(range(classes + 1))


def test_your_points_are_kept_in_the_map_and_classes_are_checked():
    points = CustomPoints().add(9.0, -7.0, 1)
    assert points.xy.tolist() == [[6.0, -6.0]]
    with pytest.raises(BadInput, match="class"):
        points.add(0, 0, 3)  # only 0, 1 and 2 can be added now
    assert CustomPoints().choosable() == [0, 1]


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=400))
def test_csv_parser_never_crashes_on_arbitrary_bytes(data):
    try:
        points = parse_points_csv(data)
    except BadInput as error:
        assert str(error)
        return
    assert points.xy.shape == (len(points), 2) and np.isfinite(points.xy).all()
    assert 2 <= points.num_classes <= 8


@pytest.mark.parametrize("settings", [dict(dataset="xor", noise=25, seed=4), dict(dataset="reg-gauss", problem="regression"),
                                      dict(dataset="spiral-arms", classes=5, train_ratio=70), dict(dataset="custom")])
def test_the_exported_script_trains_on_the_pages_own_points(settings):
    points = CustomPoints().add(1, 1, 0).add(-2, 3, 1).add(4, -4, 2).add(0, 0, 0)
    state = PlaygroundState(**settings, custom_classes=points.num_classes)
    code = keras_code(state, points)
    exported = {"__name__": "exported"}
    exec(code, exported)
    ours = make_dataset(state, (points.xy, points.labels()))
    for theirs, mine in zip(exported["page_data"](), (ours.x_train, ours.y_train, ours.x_test, ours.y_test)):
        np.testing.assert_allclose(theirs, mine, atol=1e-4)
    described = code.split('"""')[1]
    assert "example" not in code and ("your own 4 points" if state.dataset == "custom" else
                                      f"noise {state.noise} %") in " ".join(described.split())


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
    "regression": dict(problem="regression", dataset="reg-plane", points=500, learning_rate=0.03, activation="relu"),
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


@pytest.mark.parametrize("settings", [
    {}, {"optimizer": "adam"}, {"regularization": "L1", "regularization_rate": 0.01},
    {"regularization": "L2", "regularization_rate": 0.03, "activation": "relu"},
    {"loss": "crossentropy", "activation": "sigmoid", "batch_size": 7},
    {"dataset": "blobs", "classes": 4, "hidden": [5, 3], "layer_activations": ["relu", "linear"]},
    {"problem": "regression", "dataset": "reg-plane"}, {"hidden": []},
], ids=["sgd-tanh-squared", "adam", "L1", "L2-relu", "sigmoid-crossentropy", "softmax", "regression", "no-layer"])
def test_epochs_trained_before_the_program_is_ready_are_the_traced_programs_epochs(settings):
    """Until a new shape's program is traced, Step and Play train in NumPy: the same shuffles,
    batches, gradients, optimizer and penalties, so the same weights to float32 rounding."""
    from core.playground import untraced

    state = PlaygroundState(**settings)
    data = make_dataset(state)
    x, y = featurize(data.x_train, state.features), data.y_train
    in_numpy, traced = PlaygroundNet(state), PlaygroundNet(state)
    untraced.train_epochs(in_numpy, x, y, 3, min(state.batch_size, len(x)))
    traced.train(x, y, 3)
    for mine, theirs in zip(in_numpy.weight_arrays(), traced.weight_arrays()):
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(a, b, atol=5e-5)
    assert int(in_numpy.arguments()[5].numpy()) == int(traced.arguments()[5].numpy()) == 3  # the random draws
    if state.optimizer == "adam":
        assert float(in_numpy.arguments()[4].numpy()) == float(traced.arguments()[4].numpy())
    assert untraced.can_train(in_numpy) and not untraced.can_train(PlaygroundNet(PlaygroundState(dropout=0.1)))
