"""The Playground page under AppTest: what its browser component is sent (views/playground/wire.py),
one page run per control, the link kept in the URL and checked value by value, your own points.

AppTest runs no JavaScript: these tests read the component's data; tests/e2e draws it."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "views/playground/page.py"


def playground(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def sent(at: AppTest, name: str) -> dict:
    """The data the page sent to one of its pictures ("network", "output", …) or to "frames"."""
    found = [c for c in at.get("bidi_component") if c.key == f"pg_live_{name}"]
    assert found, f"no {name} picture on the page"
    return json.loads(found[-1].proto.json)


def points_shown(at: AppTest) -> int:
    return len(base64.b64decode(sent(at, "output")["points"]["test"]))


def latest_frame(at: AppTest) -> dict:
    return sent(at, "frames")["frames"][-1]


def test_the_page_sends_the_network_the_map_and_a_first_frame():
    at = playground()
    network, output, frames = sent(at, "network"), sent(at, "output"), sent(at, "frames")
    assert network["sizes"] == [2, 4, 2, 1] and network["labels"] == ["X₁", "X₂"]
    assert output["setup"] == network["setup"] == frames["frames"][-1]["setup"]
    assert points_shown(at) == 500 and not output["showTest"] and not output["pick"]
    frame = latest_frame(at)
    assert frame["epoch"] == 0 and not frames["playing"] and len(frame["outputs"]) == 3
    assert [len(w) for w in frame["weights"]] == [2, 4, 2]
    assert dict(at.query_params) == {}, "the defaults need no link"


def test_step_is_one_page_run_and_shows_epoch_one():
    at = playground()
    session = at.session_state["pg_session"]
    ticks = session.tick
    at.button(key="pg_step").click().run()
    assert latest_frame(at)["epoch"] == 1 and session.net.epoch == 1
    assert session.tick == ticks + 1, "one page run (the frames fragment ran once, inside it)"


def test_a_layer_and_a_neuron_change_the_network_and_the_link():
    at = playground()
    before = sent(at, "network")["setup"]
    at.button(key="pg_add_layer").click().run()
    at.button(key="pg_add_0").click().run()
    network = sent(at, "network")
    assert network["sizes"] == [2, 5, 2, 4, 1] and network["setup"] == before + 2
    assert at.query_params["hidden"] == "5,2,4"
    assert latest_frame(at)["setup"] == network["setup"] and latest_frame(at)["epoch"] == 0


def test_the_learning_rate_keeps_the_weights_and_the_problem_type_brings_its_data_sets():
    at = playground()
    at.button(key="pg_step").click().run()
    setup = sent(at, "network")["setup"]
    at.selectbox(key="pg_learning_rate").set_value(0.3).run()
    assert sent(at, "network")["setup"] == setup and latest_frame(at)["epoch"] == 1
    at.selectbox(key="pg_problem").set_value("regression").run()
    assert at.radio(key="pg_dataset").value == "reg-plane"
    assert at.radio(key="pg_dataset").options == ["Plane", "Multi-Gaussian"]
    assert at.query_params["dataset"] == "reg-plane" and points_shown(at) == 1200
    assert not at.exception


def test_a_bad_link_value_gets_a_note_and_the_rest_of_the_link_stays():
    at = playground({"dataset": "xor", "noise": "1000", "hidden": "3", "features": "x,x,xTimesY"})
    notes = " ".join(w.value for w in at.warning)
    assert "noise=1000" in notes and "features" in notes
    assert at.radio(key="pg_dataset").value == "xor" and at.slider(key="pg_noise").value == 50
    assert sent(at, "network")["sizes"] == [2, 3, 1]
    assert at.query_params["noise"] == "50" and at.query_params["dataset"] == "xor"
    at.button(key="pg_step").click().run()
    assert not at.warning, "a note is shown once"


def test_the_link_comes_back_after_a_page_switch():
    at = playground({"dataset": "spiral", "optimizer": "adam"})
    at.switch_page("views/draw/page.py").run()
    at.query_params.clear()  # (the browser's address bar on another page)
    at.switch_page(PAGE).run()
    assert at.query_params["dataset"] == "spiral" and at.query_params["optimizer"] == "adam"
    assert at.radio(key="pg_dataset").value == "spiral" and at.radio(key="pg_optimizer").value == "adam"


def test_your_own_points_a_third_class_after_two_trains_and_every_point_is_shown():
    at = playground({"dataset": "custom"})
    assert any("two points" in e.value for e in at.error)
    output = sent(at, "output")
    assert output["pick"] and not output["live"] and points_shown(at) == 0
    session = at.session_state["pg_session"]
    rng = np.random.default_rng(1)
    for point_class in (0, 1):
        for _ in range(4):
            session.add_point(*rng.uniform(-5, 5, 2), point_class)  # as the map's clicks do
    at.run()
    assert at.radio(key="pg_paint_class").options == ["orange", "blue", "class 2"]
    assert points_shown(at) == 8 and sent(at, "output")["showTest"], "test points too: every point is shown"
    at.radio(key="pg_paint_class").set_value(2).run()
    session.add_point(0.0, 0.0, at.session_state["pg_paint_class"])
    at.run()
    at.button(key="pg_step").click().run()
    assert not at.exception and not at.error
    assert sent(at, "output")["classes"] == 3 and latest_frame(at)["epoch"] == 1
    assert at.radio(key="pg_paint_class").options == ["orange", "blue", "class 2", "class 3"]


def test_the_export_describes_the_data_it_trains_on():
    at = playground({"dataset": "gauss", "noise": "20"})
    code = at.code[0].value
    assert "Gaussian, 500 points, noise 20 %" in " ".join(code.split()) and "def page_data" in code
