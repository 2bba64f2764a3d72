"""Draw's "Make it fail" under AppTest: a drawn 7 made to read as another digit, the change shown,
the other networks asked; a budget of 0, an empty canvas, an untrained or still-training network
each get a clear message, in "A look inside" too. (The canvas is stood in for, as in test_draw_page.py.)"""
from __future__ import annotations


import core.training.jobs
from core.data import load_mnist
from tests.pages.test_draw_page import SETTINGS, canvas, drawn, open_draw  # noqa: F401 (fixture)

SECTION = "Make it fail"


def messages(at) -> str:
    return " ".join(e.value for e in list(at.info) + list(at.warning) + list(at.error) + list(at.success))


def show_section(at) -> None:
    at.button_group(key="draw_section").set_value(SECTION).run()
    assert not at.exception, at.exception


def test_untrained_and_still_training_networks_are_explained(canvas, fresh_manager):  # noqa: F811
    slow = {"dense2019": {"epochs": 30}}  # long enough to be caught while it trains
    at = open_draw(settings=slow)
    at.multiselect[0].set_value(["dense2019"]).run()
    canvas.image = drawn(load_mnist().x_test[0])
    at.run()
    show_section(at)
    assert "Train 2019 dense net first" in messages(at)
    job = core.training.jobs.get_manager().request("digits", {"arch": "dense2019", "epochs": 30})
    try:
        at.run()
        assert not at.exception, at.exception
        assert "2019 dense net is still training" in messages(at)
        assert not [b for b in at.button if b.label.startswith("Make it say")]
        at.button_group(key="draw_section").set_value("A look inside").run()
        assert not at.exception, at.exception
        assert "wait for its training to finish" in messages(at)
    finally:
        job.cancel()
        job.wait(60)


def test_a_drawn_seven_is_made_to_read_as_a_one(canvas, fresh_manager):  # noqa: F811
    manager = core.training.jobs.get_manager()
    for arch, settings in [("dense2019", SETTINGS["dense2019"]), ("keras2020_mlp", {"epochs": 1, "train_limit": 3000})]:
        job = manager.request("digits", {"arch": arch, **settings})
        assert job.wait(300) and job.status == "done", job.error
    at = open_draw(settings={**SETTINGS, "keras2020_mlp": {"epochs": 1, "train_limit": 3000}})
    at.multiselect[0].set_value(["dense2019", "keras2020_mlp"]).run()
    at.button_group(key="draw_section").set_value("A look inside").run()
    assert "Draw on the canvas to look inside" in messages(at)  # an empty canvas
    show_section(at)
    assert "Draw a digit on the canvas first" in messages(at)

    canvas.image = drawn(load_mnist().x_test[0])  # a 7
    at.run()
    assert "reads your drawing as 7" in " ".join(c.value for c in at.caption)
    at.button_group(key="draw_attack_target").set_value(1).run()
    at.slider(key="draw_attack_budget_linf").set_value(0.0).run()
    next(b for b in at.button if b.label == "Make it say 1").click().run()
    assert not at.exception, at.exception
    assert "A budget of 0 allows no change at all" in messages(at)

    at.slider(key="draw_attack_budget_linf").set_value(0.3).run()
    next(b for b in at.button if b.label == "Make it say 1").click().run()
    assert not at.exception, at.exception
    assert "2019 dense net now reads **1**" in messages(at), messages(at)
    captions = [image.caption for element in at.get("image") for image in element.proto.imgs]
    assert any(c.startswith("your drawing (7) · the change, amplified: full blue = +") and
               c.endswith("the changed drawing (1)") for c in captions), captions
    assert [m.label for m in at.metric if m.label == "2020 Keras MLP"], "the other network read the change"

    # Results belong to their drawing: a new drawing asks for a new search.
    canvas.image = drawn(load_mnist().x_test[1])
    at.run()
    assert "2019 dense net now reads" not in messages(at)
