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


def test_exported_keras_code_runs_and_trains(tmp_path):
    state = PlaygroundState(hidden=[4, 2], features=["x", "y", "xSquared"], regularization="L2",
                            regularization_rate=0.001)
    code = keras_code(state).replace("epochs=100", "epochs=2")
    script = tmp_path / "export.py"
    script.write_text(code)
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


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
