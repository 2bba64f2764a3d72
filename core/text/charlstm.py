"""A character-level LSTM written from scratch with tf.Variables (the cell: :mod:`core.text.lstm`).

Characters enter as one-hot vectors, so ``x·W`` is a row lookup in W. The window is unrolled in a
compiled ``tf.function``, a softmax layer predicts the next character at every time step, and
training minimises the mean cross-entropy with Adam and global-norm gradient clipping. Sampling is in
:mod:`core.text.sampling`.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from core.text import corpus as corpora
from core.errors import BadConfig, BadInput, check_all, coerce
from core.training.progress import Reporter
from core.text.lstm import LSTMStack, windows
# The Text page and older callers import these from here.
from core.text.sampling import DEFAULT_SEED_TEXT, MAX_SAMPLE_LENGTH, Sampler, generate

__all__ = ["DEFAULT_SEED_TEXT", "DEFAULTS", "KIND", "MAX_SAMPLE_LENGTH", "PRESETS", "CharLSTM", "Sampler",
           "character_embeddings", "generate", "load_model", "save_model", "text_to_ids", "windows"]

MAX_VOCAB = 2000

DEFAULTS = {
    "corpus": "tinyshakespeare",
    "window": 50,
    "stride": 3,
    "batch_size": 64,
    "units": 256,
    "layers": 1,
    "learning_rate": 0.005,
    "steps": 600,
    "validation_split": 0.1,
    "evaluations": 12,
    "seed": 0,
}

PRESETS: dict[str, dict] = {
    # Tuned so 2 CPU cores spell words and lay out Shakespeare's speaker lines in about a minute.
    "Quick": {"window": 50, "stride": 3, "batch_size": 64, "units": 256, "layers": 1,
              "learning_rate": 0.005, "steps": 600},
    # The 2017 stream's settings: 50-character windows, stride 2, 1024 units, batch 512.
    "As streamed": {"window": 50, "stride": 2, "batch_size": 512, "units": 1024, "layers": 1,
                    "learning_rate": 0.002, "steps": 2000},
}


# ---- the model ---------------------------------------------------------------

class CharLSTM(LSTMStack):
    """Weights (tf.Variables), vocabulary and compiled functions of one model."""

    data_type = "int32"

    def __init__(self, vocab: list[str], units: int, layers: int = 1, seed: int = 0,
                 arrays: dict[str, np.ndarray] | None = None) -> None:
        self.vocab = list(vocab)
        self.index = {char: i for i, char in enumerate(self.vocab)}
        super().__init__(len(self.vocab), units, layers, len(self.vocab), seed, arrays)
        self._loss_fn = None
        self._hidden_fn = None

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.index[c] for c in text if c in self.index], dtype=np.int32)

    def unroll_ids(self, ids, states=None):
        """A (batch, time) tensor of ids through every layer (see :meth:`LSTMStack.unroll`)."""
        import tensorflow as tf

        # One-hot input times W is a row lookup, done for every step at once, time-major.
        return self.unroll(tf.gather(self.weights["kernel_0"], tf.transpose(ids)), states)

    def _mean_loss(self, x, y):
        import tensorflow as tf

        logits = self.readout(self.unroll_ids(x)[0])
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    def hidden_states(self, ids: np.ndarray) -> np.ndarray:
        """Last layer's hidden state at every step, from zero state (for tests and plots)."""
        import tensorflow as tf

        if self._hidden_fn is None:
            self._hidden_fn = tf.function(lambda x: self.unroll_ids(x)[0])
        return self._hidden_fn(tf.constant(ids, dtype=tf.int32)).numpy()

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        import tensorflow as tf

        if self._loss_fn is None:
            self._loss_fn = tf.function(self._mean_loss)
        return float(self._loss_fn(tf.constant(x, tf.int32), tf.constant(y, tf.int32)))


def character_embeddings(model: CharLSTM) -> tuple[list[str], np.ndarray]:
    """Each character's row of the first layer's input weights (its learned 4H-dim vector)."""
    return list(model.vocab), model.weights["kernel_0"].numpy()


def save_model(model: CharLSTM, folder: Path) -> None:
    folder = Path(folder)
    np.savez(folder / "weights.npz", **model.arrays())
    meta = {"vocab": model.vocab, "units": model.units, "layers": model.layers,
            "format": "charlstm-1"}
    (folder / "vocab.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def load_model(folder: Path) -> CharLSTM:
    folder = Path(folder)
    meta = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    with np.load(folder / "weights.npz", allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    return CharLSTM(meta["vocab"], meta["units"], meta["layers"], arrays=arrays)


# ---- the trainable kind -------------------------------------------------------------

def text_to_ids(text: str, vocab: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """(vocabulary, ids) for a text; with a given vocabulary, unknown characters are an error."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    if vocab is None:
        vocab_codes = np.unique(codes)
        vocab = [chr(code) for code in vocab_codes]
    else:
        vocab_codes = np.array([ord(ch) for ch in vocab], dtype=np.uint32)
        order = np.argsort(vocab_codes)
        known = np.isin(codes, vocab_codes)
        if not known.all():
            unknown = sorted({chr(code) for code in codes[~known]})[:10]
            raise BadInput("The text has characters the model's vocabulary lacks: "
                           + " ".join(repr(ch) for ch in unknown))
        positions = np.searchsorted(vocab_codes[order], codes)
        return vocab, order[positions].astype(np.int32)
    return vocab, np.searchsorted(vocab_codes, codes).astype(np.int32)


class CharLSTMKind:
    name = "charlstm"

    def normalize(self, config: dict) -> dict:
        out = dict(DEFAULTS)
        for key in list(DEFAULTS) + ["resume"]:
            if config.get(key) is not None:
                out[key] = config[key]
        coerce(out, {**dict.fromkeys(("window", "stride", "batch_size", "units", "layers", "steps", "evaluations",
                                      "seed"), int),
                     "learning_rate": float, "validation_split": float, "corpus": str}, "training setting")
        check_all([
            (2 <= out["window"] <= 200, "The window must be between 2 and 200 characters."),
            (1 <= out["stride"] <= out["window"], "The stride must be between 1 and the window length."),
            (1 <= out["batch_size"] <= 1024, "The batch size must be between 1 and 1024."),
            (32 <= out["units"] <= 1024, "Hidden units must be between 32 and 1024."),
            (out["layers"] in (1, 2), "Use 1 or 2 stacked layers."),
            (0 < out["learning_rate"] <= 0.1, "The learning rate must be above 0 and at most 0.1."),
            (1 <= out["steps"] <= 100_000, "Training steps must be between 1 and 100,000."),
            (0.01 <= out["validation_split"] <= 0.5, "The validation split must be between 1% and 50%."),
            (1 <= out["evaluations"] <= 100, "Evaluations must be between 1 and 100."),
        ])
        if not (out["corpus"] in corpora.builtin_corpora() or out["corpus"].startswith(corpora.USER_PREFIX)):
            raise BadConfig(f"Unknown corpus '{out['corpus']}'.")
        if "resume" in out:
            out["resume"] = str(out["resume"])
        return out

    def title(self, config: dict) -> str:
        layers = f"{config['layers']}×" if config["layers"] > 1 else ""
        more = ", continued" if config.get("resume") else ""
        return (f"Char LSTM {layers}{config['units']} units on {corpora.title(config['corpus'])} "
                f"({config['steps']} steps{more})")

    def _split(self, config: dict, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        window = config["window"]
        cut = int(round(len(ids) * (1 - config["validation_split"])))
        train, validation = ids[:cut], ids[cut:]
        if len(train) < window + 1:
            raise BadInput(f"After setting {config['validation_split']:.0%} aside for validation, "
                           f"{len(train)} characters are left for training: fewer than one window "
                           f"({window} + 1). Use more text or a shorter window.")
        if len(validation) < window + 1:
            raise BadInput(f"The validation part ({len(validation)} characters) is shorter than one "
                           f"window ({window} + 1). Use more text, a larger validation split or a "
                           "shorter window.")
        return train, validation

    def train(self, config: dict, reporter: Reporter, resume: CharLSTM | None = None) -> tuple[CharLSTM, dict]:
        """Train a new model, or go on training ``resume`` (the job manager loads it from the store)."""
        import tensorflow as tf

        from core.training.runs import LogSchedule, LoopLog, RunLogger, tape_gradients

        if config.get("resume") and resume is None:
            raise BadConfig("A continued training needs the model it continues from (the job manager loads it).")
        window, batch = config["window"], config["batch_size"]
        text = corpora.check_text(corpora.load_text(config["corpus"]), window)
        reporter.message("Preparing the text")
        if resume is not None:
            model = resume
            vocab, ids = text_to_ids(text, model.vocab)
        else:
            vocab, ids = text_to_ids(text)
            if len(vocab) > MAX_VOCAB:
                raise BadInput(f"The text uses {len(vocab):,} different characters; the limit is {MAX_VOCAB:,}.")
            model = CharLSTM(vocab, config["units"], config["layers"], seed=config["seed"])
        train_ids, val_ids = self._split(config, ids)
        starts = np.arange(0, len(train_ids) - window, config["stride"])
        val_starts = np.arange(0, len(val_ids) - window, window)[:256]  # up to 12,800 characters
        val_x, val_y = windows(val_ids, val_starts, window)
        rng = np.random.default_rng(config["seed"])
        steps = config["steps"]
        eval_every = max(1, steps // config["evaluations"])
        logger = RunLogger(reporter.run_dir, kind=self.name, title=self.title(config), config=config)
        # Gradients on a fixed batch of training windows, the same at every logged step.
        fixed_x, fixed_y = (tf.constant(a, tf.int32) for a in windows(train_ids, starts[:32], window))
        loop_log = LoopLog(logger, LogSchedule(steps), model.arrays,
                           lambda: tape_gradients(lambda: model._mean_loss(fixed_x, fixed_y), model.weights))
        reporter.set_total(steps)
        reporter.message("Compiling the unrolled cell")
        losses: list[float] = []
        learning_log: list[dict] = []  # also kept in the record: a stored model shows how it learned
        val_loss = float("nan")
        started = time.perf_counter()
        try:
            for step in range(1, steps + 1):
                reporter.check()
                x, y = windows(train_ids, rng.choice(starts, size=batch), window)
                loss = model.train_step(x, y, config["learning_rate"])
                losses.append(loss)
                if step == 1:
                    reporter.message("Training")
                reporter.step(step, loss=loss)
                loop_log.step(step, loss)
                if step % eval_every == 0 or step == steps:
                    train_loss = float(np.mean(losses))
                    losses = []
                    val_loss = float(np.mean([model.loss(val_x[i:i + 128], val_y[i:i + 128])
                                              for i in range(0, len(val_x), 128)]))
                    reporter.epoch_end((step + eval_every - 1) // eval_every, loss=train_loss, val_loss=val_loss)
                    logger.scalars(step, split="validation", loss=val_loss)
                    snippet = generate(model, "", 160, temperature=0.8, rng_seed=step)
                    entry = f"step {step} · validation loss {val_loss:.3f}\n{snippet}"
                    reporter.log(entry)
                    learning_log.append({"step": step, "text": entry})
                    logger.text(step, "sample", snippet)
        finally:
            logger.close()
        seconds = time.perf_counter() - started
        extras = {
            "metrics": {"loss": train_loss, "val_loss": val_loss, "params": model.count_params(),
                        "chars_per_second": steps * batch * window / max(seconds, 1e-9)},
            "vocab_size": len(vocab),
            "corpus_chars": len(text),
            "corpus_fingerprint": corpora.fingerprint(text),
            "learning_log": learning_log,
        }
        return model, extras

    save = staticmethod(save_model)
    load = staticmethod(load_model)


KIND = CharLSTMKind()
