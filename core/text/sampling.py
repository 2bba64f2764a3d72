"""Text from a character model, one character at a time, carrying the LSTM state along.

The seed is fed in character by character, then every generated character is fed back in: no
re-reading of a sliding window, no ``model.predict``. Each step is the cell in NumPy on one snapshot
of the weights taken when the sampler is made (:func:`core.text.lstm.numpy_step`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

import numpy as np

from core.errors import BadInput
from core.text.lstm import numpy_step, one_blas_thread

DEFAULT_SEED_TEXT = "I plan to make the world a better place by"
MAX_SAMPLE_LENGTH = 2000
#: Only the end of a longer seed is fed in; the state forgets older text anyway.
MAX_SEED_CHARS = 1000
MAX_SAMPLES = 3


class CharacterModel(Protocol):
    """What sampling needs of a character model (:class:`core.text.charmodel.CharLSTM` has it)."""

    vocab: list[str]
    vocab_size: int
    index: dict[str, int]

    def arrays(self) -> dict[str, np.ndarray]: ...

    def encode(self, text: str) -> np.ndarray: ...

    def zero_state(self, batch: int = 1) -> tuple[np.ndarray, np.ndarray]: ...


def char_step(arrays: dict[str, np.ndarray], ids: np.ndarray, h: np.ndarray, c: np.ndarray):
    """One character for each of a batch: (logits, h, c); a one-hot input times W₀ is W₀'s row."""
    return numpy_step(arrays, arrays["kernel_0"][ids], h, c)


@dataclass
class Sample:
    """One generated text, filled in as :meth:`Sampler.steps` runs.

    ``top`` holds, for each generated character, the five most likely next characters and their
    probabilities under the distribution it was drawn from (after temperature and top-k).
    """

    seed: str
    notes: list[str] = field(default_factory=list)
    generated: str = ""
    top: list[list[tuple[str, float]]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.seed + self.generated


class Sampler:
    """Prepare with the settings, then iterate :meth:`stream` (fits ``st.write_stream``), or
    :meth:`steps` for ``count`` samples written side by side in one batch (random seeds
    ``rng_seed``, ``rng_seed + 1``, …): each step is one matrix product for all of them."""

    def __init__(self, model: CharacterModel, seed: str = DEFAULT_SEED_TEXT, length: int = 300,
                 temperature: float = 1.0, top_k: int = 0, greedy: bool = False,
                 rng_seed: int | None = 0, count: int = 1) -> None:
        seed = "" if seed is None else str(seed)
        if not 1 <= int(length) <= MAX_SAMPLE_LENGTH:
            raise BadInput(f"The length must be between 1 and {MAX_SAMPLE_LENGTH} characters.")
        if not 0.1 <= float(temperature) <= 2.0:
            raise BadInput("The temperature must be between 0.1 and 2.")
        if int(top_k) < 0:
            raise BadInput("Top-k cannot be negative (0 means no limit).")
        if not 1 <= int(count) <= MAX_SAMPLES:
            raise BadInput(f"Write between 1 and {MAX_SAMPLES} samples at once.")
        self.model = model
        self._weights = model.arrays()  # one snapshot: the sample is consistent, and NumPy is quick
        self.length = int(length)
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        self.greedy = bool(greedy)
        self.rngs = [np.random.default_rng(None if rng_seed is None else rng_seed + k) for k in range(int(count))]
        seed = seed.replace("\r\n", "\n")
        self.samples = [Sample(seed=seed) for _ in range(int(count))]
        self.sample = self.samples[0]
        notes = []
        self._prime_text = seed
        if len(self._prime_text) > MAX_SEED_CHARS:
            notes.append(
                f"The seed has {len(self._prime_text):,} characters; only its last {MAX_SEED_CHARS:,} "
                "are fed in: the model was trained on short windows from a zero state or a state carried "
                "from the text just before, so it has not learned to use text much further back (an LSTM "
                "could, in principle, keep it).")
            self._prime_text = self._prime_text[-MAX_SEED_CHARS:]
        skipped = sorted({ch for ch in self._prime_text if ch not in model.index})
        if skipped:
            shown = " ".join(repr(ch) for ch in skipped[:20]) + (" …" if len(skipped) > 20 else "")
            notes.append(f"Skipped {len(skipped)} seed character(s) the model never saw in training: {shown}.")
        self._seed_ids = model.encode(self._prime_text)
        if not len(self._seed_ids):
            notes.append(("None of the seed's characters are in the vocabulary, so" if seed else "The seed is empty, so")
                         + f" the first character is drawn uniformly at random from the {model.vocab_size} "
                           f"characters (p = 1/{model.vocab_size} ≈ {1 / model.vocab_size:.3f} each).")
        for sample in self.samples:
            sample.notes.extend(notes)

    def _distributions(self, logits: np.ndarray) -> np.ndarray:
        """(samples, vocabulary) probabilities after temperature and top-k, one row per sample."""
        scaled = logits.astype(np.float64) / self.temperature
        if 0 < self.top_k < scaled.shape[1]:
            cutoff = np.partition(scaled, -self.top_k, axis=1)[:, -self.top_k, None]
            scaled = np.where(scaled >= cutoff, scaled, -np.inf)
        scaled -= scaled.max(axis=1, keepdims=True)
        probs = np.exp(scaled)
        return probs / probs.sum(axis=1, keepdims=True)

    def _draw(self, probs: np.ndarray) -> np.ndarray:
        """One character per sample: the most likely (greedy), or drawn as ``rng.choice(p=…)`` draws
        it (the same uniform number against the cumulative distribution), each with its own rng."""
        if self.greedy:
            return probs.argmax(axis=1)
        cdf = probs.cumsum(axis=1)
        cdf /= cdf[:, -1:]
        return np.array([int(np.searchsorted(row, rng.random(), side="right")) for row, rng in zip(cdf, self.rngs)])

    def steps(self) -> Iterator[list[str]]:
        """Yields, for every sample, the seed, then each step's new character."""
        with one_blas_thread():
            yield from self._steps()

    def _steps(self) -> Iterator[list[str]]:
        started = time.perf_counter()
        model, samples, vocab = self.model, self.samples, self.model.vocab
        count = len(samples)
        if samples[0].seed:
            yield [sample.seed for sample in samples]
        h, c = model.zero_state(count)
        if len(self._seed_ids):
            for char_id in self._seed_ids[:-1]:
                _, h, c = char_step(self._weights, np.full(count, char_id), h, c)
            current = np.full(count, int(self._seed_ids[-1]))
            remaining = self.length
        else:
            current = np.array([int(rng.integers(model.vocab_size)) for rng in self.rngs])
            for sample, char_id in zip(samples, current):
                sample.generated += vocab[char_id]
                sample.top.append([(vocab[char_id], 1.0 / model.vocab_size)])  # drawn uniformly
            remaining = self.length - 1
            yield [vocab[char_id] for char_id in current]
        for _ in range(remaining):
            logits, h, c = char_step(self._weights, current, h, c)
            probs = self._distributions(logits)
            drawn = self._draw(probs)
            best = np.argsort(-probs, axis=1)[:, :5]
            chars = []
            for k, sample in enumerate(samples):
                sample.top.append([(vocab[j], float(probs[k, j])) for j in best[k]])
                sample.generated += vocab[drawn[k]]
                chars.append(vocab[drawn[k]])
            current = drawn
            yield chars
        seconds = time.perf_counter() - started
        for sample in samples:
            sample.seconds = seconds

    def stream(self) -> Iterator[str]:
        """Yields the first sample's seed, then each of its generated characters as it is produced."""
        for chars in self.steps():
            yield chars[0]


def generate(model: CharacterModel, seed: str = DEFAULT_SEED_TEXT, length: int = 300, **settings: Any) -> str:
    """The whole text (seed + generated) in one call."""
    sampler = Sampler(model, seed, length, **settings)
    for _ in sampler.stream():
        pass
    return sampler.sample.text
