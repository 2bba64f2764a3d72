"""Every page renders under AppTest without an exception, and the store's health is shown."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import core.training.jobs

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = ["views/draw/page.py", "views/playground/page.py", "views/text/page.py", "views/embeddings/page.py", "views/runs/page.py"]


def test_home_page_introduces_every_page():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Deep Learning Playground"
    captions = " ".join(c.value for c in at.caption)
    for word in ("Draw a digit", "TensorFlow Playground", "character LSTM", "t-SNE", "TensorBoard"):
        assert word in captions


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(page):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title, f"{page} has no title"


def test_unwritable_cache_is_announced_on_every_page(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("DLP_CACHE_DIR", str(blocker))
    monkeypatch.setattr(core.training.jobs, "_manager", None)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("kept in memory only" in w.value for w in at.warning)


def test_corrupt_store_entry_is_announced(isolated_cache, monkeypatch):
    folder = isolated_cache / "models" / "0123456789abcdef"
    folder.mkdir(parents=True)
    (folder / "record.json").write_text("{ this is not json")
    core.training.jobs.get_manager().store.entries()  # what any page listing models does
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("0123456789abcdef" in i.value and "rebuilt" in i.value for i in at.info)
