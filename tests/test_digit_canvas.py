"""What Draw's canvas component sends, decoded: a PNG data URL of the drawing; anything else
(nothing drawn yet, a damaged or foreign value) reads as "no drawing", never as an error."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from core.digits.preprocess import preprocess
from views.draw.canvas import decode_drawing


def png_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def test_a_stroke_comes_back_as_the_grey_picture_the_browser_drew():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[40:240, 130:150, :3] = 255  # a vertical bar: a "1"
    grey = decode_drawing({"png": png_url(Image.fromarray(rgba, "RGBA")), "strokes": 1})
    assert grey.shape == (280, 280) and grey.dtype == np.uint8
    assert grey[100, 140] == 255 and grey[100, 20] == 0
    digit = preprocess(grey).digit
    assert digit.shape == (28, 28) and digit[:, 13:15].sum() > digit[:, :5].sum()


def test_no_drawing_or_a_damaged_one_is_no_drawing():
    assert decode_drawing(None) is None
    assert decode_drawing({}) is None
    assert decode_drawing({"png": "data:image/jpeg;base64,AAAA"}) is None
    assert decode_drawing({"png": "data:image/png;base64,not base64!"}) is None
    assert decode_drawing({"png": "data:image/png;base64," + base64.b64encode(b"not a png").decode()}) is None
    assert decode_drawing("data:image/png;base64,") is None
