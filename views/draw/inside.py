"""Draw's "A look inside" section: saliency, first-layer weights, feature maps you can click to see
one convolution computed, dense activations with one unit's largest contributions."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.digits.convolution import (convolutions, dense_layers, explain_cell, explain_unit, grids,
                                     shrink_reasons, workings)
from core.digits.look_inside import DigitReader, mosaic, shown_layer
from views.draw.cell import show_cell, show_unit
from views.draw.inside_pictures import PLAIN
from views.draw.map_picker import grey_tile, map_picker

CELL = "draw_inside_cell"  # {"model": name, "layer", "map", "row", "col"}: the cell explained
UNIT = "draw_inside_unit"  # {"model": name, "layer", "unit"}: the dense unit explained


def look_inside_section(reader: DigitReader | None, digit: np.ndarray | None,
                        class_names: list[str] | None = None) -> None:
    """Show what ``reader``'s network does with ``digit`` (28×28), or say what is missing."""
    if reader is None:
        st.info("Look inside once the network is trained: train it above, or wait for its training to finish.",
                icon=":material/hourglass:")
        return
    if digit is None:
        st.info("Draw on the canvas to look inside the network with your drawing.", icon=":material/draw:")
        return
    inside = reader.look_inside(digit)
    st.markdown("**Saliency** — the size of the gradient of the top class's probability with "
                "respect to each input pixel, rescaled so that the largest is 1: how strongly "
                "that probability would respond to a tiny change of that pixel alone. It is a "
                "local, first-order sensitivity around this very drawing — bright pixels are "
                "where the output is most sensitive right here, not proof of which strokes "
                "the network \"uses\".")
    overlay = np.stack([np.clip(digit * 0.6 + inside.saliency * 0.9, 0, 1),
                        digit * 0.6, digit * 0.6], axis=-1)
    c1, c2 = st.columns(2)
    c1.image(digit, caption="input", width=220, clamp=True)
    c2.image(overlay, caption="saliency (red) over the input", width=220, clamp=True)
    kind, tiles = reader.first_layer_tiles()
    if kind == "filters":
        st.markdown(f"**First-layer filters** — the {len(tiles)} small kernels the first convolution "
                    "slides over the image; each looks for one local pattern such as an edge at an "
                    "angle (grey is zero, white positive, black negative; each tile scaled to its own "
                    "largest weight).")
    else:
        st.markdown(f"**First-layer weights** — each of the first layer's neurons has one weight per "
                    f"pixel, shown as a 28×28 tile ({len(tiles)} shown): ink on white pixels raises the "
                    "neuron's input, ink on black ones lowers it (grey is zero).")
    filters = mosaic(tiles, columns=16, normalise="signed")
    scale = max(1, 1000 // filters.shape[1])  # enlarged here, pixel for pixel: the browser would blur them
    st.image(np.kron(filters, np.ones((scale, scale))), clamp=True, width="stretch")
    model = reader.model
    work = workings(model, digit)
    map_of = {shown_layer(model, conv).name: conv.name for conv in convolutions(model)}
    feature_maps(model, work, inside.feature_maps, digit, map_of)
    dense_units(model, work, inside.activations, reader.dense_layers[-1].name, map_of, class_names)


def stages_after(model, work, name: str) -> str:
    """What stands between the convolution and the maps shown, in words, read from the model."""
    words = {"batch_norm": "batch normalisation", "relu": "ReLU"}
    steps = explain_cell(work, name, 0, 0, 0).steps
    named = [words.get("batch_norm" if s.kind == "batch_norm" else s.params.get("name"), s.params.get("name"))
             for s in steps]
    return " and ".join(named) if named else "no activation"


def growth_sentence(model, names: list[str]) -> str:
    """How the grid and the receptive field change from one convolution to the next, from the layers."""
    grid = grids(model)
    fields = ", ".join(f"`{n}` {grid[n].field[0]}×{grid[n].field[1]}" for n in names)
    changes = []
    for earlier, later in zip(names, names[1:]):
        (h0, w0), (h1, w1) = grid[earlier].size, grid[later].size
        reasons = shrink_reasons(model, earlier, later)
        if (h0, w0) == (h1, w1):
            changes.append(f"`{later}` keeps `{earlier}`'s {h1}×{w1} grid (stride 1, no pooling between)")
        else:
            changes.append(f"`{later}`'s grid is coarser than `{earlier}`'s ({h0}×{w0} → {h1}×{w1}: "
                           f"{', '.join(reasons)})")
    return (f"Deeper, each cell sees more of the input — receptive fields {fields} pixels — while the grid "
            f"shrinks only where a layer strides or pools: {'; '.join(changes)}.")


def feature_maps(model, work, maps_by_layer: dict[str, np.ndarray], digit: np.ndarray,
                 map_of: dict[str, str]) -> None:
    state = st.session_state
    names = list(maps_by_layer)
    if not names:
        return
    grid = grids(model)
    chosen = state.get(CELL)
    if not (isinstance(chosen, dict) and chosen.get("model") == model.name and chosen.get("layer") in names):
        chosen = None
    st.markdown("**Feature maps** — where in the image each filter found its pattern (bright = strong "
                "response; each map is scaled to its own range). **Click or tap a cell** of any map to "
                "see it computed." + (" " + growth_sentence(model, names) if len(names) > 1 else ""))
    for name in names:
        maps = maps_by_layer[name]
        height, width, channels = maps.shape
        g = grid[name]
        st.markdown(f"**Feature maps of `{name}`** — {channels} maps of {height}×{width}, after {stages_after(model, work, name)}; "
                    f"each cell sees a {g.field[0]}×{g.field[1]}-pixel square of the input (its receptive "
                    f"field), neighbouring cells {g.jump[0]} pixel{'s' if g.jump[0] > 1 else ''} apart.")

        def pick(where, layer=name):
            state[CELL] = {"model": model.name, "layer": layer, "map": where[0], "row": where[1], "col": where[2]}
        mine = chosen if chosen and chosen["layer"] == name else None
        map_picker([grey_tile(maps[..., c]) for c in range(channels)], rows=height, cols=width,
                   key=f"draw_maps_{name}", label=f"Feature maps of {name}", on_pick=pick,
                   selected=mine["map"] if mine else None,
                   cell=(mine["row"], mine["col"]) if mine else None,
                   titles=[f"{name} map {c}" for c in range(channels)],
                   **({} if height > 8 else dict(tile_min=30, tile_vw=6, tile_max=60)))
        if mine and mine["map"] < channels and mine["row"] < height and mine["col"] < width:
            def enlarged(layer=name, m=mine["map"], where=(mine["row"], mine["col"]), maps=maps):
                map_picker([grey_tile(maps[..., m])], rows=maps.shape[0], cols=maps.shape[1],
                           key=f"draw_map_{layer}", label=f"{layer} map {m}, enlarged",
                           on_pick=lambda picked: pick((m, picked[1], picked[2]), layer),
                           selected=0, cell=where, tile_min=150, tile_vw=50, tile_max=196)
                st.caption("this map: click or tap another cell")
            with st.container(border=True):
                cell = explain_cell(work, name, mine["row"], mine["col"], mine["map"])
                show_cell(cell, float(maps[mine["row"], mine["col"], mine["map"]]), digit, map_of,
                          key=f"draw_cell_{name}", enlarged_map=enlarged)


def dense_units(model, work, activations: dict[str, np.ndarray], output: str, map_of: dict[str, str],
                class_names: list[str] | None) -> None:
    state = st.session_state
    for name, values in activations.items():
        label = "output probabilities" if name == output else f"{values.size} units"
        names = class_names if name == output and class_names and len(class_names) == values.size else None
        figure = go.Figure(go.Bar(x=names or list(range(values.size)), y=values, marker_color="#1f77b4"))
        figure.update_layout(height=160, margin=dict(l=10, r=10, t=30, b=10),
                             title=f"Activations of {name} ({label})",
                             xaxis=dict(type="category") if names else {})
        st.plotly_chart(figure, config=PLAIN, key=f"draw_activations_{name}")  # no toolbar over the title
    st.caption("Dense activations after ReLU are zero for units the digit does not excite; the "
               "last layer is the softmax output.")
    layers = [layer.name for layer in dense_layers(model)]
    chosen = state.get(UNIT)
    if not (isinstance(chosen, dict) and chosen.get("model") == model.name and chosen.get("layer") in layers):
        top = int(np.argmax(activations[output]))
        chosen = {"model": model.name, "layer": output, "unit": top}
    st.markdown("**One dense unit computed** — pick a layer and a unit:")
    left, right = st.columns(2)
    layer = left.selectbox("Dense layer", layers, index=layers.index(chosen["layer"]), key="draw_unit_layer")
    values = activations[layer]
    names = class_names if layer == output and class_names and len(class_names) == values.size else None
    unit = chosen["unit"] if layer == chosen["layer"] and chosen["unit"] < values.size else int(np.argmax(values))
    unit = right.selectbox(
        "Unit", range(values.size), index=unit, key=f"draw_unit_{layer}",
        format_func=lambda u: f"{names[u] if names else u} ({values[u]:.3f})"
                              + (" — the largest" if u == int(np.argmax(values)) else ""))
    state[UNIT] = {"model": model.name, "layer": layer, "unit": int(unit)}
    with st.container(border=True):
        show_unit(explain_unit(work, layer, int(unit)), float(values[unit]), map_of, names, key=f"draw_unit_{layer}")
