"""Draw's "A look inside" on a CNN under AppTest: the maps' sentences come from the layers, and a
chosen cell (what a click on a map sets) is computed to the value Keras gives that cell.

AppTest runs no JavaScript, so the click itself is the e2e test's; here the pick is put where the
map picker's callback puts it.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import core.training.jobs
from core.data import load_mnist
from tests.pages.test_draw_page import canvas, drawn, open_draw  # noqa: F401 (fixture)

FAST = {"fast_cnn": {"epochs": 1, "train_limit": 2000}}


@pytest.fixture
def inside_page(canvas, fresh_manager):  # noqa: F811 (the fixture imported above)
    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "fast_cnn", **FAST["fast_cnn"]})
    assert job.wait(300) and job.status == "done", job.error
    at = open_draw(settings=FAST)
    canvas.image = drawn(load_mnist().x_test[0])  # a 7
    at.run()
    at.button_group(key="draw_section").set_value("A look inside").run()
    assert not at.exception, at.exception
    return at, job


def shown_numbers(at) -> list[tuple[float, float]]:
    """(by hand, by Keras) from each detail view's closing line."""
    pairs = []
    for box in at.success:
        found = re.findall(r"−?\d+\.\d{4}", box.value)
        pairs.append(tuple(float(v.replace("−", "-")) for v in found))
    return pairs


def test_map_sentences_come_from_the_layers_and_a_unit_is_computed(inside_page):
    at, _ = inside_page
    text = " ".join(m.value for m in at.markdown)
    assert "`conv3` keeps `conv2`'s 6×6 grid (stride 1, no pooling between)" in text
    assert "`conv2`'s grid is coarser than `conv1`'s (12×12 → 6×6: stride 2 in conv2)" in text
    assert "receptive fields `conv1` 5×5, `conv2` 9×9, `conv3` 17×17 pixels" in text
    assert "deeper layers are coarser" not in text
    assert "24 maps of 12×12, after batch normalisation and ReLU" in text

    by_hand, by_keras = shown_numbers(at)[-1]  # the output unit the network picked, by default
    assert by_hand == by_keras
    assert any("The 12 largest contributions" in m.value for m in at.markdown)
    at.selectbox(key="draw_unit_layer").set_value("dense1").run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "2,304 values of `conv3`'s maps (6×6×64, flattened)" in text
    by_hand, by_keras = shown_numbers(at)[-1]
    assert by_hand == by_keras
    assert np.isfinite(by_hand)


def test_a_picked_cell_is_computed_to_the_cells_value(inside_page):
    """One cell per convolution (one page, one trained network: training costs more than looking)."""
    from core.digits.look_inside import reader_for

    at, job = inside_page
    for layer, (channel, row, col) in [("conv1", (5, 0, 11)), ("conv2", (3, 2, 4)), ("conv3", (60, 5, 5))]:
        at.session_state["draw_inside_cell"] = {"model": "fast_cnn", "layer": layer, "map": channel,
                                                "row": row, "col": col}
        at.run()
        assert not at.exception, at.exception
        digit = at.session_state["current_digit"]
        expected = float(reader_for(job.model()).look_inside(digit).feature_maps[layer][row, col, channel])
        heading = f"`{layer}`, map {channel}, row {row}, column {col}"
        assert any(heading in m.value for m in at.markdown), layer
        by_hand, by_keras = shown_numbers(at)[0]
        assert by_hand == by_keras == pytest.approx(expected, abs=1e-4), layer
        steps = " ".join(m.value for m in at.markdown)
        assert f"batch normalisation `bn{layer[-1]}`" in steps and f"ReLU (`relu{layer[-1]}`)" in steps
