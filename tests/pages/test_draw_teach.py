"""Draw's "Teach it your handwriting" under AppTest: a click labels a reading, sets travel as .npz and bad
files change nothing, fine-tuning adds a network beside its base (the canvas is stood in for, as in
test_draw_page.py)."""
from __future__ import annotations

import io

import numpy as np
from streamlit.testing.v1 import AppTest

import core.training.jobs
from core.data import load_mnist
from tests.pages.test_draw_page import SETTINGS, canvas, drawn, open_draw, prediction, trained_page  # noqa: F401 (fixture)


def teach_page(canvas, monkeypatch=None) -> AppTest:  # noqa: F811
    at = trained_page(canvas)
    canvas.image = drawn(load_mnist().x_test[0])  # a 7
    at.run()
    assert not at.exception, at.exception
    return at


def collected(at: AppTest):
    from views.draw.teach import DRAWINGS

    return at.session_state[DRAWINGS] if DRAWINGS in at.session_state else None


def test_one_click_keeps_a_reading_labelled_and_clears_the_canvas(canvas, fresh_manager):  # noqa: F811
    at = teach_page(canvas)
    said = prediction(at)
    instance = canvas.instances[-1]
    next(b for b in at.button if b.label == f"Right, it is a {said}").click().run()
    assert not at.exception, at.exception
    assert list(collected(at).labels) == [int(said)] and canvas.instances[-1] == instance + 1
    canvas.image = drawn(load_mnist().x_test[1])  # a 2, labelled by the pills as something else
    at.run()
    at.button_group(key="draw_label").set_value("3").run()
    assert not at.exception, at.exception
    assert list(collected(at).labels) == [int(said), 3]
    assert not [group for group in at.button_group if group.key == "draw_label"]  # a fresh canvas: no reading

    at.button_group(key="draw_section").set_value("Your handwriting").run()
    assert not at.exception, at.exception
    shown = " ".join(i.value for i in at.info)
    assert "draw 18 more" in shown, shown
    assert "2 drawings, newest first" in " ".join(c.value for c in at.caption)
    at.button(key="draw_remove_0").click().run()
    assert list(collected(at).labels) == [3]


def test_sets_come_and_go_as_npz_and_bad_files_change_nothing(canvas, fresh_manager):  # noqa: F811
    from core.digits.handwriting import DrawingSet

    at = open_draw()
    at.session_state["draw_drawings"] = DrawingSet().add(np.zeros((28, 28)), 4)
    at.run()
    at.button_group(key="draw_section").set_value("Your handwriting").run()
    foreign = io.BytesIO()
    np.savez(foreign, weights=np.zeros(3))
    at.file_uploader(key="draw_set_upload").set_value(("class.npz", foreign.getvalue(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert any("class.npz: That file holds weights" in e.value for e in at.error), [e.value for e in at.error]
    assert list(collected(at).labels) == [4]  # nothing lost
    good = DrawingSet().add(np.ones((28, 28)) * 0.5, 7).add(np.zeros((28, 28)), 4)
    at.file_uploader(key="draw_set_upload").set_value(("class.npz", good.to_npz(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert list(collected(at).labels) == [4, 7]  # the 4 was already there
    assert any(b.label == "Download the set (.npz)" for b in at.get("download_button"))


def test_fine_tuning_on_drawings_adds_a_network_beside_its_base(canvas, fresh_manager):  # noqa: F811
    from core.digits.handwriting import DrawingSet
    from core.digits.preprocess import preprocess
    from tools.strokes import drawings

    manager = core.training.jobs.get_manager()
    base = manager.request("digits", {"arch": "dense2019", **SETTINGS["dense2019"]})
    assert base.wait(300) and base.status == "done", base.error
    images, labels = drawings(3, seed=4, mirror=True)
    at = open_draw()
    at.multiselect[0].set_value(["dense2019"]).run()
    at.session_state["draw_drawings"] = DrawingSet(np.stack([preprocess(i).digit for i in images]), labels)
    at.button_group(key="draw_section").set_value("Your handwriting").run()
    fine_tune = next(b for b in at.button if b.label == "Fine-tune 2019 dense net on my 30 drawings")
    fine_tune.click().run()
    assert not at.exception, at.exception
    job = next(j for j in manager.jobs() if j.kind == "digits_finetune")
    assert job.wait(300) and job.status == "done", job.error
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Your 10 held-out drawings"].endswith("%") and "MNIST's 10,000 test digits" in metrics
    assert any("every third drawing of each digit (10 of 30)" in c.value for c in at.caption)
    options = at.multiselect[0].options
    assert options.index("2019 dense net + your handwriting (30 drawings)") == options.index("2019 dense net") + 1
    next(b for b in at.button if b.label == "Read with 2019 dense net + your handwriting").click().run()
    assert not at.exception, at.exception
    assert at.multiselect[0].value[0] == f"tuned:{job.key}"
    canvas.image = drawn(load_mnist().x_test[0])
    at.run()
    assert prediction(at) in list("0123456789")
    assert any(c.value.startswith("2019 dense net + your handwriting (30 drawings) · confidence") for c in at.caption)


def test_fine_tuning_waits_for_its_base_and_for_enough_drawings(canvas, fresh_manager):  # noqa: F811
    at = open_draw(settings={})  # the Fast CNN, not trained
    at.button_group(key="draw_section").set_value("Your handwriting").run()
    assert not at.exception, at.exception
    assert any("Fast CNN is not trained yet, or still training" in i.value for i in at.info)
    assert any("No drawings yet" in i.value for i in at.info)
