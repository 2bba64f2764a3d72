"""A character-level LSTM written from scratch with ``tf.Variable``s.

The cell is the standard one: for input x and previous state (h, c)

    z = x·W + h·U + b,  split into four blocks in Keras' order i, f, g, o
    i = σ(z_i)  f = σ(z_f)  g = tanh(z_g)  o = σ(z_o)
    c' = f·c + i·g          h' = o·tanh(c')

(the 2017 stream used a sigmoid candidate g; tanh is the standard choice and
the one Keras uses). Characters enter as one-hot vectors, so ``x·W`` is a row
lookup in W. The window is unrolled in a compiled ``tf.function``, a softmax
layer predicts the next character at every time step, and training minimises
the mean cross-entropy with Adam and global-norm gradient clipping.

Sampling is stateful: the seed is fed one character at a time to a single-step
function, then every generated character is fed back in, carrying (h, c) along —
no re-reading of a sliding window, no ``model.predict``. The step is the same
cell in plain NumPy on a snapshot of the weights (``numpy_step``; a test checks its
states against the TensorFlow-unrolled window): one character is a few small
matrix products, which a TensorFlow call would spend most of its time dispatching.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from . import corpus as corpora
from .errors import BadConfig, BadInput, check_all, coerce
from .jobs import Reporter

DEFAULT_SEED_TEXT = "I plan to make the world a better place by"
MAX_SAMPLE_LENGTH = 2000
#: Only the end of a longer seed is fed in; the state forgets older text anyway.
MAX_SEED_CHARS = 1000
MAX_VOCAB = 2000
CLIP_NORM = 5.0

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


# ---- the cell and its optimiser (shared with core.sequences) --------------------

def lstm_cell(z, c):
    """One LSTM step from the pre-activations z = x·W + h·U + b (blocks i, f, g, o)."""
    import tensorflow as tf

    i, f, g, o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    h = tf.sigmoid(o) * tf.tanh(c)
    return h, c


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow for large -x


def numpy_step(arrays: dict[str, np.ndarray], ids: np.ndarray, h: np.ndarray, c: np.ndarray):
    """One character for each of a batch: (logits, h, c), states shaped (layers, batch, units).

    The cell of :meth:`CharLSTM.unroll`, in plain NumPy on a snapshot of the weights
    (``CharLSTM.arrays()``).

    Sampling runs one character at a time: a TensorFlow call costs about a millisecond of
    overhead for a few microseconds of arithmetic, NumPy about a tenth of that.
    """
    layers = h.shape[0]
    x = arrays["kernel_0"][ids]
    new_h, new_c = [], []
    for layer in range(layers):
        if layer:
            x = new_h[-1] @ arrays[f"kernel_{layer}"]
        z = x + h[layer] @ arrays[f"recurrent_{layer}"] + arrays[f"bias_{layer}"]
        i, f, g, o = np.split(z, 4, axis=-1)
        cell = _sigmoid(f) * c[layer] + _sigmoid(i) * np.tanh(g)
        new_c.append(cell)
        new_h.append(_sigmoid(o) * np.tanh(cell))
    logits = new_h[-1] @ arrays["output_kernel"] + arrays["output_bias"]
    return logits, np.stack(new_h), np.stack(new_c)


def adam_slots(variables: list) -> tuple:
    """Adam's first and second moments for each variable, and the step count."""
    import tensorflow as tf

    return ([tf.Variable(tf.zeros_like(v)) for v in variables],
            [tf.Variable(tf.zeros_like(v)) for v in variables],
            tf.Variable(0.0))


def clipped_adam_update(variables: list, grads: list, slots: tuple, learning_rate: float,
                        clip_norm: float = CLIP_NORM):
    """Clip the gradients' global norm, then one Adam step (inside a tf.function); returns the norm."""
    import tensorflow as tf

    first, second, count = slots
    beta1, beta2, epsilon = 0.9, 0.999, 1e-7
    grads, norm = tf.clip_by_global_norm([tf.convert_to_tensor(g) for g in grads], clip_norm)
    count.assign_add(1.0)
    rate = learning_rate * tf.sqrt(1.0 - beta2 ** count) / (1.0 - beta1 ** count)
    for var, grad, m, v in zip(variables, grads, first, second):
        m.assign(beta1 * m + (1.0 - beta1) * grad)
        v.assign(beta2 * v + (1.0 - beta2) * tf.square(grad))
        var.assign_sub(rate * m / (tf.sqrt(v) + epsilon))
    return norm


# ---- the model ---------------------------------------------------------------

class CharLSTM:
    """Weights (tf.Variables), vocabulary and compiled functions of one model."""

    def __init__(self, vocab: list[str], units: int, layers: int = 1, seed: int = 0,
                 arrays: dict[str, np.ndarray] | None = None) -> None:
        import tensorflow as tf

        self.vocab = list(vocab)
        self.index = {char: i for i, char in enumerate(self.vocab)}
        self.units = int(units)
        self.layers = int(layers)
        arrays = arrays if arrays is not None else self._initial_arrays(seed)
        expected = self.array_names()
        missing = [name for name in expected if name not in arrays]
        if missing:
            raise BadInput(f"The saved model is missing weights: {', '.join(missing)}.")
        self.weights = {name: tf.Variable(np.asarray(arrays[name], dtype=np.float32), name=name)
                        for name in expected}
        self._optimizer_slots: list | None = None
        self._train_steps: dict = {}
        self._loss_fn = None
        self._hidden_fn = None

    # -- weights --
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def array_names(self) -> list[str]:
        names = []
        for layer in range(self.layers):
            names += [f"kernel_{layer}", f"recurrent_{layer}", f"bias_{layer}"]
        return names + ["output_kernel", "output_bias"]

    def _initial_arrays(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        H, V = self.units, self.vocab_size
        arrays = {}
        for layer in range(self.layers):
            fan_in = V if layer == 0 else H
            limit = np.sqrt(6.0 / (fan_in + 4 * H))
            arrays[f"kernel_{layer}"] = rng.uniform(-limit, limit, (fan_in, 4 * H))
            # Orthogonal recurrent blocks keep the state's scale steady across the window.
            blocks = [np.linalg.qr(rng.normal(size=(H, H)))[0] for _ in range(4)]
            arrays[f"recurrent_{layer}"] = np.concatenate(blocks, axis=1)
            bias = np.zeros(4 * H)
            bias[H:2 * H] = 1.0  # forget gate open at the start, as in Keras' unit_forget_bias
            arrays[f"bias_{layer}"] = bias
        limit = np.sqrt(6.0 / (H + V))
        arrays["output_kernel"] = rng.uniform(-limit, limit, (H, V))
        arrays["output_bias"] = np.zeros(V)
        return {k: v.astype(np.float32) for k, v in arrays.items()}

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: var.numpy() for name, var in self.weights.items()}

    @property
    def variables(self) -> list:
        return [self.weights[name] for name in self.array_names()]

    def count_params(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.weights.values()))

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.index[c] for c in text if c in self.index], dtype=np.int32)

    # -- the cell, unrolled --
    def _cell(self, z, c):
        return lstm_cell(z, c)

    def unroll(self, ids, states=None):
        """Run a (batch, time) tensor of ids through all layers; time must be static.

        Returns the last layer's hidden states (batch, time, units) and the final
        [(h, c)] of every layer.
        """
        import tensorflow as tf

        steps = ids.shape[1]
        batch = tf.shape(ids)[0]
        # One-hot input times W is a row lookup, done for every step at once, time-major so
        # each step reads one contiguous slice; the bias is folded in here, outside the loop.
        inputs = tf.gather(self.weights["kernel_0"], tf.transpose(ids))  # (time, batch, 4H)
        final = []
        for layer in range(self.layers):
            if states is None:
                h = tf.zeros((batch, self.units))
                c = tf.zeros((batch, self.units))
            else:
                h, c = states[layer]
            recurrent = self.weights[f"recurrent_{layer}"]
            projected = tf.unstack(inputs + self.weights[f"bias_{layer}"], num=steps)
            outputs = []
            for t in range(steps):
                h, c = self._cell(projected[t] + tf.matmul(h, recurrent), c)
                outputs.append(h)
            final.append((h, c))
            if layer + 1 < self.layers:
                inputs = tf.einsum("tbh,hk->tbk", tf.stack(outputs), self.weights[f"kernel_{layer + 1}"])
        sequence = tf.stack(outputs, axis=1)
        return sequence, final

    def _mean_loss(self, x, y):
        import tensorflow as tf

        sequence, _ = self.unroll(x)
        logits = tf.einsum("bth,hv->btv", sequence, self.weights["output_kernel"]) + self.weights["output_bias"]
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    # -- compiled functions --
    def hidden_states(self, ids: np.ndarray) -> np.ndarray:
        """Last layer's hidden state at every step, from zero state (for tests and plots)."""
        import tensorflow as tf

        if self._hidden_fn is None:
            self._hidden_fn = tf.function(lambda x: self.unroll(x)[0])
        return self._hidden_fn(tf.constant(ids, dtype=tf.int32)).numpy()

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        import tensorflow as tf

        if self._loss_fn is None:
            self._loss_fn = tf.function(self._mean_loss)
        return float(self._loss_fn(tf.constant(x, tf.int32), tf.constant(y, tf.int32)))

    def _make_train_step(self, learning_rate: float):
        import tensorflow as tf

        variables = self.variables
        if self._optimizer_slots is None:
            self._optimizer_slots = adam_slots(variables)

        @tf.function
        def train_step(x, y):
            with tf.GradientTape() as tape:
                loss = self._mean_loss(x, y)
            norm = clipped_adam_update(variables, tape.gradient(loss, variables), self._optimizer_slots, learning_rate)
            return loss, norm

        return train_step

    def train_step(self, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
        """One Adam step on a batch of windows; returns the batch loss before the step."""
        import tensorflow as tf

        if learning_rate not in self._train_steps:
            self._train_steps[learning_rate] = self._make_train_step(learning_rate)
        loss, _ = self._train_steps[learning_rate](tf.constant(x, tf.int32), tf.constant(y, tf.int32))
        return float(loss)

    def zero_state(self, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
        shape = (self.layers, batch, self.units)
        return np.zeros(shape, np.float32), np.zeros(shape, np.float32)


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


# ---- sampling ------------------------------------------------------------------

@dataclass
class Sample:
    """One generated text, filled in as :meth:`stream` runs.

    ``top`` holds, for each generated character, the five most likely next
    characters and their probabilities under the distribution it was drawn from;
    ``activations`` the last layer's hidden state (h) after reading that character.
    """

    seed: str
    notes: list[str] = field(default_factory=list)
    generated: str = ""
    inputs: str = ""  # the character read at each step, aligned with ``activations``
    top: list[list[tuple[str, float]]] = field(default_factory=list)
    activations: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.seed + self.generated

    def activation_matrix(self) -> np.ndarray:
        return np.stack(self.activations) if self.activations else np.zeros((0, 0), np.float32)

    def liveliest_units(self, count: int = 8) -> list[int]:
        """Units whose activation varies most over this text: good places to hunt for meaning."""
        matrix = self.activation_matrix()
        if not matrix.size:
            return []
        return [int(u) for u in np.argsort(-matrix.std(axis=0))[:count]]


class Sampler:
    """Prepare with the settings, then iterate :meth:`stream` (fits ``st.write_stream``)."""

    def __init__(self, model: CharLSTM, seed: str = DEFAULT_SEED_TEXT, length: int = 300,
                 temperature: float = 1.0, top_k: int = 0, greedy: bool = False,
                 rng_seed: int | None = 0) -> None:
        seed = "" if seed is None else str(seed)
        if not 1 <= int(length) <= MAX_SAMPLE_LENGTH:
            raise BadInput(f"The length must be between 1 and {MAX_SAMPLE_LENGTH} characters.")
        if not 0.1 <= float(temperature) <= 2.0:
            raise BadInput("The temperature must be between 0.1 and 2.")
        if int(top_k) < 0:
            raise BadInput("Top-k cannot be negative (0 means no limit).")
        self.model = model
        self._weights = model.arrays()  # one snapshot: the sample is consistent, and NumPy is quick
        self.length = int(length)
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        self.greedy = bool(greedy)
        self.rng = np.random.default_rng(rng_seed)
        self.sample = Sample(seed=seed.replace("\r\n", "\n"))
        self._prime_text = self.sample.seed
        if len(self._prime_text) > MAX_SEED_CHARS:
            self.sample.notes.append(
                f"The seed has {len(self._prime_text):,} characters; only its last {MAX_SEED_CHARS:,} "
                "are fed in: the model was trained on short windows (50 characters by default) from a zero state, so "
                "it has not learned to use text further back (an LSTM could, in principle, keep it).")
            self._prime_text = self._prime_text[-MAX_SEED_CHARS:]
        skipped = sorted({ch for ch in self._prime_text if ch not in model.index})
        if skipped:
            shown = " ".join(repr(ch) for ch in skipped[:20]) + (" …" if len(skipped) > 20 else "")
            self.sample.notes.append(
                f"Skipped {len(skipped)} seed character(s) the model never saw in training: {shown}.")
        self._seed_ids = model.encode(self._prime_text)
        if self.sample.seed and not len(self._seed_ids):
            self.sample.notes.append("None of the seed's characters are in the vocabulary; "
                                     "starting from a random character.")

    def _distribution(self, logits: np.ndarray) -> np.ndarray:
        scaled = logits.astype(np.float64) / self.temperature
        if 0 < self.top_k < len(scaled):
            cutoff = np.partition(scaled, -self.top_k)[-self.top_k]
            scaled = np.where(scaled >= cutoff, scaled, -np.inf)
        scaled -= scaled.max()
        probs = np.exp(scaled)
        return probs / probs.sum()

    def stream(self) -> Iterator[str]:
        """Yields the seed, then each generated character as it is produced."""
        started = time.perf_counter()
        model, sample = self.model, self.sample
        if sample.seed:
            yield sample.seed
        h, c = model.zero_state(1)
        if len(self._seed_ids):
            for char_id in self._seed_ids[:-1]:
                _, h, c = numpy_step(self._weights, np.array([char_id]), h, c)
            current = int(self._seed_ids[-1])
            remaining = self.length
        else:
            current = int(self.rng.integers(model.vocab_size))
            first = model.vocab[current]
            sample.generated += first
            sample.top.append([(first, 1.0)])
            remaining = self.length - 1
            yield first
        vocab = model.vocab
        for _ in range(remaining):
            sample.inputs += vocab[current]
            logits, h, c = numpy_step(self._weights, np.array([current]), h, c)
            probs = self._distribution(logits[0])
            if self.greedy:
                current = int(np.argmax(probs))
            else:
                current = int(self.rng.choice(len(probs), p=probs))
            best = np.argsort(-probs)[:5]
            sample.top.append([(vocab[j], float(probs[j])) for j in best])
            sample.activations.append(h[-1, 0].astype(np.float32))
            char = vocab[current]
            sample.generated += char
            yield char
        sample.seconds = time.perf_counter() - started


def generate(model: CharLSTM, seed: str = DEFAULT_SEED_TEXT, length: int = 300, **settings: Any) -> str:
    """The whole text (seed + generated) in one call."""
    sampler = Sampler(model, seed, length, **settings)
    for _ in sampler.stream():
        pass
    return sampler.sample.text


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


def windows(ids: np.ndarray, starts: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ids[s:s+window] and next-step targets ids[s+1:s+window+1] for each start s."""
    offsets = starts[:, None] + np.arange(window)[None, :]
    return ids[offsets], ids[offsets + 1]


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
        from .runs import RunLogger

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
                if step % eval_every == 0 or step == steps:
                    train_loss = float(np.mean(losses))
                    losses = []
                    val_loss = float(np.mean([model.loss(val_x[i:i + 128], val_y[i:i + 128])
                                              for i in range(0, len(val_x), 128)]))
                    reporter.epoch_end((step + eval_every - 1) // eval_every, loss=train_loss, val_loss=val_loss)
                    logger.scalars(step, split="train", loss=train_loss)
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

    def save(self, model: CharLSTM, folder: Path) -> None:
        save_model(model, folder)

    def load(self, folder: Path) -> CharLSTM:
        return load_model(folder)


KIND = CharLSTMKind()
