"""The course layout is locked down (issue 34 §3): the app refuses an unprotected remote Redis, and the
deploy/ files carry the settings that keep Redis private and the class logged in.

Huey pickles its messages: whoever can write to the queue's Redis could run code in the workers.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import AppError
from tests.distributed_cluster import installed
from core.training.jobs import JobManager
from core.training.queue_connection import check_queue_url, redact

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


@pytest.mark.parametrize("url", ["redis://10.0.0.5:6379/0", "redis://redis:6379/0", "rediss://queue.example.org/0",
                                 "redis://user@192.168.1.20:6379/0"])
def test_a_remote_redis_without_a_password_is_refused_with_a_clear_message(url):
    with pytest.raises(AppError, match=r"without a password, so the app refuses it.*requirepass"):
        check_queue_url(url)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "redis://localhost/0", "redis://[::1]:6379/0",
                                 "unix:///run/redis.sock", "redis://:s3cret@redis:6379/0",
                                 "rediss://user:s3cret@queue.example.org:6380/0"])
def test_loopback_sockets_and_password_protected_redis_are_accepted(url):
    check_queue_url(url)


def test_the_password_never_shows_in_logs_or_messages(monkeypatch):
    assert redact("redis://:s3cret@redis:6379/0") == "redis://:***@redis:6379/0"
    assert redact("redis://user:s3cret@redis:6379/0") == "redis://user:***@redis:6379/0"
    with pytest.raises(AppError) as refused:
        check_queue_url("memcached://:s3cret@cache:11211")
    assert "s3cret" not in str(refused.value)


def test_a_refused_queue_trains_nowhere_and_says_why(monkeypatch, isolated_cache):
    import core.training.jobs

    monkeypatch.setitem(core.training.jobs.KINDS, "gated", "tests.distributed_kind:KIND")
    manager = JobManager(queue_url="redis://10.0.0.5:6379/0")
    assert manager.queue is None and "without a password" in manager.queue_notice()
    with pytest.raises(AppError, match="without a password"):
        manager.request("gated", {"size": 2})
    assert manager.find("gated", {"size": 2}) is None  # nothing stored, nothing trained, no error


def test_the_worker_refuses_to_start_on_an_unprotected_remote_redis(tmp_path):
    done = subprocess.run([sys.executable, "-m", "core.worker", "--no-preload"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "DLP_QUEUE": "redis://10.0.0.5:6379/0",
                                                       "DLP_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 2 and "without a password, so the app refuses it" in done.stderr, done.stderr


def compose_service(text: str, name: str) -> str:
    """The lines of one service in docker-compose.yml (up to the next one at the same indent)."""
    match = re.search(rf"^  {name}:\n((?:    .*\n|\s*\n)*)", text, re.M)
    assert match, f"no service {name} in docker-compose.yml"
    return match.group(1)


def test_compose_keeps_redis_private_with_a_password_and_nginx_behind_a_login():
    text = (DEPLOY / "docker-compose.yml").read_text()
    redis = compose_service(text, "redis")
    assert "--requirepass" in redis and "${DLP_REDIS_PASSWORD:?" in redis
    assert not re.search(r"^\s+ports:", redis, re.M) and "networks: [queue]" in redis
    assert re.search(r"^  queue:\n    internal: true", text, re.M), "Redis's network must be internal"
    assert re.search(r"DLP_QUEUE: redis://:\$\{DLP_REDIS_PASSWORD:\?[^}]*\}@redis:6379/0", text)
    assert '"--server.port", "8502"' in compose_service(text, "web2")  # nginx.conf tells processes by port
    nginx = compose_service(text, "nginx")
    assert "./htpasswd:/etc/nginx/htpasswd:ro" in nginx and "networks: [web]" in nginx


def test_nginx_asks_for_the_login_everywhere_and_caps_uploads():
    text = (DEPLOY / "nginx.conf").read_text()
    server = text[text.index("    server {"):]
    before_locations = server[:re.search(r"^\s*location ", server, re.M).start()]
    assert re.search(r"^\s*auth_basic \"[^\"]+\";", before_locations, re.M), "auth_basic at the server level"
    assert re.search(r"^\s*auth_basic_user_file htpasswd;", before_locations, re.M)
    assert re.search(r"^\s*client_max_body_size 25m;", server, re.M)
    assert "auth_basic off" not in text
    # Sticky by a cookie naming the process, re-set from the process that answered (see its comments).
    assert "proxy_pass http://dlp_web$dlp_route;" in server and "add_header Set-Cookie $dlp_cookie always;" in server
    assert re.search(r"upstream dlp_web1 \{\s*server web1:8501;\s*server web2:8502 backup;", text)


def test_run_local_gives_redis_a_password_on_loopback_and_nginx_the_login():
    text = (DEPLOY / "run_local.sh").read_text()
    assert '"bind 127.0.0.1" "requirepass $REDIS_PASSWORD"' in text
    assert 'DLP_QUEUE="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"' in text
    assert "deploy/make_secrets.py" in text and 'cp "$SECRETS_DIR/htpasswd" "$RUN_DIR/htpasswd"' in text


def test_make_secrets_writes_a_password_nginx_accepts(tmp_path):
    """The generated login works with the real nginx (nginx -t on a config using it, then a request)."""
    made = subprocess.run([sys.executable, str(DEPLOY / "make_secrets.py"), "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=True)
    password = re.search(r"logs in as\s+class\s+with the password\s+(\S+)", made.stdout)[1]
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0  # Redis's password: private
    assert re.fullmatch(r"DLP_REDIS_PASSWORD=[\w-]{32}\n", (tmp_path / ".env").read_text())
    user, hashed = (tmp_path / "htpasswd").read_text().strip().split(":", 1)
    assert user == "class" and hashed.startswith("{SSHA}") and password not in hashed
    again = subprocess.run([sys.executable, str(DEPLOY / "make_secrets.py"), "--dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=60, check=True)
    assert "kept the existing secrets" in again.stdout
    check_login_with_nginx(installed("nginx", "the login check needs it"), tmp_path, password)


def check_login_with_nginx(nginx: str, secrets: Path, password: str) -> None:
    import base64
    import tempfile
    import urllib.error
    import urllib.request

    from tools.browser import free_port
    from tests.distributed_cluster import wait_until

    # nginx's workers (user nobody when started as root) must reach the files: not pytest's 0700 folders.
    folder = Path(tempfile.mkdtemp(prefix="dlp-nginx-"))
    folder.chmod(0o755)
    shutil.copy(secrets / "htpasswd", folder / "htpasswd")
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(f"""pid nginx.pid; error_log stderr warn; daemon off;
events {{}}
http {{ access_log off; client_body_temp_path body; proxy_temp_path proxy; fastcgi_temp_path fcgi;
  uwsgi_temp_path uwsgi; scgi_temp_path scgi;
  server {{ listen 127.0.0.1:{port}; auth_basic "test"; auth_basic_user_file htpasswd;
    location / {{ root www; }} }} }}
""")  # (not `return`: it runs before the access phase, so auth_basic would not apply)
    (folder / "www").mkdir()
    (folder / "www" / "index.html").write_text("in")
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        def status(login: str | None) -> int:
            headers = {"Authorization": "Basic " + base64.b64encode(login.encode()).decode()} if login else {}
            try:
                return urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers),
                                              timeout=5).status
            except urllib.error.HTTPError as error:
                return error.code
            except OSError:
                return 0
        wait_until(lambda: status(None), 20, "nginx to answer")
        assert status(None) == 401 and status("class:wrong") == 401
        assert status(f"class:{password}") == 200
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
