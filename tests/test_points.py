"""Point sets for the Embeddings page: digits, an LSTM's characters, the playground's hidden layer."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import load_mnist
from core.text.charlstm import CharLSTM
from core.errors import BadInput
from core.playground import PlaygroundNet, PlaygroundState, make_dataset
from core.embeddings.points import CHARACTER_CLASSES, character_points, digit_points, playground_points
from core.embeddings.projection import nearest_neighbours, pca


def test_digit_points_cover_test_images_first_then_training_images():
    points = digit_points(10_005)
    assert points.features.shape == (10_005, 784) and points.images.shape == (10_005, 28, 28)
    assert points.vectors().max() <= 1.0 and points.predicted is None
    assert points.hover()[3].startswith("#3 · ")
    with pytest.raises(BadInput):
        digit_points(80_000)


def test_raw_pixels_are_kept_as_the_thumbnails_bytes_and_project_as_floats():
    """Issue 30's memory: 70,000 raw digits cached as float32 took 219 MB beside their 55 MB of thumbnails."""
    points = digit_points(2_000)
    assert points.features.dtype == np.uint8 and np.shares_memory(points.features, points.images)
    vectors = points.vectors()
    assert vectors.dtype == np.float32 and vectors.shape == (2_000, 784)
    expected = points.images.reshape(2_000, -1).astype(np.float32) / 255  # what the set held before
    np.testing.assert_allclose(vectors, expected, rtol=1e-6, atol=0)
    mine, before = pca(vectors, 3), pca(expected, 3)
    np.testing.assert_allclose(np.abs(mine.coordinates), np.abs(before.coordinates), atol=1e-4)
    np.testing.assert_allclose(mine.explained_variance_ratio, before.explained_variance_ratio, rtol=1e-5)
    found, _ = nearest_neighbours(vectors, 5, k=8)
    assert list(found) == list(nearest_neighbours(expected, 5, k=8)[0])
    floats = playground_points(*_playground())
    assert floats.vectors() is floats.features  # float vectors are not copied


def test_digit_point_sets_share_the_data_sets_pixels():
    """Issue 30's memory: each cached point set copied its slice of the images (86 MB of pixels after the
    memory tour); now every set is a read-only view of the data set's test images or of one copy of all."""
    data = load_mnist()
    few, many, every = digit_points(2_000), digit_points(20_000), digit_points(70_000)
    assert np.shares_memory(few.images, data.x_test) and np.shares_memory(few.labels, data.y_test)
    assert np.shares_memory(many.images, every.images) and np.shares_memory(many.labels, every.labels)
    assert np.shares_memory(digit_points(15_000).images, every.images)
    assert not (few.images.flags.writeable or every.images.flags.writeable or every.labels.flags.writeable)
    np.testing.assert_array_equal(every.images[10_000:], data.x_train)
    np.testing.assert_array_equal(every.labels[:10_000], data.y_test)


def _playground():
    state = PlaygroundState(hidden=[5, 3])
    return PlaygroundNet(state), make_dataset(state)


def test_character_points_are_the_input_weight_rows():
    vocab = list("\n !,.ABab01")
    model = CharLSTM(vocab, units=32)
    points = character_points(model)
    kernel = model.weights["kernel_0"].numpy()
    assert points.features.shape == (len(vocab), 4 * 32)
    assert np.allclose(points.features, kernel)
    by_name = dict(zip(points.names, (CHARACTER_CLASSES[i] for i in points.labels)))
    assert by_name["a"] == "lower-case letter" and by_name["A"] == "capital letter"
    assert by_name["0"] == "digit" and by_name["!"] == "punctuation"
    assert by_name["space"] == by_name["\\n"] == "space or line break"
    assert [m["name"] for m in points.metadata()] == points.names


def test_playground_points_are_the_last_hidden_layer_of_every_data_point():
    state = PlaygroundState(hidden=[5, 3])
    net, data = PlaygroundNet(state), make_dataset(state)
    points = playground_points(net, data)
    assert points.features.shape == (len(data.points), 3)
    assert set(np.unique(points.labels)) == {0, 1} and points.predicted is not None
    assert points.names[0].startswith("train (") and points.names[-1].startswith("test (")


def test_a_playground_net_without_hidden_layers_or_no_net_is_explained():
    state = PlaygroundState(hidden=[])
    with pytest.raises(BadInput, match="no hidden layer"):
        playground_points(PlaygroundNet(state), make_dataset(state))
    with pytest.raises(BadInput, match="open the Playground page"):
        playground_points(None, None)
