"""Draw's "A look inside" section: saliency, first-layer weights, feature maps, dense activations."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.digits.look_inside import DigitReader, mosaic


def look_inside_section(reader: DigitReader | None, digit: np.ndarray | None) -> None:
    """Show what ``reader``'s network does with ``digit`` (28×28), or say what is missing."""
    if reader is None or digit is None:
        st.info("Train the network and draw a digit to look inside it.")
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
    st.image(mosaic(tiles, columns=16, normalise="signed"), clamp=True, width="stretch")
    for name, maps in inside.feature_maps.items():
        st.markdown(f"**Feature maps of `{name}`** ({maps.shape[0]}×{maps.shape[1]}, {maps.shape[2]} "
                    "channels, after ReLU) — where in the image each filter found its pattern "
                    "(bright = strong response; each map is scaled to its own range); deeper "
                    "layers are coarser and respond to larger shapes.")
        st.image(mosaic(np.moveaxis(maps, -1, 0), columns=16), clamp=True, width="stretch")
    for name, values in inside.activations.items():
        label = "output probabilities" if name == reader.dense_layers[-1].name else f"{values.size} units"
        figure = go.Figure(go.Bar(y=values, marker_color="#1f77b4"))
        figure.update_layout(height=160, margin=dict(l=10, r=10, t=30, b=10),
                             title=f"Activations of {name} ({label})")
        st.plotly_chart(figure, key=f"draw-act-{name}")
    st.caption("Dense activations after ReLU are zero for units the digit does not excite; the "
               "last layer is the softmax output.")
