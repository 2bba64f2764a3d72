"""A digit network really trained for a few seconds, for tests that need learned weights."""
from __future__ import annotations

import numpy as np

from core.data import load_mnist
from core.digits.models import KIND, build, compile_model


def fitted(arch: str, images: int = 2000, epochs: int = 1, batch_size: int = 128, seed: int | None = None):
    """``arch`` fitted on the first ``images`` MNIST training images, with its kind's compile settings;
    with ``seed``, the same weights on every run (initialisation and shuffling seeded)."""
    if seed is not None:
        import keras

        keras.utils.set_random_seed(seed)
    mnist = load_mnist()
    x = mnist.x_train[:images, ..., None].astype(np.float32) / 255
    model = build(arch)
    compile_model(model, KIND.normalize({"arch": arch}), steps_per_epoch=-(-images // batch_size))
    model.fit(x, mnist.y_train[:images], batch_size=batch_size, epochs=epochs, verbose=0)
    return model
