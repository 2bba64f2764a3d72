"""Shared fixtures and markers. Every test gets its own model store and runs folder, so nothing leaks
between tests or into the user's real cache; ``fake`` registers a model kind that trains without
TensorFlow. Markers: ``services`` for the tests that start redis-server and worker processes
(tests/test_distributed*.py, tests/test_faults.py), ``slow`` for the tests listed in
tests/slow_tests.txt (measured by ``python -m tools.slow_tests``); the contributors' fast loop
leaves both out, and ``e2e`` (tests/e2e/conftest.py). ``chromium`` and ``browser``: one headless
Chromium per pytest process, for every browser test."""
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


SLOW_TESTS = REPO / "tests" / "slow_tests.txt"
SERVICES = ("test_distributed", "test_faults")


def pytest_collection_modifyitems(config, items):
    lines = SLOW_TESTS.read_text(encoding="utf-8").splitlines() if SLOW_TESTS.exists() else []
    slow = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    for item in items:
        if item.nodeid in slow:
            item.add_marker(pytest.mark.slow)
        if Path(str(item.fspath)).name.startswith(SERVICES):
            item.add_marker(pytest.mark.services)


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


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium. Without it the browser tests skip with a loud reason, except under ``CI=true``,
    where a missing browser is a failure (CI must run them)."""
    from tools.browser import chromium_path

    path = chromium_path()
    if path is None:
        reason = ("NO CHROMIUM FOUND: end-to-end browser tests SKIPPED. "
                  "Install Debian's package 'chromium' or set CHROMIUM_PATH.")
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " Under CI=true this is a failure.")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    """One Chromium for the whole pytest process. Playwright's sync API runs an event loop for as long as
    it is open, and a second ``sync_playwright()`` in the same process refuses to start inside it: every
    browser test (tests/e2e/ and beside it) takes its contexts from this one."""
    from playwright.sync_api import sync_playwright

    from tools.browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh, empty --user-data-dir of its own.
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
