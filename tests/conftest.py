"""Shared fixtures. Every test gets its own model store and runs folder, so nothing leaks between
tests or into the user's real cache; ``fake`` registers a model kind that trains without TensorFlow."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The tests start from an empty store ("not trained yet"); tests/test_bundled.py turns the
# ready-made models of assets/defaults/ back on where it tests them.
os.environ["DLP_BUNDLED"] = "0"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("DLP_CACHE_DIR", str(cache))
    import core.training.jobs

    monkeypatch.setattr(core.training.jobs, "_manager", None)  # a fresh manager per test
    return cache


@pytest.fixture
def fake(monkeypatch):
    """The kind ``"fake"`` (tests/fake_kind.py), fresh for this test: its ``trainings`` count, its
    ``gate`` (clear it to hold a training mid-way) and ``started`` event start from scratch."""
    import core.training.jobs
    from tests import fake_kind

    kind = fake_kind.FakeKind()
    monkeypatch.setattr(fake_kind, "KIND", kind)
    monkeypatch.setitem(core.training.jobs.KINDS, "fake", "tests.fake_kind:KIND")
    return kind
