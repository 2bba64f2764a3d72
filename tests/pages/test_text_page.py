"""The Text page under AppTest: corpus facts, bad pasted text, train, generate, look inside."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TEXT = "the quick brown fox jumps over the lazy dog. " * 40


def open_text_page() -> AppTest:
    from views.common import manager

    manager.clear()  # the page's cached manager must be this test's fresh one
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/text/page.py").run()
    assert not at.exception, at.exception
    return at


def train_from_page(at: AppTest, button: str, kind: str) -> None:
    """Press the page's Train button, wait for the training, rerun as the finished panel would."""
    from core.training.jobs import get_manager

    at.button(key=button).click().run()
    jobs = [j for j in get_manager().jobs() if j.kind == kind]
    assert jobs and jobs[0].wait(120) and jobs[0].status == "done", jobs[0].error
    at.run()
    assert not at.exception, at.exception


def test_default_corpus_shows_its_size_and_train_button():
    at = open_text_page()
    assert any(m.label == "Vocabulary" and "65" in m.value for m in at.metric)
    assert any(b.label == "Train" for b in at.button)


def test_pasted_text_trains_generates_and_shows_inside():
    at = open_text_page()
    at.radio(key="text-source").set_value("paste").run()
    at.text_area(key="text-paste").set_value("hi").run()
    assert any("too short" in w.value for w in at.warning), [w.value for w in at.warning]
    at.text_area(key="text-paste").set_value(TEXT).run()
    at.number_input(key="text-window-quick").set_value(16).run()
    at.select_slider(key="text-units-quick").set_value(32).run()
    at.number_input(key="text-steps-quick").set_value(20).run()
    train_from_page(at, "text-train", "charlstm")
    from core.training.jobs import get_manager

    assert any("How it learned" in e.label for e in at.expander)
    at.text_area(key="text-seed").set_value("the quick").run()
    at.number_input(key="text-length").set_value(40).run()
    at.button(key="text-generate").click().run()
    assert not at.exception, at.exception
    texts = [c.value for c in at.code]
    assert any(t.startswith("the quick") and len(t) == len("the quick") + 40 for t in texts)
    assert at.number_input(key="text-unit") is not None
    at.button(key="text-more").click().run()
    continued = [j for j in get_manager().jobs() if "continued" in j.title]
    assert continued and continued[0].wait(120) and continued[0].status == "done", continued[0].error
    at.run()
    assert not at.exception, at.exception
    assert any("continued" in c.value for c in at.caption)


def test_tensorflow_datasets_choice_offline_gets_a_plain_message(monkeypatch):
    import core.text.corpus

    monkeypatch.setattr(core.text.corpus, "network_available", lambda *a, **k: False)
    at = open_text_page()
    at.radio(key="text-source").set_value("tfds").run()
    assert not at.exception, at.exception
    assert any("offline" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not any(b.label == "Fetch it" for b in at.button)


def test_sequences_tab_trains_and_plots_its_loss_per_evaluation_not_per_epoch():
    import json

    at = open_text_page()
    at.session_state["text-tab"] = ":material/show_chart: Sequences"
    at.run()
    assert any("Not trained yet" in i.value for i in at.info)
    at.select_slider(key="seq-units").set_value(8).run()
    at.number_input(key="seq-steps").set_value(40).run()
    train_from_page(at, "seq-train", "sequence")
    assert any(m.label == "Forecast error (MSE)" for m in at.metric)
    chart = next(c for c in at.get("plotly_chart") if "seq-loss" in c.proto.id)
    layout = json.loads(chart.proto.spec)["layout"]
    assert layout["xaxis"]["title"]["text"] == "evaluation (every 2 training steps)"  # 40 steps, 20 points
