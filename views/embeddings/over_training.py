"""Embeddings' "over training" view: the probes a training saved, played back as an animated map
beside the curve of how apart the classes are at each saved point.

Not a page itself (app.py does not list it); views/embeddings/page.py calls :func:`section` for a
stored network, and :func:`live_points` under a training that is still running.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from core.embeddings.over_training import mean_displacement, pca_frames, separation, start_chain
from core.embeddings.probes import FILE, PROBE_IMAGES, Probes, ProbeSet, read_probes
from core.embeddings.sources import DIGITS, Source
from core.training.progress import DONE
from views.common import manager
from views.embeddings.animation import OT_COLOUR_BY, animation_figure, colour_choices, separation_figure
from views.embeddings.memo import remembered
from views.state import kept
from views.training_widget import job_panel, start_training, training_took

ss = st.session_state
METHODS = {"PCA": "pca", "t-SNE": "tsne", "UMAP": "umap"}
FITS = {"each": "each point, turned to match the previous one", "last": "the last point, once, for every point"}


@st.cache_resource(show_spinner=False, max_entries=4)
def stored_probes(folder: str, modified: float) -> Probes | None:
    """A store entry's probes, read once per version of the file (shared by every session)."""
    return read_probes(folder)


def entry_probes(source: Source) -> Probes | None:
    folder = source.entry.path if source.entry is not None else None
    if folder is None or not (Path(folder) / FILE).is_file():
        return None
    return stored_probes(str(folder), (Path(folder) / FILE).stat().st_mtime)


def layer_options(probes: Probes) -> dict[str, tuple[str, str]]:
    """What can be played back: {label: (probe set, layer)}, the default (the last hidden layer) first."""
    options = {}
    for name, probe_set in probes.sets.items():
        layers = list(probe_set.layers)
        # The layer before the output first: the features the output layer reads (the map's default).
        order = layers[-2::-1] + layers[-1:] if name == "images" and len(layers) > 1 else layers
        for layer in order:
            size = probe_set.layers[layer].shape[2]
            where = "" if len(probes.sets) == 1 else f"{probe_set.title}: "
            options[f"{where}{layer} ({size:,} numbers)"] = (name, layer)
    return options


def section(source: Source, left, right) -> None:
    """The over-training view of a stored network (its controls in ``left``, the view in ``right``)."""
    job = manager().find(source.job_kind, source.entry.config)
    if job is not None and not job.finished:  # being trained again: its progress, the points saved so far
        with right:
            st.info("This network is training again; the map shows the points its new training has saved so "
                    "far.", icon=":material/model_training:")
            job_panel(job, "emb_ot_train")  # reruns the page when it ends, which then plays the new probes
            live_points(job)
        return
    try:
        probes = entry_probes(source)
    except ValueError as error:
        right.error(str(error), icon=":material/error:")
        return
    if probes is None:
        with right:
            no_probes(source)
        return
    with left:
        options = layer_options(probes)
        chosen = st.selectbox("Layer", list(options), key=f"emb_ot_layer_{source.id}",
                              help="The probes' activations were saved for these layers at every point.")
        set_name, layer = options[chosen]
        probe_set = probes.sets[set_name]
        method = st.segmented_control("Method", list(METHODS), default="PCA", required=True, **kept("emb_ot_method"))
        dims = 3 if st.toggle("3-D", value=False, **kept("emb_ot_3d")) else 2
        fit = "each"
        if method == "PCA":
            fit = st.radio("PCA fitted on", list(FITS), format_func=FITS.get, **kept("emb_ot_fit"),
                           help="Each point's own principal components show its own structure; fitted once on "
                                "the trained network, one fixed view shows how that structure emerges.")
        colour_by = st.radio("Colour by", colour_choices(probe_set), format_func=OT_COLOUR_BY.get,
                             horizontal=True, **kept(f"emb_ot_colour_{set_name}"))  # choices differ per set
    probes_id = f"{source.id}/{source.updated}/{set_name}/{layer}"
    with left:
        separation_curve(probes, probe_set, layer, probes_id)
    with right:
        show_over_training(probes, probe_set, layer, probes_id, METHODS[method], dims, fit, colour_by)


def separation_curve(probes: Probes, probe_set: ProbeSet, layer: str, probes_id: str) -> None:
    """Beside the map: how apart the classes are at each saved point, and how often the network was right."""
    steps = [int(s) for s in probes.steps]
    curve = remembered("ot_separation", (probes_id,), lambda: separation(probe_set.layers[layer], probe_set.labels))
    accuracy_name = "right on the probes" if probe_set.predicted is None else "test accuracy (on the probes)"
    st.plotly_chart(separation_figure(steps, curve, probe_set.accuracy, accuracy_name, layer), key="emb_ot_curve",
                    config={"displayModeBar": False})
    st.caption(f"**Classes apart**: the share of the {len(probe_set):,} probes whose 10 nearest neighbours — "
               f"between the {layer} vectors themselves, not on the map — are mostly of their own class. Even "
               "at step 0 many are: a random layer roughly keeps which inputs are alike. **"
               + accuracy_name.capitalize() + "**: how often the network's output was right at that step, on "
               "the same probes.")


def show_over_training(probes: Probes, probe_set: ProbeSet, layer: str, probes_id: str, method: str, dims: int,
                       fit: str, colour_by: str) -> None:
    steps = [int(s) for s in probes.steps]
    frames = probe_set.layers[layer]
    what = f"{len(probe_set):,} probes ({probe_set.title})"
    if method == "pca":
        layouts = remembered("ot_pca", (probes_id, dims, fit), lambda: pca_frames(frames, dims, fit))
        title = f"PCA · {layer}"
    else:
        name = "t-SNE" if method == "tsne" else "UMAP"
        chain = start_chain(f"{probes_id}/{method}/{dims}", frames, method, dims, {})
        if not chain.done:
            chain_progress(chain, name, probe_set, steps)
            return
        if chain.error:
            st.error(chain.error, icon=":material/error:")
            return
        layouts, title = np.stack(chain.layouts), f"{name} · {layer}"
    st.plotly_chart(animation_figure(layouts, steps, probe_set, colour_by, title), key="emb_ot_plot")
    caption = (f"{what} at the {len(steps)} points the training saved, step 0 (before any update) to "
               f"step {steps[-1]:,}. Press ▶ Play, or drag the slider. Each frame is centred and scaled to the "
               "same size, so what changes is the arrangement, not how large the activations grow.")
    if method == "pca" and fit == "each":
        moved = mean_displacement(layouts).mean()
        raw = remembered("ot_pca_raw", (probes_id, dims), lambda: mean_displacement(pca_frames(frames, dims, align=False)).mean())
        caption += (f" Each point's PCA is turned (a rotation or a mirror) to match the previous one: the points "
                    f"move {moved:.2f} map radii per step on average, against {raw:.2f} for the PCAs as they come.")
    elif method == "pca":
        caption += f" The principal components of step {steps[-1]:,} (the trained network) give every frame."
    else:
        caption += (f" Each {title.split(' ·')[0]} starts from the previous point's layout, then is turned to "
                    "match it; only neighbourhoods mean something on such a map.")
    if not probes.complete:
        caption += f" This run stopped early: {len(steps)} of the {len(probes.scheduled)} scheduled points."
    st.caption(caption)


def chain_progress(chain, name: str, probe_set: ProbeSet, steps: list[int]) -> None:
    """A t-SNE or UMAP chain still running: how far it is, and its latest layout; reruns the page when done."""

    @st.fragment(run_every=1.0)
    def progress() -> None:
        done = len(chain.layouts)
        first = f" (the first took {chain.first_seconds:.0f} s; each later one starts from the previous layout and " \
                "takes less)" if chain.first_seconds else ""
        compiling = " (the first UMAP in this server also compiles its optimiser)" if name == "UMAP" and not done else ""
        st.progress(done / chain.count, text=f"{name}: {done} of {chain.count} points laid out{first}{compiling}…")
        if done:
            figure = animation_figure(np.stack(chain.layouts), steps[:done], probe_set, "label",
                                      f"{name} so far", start=done - 1)
            st.plotly_chart(figure, key="emb_ot_chain_live")
        if chain.done:
            st.rerun(scope="app")

    progress()


def no_probes(source: Source) -> None:
    """An older store entry (or a bundled model built before probes): say so, offer to train again."""
    what = f"the first {PROBE_IMAGES:,} test images through its dense layers" if source.kind == DIGITS else \
        "its characters' embeddings and its hidden state over a fixed passage"
    took = training_took(source.entry)
    how_long = f" It took {took} the first time." if took else ""
    st.info(f"**{source.title}** was trained before trainings saved their probes, so there is no record of how "
            f"its map formed. Train it again with the same settings to record them: the training saves {what} at "
            f"step 0 and ten more points, and replaces the stored network with the new one.{how_long}",
            icon=":material/history:")
    if st.button("Train again, saving probes", type="primary", icon=":material/model_training:",
                 key="emb_ot_retrain"):
        start_training(source.job_kind, source.entry.config, retrain=True)


def live_points(job) -> None:
    """The points a running training has saved so far (PCA, aligned), refreshed every two seconds."""
    run_dir = getattr(job, "run_dir", None)
    if run_dir is None:  # trained by a worker of the shared queue: its folder is not ours to read
        st.caption("The map over training appears when the training finishes.")
        return

    @st.fragment(run_every=2.0)
    def points() -> None:
        if job.status == DONE:
            return
        try:
            probes = read_probes(run_dir)
        except ValueError:
            probes = None
        if probes is None:
            st.caption("The map over training appears as soon as the training saves its first point (step 0, "
                       "before any update).")
            return
        probe_set = next(iter(probes.sets.values()))
        layer = list(probe_set.layers)[-2] if len(probe_set.layers) > 1 else list(probe_set.layers)[0]
        steps = [int(s) for s in probes.steps]
        layouts = pca_frames(probe_set.layers[layer], 2)
        st.plotly_chart(animation_figure(layouts, steps, probe_set, "label",
                                         f"Saved so far: {len(steps)} of {len(probes.scheduled)} points · {layer}",
                                         start=len(steps) - 1), key=f"emb_ot_live_{len(steps)}")
        st.caption(f"PCA of {len(probe_set):,} probes ({probe_set.title}) at each point saved so far; "
                   "the whole view opens when the training has finished.")

    points()
