"""Make the course layout's two secrets, once: Redis's password and the class's login for nginx.

    python deploy/make_secrets.py [--dir deploy] [--user class]

Writes, unless they exist (``--force`` replaces them):
- ``DIR/.env``: ``DLP_REDIS_PASSWORD=...``, which docker compose reads for deploy/docker-compose.yml
  (Redis's ``requirepass`` and the ``DLP_QUEUE`` URL of every web process and worker) and
  deploy/run_local.sh reads too;
- ``DIR/htpasswd``: the login nginx asks every browser for (``auth_basic``), one user with a
  random password, stored salted and hashed (``{SSHA}``, which nginx reads).

Prints the class's user name and password: write them on the board. Both files are ignored by git;
``.env`` is private (mode 600), ``htpasswd`` holds only a salted hash and is readable (644), since
nginx's worker processes read it as their own user. Why a Redis password at all: the queue's messages are Python
pickles, so whoever can write to that Redis could run code in the training workers.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def ssha(password: str) -> str:
    """nginx's ``{SSHA}`` scheme: base64(sha1(password + salt) + salt)."""
    salt = secrets.token_bytes(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def write_file(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def make(folder: Path, user: str = "class", force: bool = False) -> str | None:
    """Write the missing secrets into ``folder``; return the new login's password (None if kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    env, users = folder / ".env", folder / "htpasswd"
    if force or not env.exists():
        write_file(env, f"DLP_REDIS_PASSWORD={secrets.token_urlsafe(24)}\n", 0o600)
    if force or not users.exists():
        password = secrets.token_urlsafe(9)
        write_file(users, f"{user}:{ssha(password)}\n", 0o644)  # nginx's workers read it as their own user
        return password
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=HERE, help="where to write .env and htpasswd (default: deploy/)")
    parser.add_argument("--user", default="class", help="the user name the class logs in with")
    parser.add_argument("--force", action="store_true", help="replace existing secrets")
    args = parser.parse_args(argv)
    password = make(args.dir, args.user, args.force)
    if password is None:
        print(f"kept the existing secrets in {args.dir} (--force makes new ones)")
    else:
        print(f"the class logs in as  {args.user}  with the password  {password}")
        print(f"(secrets in {args.dir / '.env'} and {args.dir / 'htpasswd'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
