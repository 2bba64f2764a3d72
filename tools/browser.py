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


#: True while a script (or a fragment) runs in this page, or before its first run: the app's own
#: ``data-test-script-state`` ("initial", "running", "rerunRequested", "stopRequested", "notRunning",
#: "compilationError"), set as soon as the server says a run started. Not the status widget: it shows
#: "Running…"/"Stop" only once a run has lasted 500 ms, so a check 0.3 s after a click saw nothing
#: and returned while the run went on.
RUNNING_JS = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return !!app && ['initial', 'running', 'rerunRequested', 'stopRequested']
    .includes(app.getAttribute('data-test-script-state')); }"""


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


#: What the page's layout looks like, as one string (checked by steady on every animation
#: frame): the viewport, the main container's size and every Plotly chart's drawn size. Plotly
#: redraws to a new width some time after a resize; this waits for that instead of a fixed pause.
_LAYOUT_SIGNATURE = """(() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const plots = [...document.querySelectorAll('.js-plotly-plot')].map(p => {
    const svg = p.querySelector('.main-svg');
    return `${p.offsetWidth}x${p.offsetHeight}/${svg ? svg.getAttribute('width') : ''}`; });
  return [innerWidth, innerHeight, main.scrollWidth, main.scrollHeight, ...plots].join(',');
})()"""


def settled(page, quiet_ms: int = 300, timeout_ms: int = 15_000) -> bool:
    """Wait until the page's layout (sizes, Plotly charts' drawn widths) stays the same for
    ``quiet_ms``; False if it was still changing after ``timeout_ms``."""
    return steady(page, _LAYOUT_SIGNATURE, quiet_ms, timeout_ms)


def steady(page, expression: str, quiet_ms: int = 500, timeout_ms: int = 15_000) -> bool:
    """Wait until the JavaScript ``expression`` (e.g. a counter's text) keeps one value for ``quiet_ms``;
    False if it still changed after ``timeout_ms``."""
    return page.evaluate("""([expression, quiet, timeout]) => new Promise(resolve => {
      const read = () => String(eval(expression));
      const start = performance.now();
      let last = read(), since = start;
      const check = now => {
        const current = read();
        if (current !== last) { last = current; since = now; }
        if (now - since >= quiet || now - start >= timeout) resolve(now - since >= quiet);
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    })""", [expression, quiet_ms, timeout_ms])
