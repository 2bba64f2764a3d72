"""The Playground's session object (views/playground/session.py), driven as the page's callbacks do."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import BadInput
from views.playground.session import PlaygroundSession
from views.playground.widgets import widget_values


def test_step_play_pause_and_reset():
    session = PlaygroundSession.from_link({"dataset": "xor", "hidden": "3"})
    first = session.network
    session.step()
    assert session.net.epoch == 1 and session.trainer.frame().epoch == 1
    session.play()
    assert session.playing and session.trainer.playing
    session.pause()
    assert not session.playing and not session.trainer.playing
    seed, points = session.state.weight_seed, session.data.x_train.copy()
    session.reset()
    assert session.network == first + 1 and session.net.epoch == 0 and session.state.weight_seed != seed
    np.testing.assert_array_equal(session.data.x_train, points)  # Reset keeps the data
    session.close()


def test_the_learning_rate_changes_without_a_new_network():
    session = PlaygroundSession.from_link({})
    network, net = session.network, session.net
    session.step()
    session.set_learning_rate(0.3)
    assert session.net is net and session.network == network and net.epoch == 1
    assert float(net.learning_rate.numpy()) == pytest.approx(0.3)
    session.close()


def test_your_own_points_from_none_to_four_classes():
    session = PlaygroundSession.from_link({"dataset": "custom"})
    assert session.error and "two points" in session.error and session.trainer is None
    assert len(session.data.x_train) == 0  # a blank map to click on
    session.add_point(-3, 3, 0)
    assert session.error and len(session.data.x_train) == 1, "one point: shown, not yet enough"
    for point_class, (x, y) in enumerate([(3, 3), (-3, -3), (3, -3)], start=1):
        for jitter in (0.0, 0.5, 1.0):
            session.add_point(x + jitter, y - jitter, point_class)
        session.step()  # the class-2 (and class-3) point trains: no InvalidArgumentError
        assert session.error is None and np.isfinite(session.trainer.frame().train_loss)
    assert session.state.custom_classes == 4 and session.net.outputs == 4
    with pytest.raises(BadInput):
        session.load_points(b"1,2,1\n3,4,1\n")
    assert len(session.points) == 10, "a bad CSV changes nothing"
    session.remove_points()
    assert len(session.points) == 0 and session.state.custom_classes == 2
    session.close()


def test_advanced_off_trims_the_network_and_a_problem_brings_its_data():
    session = PlaygroundSession.from_link({"advanced": "true", "hidden": "32,32,8,8,8,8,8,8", "batch_size": "200"})
    assert session.state.hidden == [32, 32, 8, 8, 8, 8, 8, 8]
    session.change_advanced(False)
    assert session.state.hidden == [8] * 6 and session.state.batch_size == 30 and session.error is None
    session.change_problem("regression")
    assert (session.state.problem, session.state.dataset) == ("regression", "reg-plane")
    assert len(session.data.points) == 1200
    session.close()


def test_a_widget_callback_with_the_value_it_shows_keeps_the_playing_network():
    """Streamlit forgets a page's widgets when another page is shown; a message from the Playground
    that reaches the server after the switch then fires every widget's callback with the value the
    widget shows. None of them is a change: the network plays on (the e2e's "it plays on" failed
    when they each made a new, paused network)."""
    session = PlaygroundSession.from_link({"dataset": "xor", "hidden": "3,2", "layer_activations": "relu,tanh"})
    session.play()
    session.redraw = False  # (as the page's run that shows it leaves it)
    trainer, network, state = session.trainer, session.network, session.state
    for key, value in widget_values(session).items():  # what the page's callbacks call, with those values
        name = key.removeprefix("pg_")
        if name == "activation":
            session.change_activation(value)
        elif name == "problem":
            session.change_problem(value)
        elif name == "advanced":
            session.change_advanced(value)
        elif name in ("show_test", "discretize"):
            session.show(**{name: value})
        elif name == "learning_rate":
            session.set_learning_rate(value)
        elif name.startswith("act_"):
            session.change(layer_activations=[state.activation_of(i) for i in range(len(state.hidden))])
        else:
            session.change(**{name: value})
    assert session.trainer is trainer and session.network == network
    assert session.playing and trainer.playing and not session.redraw
    session.change_activation("sigmoid")  # a real change still makes a new network
    assert session.network == network + 1 and state.layer_activations == [] and not session.playing
    session.close()
