"""One model store shared by several processes: concurrent writers of one key never corrupt it,
and concurrent readers never see a half entry, a missing one, or a record with another version's
files. (No Redis needed: this is the shared folder alone.)"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path


from core.training.store import ModelStore

REPO = Path(__file__).resolve().parent.parent

# Each writer saves the same key again and again, with two files whose contents must agree
# with each other and with the record (a reader checks all three).
WRITER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {repo!r})
    from core.training.store import ModelStore

    def save(obj, folder):
        (folder / "a.json").write_text(json.dumps(obj))
        (folder / "b.json").write_text(json.dumps(obj) * 2000)  # a bigger file, slower to write

    store = ModelStore({root!r})
    for n in range({rounds}):
        mark = {{"writer": {writer}, "n": n}}
        store.put("shared", mark, {{"kind": "test", "mark": mark}}, save)
    print("wrote", {rounds}, flush=True)
""")

READER = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {repo!r})
    from core.training.store import ModelStore

    def load(folder):
        a = json.loads((folder / "a.json").read_text())
        b = (folder / "b.json").read_text()
        return a, b == json.dumps(a) * 2000

    store = ModelStore({root!r})
    reads = mismatched = missing = 0
    deadline = time.time() + 60
    while time.time() < deadline and not (store.root / "writers-done").exists():
        entry = store.get("shared")
        if entry is None:
            missing += 1
            continue
        (obj, whole), record = store.load(entry, load), entry.record
        reads += 1
        mismatched += not whole or obj != record["mark"]
    print(json.dumps({{"reads": reads, "mismatched": mismatched, "missing": missing,
                       "problems": store.problems}}), flush=True)
""")


def python(script: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)


def test_concurrent_writers_and_readers_of_one_key_in_several_processes(tmp_path):
    root = tmp_path / "models"
    store = ModelStore(root)
    store.put("shared", {"writer": -1, "n": 0}, {"kind": "test", "mark": {"writer": -1, "n": 0}},
              lambda obj, folder: ((folder / "a.json").write_text(json.dumps(obj)),
                                   (folder / "b.json").write_text(json.dumps(obj) * 2000)))
    readers = [python(READER.format(repo=str(REPO), root=str(root))) for _ in range(2)]
    writers = [python(WRITER.format(repo=str(REPO), root=str(root), rounds=40, writer=w)) for w in range(3)]
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0 and "wrote 40" in out, err[-2000:]
    (root / "writers-done").touch()
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err[-2000:]
        seen = json.loads(out)
        assert seen["reads"] > 0 and seen["mismatched"] == 0 and seen["missing"] == 0, seen
        assert seen["problems"] == [], seen

    final = ModelStore(root).get("shared")
    assert final is not None and final.record["mark"]["n"] == 39  # each writer's last save, one of them wins
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == ["shared", "writers-done"]
    assert not list(root.glob(".tmp-*"))
