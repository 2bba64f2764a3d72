"""Where things live: bundled assets in the repo, caches outside it."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS = REPO_ROOT / "assets"

#: Environment variable that moves the whole cache (model store and runs).
CACHE_ENV = "DLP_CACHE_DIR"


def cache_dir() -> Path:
    """The cache root: ``$DLP_CACHE_DIR``, else the user's cache folder."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deep-learning-playground"


def store_dir() -> Path:
    return cache_dir() / "models"


def runs_dir() -> Path:
    """TensorBoard event files, one sub-folder per training run."""
    return cache_dir() / "runs"
