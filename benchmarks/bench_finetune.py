"""Draw's "Teach it your handwriting": fine-tuning the bundled Fast CNN on mirror-written digits, against
the same network not fine-tuned (reading) and fine-tuned without replay (forgetting), in one run.

Mirror-written digits, as many children write them, are drawn as strokes by tools/strokes.py (not
taken from MNIST) and preprocessed exactly as Draw preprocesses a drawing. The bundled Fast CNN
(assets/defaults/fast_cnn) is fine-tuned with core.digits.finetune.fine_tune on 3 drawings of each digit
(30), with replayed MNIST training digits, then scored on other mirror-written drawings (other seeds) and
on MNIST's 10,000 test digits; the same fine-tuning without replay shows how much MNIST it forgets.
Several training sets are tried (3, or 1 with --quick); the worst one is reported, the others in the note.
Times are wall-clock seconds of fine_tune (augmenting, compiling and fitting), on this machine's cores;
the note adds the CPU seconds the process used, which a busy machine does not inflate.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks.harness import Result


def preprocessed(images: np.ndarray) -> np.ndarray:
    from core.digits.preprocess import preprocess

    return np.stack([preprocess(image).digit for image in images])


def run(quick: bool = False) -> list[Result]:
    from tools.strokes import drawings
    from core.digits.finetune import accuracy, fine_tune, mnist_test_accuracy
    from core.training.bundled import DEFAULTS_DIR
    from core.training.store import load_keras

    def base():
        return load_keras(DEFAULTS_DIR / "fast_cnn")

    test_x, test_y = drawings(10 if quick else 30, seed=1000, mirror=True)
    test_x = preprocessed(test_x)
    reference = base()
    base_mirror, base_mnist = accuracy(reference, test_x, test_y), mnist_test_accuracy(reference)

    trials = []
    for seed in (11,) if quick else (11, 21, 31):
        train_x, train_y = drawings(3, seed=seed, mirror=True)
        train_x = preprocessed(train_x)
        replayed = base()
        cpu = time.process_time()
        seconds = fine_tune(replayed, train_x, train_y, replay=True, seed=seed)
        cpu = time.process_time() - cpu
        forgetful = base()
        fine_tune(forgetful, train_x, train_y, replay=False, seed=seed)
        trials.append({"seed": seed, "seconds": seconds, "cpu": cpu, "mirror": accuracy(replayed, test_x, test_y),
                       "drop": (base_mnist - mnist_test_accuracy(replayed)) * 100,
                       "drop_no_replay": (base_mnist - mnist_test_accuracy(forgetful)) * 100,
                       "mirror_no_replay": accuracy(forgetful, test_x, test_y)})
    worst = {"seconds": max(t["seconds"] for t in trials), "mirror": min(t["mirror"] for t in trials),
             "drop": max(t["drop"] for t in trials), "drop_no_replay": max(t["drop_no_replay"] for t in trials)}
    note = (f"{len(test_y)} other mirror-written drawings, MNIST test accuracy of the base {base_mnist:.2%}; "
            "per training set (seed: s, mirror read, MNIST drop with / without replay): "
            + "; ".join(f"{t['seed']}: {t['seconds']:.1f} s ({t['cpu']:.1f} CPU s), {t['mirror']:.0%}, {t['drop']:.2f} / "
                        f"{t['drop_no_replay']:.2f} points" for t in trials)
            + ("; --quick: one training set, 100 test drawings" if quick else ""))
    return [
        Result("fine-tuning on 30 drawings (slowest set)", worst["seconds"], None, "s", "≤ 5 s",
               worst["seconds"] <= 5, note=note),
        Result("other mirror-written drawings read after fine-tuning (worst set)", worst["mirror"] * 100,
               base_mirror * 100, "%", "≥ 80 % (reference: the bundled Fast CNN not fine-tuned)",
               worst["mirror"] >= 0.8, higher_is_better=True),
        Result("MNIST test accuracy drop with replay (worst set)", worst["drop"], worst["drop_no_replay"],
               "points", "< 0.5 points (reference: the same fine-tuning without replay)", worst["drop"] < 0.5),
    ]
