"""Training probes of the character LSTM (issue 33), recorded with :mod:`core.embeddings.probes` at
the run's log schedule (step 0 included), for the Embeddings page's "over training" view:

- ``characters``: one point per vocabulary character, its row of the first layer's input kernel
  W₀ (what the character map projects), coloured by the kind of character;
- ``passage``: one point per position of a fixed passage from the start of the held-out text, the
  last layer's h after reading it (from zero state at the passage's start), with whether the
  model's most likely next character there was the right one.

The passage is shorter for wider models, so that a run's probes stay about 4 MB (float16).
"""
from __future__ import annotations

import numpy as np

from core.embeddings.points import CHARACTER_CLASSES, character_class
from core.embeddings.probes import ProbeRecorder, attach
from core.text.gates import trace

#: About this many numbers per step in the passage's probes (units × positions).
PASSAGE_NUMBERS = 200_000
SHORTEST, LONGEST = 300, 2_000


def passage_length(units: int) -> int:
    return int(min(LONGEST, max(SHORTEST, PASSAGE_NUMBERS // max(1, units))))


def _name(vocab: list[str], ids: np.ndarray, position: int) -> str:
    before = "".join(vocab[i] for i in ids[max(0, position - 8):position]).replace("\n", "↵")
    char = vocab[ids[position]]
    return f"…{before}⟨{'↵' if char == chr(10) else char}⟩"


class CharProbes:
    """Records the two probe sets of one run; :meth:`take` at every step (it checks the schedule)."""

    def __init__(self, model, run_dir, total_steps: int, held_out_ids: np.ndarray) -> None:
        vocab = list(model.vocab)
        count = min(passage_length(model.units), len(held_out_ids) - 1)
        self.ids = np.asarray(held_out_ids[:count + 1], np.int64)  # the last one is only predicted
        self.recorder = ProbeRecorder(run_dir, total_steps)
        self.recorder.add_set(
            "characters", "the characters of the vocabulary", [character_class(c) for c in vocab],
            CHARACTER_CLASSES, ["space" if c == " " else repr(c)[1:-1] if not c.isprintable() else c for c in vocab])
        self.recorder.add_set(
            "passage", f"{count:,} characters of the held-out text", [character_class(vocab[i]) for i in self.ids[:-1]],
            CHARACTER_CLASSES, [_name(vocab, self.ids, k) for k in range(count)],
            source={"text": "".join(vocab[i] for i in self.ids[:-1])})

    def take(self, step: int, model) -> None:
        if not self.recorder.due(step):
            return
        arrays = model.arrays()
        hidden = trace(arrays, self.ids[:-1]).values[-1][5]
        logits = hidden @ arrays["output_kernel"] + arrays["output_bias"]
        self.recorder.record(step, "characters", {"embedding": arrays["kernel_0"]})
        self.recorder.record(step, "passage", {"hidden": hidden}, correct=logits.argmax(axis=1) == self.ids[1:])

    def attach(self, model) -> dict:
        """Tie the probes to the model (the kind's save packs them beside it); the record's part."""
        attach(model, self.recorder)
        return self.recorder.describe()
