"""Start the real app under ``streamlit run``, find Debian's Chromium, wait for a page to be idle.

Shared by the end-to-end tests, the browser benchmarks and the deploy checks.
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

REPO = Path(__file__).resolve().parent.parent
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


class AppServer:
    def __init__(self, port: int, cache: Path, process: subprocess.Popen, log: Path, started: float):
        self.port, self.cache, self.process, self.log, self.started = port, cache, process, log, started
        self.url = f"http://127.0.0.1:{port}"


def start_app(cache: Path, script: Path = REPO / "app.py", extra_env: dict | None = None,
              wait: bool = True) -> AppServer:
    """Launch ``streamlit run script`` on a free loopback port with its own cache."""
    cache.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = cache / "streamlit.log"
    env = {**os.environ, "DLP_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
    )
    server = AppServer(port, cache, process, log, started)
    if wait:
        wait_healthy(server)
    return server


def wait_healthy(server: AppServer, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    server.process.kill()
    raise RuntimeError(f"streamlit did not start in {timeout:.0f} s:\n{server.log.read_text()}")


def stop_app(server: AppServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)


#: True while Streamlit's status widget says a script runs: "Running…" at desktop width; on a phone
#: only its "Stop" button shows.
RUNNING_JS = """() => { const w = document.querySelector('[data-testid="stStatusWidget"]');
                        return !!w && /Running|Stop/.test(w.innerText); }"""


def wait_until_idle(page, timeout: float = 30.0) -> None:
    """Wait until Streamlit reports no script running in this browser page, twice 0.3 s apart (a
    rerun can follow the one that just ended)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not page.evaluate(RUNNING_JS):
            time.sleep(0.3)
            if not page.evaluate(RUNNING_JS):
                return
        time.sleep(0.1)
