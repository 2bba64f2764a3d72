"""Make it fail: PGD stays within its budget and the picture's range, says what the network really
reads afterwards, beats one FGSM step, and explains bad requests."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import load_mnist
from core.digits.attack import LEAD, STEPS, attack
from core.digits.models import build
from core.errors import BadInput
from tests.fitted import fitted


@pytest.fixture(scope="module")
def network():
    """The 2019 dense net fitted on 4,000 MNIST images for two epochs (a few seconds), seeded: the
    same weights on every run, so what the searches find does not depend on the order of the tests."""
    return fitted("dense2019", images=4000, epochs=2, batch_size=32, seed=0)


@pytest.fixture(scope="module")
def digits():
    mnist = load_mnist()
    return mnist.x_test[:12].astype(np.float32) / 255, mnist.y_test[:12]


def read(model, picture) -> np.ndarray:
    return np.asarray(model(picture[None, ..., None], training=False))[0]


@pytest.mark.parametrize("norm,budget", [("linf", 0.15), ("l2", 2.5)])
def test_pgd_stays_within_its_budget_and_the_pictures_range(network, digits, norm, budget):
    images, labels = digits
    results = [attack(network, image, int((label + 3) % 10), norm, budget) for image, label in zip(images, labels)]
    for result, image in zip(results, images):
        assert result.size <= budget * (1 + 1e-5)
        assert result.changed.min() >= 0 and result.changed.max() <= 1
        np.testing.assert_array_equal(result.original, image)
        np.testing.assert_allclose(result.after, read(network, result.changed), atol=1e-5)  # said honestly
        np.testing.assert_allclose(result.before, read(network, image), atol=1e-5)
        if result.steps < STEPS:  # stopped early: the target is read, clearly ahead of the others
            first, second = np.sort(result.after)[-2:][::-1]
            assert result.read_after == result.target and first - second >= LEAD
    assert sum(r.success for r in results) >= 8, [r.read_after for r in results]


def test_pgd_finds_more_than_one_fgsm_step_of_the_same_budget(network):
    """40 test digits, each asked to read as label + 5, within L∞ 0.1. PGD (40 small projected steps)
    must beat one FGSM step of the whole budget clearly, and never end further from the target: it
    flips every digit FGSM flips, and where it fails, it leaves the target at least as probable.
    (Measured with unseeded networks: PGD 24–29 of 40, FGSM 20–21; 200 PGD steps find no more than 40,
    so PGD has converged — on 12 digits the two could tie, which is why this takes 40.)"""
    mnist = load_mnist()
    images, labels = mnist.x_test[:40].astype(np.float32) / 255, mnist.y_test[:40]
    targets = [int((label + 5) % 10) for label in labels]
    pgd = [attack(network, i, t, "linf", 0.1) for i, t in zip(images, targets)]
    fgsm = [attack(network, i, t, "linf", 0.1, method="fgsm") for i, t in zip(images, targets)]
    assert all(r.steps == 1 for r in fgsm)
    # One step of the whole budget: every pixel with a gradient moves by ε, unless the range stops it.
    moved = np.abs(fgsm[0].change)
    assert np.isclose(moved[moved > 0], 0.1, atol=1e-6).mean() > 0.5
    for k, (p, f, t) in enumerate(zip(pgd, fgsm, targets)):
        assert p.success or (not f.success and p.after[t] >= f.after[t] - 1e-6), (k, p.after[t], f.after[t])
    assert sum(r.success for r in pgd) >= sum(r.success for r in fgsm) + 3, \
        (sum(r.success for r in pgd), sum(r.success for r in fgsm))


def test_anything_else_changes_the_reading(network, digits):
    images, _ = digits
    result = attack(network, images[0], None, "linf", 0.3)
    assert result.success and result.read_after != result.read_before and result.target is None


def test_a_fast_cnn_is_attacked_too():
    """Batch norm, cropping and strided convolutions: the gradient reaches the input all the same
    (untrained weights: only the mechanics are checked)."""
    model = build("fast_cnn")
    image = load_mnist().x_test[0].astype(np.float32) / 255
    result = attack(model, image, None, "linf", 0.5)
    assert result.linf > 0 and result.steps >= 1
    assert np.all(result.change[:2] == 0), "the cropped border gets no gradient, so no change"


@pytest.mark.parametrize("change,words", [
    (dict(budget=0), "budget of 0 allows no change"),
    (dict(budget=-1), "allows no change"),
    (dict(budget=1.5), "above 1 allows any picture"),
    (dict(norm="l1"), "Unknown budget norm"),
    (dict(target=10), "no class 10"),
    (dict(digit=np.zeros((28, 28))), "draw a digit first"),
    (dict(digit=np.ones((20, 20))), "28×28"),
])
def test_bad_requests_are_explained(network, digits, change, words):
    images, _ = digits
    request = {**dict(digit=images[0], target=1, norm="linf", budget=0.2), **change}
    with pytest.raises(BadInput, match=words):
        attack(network, request.pop("digit"), request.pop("target"), **request)


def test_asking_for_what_it_already_reads_is_explained(network, digits):
    images, _ = digits
    now = int(np.argmax(read(network, images[0])))
    with pytest.raises(BadInput, match="already reads it as that"):
        attack(network, images[0], now)
