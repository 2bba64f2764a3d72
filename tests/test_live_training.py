"""The Playground's background trainer: it trains while playing and only then, publishes frames the
browser can decode back into the network's outputs, and shares the machine with other players."""
import base64
import time

import numpy as np
import pytest

from core.playground.live_training import GRID, LiveTrainer, Turns, encode_frame, encode_setup
from core.playground import DOMAIN, PlaygroundNet, PlaygroundState, featurize, grid, make_dataset


def trainer(turns=None, idle_seconds=3.0, **settings) -> LiveTrainer:
    state = PlaygroundState(**settings)
    data = make_dataset(state)
    return LiveTrainer(PlaygroundNet(state), featurize(data.x_train, state.features), data.y_train,
                       featurize(data.x_test, state.features), data.y_test, featurize(grid(GRID), state.features),
                       turns=turns or Turns(), idle_seconds=idle_seconds)


def play_until(live: LiveTrainer, epochs: int, limit: float = 60.0):
    """Keep asking for frames, as the page does, until ``epochs`` are trained; the frames seen."""
    frames, deadline = [live.frame()], time.monotonic() + limit
    while frames[-1].epoch < epochs and time.monotonic() < deadline:
        frames.append(live.frame(frames[-1].serial, timeout=0.2))
    return frames


def test_play_trains_in_the_background_and_pause_stops_it():
    live = trainer()
    first = live.frame()
    assert (first.epoch, first.serial, first.playing) == (0, 0, False)
    live.play()
    frames = play_until(live, 300)
    assert frames[-1].epoch >= 300
    serials = [f.serial for f in frames]
    assert serials == sorted(serials) and len(set(serials)) > 3, "new frames keep coming (none older)"
    assert any(f.playing for f in frames)
    live.pause()
    paused = live.frame()
    assert paused.epoch == live.net.epoch and not paused.playing, "the last frame shows the weights it stopped at"
    time.sleep(0.3)
    assert live.net.epoch == paused.epoch, "nothing trains after Pause"
    assert live.frame(paused.serial, timeout=0.2).serial == paused.serial, "and no new frame comes"


def test_step_trains_one_epoch_and_shows_it():
    live = trainer()
    frame = live.step()
    assert frame.epoch == 1 == live.net.epoch
    assert frame.history[-1][0] == 1


def test_a_page_that_stops_asking_stops_the_training():
    live = trainer(idle_seconds=0.5)
    live.play()
    play_until(live, 5)
    time.sleep(1.5)  # no frame asked for: the tab was closed
    assert not live.playing
    stopped_at = live.net.epoch
    time.sleep(0.3)
    assert live.net.epoch == stopped_at


def test_two_players_both_train():
    turns = Turns()
    first, second = trainer(turns), trainer(turns, weight_seed=1)
    first.play()
    second.play()
    deadline = time.monotonic() + 60
    while (first.net.epoch < 20 or second.net.epoch < 20) and time.monotonic() < deadline:
        first.frame(timeout=0.05)
        second.frame(timeout=0.05)
        time.sleep(0.02)
    first.close()
    second.close()
    assert first.net.epoch >= 20 and second.net.epoch >= 20


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), np.uint8)


def test_the_encoded_frame_decodes_back_to_the_outputs():
    live = trainer(hidden=[3])
    frame = live.step(5)
    encoded = encode_frame(frame, multiclass=False)
    hidden, output = frame.outputs
    assert len(encoded["outputs"]) == 2
    pictures = decode(encoded["outputs"][0]).reshape(3, GRID * GRID)
    scaled = hidden / np.abs(hidden).max(0)  # each neuron's picture on its own scale, as the server draws it
    assert np.abs(pictures.T / 127 - 1 - scaled).max() <= 1 / 127
    shown = decode(encoded["outputs"][1]) / 127 - 1
    assert np.abs(shown - np.clip(output[:, 0], -1, 1)).max() <= 1 / 127
    assert np.array(encoded["weights"][0]) == pytest.approx(frame.weights[0][0], abs=1e-4)
    assert encoded["epoch"] == 5 and encoded["curve"][-1][0] == 5
    assert encoded["loss"][0] == pytest.approx(frame.train_loss, abs=1e-5)


def test_multiclass_outputs_are_probabilities():
    live = trainer(dataset="blobs", classes=4)
    encoded = encode_frame(live.step(), multiclass=True)
    probabilities = decode(encoded["outputs"][-1]).reshape(4, GRID * GRID)
    assert np.abs(probabilities.astype(int).sum(0) - 255).max() <= 4, "each grid point's classes add up to one"


def test_the_setup_places_points_on_the_picture():
    xy = np.array([[-DOMAIN, DOMAIN], [DOMAIN, -DOMAIN], [0.0, 0.0]])
    setup = encode_setup(featurize(grid(GRID), ["x", "y"]), xy, np.array([1.0, -1.0, 1.0]),
                         np.array([0, 0, 1]), multiclass=False, domain=DOMAIN)
    cells = decode(setup["points"]["xy"]).reshape(3, 2)
    assert cells[0].tolist() == [0, 0], "top left"
    assert cells[1].tolist() == [255, 255], "bottom right"
    assert abs(int(cells[2][0]) - 128) <= 1 and abs(int(cells[2][1]) - 128) <= 1
    assert decode(setup["points"]["labels"]).tolist() == [254, 0, 254]
    assert decode(setup["points"]["test"]).tolist() == [0, 0, 1]
    assert decode(setup["inputs"]).size == 2 * GRID * GRID
