"""One convolution computed, and one dense unit's largest contributions: the detail views of
"A look inside" (CNN Explainer's, on your own drawing). The numbers come from
core/digits/convolution.py; this file lays them out."""
from __future__ import annotations

import numpy as np
import streamlit as st

from typing import Callable

from core.digits.convolution import CellWorking, UnitWorking
from views.draw.inside_pictures import (PLAIN, contributions_figure, numbers_figure, outlined,
                                        shares_figure, side_by_side, signed_picture)


def f4(value: float) -> str:
    """Four decimals with a true minus sign; a value that rounds to zero shows no sign."""
    text = f"{value:.4f}"
    return "0.0000" if text == "-0.0000" else text.replace("-", "−")


def term(value: float) -> str:
    """A number inside a formula: negative ones in brackets, so "− (−0.5)" reads right."""
    return f"({f4(value)})" if value < 0 else f4(value)


def source_sentence(cell: CellWorking, kind: str, map_of: dict[str, str]) -> str:
    """What the convolution reads, in words: the image, the cropped image, or maps of a layer."""
    k = cell.kernel.shape[0]
    if kind == "image":
        return f"`{cell.layer}` reads the 28×28 input itself: each cell sees a {k}×{k} patch of pixels."
    if kind == "crop":
        size = cell.source_map.shape[0]
        return (f"`{cell.layer}` reads the input with its outer {(28 - size) // 2} pixels cropped off ({size}×{size}, "
                f"`{cell.source}`): each cell sees a {k}×{k} patch of it.")
    if kind == "pool":
        return (f"`{cell.layer}` reads `{cell.source}`: {cell.source_map.shape[2]} maps of "
                f"{cell.source_map.shape[0]}×{cell.source_map.shape[1]}, each value the largest of a 2×2 block of "
                f"`{map_of.get(cell.source, cell.source)}`'s maps. Each cell of `{cell.layer}` sees a {k}×{k} "
                f"patch of all {cell.source_map.shape[2]} of them.")
    return (f"`{cell.layer}` reads the {cell.source_map.shape[2]} maps of `{map_of.get(cell.source, cell.source)}` "
            f"shown above ({cell.source_map.shape[0]}×{cell.source_map.shape[1]}): each cell sees a {k}×{k} patch "
            f"of every one of them, {k}·{k}·{cell.source_map.shape[2]} = {cell.products.size} numbers.")


def show_cell(cell: CellWorking, keras_value: float, digit: np.ndarray,
              map_of: dict[str, str], key: str, enlarged_map: Callable[[], None]) -> None:
    """The chosen cell computed step by step, ending on the number the map shows;
    ``enlarged_map()`` draws the chosen map (a picker) beside the patch and the receptive field."""
    k, channels = cell.kernel.shape[0], cell.kernel.shape[2]
    st.markdown(f"##### `{cell.layer}`, map {cell.channel}, row {cell.row}, column {cell.col}: "
                f"**{f4(keras_value)}**")
    source_kind = cell.source_kind
    # Filled below, once the input map to show is chosen: the map (a picker) on the left, the patch
    # and the receptive field as one picture on the right (one row on a phone too).
    map_column, pictures = st.columns([1, 2])
    st.markdown(source_sentence(cell, source_kind, map_of))
    shares = cell.channel_sums()
    source_channel = 0
    if channels > 1:
        strongest = int(np.argmax(np.abs(shares)))
        # No key, and the cell in the label: a new cell is a new widget, opening on its own largest
        # share (a keyed one keeps showing the choice made for the last cell).
        source_channel = st.selectbox(
            f"Input map to show for cell ({cell.row}, {cell.col}) of map {cell.channel}", range(channels),
            index=strongest, format_func=lambda c: f"map {c} (adds {f4(shares[c])})"
                                                   + (" — the largest share" if c == strongest else ""),
            help="The kernel has one k×k slice per input map; the sum runs over all of them.")
        st.plotly_chart(shares_figure(shares, source_channel, f"Each input map's share of the sum ({k}×{k} products)"), config=PLAIN, key=f"{key}_shares")
    top, left = cell.origin
    with map_column:
        enlarged_map()
    padding = " (part of it in the zero padding)" if not cell.inside.all() else ""
    shown = "the input" if source_kind == "image" else "the cropped input" if source_kind == "crop" \
        else f"input map {source_channel}"
    field_top, field_left, field_bottom, field_right = cell.field_box
    inside = (field_bottom - field_top, field_right - field_left)
    clipped = f" ({inside[0]}×{inside[1]} of them inside the image)" if inside != cell.field_size else ""
    row = side_by_side([outlined(cell.source_map[..., source_channel], (top, left, top + k, left + k)),
                        outlined(digit, cell.field_box)])
    pictures.image(row, width=row.width,
                   caption=f"the {k}×{k} patch of {shown} it sees{padding} · its receptive field on the input: "
                           f"{cell.field_size[0]}×{cell.field_size[1]} pixels{clipped}")
    numbers = st.columns(3)
    numbers[0].plotly_chart(numbers_figure(cell.patch[..., source_channel], "patch", signed=False, inside=cell.inside),
                            config=PLAIN, key=f"{key}_patch")
    numbers[1].plotly_chart(numbers_figure(cell.kernel[..., source_channel], "kernel", signed=True),
                            config=PLAIN, key=f"{key}_kernel")
    numbers[2].plotly_chart(numbers_figure(cell.products[..., source_channel], "patch × kernel", signed=True),
                            config=PLAIN, key=f"{key}_products")
    lines = [f"Sum of all {cell.products.size} products ({k}×{k}" + (f"×{channels} maps" if channels > 1 else "")
             + f"): **{f4(cell.total)}**"]
    if cell.bias is not None:
        lines.append(f"plus the bias {f4(cell.bias)}: **{f4(cell.pre_activation)}**")
    else:
        lines.append(f"no bias: `{cell.layer}` has none, the batch normalisation after it adds its own shift")
    value = cell.pre_activation
    for step in cell.steps:
        if step.kind == "batch_norm":
            p = step.params
            lines.append(
                f"batch normalisation `{step.layer}`, fixed after training (its running averages): "
                f"(z − μ) / √(σ² + ε) · γ + β = ({f4(value)} − {term(p['mean'])}) / √({f4(p['variance'])} + "
                f"{p['epsilon']:g}) · {term(p['gamma'])} + {term(p['beta'])} = **{f4(step.value)}** — the same as "
                f"z × {term(p['scale'])} + {term(p['shift'])}: one scale and one shift per map, which could be "
                "folded into the kernel and a bias")
        elif step.params.get("name") == "relu":
            lines.append(f"ReLU (`{step.layer}`): max(0, {f4(value)}) = **{f4(step.value)}**")
        else:
            lines.append(f"{step.params.get('name')} (`{step.layer}`): **{f4(step.value)}**")
        value = step.value
    st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1)))
    st.success(f"Computed by hand: {f4(cell.value)} · the map's cell, as Keras computed it: {f4(keras_value)}",
               icon=":material/calculate:")


def input_label(unit: UnitWorking, index: int, map_of: dict[str, str]) -> str:
    """Which input of a dense unit ``index`` is, in the page's words."""
    shape = unit.source_shape
    if len(shape) == 3 and shape[2] == 1 and map_of.get(unit.source) is None:
        row, col = divmod(index, shape[1])
        return f"pixel ({row}, {col})"
    if len(shape) == 3:
        row, col, channel = np.unravel_index(index, shape)
        return f"{map_of.get(unit.source, unit.source)} map {channel} ({row}, {col})"
    return f"{unit.source} unit {index}"


def show_unit(unit: UnitWorking, keras_value: float, map_of: dict[str, str], names: list[str] | None,
              key: str) -> None:
    """A dense unit: its largest contributions, their sum plus the bias, the activation."""
    title = f"output {names[unit.unit]}" if names else f"unit {unit.unit}"
    st.markdown(f"##### `{unit.layer}`, {title}: **{f4(keras_value)}**")
    count = min(12, unit.inputs.size)
    largest = unit.largest(count)
    shape = unit.source_shape
    what = (f"the {unit.inputs.size:,} pixels of the input" if len(shape) == 3 and shape[2] == 1
            and map_of.get(unit.source) is None else
            f"the {unit.inputs.size:,} values of `{map_of.get(unit.source, unit.source)}`'s maps "
            f"({'×'.join(map(str, shape))}, flattened)" if len(shape) == 3 else
            f"the {unit.inputs.size:,} units of `{unit.source}`")
    st.markdown(f"It reads {what}; each adds its value times its weight. The {count} largest "
                "contributions, by size:")
    labels = [input_label(unit, int(i), map_of) for i in largest]
    st.plotly_chart(contributions_figure(labels, unit.contributions[largest], f"{title} of {unit.layer}"),
                    config=PLAIN, key=f"{key}_contributions")
    if len(shape) == 3 and shape[2] == 1 and map_of.get(unit.source) is None:
        st.image(signed_picture(unit.contributions.reshape(shape[:2])), width=196,
                 caption="every pixel's contribution (blue adds, red takes away)")
    rest = float(unit.contributions.sum() - unit.contributions[largest].sum())
    zeros = int((unit.inputs == 0).sum())
    silent = f" ({zeros:,} of its {unit.inputs.size:,} inputs are 0 for this drawing and add nothing)" if zeros else ""
    lines = [f"these {count}: {f4(float(unit.contributions[largest].sum()))}; the other "
             f"{unit.inputs.size - count:,}: {f4(rest)}; all together **{f4(float(unit.contributions.sum()))}**"
             + silent,
             f"plus the bias {f4(unit.bias)}: z = **{f4(unit.pre_activation)}**"]
    if unit.activation == "softmax":
        ratio = float(np.exp(unit.logits - unit.pre_activation).sum())
        lines.append(f"softmax over the {unit.logits.size} outputs' z: p = e^z / Σⱼ e^zⱼ = 1 / Σⱼ e^(zⱼ − z) = "
                     f"1 / {ratio:.4g} = **{f4(unit.value)}**")
    elif unit.activation == "relu":
        lines.append(f"ReLU: max(0, {f4(unit.pre_activation)}) = **{f4(unit.value)}**")
    st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1)))
    st.success(f"Computed by hand: {f4(unit.value)} · as Keras computed it: {f4(keras_value)}",
               icon=":material/calculate:")
