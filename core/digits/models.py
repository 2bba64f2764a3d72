"""The digit networks from the talks, as one trainable model kind.

Each architecture is a small Keras model; training, evaluation and the
confusion matrix are shared. Configs are normalised (defaults filled, ranges
checked) before they are hashed, so equal settings always hit the same model
in the store.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core.data import dataset_spec, load_image_dataset
from core.embeddings.probes import keras_probes, save_probes
from core.errors import BadConfig
from core.training.progress import Reporter
from core.training.store import load_keras, save_keras
from core.training.keras_progress import keras_progress

#: arch -> (title, defaults). Defaults follow the talks where they say.
ARCHITECTURES: dict[str, tuple[str, dict]] = {
    "fast_cnn": ("Fast CNN", {"epochs": 1, "batch_size": 128, "learning_rate": 0.01, "augment": False}),
    "stream2017_cnn": ("2017 stream CNN", {"epochs": 2, "batch_size": 128, "learning_rate": 0.001, "augment": False}),
    "keras2020_mlp": ("2020 Keras MLP", {"epochs": 5, "batch_size": 32, "learning_rate": 0.001, "augment": False}),
    "dense2019": ("2019 dense net", {"epochs": 5, "batch_size": 32, "learning_rate": 0.001, "augment": False}),
}

VALIDATION_SIZE = 5000  # the last training images, held out for the validation curves
GRADIENT_BATCH = 256  # the fixed training images whose gradients the run's log shows


def build(arch: str, num_classes: int = 10, augment: bool = False):
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    if augment:
        # Small shifts and rotations, like the wobble of real handwriting; active only in training.
        x = layers.RandomTranslation(0.08, 0.08, fill_mode="constant", name="augment_shift")(x)
        x = layers.RandomRotation(0.04, fill_mode="constant", name="augment_rotate")(x)
    if arch == "fast_cnn":
        # MNIST centres each digit's 20x20 box by its centre of mass, so the outer 2 pixels hold
        # 0.24 % of the ink: cropping them makes every layer after it 27 % cheaper.
        x = layers.Cropping2D(2, name="crop")(x)
        # Strided convolutions instead of pooling, batch norm for a high learning rate: less
        # arithmetic than the Keras example, and 99 % in ONE epoch (how each choice was measured:
        # benchmarks/RESULTS.md, "How the Fast CNN was tuned"). No dropout: one pass cannot overfit.
        for index, (filters, size, stride) in enumerate([(24, 5, 2), (32, 3, 2), (64, 3, 1)], 1):
            x = layers.Conv2D(filters, size, strides=stride, padding="same", use_bias=False,
                              name=f"conv{index}")(x)
            # Momentum 0.9, not Keras' 0.99: the running statistics used at inference must
            # settle within a short training (a 4000-image run tested 67 % with 0.99).
            x = layers.BatchNormalization(momentum=0.9, name=f"bn{index}")(x)
            x = layers.ReLU(name=f"relu{index}")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(256, activation="relu", name="dense1")(x)
    elif arch == "stream2017_cnn":
        x = layers.Conv2D(32, 5, padding="same", activation="relu", name="conv1")(x)
        x = layers.MaxPooling2D(2, name="pool1")(x)
        x = layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2")(x)
        x = layers.MaxPooling2D(2, name="pool2")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(1024, activation="relu", name="dense1")(x)
        x = layers.Dropout(0.5, name="dropout")(x)
    elif arch == "keras2020_mlp":
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(256, activation="relu", name="dense1")(x)
        x = layers.Dense(128, activation="relu", name="dense2")(x)
    elif arch == "dense2019":
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(128, activation="relu", name="dense1")(x)
        x = layers.Dense(16, activation="relu", name="dense2")(x)
    else:
        raise BadConfig(f"Unknown architecture '{arch}'. Choose one of: {', '.join(ARCHITECTURES)}.")
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=arch)


def penultimate_layer(model) -> str:
    """Name of the last hidden Dense layer: the learned features the output layer reads.

    Every architecture ends ``... -> <this layer> [-> dropout] -> probabilities``; the
    Embeddings page projects this layer's activations.
    """
    import keras

    dense = [layer.name for layer in model.layers
             if isinstance(layer, keras.layers.Dense) and layer.name != "probabilities"]
    if not dense:
        raise BadConfig(f"Model '{model.name}' has no hidden dense layer.")
    return dense[-1]


LABEL_SMOOTHING = 0.1


def smoothed_targets(num_classes: int) -> tuple[float, float, float]:
    """The Fast CNN's softened targets for ``num_classes`` classes: (true class, each other class,
    the lowest loss they allow, i.e. their entropy in nats)."""
    other = LABEL_SMOOTHING / num_classes
    true = 1 - LABEL_SMOOTHING + other
    floor = -(true * np.log(true) + (num_classes - 1) * other * np.log(other))
    return true, other, float(floor)


def smoothed_sparse_crossentropy(y_true, y_pred):
    """Cross-entropy against labels softened to 0.91 / 0.01: the Fast CNN's loss.

    Its floor is therefore about 0.50 (the entropy of those targets), not 0.

    Keras 3's sparse cross-entropy has no ``label_smoothing``, so the integer labels are
    one-hot encoded here. Softer targets keep a high learning rate from making the net
    over-confident early, which is worth ~0.1 % test accuracy after one epoch.
    """
    import keras

    digits = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
    labels = keras.ops.one_hot(digits, keras.ops.shape(y_pred)[-1])
    return keras.losses.categorical_crossentropy(labels, y_pred, label_smoothing=LABEL_SMOOTHING)


def compile_model(model, config: dict, steps_per_epoch: int) -> None:
    """Adam on sparse cross-entropy; the Fast CNN adds label smoothing and a warm-up + cosine
    learning-rate schedule.

    No XLA (``jit_compile``): measured on a 2-core CPU it made Fast CNN epochs about twice as
    slow as TensorFlow's default kernels, and its compile time counts against the first epoch.
    """
    import keras

    learning_rate = config["learning_rate"]
    loss = "sparse_categorical_crossentropy"
    if config["arch"] == "fast_cnn":  # warm up, then cosine decay: what lets it finish in 1 epoch
        total = steps_per_epoch * config["epochs"]
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate * 0.1, total, warmup_target=learning_rate, warmup_steps=max(1, total // 10))
        loss = smoothed_sparse_crossentropy
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=loss,
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=False,
    )


def training_split(config: dict, n: int) -> tuple[slice, slice]:
    """Which of ``n`` training images are fitted and which validate.

    The last ``VALIDATION_SIZE`` (a twelfth of a small data set) are held out; a ``train_limit``
    fits the first ``limit`` of the rest (at most all of them) and validates on a fifth as many of
    the held-out ones (at least 100, at most all of them)."""
    held_out = min(VALIDATION_SIZE, n // 12)
    first_held_out = n - held_out
    fit, validation = slice(0, first_held_out), slice(first_held_out, n)
    if config.get("train_limit"):
        limit = config["train_limit"]
        fit = slice(0, min(limit, first_held_out))
        validation = slice(first_held_out, first_held_out + min(held_out, max(100, limit // 5)))
    return fit, validation


def class_names(record: dict) -> list[str]:
    """A trained network's class names, one per output unit, from its store record.

    Records written before they carried ``class_names`` (the bundled Fast CNN's) get their data
    set's names, which are what that network was trained on."""
    names = record.get("class_names")
    if names:
        return [str(name) for name in names]
    return list(dataset_spec(record.get("config", {}).get("dataset", "mnist")).class_names)


def class_noun(record: dict) -> str:
    """What one of the network's classes is ("digit", "letter"…), for sentences."""
    return record.get("class_noun") or dataset_spec(record.get("config", {}).get("dataset", "mnist")).noun


def data_sizes(record: dict) -> dict[str, int]:
    """How many images the network was fitted on, validated on and tested on, as its training used
    them: ``{"train", "validation", "test"}``. Older records (the bundled Fast CNN's, trained on the
    bundled MNIST) are completed with :func:`training_split`, the very split the training used."""
    if isinstance(record.get("sizes"), dict):
        return dict(record["sizes"])
    config = record.get("config", {})
    if config.get("dataset", "mnist") != "mnist":
        return {}
    from core.data import load_mnist

    mnist = load_mnist()
    images = range(len(mnist.y_train))
    fit, validation = training_split(config, len(images))
    return {"train": len(images[fit]), "validation": len(images[validation]), "test": len(mnist.y_test)}


#: The settings that decide how long a training takes (not the learning rate or the seed).
TIME_SETTINGS = ("arch", "dataset", "epochs", "batch_size", "train_limit", "augment")


def measured_training_time(config: dict, store) -> tuple[float, str] | None:
    """How long a training like ``config`` took when it was measured: ``(seconds, where)``, where
    is ``"here"`` (a finished training in this store, newest first) or ``"build"`` (the ready-made
    copy, timed by scripts/build_defaults.py on the machine that built it). None if never measured."""
    from core.training.bundled import BundleProblem, manifest_location, read_manifest

    wanted = {name: config.get(name) for name in TIME_SETTINGS}
    records = [entry.record for entry in store.entries(kind="digits")]
    try:
        records += [dict(item.get("record", {}), bundled=True)
                    for item in read_manifest(manifest_location())["defaults"].values()]
    except BundleProblem:
        pass
    for record in records:
        try:
            settings = KIND.normalize(record["config"])
        except (KeyError, TypeError, AttributeError, BadConfig):
            continue
        if all(settings.get(name) == value for name, value in wanted.items()) \
                and isinstance(record.get("duration_s"), (int, float)):
            return float(record["duration_s"]), "build" if record.get("bundled") else "here"
    return None


class DigitsKind:
    name = "digits"

    def normalize(self, config: dict) -> dict:
        arch = config.get("arch", "fast_cnn")
        if arch not in ARCHITECTURES:
            raise BadConfig(f"Unknown architecture '{arch}'. Choose one of: {', '.join(ARCHITECTURES)}.")
        out = {"arch": arch, "dataset": config.get("dataset", "mnist"), **ARCHITECTURES[arch][1]}
        for key in ("epochs", "batch_size", "learning_rate", "augment", "train_limit", "seed"):
            if config.get(key) is not None:
                out[key] = config[key]
        out.setdefault("train_limit", 0)  # 0 means the whole training set
        out.setdefault("seed", 0)
        try:
            out["epochs"] = int(out["epochs"])
            out["batch_size"] = int(out["batch_size"])
            out["learning_rate"] = float(out["learning_rate"])
            out["augment"] = bool(out["augment"])
            out["train_limit"] = int(out["train_limit"])
            out["seed"] = int(out["seed"])
        except (TypeError, ValueError) as error:
            raise BadConfig(f"Bad training setting: {error}.") from error
        if not 1 <= out["epochs"] <= 100:
            raise BadConfig("Epochs must be between 1 and 100.")
        if not 1 <= out["batch_size"] <= 4096:
            raise BadConfig("Batch size must be between 1 and 4096.")
        if not 0 < out["learning_rate"] <= 1:
            raise BadConfig("The learning rate must be above 0 and at most 1.")
        if out["train_limit"] < 0:
            raise BadConfig("The training-set limit cannot be negative.")
        return out

    def title(self, config: dict) -> str:
        base = ARCHITECTURES[config["arch"]][0]
        extra = f", {config['train_limit']} images" if config["train_limit"] else ""
        epochs = config["epochs"]
        return f"{base} ({epochs} epoch{'' if epochs == 1 else 's'}{extra})"

    def train(self, config: dict, reporter: Reporter) -> tuple[Any, dict]:
        import keras

        data = load_image_dataset(config["dataset"])
        keras.utils.set_random_seed(config["seed"])
        x = data.x_train[..., None].astype("float32") / 255.0
        y = data.y_train
        fit, validation = training_split(config, len(x))
        x_fit, y_fit, x_val, y_val = x[fit], y[fit], x[validation], y[validation]
        model = build(config["arch"], data.num_classes, config["augment"])
        steps = int(np.ceil(len(x_fit) / config["batch_size"]))
        compile_model(model, config, steps)
        # The first test images through the Dense layers at the run's log schedule (Embeddings' "over training").
        probes = keras_probes(reporter, steps * config["epochs"], data.x_test, data.y_test, data.class_names,
                              dataset=config["dataset"])
        model.fit(
            x_fit, y_fit,
            batch_size=config["batch_size"],
            epochs=config["epochs"],
            validation_data=(x_val, y_val),
            callbacks=[keras_progress(reporter, config["epochs"], len(x_fit), config["batch_size"],
                                      gradient_batch=(x_fit[:GRADIENT_BATCH], y_fit[:GRADIENT_BATCH]),
                                      config=config, kind="digits", title=self.title(config)), probes],
            verbose=0,
        )
        reporter.check()
        reporter.phase(f"Measuring accuracy on the {len(data.y_test):,} test {data.noun}s…")
        x_test = data.x_test[..., None].astype("float32") / 255.0
        probabilities = model.predict(x_test, batch_size=1000, verbose=0)
        predicted = probabilities.argmax(axis=1)
        wrong = np.nonzero(predicted != data.y_test)[0]
        confidence = probabilities[wrong, predicted[wrong]]
        worst = wrong[np.argsort(-confidence)][:60]  # the most confidently wrong first
        confusion = np.zeros((data.num_classes, data.num_classes), dtype=int)
        np.add.at(confusion, (data.y_test, predicted), 1)
        accuracy = float((predicted == data.y_test).mean())
        extras = {
            "data_fingerprint": data.fingerprint,
            # What the network's outputs mean and what it learned from, read back by the pages.
            "class_names": list(data.class_names),
            "class_noun": data.noun,
            "sizes": {"train": len(x_fit), "validation": len(x_val), "test": len(x_test)},
            "metrics": {"test_accuracy": accuracy, "params": int(model.count_params())},
            "confusion": confusion.tolist(),
            "misclassified": [[int(i), int(data.y_test[i]), int(predicted[i])] for i in worst],
            "probes": probes.recorder.describe(),
        }
        return model, extras

    def save(self, model: Any, folder: Path) -> None:
        save_keras(model, folder)
        save_probes(model, folder)  # probes.npz, when this model was just trained with probes

    def load(self, folder: Path) -> Any:
        return load_keras(folder)


KIND = DigitsKind()
