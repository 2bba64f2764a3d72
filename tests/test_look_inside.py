"""Looking inside a digit network: probes that call the model without Keras' structure warning
(issue 30 #12) — reading, looking inside, one convolution by hand, and the attack's gradient step."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.digits.models import ARCHITECTURES, build

STRUCTURE_WARNING = "structure of `inputs` doesn't match"


def structure_warnings(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if STRUCTURE_WARNING in str(w.message)]


@pytest.fixture(scope="module")
def saved_and_loaded(tmp_path_factory):
    """Each architecture as the store gives it back (saved, then loaded in safe mode)."""
    from core.training.store import load_keras, save_keras

    models = {}
    for arch in ARCHITECTURES:
        folder = tmp_path_factory.mktemp(arch)
        save_keras(build(arch), folder)
        models[arch] = load_keras(folder)
    return models


def test_a_probe_on_the_input_list_warns_so_the_check_can_fail():
    import keras

    model = build("dense2019")
    old_probe = keras.Model(model.inputs, model.get_layer("dense1").output)
    assert structure_warnings(lambda: old_probe(np.zeros((1, 28, 28, 1), np.float32)))


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_reading_and_looking_inside_emit_no_structure_warning(arch, saved_and_loaded):
    from core.digits.attack import attack
    from core.digits.convolution import workings
    from core.digits.look_inside import DigitReader, probe_model
    from core.embeddings.projection import layer_activations

    digits = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    for model in (build(arch), saved_and_loaded[arch]):
        probe = probe_model(model, model.get_layer("probabilities").output)
        assert not structure_warnings(lambda: probe(digits[..., None], training=False))
        assert not structure_warnings(lambda: layer_activations(model, "probabilities", digits))

        def read():
            reader = DigitReader(model)
            reader.probabilities(digits[0])
            reader.probabilities(digits)
            reader.look_inside(digits[1])
            workings(model, digits[2])
            attack(model, digits[2], None, "linf", 0.3, steps=2)
        assert not structure_warnings(read)
