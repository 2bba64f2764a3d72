"""The t-SNE and UMAP runs behind :func:`core.embeddings.projection.start`, sized for up to all 70,000 MNIST digits.

Both publish a starting layout at once (the first principal components, scaled as
the optimiser expects), then a layout every few iterations or every epoch, and
stop when the projection is cancelled. Above ``LARGE`` points they switch to what
scales on two cores: approximate neighbours (Annoy) and FFT-accelerated t-SNE
gradients in both phases; above ``SPECTRAL_UP_TO`` UMAP starts from the principal
components.
"""
from __future__ import annotations

import math
import threading
import time
import warnings

import numpy as np

LARGE = 20_000  # above this many points: approximate neighbours and the large-data settings below
SPECTRAL_UP_TO = 10_000  # UMAP's spectral start took 30 of the 60 s of a 20,000-point UMAP
ANNOY_TREES = 20  # openTSNE builds 50; 20 find 94.5 % of the true 90 nearest (MNIST, 70,000 in 50-D)
CORES = 2
_parallel_epochs = threading.Lock()
PERPLEXITY_CAP = 30


def default_perplexity(n: int) -> float:
    """The projector's default, max(5, ⌈√N / 4⌉), capped at 30.

    The projector never projects more than 10,000 points (perplexity 25); beyond that
    the formula keeps growing (67 for 70,000), and the cost with it: t-SNE uses the
    3 × perplexity nearest neighbours of every point. 30 is openTSNE's and
    scikit-learn's default.
    """
    return float(min(PERPLEXITY_CAP, max(5, math.ceil(math.sqrt(n) / 4))))


def clamp_perplexity(perplexity: float, n: int) -> tuple[float, str | None]:
    limit = (n - 1) / 3
    if perplexity >= limit:
        clamped = max(1.0, math.floor(limit - 1e-9))
        return clamped, (f"Perplexity {perplexity:g} is too large for {n} points (it must stay below "
                         f"(N − 1)/3 = {limit:.1f}); using {clamped:g}.")
    return perplexity, None


def neighbour_index(features: np.ndarray, k: int, seed: int):
    """openTSNE's k-NN index over ``features``, built: exact up to ``LARGE`` points, Annoy above.

    Exact neighbours (one brute-force pass of matrix products) take 1.3 s for 10,000 points
    in 50 dimensions, but grow with N²: about a minute for 70,000, where Annoy takes seconds.
    Either index also answers queries for new points (the drawing placed on a finished map).
    """
    from openTSNE import nearest_neighbors

    k = min(k, len(features) - 1)
    if len(features) <= LARGE:
        index = nearest_neighbors.Sklearn(features, k, metric="euclidean", n_jobs=CORES, random_state=seed)
    else:
        index = nearest_neighbors.Annoy(features, k, metric="euclidean", n_jobs=CORES, random_state=seed,
                                        knn_kwargs={"n_trees": ANNOY_TREES})
    return index


def starting_layout(features: np.ndarray, dims: int, spread: float = 1e-4) -> np.ndarray:
    """The first ``dims`` principal components, scaled so the first has standard deviation ``spread``.

    openTSNE's PCA initialisation (std 1e-4, the scale t-SNE starts from). It is on
    screen within a second, while the neighbours are still being found.
    """
    centred = features - features.mean(axis=0)
    # The top principal directions from the small D × D covariance matrix: fast for tall data.
    values, vectors = np.linalg.eigh(centred.T @ centred)
    top = vectors[:, np.argsort(values)[::-1][:dims]]
    top *= np.sign(top[np.abs(top).argmax(axis=0), range(dims)])  # a fixed sign per axis: reproducible
    layout = centred @ top
    if layout.shape[1] < dims:
        layout = np.pad(layout, ((0, 0), (0, dims - layout.shape[1])))
    return np.ascontiguousarray(layout / max(float(layout[:, 0].std()), 1e-12) * spread)


def kept_for_placing(embedding):
    """A finished t-SNE map as the cache keeps it: what openTSNE's ``transform`` reads to place a new
    point (the map, the neighbour index, the perplexity), without the optimisation's affinities.

    The joint probabilities P and the k-NN lists they were built from are only needed to go on
    optimising the map, and they are most of what a finished map holds; the cache keeps several maps.
    """
    affinities = embedding.affinities
    affinities.P = None
    for name in list(vars(affinities)):  # PerplexityBasedNN's private __neighbors and __distances
        if name.endswith(("__neighbors", "__distances")):
            setattr(affinities, name, None)
    return embedding


def run_tsne(projection, features: np.ndarray) -> None:
    """openTSNE's two phases (early exaggeration, then the main run), publishing layouts."""
    from openTSNE import TSNEEmbedding, affinity

    p, n = projection.params, len(features)
    try:
        perplexity, projection.note = clamp_perplexity(float(p.get("perplexity") or default_perplexity(n)), n)
        iterations = int(p.get("iterations", 500))
        exaggeration_iterations = min(250, max(50, iterations // 3))
        projection.total = exaggeration_iterations + iterations
        seed = int(p.get("seed", 0))
        learning_rate = p.get("learning_rate", "auto")
        phase_start = {"at": 0}

        def callback(iteration, error, embedding):
            projection._publish(phase_start["at"] + iteration, embedding)
            return projection._cancel.is_set()  # True stops openTSNE

        layout = starting_layout(features, projection.dims)
        projection._publish(0, layout)  # on screen while the neighbours are found
        index = neighbour_index(features, min(n - 1, int(3 * perplexity)), seed)
        affinities = affinity.PerplexityBasedNN(perplexity=perplexity, knn_index=index, n_jobs=CORES,
                                                random_state=seed, verbose=False)
        if projection._cancel.is_set():
            return
        flat = projection.dims == 2 and n >= 1000
        # FFT interpolation costs O(N) per iteration where Barnes-Hut costs O(N log N), but its grid grows
        # with the map's extent: up to LARGE points in 2-D, Barnes-Hut with theta 0.8 (1.6x faster than 0.5 at
        # the same KL divergence and neighbour preservation within 2 %, measured on MNIST) wins the main phase;
        # above, FFT wins both. FFT in 3-D is slower than Barnes-Hut (a 3-D grid), so 3-D uses Barnes-Hut.
        main_method = "fft" if flat and n > LARGE else "bh"
        embedding = TSNEEmbedding(layout, affinities, n_jobs=CORES, random_state=seed, theta=0.8,
                                  negative_gradient_method="fft" if flat else "bh",
                                  callbacks=callback, callbacks_every_iters=10 if n <= 5000 else 25)
        embedding = embedding.optimize(n_iter=exaggeration_iterations,
                                       exaggeration=float(p.get("early_exaggeration", 12.0)),
                                       momentum=0.5, learning_rate=learning_rate)
        phase_start["at"] = exaggeration_iterations
        if not projection._cancel.is_set():
            embedding = embedding.optimize(n_iter=iterations, momentum=0.8, learning_rate=learning_rate,
                                           negative_gradient_method=main_method, theta=0.8)
        if projection._cancel.is_set():
            return
        projection.model = kept_for_placing(embedding)
        projection._publish(projection.total, np.asarray(embedding))
    except Exception as error:  # shown on the page in words
        projection.error = f"t-SNE failed: {type(error).__name__}: {error}"
    finally:
        if projection._cancel.is_set() and projection.error is None:
            projection.error = "t-SNE was stopped."
        projection.done = True
        projection.finished = time.time()


class _Cancelled(Exception):
    pass


class _FrameSink:
    """A file for tqdm: each progress line UMAP's optimiser writes publishes the current layout.

    UMAP has no callback, but its epoch loop reports through tqdm, and the layout
    array it updates in place is ours, so every report is a moment to copy it.
    Cancelling must not raise here: tqdm writes while holding its global lock and
    would never release it (every later UMAP then hangs). Instead the edges' epochs
    per sample, an array of ours the optimiser reads in place, become so large that
    no edge is sampled again, and the remaining epochs pass in milliseconds.
    """

    def __init__(self, projection, layout: np.ndarray, epochs_per_sample: np.ndarray) -> None:
        self.projection, self.layout, self.epochs_per_sample = projection, layout, epochs_per_sample

    def write(self, text: str) -> None:
        if self.projection._cancel.is_set():
            self.epochs_per_sample[:] = 1e30  # finite: the optimiser is compiled with fastmath
            return
        done = text.strip().split("/")[0]
        if done.isdigit() and 0 < int(done) < self.projection.total:
            self.projection._publish(int(done), self.layout)

    def flush(self) -> None:
        pass


class _SearchIndex:
    """What UMAP's transform asks of a neighbour index (``query``), answered by openTSNE's index."""

    _angular_trees = False

    def __init__(self, index) -> None:
        self.index = index

    def query(self, points: np.ndarray, k: int, epsilon: float = 0.1):
        return self.index.query(np.asarray(points, dtype=np.float64), k)


def precomputed_neighbours(features: np.ndarray, neighbours: int, seed: int) -> tuple:
    """UMAP's ``precomputed_knn``: (indices, distances, an index that answers queries).

    Our neighbours, not UMAP's: its NN-descent (pynndescent) compiles for minutes on a cold start
    here and runs on one core when a seed is set. UMAP counts a point as its own first neighbour,
    at distance 0."""
    index = neighbour_index(features, neighbours - 1, seed)
    found, distances = index.build()
    own = np.arange(len(features))[:, None]
    return (np.hstack([own, found]).astype(np.int32), np.hstack([np.zeros_like(own), distances]).astype(np.float32),
            _SearchIndex(index))


def umap_kept_for_placing(reducer):
    """A finished UMAP as the cache keeps it: ``transform`` queries the neighbour index and optimises
    the new point against ``embedding_``; the fuzzy graph and the k-NN lists are not read again."""
    reducer.graph_, reducer.precomputed_knn = None, (None, None, None)
    reducer.knn_indices = reducer.knn_dists = reducer._knn_indices = reducer._knn_dists = None
    return reducer


def run_umap(projection, features: np.ndarray) -> None:
    """UMAP's fuzzy graph and start, then its own optimiser, publishing layouts as it goes."""
    p, n = projection.params, len(features)
    try:
        neighbours = int(min(max(2, int(p.get("neighbors", 15))), n - 1))
        epochs = int(p.get("epochs", 200))
        min_dist = float(p.get("min_dist", 0.1))
        seed = int(p.get("seed", 0))
        projection.total = epochs
        projection._publish(0, starting_layout(features, projection.dims, spread=1.0))
        import umap
        from umap.layouts import optimize_layout_euclidean
        from umap.umap_ import find_ab_params, make_epochs_per_sample

        knn = precomputed_neighbours(features, neighbours, seed)
        if projection._cancel.is_set():
            raise _Cancelled()
        # n_epochs=0: UMAP builds the fuzzy neighbour graph and the (scaled) starting layout, no more.
        # Its spectral start grows faster than the optimisation; above SPECTRAL_UP_TO points it starts
        # from the principal components instead, as openTSNE does (70,000 points: 10-NN preservation
        # 0.109 against umap.UMAP()'s 0.113 from its spectral start).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "not an NNDescent object": transform works through _SearchIndex
            reducer = umap.UMAP(n_components=projection.dims, n_neighbors=neighbours, min_dist=min_dist,
                                n_epochs=0, random_state=seed, n_jobs=1, low_memory=True,
                                init="spectral" if n <= SPECTRAL_UP_TO else starting_layout(features, projection.dims),
                                precomputed_knn=knn)
            reducer.fit(features)
        layout = np.ascontiguousarray(reducer.embedding_, dtype=np.float32)
        projection._publish(0, layout)
        # What umap.umap_.simplicial_set_embedding does before optimising, for `epochs` epochs.
        graph = reducer.graph_.tocoo(copy=True)
        graph.sum_duplicates()
        graph.data[graph.data < graph.data.max() / float(epochs)] = 0.0
        graph.eliminate_zeros()
        a, b = find_ab_params(1.0, min_dist)
        rng_state = np.random.RandomState(seed).randint(np.iinfo(np.int32).min, np.iinfo(np.int32).max,
                                                        3).astype(np.int64)
        epochs_per_sample = make_epochs_per_sample(graph.data, epochs)
        # Each point draws its own random numbers (umap-learn 0.5.12), so both cores can share the epochs;
        # only the order of concurrent updates varies, so large maps are not bit-for-bit reproducible.
        # One parallel run at a time: two would each want both cores (a second runs on one core).
        parallel = n > LARGE and _parallel_epochs.acquire(blocking=False)
        try:
            optimize_layout_euclidean(
                layout, layout, graph.row, graph.col, epochs, graph.shape[1], epochs_per_sample, a, b,
                rng_state, 1.0, 1.0, 5, parallel=parallel, verbose=False, move_other=True,
                tqdm_kwds={"disable": False, "file": _FrameSink(projection, layout, epochs_per_sample),
                           "mininterval": 0.2, "bar_format": "{n_fmt}/{total_fmt}", "ascii": True})
        finally:
            if parallel:
                _parallel_epochs.release()
        if projection._cancel.is_set():
            raise _Cancelled()
        reducer.embedding_, reducer.n_epochs = layout, epochs  # what transform() reads to place new points
        projection.model = umap_kept_for_placing(reducer)
        projection._publish(epochs, layout)
    except _Cancelled:
        projection.error = "UMAP was stopped."
    except Exception as error:
        projection.error = f"UMAP failed: {type(error).__name__}: {error}"
    finally:
        projection.done = True
        projection.finished = time.time()

