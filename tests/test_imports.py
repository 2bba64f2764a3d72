"""The heavy imports leave the cycle collector with less to walk, and no garbage frozen.

Checked in a fresh interpreter: in the test process other tests have imported modules already, and
their threads (servers, browsers) free frozen objects at any moment, which moves the freeze count.
"""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: core.imports.import_heavy, the function app.py calls before a page's first heavy import, on two small
#: modules nothing in a fresh interpreter has imported (the real list imports TensorFlow: ~8 s).
CHECK = """
import gc, json, sys, weakref
from core.imports import import_heavy

class Node:
    pass

assert "colorsys" not in sys.modules and "wave" not in sys.modules
cycle = Node()
cycle.itself = cycle
gone = weakref.ref(cycle)
del cycle  # garbage that only the cycle collector can free
before = gc.get_freeze_count()
gc.disable()  # (no automatic collection may free it first)
try:
    import_heavy(("colorsys", "wave"))
finally:
    gc.enable()
after = gc.get_freeze_count()
import_heavy(("colorsys", "wave"))
print(json.dumps({"before": before, "after": after, "again": gc.get_freeze_count(),
                  "garbage_freed": gone() is None}))
"""


def test_heavy_imports_are_frozen_and_garbage_is_not():
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["after"] > counts["before"], "the objects alive after the imports are frozen"
    assert counts["garbage_freed"], "garbage was collected before the freeze, not kept for good"
    assert counts["again"] == counts["after"], "imported already: nothing new is frozen"
