"""Check a running course layout (deploy/run_local.sh) through its nginx: login, sticky sessions, websockets.

    .venv/bin/python deploy/check_proxy.py [http://127.0.0.1:8080] --login class:PASSWORD \
        [--sessions 8] [--log /tmp/dlp-course/nginx.log]

The login is the one deploy/make_secrets.py printed (or ``$DLP_LOGIN``); without it nginx must
answer 401.

Each of the sessions does what a new browser does: GET / (nginx gives it its dlp_route cookie, which
names a process), then opens Streamlit's websocket with that cookie and runs the home page. Then
nginx's access log (format ``dlp`` in deploy/nginx.conf), read from where it stood before the check,
must show every request with one cookie going to one Streamlit process, the websockets upgraded
(101), and the sessions spread over more than one process. Run it when every process is up: while
one is down, its sessions go to the others (as they should).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import urllib.error
import sys
import urllib.request
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.streamlit_client import Page  # noqa: E402


def basic(login: str) -> str:
    return "Basic " + base64.b64encode(login.encode()).decode()


def refused_without_login(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/", timeout=30)
    except urllib.error.HTTPError as error:
        return error.code == 401
    return False


def new_browser_cookie(url: str, login: str) -> str:
    request = urllib.request.Request(url + "/", headers={"Authorization": basic(login)})
    with urllib.request.urlopen(request, timeout=30) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    route = next((c.split(";")[0] for c in cookies if c.startswith("dlp_route=")), "")
    if not route:
        raise SystemExit(f"no dlp_route cookie from {url}: is nginx with deploy/nginx.conf in front?")
    return route


async def session(url: str, cookie: str, login: str) -> str:
    async with Page(url, "", cookie=cookie, authorization=basic(login), timeout=60) as page:
        await page.wait_for(lambda: any("Deep Learning Playground" in h for h in page.texts("heading")),
                            60, "the home page's title")
        if page.errors:
            raise SystemExit(f"the page showed errors: {page.errors}")
    return cookie.split("=", 1)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8080")
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--log", type=Path, default=Path("/tmp/dlp-course/nginx.log"))
    parser.add_argument("--login", default=os.environ.get("DLP_LOGIN", ""), help="USER:PASSWORD for nginx")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    if not args.login:
        parser.error("give the class's login: --login class:PASSWORD (deploy/make_secrets.py printed it)")
    if not refused_without_login(url):
        raise SystemExit(f"{url} answered without a login: is nginx with deploy/nginx.conf in front?")
    log_start = args.log.stat().st_size if args.log.exists() else 0
    cookies = [new_browser_cookie(url, args.login) for _ in range(args.sessions)]

    async def all_sessions():
        return await asyncio.gather(*(session(url, cookie, args.login) for cookie in cookies))

    routes = asyncio.run(all_sessions())
    upstreams, websockets = defaultdict(set), defaultdict(int)
    pattern = re.compile(r'"(\S+) (\S+) [^"]*" (\d+) route=(\S+) upstream=(\S+)')
    with open(args.log, encoding="utf-8", errors="replace") as log:
        log.seek(log_start)
        lines = log.read().splitlines()
    for line in lines:
        match = pattern.search(line)
        if match and match.group(4) in routes:
            method, path, status, route, upstream = match.groups()
            upstreams[route].add(upstream)
            websockets[route] += path.startswith("/_stcore/stream") and status == "101"
    failures = [f"route {r} went to {sorted(u)}" for r, u in upstreams.items() if len(u) != 1]
    failures += [f"route {r}: {websockets[r]} websockets upgraded (101) for {routes.count(r)} sessions"
                 for r in set(routes) if websockets[r] < routes.count(r)]
    used = {next(iter(u)) for u in upstreams.values() if len(u) == 1}
    if len(used) < 2:
        failures.append(f"all {len(routes)} sessions went to {sorted(used)}: not spread over processes")
    for route in sorted(set(routes)):
        print(f"route {route}: {routes.count(route)} sessions, all requests to {sorted(upstreams[route])}, "
              f"websockets upgraded: {websockets[route]}")
    print(f"{len(routes)} sessions over {len(used)} processes: "
          + ("sticky, websockets proxied" if not failures else "FAILED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
