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
    at.radio(key="text_source").set_value("paste").run()
    at.text_area(key="text_paste").set_value("hi").run()
    assert any("too short" in w.value for w in at.warning), [w.value for w in at.warning]
    at.text_area(key="text_paste").set_value(TEXT).run()
    at.radio(key="text_preset").set_value("Quick").run()
    at.number_input(key="text_window_quick").set_value(16).run()
    at.select_slider(key="text_units_quick").set_value(32).run()
    at.number_input(key="text_steps_quick").set_value(20).run()
    train_from_page(at, "text_train", "charlstm")
    from core.training.jobs import get_manager

    assert any("How it learned" in e.label for e in at.expander)
    at.text_area(key="text_seed").set_value("the quick").run()
    at.number_input(key="text_length").set_value(40).run()
    at.button(key="text_generate").click().run()
    assert not at.exception, at.exception
    texts = [c.value for c in at.code]
    assert any(t.startswith("the quick") and len(t) == len("the quick") + 40 for t in texts)
    # Every gate of a unit at every character of the sample, and the unit can be picked by number.
    assert at.number_input(key="text_unit_input") is not None
    assert any("Unit" in m.value and "layer 1" in m.value for m in at.markdown)
    at.number_input(key="text_unit_input").set_value(3).run()
    assert not at.exception, at.exception
    assert any("**Unit 3, layer 1**" in m.value for m in at.markdown)
    # The finder waits to be asked before the model reads the corpus passage (seconds for a big model,
    # which would hold up the page's first Generate), then ranks for the pattern shown.
    assert any(b.label == "Rank the units" for b in at.button) and len(at.dataframe) == 0
    at.button(key="text_find_go").click().run()
    assert not at.exception and len(at.dataframe) == 1 and len(at.dataframe[0].value) == 10
    # The finder: a described pattern ranks units; bad patterns get a message, not a traceback.
    at.selectbox(key="text_find_kind").set_value("regex").run()
    at.text_input(key="text_find_regex").set_value("the").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = next(d for d in at.dataframe)
    assert len(table.value) == 10 and "separation (held out)" in table.value.columns
    for bad, words in (("(the", "does not compile"), ("zzz", "matches nothing"), ("(?s).", "every character")):
        at.text_input(key="text_find_regex").set_value(bad).run()
        assert not at.exception and any(words in e.value for e in at.error), [e.value for e in at.error]
    # An empty or one-character selection of the shown text (what a drag or two taps leave in
    # text_span: start, end, the text they were made on) gets a sentence, not a ranking.
    sample_text = next(t for t in texts if t.startswith("the quick") and len(t) == len("the quick") + 40)
    at.selectbox(key="text_find_kind").set_value("selection").run()
    for span, words in (((3, 3), "Select at least two"), ((4, 5), "One character")):
        at.session_state["text_span"] = (*span, sample_text)
        at.run()
        assert not at.exception and any(words in e.value for e in at.error), [e.value for e in at.error]
        assert len(at.dataframe) == 0
    # Gate statistics, said in sentences from the numbers.
    at.toggle(key="text_stats_show").set_value(True).run()
    assert not at.exception, at.exception
    assert any("keeps half of its cell for" in m.value for m in at.markdown)
    # A 1 MB pasted text: a clear message, the gates for its first 2,000 characters.
    at.radio(key="text_inside_source_2").set_value("own").run()
    at.text_area(key="text_own").set_value("the cat " * 131_072).run()
    assert not at.exception, at.exception
    assert any("1,048,576 characters" in i.value and "first 2,000" in i.value for i in at.info)
    assert any(c.value.startswith("Training it took ") and "more take about as long" in c.value for c in at.caption)
    at.button(key="text_more").click().run()
    continued = [j for j in get_manager().jobs() if "continued" in j.title]
    assert continued and continued[0].wait(120) and continued[0].status == "done", continued[0].error
    at.run()
    assert not at.exception, at.exception
    assert any("continued" in c.value for c in at.caption)


def test_tensorflow_datasets_choice_offline_gets_a_plain_message(monkeypatch):
    import core.text.corpus

    monkeypatch.setattr(core.text.corpus, "network_available", lambda *a, **k: False)
    at = open_text_page()
    at.radio(key="text_source").set_value("tfds").run()
    assert not at.exception, at.exception
    assert any("offline" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not any(b.label == "Fetch it" for b in at.button)


def test_sequences_tab_trains_and_plots_its_loss_per_evaluation_not_per_epoch():
    import json

    at = open_text_page()
    at.session_state["text_tab"] = ":material/show_chart: Sequences"
    at.run()
    assert any("Not trained yet" in i.value for i in at.info)
    at.select_slider(key="text_seq_units").set_value(8).run()
    at.number_input(key="text_seq_steps").set_value(40).run()
    train_from_page(at, "text_seq_train", "sequence")
    assert any(m.label == "Forecast error (MSE)" for m in at.metric)
    chart = next(c for c in at.get("plotly_chart") if "text_seq_loss" in c.proto.id)
    layout = json.loads(chart.proto.spec)["layout"]
    assert layout["xaxis"]["title"]["text"] == "evaluation (every 2 training steps)"  # 40 steps, 20 points


def test_preset_and_seed_survive_a_page_switch_and_a_reload():
    at = open_text_page()
    at.radio(key="text_preset").set_value("Custom").run()
    at.number_input(key="text_train_seed").set_value(7).run()
    at.number_input(key="text_steps_custom").set_value(33).run()
    at.switch_page("views/draw/page.py").run()
    at.switch_page("views/text/page.py").run()
    assert at.radio(key="text_preset").value == "Custom"
    assert at.number_input(key="text_train_seed").value == 7 and at.number_input(key="text_steps_custom").value == 33
    # A reload is a new session: the URL (the widgets write their values into it in the browser;
    # tests/e2e/test_navigation_e2e.py sees that) brings the same settings back.
    from views.common import manager

    manager.clear()
    again = AppTest.from_file(APP, default_timeout=180)
    again.query_params.update({"text_preset": "Custom", "text_train_seed": "7", "text_steps_custom": "33"})
    again.run()
    again.switch_page("views/text/page.py").run()
    assert not again.exception, again.exception
    assert again.radio(key="text_preset").value == "Custom"
    assert again.number_input(key="text_train_seed").value == 7
    assert again.number_input(key="text_steps_custom").value == 33


def test_a_training_still_running_with_other_settings_is_shown_and_brought_back():
    from core.training.jobs import get_manager

    at = open_text_page()
    at.radio(key="text_source").set_value("paste").run()
    at.text_area(key="text_paste").set_value(TEXT).run()
    at.radio(key="text_preset").set_value("Quick").run()
    at.number_input(key="text_window_quick").set_value(16).run()
    at.select_slider(key="text_units_quick").set_value(32).run()
    at.number_input(key="text_steps_quick").set_value(50_000).run()  # runs until cancelled below
    at.button(key="text_train").click().run()
    job = next(j for j in get_manager().jobs() if j.kind == "charlstm")
    try:
        at.radio(key="text_preset").set_value("Custom").run()  # other settings: that training is not theirs
        assert not at.exception, at.exception
        assert any("still running with other settings" in c.value for c in at.caption)
        assert any(p.text and job.title in p.text for p in at.get("progress")), [p.text for p in at.get("progress")]
        next(b for b in at.button if b.label == "Show it").click().run()
        assert not at.exception, at.exception
        assert at.radio(key="text_preset").value == "Quick"
        assert at.number_input(key="text_steps_quick").value == 50_000
        assert at.select_slider(key="text_units_quick").value == 32
        assert not any("still running with other settings" in c.value for c in at.caption)
    finally:
        job.cancel()
        job.wait(60)
