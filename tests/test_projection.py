"""Projections: PCA's variance, neighbours against brute force, t-SNE/UMAP frames and cancelling, the
large-data path (on few points, by lowering its threshold), the projector bundle."""
from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
from PIL import Image

import core.embeddings.projection
import core.embeddings.projection_runs
from core.data import load_mnist
from core.errors import BadInput
from core.embeddings.projection import (
    MAX_POINTS_3D, check_features, clamp_perplexity, default_perplexity, max_points, nearest_neighbours, pca,
    place_new_point, spherize, start,
)
from core.embeddings.projection_runs import starting_layout
from core.embeddings.projector_bundle import write_projector_bundle

RAW = load_mnist().x_test[:600].reshape(600, -1).astype(np.float64) / 255
LABELS = load_mnist().y_test[:600]


def finished(projection, seconds: float = 600):
    """The projection once its thread has ended (a generous bound so a hung run fails, not a speed test)."""
    projection.thread.join(seconds)
    assert projection.done, "the projection's thread should have ended"
    return projection


def iterations_while_running(projection, poll: float = 0.005) -> set[int]:
    seen = set()
    while not projection.done:
        seen.add(projection.iteration)
        time.sleep(poll)
    return seen


def nearest_shares_label(x):
    distances = np.linalg.norm(x[:, None] - x[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    return (LABELS[distances.argmin(1)] == LABELS).mean()


def test_pca_explained_variance_adds_up():
    result = pca(RAW, 10)
    total = RAW.var(axis=0, ddof=1).sum()
    by_hand = result.coordinates.var(axis=0, ddof=1) / total
    np.testing.assert_allclose(result.explained_variance_ratio, by_hand, rtol=1e-6)
    assert np.all(np.diff(result.explained_variance_ratio) <= 1e-12)
    full = pca(RAW[:, :40], 40)
    assert full.explained_variance_ratio.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(result.transform(RAW[:5]), result.coordinates[:5], atol=1e-8)


@pytest.mark.parametrize("block", [8192, 64])  # 64: the 600 rows in ten blocks (the 70,000 digits' path)
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_nearest_neighbours_agree_with_brute_force(metric, block, monkeypatch):
    monkeypatch.setattr(core.embeddings.projection, "NEIGHBOUR_BLOCK", block)
    for index in (0, 17, 599):
        found, distances = nearest_neighbours(RAW, index, k=6, metric=metric)
        if metric == "euclidean":
            brute = np.array([np.linalg.norm(RAW[i] - RAW[index]) for i in range(len(RAW))])
        else:
            brute = np.array([1 - RAW[i] @ RAW[index] / (np.linalg.norm(RAW[i]) * np.linalg.norm(RAW[index]))
                              for i in range(len(RAW))])
        brute[index] = np.inf
        expected = np.argsort(brute, kind="stable")[:6]
        np.testing.assert_allclose(distances, brute[expected], rtol=1e-9, atol=1e-12)
        assert index not in found


def test_perplexity_defaults_and_clamping():
    assert default_perplexity(100) == 5 and default_perplexity(10_000) == 25
    assert default_perplexity(14_400) == 30 and default_perplexity(70_000) == 30  # capped: the formula gives 67
    assert clamp_perplexity(30, 1000) == (30, None)
    value, note = clamp_perplexity(50, 60)
    assert value < 59 / 3 and "too large" in note and "(N − 1)/3 = 19.7" in note  # issue 29: not N/3


def test_nan_activations_and_tiny_inputs_are_refused_clearly():
    bad = RAW[:10].copy()
    bad[3, 5] = np.nan
    with pytest.raises(BadInput, match="NaN"):
        check_features(bad)
    with pytest.raises(BadInput, match="at least 3"):
        check_features(RAW[:2])


def test_spherize_puts_points_on_the_unit_sphere():
    norms = np.linalg.norm(spherize(RAW), axis=1)
    assert np.allclose(norms[norms > 0], 1)


def test_tsne_shows_intermediate_layouts_before_it_ends():
    features = pca(RAW, 20).coordinates
    projection = start("test-raw", features, "tsne", 2, {"iterations": 150, "perplexity": 10})
    iterations_seen = iterations_while_running(projection, 0.02)
    assert projection.error is None
    assert projection.frames_seen >= 5 and len(iterations_seen) >= 3
    assert projection.frame.shape == (600, 2) and np.isfinite(projection.frame).all()
    assert start("test-raw", features, "tsne", 2, {"iterations": 150, "perplexity": 10}) is projection  # cached


def test_projector_bundle_rows_and_sprite(tmp_path):
    images = load_mnist().x_test[:50]
    metadata = [{"label": int(y), "index": i} for i, y in enumerate(load_mnist().y_test[:50])]
    folder = write_projector_bundle(tmp_path / "bundle", RAW[:50], metadata, images)
    tensors = (folder / "tensors.tsv").read_text().strip().splitlines()
    rows = (folder / "metadata.tsv").read_text().strip().splitlines()
    assert len(tensors) == 50 and len(tensors[0].split("\t")) == 784
    assert rows[0] == "label\tindex" and len(rows) == 51  # header + one row per point
    sprite = Image.open(folder / "sprite.png")
    assert sprite.size == (8 * 28, 8 * 28)  # ⌈√50⌉ = 8 thumbnails per row
    assert np.array_equal(np.asarray(sprite)[:28, 28:56], images[1])
    config = (folder / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "tensors.tsv"' in config and "single_image_dim: 28" in config


def test_umap_shows_intermediate_layouts_and_places_new_points():
    features = pca(RAW, 20).coordinates
    projection = start("test-raw", features, "umap", 2, {"neighbors": 10, "min_dist": 0.1, "epochs": 200})
    layouts = []
    while not projection.done:
        if projection.frame is not None and (not layouts or projection.iteration != layouts[-1][0]):
            layouts.append((projection.iteration, projection.frame.copy()))
        time.sleep(0.005)
    assert projection.error is None
    assert projection.frames_seen >= 3, "UMAP's optimiser reports layouts while it runs"
    assert layouts[0][0] == 0 and not np.allclose(layouts[0][1], projection.frame)
    assert projection.iteration == 200 and projection.frame.shape == (600, 2)
    # The map keeps digits of a kind together about as well as the original space does
    # (there 86 % of nearest neighbours share the label; umap.UMAP's own fit gives 80 % on the map).
    assert nearest_shares_label(projection.frame) > 0.85 * nearest_shares_label(features)
    placed = place_new_point(projection, features[:1])
    assert placed.shape == (2,) and np.linalg.norm(placed - projection.frame[0]) < np.ptp(projection.frame) / 4


def test_limits_and_the_starting_layout():
    assert max_points(2, "tsne") == max_points(2, "umap") == 70_000
    assert max_points(3, "tsne") == MAX_POINTS_3D["tsne"] < max_points(3, "umap") == MAX_POINTS_3D["umap"] < 70_000
    too_many = np.random.default_rng(0).normal(size=(MAX_POINTS_3D["umap"] + 1, 3))
    with pytest.raises(BadInput, match="at most"):
        start("test-too-many", too_many, "umap", 3, {})
    layout = starting_layout(RAW, 2)
    assert layout.shape == (600, 2) and layout[:, 0].std() == pytest.approx(1e-4)
    # The first two principal components, up to each axis's sign and one common scale.
    components = pca(RAW, 2).coordinates
    scale = components[:, 0].std() / layout[:, 0].std()
    np.testing.assert_allclose(np.abs(layout * scale), np.abs(components), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_a_seeded_run_is_reproducible(method):
    features = pca(RAW[:300], 20).coordinates
    params = {"iterations": 100, "perplexity": 10, "seed": 3} if method == "tsne" else {"epochs": 60, "seed": 3}
    first = finished(start("test-seed-a", features, method, 2, params))
    again = finished(start("test-seed-b", features, method, 2, params))  # another key: not the cached run
    assert first.error is None and again.error is None and first is not again
    np.testing.assert_allclose(first.frame, again.frame, rtol=1e-4, atol=1e-4 * np.ptp(first.frame))


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_cancelling_stops_the_run(method):
    features = pca(RAW, 20).coordinates
    params = {"iterations": 5000, "perplexity": 10} if method == "tsne" else {"epochs": 20_000}
    projection = start("test-cancel", features, method, 2, params)
    while projection.iteration == 0 and not projection.done:  # until the optimiser has moved the layout
        time.sleep(0.01)
    projection.cancel()
    finished(projection)
    assert projection.iteration < projection.total and "stopped" in projection.error
    again = start("test-cancel", features, method, 2, params)
    again.cancel()  # not left running behind the other tests
    assert again is not projection  # a cancelled run is not reused
    finished(again)
    short = {"iterations": 50, "perplexity": 10} if method == "tsne" else {"epochs": 30}
    after = finished(start("test-after-cancel", features, method, 2, short))
    assert after.error is None  # a cancelled UMAP once left tqdm's lock held, and every later one hung


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_the_large_data_path(method, monkeypatch):
    """Annoy neighbours, FFT in both t-SNE phases, UMAP from the principal components: what 70,000
    points get, here on 600 by lowering the thresholds."""
    monkeypatch.setattr(core.embeddings.projection_runs, "LARGE", 200)
    monkeypatch.setattr(core.embeddings.projection_runs, "SPECTRAL_UP_TO", 200)
    features = pca(RAW, 20).coordinates
    params = {"iterations": 300, "perplexity": 15} if method == "tsne" else {"epochs": 600}
    projection = finished(start("test-large", features, method, 2, params))
    assert projection.error is None
    assert projection.frames_seen >= 4  # the start, the optimiser's first layout, intermediate ones, the end
    assert 0 <= projection.first_frame_seconds <= projection.first_optimised_seconds
    assert projection.frame.shape == (600, 2) and np.isfinite(projection.frame).all()
    assert nearest_shares_label(projection.frame) > 0.85 * nearest_shares_label(features)
    placed = place_new_point(projection, features[:1])
    assert placed.shape == (2,) and np.linalg.norm(placed - projection.frame[0]) < np.ptp(projection.frame) / 4
    monkeypatch.setattr(projection.model, "transform", lambda *_: pytest.fail("placed again: not remembered"))
    assert place_new_point(projection, features[:1]) is placed


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_a_finished_map_keeps_only_what_placing_a_point_needs(method):
    """Issue 30's memory: the cache keeps finished maps (up to 300,000 points' worth) for placing the
    drawing; a 10,000-point t-SNE kept 25 MB, 23 of them its affinities and k-NN lists, which only
    further optimisation reads. They are dropped; placing a point still works."""
    features = pca(RAW, 20).coordinates
    params = {"iterations": 100, "perplexity": 10} if method == "tsne" else {"neighbors": 10, "epochs": 100}
    projection = finished(start(f"test-kept-{method}", features, method, 2, params))
    assert projection.error is None
    model = projection.model
    if method == "tsne":
        private = [name for name in vars(model.affinities) if name.endswith(("__neighbors", "__distances"))]
        assert len(private) == 2, "openTSNE renamed its k-NN lists: drop the new names"
        held = [model.affinities.P, *(getattr(model.affinities, name) for name in private)]
    else:
        held = [model.graph_, model.knn_indices, model.knn_dists, model._knn_indices, model._knn_dists,
                *model.precomputed_knn]
    assert all(value is None for value in held)
    placed = place_new_point(projection, features[:1])
    assert placed.shape == (2,) and np.linalg.norm(placed - projection.frame[0]) < np.ptp(projection.frame) / 4


def test_tall_pca_and_neighbours_read_raw_pixels_as_bytes(monkeypatch):
    """Issue 30's memory: the page kept raw pixels as bytes, but made a float32 copy of them on every run
    (219 MB for all 70,000 digits) for the neighbours and for PCA. Both now read the bytes with their
    scale, a block of rows at a time, and agree with scikit-learn's covariance solver on the floats."""
    from sklearn.decomposition import PCA

    from core.embeddings.points import digit_points

    monkeypatch.setattr(core.embeddings.projection, "COVARIANCE_BLOCK", 1000)
    points = digit_points(30_000)  # tall: at least ten points per number
    floats = points.vectors()
    tracemalloc.start()
    result = pca(points.features, 10, points.scale)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < floats.nbytes / 4, "PCA of the bytes made a float copy of them"  # LAPACK alone takes 10 MB
    reference = PCA(10, svd_solver="covariance_eigh").fit(floats)
    assert result.coordinates.dtype == np.float32 and result.coordinates.shape == (30_000, 10)
    np.testing.assert_allclose(result.explained_variance_ratio, reference.explained_variance_ratio_, rtol=1e-3)  # float32 both
    np.testing.assert_allclose(result.components, reference.components_, atol=1e-3)
    np.testing.assert_allclose(result.coordinates, reference.transform(floats), atol=2e-3 * np.ptp(result.coordinates))
    np.testing.assert_allclose(result.transform(floats[:5]), reference.transform(floats[:5]), atol=1e-3 * np.ptp(result.coordinates))
    for metric in ("cosine", "euclidean"):
        found, distances = nearest_neighbours(points.features, 7, k=8, metric=metric, scale=points.scale)
        expected, expected_distances = nearest_neighbours(floats, 7, k=8, metric=metric)
        assert list(found) == list(expected)
        np.testing.assert_allclose(distances, expected_distances, rtol=1e-5)
