"""Embeddings and their projections: PCA, t-SNE (openTSNE) and UMAP.

t-SNE and UMAP run in a background thread (:class:`Projection`) that publishes
intermediate layouts while it optimises, as TensorBoard's projector shows
them; the page polls ``projection.frame``. Finished results are kept in an
in-process cache keyed by (source, N, method, parameters), so coming back is
instant.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from core.digits.look_inside import probe_model
from core.embeddings.projection_runs import PERPLEXITY_CAP, clamp_perplexity, default_perplexity  # noqa: F401 (API)
from core.errors import BadConfig, BadInput

METHODS = ("pca", "tsne", "umap")
_cache: "OrderedDict[str, Projection]" = OrderedDict()
_cache_lock = threading.Lock()
CACHED_POINTS = 300_000  # finished and running projections kept, counted in points


def method_name(method: str) -> str:
    return {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}[method]


# ---- sources -------------------------------------------------------------------------

def layer_activations(model, layer: str, images: np.ndarray, batch: int = 1000) -> np.ndarray:
    """Flattened activations of ``layer`` for (N, 28, 28) images in [0, 1]."""
    names = [l.name for l in model.layers]
    if layer not in names:
        raise BadConfig(f"The network has no layer '{layer}'. Its layers: {', '.join(names)}.")
    probe = probe_model(model, model.get_layer(layer).output)
    x = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
    parts = [np.asarray(probe(x[i:i + batch], training=False)) for i in range(0, len(x), batch)]
    features = np.concatenate(parts).reshape(len(x), -1)
    check_features(features, f"layer {layer}")
    return features


def check_features(features: np.ndarray, what: str = "the data") -> None:
    if features.ndim != 2 or len(features) < 3:
        raise BadInput(f"Need at least 3 points to project; {what} has {len(features)}.")
    if features.dtype.kind in "fc" and not np.isfinite(features).all():  # bytes and integers are finite
        bad = int((~np.isfinite(features)).any(axis=1).sum())
        raise BadInput(f"{bad} of the {len(features)} activation vectors of {what} contain NaN or "
                       "infinite values (the network may have diverged); they cannot be projected.")


def spherize(features: np.ndarray) -> np.ndarray:
    """Centre, then scale every point to unit length (the projector's "spherize data")."""
    centred = features - features.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.where(norms == 0, 1, norms)


# ---- PCA ------------------------------------------------------------------------------

@dataclass
class PCAResult:
    coordinates: np.ndarray  # (N, components)
    explained_variance_ratio: np.ndarray  # per component, of the total variance
    components: np.ndarray  # (components, features)
    mean: np.ndarray

    def transform(self, features: np.ndarray) -> np.ndarray:
        return (np.asarray(features, dtype=np.float64) - self.mean) @ self.components.T


COVARIANCE_BLOCK = 8192  # rows made floats at once by the tall-data PCA (25 MB for 784 numbers each)


def pca(features: np.ndarray, components: int = 10, scale: float = 1.0) -> PCAResult:
    """The first ``components`` principal components of ``features`` times ``scale`` (raw pixels come as
    their bytes and 1/255).

    Tall data (at most 1,000 numbers per point and at least ten times as many points), where
    scikit-learn's "auto" picks the covariance solver, is done here with that solver, a block of rows at a
    time from the features as they are, so that raw pixels (bytes) need no float copy of the whole set.
    Other data goes to scikit-learn."""
    check_features(features)
    n, width = features.shape
    components = max(1, min(components, width, n))
    if width <= 1000 and n >= 10 * width:
        return _pca_by_covariance(features, components, scale)
    from sklearn.decomposition import PCA

    floats = features if features.dtype.kind == "f" and scale == 1.0 else \
        np.multiply(features, np.float32(scale), dtype=np.float32)
    model = PCA(n_components=components, random_state=0)
    coordinates = model.fit_transform(np.asarray(floats))
    return PCAResult(coordinates, model.explained_variance_ratio_, model.components_, model.mean_)


def _pca_by_covariance(features: np.ndarray, components: int, scale: float) -> PCAResult:
    """scikit-learn's "covariance_eigh" solver (the eigenvectors of the D × D covariance; the sign of each
    component such that its largest entry is positive, as its svd_flip does), in blocks of rows. Floats
    of the input's precision: float64 stays float64, anything else is computed in float32, as
    scikit-learn does for float32 vectors."""
    dtype = np.float64 if features.dtype == np.float64 else np.float32
    n = len(features)
    blocks = range(0, n, COVARIANCE_BLOCK)

    def centred(start: int) -> np.ndarray:
        block = np.multiply(features[start:start + COVARIANCE_BLOCK], dtype(scale), dtype=dtype)
        block -= mean.astype(dtype)
        return block

    mean = sum(features[start:start + COVARIANCE_BLOCK].sum(axis=0, dtype=np.float64) for start in blocks) * scale / n
    covariance = np.zeros((features.shape[1],) * 2)
    for start in blocks:
        block = centred(start)
        covariance += block.T @ block
    values, vectors = np.linalg.eigh(covariance)
    top = np.argsort(values)[::-1][:components]
    axes = vectors[:, top].T
    axes *= np.sign(axes[np.arange(components), np.abs(axes).argmax(axis=1)])[:, None]
    coordinates = np.empty((n, components), dtype=dtype)
    for start in blocks:
        coordinates[start:start + COVARIANCE_BLOCK] = centred(start) @ axes.T.astype(dtype)
    ratio = values[top].clip(min=0) / max(float(np.trace(covariance)), np.finfo(float).tiny)
    return PCAResult(coordinates, ratio, axes, mean)


# ---- neighbours -------------------------------------------------------------------------

NEIGHBOUR_BLOCK = 8192  # rows converted to float64 at once (50 MB for 784 numbers each)


def nearest_neighbours(features: np.ndarray, index: int, k: int = 8, metric: str = "cosine", scale: float = 1.0):
    """(indices, distances) of the k nearest points to ``features[index]`` (the vectors are ``features``
    times ``scale``: raw pixels come as their bytes), itself excluded.

    Computed in float64 a block of rows at a time: a float64 copy of all 70,000 raw digits would
    take 439 MB for the length of every page run."""
    n = len(features)
    if not 0 <= index < n:
        raise BadInput(f"Point {index} does not exist; there are {n} points.")
    if metric not in ("cosine", "euclidean"):
        raise BadConfig("The distance is 'cosine' or 'euclidean'.")
    target = np.asarray(features[index], dtype=np.float64) * scale
    distances = np.empty(n)
    for start in range(0, n, NEIGHBOUR_BLOCK):
        x = np.multiply(features[start:start + NEIGHBOUR_BLOCK], scale, dtype=np.float64)  # one block, one copy
        if metric == "cosine":
            norms = np.linalg.norm(x, axis=1) * (np.linalg.norm(target) or 1)
            norms[norms == 0] = 1
            distances[start:start + len(x)] = 1 - (x @ target) / norms
        else:
            distances[start:start + len(x)] = np.linalg.norm(x - target, axis=1)
    distances[index] = np.inf
    k = min(k, n - 1)
    order = np.argpartition(distances, k)[:k]
    order = order[np.argsort(distances[order])]
    return order, distances[order]


# ---- t-SNE and UMAP in the background ------------------------------------------------------

MAX_POINTS = 70_000  # all of MNIST (test + training images), in 2-D
# 3-D: Plotly's 3-D scatter redraws every point as it turns, and 3-D t-SNE runs Barnes-Hut (FFT on a 3-D grid
# is slower still): 20,000 points took 203 s on two cores, 5,000 took 13.5 s. UMAP 3-D of 20,000: 60 s.
MAX_POINTS_3D = {"tsne": 10_000, "umap": 20_000}


def max_points(dims: int, method: str) -> int:
    """The most points ``method`` ("tsne" or "umap") projects in ``dims`` dimensions."""
    return MAX_POINTS if dims == 2 else MAX_POINTS_3D[method]


@dataclass
class Projection:
    """One running or finished t-SNE/UMAP; ``frame`` is the latest layout."""

    method: str
    dims: int
    params: dict
    n: int
    frame: np.ndarray | None = None
    iteration: int = 0
    total: int = 0
    frames_seen: int = 0
    done: bool = False
    error: str | None = None
    note: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    first_frame_seconds: float | None = None  # the starting layout, shown while the neighbours are found
    first_optimised_seconds: float | None = None  # the first layout the optimiser moved
    stage: str = "neighbours"  # finding neighbours, then "optimising"
    model: object = None  # the fitted openTSNE embedding (for transform) or UMAP model
    thread: threading.Thread | None = None  # the run's thread; it ends soon after cancel()
    placed: dict = field(default_factory=dict)  # new points already placed on the finished map
    _cancel: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._cancel.set()

    def _publish(self, iteration: int, layout: np.ndarray) -> None:
        self.frame = np.array(layout, dtype=np.float32)
        self.iteration = iteration
        self.frames_seen += 1
        if self.first_frame_seconds is None:
            self.first_frame_seconds = time.time() - self.started
        if iteration > 0 and self.first_optimised_seconds is None:
            self.stage = "optimising"
            self.first_optimised_seconds = time.time() - self.started


def cache_key(source: str, n: int, method: str, dims: int, params: dict) -> str:
    text = json.dumps([source, n, method, dims, params], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def start(source: str, features: np.ndarray, method: str, dims: int, params: dict) -> Projection:
    """The cached projection for these settings, or a new one running in a thread."""
    if method not in ("tsne", "umap"):
        raise BadConfig("Background projection is for t-SNE and UMAP.")
    if dims not in (2, 3):
        raise BadConfig("Project to 2 or 3 dimensions.")
    check_features(features)
    if len(features) > max_points(dims, method):
        raise BadInput(f"{method_name(method)} in {dims}-D projects at most {max_points(dims, method):,} points; "
                       f"these are {len(features):,}.")
    key = cache_key(source, len(features), method, dims, params)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None and not found.error and not found._cancel.is_set():
            _cache.move_to_end(key)
            return found
        projection = Projection(method, dims, dict(params), len(features))
        _cache[key] = projection
        # A finished 70,000-point t-SNE keeps its affinities (~100 MB): bound the points kept, not just the runs.
        while len(_cache) > 16 or (len(_cache) > 1 and sum(p.n for p in _cache.values()) > CACHED_POINTS):
            _cache.popitem(last=False)
    from core.embeddings.projection_runs import run_tsne, run_umap

    runner = run_tsne if method == "tsne" else run_umap
    projection.thread = threading.Thread(target=runner, args=(projection, features), daemon=True,
                                         name="dlp-projection")
    projection.thread.start()
    return projection


def place_new_point(projection: Projection, features: np.ndarray) -> np.ndarray | None:
    """Where a new point lands on a finished t-SNE (openTSNE's transform) or UMAP map (UMAP's transform).

    Remembered per vector: both transforms optimise the new point against the whole map (a second
    or more on 70,000 points), and the page asks again on every rerun.
    """
    if not projection.done or projection.model is None:
        return None
    vectors = np.asarray(features, dtype=np.float64).reshape(1, -1)
    key = hashlib.sha256(vectors.tobytes()).hexdigest()
    if key not in projection.placed:
        if len(projection.placed) >= 8:
            projection.placed.pop(next(iter(projection.placed)))
        projection.placed[key] = np.asarray(projection.model.transform(vectors))[0]
    return projection.placed[key]
