"""A web process killed mid-lesson, behind nginx: the course layout as deploy/run_local.sh runs it
(Redis, a worker, two Streamlit processes, nginx with the class's login and sticky sessions), four
Chromium browsers, and SIGKILL for the process serving the one that is training a network.

What must hold: run_local.sh starts the killed process again and says which and why; every browser
reconnects (nginx sends the killed process's ones to another) and reads a new drawing, with its
pictures, also once the killed process is back (nginx keeps a moved browser with its new process);
a page that lost its session says so; the training it asked for carries on in the worker and
appears when done.
Bounded in time, and it stops everything it started.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from tests.distributed_cluster import installed, redis_server_path, wait_until
from tools.browser import free_port, wait_until_idle
from tools.drive import PREDICTED_JS, canvas_box, clear, one, prediction, seven, stroke

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "tests" / "e2e" / "screenshots"
MOVED = "reconnected to another server process"
pytestmark = pytest.mark.e2e


def two_free_ports() -> int:
    """A port p with p + 1 free too (run_local.sh numbers its web processes from FIRST_PORT)."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and free_port_is(port + 1):
            return port
    raise RuntimeError("no two consecutive free ports")


def free_port_is(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture
def course(tmp_path):
    """deploy/run_local.sh 2 1 on free ports, with its own secrets, store (the bundled models) and logs."""
    redis_server_path()
    installed("nginx", "the course-layout fault test needs it")
    run_dir = Path(tempfile.mkdtemp(prefix="dlp-course-"))  # nginx's workers must reach it: not 0700 pytest dirs
    run_dir.chmod(0o755)
    made = subprocess.run([sys.executable, "deploy/make_secrets.py", "--dir", str(tmp_path / "secrets")], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=True)
    password = re.search(r"with the password\s+(\S+)", made.stdout)[1]
    proxy, first = free_port(), two_free_ports()
    env = {**os.environ, "PROXY_PORT": str(proxy), "FIRST_PORT": str(first), "REDIS_PORT": str(free_port()),
           "RUN_DIR": str(run_dir), "DLP_SECRETS_DIR": str(tmp_path / "secrets"), "PYTHON": sys.executable,
           "DLP_CACHE_DIR": str(tmp_path / "cache"), "DLP_BUNDLED": "1"}
    env.pop("DLP_QUEUE", None)
    out = open(tmp_path / "run_local.out", "wb")
    script = subprocess.Popen(["bash", "deploy/run_local.sh", "2", "1"], cwd=REPO, env=env, stdout=out,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "serving on" in (tmp_path / "run_local.out").read_text() or script.poll() is not None,
                   240, "run_local.sh to serve")
        assert script.poll() is None, (tmp_path / "run_local.out").read_text()
        yield {"url": f"http://127.0.0.1:{proxy}", "password": password, "run_dir": run_dir,
               "ports": (first, first + 1)}
    finally:
        os.killpg(script.pid, signal.SIGTERM)  # run_local.sh stops what it started
        try:
            script.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait(10)
        shutil.rmtree(run_dir, ignore_errors=True)


def web_process(port: int) -> psutil.Process | None:
    """The Streamlit process started for ``port`` (run_local.sh execs it with --server.port PORT)."""
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "streamlit" in " ".join(cmdline) and "--server.port" in cmdline and str(port) in cmdline:
            return process
    return None


def upstream_of(run_dir: Path, route: str) -> int:
    """The web process's port nginx sends this browser to (its access log, format dlp: the page's and
    its files' requests; a websocket is logged only when it closes)."""
    ports = {int(line.rsplit(":", 1)[1]) for line in (run_dir / "nginx.log").read_text().splitlines()
             if f"route={route}" in line and re.search(r"upstream=[\d.]+:\d+$", line)}
    assert len(ports) == 1, f"route {route} went to {ports}"
    return ports.pop()


#: Every picture on the page has arrived (Streamlit serves them from the process holding the session).
PICTURES_LOADED_JS = """() => [...document.querySelectorAll('[data-testid="stImage"] img, img')]
                          .every(img => img.complete && img.naturalWidth > 0)"""


def healthy(port: int) -> bool:
    import urllib.request

    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).status == 200
    except OSError:
        return False


def draw_and_read(page, digit) -> str:
    clear(page)
    stroke(page, canvas_box(page), digit())
    page.wait_for_function(PREDICTED_JS, timeout=60_000)
    return prediction(page)


def test_a_killed_web_process_sends_its_browsers_elsewhere_and_its_training_carries_on(browser, course):
    # ``browser``: the pytest process's one Chromium (tests/conftest.py), asked for first so that a missing
    # Chromium skips before the layout starts; a Playwright of this test's own would refuse to start
    # while the e2e tests' is open in the same process.
    url, run_dir = course["url"], course["run_dir"]
    pages, contexts = [], []
    try:
        for n in range(4):
            context = browser.new_context(viewport={"width": 1300, "height": 1100},
                                          http_credentials={"username": "class", "password": course["password"]})
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(120_000)
            # The first browser asks for a network nobody trained (the limit makes it new and quick).
            page.goto(f"{url}/draw?limit=600" if n == 0 else f"{url}/draw")
            page.get_by_text("Networks", exact=False).first.wait_for(timeout=240_000)
            wait_until_idle(page, 120)
            pages.append(page)
        routes = [next(c["value"] for c in page.context.cookies() if c["name"] == "dlp_route") for page in pages]
        ports = [upstream_of(run_dir, route) for route in routes]
        trainer = pages[0]
        trainer.get_by_role("button", name="Train Fast CNN").click()
        trainer.locator('[data-testid="stProgress"]').first.wait_for()  # its progress panel

        victim_port = ports[0]
        victim = web_process(victim_port)
        assert victim is not None
        os.kill(victim.pid, signal.SIGKILL)

        moved = [page for page, port in zip(pages, ports) if port == victim_port]
        # The training went on in the worker: the trained network's Prediction appears on its page
        # (reconnected at once: its progress panel kept asking the server).
        trainer.wait_for_function("() => !document.querySelector('[data-testid=\"stProgress\"]')",
                                  timeout=300_000)  # the training's progress panel is gone
        trainer.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for(timeout=120_000)
        assert not trainer.get_by_text("Bundled model", exact=False).count()  # the one trained for it
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        trainer.screenshot(path=str(SCREENSHOTS / "course-web-killed-reconnected.png"), full_page=True)
        # Once the killed process is back, every browser reads a new drawing, its pictures included
        # (an idle page reconnects when it is next used), and each one that lost its process says
        # its settings may be gone.
        wait_until(lambda: (web_process(victim_port) or victim).pid != victim.pid, 120,
                   "the killed process to be back")
        wait_until(lambda: healthy(victim_port), 120, "the restarted process to answer")
        for page, digit in zip(pages, (one, seven, one, seven)):
            assert draw_and_read(page, digit) in "0123456789"
            page.wait_for_function(PICTURES_LOADED_JS, timeout=60_000)
        for page in moved:
            page.get_by_text(MOVED, exact=False).first.wait_for(timeout=60_000)
        for page in pages:
            if page not in moved:
                assert not page.get_by_text(MOVED, exact=False).count()
        trainer.screenshot(path=str(SCREENSHOTS / "course-web-killed-trained.png"), full_page=True)
        assert not any(page.locator('[data-testid="stException"]').count() for page in pages)
    except Exception:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for n, page in enumerate(pages):
            page.screenshot(path=str(SCREENSHOTS / f"course-web-killed-failed-{n}.png"), full_page=True)
        raise
    finally:
        for context in contexts:
            context.close()

    log = (run_dir / "supervisor.log").read_text()
    names = {course["ports"][0]: "web-1", course["ports"][1]: "web-2"}
    assert f"{names[victim_port]} (pid {victim.pid}) stopped (killed by SIGKILL); starting it again" in log, log
    worker_log = (run_dir / "worker-1.log").read_text()
    assert worker_log.count("dlp.queue INFO training job") == 1, worker_log  # carried on: no retry
    assert "Traceback" not in worker_log
