"""Pictures as data URIs, for browser components that show a server-drawn picture (views/draw/map_picker.py)."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def png_uri(picture: np.ndarray | Image.Image) -> str:
    buffer = io.BytesIO()
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    image.save(buffer, format="PNG", compress_level=1)  # small pictures: speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
