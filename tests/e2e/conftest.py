"""End-to-end fixtures: the real app under ``streamlit run``, driven by Playwright in
Debian's Chromium. Every test module shares one server; screenshots go to
``tests/e2e/screenshots/``.

Without Chromium the tests skip with a loud reason, except under ``CI=true``, where
a missing browser is a failure (CI must run them).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        reason = ("NO CHROMIUM FOUND: end-to-end browser tests SKIPPED. "
                  "Install Debian's package 'chromium' or set CHROMIUM_PATH.")
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " Under CI=true this is a failure.")
        pytest.skip(reason)
    return path


class AppServer:
    def __init__(self, port: int, cache: Path, process: subprocess.Popen, log: Path):
        self.port, self.cache, self.process, self.log = port, cache, process, log
        self.url = f"http://127.0.0.1:{port}"


def start_app(cache: Path, extra_env: dict | None = None) -> AppServer:
    port = free_port()
    log = cache / "streamlit.log"
    env = {**os.environ, "DLP_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return AppServer(port, cache, process, log)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"streamlit did not start in 60 s:\n{log.read_text()}")


def stop_app(server: AppServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def app_server(chromium, tmp_path_factory):
    server = start_app(tmp_path_factory.mktemp("e2e-cache"))
    yield server
    stop_app(server)


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh, empty --user-data-dir of its own.
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.app_url = app_server.url  # type: ignore[attr-defined]
    yield page
    context.close()


def open_page(page, path: str = "", wait_for_text: str | None = None):
    """Go to a page of the app (``""`` for home, else e.g. ``"draw"``) and wait until it has run."""
    page.goto(f"{page.app_url}/{path}")
    if wait_for_text:
        page.get_by_text(wait_for_text, exact=False).first.wait_for()
    wait_until_idle(page)


def wait_until_idle(page, timeout: float = 30.0) -> None:
    """Wait until Streamlit reports no script running."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    deadline = time.time() + timeout
    while time.time() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').filter(has_text="Running")
        if running.count() == 0:
            time.sleep(0.3)
            if running.count() == 0:
                return
        time.sleep(0.1)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
