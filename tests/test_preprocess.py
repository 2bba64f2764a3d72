"""MNIST-faithful preprocessing, checked on real MNIST test digits and on hostile input."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from core.data import load_mnist
from core.errors import BadInput
from core.digits.preprocess import load_image_bytes, preprocess
from tests.test_digits import train_tiny

DIGITS = load_mnist().x_test[:200]


def centre_of_mass(image):
    ys, xs = np.indices(image.shape)
    return (ys * image).sum() / image.sum(), (xs * image).sum() / image.sum()


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A small dense net trained for a few seconds on MNIST, read through the app's reader."""
    from core.digits.look_inside import reader_for

    job = train_tiny(tmp_path_factory, {"arch": "keras2020_mlp", "epochs": 2, "train_limit": 6000})
    return reader_for(job.model())


def test_re_preprocessing_mnist_digits_keeps_their_predictions(reader):
    original = DIGITS.astype(np.float32) / 255
    again = np.stack([preprocess(d).digit for d in DIGITS])
    before = reader.probabilities(original).argmax(1)
    after = reader.probabilities(again).argmax(1)
    assert (before == after).mean() >= 0.97


def test_a_digit_shrunk_into_a_corner_comes_back_centred(reader):
    agree = 0
    for digit in DIGITS[:50]:
        small = np.asarray(Image.fromarray(digit).resize((40, 40), Image.LANCZOS))
        canvas = np.zeros((280, 280), np.uint8)
        canvas[220:260, 10:50] = small
        restored = preprocess(canvas).digit
        cy, cx = centre_of_mass(restored)
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # where MNIST puts it
        ys, xs = np.nonzero(restored > 0.1)
        assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 <= 21  # fits MNIST's 20×20 box
        agree += reader.probabilities(restored).argmax() == reader.probabilities(digit / 255).argmax()
    assert agree >= 45


def test_ink_on_paper_and_coloured_transparent_png_read_like_the_canvas():
    digit = DIGITS[0]
    reference = preprocess(digit).digit
    paper = 255 - np.asarray(Image.fromarray(digit).resize((300, 300)))
    assert np.abs(preprocess(paper).digit - reference).mean() < 0.05
    rgba = np.zeros((300, 300, 4), np.uint8)
    rgba[..., 0] = 200  # red ink
    rgba[..., 3] = np.asarray(Image.fromarray(digit).resize((300, 300)))
    assert np.abs(preprocess(rgba).digit - reference).mean() < 0.05


def test_empty_full_and_dot_inputs_are_explained():
    assert preprocess(np.zeros((280, 280, 4), np.uint8)).empty
    full = preprocess(np.full((280, 280, 4), 255, np.uint8))
    assert full.empty and "flat colour" in full.notes[0]
    dot = np.zeros((280, 280), np.uint8)
    dot[100:116, 100:116] = 255
    assert "dot" in preprocess(dot).notes[0]


def test_hairline_and_huge_strokes_still_give_a_digit():
    hairline = np.zeros((280, 280), np.uint8)
    hairline[60:220, 140] = 255
    out = preprocess(hairline).digit
    assert out.max() > 0.5 and centre_of_mass(out)[0] == pytest.approx(14, abs=0.5)
    blob = np.zeros((280, 280), np.uint8)
    blob[20:260, 100:180] = 255
    assert preprocess(blob).digit is not None


def test_uploads_bad_files_and_giant_images_get_clear_messages():
    with pytest.raises(BadInput, match="not an image"):
        load_image_bytes(b"this is a text file, not a picture")
    with pytest.raises(BadInput, match="empty"):
        load_image_bytes(b"")
    giant = io.BytesIO()
    Image.new("L", (10000, 10000)).save(giant, format="PNG")
    with pytest.raises(BadInput, match="megapixels"):
        load_image_bytes(giant.getvalue())
    ok = io.BytesIO()
    Image.fromarray(255 - DIGITS[1]).convert("RGB").save(ok, format="JPEG")
    assert preprocess(load_image_bytes(ok.getvalue())).digit is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays(dtype=st.sampled_from([np.uint8, np.float32, np.float64, np.int16]),
              shape=st.tuples(st.integers(1, 64), st.integers(1, 64), st.sampled_from([1, 3, 4])),
))
def test_any_rgba_array_gives_a_valid_digit_or_a_clear_error(image):
    try:
        result = preprocess(image)
    except BadInput as error:
        assert str(error)
        return
    if result.digit is not None:
        assert result.digit.shape == (28, 28) and result.digit.dtype == np.float32
        assert np.isfinite(result.digit).all()
        assert result.digit.min() >= 0 and result.digit.max() <= 1


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 40), st.integers(2, 40), st.just(4)),
              elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_nan_and_infinite_pixels_never_crash(image):
    result = preprocess(image)
    if result.digit is not None:
        assert np.isfinite(result.digit).all() and 0 <= result.digit.min() <= result.digit.max() <= 1


def test_a_picture_too_small_to_hold_a_digit_is_refused_in_words():
    """Issue 30: a 2×2 PNG used to be read as "0" with blank stages and no note."""
    tiny = io.BytesIO()
    Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).save(tiny, format="PNG")
    with pytest.raises(BadInput, match="2×2 pixels: too small"):
        load_image_bytes(tiny.getvalue())
    mnist_sized = io.BytesIO()
    Image.fromarray(DIGITS[1]).save(mnist_sized, format="PNG")  # 28×28, as MNIST itself
    assert preprocess(load_image_bytes(mnist_sized.getvalue())).digit is not None
