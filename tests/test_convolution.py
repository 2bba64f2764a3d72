"""One convolution computed by hand equals the cell Keras computed, for every architecture.

Untrained networks would make batch normalisation trivial (mean 0, variance 1, γ 1, β 0), so
every weight is redrawn at random first — moving statistics included — and one Fast CNN is
really trained for a few seconds, to check the numbers a learner sees after training.
"""
from __future__ import annotations

import numpy as np
import pytest

from core.data import load_mnist
from core.digits.models import ARCHITECTURES, build
from core.errors import BadInput
from tests.fitted import fitted

TOLERANCE = dict(rtol=1e-4, atol=1e-5)


def randomised(arch: str, seed: int = 0):
    """``arch`` with every weight (batch-norm statistics too) drawn at random, variances positive."""
    model = build(arch)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        # Kernels scaled by their fan-in (as Keras' own initialisers do), so that the logits stay
        # in the range a trained network's have; biases small.
        fresh = [rng.normal(0, 1 / np.sqrt(np.prod(w.shape[:-1])) if w.ndim > 1 else 0.1, w.shape)
                 .astype(np.float32) for w in weights]
        if type(layer).__name__ == "BatchNormalization":  # gamma, beta, moving mean, moving variance
            fresh[0] = rng.uniform(0.5, 2.0, weights[0].shape).astype(np.float32)
            fresh[3] = rng.uniform(0.2, 3.0, weights[3].shape).astype(np.float32)
        layer.set_weights(fresh)
    return model


def digits(count: int = 2) -> np.ndarray:
    return load_mnist().x_test[:count].astype(np.float32) / 255


@pytest.fixture(scope="module")
def trained_fast_cnn():
    """A Fast CNN fitted on 2,000 MNIST images for one epoch: real batch-norm statistics."""
    return fitted("fast_cnn")


def check_every_cell_against_keras(model, digit, cells_per_layer=None, seed=0):
    """Every cell (or a random sample of them, corners always) of every map equals the page's cell."""
    from core.digits.convolution import convolutions, explain_cell, workings
    from core.digits.look_inside import reader_for

    work = workings(model, digit)
    shown = reader_for(model).look_inside(digit).feature_maps
    rng = np.random.default_rng(seed)
    checked = 0
    for layer in convolutions(model):
        maps = shown[layer.name]
        np.testing.assert_allclose(work.shown[layer.name], maps, **TOLERANCE)
        height, width, channels = maps.shape
        cells = [(r, c, k) for r in range(height) for c in range(width) for k in range(channels)]
        if cells_per_layer is not None:
            corners = [(r, c, k) for r in (0, height - 1) for c in (0, width - 1) for k in (0, channels - 1)]
            cells = corners + [cells[i] for i in rng.choice(len(cells), cells_per_layer, replace=False)]
        for row, col, channel in cells:
            cell = explain_cell(work, layer.name, row, col, channel)
            assert cell.value == pytest.approx(float(maps[row, col, channel]), rel=1e-4, abs=1e-5), \
                (layer.name, row, col, channel)
            assert cell.total == pytest.approx(float(cell.products.sum()))
            assert not cell.patch[~cell.inside].any(), "padding is zeros"
            checked += 1
    return checked


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_conv_cell_and_dense_unit_matches_keras(arch):
    from core.digits.convolution import dense_layers, explain_unit, workings
    from core.digits.look_inside import reader_for

    model = randomised(arch)
    for digit in digits(2):
        checked = check_every_cell_against_keras(model, digit, cells_per_layer=300)
        assert checked > 0 or arch in ("keras2020_mlp", "dense2019")
        work = workings(model, digit)
        activations = reader_for(model).look_inside(digit).activations
        for layer in dense_layers(model):
            units = range(layer.units) if layer.units <= 128 else np.random.default_rng(1).choice(layer.units, 40)
            for unit in units:
                working = explain_unit(work, layer.name, unit)
                assert working.value == pytest.approx(float(activations[layer.name][unit]), rel=1e-4, abs=1e-6)
                assert working.contributions.sum() + working.bias == pytest.approx(working.pre_activation)


def test_a_trained_fast_cnn(trained_fast_cnn):
    """A trained Fast CNN, batch norm with learned statistics: 400 cells and the 8 corners per layer."""
    assert check_every_cell_against_keras(trained_fast_cnn, digits(1)[0], cells_per_layer=400) == 3 * 408


def test_what_stands_between_the_convolution_and_the_map():
    from core.digits.convolution import explain_cell, workings

    fast = randomised("fast_cnn")
    cell = explain_cell(workings(fast, digits(1)[0]), "conv2", 2, 3, 5)
    assert [(s.kind, s.layer) for s in cell.steps] == [("batch_norm", "bn2"), ("activation", "relu2")]
    assert cell.bias is None and cell.source == "relu1" and cell.patch.shape == (3, 3, 24)
    norm = cell.steps[0].params  # batch norm at inference is one scale and one shift: foldable
    assert cell.steps[0].value == pytest.approx(cell.total * norm["scale"] + norm["shift"])
    assert cell.value == max(cell.steps[0].value, 0.0)

    stream = randomised("stream2017_cnn")
    cell = explain_cell(workings(stream, digits(1)[0]), "conv2", 0, 0, 7)
    assert [(s.kind, s.params.get("name")) for s in cell.steps] == [("activation", "relu")]
    assert cell.source == "pool1" and cell.bias is not None and cell.patch.shape == (5, 5, 32)
    assert cell.origin == (-2, -2) and cell.inside.sum() == 9  # a corner: 3×3 of the 5×5 on the map


def test_grids_follow_strides_padding_cropping_and_pooling():
    from core.digits.convolution import grids

    fast = grids(build("fast_cnn"))
    assert [(fast[n].size, fast[n].jump[0], fast[n].field[0]) for n in ("conv1", "conv2", "conv3")] == [
        ((12, 12), 2, 5), ((6, 6), 4, 9), ((6, 6), 4, 17)]
    # conv1 reads the image cropped by 2 with "same" padding: cell 0 starts one pixel into the padding.
    assert fast["conv1"].start == (1, 1) and fast["conv1"].field_box(0, 0) == (1, 1, 6, 6)
    assert fast["conv3"].start == (-3, -3) and fast["conv3"].field_box(5, 5) == (17, 17, 28, 28)
    stream = grids(build("stream2017_cnn"))
    assert [(stream[n].size, stream[n].jump[0], stream[n].field[0]) for n in ("conv1", "pool1", "conv2")] == [
        ((28, 28), 1, 5), ((14, 14), 2, 6), ((14, 14), 2, 14)]
    assert grids(build("dense2019")) == {"image": grids(build("dense2019"))["image"]}


def test_dense_units_name_their_sources_and_bad_requests_are_explained():
    from core.digits.convolution import explain_cell, explain_unit, workings

    fast = randomised("fast_cnn")
    work = workings(fast, digits(1)[0])
    assert explain_unit(work, "dense1", 3).source_shape == (6, 6, 64)
    assert explain_unit(work, "dense1", 3).source == "relu3"
    output = explain_unit(work, "probabilities", 4)
    assert output.activation == "softmax" and output.largest(5).shape == (5,)
    mlp = workings(randomised("dense2019"), digits(1)[0])
    assert explain_unit(mlp, "dense1", 0).source_shape == (28, 28, 1)
    assert explain_unit(mlp, "probabilities", 0).source == "dense2"
    for call, words in [(lambda: explain_cell(work, "conv1", 12, 0, 0), "no map"),
                        (lambda: explain_cell(work, "dense1", 0, 0, 0), "not a convolution"),
                        (lambda: explain_unit(work, "dense1", 256), "no unit"),
                        (lambda: workings(fast, np.zeros((20, 20))), "28×28")]:
        with pytest.raises(BadInput, match=words):
            call()
