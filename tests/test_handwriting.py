"""Your labelled drawings as a set: adding, removing, the .npz that carries a class's set, and the
clear refusal of anything that is not such a set (nothing already collected is touched)."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from core.digits.handwriting import MAX_DRAWINGS, DrawingSet, from_npz, keep, kept
from core.errors import AppError, BadInput


def some_set(n: int = 5, seed: int = 0) -> DrawingSet:
    rng = np.random.default_rng(seed)
    drawings = DrawingSet()
    for label in range(n):
        drawings = drawings.add(rng.random((28, 28), dtype=np.float32), label % 10)
    return drawings


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_a_set_grows_shrinks_and_travels_as_npz():
    drawings = some_set(5)
    assert len(drawings) == 5 and list(drawings.labels) == [0, 1, 2, 3, 4]
    assert list(drawings.counts()) == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    fewer = drawings.remove(2)
    assert list(fewer.labels) == [0, 1, 3, 4] and len(drawings) == 5  # the original is untouched
    back = from_npz(drawings.to_npz())
    np.testing.assert_array_equal(back.digits, drawings.digits)
    assert back.fingerprint == drawings.fingerprint != fewer.fingerprint
    assert len(drawings.merged(back)) == 5  # the same drawings are not added twice
    assert len(fewer.merged(drawings)) == 5


def test_0_to_255_drawings_are_scaled_like_ours():
    digits = np.zeros((2, 28, 28), np.uint8)
    digits[:, 10:18, 12:16] = 255
    drawings = from_npz(npz(digits=digits, labels=np.array([1, 7])))
    assert drawings.digits.dtype == np.float32 and drawings.digits.max() == 1.0


@pytest.mark.parametrize("data,words", [
    (b"this is not a zip file at all", "not a set of drawings"),
    (npz(x=np.zeros((3, 28, 28)), y=np.zeros(3)), "holds x, y"),
    (npz(digits=np.zeros((3, 32, 32)), labels=np.zeros(3, int)), "shape (3, 32, 32)"),
    (npz(digits=np.zeros((3, 28, 28)), labels=np.zeros(4, int)), "labels (4,)"),
    (npz(digits=np.zeros((3, 28, 28)), labels=np.array([0, 5, 12])), "labels run from 0 to 12"),
    (npz(digits=np.full((3, 28, 28), 300.0), labels=np.zeros(3, int)), "outside 0–255"),
    (npz(digits=np.full((3, 28, 28), np.nan), labels=np.zeros(3, int)), "outside 0–255"),
    (npz(digits=np.zeros((3, 28, 28)), labels=np.array([0.5, 1, 2])), "not numbers"),
    (npz(digits=np.array([[["a"] * 28] * 28] * 3), labels=np.zeros(3, int)), "not numbers"),
    (b"x" * 25_000_000, "at most 20 MB"),
])
def test_anything_else_is_refused_in_words(data, words):
    with pytest.raises(BadInput, match=words.replace("(", r"\(").replace(")", r"\)")) as error:
        from_npz(data)
    assert "Nothing was added" in str(error.value) or "nothing was added" in str(error.value)


def test_object_arrays_and_zip_bombs_are_refused_without_unpacking_them():
    buffer = io.BytesIO()
    np.savez(buffer, digits=np.array([None, {"a": 1}], dtype=object), labels=np.zeros(2, int))
    with pytest.raises(BadInput, match="not a set of drawings"):
        from_npz(buffer.getvalue())  # pickled objects are never loaded
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("digits.npy", b"\0" * 200_000_000)  # 200 MB of zeros, a few hundred kB zipped
    assert len(bomb.getvalue()) < 1_000_000
    with pytest.raises(BadInput, match="unpacks to 200 MB"):
        from_npz(bomb.getvalue())


def test_a_full_set_says_so_and_keeps_what_it_has(monkeypatch):
    monkeypatch.setattr("core.digits.handwriting.MAX_DRAWINGS", 3)
    drawings = some_set(3)
    with pytest.raises(BadInput, match="already holds 3 drawings"):
        drawings.add(np.zeros((28, 28)), 1)
    assert len(drawings) == 3
    assert MAX_DRAWINGS == 2000


def test_a_kept_set_is_read_back_by_its_fingerprint():
    drawings = some_set(4)
    fingerprint = keep(drawings)
    assert kept(fingerprint).fingerprint == fingerprint
    with pytest.raises(AppError, match="no longer on this server"):
        kept("0123456789abcdef")
