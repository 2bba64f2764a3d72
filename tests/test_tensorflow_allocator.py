"""Issue 30's memory: TensorFlow's oneDNN kernels allocate through the system allocator (set by
``core`` before TensorFlow loads), unless the operator chose otherwise."""
from __future__ import annotations

import os
import subprocess
import sys

from core.paths import REPO_ROOT

CHECK = ("import os, core, tensorflow as tf; tf.constant([1.0]) + 1; "
         "print(os.environ.get('TF_ONEDNN_USE_SYSTEM_ALLOCATOR'))")


def setting_seen_by_tensorflow(env: dict) -> str:
    """The value a fresh interpreter that imports core and then runs a TensorFlow op has."""
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=REPO_ROOT, env=env, capture_output=True,
                            text=True, timeout=300, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_core_makes_onednn_use_the_system_allocator():
    env = {k: v for k, v in os.environ.items() if k != "TF_ONEDNN_USE_SYSTEM_ALLOCATOR"}
    assert setting_seen_by_tensorflow(env) == "1"


def test_an_operators_own_setting_is_kept():
    assert setting_seen_by_tensorflow({**os.environ, "TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "0"}) == "0"
