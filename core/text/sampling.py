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
from core.text.lstm import numpy_step

DEFAULT_SEED_TEXT = "I plan to make the world a better place by"
MAX_SAMPLE_LENGTH = 2000
#: Only the end of a longer seed is fed in; the state forgets older text anyway.
MAX_SEED_CHARS = 1000


class CharacterModel(Protocol):
    """What sampling needs of a character model (:class:`core.text.charlstm.CharLSTM` has it)."""

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

    def __init__(self, model: CharacterModel, seed: str = DEFAULT_SEED_TEXT, length: int = 300,
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
                _, h, c = char_step(self._weights, np.array([char_id]), h, c)
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
            logits, h, c = char_step(self._weights, np.array([current]), h, c)
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


def generate(model: CharacterModel, seed: str = DEFAULT_SEED_TEXT, length: int = 300, **settings: Any) -> str:
    """The whole text (seed + generated) in one call."""
    sampler = Sampler(model, seed, length, **settings)
    for _ in sampler.stream():
        pass
    return sampler.sample.text
