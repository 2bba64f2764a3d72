"""Corpora: the bundled ones, and every way a user's text can be unusable."""
from __future__ import annotations

import pytest

from core.text import corpus
from core.errors import BadInput, UnknownDataset


def test_builtin_corpora_load_and_describe():
    assert set(corpus.builtin_corpora()) >= {"tinyshakespeare", "python_docs"}
    text = corpus.load_text("tinyshakespeare")
    info = corpus.describe(text)
    assert info["chars"] > 1_000_000 and 30 < info["vocab_size"] < 100
    assert info["sample"].startswith("First Citizen")


def test_user_text_round_trips_through_the_cache():
    text = "Grüße 😀 from a pasted text.\r\nSecond line. " * 5
    name = corpus.register_text(text)
    assert name.startswith("text-") and name == corpus.register_text(text)
    assert corpus.load_text(name) == text.replace("\r\n", "\n")
    with pytest.raises(UnknownDataset):
        corpus.load_text("text-0000000000000000")


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("café".encode("latin-1"), "UTF-8"),
])
def test_bad_uploads_say_why(data, words):
    with pytest.raises(BadInput, match=words):
        corpus.decode_upload(data)


def test_upload_utf8_with_bom_and_emoji():
    assert corpus.decode_upload("\ufeffhello 😀".encode("utf-8")) == "hello 😀"


def test_bad_texts_say_why(monkeypatch):
    with pytest.raises(BadInput, match="empty"):
        corpus.check_text("   \n ")
    with pytest.raises(BadInput, match="shorter than one training window"):
        corpus.check_text("short text", window=50)
    monkeypatch.setattr(corpus, "MAX_BYTES", 1000)
    with pytest.raises(BadInput, match="limit"):
        corpus.check_text("x" * 2000)
    with pytest.raises(BadInput, match="limit"):
        corpus.decode_upload(b"x" * 2000)


def test_tensorflow_datasets_text_offline_says_so_and_loses_nothing(tmp_path, monkeypatch):
    import core.text.corpus as corpus
    from core.errors import DatasetUnavailable

    monkeypatch.setenv("DLP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(corpus, "network_available", lambda *a, **k: False)
    problem = corpus.tfds_text_problem("imdb_reviews")
    assert problem and "offline" in problem and "Tiny Shakespeare" in problem
    with pytest.raises(DatasetUnavailable, match="offline"):
        corpus.fetch_tfds_text("imdb_reviews")
    assert "Unknown" in corpus.tfds_text_problem("no_such_set")
    assert corpus.load_text("tinyshakespeare").startswith("First Citizen")  # the bundle still works
