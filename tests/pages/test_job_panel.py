"""The shared training widget and its panel: Train, progress, Cancel that really cancels, errors in
words, Train again, and the line for a model that came bundled with the app."""
from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

import core.training.jobs


def panel_script():
    import streamlit as st

    from core.training.jobs import get_manager
    from views.training_widget import job_panel

    config = st.session_state.get("config", {"size": 3})
    manager = get_manager()
    job = manager.find("fake", config) or manager.request("fake", config)
    job_panel(job, key="fake")
    st.write(f"status: {job.status}")


def test_running_job_shows_progress_and_cancel_cancels_it(fake):
    fake.gate.clear()
    at = AppTest.from_function(panel_script, default_timeout=30).run()
    assert fake.started.wait(5)
    at.run()
    assert not at.exception
    assert any("step 0/3" in p.proto.text for p in at.get("progress"))
    cancel = [b for b in at.button if b.label == "Cancel training"]
    assert cancel, "a running job offers Cancel"
    cancel[0].click().run()
    job = core.training.jobs.get_manager().jobs()[-1]
    assert job.wait(5) and job.status == "cancelled"
    fake.gate.set()


def test_after_the_last_step_the_panel_says_what_the_training_does_instead_of_a_time_left(fake):
    """Issue 30 item 6: evaluating and saving take seconds after the last step; the panel says so."""
    fake.finish_gate.clear()
    at = AppTest.from_function(panel_script, default_timeout=30).run()
    job = core.training.jobs.get_manager().jobs()[-1]
    deadline = time.monotonic() + 10
    while job.progress.phase != "Measuring the fake accuracy…" and time.monotonic() < deadline:
        time.sleep(0.02)
    at.run()
    texts = [p.proto.text for p in at.get("progress")]
    assert texts and texts[0].startswith("Measuring the fake accuracy… (") and "elapsed" in texts[0]
    assert not any("left" in text for text in texts)
    fake.finish_gate.set()
    assert job.wait(5) and job.status == "done"


def test_failed_job_shows_its_message(fake):
    at = AppTest.from_function(panel_script, default_timeout=30)
    at.session_state["config"] = {"size": 2, "fail": True}
    at.run()
    job = core.training.jobs.get_manager().jobs()[-1]
    job.wait(5)
    at.run()
    assert any("told to fail" in e.value for e in at.error)
    assert not at.exception


def picker_script():
    import streamlit as st

    from views.common import image_dataset_picker

    st.write(f"chosen: {image_dataset_picker('data')}")


def test_offline_dataset_choice_says_so_and_uses_mnist(monkeypatch):
    import core.data

    monkeypatch.setattr(core.data, "network_available", lambda *a, **k: False)
    at = AppTest.from_function(picker_script, default_timeout=30).run()
    assert at.markdown[-1].value == "chosen: mnist" and not at.warning
    at.selectbox(key="data").select("fashion_mnist").run()
    assert "offline" in at.warning[0].value and "MNIST" in at.warning[0].value
    assert at.markdown[-1].value == "chosen: mnist"


def test_a_job_already_done_does_not_rerun_the_page(fake):
    from core.training.jobs import get_manager

    job = get_manager().request("fake", {"size": 3})
    assert job.wait(5)
    at = AppTest.from_function(panel_script, default_timeout=10).run()
    assert not at.exception
    assert at.markdown[-1].value == "status: done"
    at.run()  # a rerun loop would time out here
    assert at.markdown[-1].value == "status: done"


def widget_script():
    import streamlit as st

    from views.training_widget import training_widget

    job = training_widget("fake", st.session_state.get("config", {"size": 3}), "fake-train",
                          heading="Fake is not trained yet", not_trained="Not trained yet.")
    st.write(f"status: {job.status if job else 'never trained'}")


def test_widget_trains_shows_progress_then_reports_the_model(fake, fresh_manager):
    fake.gate.clear()
    at = AppTest.from_function(widget_script, default_timeout=30).run()
    assert at.markdown[-1].value == "status: never trained"
    assert any(i.value == "Not trained yet." for i in at.info)
    at.button(key="fake-train").click().run()
    assert fake.started.wait(5)
    at.run()
    assert at.markdown[-1].value == "status: running"
    assert any(b.label == "Cancel training" for b in at.button) and not at.info
    fake.gate.set()
    job = core.training.jobs.get_manager().jobs()[0]
    assert job.wait(5) and job.status == "done"
    at.run()
    assert at.markdown[-1].value == "status: done"
    assert not at.button and not at.info, "a trained model needs no Train button"
    assert not at.exception


def test_widget_after_a_failure_says_why_and_offers_train_again(fake, fresh_manager):
    at = AppTest.from_function(widget_script, default_timeout=30)
    at.session_state["config"] = {"size": 2, "fail": True}
    at.run()
    at.button(key="fake-train").click().run()
    job = core.training.jobs.get_manager().jobs()[-1]
    assert job.wait(5) and job.status == "failed"
    at.run()
    assert any("told to fail" in e.value for e in at.error)
    assert at.button(key="fake-train").label == "Train again"
    at.button(key="fake-train").click().run()
    # The new training runs in a worker thread: wait for it to end before counting (on a loaded CI
    # machine it had not started yet when the click's run returned).
    again = core.training.jobs.get_manager().jobs()[0]
    assert again is not job, "Train again starts a new job"
    assert again.wait(5) and again.status == "failed"
    assert fake.trainings == 2, "Train again trains anew"
    assert not at.exception


def test_bundled_model_says_so_and_can_be_trained_yourself(fake, fresh_manager):
    """A model installed with the app carries "bundled" in its record.json: the widget says so and
    offers to train one here instead (the bundling itself is another part of the app)."""
    manager = core.training.jobs.get_manager()
    config, key = manager.key_for("fake", {"size": 3})
    manager.store.put(key, {"weights": [0, 1, 2]}, {
        "kind": "fake", "config": config,
        "bundled": {"test_accuracy": 0.9712, "note": "Trained when the app was packaged."}, "duration_s": 9249.6},
        fake.save)
    at = AppTest.from_function(widget_script, default_timeout=30).run()
    assert at.markdown[-1].value == "status: done"
    line = next(c for c in at.caption if c.value.startswith("Bundled model"))
    assert line.value == "Bundled model (test accuracy 97.1 %) — train it yourself (building it took about 2½ hours)"
    assert fake.trainings == 0
    fake.gate.clear()
    at.button(key="fake-train-yourself").click().run()
    assert fake.started.wait(5)
    at.run()
    headings = [h.value for h in at.subheader]
    assert "Training it yourself" in headings and "Fake is not trained yet" not in headings
    fake.gate.set()
    job = manager.jobs()[0]
    assert job.wait(5) and job.status == "done" and fake.trainings == 1
    at.run()
    assert not any(c.value.startswith("Bundled model") for c in at.caption), "now it is your own model"
    assert not at.exception


def test_a_cancelled_training_is_no_error_and_offers_train(fake, fresh_manager):
    fake.gate.clear()
    at = AppTest.from_function(widget_script, default_timeout=30).run()
    at.button(key="fake-train").click().run()
    assert fake.started.wait(5)
    at.run()
    next(b for b in at.button if b.label == "Cancel training").click().run()
    job = core.training.jobs.get_manager().jobs()[0]
    assert job.wait(5) and job.status == "cancelled"
    fake.gate.set()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert any("cancelled" in i.value and "settings are kept" in i.value for i in at.info)
    assert at.button(key="fake-train").label == "Train"  # not "again": nothing went wrong
    assert not at.exception


def test_curves_count_epochs_in_whole_numbers_with_the_legend_under_the_plot():
    from views.training_widget import history_figure, whole_tick_step

    history = [{"epoch": 1, "loss": 0.5, "val_loss": 0.6}, {"epoch": 2, "loss": 0.3, "val_loss": 0.4}]
    figure = history_figure(history)
    assert figure.layout.xaxis.dtick == 1 and figure.layout.xaxis.tick0 == 0  # no tick at 0.5 or 1.5
    assert figure.layout.legend.y < 0 and figure.layout.legend.yanchor == "top"  # under the plot
    assert [whole_tick_step(n) for n in (3, 9, 40, 41, 150, 5000)] == [1, 2, 5, 10, 20, 1000]
