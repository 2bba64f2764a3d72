"""Probes saved while training (issue 33 §1): the same test digits through the network at the
run's log schedule, step 0 included, kept in the run's folder while it trains and beside the
model in the store."""
from __future__ import annotations

import numpy as np
import pytest

from core.embeddings.probes import FILE, PROBE_IMAGES, ProbeRecorder, attach, read_probes, save_probes
from core.training.runs import LogSchedule


@pytest.fixture(scope="module")
def mlp_job(tmp_path_factory):
    """A tiny 2019 dense net: 1,000 images, batch 32, 32 steps."""
    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    cache = tmp_path_factory.mktemp("probes-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLP_CACHE_DIR", str(cache))
        job = JobManager(ModelStore(cache / "store")).request(
            "digits", {"arch": "dense2019", "epochs": 2, "train_limit": 512, "batch_size": 32})
        assert job.wait(300), "training did not finish"
    assert job.status == "done", job.error
    return job


def test_probes_are_saved_at_the_scheduled_steps_step_0_included(mlp_job):
    record = mlp_job.entry.record
    total = 2 * 512 // 32
    scheduled = LogSchedule(total).histogram_steps()
    assert scheduled[0] == 0 and scheduled[-1] == total and len(scheduled) == 11
    stored = read_probes(mlp_job.entry.path)
    assert stored is not None and stored.complete
    assert stored.steps.tolist() == scheduled == record["probes"]["steps"]
    images = stored.sets["images"]
    assert len(images) == PROBE_IMAGES == 700 and images.label_names == [str(d) for d in range(10)]
    from core.data import load_mnist

    assert np.array_equal(images.labels, load_mnist().y_test[:700])
    assert set(images.layers) == {"dense1", "dense2", "probabilities"}
    assert images.layers["dense2"].shape == (11, 700, 16) and images.layers["dense2"].dtype == np.float16
    assert record["probes"]["sets"]["images"]["layers"] == {"dense1": 128, "dense2": 16, "probabilities": 10}
    # The probabilities sum to 1 at every step; the predictions and accuracy follow from them.
    sums = images.layers["probabilities"].astype(np.float32).sum(axis=2)
    assert np.allclose(sums, 1, atol=0.01)
    # (the predictions come from float32 outputs; float16 rounding may tie two classes)
    assert (images.predicted == images.layers["probabilities"].argmax(axis=2)).mean() > 0.99
    assert np.allclose(images.accuracy, (images.predicted == images.labels).mean(axis=1))
    # Trained a little, the network reads the probes far better than at step 0 (chance).
    assert images.accuracy[0] < 0.3 and images.accuracy[-1] > images.accuracy[0] + 0.3
    # The final point is the stored model itself.
    model = mlp_job.model()
    final = np.asarray(model(load_mnist().x_test[:700, ..., None] / 255.0, training=False))
    assert np.allclose(images.layers["probabilities"][-1].astype(np.float32), final, atol=0.01)
    # The run's folder kept the same points while it trained.
    during = read_probes(record["run_dir"])
    assert during.steps.tolist() == scheduled
    assert np.array_equal(during.sets["images"].layers["dense1"], images.layers["dense1"])
    # Small: 11 × 700 × (128 + 16 + 10) float16 numbers, about 2.4 MB.
    size = (mlp_job.entry.path / FILE).stat().st_size
    assert size < 11 * 700 * 154 * 2 * 1.05


def test_a_run_still_training_shows_the_points_saved_so_far(tmp_path):
    recorder = ProbeRecorder(tmp_path, total_steps=100)
    recorder.add_set("chars", "characters", [0, 1, 1, 0], ["vowel", "consonant"], names=list("abcd"))
    assert read_probes(tmp_path) is None  # described, nothing recorded yet
    rng = np.random.default_rng(0)
    for step in range(0, 31):
        if recorder.due(step):
            recorder.record(step, "chars", {"embedding": rng.normal(size=(4, 3))},
                            correct=[True, False, True, True])
    so_far = read_probes(tmp_path)
    assert so_far.steps.tolist() == [0, 10, 20, 30] and not so_far.complete
    chars = so_far.sets["chars"]
    assert chars.names == list("abcd") and chars.predicted is None
    assert chars.layers["embedding"].shape == (4, 4, 3) and np.allclose(chars.accuracy, 0.75)


def test_probes_pack_into_the_store_folder_only_for_the_model_they_were_recorded_for(tmp_path):
    class Model:  # any object a kind saves
        pass

    recorder = ProbeRecorder(tmp_path / "run", total_steps=2)
    recorder.add_set("images", "three images", [0, 1, 2], ["a", "b", "c"])
    for step in (0, 1, 2):
        recorder.record(step, "images", {"dense": np.eye(3) * step}, predicted=[0, 1, step % 3])
    trained, other = Model(), Model()
    attach(trained, recorder)
    (tmp_path / "entry").mkdir()
    assert not save_probes(other, tmp_path / "entry") and read_probes(tmp_path / "entry") is None
    assert save_probes(trained, tmp_path / "entry")
    packed = read_probes(tmp_path / "entry")
    assert packed.complete and packed.steps.tolist() == [0, 1, 2]
    images = packed.sets["images"]
    assert images.correct.tolist() == [[True, True, False], [True, True, False], [True, True, True]]
    assert np.allclose(images.accuracy, [2 / 3, 2 / 3, 1]) and images.layers["dense"][2, 1, 1] == 2


def test_a_damaged_probe_file_is_reported_not_raised_as_a_crash(tmp_path):
    (tmp_path / FILE).write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot be read"):
        read_probes(tmp_path)


def test_the_separation_curve_rises_over_a_tiny_training(mlp_job):
    """Issue 33: classes separate in the original space as the network learns (k-NN accuracy of
    the last hidden layer's activations), and the probes' accuracy rises with it."""
    from core.embeddings.over_training import separation

    images = read_probes(mlp_job.entry.path).sets["images"]
    curve = separation(images.layers["dense2"], images.labels)
    assert curve.shape == (11,) and np.all((0 <= curve) & (curve <= 1))
    assert curve[-1] > curve[0] + 0.1 and curve[-1] > 0.6
    assert images.accuracy[-1] > images.accuracy[0]
