"""Every page shows the trainings this session started elsewhere, while they run and once how they
ended, each with a link to its page; seen finished on its own page, a training is forgotten."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import core.training.jobs
from tests import fake_kind


@pytest.fixture
def fake(monkeypatch, fresh_manager):
    kind = fake_kind.FakeKind()
    monkeypatch.setattr(fake_kind, "KIND", kind)
    monkeypatch.setitem(core.training.jobs.KINDS, "fake", "tests.fake_kind:KIND")
    return kind


def two_pages():
    """A stand-in for app.py: the panel, then "draw" (a training widget) or "text" (nothing),
    whichever ``st.session_state.page`` names."""
    import streamlit as st

    from views import keys
    from views.state import trainings_panel
    from views.training_widget import training_widget

    def draw():
        training_widget("fake", {"size": 3}, "fake-train")

    def text():
        st.write("the text page")

    here = st.session_state.get("page", "draw")
    pages = {"draw": st.Page(draw, title="Draw", url_path="draw"), "text": st.Page(text, title="Text", url_path="text")}
    st.navigation([st.Page(lambda: None, title="Home", default=True), *pages.values()])  # the links' targets
    st.session_state[keys.CURRENT_PAGE] = here
    trainings_panel(pages)
    {"draw": draw, "text": text}[here]()


def panel_lines(at) -> list[str]:
    return [p.proto.text for p in at.get("progress")] + [m.value for m in at.markdown]


def test_a_training_started_on_one_page_shows_on_the_others_until_seen(fake):
    fake.gate.clear()
    at = AppTest.from_function(two_pages, default_timeout=30)
    at.query_params["limit"] = "3000"  # a setting of the page that trained, in its URL
    at.run()
    at.button(key="fake-train").click().run()
    assert fake.started.wait(5)
    at.session_state["page"] = "text"
    at.run()
    assert not at.exception, at.exception
    lines = panel_lines(at)
    assert any("Fake model of size 3" in line and "step 0/3" in line for line in lines), lines
    links = at.get("page_link")
    assert [link.proto.label for link in links] == ["Open Draw"]
    assert links[0].proto.query_string == "limit=3000", "the link back keeps the page's URL settings"
    fake.gate.set()
    assert core.training.jobs.get_manager().jobs()[0].wait(5)
    at.run()
    assert "**Fake model of size 3** finished." in panel_lines(at), panel_lines(at)
    at.session_state["page"] = "draw"  # its own page shows the model: seen, forgotten
    at.run()
    assert not at.get("page_link") and not at.get("progress")
    at.session_state["page"] = "text"
    at.run()
    assert not at.get("page_link") and [m.value for m in at.markdown] == ["the text page"], \
        "a seen training is not shown again"
    assert not at.exception


def test_nothing_started_shows_nothing(fake):
    at = AppTest.from_function(two_pages, default_timeout=30)
    at.session_state["page"] = "text"
    at.run()
    assert not at.get("page_link") and not at.get("progress") and not at.exception
