"""Draw's "What the network sees" section: the drawing through MNIST's own preprocessing."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.digits.preprocess import Preprocessed


def square(image: np.ndarray) -> np.ndarray:
    """Pad a tall or wide crop with black to a square, so the four stages line up in a row."""
    height, width = image.shape
    size = max(height, width)
    top, left = (size - height) // 2, (size - width) // 2
    return np.pad(image, ((top, size - height - top), (left, size - width - left)))


def stages_section(result: Preprocessed | None) -> None:
    if result is None or result.empty:
        st.info("Draw something to see the preprocessing stages.")
        return
    st.markdown("MNIST digits were made by cropping each digit to its bounding box, scaling it "
                "into a 20×20 box keeping the aspect ratio (anti-aliasing gives the grey edges), "
                "and pasting it into a 28×28 field so that its **centre of mass** is at the "
                "centre. Your drawing goes through the same steps.")
    stages = [("Ink", result.stages["ink"]), ("Cropped to the digit", square(result.stages["cropped"])),
              ("Fitted into 20×20", result.stages["20×20"]), ("What the network sees (28×28)", result.digit)]
    for column, (caption, image) in zip(st.columns(4), stages):
        column.image(np.clip(image, 0, 1), caption=caption, clamp=True, width="stretch")
