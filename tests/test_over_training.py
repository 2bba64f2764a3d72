"""The map over training (issue 33 §2): aligned layouts that move rather than jump."""
from __future__ import annotations

import numpy as np
import pytest

from core.embeddings.over_training import (
    knn_accuracy, mean_displacement, normalised, pca_frames, procrustes, start_chain,
)
from core.errors import BadConfig


def drifting_frames(steps: int = 8, n: int = 300, d: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Activations of three classes that pull apart step by step, with a little noise per step."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = rng.normal(size=(3, d)) * 3
    base = rng.normal(size=(n, d))
    frames = [base + t / steps * centres[labels] + 0.05 * rng.normal(size=(n, d)) for t in range(steps)]
    return np.stack(frames).astype(np.float32), labels


def test_a_procrustes_aligned_sequence_moves_less_than_the_unaligned_one():
    frames, _ = drifting_frames()
    aligned, unaligned = pca_frames(frames, 2), pca_frames(frames, 2, align=False)
    assert aligned.shape == unaligned.shape == (8, 300, 2)
    # Same layouts up to a turn or a mirror: the points' distances to each other are kept...
    for a, u in zip(aligned, unaligned):
        assert np.allclose(np.linalg.norm(a - a[0], axis=1), np.linalg.norm(u - u[0], axis=1), atol=1e-9)
    # ...and each frame is turned to the previous one, so consecutive frames move less.
    assert mean_displacement(aligned).mean() < mean_displacement(unaligned).mean()
    assert np.all(mean_displacement(aligned) <= mean_displacement(unaligned) + 1e-9)
    # In 3-D as well.
    assert mean_displacement(pca_frames(frames, 3)).mean() < mean_displacement(pca_frames(frames, 3, align=False)).mean()


def test_procrustes_undoes_a_rotation_and_a_mirror():
    rng = np.random.default_rng(1)
    layout = normalised(rng.normal(size=(50, 2)))
    angle = 1.1
    turned = layout @ np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * [1, -1]
    assert np.allclose(procrustes(layout, turned), layout)


def test_pca_fitted_once_on_the_last_point_uses_one_view_for_every_frame():
    frames, _ = drifting_frames()
    once = pca_frames(frames, 2, fit="last")
    assert np.allclose(once[-1], pca_frames(frames[-1:], 2)[0])
    assert np.allclose(np.percentile(np.linalg.norm(once, axis=2), 90, axis=1), 1)  # every frame normalised
    with pytest.raises(BadConfig):
        pca_frames(frames, 2, fit="first")


def test_knn_accuracy_measures_how_apart_the_classes_are():
    frames, labels = drifting_frames(steps=6)
    assert knn_accuracy(frames[-1], labels) > 0.95 > 0.7 > knn_accuracy(frames[0], labels)


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_a_chain_starts_each_layout_from_the_previous_one(method):
    frames, labels = drifting_frames(steps=3, n=200)
    chain = start_chain(f"test-{method}", frames, method, 2, {"iterations": 200, "follow_iterations": 100,
                                                             "epochs": 60})
    deadline = 240
    import time

    began = time.time()
    while not chain.done and time.time() - began < deadline:
        time.sleep(0.2)
    assert chain.done and chain.error is None, chain.error
    layouts = np.stack(chain.layouts)
    assert layouts.shape == (3, 200, 2) and len(chain.seconds) == 3
    # The last layout separates the classes (neighbours on the map share labels).
    assert knn_accuracy(layouts[-1], labels) > 0.9
    assert start_chain(f"test-{method}", frames, method, 2, {}) is chain  # cached by key
