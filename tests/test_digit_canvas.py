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


def test_a_live_frame_and_a_pen_up_frame_are_told_apart():
    from views.draw.canvas import frame_from

    rgba = np.zeros((140, 140, 4), np.uint8)
    rgba[..., 3] = 255
    url = png_url(Image.fromarray(rgba, "RGBA"))
    live = frame_from({"png": url, "frame": 7, "final": False})
    assert live.number == 7 and not live.final and live.image.shape == (140, 140)
    assert frame_from({"png": url, "frame": 8, "final": True}).final
    assert frame_from({"png": url}).final and frame_from({"png": url}).number == 0  # an older canvas's message
    assert frame_from({"png": "not a picture", "frame": 9}) is None


def test_the_probability_bars_are_plain_html_with_every_value_on_hover():
    from views.draw.reading import probability_bars

    bars = probability_bars(np.array([0.1, 0.7, 0.2]), ["T-shirt", "<b>Bag</b>", "Coat"], "item of clothing")
    assert bars.count('title="item of clothing ') == 3
    assert 'title="item of clothing &lt;b&gt;Bag&lt;/b&gt;: 70.0%"' in bars and "<b>Bag" not in bars
    assert "#f26b1d" in bars and ">70%<" in bars  # the predicted one in orange, its value on top
    assert 'aria-label="Probabilities: T-shirt 10%, &lt;b&gt;Bag&lt;/b&gt; 70%, Coat 20%"' in bars
