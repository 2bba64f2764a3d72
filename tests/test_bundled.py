"""The ready-made models of assets/defaults/: what ships, how it is installed, and every way a
bundled file can be wrong (the rest of the suite runs with bundling off, DLP_BUNDLED=0)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.training import bundled
from core.training.bundled import DEFAULTS_DIR, MANIFEST, check_once, install_defaults, install_once, read_manifest
from core.training.jobs import DONE, JobManager
from core.training.store import ModelStore

BUDGET_BYTES = bundled.BUDGET_MB * 10**6  # issue 32: all bundled defaults together


@pytest.fixture
def manager(tmp_path):
    return JobManager(ModelStore(tmp_path / "models"))


@pytest.fixture
def copied_defaults(tmp_path):
    """A private copy of assets/defaults/ that a test may damage."""
    folder = tmp_path / "defaults"
    shutil.copytree(DEFAULTS_DIR, folder)
    return folder


def page_default_configs() -> dict[str, tuple[str, dict]]:
    """What each page asks for before the user changes anything, built as the pages build it."""
    from core.text.charlstm import DEFAULTS, KIND as CHAR_KIND, PRESETS, preset_of
    from core.digits.models import KIND as DIGIT_KIND

    # The Text page opens on the preset whose model ships (views/text/training.bundled_preset).
    request = read_manifest()["defaults"].get("charlstm_shakespeare", {}).get("request")
    shipped = preset_of(request)
    assert shipped is not None, f"the bundled text model ({request}) is none of the Text page's presets"
    text = {**DEFAULTS, **PRESETS[shipped], "corpus": "tinyshakespeare", "seed": 0}
    return {"fast_cnn": ("digits", DIGIT_KIND.normalize({"arch": "fast_cnn"})),
            "charlstm_shakespeare": ("charlstm", CHAR_KIND.normalize(text))}


def test_the_shipped_defaults_are_the_pages_default_models_within_budget(manager):
    defaults = read_manifest()["defaults"]
    assert set(defaults) == set(page_default_configs())
    total = 0
    for name, (kind, config) in page_default_configs().items():
        item = defaults[name]
        _, key = manager.key_for(kind, config)
        assert item["kind"] == kind and item["key"] == key, f"{name}: rebuild with scripts/build_defaults.py"
        assert item["config"] == config
        assert item["data_fingerprint"] == bundled.current_fingerprint(kind, config)
        for file_name, expected in item["files"].items():
            path = DEFAULTS_DIR / name / file_name
            assert path.stat().st_size == expected["bytes"]
            assert bundled.file_sha256(path) == expected["sha256"]
            total += expected["bytes"]
        assert item["built"]["command"].startswith("python -m core.train " + kind)
    assert 0 < total <= BUDGET_BYTES
    assert defaults["fast_cnn"]["metrics"]["test_accuracy"] >= 0.99


def test_assets_readme_lists_the_bundled_models_as_the_manifest_says():
    """Its figures (sizes, scores, build times) are written from the manifest, never typed."""
    readme = bundled.README.read_text(encoding="utf-8")
    assert bundled.readme_with_table(readme, read_manifest()) == readme, \
        "run: .venv/bin/python scripts/build_defaults.py --readme"


def test_a_fresh_store_gets_the_defaults_and_the_pages_find_them(manager):
    installed = install_defaults(manager)
    assert len(installed) == 2 and manager.store.problems == []

    job = manager.find(*page_default_configs()["fast_cnn"])
    assert job is not None and job.status == DONE
    note = job.entry.record["bundled"]
    assert note["test_accuracy"] == pytest.approx(read_manifest()["defaults"]["fast_cnn"]["metrics"]["test_accuracy"])
    assert "train it yourself" in note["note"].lower()
    from core.data import load_mnist

    mnist = load_mnist()
    x = mnist.x_test[:500, :, :, None].astype("float32") / 255.0
    predicted = np.asarray(job.model()(x, training=False)).argmax(axis=1)
    assert (predicted == mnist.y_test[:500]).mean() > 0.97  # it really is a trained network

    text_job = manager.find(*page_default_configs()["charlstm_shakespeare"])
    assert text_job is not None and text_job.status == DONE
    assert text_job.entry.record["bundled"]["test_accuracy"] is None
    from core.text.charlstm import generate

    written = generate(text_job.model(), "ROMEO:", 200, temperature=0.5, rng_seed=0)
    assert written.startswith("ROMEO:") and len(written) == len("ROMEO:") + 200
    words = [w.strip(".,;:!?'").lower() for w in written.split()]
    assert sum(w in {"the", "and", "i", "to", "of", "you", "my", "a", "that", "is"} for w in words) >= 3

    assert install_defaults(manager) == []  # installed once; a second pass changes nothing


def test_a_flipped_byte_is_reported_and_nothing_of_that_model_is_installed(manager, copied_defaults):
    model_file = copied_defaults / "fast_cnn" / "model.keras"
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))

    installed = install_defaults(manager, copied_defaults / "manifest.json")

    [problem] = manager.store.problems
    assert "damaged" in problem and "checksum" in problem and "fast_cnn/model.keras" in problem
    assert "offers training" in problem
    kind, config = page_default_configs()["fast_cnn"]
    assert manager.find(kind, config) is None  # the Draw page shows its Train button
    assert manager.store.entries(kind="digits") == []
    assert len(installed) == 1  # the text model is fine and still installed
    assert manager.find(*page_default_configs()["charlstm_shakespeare"]).status == DONE


def test_a_missing_file_or_an_unreadable_manifest_is_reported(manager, copied_defaults):
    (copied_defaults / "charlstm_shakespeare" / "weights.npz").unlink()
    assert len(install_defaults(manager, copied_defaults / "manifest.json")) == 1
    assert any("incomplete" in p and "weights.npz" in p for p in manager.store.problems)

    (copied_defaults / "manifest.json").write_text("{not json", encoding="utf-8")
    other = JobManager(ModelStore(copied_defaults.parent / "other-store"))
    assert install_defaults(other, copied_defaults / "manifest.json") == []
    assert any("manifest.json" in p and "cannot be read" in p for p in other.store.problems)


def rewrite_manifest(folder, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest["defaults"])
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_a_file_with_a_matching_checksum_that_does_not_load_is_reported(manager, copied_defaults):
    """A damaged file whose manifest was rebuilt with it passes the checksum, not the loader."""
    model_file = copied_defaults / "fast_cnn" / "model.keras"
    model_file.write_bytes(b"not a zip file" * 100)

    def fix_checksum(defaults):
        defaults["fast_cnn"]["files"]["model.keras"] = {"sha256": bundled.file_sha256(model_file),
                                                        "bytes": model_file.stat().st_size}

    rewrite_manifest(copied_defaults, fix_checksum)
    install_defaults(manager, copied_defaults / "manifest.json")
    assert any("could not be loaded" in p for p in manager.store.problems)
    assert manager.store.entries(kind="digits") == []


def test_a_default_built_for_other_settings_or_data_is_not_installed(manager, copied_defaults):
    def other_settings(defaults):
        defaults["fast_cnn"]["request"] = {"arch": "fast_cnn", "epochs": 2}

    def other_data(defaults):
        defaults["charlstm_shakespeare"]["data_fingerprint"] = "sha256:" + "0" * 64

    rewrite_manifest(copied_defaults, other_settings)
    rewrite_manifest(copied_defaults, other_data)
    assert install_defaults(manager, copied_defaults / "manifest.json") == []
    assert any("other settings" in p for p in manager.store.problems)
    assert any("other data" in p for p in manager.store.problems)
    assert manager.store.entries() == []


def test_a_model_the_user_trained_is_never_replaced(manager):
    kind, config = page_default_configs()["fast_cnn"]
    _, key = manager.key_for(kind, config)

    def save(_model, folder):
        (folder / "model.keras").write_bytes(b"the user's own weights")

    manager.store.put(key, None, {"kind": kind, "config": config, "title": "mine"}, save)
    install_defaults(manager)
    entry = manager.store.get(key)
    assert "bundled" not in entry.record and entry.record["title"] == "mine"
    assert (entry.path / "model.keras").read_bytes() == b"the user's own weights"


def test_install_once_respects_the_switch_and_installs_once(manager, monkeypatch):
    monkeypatch.setenv("DLP_BUNDLED", "0")
    install_once(manager)
    assert manager.store.entries() == []
    monkeypatch.setenv("DLP_BUNDLED", "1")
    assert install_once(manager) is manager and len(manager.store.entries()) == 2
    for entry in manager.store.entries():
        manager.store.delete(entry.key)
    install_once(manager)  # done once for this manager: a later call changes nothing
    assert manager.store.entries() == []


def test_get_manager_installs_nothing_until_asked(monkeypatch):
    """Installing is an explicit call (app.py makes it once TensorFlow is loaded), never a side
    effect of asking for the manager."""
    from core.training import jobs
    monkeypatch.setenv("DLP_BUNDLED", "1")
    manager = jobs.get_manager()
    assert manager.find(*page_default_configs()["fast_cnn"]) is None
    install_once(jobs.get_manager())
    job = manager.find(*page_default_configs()["fast_cnn"])
    assert job is not None and job.status == DONE and "bundled" in job.entry.record
    assert MANIFEST.exists()


def test_a_damaged_file_is_reported_before_tensorflow_is_loaded(manager, copied_defaults, monkeypatch):
    """The home page imports no TensorFlow: the checksum is checked anyway, so it can say so."""
    model_file = copied_defaults / "fast_cnn" / "model.keras"
    data = bytearray(model_file.read_bytes())
    data[100:108] = b"\x00" * 8
    model_file.write_bytes(bytes(data))
    monkeypatch.setenv("DLP_BUNDLED", "1")
    monkeypatch.setenv("DLP_DEFAULTS_DIR", str(copied_defaults))
    check_once(manager)
    assert any("damaged" in p for p in manager.store.problems) and manager.store.entries() == []
    install_once(manager)
    assert [e.record["kind"] for e in manager.store.entries()] == ["charlstm"]
