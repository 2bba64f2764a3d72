"""The map over training: the probes' layouts at every saved point of a run, aligned so that a
point moves from one frame to the next instead of jumping.

A projection of each point on its own is free to come out rotated or mirrored (PCA's signs and
order, t-SNE's and UMAP's arbitrary orientation), so an animation of independent layouts jumps
even where the vectors barely changed. Here:

- PCA: each point's own first components (``fit="each"``), then turned onto the previous frame by
  an orthogonal Procrustes fit (the rotation, mirror included, that moves its points least); or the
  components of the last point, the trained network, fitted once and used for every point
  (``fit="last"``: a fixed view in which the final structure emerges).
- t-SNE and UMAP run as a chain (:class:`Chain`, in a background thread): each point's layout
  starts from the previous one, then is Procrustes-aligned too.

Every frame is centred and scaled to the same size (90 % of the points within radius 1), so the
animation shows how the structure changes, not how the activations grow. :func:`separation` measures the classes'
separation in the original space (leave-one-out k-nearest-neighbour accuracy), point by point.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from core.errors import BadConfig

FITS = ("each", "last")
NEIGHBOURS = 10  # for the separation curve


def normalised(layout: np.ndarray) -> np.ndarray:
    """Centred, and scaled so that 90 % of the points lie within distance 1 of the centre (a few
    far-out points, common before training, do not shrink the rest)."""
    centred = np.asarray(layout, dtype=np.float64) - np.mean(layout, axis=0)
    radius = float(np.percentile(np.linalg.norm(centred, axis=1), 90))
    return centred / (radius or 1.0)


def procrustes(reference: np.ndarray, layout: np.ndarray) -> np.ndarray:
    """``layout`` turned (rotation or mirror, no scaling) to lie closest to ``reference``.

    Both are centred (see :func:`normalised`). The orthogonal R minimising ‖layout·R − reference‖
    is U·Vᵀ from the singular value decomposition layoutᵀ·reference = U·S·Vᵀ."""
    u, _, vt = np.linalg.svd(layout.T @ reference)
    return layout @ (u @ vt)


def top_components(features: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, components (dims, D)) of the first principal directions, signs fixed.

    Up to 512 numbers per vector, from the D × D covariance (milliseconds for 256); wider layers
    (the 2017 CNN's 1,024) by subspace iteration, which finds the leading directions in a fraction
    of the time of the whole decomposition."""
    x = np.asarray(features, dtype=np.float64)
    mean = x.mean(axis=0)
    centred = x - mean
    k = min(dims, *x.shape)
    if x.shape[1] <= 512:
        _, vectors = np.linalg.eigh(centred.T @ centred)
        vt = vectors[:, ::-1][:, :k].T.copy()
    else:
        basis = np.random.default_rng(0).normal(size=(x.shape[1], k + 8))
        for _ in range(10):
            basis, _ = np.linalg.qr(centred.T @ (centred @ basis))
        _, _, small = np.linalg.svd(centred @ basis, full_matrices=False)
        vt = small[:k] @ basis.T
    vt *= np.sign(vt[np.arange(k), np.abs(vt).argmax(axis=1)])[:, None]
    if k < dims:  # fewer numbers per vector than axes: the missing axes stay at 0
        vt = np.vstack([vt, np.zeros((dims - k, x.shape[1]))])
    return mean, vt


def pca_frames(frames: np.ndarray, dims: int, fit: str = "each", align: bool = True) -> np.ndarray:
    """(T, N, dims) PCA layouts of (T, N, D) probe activations, normalised, and (``align``)
    each turned onto the previous one. ``align=False`` is the reference the alignment is judged
    against: every point's own PCA as it comes."""
    if fit not in FITS:
        raise BadConfig(f"PCA is fitted on each point or once on the last point, not {fit!r}.")
    frames = np.asarray(frames, dtype=np.float64)
    if fit == "last":
        _, components = top_components(frames[-1], dims)
        return np.stack([normalised((f - f.mean(axis=0)) @ components.T) for f in frames])
    out = []
    for features in frames:
        mean, components = top_components(features, dims)
        layout = normalised((features - mean) @ components.T)
        out.append(procrustes(out[-1], layout) if align and out else layout)
    return np.stack(out)


def mean_displacement(layouts: np.ndarray) -> np.ndarray:
    """(T − 1,) how far the points move on average from each frame to the next (the frames being
    normalised, in units of the map's radius)."""
    layouts = np.asarray(layouts, dtype=np.float64)
    return np.linalg.norm(np.diff(layouts, axis=0), axis=2).mean(axis=1)


def knn_accuracy(features: np.ndarray, labels: np.ndarray, k: int = NEIGHBOURS) -> float:
    """The share of points whose ``k`` nearest others (Euclidean, in the original space) mostly
    carry the point's own label: 1 when every class is a tight group apart from the others."""
    x = np.asarray(features, dtype=np.float32)
    labels = np.asarray(labels)
    k = max(1, min(k, len(x) - 1))
    squared = (x * x).sum(axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * (x @ x.T)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argpartition(distances, k, axis=1)[:, :k]
    votes = labels[nearest]
    classes = int(labels.max()) + 1
    counts = np.zeros((len(x), classes), dtype=np.int32)
    np.add.at(counts, (np.repeat(np.arange(len(x)), k), votes.ravel()), 1)
    return float((counts.argmax(axis=1) == labels).mean())


def separation(frames: np.ndarray, labels: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """(T,) :func:`knn_accuracy` at every saved point."""
    return np.array([knn_accuracy(f, labels, k) for f in np.asarray(frames, dtype=np.float32)])


# ---- t-SNE and UMAP chains in the background ----------------------------------------------------

@dataclass
class Chain:
    """A t-SNE or UMAP layout per saved point, each started from the previous; ``layouts`` grows
    as they finish (aligned and normalised, ready to draw)."""

    method: str
    dims: int
    params: dict
    count: int  # how many points of the run there are to lay out
    layouts: list = field(default_factory=list)
    seconds: list = field(default_factory=list)  # each layout's time
    done: bool = False
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def first_seconds(self) -> float | None:
        return self.seconds[0] if self.seconds else None


_chains: "OrderedDict[str, Chain]" = OrderedDict()
_chains_lock = threading.Lock()


def reduced(features: np.ndarray, dims: int = 50) -> np.ndarray:
    """The first ``dims`` principal components (t-SNE and UMAP start from them, as on the map)."""
    x = np.asarray(features, dtype=np.float64)
    if x.shape[1] <= dims:
        return x
    mean, components = top_components(x, dims)
    return (x - mean) @ components.T


def tsne_step(features: np.ndarray, dims: int, previous: np.ndarray | None, params: dict,
              stop=lambda: False) -> np.ndarray:
    """One t-SNE layout: the first from the principal components with early exaggeration (as on the
    map), the later ones from ``previous``, ``params["follow_iterations"]`` plain iterations.
    ``stop()`` true ends the optimisation early (checked every 25 iterations)."""
    from openTSNE import TSNEEmbedding, affinity

    from core.embeddings.projection_runs import clamp_perplexity, default_perplexity, neighbour_index, starting_layout

    n, seed = len(features), int(params.get("seed", 0))
    perplexity, _ = clamp_perplexity(float(params.get("perplexity") or default_perplexity(n)), n)
    index = neighbour_index(features, min(n - 1, int(3 * perplexity)), seed)
    affinities = affinity.PerplexityBasedNN(perplexity=perplexity, knn_index=index, n_jobs=2, random_state=seed,
                                            verbose=False)
    start = starting_layout(features, dims) if previous is None else np.ascontiguousarray(previous)
    embedding = TSNEEmbedding(start, affinities, n_jobs=2, random_state=seed, theta=0.8,
                              negative_gradient_method="bh", callbacks=lambda *_: stop(), callbacks_every_iters=25)
    # Fewer iterations than a map of its own (500 after the exaggeration): every later point goes on
    # refining from this one, and the first point (before training) holds little structure to find.
    if previous is None:
        embedding = embedding.optimize(n_iter=250, exaggeration=12.0, momentum=0.5)
        return np.asarray(embedding.optimize(n_iter=int(params.get("iterations", 300)), momentum=0.8))
    return np.asarray(embedding.optimize(n_iter=int(params.get("follow_iterations", 200)), momentum=0.8))


def umap_step(features: np.ndarray, dims: int, previous: np.ndarray | None, params: dict,
              stop=lambda: False) -> np.ndarray:
    """One UMAP layout: spectral start first, then from ``previous`` with half the epochs."""
    import warnings

    import umap

    from core.embeddings.projection_runs import precomputed_neighbours

    n, seed = len(features), int(params.get("seed", 0))
    neighbours = int(min(max(2, int(params.get("neighbors", 15))), n - 1))
    epochs = int(params.get("epochs", 200)) // (1 if previous is None else 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_components=dims, n_neighbors=neighbours, min_dist=float(params.get("min_dist", 0.1)),
                            n_epochs=epochs, random_state=seed, n_jobs=1,
                            init="spectral" if previous is None else np.asarray(previous, dtype=np.float32),
                            precomputed_knn=precomputed_neighbours(features, neighbours, seed))
        return np.asarray(reducer.fit_transform(features))


def _run(chain: Chain, frames: np.ndarray) -> None:
    step = tsne_step if chain.method == "tsne" else umap_step
    previous = None
    try:
        for features in frames:
            if chain._cancel.is_set():
                chain.error = "Stopped."
                return
            began = time.time()
            layout = step(reduced(features), chain.dims, previous, chain.params, chain._cancel.is_set)
            if chain._cancel.is_set():
                chain.error = "Stopped."
                return
            previous = layout
            shown = normalised(layout)
            chain.layouts.append(procrustes(chain.layouts[-1], shown) if chain.layouts else shown)
            chain.seconds.append(time.time() - began)
    except Exception as error:  # shown on the page in words
        chain.error = f"{'t-SNE' if chain.method == 'tsne' else 'UMAP'} failed: {type(error).__name__}: {error}"
    finally:
        chain.done = True
        chain.finished = time.time()


def cancel_chains() -> None:
    """Stop every chain (a test's cleanup; the page lets them finish and keeps them)."""
    with _chains_lock:
        for chain in _chains.values():
            chain.cancel()
        _chains.clear()


def start_chain(key: str, frames: np.ndarray, method: str, dims: int, params: dict) -> Chain:
    """The chain for ``key`` (the probes, layer and settings), running or finished, or a new one."""
    if method not in ("tsne", "umap"):
        raise BadConfig("A chain of layouts is for t-SNE and UMAP.")
    if dims not in (2, 3):
        raise BadConfig("Project to 2 or 3 dimensions.")
    with _chains_lock:
        found = _chains.get(key)
        if found is not None and not found.error:
            _chains.move_to_end(key)
            return found
        chain = Chain(method, dims, dict(params), len(frames))
        _chains[key] = chain
        while len(_chains) > 6:
            _, old = _chains.popitem(last=False)
            old.cancel()
    threading.Thread(target=_run, args=(chain, np.asarray(frames, dtype=np.float32)), daemon=True,
                     name="dlp-chain").start()
    return chain
