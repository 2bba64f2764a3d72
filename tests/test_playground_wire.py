"""What the Playground's browser component receives (views/playground/wire.py): the frames decode
back into the network's outputs, the points land where they are, every point of your own is sent."""
import base64

import numpy as np
import pytest

from core.playground import DOMAIN, CustomPoints, Dataset, PlaygroundNet, PlaygroundState, make_dataset
from core.playground.live_training import GRID, LiveTrainer, Turns, grid_inputs
from views.playground import wire


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), np.uint8)


def trainer(**settings) -> LiveTrainer:
    state = PlaygroundState(**settings)
    return LiveTrainer(PlaygroundNet(state), make_dataset(state), turns=Turns())


def test_a_frame_decodes_back_to_every_layers_outputs():
    live = trainer(hidden=[3])
    frame = live.step(5)
    message = wire.frames([frame], setup=7, multiclass=False, tick=3, playing=False, page=2)
    assert (message["view"], message["tick"], message["playing"], message["page"]) == ("frames", 3, False, 2)
    encoded = message["frames"][0]
    assert encoded["setup"] == 7 and encoded["epoch"] == 5 and encoded["curve"][-1][0] == 5
    hidden, output = frame.outputs
    pictures = decode(encoded["outputs"][0]).reshape(3, GRID * GRID)
    scaled = hidden / np.abs(hidden).max(0)  # each neuron's picture on its own scale
    assert np.abs(pictures.T / 127 - 1 - scaled).max() <= 1 / 127
    shown = decode(encoded["outputs"][1]) / 127 - 1
    assert np.abs(shown - np.clip(output[:, 0], -1, 1)).max() <= 1 / 127
    assert np.array(encoded["weights"][0]) == pytest.approx(frame.weights[0][0], rel=1e-2)
    assert encoded["loss"][0] == pytest.approx(frame.train_loss, abs=1e-5)


def test_only_the_last_frame_of_a_batch_carries_the_curve():
    live = trainer()
    batch = [live.step(), live.step()]
    frames = wire.frames(batch, setup=1, multiclass=False, tick=1, playing=True, page=1)["frames"]
    assert frames[0]["curve"] is None and len(frames[1]["curve"]) == 3


def test_multiclass_outputs_are_probabilities():
    live = trainer(dataset="blobs", classes=4)
    encoded = wire.encode_frame(live.step(), multiclass=True)
    probabilities = decode(encoded["outputs"][-1]).reshape(4, GRID * GRID)
    assert np.abs(probabilities.astype(int).sum(0) - 255).max() <= 4, "each grid point's classes add up to one"


def test_a_weight_is_zero_on_the_wire_only_when_it_is_zero():
    """A link disappears only where an L1 clamp set its weight to exactly 0, not where it is tiny."""
    weights = np.array([[0.0, 3e-6, -0.4567], [1234.5, -2e-9, 0.1]])
    sent = wire.significant(weights)
    assert (sent == 0).tolist() == (weights == 0).tolist()
    np.testing.assert_allclose(sent, weights, rtol=5e-3)


def test_points_land_on_the_map_and_those_outside_are_counted():
    data = Dataset(np.array([[-DOMAIN, DOMAIN], [DOMAIN, -DOMAIN], [0.0, 0.0], [7.5, 0.0]]),
                   np.array([1.0, -1.0, 1.0, 1.0]), np.array([[0.0, -2.0]]), np.array([-1.0]))
    points, outside = wire.encode_points(data, multiclass=False)
    cells = decode(points["xy"]).reshape(-1, 2)
    assert outside == 1 and len(cells) == 4, "the point at x = 7.5 is not drawn but counted"
    assert cells[0].tolist() == [0, 0], "top left"
    assert cells[1].tolist() == [255, 255], "bottom right"
    assert abs(int(cells[2][0]) - 128) <= 1 and abs(int(cells[2][1]) - 128) <= 1
    assert decode(points["labels"]).tolist() == [254, 0, 254, 0]
    assert decode(points["test"]).tolist() == [0, 0, 0, 1]
    assert "1 point lies outside the map" in wire.output_caption(False, outside)


def test_the_pictures_data_describe_the_network_and_the_map():
    state = PlaygroundState(hidden=[3, 2], features=["x", "y", "sinX"], discretize=True)
    data = make_dataset(state)
    pictures = wire.pictures(4, state, data, grid_inputs(state.features), outputs=1, pick=False)
    assert {p["setup"] for p in pictures.values()} == {4} and all(p["live"] for p in pictures.values())
    network = pictures["network"]
    assert network["sizes"] == [3, 3, 2, 1] and network["labels"] == ["X₁", "X₂", "sin(X₁)"]
    assert decode(network["inputs"]).size == 3 * GRID * GRID
    output = pictures["output"]
    assert (output["classes"], output["discretize"], output["pick"], output["showTest"]) == (2, True, False, False)
    assert decode(output["points"]["test"]).sum() == len(data.x_test)


def test_every_point_of_your_own_is_shown_test_points_too():
    points = CustomPoints()
    for index in range(8):
        points = points.add(index - 4.0, 1.0, index % 2)
    state = PlaygroundState(dataset="custom", train_ratio=50)
    data = make_dataset(state, (points.xy, points.labels()))
    output = wire.pictures(1, state, data, grid_inputs(state.features), outputs=1, pick=True)["output"]
    assert output["showTest"] and output["pick"] and len(decode(output["points"]["test"])) == 8
    assert "Click or tap the map" in output["caption"] and "test points" in output["caption"]


def test_a_map_without_a_network_yet_is_drawn_blank_with_its_points():
    state = PlaygroundState(dataset="custom")
    one = Dataset(np.array([[1.0, 1.0]]), np.array([-1.0]), np.zeros((0, 2)), np.zeros(0))
    pictures = wire.pictures(2, state, one, None, outputs=1, pick=True)
    assert not any(p["live"] for p in pictures.values())
    assert len(decode(pictures["output"]["points"]["xy"])) == 2
